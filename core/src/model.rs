//! The model type: dimensions are const generics, weights are borrowed fixed-size arrays.
//!
//! Because every array's length is part of its type, no accessor or kernel can index out of
//! bounds: once a [`Model`] exists, inference cannot panic. [`Model::new_checked`] also scans
//! every value (finite, nonnegative dictionary, positive scales) with the same routine the
//! blob decoder uses, so a checked model never produces NaN from its own weights.
//! [`Model::new_unchecked`] skips that scan for weights already validated elsewhere (e.g. at
//! firmware build time); it is still panic-free, only its numbers are then the caller's
//! responsibility.

use crate::error::{len_u32, Field, ModelError};
use crate::quant::{QuantView, QuantizedEncoder};

/// Outputs whose weights a dense layer stores together: one *panel*.
///
/// A panel holds, input by input, the weights of `PANEL` consecutive outputs, so the kernel
/// reads a layer front to back in one stream and keeps a panel's accumulators in registers
/// (8 S-registers on a Cortex-M4F, one AVX vector on a host). The last panel of a layer whose
/// width is not a multiple of `PANEL` is narrower.
pub const PANEL: usize = 8;

/// Storage position of the weight from input `i` to output `o` in a dense layer with
/// `inputs × outputs` weights in panel order (see [`DenseLayer`]).
///
/// Outputs `s..s + w` form the panel starting at `s = o − o mod PANEL`, `w = min(PANEL,
/// outputs − s)`; it occupies positions `s·inputs ..` and stores input `i`'s `w` weights at
/// `s·inputs + i·w`.
pub const fn panel_position(inputs: usize, outputs: usize, i: usize, o: usize) -> usize {
    let start = o - o % PANEL;
    let rest = outputs.saturating_sub(start);
    let width = if rest < PANEL { rest } else { PANEL };
    // Saturating: out-of-range arguments give an out-of-range position, never an overflow.
    start
        .saturating_mul(inputs)
        .saturating_add(i.saturating_mul(width))
        .saturating_add(o - start)
}

/// Rearranges input-major weights (`input_major[i · outputs + o]`, burn's `Linear` layout and
/// the blob's) into `panel_ordered`. Positions outside either slice are skipped, so mismatched
/// lengths leave values unwritten rather than panic; callers check lengths first.
pub fn to_panel_order(inputs: usize, outputs: usize, input_major: &[f32], panel_ordered: &mut [f32]) {
    if outputs == 0 {
        return;
    }
    for (k, &w) in input_major.iter().enumerate() {
        if let Some(dst) = panel_ordered.get_mut(panel_position(inputs, outputs, k / outputs, k % outputs)) {
            *dst = w;
        }
    }
}

/// A dense layer `y = b + Wᵀ x`.
///
/// `weights` is a buffer of `IN × OUT` values in **panel order** (see [`PANEL`] and
/// [`panel_position`]), not `weights[i][o]`: the array type only fixes the length. Blobs
/// store weights input-major (burn's `Linear` layout); [`ModelStorage`](crate::ModelStorage)
/// rearranges them while decoding, and a `build.rs` emitting `static`s uses
/// [`to_panel_order`]. [`DenseLayer::weight`] reads one weight by input and output.
#[derive(Debug, Clone, Copy)]
pub struct DenseLayer<'a, const IN: usize, const OUT: usize> {
    /// `IN × OUT` weights in panel order.
    pub weights: &'a [[f32; OUT]; IN],
    /// One bias per output.
    pub bias: &'a [f32; OUT],
}

impl<const IN: usize, const OUT: usize> DenseLayer<'_, IN, OUT> {
    /// The weight from input `i` to output `o`; `None` out of range.
    pub fn weight(&self, i: usize, o: usize) -> Option<f32> {
        if i >= IN || o >= OUT {
            return None;
        }
        self.weights
            .as_flattened()
            .get(panel_position(IN, OUT, i, o))
            .copied()
    }
}

