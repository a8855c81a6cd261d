//! Streaming synergy tracking: one EMG frame in, activations and a running VAF out.

use heapless::Deque;

use crate::error::{len_u32, InputError};
use crate::linalg::{reconstruct, NnlsSolver};
use crate::model::Model;
use crate::vaf::VafAccumulator;

/// What one frame produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackedFrame<const M: usize, const R: usize> {
    /// Activation estimate per synergy: the posterior mean α/β for a VAE-NMF model, the NNLS
    /// solution for an NMF-only model.
    pub activations: [f32; R],
    /// Posterior variance α/β² per synergy (encoder models only).
    pub variance: Option<[f32; R]>,
    /// The model's input after clamping and scaling (the space `W` lives in).
    pub input: [f32; M],
    /// Reconstruction `W · activations`, in the same units as `input`.
    pub reconstruction: [f32; M],
}

/// Tracks synergy activations frame by frame and keeps the VAF over the last `WINDOW`
/// frames.
///
/// Per frame: reject non-finite values (state untouched), clamp negative values to 0 (EMG
/// envelopes are nonnegative; small negatives come from filter ringing), apply the model's
/// input scaling, estimate activations (encoder if the model has one, else NNLS), reconstruct
/// `W·z`, and update the windowed VAF. VAF is computed in scaled units, the space the
/// dictionary was learned in. Memory is fixed: `WINDOW × 2M` floats plus the NNLS Gram
/// matrix; nothing is allocated.
///
/// Runs for days: the window's running sums are added to and subtracted from every frame, and
/// the rounding of those steps would pile up over millions of frames. A second set of sums
/// counts the frames pushed since the last rebuild; each time `WINDOW` frames have been
/// pushed it holds exactly the window, and replaces the running sums. The rounding error of
/// the VAF is therefore that of at most `2 × WINDOW` additions, however long the tracker
/// runs. No counter wraps: [`frames`](Self::frames) is a `u64` (5·10⁹ years at 100 frames/s)
/// and the rebuild count stays below `WINDOW`.
#[derive(Debug, Clone)]
pub struct SynergyTracker<
    'a,
    const M: usize,
    const H1: usize,
    const H2: usize,
    const R: usize,
    const WINDOW: usize,
> {
    model: Model<'a, M, H1, H2, R>,
    nnls: NnlsSolver<'a, R>,
    window: Deque<([f32; M], [f32; M]), WINDOW>,
    totals: VafAccumulator<M>,
    /// The frames pushed since the last rebuild of `totals` (`pushed` of them, < `WINDOW`).
    fresh: VafAccumulator<M>,
    pushed: usize,
    frames: u64,
}

impl<'a, const M: usize, const H1: usize, const H2: usize, const R: usize, const WINDOW: usize>
    SynergyTracker<'a, M, H1, H2, R, WINDOW>
{
    /// A tracker for `model` with an empty window.
    pub fn new(model: Model<'a, M, H1, H2, R>) -> Self {
        Self {
            model,
            nnls: NnlsSolver::new(model.dictionary()),
            window: Deque::new(),
            totals: VafAccumulator::new(),
            fresh: VafAccumulator::new(),
            pushed: 0,
            frames: 0,
        }
    }

    /// The model being tracked.
    pub fn model(&self) -> &Model<'a, M, H1, H2, R> {
        &self.model
    }

    /// Processes one raw frame. On a non-finite value returns
    /// [`InputError::NonFinite`] naming the channel and changes nothing.
    pub fn push(&mut self, raw: &[f32; M]) -> Result<TrackedFrame<M, R>, InputError> {
        if let Some(channel) = raw.iter().position(|v| !v.is_finite()) {
            return Err(InputError::NonFinite {
                channel: len_u32(channel),
            });
        }
        let clamped: [f32; M] = core::array::from_fn(|k| raw[k].max(0.0));
        let input = self.model.scale_input(&clamped);
        // Scaling finite values by finite weights can still overflow to ∞.
        if let Some(channel) = input.iter().position(|v| !v.is_finite()) {
            return Err(InputError::NonFinite {
                channel: len_u32(channel),
            });
        }
        let (activations, variance) = match self.model.encode_scaled(&input) {
            Some(posterior) => (posterior.mean(), Some(posterior.variance())),
            None => (self.nnls.solve(&input)?.z, None),
        };
        let reconstruction = reconstruct(self.model.dictionary(), &activations);
        if self.window.is_full() {
            if let Some((x, xhat)) = self.window.pop_front() {
                self.totals.remove(&x, &xhat);
            }
        }
        if WINDOW > 0 {
            // Cannot fail: a slot was freed above when the window was full.
            let _ = self.window.push_back((input, reconstruction));
            self.totals
                .add_to_both(Some(&mut self.fresh), &input, &reconstruction);
            self.pushed += 1;
            if self.pushed == WINDOW {
                // The last WINDOW frames are the window: sums free of past rounding.
                self.totals = self.fresh;
                self.fresh = VafAccumulator::new();
                self.pushed = 0;
            }
        }
        self.frames += 1;
        Ok(TrackedFrame {
            activations,
            variance,
            input,
            reconstruction,
        })
    }

    /// Frames processed since creation or the last [`reset`](Self::reset).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Global VAF over the window (error while the window holds no energy).
    pub fn vaf(&self) -> Result<f32, InputError> {
        self.totals.global()
    }

    /// Per-channel VAF over the window (NaN for a silent channel).
    pub fn vaf_per_channel(&self) -> [f32; M] {
        self.totals.per_channel()
    }

    /// Empties the window.
    pub fn reset(&mut self) {
        self.window.clear();
        self.totals = VafAccumulator::new();
        self.fresh = VafAccumulator::new();
        self.pushed = 0;
        self.frames = 0;
    }
}
