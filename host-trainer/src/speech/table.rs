//! The paper's Tables 1 and 2, reproduced: every method trained on training utterances and
//! training noise, evaluated on test utterances mixed with test noise.
//!
//! - **Table 1**: a noise model per noise type; each noise's test mixtures are enhanced with
//!   the models of that noise, and the table averages over all noises' mixtures.
//! - **Table 2**: one noise model on the pooled training noises, evaluated on the same test
//!   mixtures.
//!
//! Methods ([`TableMethod`]): supervised NMF, DNMF ([`super::dnmf`]), the mask DNN
//! ([`super::dnn`]), VAE-NMF dictionaries with the activation network
//! ([`super::vae_dictionary`], [`super::activation_net`]), and the two ablations (NMF
//! dictionaries + the same activation network; VAE-NMF dictionaries + multiplicative-update
//! activations). The speech models (NMF and VAE-NMF speech dictionaries) are learned once
//! and shared by every noise condition. Training: `table_train`; summaries and output
//! formats: [`super::table_report`].

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::Serialize;
use vaenmf_core::FrontEnd;

use super::bss_eval::Assignment;
use super::dnmf::DnmfParams;
use super::metrics::{speech_metrics, SpeechMetrics};
use super::mix::{check_lengths, mix, Mixture, Named};
use super::network::NetParams;
use super::separate::{apply_gain, magnitude_matrix, oracle, SeparationParams};
use super::stft::{Stft, StftConfig};
use super::table_train::{gain, speech_models, train_condition, Condition, Models};
use crate::choice::Choice;
use crate::nmf::NmfParams;
use crate::vae::training::{Backend, VaeParams};

/// A method of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TableMethod {
    /// Supervised NMF.
    Nmf,
    /// Discriminative NMF.
    Dnmf,
    /// Mask DNN (Huang et al. 2014).
    Dnn,
    /// VAE-NMF dictionaries + activation network (the paper's method).
    VaeNmf,
    /// Ablation: NMF dictionaries + activation network.
    NmfDictNet,
    /// Ablation: VAE-NMF dictionaries + multiplicative-update activations.
    VaeDictMu,
}

impl Choice for TableMethod {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        ("nmf", "supervised NMF", TableMethod::Nmf),
        (
            "dnmf",
            "discriminative NMF (Weninger et al. 2014)",
            TableMethod::Dnmf,
        ),
        ("dnn", "mask DNN (Huang et al. 2014)", TableMethod::Dnn),
        (
            "vae-nmf",
            "VAE-NMF dictionaries + activation network (the paper)",
            TableMethod::VaeNmf,
        ),
        (
            "nmf-dict-net",
            "ablation: NMF dictionaries + activation network",
            TableMethod::NmfDictNet,
        ),
        (
            "vae-nmf-dict-mu",
            "ablation: VAE-NMF dictionaries + multiplicative updates",
            TableMethod::VaeDictMu,
        ),
    ];
}

impl TableMethod {
    pub(super) fn needs_vae(self) -> bool {
        matches!(self, TableMethod::VaeNmf | TableMethod::VaeDictMu)
    }
}

/// Everything the tables are trained and evaluated with.
pub struct TableConfig {
    /// Methods to run.
    pub methods: Vec<TableMethod>,
    /// SNRs of the training and the test mixtures, dB.
    pub snrs: Vec<f64>,
    /// Front end of every method.
    pub front_end: FrontEnd,
    /// Dictionary learning (speech and noise, NMF; its rank is every method's rank).
    pub dictionary: NmfParams,
    /// Activations by multiplicative updates and the gain.
    pub separation: SeparationParams,
    /// DNMF.
    pub dnmf: DnmfParams,
    /// The mask DNN and the activation networks.
    pub net: NetParams,
    /// Discriminative weight γ of the mask DNN.
    pub dnn_gamma: f64,
    /// VAE-NMF dictionaries.
    pub vae: VaeParams,
    /// Seed of the mixtures' noise segments.
    pub seed: u64,
    /// Repeat a test noise shorter than an utterance.
    pub loop_noise: bool,
    /// Also build Table 2 (pooled noise model; needs two or more noises).
    pub pooled: bool,
    /// Backend of the networks.
    pub backend: Backend,
    /// How BSS-eval matches each estimate to the references (every row alike).
    pub assignment: Assignment,
}

/// One noise type: its training and test recordings.
pub struct NoiseSource {
    /// Name.
    pub name: String,
    /// Training recording.
    pub train: Vec<f32>,
    /// Test recording.
    pub test: Vec<f32>,
}

/// The recordings.
pub struct Sources {
    /// Training utterances.
    pub speech_train: Vec<Named>,
    /// Test utterances.
    pub speech_test: Vec<Named>,
    /// Noise types.
    pub noises: Vec<NoiseSource>,
}

/// Progress events for the caller's display.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A stage starts with `total` steps.
    Stage {
        /// What runs.
        name: &'a str,
        /// Steps.
        total: usize,
    },
    /// Steps done in the current stage.
    Step(usize),
}

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
}

/// Time spent by one method.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct MethodSeconds {
    /// Training.
    pub train: f64,
    /// Enhancing every test mixture of the condition.
    pub enhance: f64,
}