/// Encoder weights: `m → h1 → h2` (ReLU) and two heads `h2 → r` for the Gamma shape and rate.
#[derive(Debug, Clone, Copy)]
pub struct EncoderWeights<'a, const M: usize, const H1: usize, const H2: usize, const R: usize> {
    /// First hidden layer.
    pub layer1: DenseLayer<'a, M, H1>,
    /// Second hidden layer.
    pub layer2: DenseLayer<'a, H1, H2>,
    /// Head whose softplus plus the floor is the Gamma shape α.
    pub alpha_head: DenseLayer<'a, H2, R>,
    /// Head whose softplus plus the floor is the Gamma rate β.
    pub beta_head: DenseLayer<'a, H2, R>,
}

/// The arrays and scalars that make a model, before validation.
#[derive(Debug, Clone, Copy)]
pub struct ModelParts<'a, const M: usize, const H1: usize, const H2: usize, const R: usize> {
    /// Subtracted from each raw input channel first.
    pub input_offset: &'a [f32; M],
    /// Multiplied into each channel after the offset (must be > 0).
    pub input_scale: &'a [f32; M],
    /// Shape α₀ of the Gamma(α₀, 1) prior.
    pub alpha0: f32,
    /// Floor added to both heads' softplus so α, β > 0.
    pub floor: f32,
    /// The f32 encoder; `None` for an NMF-only model (then `H1 = H2 = 0`) or a quantised one.
    pub encoder: Option<EncoderWeights<'a, M, H1, H2, R>>,
    /// The quantised encoder, in place of `encoder` (at most one of the two is present).
    pub quantized: Option<QuantizedEncoder<'a, M, H1, H2, R>>,
    /// Dictionary `W`, one row of `R` synergy weights per channel.
    pub dictionary: &'a [[f32; R]; M],
}

/// A validated model. `Copy`: it only borrows its weights.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a, const M: usize, const H1: usize, const H2: usize, const R: usize> {
    parts: ModelParts<'a, M, H1, H2, R>,
}

/// Model dimensions as stored in a blob header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dims {
    /// EMG channels `m`.
    pub channels: u32,
    /// First hidden layer width (0 for NMF-only models).
    pub hidden1: u32,
    /// Second hidden layer width (0 for NMF-only models).
    pub hidden2: u32,
    /// Synergies `r`.
    pub rank: u32,
}

/// The encoder arrays in blob order.
pub(crate) const ENCODER_FIELDS: [Field; 8] = [
    Field::Layer1Weights,
    Field::Layer1Bias,
    Field::Layer2Weights,
    Field::Layer2Bias,
    Field::AlphaHeadWeights,
    Field::AlphaHeadBias,
    Field::BetaHeadWeights,
    Field::BetaHeadBias,
];

impl Dims {
    /// `(channels, hidden1, hidden2, rank)` as `usize`, for sizing buffers.
    pub const fn sizes(&self) -> (usize, usize, usize, usize) {
        (
            self.channels as usize,
            self.hidden1 as usize,
            self.hidden2 as usize,
            self.rank as usize,
        )
    }

    /// Whether these dimensions describe a model with an encoder.
    pub const fn has_encoder(&self) -> bool {
        self.hidden1 > 0 && self.hidden2 > 0
    }

    /// Number of values the array `field` holds for these dimensions (0 for scalars, the
    /// channel names and the front end).
    pub fn len_of(&self, field: Field) -> u64 {
        let (m, h1, h2, r) = (
            u64::from(self.channels),
            u64::from(self.hidden1),
            u64::from(self.hidden2),
            u64::from(self.rank),
        );
        match field {
            Field::InputOffset | Field::InputScale => m,
            Field::Layer1Weights => h1 * m,
            Field::Layer1Bias | Field::Layer1Multiplier => h1,
            Field::Layer2Weights => h2 * h1,
            Field::Layer2Bias | Field::Layer2Multiplier => h2,
            Field::AlphaHeadWeights | Field::BetaHeadWeights => r * h2,
            Field::AlphaHeadBias | Field::BetaHeadBias | Field::AlphaHeadScale | Field::BetaHeadScale => r,
            Field::Dictionary => m * r,
            Field::Channels
            | Field::Hidden1
            | Field::Hidden2
            | Field::Rank
            | Field::Alpha0
            | Field::Floor
            | Field::ChannelNames
            | Field::SampleRate
            | Field::FftSize
            | Field::Hop
            | Field::MagnitudeExponent
            | Field::InputStep
            | Field::Hidden1Step
            | Field::Hidden2Step
            | Field::Encoding
            | Field::SpeechRank
            | Field::UpdatesPerFrame
            | Field::Sparsity
            | Field::GainExponent => 0,
            // Speech enhancer fields: not part of a model.
            _ => 0,
        }
    }

