//! What the tables are run with: the methods, the settings of every method, the recordings
//! and the progress events a caller can display.

use serde::Serialize;
use vaenmf_core::speech::EnhancerMethod;
use vaenmf_core::FrontEnd;

use crate::choice::Choice;
use crate::nmf::NmfParams;
use crate::speech::front_end::mix::Named;
use crate::speech::methods::dnmf::DnmfParams;
use crate::speech::methods::network::NetParams;
use crate::speech::methods::separate::SeparationParams;
use crate::speech::metrics::bss_eval::Assignment;
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
    /// VAE-NMF with its activation network fine-tuned through the dictionaries and the gain.
    VaeNmfE2e,
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
        (
            "vae-nmf-e2e",
            "VAE-NMF, activation network fine-tuned through the dictionaries and the gain",
            TableMethod::VaeNmfE2e,
        ),
    ];
}

impl TableMethod {
    /// The method as an enhancer file names it.
    pub fn enhancer_method(self) -> EnhancerMethod {
        match self {
            TableMethod::Nmf => EnhancerMethod::Nmf,
            TableMethod::Dnmf => EnhancerMethod::Dnmf,
            TableMethod::Dnn => EnhancerMethod::Dnn,
            TableMethod::VaeNmf => EnhancerMethod::VaeNmf,
            TableMethod::NmfDictNet => EnhancerMethod::NmfDictNet,
            TableMethod::VaeDictMu => EnhancerMethod::VaeDictMu,
            TableMethod::VaeNmfE2e => EnhancerMethod::VaeNmfE2e,
        }
    }

    pub(super) fn needs_vae(self) -> bool {
        matches!(
            self,
            TableMethod::VaeNmf | TableMethod::VaeDictMu | TableMethod::VaeNmfE2e
        )
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
    /// Discriminative weight γ of the mask DNN (and of the fine-tuning of `vae-nmf-e2e`).
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
