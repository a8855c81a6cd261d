//! The DNN baseline (Huang, Kim, Hasegawa-Johnson, Smaragdis, ICASSP 2014): an MLP on the
//! noisy magnitude with context frames predicts a speech and a noise spectrum, combined by a
//! soft time–frequency mask layer trained jointly with the network,
//!
//! ```text
//! ỹˢ, ỹⁿ = softplus(outputs)        m = ỹˢ / (ỹˢ + ỹⁿ)
//! s̃ = m ⊙ x                          ñ = (1 − m) ⊙ x
//! J = ‖s̃ − s‖² + ‖ñ − n‖² − γ (‖s̃ − n‖² + ‖ñ − s‖²)
//! ```
//!
//! per frame (magnitudes divided by the features' reference level), averaged over the batch;
//! γ weighs the discriminative term. Huang et al. take |ỹ| for the mask; softplus keeps the
//! outputs positive with a smooth gradient. At inference the mask multiplies the noisy STFT.

use anyhow::Result;
use burn::prelude::*;
use burn::tensor::activation::softplus;
use nalgebra::DMatrix;

use super::network::{self, rows_tensor, softplus as softplus_f32, Features, Mlp, NetParams, NetReport};
use super::training_set::Magnitudes;
use crate::vae::training::Backend;

/// Keeps the mask finite where both outputs underflow.
const MASK_EPS: f64 = 1e-8;

/// The mask-layer loss `J` (module docs) of raw network `outputs` (`[batch, 2·bins]`: speech
/// then noise), for the batch's `mixture`, `speech` and `noise` magnitudes (`[batch, bins]`).
pub fn mask_loss(
    outputs: Tensor<2>,
    mixture: Tensor<2>,
    speech: Tensor<2>,
    noise: Tensor<2>,
    gamma: f64,
) -> Tensor<1> {
    let bins = mixture.dims()[1];
    let ys = softplus(outputs.clone().narrow(1, 0, bins), 1.0);
    let yn = softplus(outputs.narrow(1, bins, bins), 1.0);
    let mask = ys.clone() / (ys + yn).add_scalar(MASK_EPS);
    gain_loss(mask, mixture, speech, noise, gamma)
}

/// `J` of a speech `gain` (`[batch, bins]`, in [0, 1]) applied to the `mixture`: the mask
/// network's loss, and the fine-tuning loss of an activation network through its
/// dictionaries' gain.
pub fn gain_loss(
    gain: Tensor<2>,
    mixture: Tensor<2>,
    speech: Tensor<2>,
    noise: Tensor<2>,
    gamma: f64,
) -> Tensor<1> {
    let s_hat = gain * mixture.clone();
    let n_hat = mixture - s_hat.clone();
    let fit = (s_hat.clone() - speech.clone()).square() + (n_hat.clone() - noise.clone()).square();
    let confusion = (s_hat - noise).square() + (n_hat - speech).square();
    (fit - confusion.mul_scalar(gamma)).sum_dim(1).mean()
}

/// A trained mask network.
pub struct MaskNet {
    /// Input features.
    pub features: Features,
    /// The network.
    pub mlp: Mlp,
    /// Training report.
    pub report: NetReport,
}

/// Trains the mask network on training mixtures with discriminative weight `gamma`.
pub fn train(
    set: &Magnitudes,
    cfg: &NetParams,
    gamma: f64,
    backend: Backend,
    progress: impl FnMut(usize, f64),
) -> Result<MaskNet> {
    let (features, inputs) = Features::fit(&set.noisy, (cfg.context, cfg.look_ahead))?;
    let bins = features.bins;
    let scale = 1.0 / features.reference;
    // Frame-major copies (a column of a bins × frames matrix is a frame).
    let [mixture, speech, noise] = [&set.noisy, &set.speech, &set.noise].map(|m| m.map(|v| v * scale));
    let trained = network::train(
        &inputs,
        features.width(),
        2 * bins,
        cfg,
        backend,
        |out, rows, device| {
            let pick = |m: &DMatrix<f32>| rows_tensor(m.as_slice(), bins, rows, device);
            mask_loss(out, pick(&mixture), pick(&speech), pick(&noise), gamma)
        },
        progress,
    )?;
    Ok(MaskNet {
        report: trained.report,
        features,
        mlp: trained.mlp,
    })
}

impl MaskNet {
    /// The speech mask of a noisy magnitude spectrogram (bins × frames), same shape.
    pub fn mask(&self, noisy: &DMatrix<f32>, backend: Backend) -> Result<DMatrix<f32>> {
        let inputs = self.features.apply(noisy)?;
        let out = self.mlp.predict(&inputs, self.features.width(), backend)?;
        let bins = self.features.bins;
        let mut mask = DMatrix::zeros(bins, noisy.ncols());
        for (t, row) in out.chunks_exact(2 * bins).enumerate() {
            for k in 0..bins {
                let (s, n) = (softplus_f32(row[k]), softplus_f32(row[bins + k]));
                mask[(k, t)] = (f64::from(s) / (f64::from(s) + f64::from(n) + MASK_EPS)) as f32;
            }
        }
        Ok(mask)
    }
}
