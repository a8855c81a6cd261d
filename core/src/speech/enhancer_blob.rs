//! The speech enhancer file (feature `alloc`): blob format version 7
//! ([`ENHANCER_FORMAT_VERSION`]) — the model blob's preamble and CRC-32 around one postcard
//! [`EnhancerBlob`] followed by the gain floor (`f32`) and the quantised network
//! (`Option<QuantizedNetwork>`). Version 6 — without the quantised network — and version 5 —
//! without the floor either — are still read.
//!
//! It holds everything an enhancer needs and nothing of how it was trained: the method, the
//! front end, the dictionaries (column-major `[Wˢ Wⁿ]`, magnitude units; DNMF's reconstruction
//! bases beside its analysis bases), the activation fit's settings for the
//! multiplicative-update methods, the network (feature transform, context before and after,
//! layers, output scales) for the learned ones, the gain exponent and the gain floor. A
//! quantised enhancer (`vaenmf quantize`) carries int8 layers ([`QuantizedNetwork`]) in place
//! of the f32 ones: its network's `layers` are empty.
//!
//! Decoding checks the envelope as every blob (length, checksum, kind), then the payload's
//! structure, then every size and value ([`EnhancerBlob::validate`], also run before
//! encoding): a truncation, a flipped bit or a crafted payload is an error naming the field,
//! never a panic.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::gain_floor::GainFloor;
use super::network::{FeatureView, LayerView, NetworkGain, NetworkLayers, OutputView};
use super::nmf_gain::ActivationLoss;
use super::quant_network::QuantLayerView;
use super::quantized_network::QuantizedNetwork;
use crate::blob::{open_envelope, seal, ENHANCER_FORMAT_VERSION, FORMAT_VERSION, PREAMBLE_LEN};
use crate::error::{len_u32, Field, ModelError};
use crate::front_end::FrontEnd;

/// Largest FFT an enhancer may use.
pub const MAX_FFT_SIZE: u32 = 16_384;
/// Most atoms in the speech or in the noise dictionary.
pub const MAX_ATOMS: u32 = 4096;
/// Most multiplicative updates of the activation fit.
pub const MAX_FIT_ITERATIONS: u32 = 1_000_000;
/// Most network layers.
pub const MAX_LAYERS: usize = 8;
/// Widest network layer output.
pub const MAX_LAYER_WIDTH: u32 = 8192;
/// Most context frames on either side.
pub const MAX_CONTEXT: u32 = 32;
/// Largest gain exponent.
pub const MAX_GAIN_EXPONENT: f32 = 64.0;

/// How an enhancer computes its gain. The order is the tables' order of the methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EnhancerMethod {
    /// Supervised NMF: activations by multiplicative updates, gain from the same dictionaries.
    Nmf,
    /// Discriminative NMF: analysis bases for the activations, reconstruction bases for the gain.
    Dnmf,
    /// Mask network (Huang et al. 2014).
    Dnn,
    /// VAE-NMF dictionaries and the activation network (the paper).
    VaeNmf,
    /// NMF dictionaries and an activation network (ablation).
    NmfDictNet,
    /// VAE-NMF dictionaries with multiplicative-update activations (ablation).
    VaeDictMu,
    /// VAE-NMF dictionaries and an activation network fine-tuned through them and the gain
    /// (the mask network's loss); run exactly as [`EnhancerMethod::VaeNmf`].
    VaeNmfE2e,
}