/// The test mixtures of each noise: every test utterance at every SNR, noise segments drawn
/// by `seed` from the noise's test recording.
pub fn test_mixtures(sources: &Sources, cfg: &TableConfig) -> Result<Vec<Vec<Mixture>>> {
    sources
        .noises
        .iter()
        .enumerate()
        .map(|(k, n)| {
            let noise = Named {
                name: format!("{} (test)", n.name),
                samples: n.test.clone(),
            };
            mix(
                &sources.speech_test,
                &[noise],
                &cfg.snrs,
                cfg.seed.wrapping_add(1000 + k as u64),
                cfg.loop_noise,
            )
        })
        .collect()
}

/// Enhances and scores the test mixtures with one condition's models.
fn evaluate(
    mixtures: &[(&str, &Mixture)],
    utterances: &[Named],
    models: &Models,
    cfg: &TableConfig,
    stft: &Stft,
    seconds: &mut BTreeMap<String, MethodSeconds>,
    on: &(dyn Fn(Event) + Sync),
) -> Result<Vec<Scored>> {
    let rate = cfg.front_end.sample_rate;
    let exponent = cfg.front_end.magnitude_exponent;
    let p = cfg.separation.gain_exponent;
    // Enhancement runs one mixture at a time (the updates and the networks use both cores);
    // scoring runs the mixtures in parallel.
    let mut estimates = Vec::with_capacity(mixtures.len());
    for (noise, m) in mixtures {
        let spec = stft.forward(&m.noisy);
        let mag = magnitude_matrix(&spec, exponent);
        let mut signals = vec![("input".to_string(), m.noisy.clone())];
        for &method in &cfg.methods {
            let t = Instant::now();
            let g = gain(method, models, &mag, cfg.backend)?;
            let s = stft.inverse(&apply_gain(&spec, g.as_slice()), m.noisy.len())?;
            seconds.entry(method.name().to_string()).or_default().enhance += t.elapsed().as_secs_f64();
            signals.push((method.name().to_string(), s));
        }
        signals.push(("oracle".to_string(), oracle(stft, &m.clean, &m.noise_part, p)?));
        estimates.push((*noise, *m, signals));
    }
    on(Event::Stage {
        name: "scoring",
        total: estimates.len(),
    });
    let done = std::sync::atomic::AtomicUsize::new(0);
    estimates
        .par_iter()
        .map(|(noise, m, signals)| {
            let refs: Vec<&[f32]> = signals.iter().map(|(_, s)| s.as_slice()).collect();
            let metrics = speech_metrics(&m.clean, &m.noise_part, &refs, rate, cfg.assignment)?;
            on(Event::Step(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            ));
            Ok(Scored {
                utterance: utterances[m.utterance].name.clone(),
                noise: noise.to_string(),
                snr_db: m.snr_db,
                scores: signals.iter().map(|(n, _)| n.clone()).zip(metrics).collect(),
            })
        })
        .collect()
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

/// Checks the sources, then trains and evaluates every condition.
pub fn run(sources: &Sources, cfg: &TableConfig, on: &(dyn Fn(Event) + Sync)) -> Result<TableRun> {
    let started = Instant::now();
    if sources.speech_train.is_empty() {
        bail!("no training utterances");
    }
    if sources.speech_test.is_empty() {
        bail!("no test utterances");
    }
    if sources.noises.is_empty() {
        bail!("no noise given");
    }
    if cfg.methods.is_empty() {
        bail!("no method to run");
    }
    let stft = Stft::new(&StftConfig::of_front_end(&cfg.front_end).check()?);
    // Every check the inputs' sizes allow, before any training: a training noise too short
    // for a training utterance, and the test mixtures (mixed here).
    for n in &sources.noises {
        let train = Named {
            name: format!("{} (train)", n.name),
            samples: n.train.clone(),
        };
        check_lengths(&sources.speech_train, &[train], cfg.loop_noise)?;
    }
    let tests = test_mixtures(sources, cfg)?;
    let (speech, speech_report) = speech_models(sources, cfg, &stft, on)?;
    let mut conditions: Vec<(bool, Condition)> = sources
        .noises
        .iter()
        .map(|n| {
            (
                false,
                Condition {
                    name: n.name.clone(),
                    noises: vec![n],
                },
            )
        })
        .collect();
    if cfg.pooled && sources.noises.len() > 1 {
        conditions.push((
            true,
            Condition {
                name: "pooled".into(),
                noises: sources.noises.iter().collect(),
            },
        ));
    }
    let (mut table1, mut table2) = (Vec::new(), Vec::new());
    for (pooled, condition) in &conditions {
        let mut seconds = BTreeMap::new();
        let (models, training_frames, training) =
            train_condition(condition, sources, &speech, cfg, &stft, &mut seconds, on)?;
        let mixtures: Vec<(&str, &Mixture)> = sources
            .noises
            .iter()
            .zip(&tests)
            .filter(|(n, _)| *pooled || n.name == condition.name)
            .flat_map(|(n, ms)| ms.iter().map(move |m| (n.name.as_str(), m)))
            .collect();
        let mixtures_scored = evaluate(
            &mixtures,
            &sources.speech_test,
            &models,
            cfg,
            &stft,
            &mut seconds,
            on,
        )?;
        let result = ConditionResult {
            condition: condition.name.clone(),
            training_frames,
            seconds,
            training,
            mixtures: mixtures_scored,
        };
        if *pooled {
            table2.push(result);
        } else {
            table1.push(result);
        }
    }
    Ok(TableRun {
        table1,
        table2,
        speech: speech_report,
        seconds: started.elapsed().as_secs_f64(),
        assignment: cfg.assignment,
    })
}
