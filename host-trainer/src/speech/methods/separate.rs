//! Supervised separation with a speech and a noise dictionary: `W = [Wˢ Wⁿ]` fixed, the
//! activations of the noisy magnitude frames by multiplicative updates, then the Wiener-type
//! gain `(Wˢhˢ)ᵖ / ((Wˢhˢ)ᵖ + (Wⁿhⁿ)ᵖ)` on the noisy STFT (noisy phase) and the inverse STFT.
//! Also the oracle mask, `|S|ᵖ / (|S|ᵖ + |N|ᵖ)` from the true clean speech and noise: the
//! upper bound of any mask on this front end.

use anyhow::{bail, Result};
use nalgebra::DMatrix;
use serde::Serialize;
use vaenmf_core::{FrontEnd, ModelBlob};

use super::dictionary::front_end_of;
use crate::nmf::gemm::{self as nmf_gemm, MuSettings};
use crate::nmf::NmfLoss;
use crate::params::{self, Checked, ParamError};
use crate::speech::front_end::stft::{describe, Spectrogram, Stft, StftConfig};

/// Settings of the activation fit and the gain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SeparationConfig {
    /// Divergence of the activation fit.
    pub loss: NmfLoss,
    /// Multiplicative updates.
    pub iterations: usize,
    /// L1 penalty on the activations (scikit-learn's convention, as `vaenmf train`'s).
    pub sparsity: f32,
    /// Exponent `p` of the Wiener-type gain (2: Wiener filter on magnitudes).
    pub gain_exponent: f32,
}

impl Default for SeparationConfig {
    fn default() -> Self {
        Self {
            loss: NmfLoss::Frobenius,
            iterations: 100,
            sparsity: 0.0,
            gain_exponent: 2.0,
        }
    }
}

/// Settings that passed [`SeparationConfig::check`].
pub type SeparationParams = Checked<SeparationConfig>;

impl SeparationConfig {
    /// At least one iteration, sparsity ≥ 0, a positive finite gain exponent.
    pub fn check(self) -> Result<SeparationParams, ParamError> {
        params::within("iterations", self.iterations, 1, params::limits::ITERATIONS)?;
        params::nonnegative("sparsity", f64::from(self.sparsity))?;
        params::positive("gain-exponent", f64::from(self.gain_exponent))?;
        Ok(Checked::new_unchecked(self))
    }
}

/// A speech and a noise dictionary on one front end, ready to enhance signals.
pub struct Separator {
    front_end: FrontEnd,
    stft: Stft,
    /// `[Wˢ Wⁿ]`, bins × (rˢ + rⁿ).
    w: DMatrix<f32>,
    speech_rank: usize,
    cfg: SeparationConfig,
}

/// What [`Separator::enhance`] returns.
#[derive(Debug, Clone)]
pub struct Enhanced {
    /// The speech estimate, as long as the input.
    pub speech: Vec<f32>,
    /// Objective of the activation fit after the last update.
    pub objective: f64,
}

/// A blob's dictionary as a bins × rank matrix.
pub fn dictionary_matrix(blob: &ModelBlob) -> DMatrix<f32> {
    let (m, _, _, r) = blob.dims.sizes();
    DMatrix::from_row_slice(m, r, &blob.dictionary)
}

impl Separator {
    /// Pairs two dictionaries. Both must record the same front end.
    pub fn new(speech: &ModelBlob, noise: &ModelBlob, cfg: &SeparationParams) -> Result<Self> {
        let front_end = Self::shared_front_end(speech, noise)?;
        Self::from_matrices(
            &front_end,
            &dictionary_matrix(speech),
            &dictionary_matrix(noise),
            cfg,
        )
    }

    /// Pairs two dictionaries given as bins × rank matrices, on `front_end`.
    pub fn from_matrices(
        front_end: &FrontEnd,
        ws: &DMatrix<f32>,
        wn: &DMatrix<f32>,
        cfg: &SeparationParams,
    ) -> Result<Self> {
        let bins = front_end.fft_size as usize / 2 + 1;
        if ws.nrows() != bins || wn.nrows() != bins {
            bail!(
                "dictionaries of {} and {} bins on a front end with {bins}",
                ws.nrows(),
                wn.nrows()
            );
        }
        let speech_rank = ws.ncols();
        let mut w = DMatrix::zeros(bins, speech_rank + wn.ncols());
        w.columns_mut(0, speech_rank).copy_from(ws);
        w.columns_mut(speech_rank, wn.ncols()).copy_from(wn);
        Ok(Self {
            stft: Stft::new(&StftConfig::of_front_end(front_end).check()?),
            front_end: *front_end,
            w,
            speech_rank,
            cfg: **cfg,
        })
    }

    fn shared_front_end(speech: &ModelBlob, noise: &ModelBlob) -> Result<FrontEnd> {
        let front_end = front_end_of(speech, "the speech dictionary")?;
        let noise_front_end = front_end_of(noise, "the noise dictionary")?;
        if front_end != noise_front_end {
            bail!(
                "the speech dictionary's front end ({}) differs from the noise dictionary's ({})",
                describe(&front_end),
                describe(&noise_front_end)
            );
        }
        Ok(front_end)
    }

    /// The front end both dictionaries share.
    pub fn front_end(&self) -> &FrontEnd {
        &self.front_end
    }

    /// The STFT of the front end.
    pub fn stft(&self) -> &Stft {
        &self.stft
    }

