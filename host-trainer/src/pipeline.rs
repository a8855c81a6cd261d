//! The library pipeline behind `vaenmf train` and `vaenmf eval`: prepared data → fit →
//! order → evaluate → model blob → report and plots, all written as one set. The CLI parses
//! arguments and prints; everything else happens here, for any caller.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use vaenmf_core::ModelBlob;

use crate::arrange::{self, Normalized, Order};
use crate::choice::Choice;
use crate::data::prepare::Prepared;
use crate::data::EmgMatrix;
use crate::eval::{fit_metrics, similarity, Fit, Synergies};
use crate::export::{blob_synergies, nmf_blob};
use crate::nmf::{self, NmfParams, MAX_RANK};
use crate::output::{csv_text, numbered, OutputSet};
use crate::plots;
use crate::report::{Report, SplitReport, SynergyReport};
use crate::vae::training::{self as vae_training, Backend, EpochLog, VaeFit, VaeParams};
use crate::vae::ClampReport;

/// Extraction methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Lee–Seung multiplicative updates, Frobenius norm.
    Nmf,
    /// Lee–Seung multiplicative updates, generalised KL divergence.
    NmfKl,
    /// Frobenius NMF with an L1 penalty on activations and unit-norm synergies.
    SparseNmf,
    /// The paper's VAE-NMF: Gamma-posterior encoder, nonnegative linear decoder (burn).
    VaeNmf,
}

impl Choice for Method {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        (
            "nmf",
            "Lee–Seung multiplicative updates, Frobenius norm",
            Method::Nmf,
        ),
        (
            "nmf-kl",
            "multiplicative updates, generalised KL divergence",
            Method::NmfKl,
        ),
        (
            "sparse-nmf",
            "Frobenius NMF with an L1 penalty on activations",
            Method::SparseNmf,
        ),
        ("vae-nmf", "the paper's VAE-NMF (burn)", Method::VaeNmf),
    ];
}

/// How to fit: checked settings of one method family.
#[derive(Debug, Clone)]
pub enum FitSettings {
    /// `nmf`, `nmf-kl`, `sparse-nmf`.
    Nmf(NmfParams),
    /// `vae-nmf`.
    Vae(VaeParams),
}

impl FitSettings {
    /// Synergies asked for.
    pub fn rank(&self) -> usize {
        match self {
            FitSettings::Nmf(p) => p.rank,
            FitSettings::Vae(p) => p.rank,
        }
    }
}

/// Progress callbacks (a CLI draws bars with them; the default does nothing). Training calls
/// them from its worker thread.
pub trait Progress: Sync {
    /// NMF iteration `iteration` of run `run` (0-based) is done.
    fn nmf(&self, _run: usize, _iteration: usize) {}
    /// A VAE-NMF epoch is done.
    fn epoch(&self, _log: &EpochLog, _epochs: usize) {}
}

/// No progress reports.
pub struct Silent;
impl Progress for Silent {}

/// A method's raw result, before ordering.
struct Fitted {
    synergies: Synergies,
    z: Vec<f32>,
    details: serde_json::Value,
    blob: ModelBlob,
    /// VAE-NMF: the model and its head floor and backend, for held-out activations.
    encoder: Option<(crate::vae::model::VaeNmf, f64, Backend)>,
}

/// The rank must be ≥ 1, below min(channels, frames), and at most [`MAX_RANK`].
pub fn check_rank(rank: usize, x: &EmgMatrix) -> Result<()> {
    let limit = x.channels.min(x.frames);
    if rank == 0 || rank >= limit {
        bail!("--rank {rank} must be at least 1 and below min(channels, frames) = {limit}");
    }
    if rank > MAX_RANK {
        bail!("--rank {rank}: at most {MAX_RANK} synergies are supported");
    }
    Ok(())
}

/// Runs NMF and returns its synergies, activations and details.
pub fn fit_nmf(
    x: &EmgMatrix,
    params: &NmfParams,
    progress: &dyn Progress,
) -> Result<(Synergies, Vec<f32>, serde_json::Value)> {
    let fit = nmf::fit(x, params, |run, it| progress.nmf(run, it))?;
    let details = serde_json::json!({
        "config": params,
        "iterations": fit.iterations,
        "objective": fit.objective,
        "run_objectives": fit.run_objectives,
    });
    let synergies = Synergies {
        channels: x.channels,
        rank: params.rank,
        w: fit.w,
    };
    Ok((synergies, fit.z, details))
}