impl EnhancerMethod {
    /// The name the command line uses.
    pub const fn name(self) -> &'static str {
        match self {
            EnhancerMethod::Nmf => "nmf",
            EnhancerMethod::Dnmf => "dnmf",
            EnhancerMethod::Dnn => "dnn",
            EnhancerMethod::VaeNmf => "vae-nmf",
            EnhancerMethod::NmfDictNet => "nmf-dict-net",
            EnhancerMethod::VaeDictMu => "vae-nmf-dict-mu",
            EnhancerMethod::VaeNmfE2e => "vae-nmf-e2e",
        }
    }

    /// Whether the method runs a network.
    pub const fn has_network(self) -> bool {
        matches!(
            self,
            EnhancerMethod::Dnn
                | EnhancerMethod::VaeNmf
                | EnhancerMethod::NmfDictNet
                | EnhancerMethod::VaeNmfE2e
        )
    }

    /// Whether the method fits activations by multiplicative updates.
    pub const fn has_fit(self) -> bool {
        matches!(
            self,
            EnhancerMethod::Nmf | EnhancerMethod::Dnmf | EnhancerMethod::VaeDictMu
        )
    }

    /// Whether the method has speech and noise dictionaries.
    pub const fn has_dictionaries(self) -> bool {
        !matches!(self, EnhancerMethod::Dnn)
    }
}

/// Settings of the multiplicative-update activation fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActivationFit {
    /// Divergence.
    pub loss: ActivationLoss,
    /// Updates (offline: per utterance; 1 ..= [`MAX_FIT_ITERATIONS`]).
    pub iterations: u32,
    /// L1 weight on the activations, scikit-learn's convention (≥ 0).
    pub sparsity: f32,
}

/// One dense layer; weights input-major (`inputs × outputs`, burn's `Linear` layout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkLayer {
    /// Inputs.
    pub inputs: u32,
    /// Outputs (1 ..= [`MAX_LAYER_WIDTH`]).
    pub outputs: u32,
    /// `inputs × outputs` weights.
    pub weights: Vec<f32>,
    /// `outputs` biases.
    pub bias: Vec<f32>,
}

/// A network and its input features ([`super::network`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Context frames before the current one.
    pub context_before: u32,
    /// Context frames after it: the look-ahead, which adds `after · hop` to the latency.
    pub context_after: u32,
    /// Magnitude reference of the log compression (> 0).
    pub reference: f32,
    /// Per-dimension feature mean.
    pub mean: Vec<f32>,
    /// Per-dimension feature standard deviation (> 0).
    pub std: Vec<f32>,
    /// Layers, ReLU after each but the last.
    pub layers: Vec<NetworkLayer>,
    /// Scale of each output activation (empty for a mask network).
    pub output_scale: Vec<f32>,
}

/// A speech enhancer of any method and size: what `vaenmf speech train` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnhancerBlob {
    /// Method.
    pub method: EnhancerMethod,
    /// Front end (sample rate, FFT, hop, window, magnitude exponent).
    pub front_end: FrontEnd,
    /// Exponent `p` of the Wiener-type gain (the mask network ignores it).
    pub gain_exponent: f32,
    /// Speech atoms (0 for the mask network).
    pub speech_rank: u32,
    /// Noise atoms (0 for the mask network).
    pub noise_rank: u32,
    /// `[Wˢ Wⁿ]`, column-major `bins × (rˢ + rⁿ)`; for DNMF the analysis bases.
    pub analysis: Vec<f32>,
    /// DNMF's reconstruction bases, same layout (empty for the other methods).
    pub reconstruction: Vec<f32>,
    /// The activation fit (multiplicative-update methods only).
    pub fit: Option<ActivationFit>,
    /// The network (network methods only).
    pub network: Option<Network>,
    /// Smallest gain, linear in [0, 1] ([`GainFloor`]); written after the postcard struct
    /// (format 6), 0 when read from format 5.
    #[serde(skip)]
    pub gain_floor: f32,
    /// The network's int8 layers, in place of its f32 ones (written after the gain floor,
    /// format 7; `None` when read from format 5 or 6).
    #[serde(skip)]
    pub quantized: Option<QuantizedNetwork>,
}

/// The views of an enhancer's network layers, f32 or int8 ([`EnhancerBlob::layer_views`]).
#[derive(Debug, Clone, Default)]
pub struct LayerViews<'a> {
    float: Vec<LayerView<'a>>,
    int8: Vec<QuantLayerView<'a>>,
}

pub(super) fn out_of_range(field: Field, index: usize) -> ModelError {
    ModelError::OutOfRange {
        field,
        index: len_u32(index),
    }
}

