//! VAE-NMF spectrogram dictionaries: the project's VAE-NMF trainer ([`crate::vae`]) on
//! magnitude frames. The frames are multiplied by one global factor `c` (their inverse mean)
//! so the network sees values near 1; the decoder then models `c·x ≈ W_c z`, and the
//! dictionary in magnitude units is `W = W_c / c` with the same activations. Its encoder's
//! posterior mean `E[z] = α/β` gives the activation targets of [`super::activation_net`].

use anyhow::{bail, Result};
use nalgebra::DMatrix;
use serde::Serialize;

use crate::data::EmgMatrix;
use crate::vae::model::VaeNmf;
use crate::vae::training::{posterior, train, EpochLog, VaeParams};
use crate::vae::{dictionary, ClampReport};

/// A trained VAE-NMF dictionary.
pub struct VaeDictionary {
    model: VaeNmf,
    floor: f64,
    backend: crate::vae::training::Backend,
    /// Input factor `c`.
    pub scale: f32,
    /// The dictionary in magnitude units, bins × r.
    pub w: DMatrix<f32>,
    /// What training did.
    pub report: VaeDictionaryReport,
}

/// Training figures.
#[derive(Debug, Clone, Serialize)]
pub struct VaeDictionaryReport {
    /// Training frames.
    pub frames: usize,
    /// σ of the Gaussian likelihood (scaled units).
    pub sigma: f64,
    /// Per-epoch losses.
    pub history: Vec<EpochLog>,
    /// Why training stopped.
    pub stopped: String,
    /// Frames per second over the whole training (epochs × training frames / seconds).
    pub frames_per_second: f64,
    /// Negative decoder weights before the clamp.
    pub clamp: ClampReport,
}

fn frames_matrix(mag: &DMatrix<f32>, scale: f32) -> Result<EmgMatrix> {
    EmgMatrix::new(mag.ncols(), mag.nrows(), mag.iter().map(|&v| v * scale).collect())
}

/// Trains a dictionary on magnitude frames (bins × frames).
pub fn learn(
    mag: &DMatrix<f32>,
    cfg: &VaeParams,
    on_epoch: impl FnMut(&EpochLog, usize) + Send,
) -> Result<VaeDictionary> {
    if cfg.rank >= mag.ncols() {
        bail!(
            "rank {} needs more than {} spectrogram frames; give more audio or a lower rank",
            cfg.rank,
            mag.ncols()
        );
    }
    let mean = mag.mean();
    if mean.is_nan() || mean <= 0.0 {
        bail!("the training spectrogram is silent");
    }
    let scale = 1.0 / mean;
    let x = frames_matrix(mag, scale)?;
    let started = std::time::Instant::now();
    let fit = train(&x, cfg, on_epoch)?;
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let (w, clamp) = dictionary(&fit.model)?;
    let w = DMatrix::from_row_slice(mag.nrows(), cfg.rank, &w) / scale;
    let train_frames = match cfg.validation_every() {
        Some(every) => x.frames - x.frames / every,
        None => x.frames,
    };
    Ok(VaeDictionary {
        report: VaeDictionaryReport {
            frames: x.frames,
            sigma: fit.sigma,
            frames_per_second: (train_frames * fit.history.len()) as f64 / seconds,
            history: fit.history,
            stopped: fit.stopped,
            clamp,
        },
        model: fit.model,
        floor: cfg.floor,
        backend: cfg.backend,
        scale,
        w,
    })
}

impl VaeDictionary {
    /// The posterior means `E[z]` (r × frames) of magnitude frames (bins × frames).
    pub fn posterior_mean(&self, mag: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        let x = frames_matrix(mag, self.scale)?;
        let (alpha, beta) = posterior(&self.model, &x, self.floor, self.backend)?;
        let r = self.w.ncols();
        Ok(DMatrix::from_iterator(
            r,
            mag.ncols(),
            alpha.iter().zip(&beta).map(|(a, b)| a / b),
        ))
    }
}