fn fit_vae(
    x: &EmgMatrix,
    params: &VaeParams,
    input_scale: &[f32],
    progress: &dyn Progress,
) -> Result<Fitted> {
    let fit = vae_training::train(x, params, |log, epochs| progress.epoch(log, epochs))?;
    let (w, clamp) = crate::vae::dictionary(&fit.model)?;
    let synergies = Synergies {
        channels: x.channels,
        rank: params.rank,
        w,
    };
    let z = posterior_means(&fit.model, x, params.floor, params.backend)?;
    let blob = crate::vae::to_blob(&fit.model, &fit.arch, params.alpha0, input_scale)?;
    let details = vae_details(params, &fit, &clamp);
    Ok(Fitted {
        synergies,
        z,
        details,
        blob,
        encoder: Some((fit.model, params.floor, params.backend)),
    })
}

/// What a VAE-NMF training did, for the report: settings, architecture, σ, the dictionary's
/// clamp, the epoch history and why it stopped.
pub fn vae_details(params: &VaeParams, fit: &VaeFit, clamp: &ClampReport) -> serde_json::Value {
    serde_json::json!({
        "config": params,
        "validation_fraction_used": params.validation_every().map_or(0.0, |k| 1.0 / k as f64),
        "architecture": {"channels": fit.arch.channels, "hidden1": fit.arch.hidden1, "hidden2": fit.arch.hidden2, "rank": fit.arch.rank, "floor": fit.arch.floor},
        "sigma": fit.sigma,
        "w_min_before_clamp": clamp.w_min_before_clamp,
        "w_negative_fraction": clamp.w_negative_fraction,
        "epochs_run": fit.history.len(),
        "stopped": fit.stopped,
        "history": fit.history,
    })
}

/// Posterior means α/β (frames × r) of a burn encoder.
fn posterior_means(
    model: &crate::vae::model::VaeNmf,
    x: &EmgMatrix,
    floor: f64,
    backend: Backend,
) -> Result<Vec<f32>> {
    let (a, b) = vae_training::posterior(model, x, floor, backend)?;
    Ok(a.iter().zip(&b).map(|(a, b)| a / b).collect())
}

/// VAF with the method's own activations and with an NNLS refit, and the refit's
/// reconstruction.
fn evaluate_split(x: &EmgMatrix, synergies: &Synergies, own_z: &[f32]) -> Result<(Fit, Fit)> {
    let own = fit_metrics(x, &synergies.reconstruct(own_z))?;
    let nnls_z = synergies.nnls_activations(x)?;
    let nnls = fit_metrics(x, &synergies.reconstruct(&nnls_z))?;
    Ok((own, nnls))
}

/// What a training or evaluation run produced, ready to write.
pub struct RunResult {
    /// The model: trained (ordered), or the one evaluated.
    pub blob: ModelBlob,
    /// Raw synergies in their final order (as in the blob).
    pub synergies: Synergies,
    /// Activations of the (training or evaluated) frames, frames × r, raw units.
    pub activations: Vec<f32>,
    /// Unit-norm synergies and the activations in their units.
    pub normalized: Normalized,
    /// The frames the figures are computed on.
    pub frames: EmgMatrix,
    /// Per-channel VAF of those frames with the method's own activations.
    pub fit: Fit,
    /// Channel names.
    pub channel_names: Vec<String>,
    /// The report (model and plot paths filled in by [`RunResult::write`]).
    pub report: Report,
}

/// What `train` needs besides the data.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    /// Method.
    pub method: Method,
    /// Checked settings of the method.
    pub fit: FitSettings,
    /// Synergy order.
    pub order: Order,
    /// How the order is described in the report.
    pub order_label: String,
    /// True synergies, for the similarity score.
    pub truth: Option<Synergies>,
}