    /// Multiply-accumulates of one encoder forward pass (0 without an encoder).
    pub fn encoder_macs(&self) -> u64 {
        if !self.has_encoder() {
            return 0;
        }
        [
            Field::Layer1Weights,
            Field::Layer2Weights,
            Field::AlphaHeadWeights,
            Field::BetaHeadWeights,
        ]
        .iter()
        .map(|&f| self.len_of(f))
        .sum()
    }

    /// Checks that these are the dimensions `expected` (field by field).
    pub fn expect(&self, expected: &Dims) -> Result<(), ModelError> {
        let pairs = [
            (Field::Channels, expected.channels, self.channels),
            (Field::Hidden1, expected.hidden1, self.hidden1),
            (Field::Hidden2, expected.hidden2, self.hidden2),
            (Field::Rank, expected.rank, self.rank),
        ];
        for (field, expected, found) in pairs {
            if expected != found {
                return Err(ModelError::DimensionMismatch {
                    field,
                    expected,
                    found,
                });
            }
        }
        Ok(())
    }
}

/// Flat view of a model's arrays: what the one validation routine reads, whichever way the
/// arrays are stored (borrowed fixed-size arrays or owned vectors).
pub(crate) struct ModelView<'a> {
    pub dims: Dims,
    pub alpha0: f32,
    pub floor: f32,
    pub input_offset: &'a [f32],
    pub input_scale: &'a [f32],
    /// In [`ENCODER_FIELDS`] order.
    pub encoder: Option<[&'a [f32]; 8]>,
    pub quantized: Option<QuantView<'a>>,
    pub dictionary: &'a [f32],
}

impl ModelView<'_> {
    /// The one validation routine: lengths against `dims`, then every value.
    pub fn validate(&self) -> Result<(), ModelError> {
        let dims = &self.dims;
        if dims.channels == 0 {
            return Err(out_of_range(Field::Channels, 0));
        }
        if dims.rank == 0 {
            return Err(out_of_range(Field::Rank, 0));
        }
        let present = self.encoder.is_some() || self.quantized.is_some();
        let both = self.encoder.is_some() && self.quantized.is_some();
        if (dims.hidden1 == 0) != (dims.hidden2 == 0) || dims.has_encoder() != present || both {
            return Err(ModelError::EncoderPresence { present });
        }
        if !(self.alpha0.is_finite() && self.alpha0 > 0.0) {
            return Err(out_of_range(Field::Alpha0, 0));
        }
        if !(self.floor.is_finite() && self.floor > 0.0) {
            return Err(out_of_range(Field::Floor, 0));
        }

        check_len(dims, Field::InputOffset, self.input_offset)?;
        check_finite(Field::InputOffset, self.input_offset)?;
        check_len(dims, Field::InputScale, self.input_scale)?;
        check_finite(Field::InputScale, self.input_scale)?;
        if let Some(i) = self.input_scale.iter().position(|&s| s <= 0.0) {
            return Err(out_of_range(Field::InputScale, i));
        }
        if let Some(arrays) = &self.encoder {
            for (field, values) in ENCODER_FIELDS.iter().zip(arrays) {
                check_len(dims, *field, values)?;
                check_finite(*field, values)?;
            }
        }
        if let Some(quantized) = &self.quantized {
            quantized.validate(dims)?;
        }
        check_len(dims, Field::Dictionary, self.dictionary)?;
        check_finite(Field::Dictionary, self.dictionary)?;
        if let Some(i) = self.dictionary.iter().position(|&w| w < 0.0) {
            let r = dims.rank as usize;
            return Err(ModelError::NegativeDictionary {
                channel: len_u32(i / r),
                synergy: len_u32(i % r),
            });
        }
        Ok(())
    }
}

