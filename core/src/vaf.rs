//! Variance accounted for, as in the synergy literature.
//!
//! VAF (uncentred) = 1 − ‖X − X̂‖²_F / ‖X‖²_F, globally or per channel; the centred R²
//! replaces ‖X‖² by the squared deviation from the grand mean. The denominator is always the
//! data's energy, never the reconstruction's.
//!
//! Batch functions take frame-major data: `frames × channels` values, one frame's channels
//! contiguous (the layout of a CSV with time in rows). Each value's terms are f32, their sums
//! `f64`.

use crate::error::{len_u32, InputError};

fn check_pair(x: &[f32], xhat: &[f32], channels: usize) -> Result<(), InputError> {
    if x.len() != xhat.len() {
        return Err(InputError::LengthMismatch {
            expected: len_u32(x.len()),
            found: len_u32(xhat.len()),
        });
    }
    if channels == 0 || !x.len().is_multiple_of(channels) {
        return Err(InputError::LengthMismatch {
            expected: len_u32(x.len().next_multiple_of(channels.max(1))),
            found: len_u32(x.len()),
        });
    }
    Ok(())
}

fn ratio(err: f64, energy: f64) -> Result<f32, InputError> {
    if energy > 0.0 {
        Ok((1.0 - err / energy) as f32)
    } else {
        Err(InputError::ZeroEnergy)
    }
}

/// Global uncentred VAF of `xhat` against `x` (any layout, same length).
pub fn vaf(x: &[f32], xhat: &[f32]) -> Result<f32, InputError> {
    check_pair(x, xhat, 1)?;
    let mut acc = VafAccumulator::<1>::new();
    for (&a, &b) in x.iter().zip(xhat) {
        acc.add(&[a], &[b]);
    }
    acc.global()
}

/// Per-channel uncentred VAF of frame-major data with `out.len()` channels.
/// A channel with zero energy gets NaN (its VAF is undefined).
pub fn vaf_per_channel(x: &[f32], xhat: &[f32], out: &mut [f32]) -> Result<(), InputError> {
    let channels = out.len();
    check_pair(x, xhat, channels)?;
    for (k, o) in out.iter_mut().enumerate() {
        let (mut err, mut energy) = (0.0f64, 0.0f64);
        for (fx, fh) in x.chunks_exact(channels).zip(xhat.chunks_exact(channels)) {
            let (e, s) = frame_terms(fx[k], fh[k]);
            err += e;
            energy += s;
        }
        *o = ratio(err, energy).unwrap_or(f32::NAN);
    }
    Ok(())
}

/// Centred R² = 1 − ‖X − X̂‖² / ‖X − mean(X)‖² with the grand mean (any layout).
pub fn r2_centred(x: &[f32], xhat: &[f32]) -> Result<f32, InputError> {
    check_pair(x, xhat, 1)?;
    if x.is_empty() {
        return Err(InputError::ZeroEnergy);
    }
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
    let (mut err, mut dev) = (0.0f64, 0.0f64);
    for (&a, &b) in x.iter().zip(xhat) {
        err += frame_terms(a, b).0;
        dev += (f64::from(a) - mean) * (f64::from(a) - mean);
    }
    ratio(err, dev)
}

/// Streaming per-channel sums of squared error and energy (`f64`), for VAF over a stream or
/// a sliding window. A removal subtracts exactly the terms its frame added, but each add and
/// each subtraction rounds: after a loud frame leaves the window the sums keep up to an ulp
/// of the loud sum (clamped so they never go negative). A window that runs for long rebuilds
/// its sums from the frames it holds ([`crate::SynergyTracker`] does, once per window).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VafAccumulator<const M: usize> {
    err: [f64; M],
    energy: [f64; M],
}

impl<const M: usize> Default for VafAccumulator<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const M: usize> VafAccumulator<M> {
    /// Empty sums.
    pub const fn new() -> Self {
        Self {
            err: [0.0; M],
            energy: [0.0; M],
        }
    }

    /// Adds one frame and its reconstruction.
    pub fn add(&mut self, x: &[f32; M], xhat: &[f32; M]) {
        self.add_to_both(None, x, xhat);
    }

    /// Adds one frame to these sums and to `other`'s (the same bits as two [`add`](Self::add)
    /// calls), converting its terms to f64 once: soft-float on a Cortex-M4F.
    pub fn add_to_both(&mut self, mut other: Option<&mut Self>, x: &[f32; M], xhat: &[f32; M]) {
        for k in 0..M {
            let (e, s) = frame_terms(x[k], xhat[k]);
            self.err[k] += e;
            self.energy[k] += s;
            if let Some(other) = other.as_deref_mut() {
                other.err[k] += e;
                other.energy[k] += s;
            }
        }
    }

    /// Removes a frame added before (sliding windows).
    pub fn remove(&mut self, x: &[f32; M], xhat: &[f32; M]) {
        for k in 0..M {
            let (e, s) = frame_terms(x[k], xhat[k]);
            // Clamp: rounding must never leave a negative sum of squares.
            self.err[k] = nonnegative(self.err[k] - e);
            self.energy[k] = nonnegative(self.energy[k] - s);
        }
    }

    /// The per-channel sums `(‖x − x̂‖², ‖x‖²)` of the frames added (and not removed).
    pub fn sums(&self) -> ([f64; M], [f64; M]) {
        (self.err, self.energy)
    }

    /// Global VAF over the frames added.
    pub fn global(&self) -> Result<f32, InputError> {
        ratio(self.err.iter().sum(), self.energy.iter().sum())
    }

    /// Per-channel VAF (NaN for a channel with zero energy).
    pub fn per_channel(&self) -> [f32; M] {
        core::array::from_fn(|k| ratio(self.err[k], self.energy[k]).unwrap_or(f32::NAN))
    }
}

/// `v`, or +0 when its sign is negative: by the sign bit, because an f64 comparison is a
/// soft-float call on a Cortex-M4F (sums of finite squares are never NaN).
fn nonnegative(v: f64) -> f64 {
    if v.is_sign_negative() {
        0.0
    } else {
        v
    }
}

/// Squared error and energy of one value, computed the same way when adding and removing.
/// The terms are f32 (one rounding each, relative 6e-8) and only the sums f64: a Cortex-M4F
/// has single-precision hardware only, and soft-float f64 multiplies here cost more per frame
/// than the whole NNLS path.
fn frame_terms(x: f32, xhat: f32) -> (f64, f64) {
    let d = x - xhat;
    (f64::from(d * d), f64::from(x * x))
}