/// Fits, orders and evaluates one method on prepared data.
pub fn train(prepared: &Prepared, settings: &TrainSettings, progress: &dyn Progress) -> Result<RunResult> {
    let x = &prepared.train;
    let rank = settings.fit.rank();
    check_rank(rank, x)?;
    let is_vae = settings.method == Method::VaeNmf;
    match (&settings.fit, is_vae) {
        (FitSettings::Vae(_), true) | (FitSettings::Nmf(_), false) => {}
        _ => bail!(
            "settings of another method family than {}",
            settings.method.name()
        ),
    }
    let start = Instant::now();
    let fitted = match &settings.fit {
        FitSettings::Vae(p) => fit_vae(x, p, &prepared.report.input_scale, progress)?,
        FitSettings::Nmf(p) => {
            let (synergies, z, details) = fit_nmf(x, p, progress)?;
            let blob = nmf_blob(&synergies, &prepared.report.input_scale);
            Fitted {
                synergies,
                z,
                details,
                blob,
                encoder: None,
            }
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let perm = arrange::permutation(&fitted.synergies, &settings.order)?;
    let synergies = arrange::permute_synergies(&fitted.synergies, &perm);
    let z = arrange::permute_columns(&fitted.z, &perm);
    let mut blob = fitted.blob;
    arrange::permute_blob(&mut blob, &perm)?;
    let channel_names = prepared.names_or_numbered();
    blob.channel_names = channel_names.clone();
    let (own, nnls) = evaluate_split(x, &synergies, &z)?;
    let test = match &prepared.test {
        Some(t) => {
            // Held-out activations: the encoder's for VAE-NMF; NMF has none, so its "own"
            // activations are the NNLS refit.
            let own_z = match &fitted.encoder {
                Some((model, floor, backend)) => {
                    arrange::permute_columns(&posterior_means(model, t, *floor, *backend)?, &perm)
                }
                None => synergies.nnls_activations(t)?,
            };
            let (own_t, nnls_t) = evaluate_split(t, &synergies, &own_z)?;
            Some(SplitReport::new(t.frames, &own_t, &nnls_t))
        }
        None => None,
    };
    let similarity = settings
        .truth
        .as_ref()
        .map(|t| similarity(&synergies, t))
        .transpose()?;
    let parts = RunParts {
        blob,
        synergies,
        activations: z,
        channel_names,
        train: (own, nnls),
    };
    Ok(parts.assemble(
        prepared,
        RunMeta {
            method: settings.method.name().into(),
            seconds,
            similarity,
            test,
            order: settings.order_label.clone(),
            permutation: perm,
            training: fitted.details,
        },
    ))
}

/// A run's numbers before the report.
struct RunParts {
    blob: ModelBlob,
    synergies: Synergies,
    activations: Vec<f32>,
    channel_names: Vec<String>,
    /// Fit with the method's own activations, and with an NNLS refit.
    train: (Fit, Fit),
}

/// What the report says besides the numbers.
struct RunMeta {
    method: String,
    seconds: f64,
    similarity: Option<f64>,
    test: Option<SplitReport>,
    order: String,
    permutation: Vec<usize>,
    training: serde_json::Value,
}

impl RunParts {
    fn assemble(self, prepared: &Prepared, meta: RunMeta) -> RunResult {
        let x = &prepared.train;
        let (own, nnls) = self.train;
        let normalized = arrange::normalize(&self.synergies, &self.activations);
        let report = Report {
            method: meta.method,
            rank: self.synergies.rank,
            channels: x.channels,
            channel_names: self.channel_names.clone(),
            fit: SplitReport::new(x.frames, &own, &nnls),
            similarity: meta.similarity,
            seconds: meta.seconds,
            test: meta.test,
            synergies: SynergyReport::new(&self.synergies, &normalized, meta.order, meta.permutation),
            data: prepared.report.clone(),
            training: meta.training,
            model: String::new(),
            plots: Vec::new(),
        };
        RunResult {
            blob: self.blob,
            synergies: self.synergies,
            activations: self.activations,
            normalized,
            frames: x.clone(),
            fit: own,
            channel_names: self.channel_names,
            report,
        }
    }
}

/// Evaluates a model blob on prepared data (scaled with the blob's own offset and scale).
/// Encoder models run the core's inference, so the activations are the device's, bit for
/// bit; NMF models refit activations with the core's NNLS, as the device does.
pub fn evaluate(blob: &ModelBlob, prepared: &Prepared, truth: Option<&Synergies>) -> Result<RunResult> {
    let x = &prepared.train;
    let start = Instant::now();
    let synergies = blob_synergies(blob);
    let z = if blob.has_encoder() {
        let mut z = Vec::with_capacity(x.frames * synergies.rank);
        for (f, frame) in x.frames_iter().enumerate() {
            let mean = blob
                .posterior_mean(frame)
                .map_err(|e| anyhow::anyhow!("frame {}: {e}", f + 1))?
                .unwrap_or_default();
            z.extend(mean);
        }
        z
    } else {
        synergies.nnls_activations(x)?
    };
    let (own, nnls) = evaluate_split(x, &synergies, &z)?;
    let seconds = start.elapsed().as_secs_f64();
    let similarity = truth.map(|t| similarity(&synergies, t)).transpose()?;
    // Names: the data's, else the model's, else numbered.
    let channel_names = match (&prepared.channel_names, blob.channel_names.is_empty()) {
        (Some(names), _) => names.clone(),
        (None, false) => blob.channel_names.clone(),
        (None, true) => numbered("ch", x.channels),
    };
    let rank = synergies.rank;
    let parts = RunParts {
        blob: blob.clone(),
        synergies,
        activations: z,
        channel_names,
        train: (own, nnls),
    };
    Ok(parts.assemble(
        prepared,
        RunMeta {
            method: if blob.has_encoder() { "vae-nmf" } else { "nmf" }.into(),
            seconds,
            similarity,
            test: None,
            order: "as stored in the model".into(),
            permutation: (0..rank).collect(),
            training: serde_json::Value::Null,
        },
    ))
}

/// Where a run's files go.
#[derive(Debug, Clone, Default)]
pub struct OutputPaths {
    /// Model blob to write (train).
    pub model: Option<PathBuf>,
    /// Report JSON.
    pub report: PathBuf,
    /// Folder for plots.
    pub plots: Option<PathBuf>,
    /// Activations CSV (frames × r, raw units: what the model computes).
    pub activations: Option<PathBuf>,
}

/// Plots of a run, staged in `set`: unit-norm synergies with channel names, activations over
/// time (unit-norm units), and reconstructions.
pub fn stage_plots(set: &mut OutputSet, dir: &Path, run: &RunResult) -> Result<Vec<String>> {
    let mut files = plots::synergies(set, dir, &run.normalized.synergies, &run.channel_names)?;
    files.extend(plots::activations(
        set,
        dir,
        &run.normalized.activations,
        run.synergies.rank,
    )?);
    files.extend(plots::reconstruction(
        set,
        dir,
        "reconstruction",
        &run.frames,
        &run.synergies.reconstruct(&run.activations),
        &run.fit.vaf_per_channel,
        &run.channel_names,
    )?);
    Ok(files.into_iter().map(|p| p.display().to_string()).collect())
}

impl RunResult {
    /// Writes the model, report, plots and activations together: all of them, or (on any
    /// error) none. Returns the model's size in bytes (0 when no model is written).
    pub fn write(&mut self, paths: &OutputPaths, model_name: &Path) -> Result<usize> {
        let mut set = OutputSet::new();
        let mut bytes = 0;
        if let Some(path) = &paths.model {
            let encoded = self.blob.to_bytes().map_err(|e| {
                anyhow::anyhow!("{}: refusing to write an invalid model: {e}", path.display())
            })?;
            bytes = encoded.len();
            set.add(path, &encoded)?;
        }
        if let Some(path) = &paths.activations {
            let header = numbered("z", self.synergies.rank);
            set.add(path, csv_text(&header, &self.activations).as_bytes())?;
        }
        if let Some(dir) = &paths.plots {
            self.report.plots = stage_plots(&mut set, dir, self)?;
        }
        self.report.model = model_name.display().to_string();
        set.add(&paths.report, crate::report::to_json(&self.report)?.as_bytes())?;
        set.commit()?;
        Ok(bytes)
    }
}