    /// `[Wˢ Wⁿ]`, bins × (rˢ + rⁿ).
    pub fn dictionary(&self) -> &DMatrix<f32> {
        &self.w
    }

    /// Columns of [`Self::dictionary`] that are speech atoms.
    pub fn speech_rank(&self) -> usize {
        self.speech_rank
    }

    /// The activation fit's and the gain's settings.
    pub fn config(&self) -> &SeparationConfig {
        &self.cfg
    }

    /// The activations (r × frames) of a magnitude spectrogram (bins × frames) and the fit's
    /// final objective.
    pub fn activations(&self, v: &DMatrix<f32>) -> (DMatrix<f32>, f64) {
        activations(&self.w, v, &self.cfg)
    }

    /// The gain `(Wˢhˢ)ᵖ / ((Wˢhˢ)ᵖ + (Wⁿhⁿ)ᵖ)` (bins × frames) of activations `h` with
    /// reconstruction bases `w` (the analysis bases, or DNMF's).
    pub fn gain(&self, w: &DMatrix<f32>, h: &DMatrix<f32>) -> DMatrix<f32> {
        dictionary_gain(w, self.speech_rank, h, self.cfg.gain_exponent)
    }

    /// The speech estimate of `noisy` (at the front end's rate).
    pub fn enhance(&self, noisy: &[f32]) -> Result<Enhanced> {
        let spec = self.stft.forward(noisy);
        let v = magnitude_matrix(&spec, self.front_end.magnitude_exponent);
        let (h, objective) = self.activations(&v);
        let gain = self.gain(&self.w, &h);
        Ok(Enhanced {
            speech: self
                .stft
                .inverse(&apply_gain(&spec, gain.as_slice()), noisy.len())?,
            objective,
        })
    }
}

/// `|X|^p` of a spectrogram as a bins × frames matrix.
pub fn magnitude_matrix(spec: &Spectrogram, exponent: f32) -> DMatrix<f32> {
    DMatrix::from_vec(spec.bins, spec.frames, spec.magnitude(exponent))
}

/// Multiplicative-update activations (r × frames) of `v` (bins × frames) with `w` fixed, from
/// a flat start at the data's level, and the final objective.
pub fn activations(w: &DMatrix<f32>, v: &DMatrix<f32>, cfg: &SeparationConfig) -> (DMatrix<f32>, f64) {
    let r = w.ncols();
    // A flat start at the data's level: W·H then matches the mean of V.
    let mean_v = v.mean();
    let mean_col = w.row_iter().map(|row| row.sum()).sum::<f32>() / w.nrows() as f32;
    let start = if mean_col > 0.0 {
        (mean_v / mean_col).max(1e-6)
    } else {
        1e-6
    };
    let mut h = DMatrix::from_element(r, v.ncols(), start);
    let mut w = w.clone();
    let settings = MuSettings {
        loss: cfg.loss,
        lambda: cfg.sparsity * v.nrows() as f32,
        iterations: cfg.iterations,
        tol: 0.0,
        learn_w: false,
    };
    let (_, objective) = nmf_gemm::run(v, &mut w, &mut h, &settings, |_| {});
    (h, objective)
}

/// The gain `(Wˢhˢ)ᵖ / ((Wˢhˢ)ᵖ + (Wⁿhⁿ)ᵖ)` (bins × frames) of activations `h` with bases
/// `w` whose first `speech_rank` columns are speech atoms.
pub fn dictionary_gain(w: &DMatrix<f32>, speech_rank: usize, h: &DMatrix<f32>, p: f32) -> DMatrix<f32> {
    let (rs, r) = (speech_rank, w.ncols());
    let speech = w.columns(0, rs) * h.rows(0, rs);
    let noise = w.columns(rs, r - rs) * h.rows(rs, r - rs);
    let g = wiener_gain(speech.as_slice(), noise.as_slice(), p);
    DMatrix::from_vec(speech.nrows(), speech.ncols(), g)
}

/// `aᵖ / (aᵖ + bᵖ)` per bin, 0 where both are 0 ([`super::dnmf::gain`] in f64).
pub fn wiener_gain(a: &[f32], b: &[f32], p: f32) -> Vec<f32> {
    a.iter()
        .zip(b)
        .map(|(&a, &b)| super::dnmf::gain(f64::from(a), f64::from(b), f64::from(p)) as f32)
        .collect()
}

pub fn apply_gain(spec: &Spectrogram, gain: &[f32]) -> Spectrogram {
    Spectrogram {
        frames: spec.frames,
        bins: spec.bins,
        data: spec.data.iter().zip(gain).map(|(c, &g)| c * g).collect(),
    }
}

/// The oracle mask's speech estimate: the noisy STFT (`clean + noise`) times
/// `|S|ᵖ / (|S|ᵖ + |N|ᵖ)`.
pub fn oracle(stft: &Stft, clean: &[f32], noise: &[f32], p: f32) -> Result<Vec<f32>> {
    if clean.len() != noise.len() {
        bail!(
            "clean speech has {} samples and the noise {}: they must be the same length",
            clean.len(),
            noise.len()
        );
    }
    let noisy: Vec<f32> = clean.iter().zip(noise).map(|(s, n)| s + n).collect();
    let (s, n, y) = (stft.forward(clean), stft.forward(noise), stft.forward(&noisy));
    let gain = wiener_gain(&s.magnitude(1.0), &n.magnitude(1.0), p);
    stft.inverse(&apply_gain(&y, &gain), noisy.len())
}
