//! What the tables are run with: the methods, the settings of every method, the recordings
//! and the progress events a caller can display.

use vaenmf_core::speech::{EnhancerMethod, GainFloor};
use vaenmf_core::FrontEnd;

use crate::choice::Choice;
use crate::nmf::NmfParams;
use crate::speech::front_end::mix::Named;
use crate::speech::methods::dnmf::DnmfParams;
use crate::speech::methods::network::NetParams;
use crate::speech::methods::separate::SeparationParams;
use crate::speech::metrics::bss_eval::Assignment;
use crate::vae::training::{Backend, VaeParams};

/// The methods of the tables and of `speech train`: the core's [`EnhancerMethod`], each
/// trained here and saved as its enhancer file.
impl Choice for EnhancerMethod {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        ("nmf", "supervised NMF", EnhancerMethod::Nmf),
        (
            "dnmf",
            "discriminative NMF (Weninger et al. 2014)",
            EnhancerMethod::Dnmf,
        ),
        ("dnn", "mask DNN (Huang et al. 2014)", EnhancerMethod::Dnn),
        (
            "vae-nmf",
            "VAE-NMF dictionaries + activation network (the paper)",
            EnhancerMethod::VaeNmf,
        ),
        (
            "nmf-dict-net",
            "ablation: NMF dictionaries + activation network",
            EnhancerMethod::NmfDictNet,
        ),
        (
            "vae-nmf-dict-mu",
            "ablation: VAE-NMF dictionaries + multiplicative updates",
            EnhancerMethod::VaeDictMu,
        ),
        (
            "vae-nmf-e2e",
            "VAE-NMF, activation network fine-tuned through the dictionaries and the gain",
            EnhancerMethod::VaeNmfE2e,
        ),
    ];
}

/// Whether `method` needs the VAE-NMF dictionaries.
pub(super) fn needs_vae(method: EnhancerMethod) -> bool {
    matches!(
        method,
        EnhancerMethod::VaeNmf | EnhancerMethod::VaeDictMu | EnhancerMethod::VaeNmfE2e
    )
}

/// Everything the tables are trained and evaluated with.
pub struct TableConfig {
    /// Methods to run.
    pub methods: Vec<EnhancerMethod>,
    /// SNRs of the training and the test mixtures, dB.
    pub snrs: Vec<f64>,
    /// Front end of every method.
    pub front_end: FrontEnd,
    /// Dictionary learning (speech and noise, NMF; its rank is every method's rank).
    pub dictionary: NmfParams,
    /// Activations by multiplicative updates and the gain.
    pub separation: SeparationParams,
    /// Smallest gain of every enhancer (stored in its file).
    pub gain_floor: GainFloor,
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