pub(super) fn mismatch(field: Field, expected: u64, found: usize) -> ModelError {
    ModelError::DimensionMismatch {
        field,
        expected: u32::try_from(expected).unwrap_or(u32::MAX),
        found: len_u32(found),
    }
}

fn check_len(field: Field, values: &[f32], expected: u64) -> Result<(), ModelError> {
    if values.len() as u64 != expected {
        return Err(mismatch(field, expected, values.len()));
    }
    Ok(())
}

fn check_finite(field: Field, values: &[f32]) -> Result<(), ModelError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(ModelError::NonFinite {
            field,
            index: len_u32(i),
        }),
        None => Ok(()),
    }
}

fn check_positive(field: Field, values: &[f32]) -> Result<(), ModelError> {
    check_finite(field, values)?;
    match values.iter().position(|&v| v <= 0.0) {
        Some(i) => Err(out_of_range(field, i)),
        None => Ok(()),
    }
}

fn presence(field: Field, present: bool, needed: bool) -> Result<(), ModelError> {
    if present != needed {
        return Err(ModelError::PartPresence { field, present });
    }
    Ok(())
}

/// Column-major dictionary: `bins × atoms`, finite, nonnegative.
fn check_dictionary(field: Field, w: &[f32], bins: u32, atoms: u32) -> Result<(), ModelError> {
    check_len(field, w, u64::from(bins) * u64::from(atoms))?;
    check_finite(field, w)?;
    if let Some(i) = w.iter().position(|&v| v < 0.0) {
        return Err(ModelError::NegativeDictionary {
            channel: len_u32(i % bins as usize),
            synergy: len_u32(i / bins as usize),
        });
    }
    Ok(())
}

impl Network {
    /// Stacked input width for `bins` bins per frame.
    pub fn width(&self, bins: u32) -> u64 {
        u64::from(bins) * (u64::from(self.context_before) + 1 + u64::from(self.context_after))
    }

    fn validate(
        &self,
        bins: u32,
        (outputs, activations): (u64, bool),
        quantized: Option<&QuantizedNetwork>,
    ) -> Result<(), ModelError> {
        for (side, &c) in [self.context_before, self.context_after].iter().enumerate() {
            if c > MAX_CONTEXT {
                return Err(out_of_range(Field::Context, side));
            }
        }
        if !(self.reference.is_finite() && self.reference > 0.0) {
            return Err(out_of_range(Field::FeatureReference, 0));
        }
        let width = self.width(bins);
        check_len(Field::FeatureMean, &self.mean, width)?;
        check_finite(Field::FeatureMean, &self.mean)?;
        check_len(Field::FeatureStd, &self.std, width)?;
        check_positive(Field::FeatureStd, &self.std)?;
        if activations {
            check_len(Field::OutputScale, &self.output_scale, outputs)?;
            check_positive(Field::OutputScale, &self.output_scale)?;
        } else {
            check_len(Field::OutputScale, &self.output_scale, 0)?;
        }
        match quantized {
            Some(q) => {
                // The int8 layers replace the f32 ones.
                if !self.layers.is_empty() {
                    return Err(out_of_range(Field::Layers, self.layers.len()));
                }
                q.validate(width, outputs)
            }
            None => self.validate_layers(width, outputs),
        }
    }

    fn validate_layers(&self, width: u64, outputs: u64) -> Result<(), ModelError> {
        if !(1..=MAX_LAYERS).contains(&self.layers.len()) {
            return Err(out_of_range(Field::Layers, self.layers.len()));
        }
        let mut inputs = width;
        let mut weight_offset = 0usize;
        for (i, layer) in self.layers.iter().enumerate() {
            if u64::from(layer.inputs) != inputs || !(1..=MAX_LAYER_WIDTH).contains(&layer.outputs) {
                return Err(out_of_range(Field::Layers, i));
            }
            let count = u64::from(layer.inputs) * u64::from(layer.outputs);
            check_len(Field::LayerWeights, &layer.weights, count)?;
            if let Some(j) = layer.weights.iter().position(|v| !v.is_finite()) {
                return Err(ModelError::NonFinite {
                    field: Field::LayerWeights,
                    index: len_u32(weight_offset + j),
                });
            }
            weight_offset += layer.weights.len();
            check_len(Field::LayerBias, &layer.bias, u64::from(layer.outputs))?;
            check_finite(Field::LayerBias, &layer.bias)?;
            inputs = u64::from(layer.outputs);
        }
        if inputs != outputs {
            return Err(mismatch(Field::Layers, outputs, inputs as usize));
        }
        Ok(())
    }