fn out_of_range(field: Field, index: usize) -> ModelError {
    ModelError::OutOfRange {
        field,
        index: len_u32(index),
    }
}

fn check_len(dims: &Dims, field: Field, values: &[f32]) -> Result<(), ModelError> {
    let expected = dims.len_of(field);
    if values.len() as u64 != expected {
        return Err(ModelError::DimensionMismatch {
            field,
            expected: u32::try_from(expected).unwrap_or(u32::MAX),
            found: len_u32(values.len()),
        });
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

impl<'a, const M: usize, const H1: usize, const H2: usize, const R: usize> ModelParts<'a, M, H1, H2, R> {
    /// The dimensions these const generics stand for.
    pub const fn dims() -> Dims {
        Dims {
            channels: M as u32,
            hidden1: H1 as u32,
            hidden2: H2 as u32,
            rank: R as u32,
        }
    }

    pub(crate) fn view(&self) -> ModelView<'a> {
        ModelView {
            dims: Self::dims(),
            alpha0: self.alpha0,
            floor: self.floor,
            input_offset: self.input_offset,
            input_scale: self.input_scale,
            encoder: self.encoder.map(|e| {
                [
                    e.layer1.weights.as_flattened(),
                    e.layer1.bias,
                    e.layer2.weights.as_flattened(),
                    e.layer2.bias,
                    e.alpha_head.weights.as_flattened(),
                    e.alpha_head.bias,
                    e.beta_head.weights.as_flattened(),
                    e.beta_head.bias,
                ]
            }),
            quantized: self.quantized.as_ref().map(QuantizedEncoder::view),
            dictionary: self.dictionary.as_flattened(),
        }
    }
}

impl<'a, const M: usize, const H1: usize, const H2: usize, const R: usize> Model<'a, M, H1, H2, R> {
    /// Validates every value and wraps the parts.
    ///
    /// Rejects: `M == 0` or `R == 0`; an encoder present with zero hidden widths or absent
    /// with nonzero ones; α₀, floor or any input scale ≤ 0; any non-finite value; any
    /// negative dictionary entry.
    pub fn new_checked(parts: ModelParts<'a, M, H1, H2, R>) -> Result<Self, ModelError> {
        parts.view().validate()?;
        Ok(Self { parts })
    }

    /// Wraps the parts without scanning values. Inference stays panic-free (lengths are in
    /// the types); only the numbers are then the caller's responsibility. Meant for weights
    /// validated at build time, e.g. firmware `static`s emitted by a `build.rs`.
    pub const fn new_unchecked(parts: ModelParts<'a, M, H1, H2, R>) -> Self {
        Self { parts }
    }

    /// The model's arrays.
    pub const fn parts(&self) -> &ModelParts<'a, M, H1, H2, R> {
        &self.parts
    }

    /// Dimensions (`M`, `H1`, `H2`, `R`).
    pub const fn dims(&self) -> Dims {
        ModelParts::<M, H1, H2, R>::dims()
    }

    /// The f32 encoder, if this is a VAE-NMF model with one.
    pub const fn encoder(&self) -> Option<&EncoderWeights<'a, M, H1, H2, R>> {
        self.parts.encoder.as_ref()
    }

    /// The quantised encoder, if this is a VAE-NMF model with one.
    pub const fn quantized(&self) -> Option<&QuantizedEncoder<'a, M, H1, H2, R>> {
        self.parts.quantized.as_ref()
    }

    /// Dictionary `W`, one row per channel.
    pub const fn dictionary(&self) -> &'a [[f32; R]; M] {
        self.parts.dictionary
    }

    /// Prior shape α₀.
    pub const fn alpha0(&self) -> f32 {
        self.parts.alpha0
    }

    /// Applies the input scaling: `(raw − offset) · scale`, channel by channel.
    pub fn scale_input(&self, raw: &[f32; M]) -> [f32; M] {
        let mut out = [0.0; M];
        for (((o, &x), &off), &s) in out
            .iter_mut()
            .zip(raw)
            .zip(self.parts.input_offset)
            .zip(self.parts.input_scale)
        {
            *o = (x - off) * s;
        }
        out
    }
}
