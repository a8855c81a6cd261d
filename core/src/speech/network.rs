//! The learned enhancers' network, frame by frame, on borrowed weights and caller-provided
//! buffers: log-compressed magnitude frames stacked with their context, standardised, a ReLU
//! MLP (linear last layer, [`crate::linalg`]'s dense kernel: each output summed in input order,
//! no fused multiply-add), and the gain its output implies — a mask, or activations of a
//! speech + noise dictionary through the Wiener-type gain.
//!
//! The offline path (a whole spectrogram, edge frames repeated) and a streaming path compute
//! each frame with these same functions, so their gains agree bit for bit wherever they see
//! the same frames.
//!
//! Cost per frame: `Σ inputs·outputs` multiply-adds for the layers, plus `bins·r` for the
//! dictionary reconstruction of an activation network; `bins` `log1p`s and softplus per
//! output.

use super::nmf_gain::wiener_gain;
use crate::linalg::dense;
use crate::math::softplus;

/// Keeps the mask finite where both of its outputs underflow.
const MASK_EPS: f32 = 1e-8;

/// One dense layer, weights input-major (`w[i·outputs + o]`).
#[derive(Debug, Clone, Copy)]
pub struct LayerView<'a> {
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// `inputs × outputs` weights.
    pub weights: &'a [f32],
    /// `outputs` biases.
    pub bias: &'a [f32],
}

/// The input features: `ln(1 + |X|/reference)` per bin, `before` frames of context, the
/// frame, `after` frames, standardised per dimension.
#[derive(Debug, Clone, Copy)]
pub struct FeatureView<'a> {
    /// Bins per frame.
    pub bins: usize,
    /// Context frames before the current one.
    pub before: usize,
    /// Context frames after it (the look-ahead).
    pub after: usize,
    /// Magnitude reference of the log compression (> 0).
    pub reference: f32,
    /// Per-dimension mean (`width` values).
    pub mean: &'a [f32],
    /// Per-dimension standard deviation (`width` values, > 0).
    pub std: &'a [f32],
}

impl FeatureView<'_> {
    /// Stacked input width, `bins · (before + 1 + after)`.
    pub fn width(&self) -> usize {
        self.bins * (self.before + 1 + self.after)
    }

    /// `ln(1 + max(v, 0)/reference)` of one magnitude frame into `out`.
    pub fn compress(&self, magnitude: &[f32], out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(magnitude) {
            *o = libm::log1pf(v.max(0.0) / self.reference);
        }
    }

    /// Stacks frame `t`'s context from `compressed` (frame-major, `frames × bins`), edge
    /// frames repeated, and standardises it into `out` (`width` values).
    pub fn stack(&self, compressed: &[f32], frames: usize, t: usize, out: &mut [f32]) {
        let last = frames.saturating_sub(1);
        for (offset, slot) in out.chunks_exact_mut(self.bins).enumerate() {
            let s = (t + offset).saturating_sub(self.before).min(last);
            slot.copy_from_slice(&compressed[s * self.bins..(s + 1) * self.bins]);
        }
        self.standardise(out);
    }

    /// `(x − mean) / std` per dimension.
    pub fn standardise(&self, x: &mut [f32]) {
        for ((v, m), s) in x.iter_mut().zip(self.mean).zip(self.std) {
            *v = (*v - m) / s;
        }
    }
}

/// What the network's last layer means.
#[derive(Debug, Clone, Copy)]
pub enum OutputView<'a> {
    /// `2·bins` outputs, speech then noise spectra: mask `ŝ / (ŝ + n̂)` with `ŝ, n̂` their
    /// softplus.
    Mask,
    /// `r` activations `softplus(o)·scale` of `[Wˢ Wⁿ]` (column-major, `bins × r`), then the
    /// Wiener-type gain of `Wˢhˢ` and `Wⁿhⁿ`.
    Activations {
        /// Scale per activation.
        scale: &'a [f32],
        /// `[Wˢ Wⁿ]`, column-major.
        dictionary: &'a [f32],
        /// Speech atoms (the first columns).
        speech_rank: usize,
        /// Exponent of the gain.
        gain_exponent: f32,
    },
}

/// A network enhancer's frame-to-gain map.
#[derive(Debug, Clone, Copy)]
pub struct NetworkGain<'a> {
    /// Features.
    pub features: FeatureView<'a>,
    /// Layers, ReLU after each but the last.
    pub layers: &'a [LayerView<'a>],
    /// The output's meaning.
    pub output: OutputView<'a>,
}

impl NetworkGain<'_> {
    /// Scratch length [`Self::gain`] needs: two of the widest layer's outputs and one
    /// frame's speech and noise spectra.
    pub fn scratch_len(&self) -> usize {
        let widest = self.layers.iter().map(|l| l.outputs).max().unwrap_or(0);
        2 * widest.max(self.features.bins)
    }

    /// The gain (`bins` values in [0, 1]) of one frame from its stacked, standardised
    /// `input`. `scratch` holds at least [`Self::scratch_len`] values. The view must be
    /// consistent (as a validated enhancer blob's is); a short buffer gives zero gains where
    /// values are missing, never a panic.
    pub fn gain(&self, input: &[f32], scratch: &mut [f32], gain: &mut [f32]) {
        let half = scratch.len() / 2;
        let (a, b) = scratch.split_at_mut(half);
        let mut width = input.len();
        for (i, layer) in self.layers.iter().enumerate() {
            let n = layer.outputs.min(half);
            // Ping-pong between the two halves: layer 0 reads `input`, layer i reads the
            // half layer i − 1 wrote.
            let (from, to): (&[f32], &mut [f32]) = match i {
                0 => (input, &mut a[..n]),
                _ if i % 2 == 1 => (&a[..width], &mut b[..n]),
                _ => (&b[..width], &mut a[..n]),
            };
            dense(from, layer.weights, layer.bias, to);
            if i + 1 < self.layers.len() {
                for v in to.iter_mut() {
                    *v = v.max(0.0);
                }
            }
            width = n;
        }
        let out: &mut [f32] = if self.layers.len() % 2 == 1 {
            &mut a[..width]
        } else {
            &mut b[..width]
        };
        gain.fill(0.0);
        match self.output {
            OutputView::Mask => {
                let bins = gain.len().min(width / 2);
                let (speech, noise) = out.split_at(bins);
                for ((g, &s), &n) in gain.iter_mut().zip(speech).zip(noise) {
                    let (s, n) = (softplus(s), softplus(n));
                    let m = s / (s + n + MASK_EPS);
                    // In [0, 1] whatever the weights (NaN → 0).
                    *g = if m >= 0.0 { m.min(1.0) } else { 0.0 };
                }
            }
            OutputView::Activations {
                scale,
                dictionary,
                speech_rank,
                gain_exponent,
            } => {
                for (h, &c) in out.iter_mut().zip(scale) {
                    *h = softplus(*h) * c;
                }
                let bins = gain.len();
                for (k, g) in gain.iter_mut().enumerate() {
                    let (mut s, mut n) = (0.0f32, 0.0f32);
                    for (j, &h) in out.iter().enumerate() {
                        let w = dictionary.get(j * bins + k).copied().unwrap_or(0.0);
                        if j < speech_rank {
                            s += w * h;
                        } else {
                            n += w * h;
                        }
                    }
                    *g = wiener_gain(s, n, gain_exponent);
                }
            }
        }
    }
}