    fn layer_views(&self) -> Vec<LayerView<'_>> {
        self.layers
            .iter()
            .map(|l| LayerView {
                inputs: l.inputs as usize,
                outputs: l.outputs as usize,
                weights: &l.weights,
                bias: &l.bias,
            })
            .collect()
    }

    /// Multiply-adds of the layers per frame.
    pub fn macs(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| u64::from(l.inputs) * u64::from(l.outputs))
            .sum()
    }
}

impl EnhancerBlob {
    /// Bins per frame of the front end.
    pub fn bins(&self) -> u32 {
        self.front_end.bins()
    }

    /// Atoms in all, `rˢ + rⁿ`.
    pub fn rank(&self) -> u32 {
        self.speech_rank.saturating_add(self.noise_rank)
    }

    /// Every size and value, and which parts the method needs.
    pub fn validate(&self) -> Result<(), ModelError> {
        let m = self.method;
        if self.front_end.fft_size > MAX_FFT_SIZE {
            return Err(out_of_range(Field::FftSize, 0));
        }
        let bins = self.bins();
        self.front_end.validate(bins)?;
        if !(self.gain_exponent.is_finite()
            && self.gain_exponent > 0.0
            && self.gain_exponent <= MAX_GAIN_EXPONENT)
        {
            return Err(out_of_range(Field::GainExponent, 0));
        }
        GainFloor::new_checked(self.gain_floor)?;
        let atoms = if m.has_dictionaries() {
            1..=MAX_ATOMS
        } else {
            0..=0
        };
        if !atoms.contains(&self.speech_rank) {
            return Err(out_of_range(Field::SpeechRank, 0));
        }
        if !atoms.contains(&self.noise_rank) {
            return Err(out_of_range(Field::NoiseRank, 0));
        }
        check_dictionary(Field::Dictionary, &self.analysis, bins, self.rank())?;
        if m == EnhancerMethod::Dnmf {
            check_dictionary(
                Field::ReconstructionDictionary,
                &self.reconstruction,
                bins,
                self.rank(),
            )?;
        } else {
            check_len(Field::ReconstructionDictionary, &self.reconstruction, 0)?;
        }
        presence(Field::Iterations, self.fit.is_some(), m.has_fit())?;
        if let Some(fit) = &self.fit {
            if !(1..=MAX_FIT_ITERATIONS).contains(&fit.iterations) {
                return Err(out_of_range(Field::Iterations, 0));
            }
            if !(fit.sparsity.is_finite() && fit.sparsity >= 0.0) {
                return Err(out_of_range(Field::Sparsity, 0));
            }
        }
        presence(Field::Network, self.network.is_some(), m.has_network())?;
        if self.network.is_none() {
            presence(Field::QuantizedLayers, self.quantized.is_some(), false)?;
        }
        if let Some(net) = &self.network {
            let outputs = match m {
                EnhancerMethod::Dnn => (2 * u64::from(bins), false),
                _ => (u64::from(self.rank()), true),
            };
            net.validate(bins, outputs, self.quantized.as_ref())?;
        }
        Ok(())
    }

