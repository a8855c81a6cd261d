//! The NMF enhancer's gain: a speech and a noise dictionary `W = [Wˢ Wⁿ]` fixed, the
//! activations of each frame by a fixed number of multiplicative updates warm-started from
//! the previous frame's, then the Wiener-type gain `(Wˢhˢ)ᵖ / ((Wˢhˢ)ᵖ + (Wⁿhⁿ)ᵖ)` per bin.
//!
//! The updates are the trainer's (`nmf_gemm`, supervised separation), one frame at a time:
//! Frobenius `h ← h ⊙ Wᵀv / (WᵀW h + λ)` (the Gram matrix `WᵀW` computed once), or
//! generalised KL `h ← h ⊙ Wᵀ(v / Wh) / (Wᵀ1 + λ)`; values below 1e-30 become zero. A warm
//! start never begins below `1e-3 ×` the frame's flat start, so activations that a silent
//! frame drove to zero come back when the signal does (a multiplicative update cannot leave 0).
//!
//! Cost per frame, `B` bins and `r = rˢ + rⁿ` atoms, `K` updates: Frobenius `2Br + K·r²`
//! multiply-adds, KL `2Br + K·2Br`.

use super::fft::{Spectrum, BINS};
use crate::error::{Field, ModelError};

const EPS: f32 = 1e-12;
const TINY: f32 = 1e-30;
/// Most multiplicative updates per frame a [`NmfGain`] accepts.
pub const MAX_UPDATES_PER_FRAME: u32 = 1000;
/// A warm start is raised to at least this fraction of the frame's flat start.
const WARM_FLOOR: f32 = 1e-3;

/// Divergence the activations minimise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ActivationLoss {
    /// `½‖v − Wh‖²`.
    Frobenius,
    /// Generalised Kullback–Leibler `D(v ‖ Wh)`.
    KullbackLeibler,
}

/// Settings of the per-frame fit and the gain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NmfGainSettings {
    /// Divergence.
    pub loss: ActivationLoss,
    /// Multiplicative updates per frame (1 ..= [`MAX_UPDATES_PER_FRAME`]).
    pub updates_per_frame: u32,
    /// L1 weight on the activations per frame, already times the bin count (the trainer's
    /// `sparsity × bins`; ≥ 0, finite).
    pub lambda: f32,
    /// Exponent `p` of the gain (finite, > 0).
    pub gain_exponent: f32,
}

/// Per-frame activations and gain of a fixed speech + noise dictionary of up to `N` atoms
/// in all (the capacity: a device sets it to its model's rank, a host to the largest it
/// accepts).
#[derive(Debug, Clone)]
pub struct NmfGain<'w, const N: usize> {
    /// `[Wˢ Wⁿ]`, column-major (`w[k·BINS + b]` is bin `b` of atom `k`).
    w: &'w [f32],
    /// The bases the gain reconstructs with: `w`, or DNMF's reconstruction bases.
    reconstruction: &'w [f32],
    /// Atoms in all, `rˢ + rⁿ ≤ N`.
    rank: usize,
    speech_rank: usize,
    /// Exponent `q` of the magnitudes `|X|^q` the dictionaries model.
    magnitude_exponent: f32,
    settings: NmfGainSettings,
    /// `WᵀW` (Frobenius only; zeros for KL).
    gram: [[f32; N]; N],
    /// `Σ_b W[b, k] + λ` (KL's denominator), at least ε.
    column_sums: [f32; N],
    /// `Σ_{b,k} W[b, k] / BINS`: the level a flat start of 1 reconstructs.
    mean_column: f32,
    h: [f32; N],
    warm: bool,
    v: [f32; BINS],
    numerator: [f32; N],
}

