//! Error types. Every one is a small `Copy` enum that names what was wrong and where, so a
//! device can report it without formatting machinery and a host can print it in full.

use core::fmt;

/// Names one array (or scalar) of the model, for errors that point at a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Number of EMG channels `m`.
    Channels,
    /// Width of the first hidden layer.
    Hidden1,
    /// Width of the second hidden layer.
    Hidden2,
    /// Number of synergies `r`.
    Rank,
    /// Per-channel offset subtracted from each input frame.
    InputOffset,
    /// Per-channel scale multiplied into each input frame after the offset.
    InputScale,
    /// Prior shape α₀.
    Alpha0,
    /// Floor added to the softplus of both heads.
    Floor,
    /// First dense layer weights (`m × h1`, input-major).
    Layer1Weights,
    /// First dense layer bias (`h1`).
    Layer1Bias,
    /// Second dense layer weights (`h1 × h2`, input-major).
    Layer2Weights,
    /// Second dense layer bias (`h2`).
    Layer2Bias,
    /// Shape head weights (`h2 × r`, input-major).
    AlphaHeadWeights,
    /// Shape head bias (`r`).
    AlphaHeadBias,
    /// Rate head weights (`h2 × r`, input-major).
    BetaHeadWeights,
    /// Rate head bias (`r`).
    BetaHeadBias,
    /// Dictionary `W` (`m × r`, row-major: one row per channel).
    Dictionary,
    /// Channel names (format version 2: none, or one per channel).
    ChannelNames,
    /// Front end (format version 3): sample rate, Hz.
    SampleRate,
    /// Front end: FFT size (the model's channels are `fft_size / 2 + 1`).
    FftSize,
    /// Front end: hop between frames.
    Hop,
    /// Front end: exponent of the magnitude spectrum.
    MagnitudeExponent,
    /// Quantised encoder (format 4): step of the int16 input to an int8 first layer.
    InputStep,
    /// Quantised encoder: step of the int16 activations an f32 first layer produces.
    Hidden1Step,
    /// Quantised encoder: step of the int16 activations f32 heads read.
    Hidden2Step,
    /// Quantised encoder: first layer's requantisation multipliers (`h1`).
    Layer1Multiplier,
    /// Quantised encoder: second layer's requantisation multipliers (`h2`).
    Layer2Multiplier,
    /// Quantised encoder: shape head's dequantisation factors (`r`).
    AlphaHeadScale,
    /// Quantised encoder: rate head's dequantisation factors (`r`).
    BetaHeadScale,
    /// Format 4: the encoder's encoding tag (0 f32, 1 quantised).
    Encoding,
    /// Atoms of the speech dictionary in a speech enhancer.
    SpeechRank,
    /// Multiplicative updates per frame of a streaming NMF enhancer.
    UpdatesPerFrame,
    /// L1 weight on the activations.
    Sparsity,
    /// Exponent of the Wiener-type gain.
    GainExponent,
    /// Enhancement method of a speech enhancer.
    Method,
    /// Noise atoms of a speech enhancer.
    NoiseRank,
    /// DNMF's reconstruction bases.
    ReconstructionDictionary,
    /// Multiplicative updates of an enhancer's activation fit.
    Iterations,
    /// Whether an enhancer carries a network (required by network methods, refused by the others).
    Network,
    /// The network's layer count, or one layer's sizes (the index names the layer).
    Layers,
    /// A network layer's weights (the index is the value's position in the network's weights).
    LayerWeights,
    /// A network layer's bias.
    LayerBias,
    /// Context frames before or after the current one.
    Context,
    /// Magnitude reference of the network's log compression.
    FeatureReference,
    /// Per-dimension mean of the network's features.
    FeatureMean,
    /// Per-dimension standard deviation of the network's features.
    FeatureStd,
    /// Scale of each activation the network outputs.
    OutputScale,
    /// A caller-provided buffer (too short).
    Buffer,
    /// Smallest gain of a speech enhancer.
    GainFloor,
    /// A quantised network's layer count, or one layer's sizes (the index names the layer).
    QuantizedLayers,
    /// A quantised network layer's int8 weights.
    QuantizedWeights,
    /// A quantised network layer's int32 bias (the index is the output).
    QuantizedBias,
    /// A quantised hidden layer's requantisation multipliers.
    QuantizedMultiplier,
    /// A quantised last layer's dequantisation factors.
    QuantizedScale,
    /// Largest magnitude of a quantised network's int16 input.
    InputMax,
}