    /// Validates and encodes (format version 7).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        self.validate()?;
        let out =
            postcard::to_extend(self, alloc::vec![0u8; PREAMBLE_LEN]).map_err(|_| ModelError::Malformed)?;
        let out = postcard::to_extend(&self.gain_floor, out).map_err(|_| ModelError::Malformed)?;
        let out = postcard::to_extend(&self.quantized, out).map_err(|_| ModelError::Malformed)?;
        seal(ENHANCER_FORMAT_VERSION, out)
    }

    /// Decodes and validates an enhancer blob (format 7; 6 without a quantised network, 5
    /// without a gain floor either). A model blob (format 1–4) is [`ModelError::BlobKind`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let (version, payload) = open_envelope(bytes)?;
        if version <= FORMAT_VERSION {
            return Err(ModelError::BlobKind { enhancer: false });
        }
        let (mut blob, mut rest) =
            postcard::take_from_bytes::<Self>(payload).map_err(|_| ModelError::Malformed)?;
        if version >= 6 {
            (blob.gain_floor, rest) =
                postcard::take_from_bytes::<f32>(rest).map_err(|_| ModelError::Malformed)?;
        }
        if version >= 7 {
            (blob.quantized, rest) = postcard::take_from_bytes::<Option<QuantizedNetwork>>(rest)
                .map_err(|_| ModelError::Malformed)?;
        }
        if !rest.is_empty() {
            return Err(ModelError::Malformed);
        }
        blob.validate()?;
        Ok(blob)
    }

    /// The checked gain floor (validated blobs always have one).
    pub fn floor(&self) -> Result<GainFloor, ModelError> {
        GainFloor::new_checked(self.gain_floor)
    }

    /// Multiply-adds per frame of the streaming enhancer: the network's layers and the
    /// dictionary reconstruction, or for the multiplicative-update methods `Wᵀv`, the
    /// reconstruction, and per update `r²` (Frobenius, through the Gram matrix) or
    /// `2·bins·r` (KL), at `updates_per_frame` updates.
    pub fn macs_per_frame(&self, updates_per_frame: u32) -> u64 {
        let (bins, r) = (u64::from(self.bins()), u64::from(self.rank()));
        let reconstruction = bins * r;
        match (&self.network, &self.fit) {
            (Some(net), _) => {
                self.quantized.as_ref().map_or(net.macs(), QuantizedNetwork::macs) + reconstruction
            }
            (None, Some(fit)) => {
                let per_update = match fit.loss {
                    ActivationLoss::Frobenius => r * r,
                    ActivationLoss::KullbackLeibler => 2 * bins * r,
                };
                bins * r + reconstruction + u64::from(updates_per_frame) * per_update
            }
            (None, None) => 0,
        }
    }

    /// `(inputs, outputs)` of each network layer, f32 or int8 (empty without a network).
    pub fn layer_sizes(&self) -> Vec<(u32, u32)> {
        match (&self.quantized, &self.network) {
            (Some(q), _) => q.layers.iter().map(|l| (l.inputs, l.outputs)).collect(),
            (None, Some(n)) => n.layers.iter().map(|l| (l.inputs, l.outputs)).collect(),
            (None, None) => Vec::new(),
        }
    }

    /// Algorithmic latency in seconds: one window plus the network's look-ahead.
    pub fn latency_seconds(&self) -> f64 {
        let after = self.network.as_ref().map_or(0, |n| n.context_after);
        let samples = f64::from(self.front_end.fft_size) + f64::from(after) * f64::from(self.front_end.hop);
        samples / f64::from(self.front_end.sample_rate)
    }

    /// The network's layers as the views [`Self::network_gain`] takes (none without a
    /// network).
    pub fn layer_views(&self) -> LayerViews<'_> {
        LayerViews {
            float: self
                .network
                .as_ref()
                .map(Network::layer_views)
                .unwrap_or_default(),
            int8: self
                .quantized
                .as_ref()
                .map(QuantizedNetwork::layer_views)
                .unwrap_or_default(),
        }
    }

    /// The network's frame-to-gain map, borrowing this blob and its `layers`
    /// ([`Self::layer_views`]): the int8 layers of a quantised enhancer, else the f32 ones.
    /// `None` for the multiplicative-update methods.
    pub fn network_gain<'a>(&'a self, layers: &'a LayerViews<'a>) -> Option<NetworkGain<'a>> {
        let net = self.network.as_ref()?;
        let output = match self.method {
            EnhancerMethod::Dnn => OutputView::Mask,
            _ => OutputView::Activations {
                scale: &net.output_scale,
                dictionary: &self.analysis,
                speech_rank: self.speech_rank as usize,
                gain_exponent: self.gain_exponent,
            },
        };
        let layers = match &self.quantized {
            Some(q) => NetworkLayers::Int8(q.view(&layers.int8)),
            None => NetworkLayers::Float(&layers.float),
        };
        Some(NetworkGain {
            features: FeatureView {
                bins: self.bins() as usize,
                before: net.context_before as usize,
                after: net.context_after as usize,
                reference: net.reference,
                mean: &net.mean,
                std: &net.std,
            },
            layers,
            output,
        })
    }
}