impl<'w, const N: usize> NmfGain<'w, N> {
    /// Checks `w` (`BINS · r` finite, nonnegative values, column-major, `2 ≤ r ≤ N`), the
    /// speech rank (1 ..= r − 1), the exponent `q` of the magnitudes `|X|^q` the dictionaries
    /// model (the front end's) and the settings, and precomputes what every frame needs.
    pub fn new_checked(
        w: &'w [f32],
        speech_rank: usize,
        magnitude_exponent: f32,
        settings: NmfGainSettings,
    ) -> Result<Self, ModelError> {
        let bad = |field, index: usize| ModelError::OutOfRange {
            field,
            index: index as u32,
        };
        let rank = w.len() / BINS;
        if !w.len().is_multiple_of(BINS) {
            return Err(ModelError::DimensionMismatch {
                field: Field::Dictionary,
                expected: ((rank + 1) * BINS) as u32,
                found: w.len() as u32,
            });
        }
        if !(2..=N).contains(&rank) {
            return Err(bad(Field::Rank, rank));
        }
        if let Some(i) = w.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                field: Field::Dictionary,
                index: i as u32,
            });
        }
        if let Some(i) = w.iter().position(|&v| v < 0.0) {
            return Err(ModelError::NegativeDictionary {
                channel: (i % BINS) as u32,
                synergy: (i / BINS) as u32,
            });
        }
        if speech_rank == 0 || speech_rank >= rank {
            return Err(bad(Field::SpeechRank, speech_rank));
        }
        let s = settings;
        if s.updates_per_frame == 0 || s.updates_per_frame > MAX_UPDATES_PER_FRAME {
            return Err(bad(Field::UpdatesPerFrame, s.updates_per_frame as usize));
        }
        if !(s.lambda.is_finite() && s.lambda >= 0.0) {
            return Err(bad(Field::Sparsity, 0));
        }
        if !(s.gain_exponent.is_finite() && s.gain_exponent > 0.0) {
            return Err(bad(Field::GainExponent, 0));
        }
        if !(magnitude_exponent.is_finite() && magnitude_exponent > 0.0) {
            return Err(bad(Field::MagnitudeExponent, 0));
        }
        let column = |k: usize| &w[k * BINS..(k + 1) * BINS];
        let mut gram = [[0.0f32; N]; N];
        if s.loss == ActivationLoss::Frobenius {
            for (i, row) in gram[..rank].iter_mut().enumerate() {
                for (j, g) in row[..rank].iter_mut().enumerate() {
                    *g = dot(column(i), column(j));
                }
            }
        }
        let mut column_sums = [0.0f32; N];
        let mut total = 0.0f32;
        for (k, sum) in column_sums[..rank].iter_mut().enumerate() {
            let c: f32 = column(k).iter().sum();
            total += c;
            *sum = (c + s.lambda).max(EPS);
        }
        Ok(Self {
            w,
            reconstruction: w,
            rank,
            speech_rank,
            magnitude_exponent,
            settings,
            gram,
            column_sums,
            mean_column: total / BINS as f32,
            h: [0.0; N],
            warm: false,
            v: [0.0; BINS],
            numerator: [0.0; N],
        })
    }

    /// Reconstructs the gain's speech and noise parts with `wbar` (DNMF's reconstruction
    /// bases: same layout and size as the analysis dictionary, finite, nonnegative) instead
    /// of the dictionary the activations are fitted with. On error nothing changes.
    pub fn set_reconstruction(&mut self, wbar: &'w [f32]) -> Result<(), ModelError> {
        let field = Field::ReconstructionDictionary;
        if wbar.len() != self.w.len() {
            return Err(ModelError::DimensionMismatch {
                field,
                expected: self.w.len() as u32,
                found: wbar.len() as u32,
            });
        }
        if let Some(i) = wbar.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                field,
                index: i as u32,
            });
        }
        if let Some(i) = wbar.iter().position(|&v| v < 0.0) {
            return Err(ModelError::NegativeDictionary {
                channel: (i % BINS) as u32,
                synergy: (i / BINS) as u32,
            });
        }
        self.reconstruction = wbar;
        Ok(())
    }

    /// The settings.
    pub fn settings(&self) -> &NmfGainSettings {
        &self.settings
    }

    /// The last frame's activations `[hˢ hⁿ]` (`r` values).
    pub fn activations(&self) -> &[f32] {
        &self.h[..self.rank]
    }

    /// Atoms in all, `rˢ + rⁿ`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Forgets the previous frame (the next starts flat).
    pub fn reset(&mut self) {
        self.warm = false;
    }

    /// Fits the activations of `spectrum`'s magnitudes and writes the gain of every bin.
    /// The spectrum must be finite (as [`super::StreamingStft::analyse`] guarantees).
    pub fn gain(&mut self, spectrum: &Spectrum, gain: &mut [f32; BINS]) {
        magnitudes(spectrum, self.magnitude_exponent, &mut self.v);
        let mean_v = self.v.iter().sum::<f32>() / BINS as f32;
        let flat = if self.mean_column > 0.0 {
            (mean_v / self.mean_column).max(1e-6)
        } else {
            1e-6
        };
        let h = &mut self.h[..self.rank];
        if self.warm {
            let floor = WARM_FLOOR * flat;
            for h in h {
                *h = h.max(floor);
            }
        } else {
            h.fill(flat);
            self.warm = true;
        }
        match self.settings.loss {
            ActivationLoss::Frobenius => self.frobenius_updates(),
            ActivationLoss::KullbackLeibler => self.kl_updates(),
        }
        self.wiener(gain);
    }

    fn frobenius_updates(&mut self) {
        // Wᵀv once; each update needs only the Gram matrix.
        let r = self.rank;
        transposed_product(self.w, r, &self.v, &mut self.numerator);
        let lambda = self.settings.lambda;
        let mut gh = [0.0f32; N];
        for _ in 0..self.settings.updates_per_frame {
            // (WᵀW h)_k = Σ_j G[j][k] h_j, summed in j order (G is symmetric): an axpy per j,
            // which vectorises across k and gives each sum the order of a plain dot product.
            gh[..r].fill(0.0);
            for (row, &hj) in self.gram[..r].iter().zip(&self.h[..r]) {
                for (g, &w) in gh[..r].iter_mut().zip(&row[..r]) {
                    *g += w * hj;
                }
            }
            for ((h, &a), &g) in self.h[..r].iter_mut().zip(&self.numerator[..r]).zip(&gh[..r]) {
                *h = flush_tiny(*h * a / (g + lambda).max(EPS));
            }
        }
    }

    fn kl_updates(&mut self) {
        let r = self.rank;
        let mut ratio = [0.0f32; BINS];
        for _ in 0..self.settings.updates_per_frame {
            self.reconstruct(0, r, &mut ratio);
            for (q, &v) in ratio.iter_mut().zip(&self.v) {
                *q = v / q.max(EPS);
            }
            transposed_product(self.w, r, &ratio, &mut self.numerator);
            for k in 0..r {
                self.h[k] = flush_tiny(self.h[k] * self.numerator[k] / self.column_sums[k]);
            }
        }
    }

    /// `Σ_{k ∈ from..to} W[:, k] h_k` into `out`, atom by atom (a fixed order).
    fn reconstruct(&self, from: usize, to: usize, out: &mut [f32; BINS]) {
        out.fill(0.0);
        for k in from..to {
            let hk = self.h[k];
            for (o, &w) in out.iter_mut().zip(&self.reconstruction[k * BINS..(k + 1) * BINS]) {
                *o += w * hk;
            }
        }
    }

    /// `sᵖ / (sᵖ + nᵖ)` as `1 / (1 + (n/s)ᵖ)`: no overflow for large `s`, `n`; 0 where `s`
    /// is 0 (or undefined), so every gain is in [0, 1].
    fn wiener(&self, gain: &mut [f32; BINS]) {
        let mut noise = [0.0f32; BINS];
        self.reconstruct(0, self.speech_rank, gain);
        self.reconstruct(self.speech_rank, self.rank, &mut noise);
        let p = self.settings.gain_exponent;
        for (g, &n) in gain.iter_mut().zip(&noise) {
            *g = wiener_gain(*g, n, p);
        }
    }
}