impl Field {
    /// The field's name as it appears in the documentation and in `vaenmf inspect`.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Channels => "channels",
            Field::Hidden1 => "hidden1",
            Field::Hidden2 => "hidden2",
            Field::Rank => "rank",
            Field::InputOffset => "input_offset",
            Field::InputScale => "input_scale",
            Field::Alpha0 => "alpha0",
            Field::Floor => "floor",
            Field::Layer1Weights => "layer1.weights",
            Field::Layer1Bias => "layer1.bias",
            Field::Layer2Weights => "layer2.weights",
            Field::Layer2Bias => "layer2.bias",
            Field::AlphaHeadWeights => "alpha_head.weights",
            Field::AlphaHeadBias => "alpha_head.bias",
            Field::BetaHeadWeights => "beta_head.weights",
            Field::BetaHeadBias => "beta_head.bias",
            Field::Dictionary => "dictionary",
            Field::ChannelNames => "channel_names",
            Field::SampleRate => "front_end.sample_rate",
            Field::FftSize => "front_end.fft_size",
            Field::Hop => "front_end.hop",
            Field::MagnitudeExponent => "front_end.magnitude_exponent",
            Field::InputStep => "quantized.input_step",
            Field::Hidden1Step => "quantized.hidden1_step",
            Field::Hidden2Step => "quantized.hidden2_step",
            Field::Layer1Multiplier => "layer1.multiplier",
            Field::Layer2Multiplier => "layer2.multiplier",
            Field::AlphaHeadScale => "alpha_head.output_scale",
            Field::BetaHeadScale => "beta_head.output_scale",
            Field::Encoding => "encoding",
            Field::SpeechRank => "speech_rank",
            Field::UpdatesPerFrame => "updates_per_frame",
            Field::Sparsity => "sparsity",
            Field::GainExponent => "gain_exponent",
            Field::Method => "method",
            Field::NoiseRank => "noise_rank",
            Field::ReconstructionDictionary => "reconstruction",
            Field::Iterations => "fit.iterations",
            Field::Network => "network",
            Field::Layers => "network.layers",
            Field::LayerWeights => "network.layers.weights",
            Field::LayerBias => "network.layers.bias",
            Field::Context => "network.context",
            Field::FeatureReference => "network.reference",
            Field::FeatureMean => "network.mean",
            Field::FeatureStd => "network.std",
            Field::OutputScale => "network.output_scale",
            Field::Buffer => "buffer",
            Field::GainFloor => "gain_floor",
            Field::QuantizedLayers => "quantized.layers",
            Field::QuantizedWeights => "quantized.layers.weights",
            Field::QuantizedBias => "quantized.layers.bias",
            Field::QuantizedMultiplier => "quantized.layers.multiplier",
            Field::QuantizedScale => "quantized.layers.output_scale",
            Field::InputMax => "quantized.input_max",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a model blob or a set of model arrays was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelError {
    /// The first four bytes are not `b"VNMF"`.
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The blob's format version is not one this build reads.
    UnsupportedVersion {
        /// Version in the blob.
        found: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// A dimension or array length differs from what was expected.
    DimensionMismatch {
        /// Which dimension or array.
        field: Field,
        /// What the model type (or the blob header) requires.
        expected: u32,
        /// What was found.
        found: u32,
    },
    /// The blob ends before its declared length.
    Truncated {
        /// Bytes needed.
        expected: u32,
        /// Bytes present.
        found: u32,
    },
    /// Bytes follow the end of the blob.
    TrailingBytes {
        /// Number of extra bytes.
        count: u32,
    },
    /// The CRC-32 over the blob does not match the stored one.
    Checksum {
        /// CRC stored in the blob.
        stored: u32,
        /// CRC computed over the bytes.
        computed: u32,
    },
    /// The payload is not valid postcard for this format version.
    Malformed,
    /// A channel name is empty, longer than [`MAX_CHANNEL_NAME_LEN`](crate::blob::MAX_CHANNEL_NAME_LEN)
    /// bytes, or holds a control character.
    InvalidChannelName {
        /// Channel (0-based).
        channel: u32,
    },
    /// An array holds NaN or ±∞.
    NonFinite {
        /// Which array.
        field: Field,
        /// Flat (row-major) index of the first bad value.
        index: u32,
    },
    /// The dictionary has a negative entry.
    NegativeDictionary {
        /// Channel (row) of the first negative entry.
        channel: u32,
        /// Synergy (column) of the first negative entry.
        synergy: u32,
    },
    /// A scalar or array value is outside its domain (α₀ ≤ 0, floor ≤ 0, scale ≤ 0).
    OutOfRange {
        /// Which field.
        field: Field,
        /// Flat index of the first bad value (0 for scalars).
        index: u32,
    },
    /// A model that needs an encoder has none, or an NMF-only model declares hidden layers
    /// (or carries both an f32 and a quantised encoder).
    EncoderPresence {
        /// Whether the blob carries encoder layers.
        present: bool,
    },
    /// An int8 layer is so wide, or its bias so large, that its int32 accumulator could
    /// overflow (`inputs · 127 · 32767 + max |bias| > 2³¹ − 1`).
    AccumulatorRange {
        /// The layer's bias field.
        field: Field,
    },
    /// The blob holds a quantised encoder, which [`ModelStorage`](crate::ModelStorage)'s f32
    /// buffers cannot hold: decode it with `ModelBlob` or embed it with a `build.rs`.
    QuantizedEncoder,
    /// A part is present that the method does not use (`present: true`), or missing
    /// though the method needs it.
    PartPresence {
        /// The part.
        field: Field,
        /// Whether it is present.
        present: bool,
    },
    /// The blob is of another kind: a speech enhancer where a model was expected
    /// (`enhancer: true`), or the reverse.
    BlobKind {
        /// Whether the blob found is a speech enhancer.
        enhancer: bool,
    },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ModelError::BadMagic { found } => {
                write!(
                    f,
                    "not a vaenmf model blob (magic {found:02x?}, expected \"VNMF\")"
                )
            }
            ModelError::UnsupportedVersion { found, supported } => write!(
                f,
                "unsupported model format version {found} (this build reads version {supported})"
            ),
            ModelError::DimensionMismatch {
                field,
                expected,
                found,
            } => write!(
                f,
                "dimension mismatch in {field}: expected {expected}, found {found}"
            ),
            ModelError::Truncated { expected, found } => {
                write!(f, "model blob truncated: {found} bytes, {expected} needed")
            }
            ModelError::TrailingBytes { count } => {
                write!(f, "{count} unexpected bytes after the end of the model blob")
            }
            ModelError::Checksum { stored, computed } => write!(
                f,
                "model blob checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            ModelError::Malformed => f.write_str("model blob payload is malformed"),
            ModelError::InvalidChannelName { channel } => write!(
                f,
                "channel name {channel} is empty, longer than {} bytes or holds a control character",
                crate::blob::MAX_CHANNEL_NAME_LEN
            ),
            ModelError::NonFinite { field, index } => {
                write!(f, "non-finite value in {field} at index {index}")
            }
            ModelError::NegativeDictionary { channel, synergy } => write!(
                f,
                "negative dictionary entry at channel {channel}, synergy {synergy}"
            ),
            ModelError::OutOfRange { field, index } => {
                write!(f, "value out of range in {field} at index {index}")
            }
            ModelError::EncoderPresence { present: true } => {
                f.write_str("model has encoder layers but declares no hidden sizes")
            }
            ModelError::EncoderPresence { present: false } => {
                f.write_str("model declares hidden sizes but carries no encoder layers")
            }
            ModelError::AccumulatorRange { field } => write!(
                f,
                "int8 layer of {field} is too wide or its bias too large: the int32 accumulator could overflow"
            ),
            ModelError::PartPresence { field, present: true } => {
                write!(f, "{field} is present, but this enhancer's method does not use it")
            }
            ModelError::PartPresence { field, present: false } => {
                write!(f, "{field} is missing, but this enhancer's method needs it")
            }
            ModelError::BlobKind { enhancer: true } => f.write_str(
                "the blob is a speech enhancer (format version 5 or later), not a synergy or dictionary model",
            ),
            ModelError::BlobKind { enhancer: false } => f.write_str(
                "the blob is a synergy or dictionary model (format version 1 to 4), not a speech enhancer",
            ),
            ModelError::QuantizedEncoder => f.write_str(
                "the model's encoder is quantised (int8); ModelStorage holds f32 encoders only (use ModelBlob, or embed it with a build.rs)",
            ),
        }
    }
}

impl core::error::Error for ModelError {}

/// Why a frame or a pair of arrays could not be processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputError {
    /// An input value is NaN or ±∞.
    NonFinite {
        /// Channel of the first bad value.
        channel: u32,
    },
    /// Two arrays that must have the same length do not, or a length is not a whole number
    /// of frames.
    LengthMismatch {
        /// Length required.
        expected: u32,
        /// Length found.
        found: u32,
    },
    /// A metric's denominator is zero (e.g. VAF of an all-zero signal).
    ZeroEnergy,
    /// An audio sample's magnitude exceeds the speech enhancer's
    /// [`MAX_ABS_SAMPLE`](crate::speech::MAX_ABS_SAMPLE).
    SampleRange {
        /// Index of the first such sample in the hop.
        index: u32,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InputError::NonFinite { channel } => write!(f, "non-finite input on channel {channel}"),
            InputError::LengthMismatch { expected, found } => {
                write!(f, "length mismatch: expected {expected}, found {found}")
            }
            InputError::ZeroEnergy => f.write_str("signal energy is zero; the ratio is undefined"),
            InputError::SampleRange { index } => write!(
                f,
                "sample {index} of the hop is beyond ±{}",
                // An integer: formatting an f32 would pull float printing into firmware.
                crate::speech::MAX_ABS_SAMPLE as u32
            ),
        }
    }
}

impl core::error::Error for InputError {}

/// Converts a length to `u32` for error reports, saturating (lengths that large are errors
/// anyway).
pub(crate) fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