/// Sizes of [`EnhancerBlob::random`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomEnhancerSizes<'a> {
    /// Speech and noise atoms (ignored by the mask network).
    pub ranks: (u32, u32),
    /// Hidden layer widths of the network methods.
    pub hidden: &'a [u32],
    /// Context frames before and after.
    pub context: (u32, u32),
}

impl EnhancerBlob {
    /// A valid enhancer of `method` with random values, deterministic per seed: for tests,
    /// benchmarks and fuzz seeds. Dictionaries in [0, 1), weights in ±1/√inputs, biases in
    /// ±0.1, unit feature statistics, reference 1, scales 1, 20 Frobenius updates, gain
    /// exponent 2, no gain floor.
    pub fn random(
        method: EnhancerMethod,
        front_end: FrontEnd,
        sizes: RandomEnhancerSizes,
        seed: u64,
    ) -> Self {
        let mut rng = crate::gamma::Prng::new(seed);
        let mut uniform = |n: usize, lo: f32, hi: f32| -> Vec<f32> {
            (0..n).map(|_| lo + (hi - lo) * rng.uniform() as f32).collect()
        };
        let bins = front_end.bins();
        let (speech_rank, noise_rank) = if method.has_dictionaries() {
            sizes.ranks
        } else {
            (0, 0)
        };
        let atoms = (bins * (speech_rank + noise_rank)) as usize;
        let analysis = uniform(atoms, 0.0, 1.0);
        let reconstruction = if method == EnhancerMethod::Dnmf {
            uniform(atoms, 0.0, 1.0)
        } else {
            Vec::new()
        };
        let network = method.has_network().then(|| {
            let (before, after) = sizes.context;
            let width = bins * (before + 1 + after);
            let outputs = if method == EnhancerMethod::Dnn {
                2 * bins
            } else {
                speech_rank + noise_rank
            };
            let mut inputs = width;
            let layers = sizes
                .hidden
                .iter()
                .chain(core::iter::once(&outputs))
                .map(|&o| {
                    let a = 1.0 / libm::sqrtf(inputs as f32);
                    let layer = NetworkLayer {
                        inputs,
                        outputs: o,
                        weights: uniform((inputs * o) as usize, -a, a),
                        bias: uniform(o as usize, -0.1, 0.1),
                    };
                    inputs = o;
                    layer
                })
                .collect();
            Network {
                context_before: before,
                context_after: after,
                reference: 1.0,
                mean: alloc::vec![0.0; width as usize],
                std: alloc::vec![1.0; width as usize],
                layers,
                output_scale: if method == EnhancerMethod::Dnn {
                    Vec::new()
                } else {
                    alloc::vec![1.0; outputs as usize]
                },
            }
        });
        Self {
            method,
            front_end,
            gain_exponent: 2.0,
            speech_rank,
            noise_rank,
            analysis,
            reconstruction,
            fit: method.has_fit().then_some(ActivationFit {
                loss: ActivationLoss::Frobenius,
                iterations: 20,
                sparsity: 0.0,
            }),
            network,
            gain_floor: 0.0,
            quantized: None,
        }
    }
}
