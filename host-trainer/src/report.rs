//! The JSON reports of `train`, `eval` and `rank`.

use serde::Serialize;

use crate::arrange::Normalized;
use crate::data::prepare::DataReport;
use crate::eval::{Fit, RankPoint, Synergies};

/// Metrics of one data split.
#[derive(Debug, Clone, Serialize)]
pub struct SplitReport {
    /// Frames.
    pub frames: usize,
    /// Global VAF with the method's own activations.
    pub vaf: f64,
    /// Per-channel VAF with the method's own activations.
    pub vaf_per_channel: Vec<f64>,
    /// Centred R².
    pub r2: f64,
    /// Global VAF with W fixed and activations refit by NNLS.
    pub vaf_nnls: f64,
    /// Per-channel VAF with NNLS activations.
    pub vaf_nnls_per_channel: Vec<f64>,
}

impl SplitReport {
    /// From the fit with the method's own activations and the NNLS refit.
    pub fn new(frames: usize, own: &Fit, nnls: &Fit) -> Self {
        Self {
            frames,
            vaf: own.vaf,
            vaf_per_channel: own.vaf_per_channel.clone(),
            r2: own.r2,
            vaf_nnls: nnls.vaf,
            vaf_nnls_per_channel: nnls.vaf_per_channel.clone(),
        }
    }
}

/// The synergies as researchers read them.
#[derive(Debug, Clone, Serialize)]
pub struct SynergyReport {
    /// The scale convention of `normalized`.
    pub convention: &'static str,
    /// How the synergies were ordered.
    pub order: String,
    /// New synergy `k` is column `permutation[k]` of the factorisation as fitted.
    pub permutation: Vec<usize>,
    /// One vector per synergy, one weight per channel, unit L2 norm.
    pub normalized: Vec<Vec<f32>>,
    /// The L2 norm of each raw synergy (activations in `normalized` units = raw × norm).
    pub norms: Vec<f64>,
    /// One vector per synergy as stored in the model blob (raw W).
    pub raw: Vec<Vec<f32>>,
}

/// Scale convention stated in every report.
pub const CONVENTION: &str =
    "unit L2 norm per synergy (MATLAB nnmf / SynergyAnalyzer); activations carry the norm, so W·Z is unchanged";

impl SynergyReport {
    /// From the raw (ordered) synergies and their normalised form.
    pub fn new(raw: &Synergies, normalized: &Normalized, order: String, permutation: Vec<usize>) -> Self {
        let columns = |s: &Synergies| (0..s.rank).map(|k| s.column(k)).collect();
        Self {
            convention: CONVENTION,
            order,
            permutation,
            normalized: columns(&normalized.synergies),
            norms: normalized.norms.clone(),
            raw: columns(raw),
        }
    }
}

/// The `train` and `eval` report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Method name.
    pub method: String,
    /// Synergies.
    pub rank: usize,
    /// Channels.
    pub channels: usize,
    /// Channel (muscle) names, in data order.
    pub channel_names: Vec<String>,
    /// Figures on the training (train) or evaluated (eval) frames.
    #[serde(flatten)]
    pub fit: SplitReport,
    /// Mean Hungarian-matched cosine to the true synergies, if given.
    pub similarity: Option<f64>,
    /// Wall-clock seconds of extraction (train) or evaluation (eval).
    pub seconds: f64,
    /// Held-out figures.
    pub test: Option<SplitReport>,
    /// The synergies, ordered and normalised.
    pub synergies: SynergyReport,
    /// Data preparation.
    pub data: DataReport,
    /// Method-specific details (iterations, objective, settings).
    pub training: serde_json::Value,
    /// Model blob written or read.
    pub model: String,
    /// Plot files written.
    pub plots: Vec<String>,
}

/// The `rank` report.
#[derive(Debug, Serialize)]
pub struct RankReport {
    /// Method name.
    pub method: String,
    /// Channels.
    pub channels: usize,
    /// Frames.
    pub frames: usize,
    /// VAF and lowest channel VAF for each rank tried.
    pub curve: Vec<RankPoint>,
    /// Smallest rank with global VAF ≥ 0.90 and every channel ≥ 0.75 (null if none).
    pub chosen_rank: Option<usize>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Data preparation.
    pub data: DataReport,
    /// Plot files written.
    pub plots: Vec<String>,
}

/// Pretty JSON text of a report.
pub fn to_json<T: Serialize>(report: &T) -> anyhow::Result<String> {
    serde_json::to_string_pretty(report).map_err(|e| anyhow::anyhow!("report: cannot serialise ({e})"))
}
