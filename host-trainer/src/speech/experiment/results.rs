//! What the tables produce: every test mixture's scores per method, per condition, and both
//! tables' raw results.

use std::collections::BTreeMap;

use serde::Serialize;

use vaenmf_core::speech::{EnhancerBlob, EnhancerMethod};

use crate::speech::metrics::bss_eval::Assignment;
use crate::speech::metrics::SpeechMetrics;

/// The scores of one test mixture.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    /// Utterance name.
    pub utterance: String,
    /// Noise name.
    pub noise: String,
    /// SNR, dB.
    pub snr_db: f64,
    /// Per method (`input`, `oracle` and the method names).
    pub scores: BTreeMap<String, SpeechMetrics>,
}

/// One condition's (a noise type's, or the pooled noises') results.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionResult {
    /// Noise name, or `pooled`.
    pub condition: String,
    /// Training mixtures' frames.
    pub training_frames: usize,
    /// Seconds spent per method on training (shared speech models not included) and on
    /// enhancing the test mixtures.
    pub seconds: BTreeMap<String, MethodSeconds>,
    /// Training details.
    pub training: serde_json::Value,
    /// Every test mixture's scores.
    pub mixtures: Vec<Scored>,
    /// The enhancer each method trained (what `--save-models` writes).
    #[serde(skip)]
    pub enhancers: Vec<(EnhancerMethod, EnhancerBlob)>,
}

/// Time spent by one method.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct MethodSeconds {
    /// Training.
    pub train: f64,
    /// Enhancing every test mixture of the condition.
    pub enhance: f64,
}

/// Both tables' raw results.
#[derive(Debug, Clone, Serialize)]
pub struct TableRun {
    /// Table 1: one result per noise type.
    pub table1: Vec<ConditionResult>,
    /// Table 2: the pooled noise model (empty when not asked for or with one noise).
    pub table2: Vec<ConditionResult>,
    /// Shared speech models' training.
    pub speech: serde_json::Value,
    /// Wall time of the whole run, seconds.
    pub seconds: f64,
    /// How BSS-eval matched every estimate to the references.
    pub assignment: Assignment,
}
