//! The activation network of the paper's procedure (its reference 29, Kim's DNN–NMF): an
//! MLP maps the noisy magnitude (with context) to the activations `[hˢ; hⁿ]` of fixed speech
//! and noise dictionaries; the Wiener gain of `Wˢhˢ` and `Wⁿhⁿ` then filters the noisy STFT.
//!
//! Targets per training frame are the activations of the *clean* parts: for VAE-NMF
//! dictionaries each VAE's posterior mean `E[z] = α/β` on the clean speech and on the added
//! noise; for NMF dictionaries (the ablation) multiplicative-update activations with the
//! dictionary fixed. Each target dimension is divided by its training mean, the outputs go
//! through softplus (activations are nonnegative), and the loss is the squared error.

use anyhow::{bail, Result};
use burn::tensor::activation::softplus;
use nalgebra::DMatrix;

use super::network::{self, rows_tensor, softplus as softplus_f32, Features, Mlp, NetParams, NetReport};
use super::training_set::Magnitudes;
use crate::vae::training::Backend;

/// A trained activation network.
pub struct ActivationNet {
    /// Input features.
    pub features: Features,
    /// The network.
    pub mlp: Mlp,
    /// Target scale per activation (its training mean).
    pub scale: Vec<f32>,
    /// Training report.
    pub report: NetReport,
}

/// Trains the network from the training mixtures to `targets` (r × frames, one column per
/// frame of `set`).
pub fn train(
    set: &Magnitudes,
    targets: &DMatrix<f32>,
    cfg: &NetParams,
    backend: Backend,
    progress: impl FnMut(usize, f64),
) -> Result<ActivationNet> {
    if targets.ncols() != set.frames() {
        bail!(
            "{} activation targets for {} training frames",
            targets.ncols(),
            set.frames()
        );
    }
    let r = targets.nrows();
    let scale: Vec<f32> = targets.row_iter().map(|row| row.mean().max(1e-12)).collect();
    let mut normalised = targets.clone();
    for (k, mut row) in normalised.row_iter_mut().enumerate() {
        row /= scale[k];
    }
    let (features, inputs) = Features::fit(&set.noisy, (cfg.context, cfg.look_ahead))?;
    let trained = network::train(
        &inputs,
        features.width(),
        r,
        cfg,
        backend,
        |out, rows, device| {
            let target = rows_tensor(normalised.as_slice(), r, rows, device);
            (softplus(out, 1.0) - target).square().sum_dim(1).mean()
        },
        progress,
    )?;
    Ok(ActivationNet {
        report: trained.report,
        features,
        mlp: trained.mlp,
        scale,
    })
}

impl ActivationNet {
    /// The activations (r × frames) of a noisy magnitude spectrogram (bins × frames).
    pub fn activations(&self, noisy: &DMatrix<f32>, backend: Backend) -> Result<DMatrix<f32>> {
        let inputs = self.features.apply(noisy)?;
        let out = self.mlp.predict(&inputs, self.features.width(), backend)?;
        let r = self.scale.len();
        Ok(DMatrix::from_iterator(
            r,
            noisy.ncols(),
            out.iter()
                .enumerate()
                .map(|(i, &v)| softplus_f32(v) * self.scale[i % r]),
        ))
    }
}
