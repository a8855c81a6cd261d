//! VAE-NMF: trained by the trainer (burn), returned as the core's blob so every later use —
//! held-out posteriors, saving, quantising, the firmware — reads the same weights.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use vaenmf_trainer::vae::training::{self, Backend, DecoderSteps, Nonneg, VaeTrainConfig};

use crate::arrays::matrix;
use crate::errors::OrPyErr;
use crate::interrupt;
use crate::nmf::choose;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(vae_fit, m)?)?;
    m.add("MAX_RANK", vaenmf_trainer::nmf::MAX_RANK)?;
    Ok(())
}

/// Trains VAE-NMF on `x` (frames × channels, nonnegative) and returns `(blob, details)`: the
/// model blob's bytes (f32 encoder, dictionary, `channel_names`) and a JSON text with the
/// settings, architecture, σ, the epoch history and why training stopped (the report's
/// `training` section).
#[pyfunction]
#[pyo3(signature = (x, n_components, hidden, alpha0, sigma, likelihood, boost, gamma, nonneg, decoder_steps, lr, weight_decay, batch_size, epochs, validation, patience, seed, backend, channel_names, verbose))]
#[allow(clippy::too_many_arguments)]
fn vae_fit<'py>(
    py: Python<'py>,
    x: numpy::PyReadonlyArray2<'py, f32>,
    n_components: usize,
    hidden: (usize, usize),
    alpha0: f64,
    sigma: Option<f64>,
    likelihood: &str,
    boost: u32,
    gamma: f64,
    nonneg: &str,
    decoder_steps: &str,
    lr: f64,
    weight_decay: f64,
    batch_size: usize,
    epochs: usize,
    validation: f64,
    patience: usize,
    seed: u64,
    backend: &str,
    channel_names: Vec<String>,
    verbose: bool,
) -> PyResult<(Bound<'py, PyBytes>, String)> {
    let x = matrix(&x)?;
    let poisson = match likelihood {
        "gaussian" => false,
        "poisson" => true,
        other => {
            return Err(vaenmf_trainer::params::ParamError::new(
                "likelihood",
                other,
                "one of gaussian, poisson",
            ))
            .or_py()
        }
    };
    let params = VaeTrainConfig {
        hidden,
        rank: n_components,
        alpha0,
        sigma,
        poisson,
        boost,
        gamma,
        nonneg: choose::<Nonneg>("nonneg", nonneg)?,
        decoder_steps: choose::<DecoderSteps>("decoder-steps", decoder_steps)?,
        lr,
        weight_decay,
        batch_size,
        epochs,
        validation,
        patience,
        floor: f64::from(vaenmf_trainer::export::DEFAULT_FLOOR),
        seed,
        backend: choose::<Backend>("backend", backend)?,
        checkpoint_every: 0,
        checkpoint_dir: None,
        resume: None,
    }
    .check()
    .or_py()?;
    let (bytes, details) = interrupt::run(py, verbose, |reporter| {
        let fit = training::train(&x, &params, |log, epochs| {
            reporter.say(format!(
                "epoch {} of {epochs}: loss {:.5} (reconstruction {:.5}, KL {:.5}, penalty {:.5}){}",
                log.epoch,
                log.loss,
                log.reconstruction,
                log.kl,
                log.penalty,
                log.validation
                    .map_or(String::new(), |v| format!(", validation {v:.5}"))
            ));
            reporter.checkpoint();
        })?;
        let (_, clamp) = vaenmf_trainer::vae::dictionary(&fit.model)?;
        let ones = vec![1.0f32; x.channels];
        let mut blob = vaenmf_trainer::vae::to_blob(&fit.model, &fit.arch, params.alpha0, &ones)?;
        blob.channel_names = channel_names;
        let details = vaenmf_trainer::pipeline::vae_details(&params, &fit, &clamp);
        let bytes = blob
            .to_bytes()
            .map_err(|e| anyhow::anyhow!("the trained model: {e}"))?;
        Ok((bytes, details.to_string()))
    })?;
    Ok((PyBytes::new(py, &bytes), details))
}