/// `|X|^q` of every bin: `q = 1` and `q = 2` exactly (`sqrt`, the power), others by `powf`.
pub fn magnitudes(spectrum: &Spectrum, q: f32, out: &mut [f32; BINS]) {
    for ((v, &re), &im) in out.iter_mut().zip(&spectrum.re).zip(&spectrum.im) {
        let power = re * re + im * im;
        *v = if q == 1.0 {
            crate::math::sqrt(power)
        } else if q == 2.0 {
            power
        } else {
            libm::powf(power, 0.5 * q)
        };
    }
}

/// `sᵖ / (sᵖ + nᵖ)` as `1 / (1 + (n/s)ᵖ)`: no overflow for large `s`, `n`; 0 where `s` is 0
/// (or the ratio undefined), so the gain is in [0, 1] for any `s, n ≥ 0`.
pub fn wiener_gain(s: f32, n: f32, p: f32) -> f32 {
    let r = n / s;
    let rp = if p == 2.0 {
        r * r
    } else if p == 1.0 {
        r
    } else {
        libm::powf(r, p)
    };
    let value = 1.0 / (1.0 + rp);
    if s > 0.0 && value >= 0.0 {
        value
    } else {
        0.0
    }
}

/// `out[k] = Σ_b W[b, k] x[b]` for the `r` atoms of column-major `w`, each sum in bin order
/// (the bits of [`dot`]); eight atoms at a time, so eight independent sums are in flight.
fn transposed_product(w: &[f32], r: usize, x: &[f32; BINS], out: &mut [f32]) {
    const PANEL: usize = 8;
    let mut k = 0;
    while k + PANEL <= r {
        let mut acc = [0.0f32; PANEL];
        let columns: [&[f32]; PANEL] = core::array::from_fn(|i| &w[(k + i) * BINS..(k + i + 1) * BINS]);
        for (b, &xb) in x.iter().enumerate() {
            for (a, c) in acc.iter_mut().zip(&columns) {
                *a += c[b] * xb;
            }
        }
        out[k..k + PANEL].copy_from_slice(&acc);
        k += PANEL;
    }
    for (j, o) in out[k..r].iter_mut().enumerate() {
        *o = dot(&w[(k + j) * BINS..(k + j + 1) * BINS], x);
    }
}

/// `Σᵢ aᵢ bᵢ` in index order, separate multiply and add.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0, |acc, (&x, &y)| acc + x * y)
}

/// Below 1e-30 (or NaN) → 0, +∞ → the largest float: activations stay finite and
/// nonnegative whatever the dictionary.
fn flush_tiny(v: f32) -> f32 {
    if v > TINY {
        v.min(f32::MAX)
    } else {
        0.0
    }
}
