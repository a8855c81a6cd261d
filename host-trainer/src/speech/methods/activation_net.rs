//! The activation network of the paper's procedure (its reference 29, Kim's DNN–NMF): an
//! MLP maps the noisy magnitude (with context) to the activations `[hˢ; hⁿ]` of fixed speech
//! and noise dictionaries; the Wiener gain of `Wˢhˢ` and `Wⁿhⁿ` then filters the noisy STFT.
//!
//! Targets per training frame are the activations of the *clean* parts: for VAE-NMF
//! dictionaries each VAE's posterior mean `E[z] = α/β` on the clean speech and on the added
//! noise; for NMF dictionaries (the ablation) multiplicative-update activations with the
//! dictionary fixed. Each target dimension is divided by its training mean, the outputs go
//! through softplus (activations are nonnegative), and the loss is the squared error.
//!
//! [`fine_tune`] then trains such a network for what it is used for (`vae-nmf-e2e`): its
//! activations through the fixed dictionaries and the Wiener-type gain
//! `(Wˢhˢ)ᵖ / ((Wˢhˢ)ᵖ + (Wⁿhⁿ)ᵖ)` applied to the mixture, under the mask network's loss
//! ([`super::dnn::gain_loss`], discriminative term included) — NMF-style reconstruction
//! trained discriminatively, as Nie et al. 2018 (the paper's reference 2).

use anyhow::{bail, Result};
use burn::prelude::*;
use burn::tensor::activation::softplus;
use burn::tensor::TensorData;
use nalgebra::DMatrix;

use super::dnn::gain_loss;
use super::network::{
    self, rows_tensor, softplus as softplus_f32, Features, FineTuneReport, Mlp, NetParams, NetReport,
};
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

/// Keeps `xᵖ` differentiable where a reconstruction is 0.
const GAIN_EPS: f64 = 1e-9;

/// Fine-tunes `net` end to end (module docs) through `dictionary` (bins × r, magnitude
/// units, the first `speech_rank` atoms speech) with gain exponent `p` and discriminative
/// weight `gamma`, for `cfg.e2e_epochs` epochs at `cfg.e2e_lr`, keeping the epoch with the
/// lowest loss on the last tenth of the training frames ([`network::fine_tune`]).
#[allow(clippy::too_many_arguments)]
pub fn fine_tune(
    net: &ActivationNet,
    dictionary: &DMatrix<f32>,
    speech_rank: usize,
    p: f32,
    set: &Magnitudes,
    cfg: &NetParams,
    gamma: f64,
    backend: Backend,
    progress: impl FnMut(usize, f64),
) -> Result<(ActivationNet, FineTuneReport)> {
    let (bins, r) = (net.features.bins, net.scale.len());
    if dictionary.shape() != (bins, r) || !(1..r).contains(&speech_rank) {
        bail!(
            "internal: a {}×{} dictionary with {speech_rank} speech atoms for a network of {r} activations over {bins} bins",
            dictionary.nrows(),
            dictionary.ncols()
        );
    }
    let inputs = net.features.apply(&set.noisy)?;
    let unit = 1.0 / net.features.reference;
    let [mixture, speech, noise] = [&set.noisy, &set.speech, &set.noise].map(|m| m.map(|v| v * unit));
    // One atom per row, its activation's scale folded in: a batch's reconstructions are
    // `softplus(outputs) · atoms`, in the same units as the mixture.
    let atoms: Vec<f32> = (0..r)
        .flat_map(|j| {
            dictionary
                .column(j)
                .iter()
                .map(move |&w| w * net.scale[j] * unit)
                .collect::<Vec<_>>()
        })
        .collect();
    let noise_rank = r - speech_rank;
    let (mlp, report) = network::fine_tune(
        &net.mlp,
        &inputs,
        net.features.width(),
        cfg,
        backend,
        |out, rows, device| {
            let atoms = Tensor::<2>::from_data(TensorData::new(atoms.clone(), [r, bins]), device);
            let h = softplus(out, 1.0);
            let reconstruction = |start: usize, len: usize| {
                h.clone()
                    .narrow(1, start, len)
                    .matmul(atoms.clone().narrow(0, start, len))
                    .add_scalar(GAIN_EPS)
                    .powf_scalar(f64::from(p))
            };
            let (s, n) = (
                reconstruction(0, speech_rank),
                reconstruction(speech_rank, noise_rank),
            );
            let gain = s.clone() / (s + n);
            let pick = |m: &DMatrix<f32>| rows_tensor(m.as_slice(), bins, rows, device);
            gain_loss(gain, pick(&mixture), pick(&speech), pick(&noise), gamma)
        },
        progress,
    )?;
    Ok((
        ActivationNet {
            features: net.features.clone(),
            mlp,
            scale: net.scale.clone(),
            report: net.report.clone(),
        },
        report,
    ))
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
