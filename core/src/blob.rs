//! The model blob: the one on-disk and over-the-wire format for a trained model.
//!
//! Layout (all postcard):
//!
//! | part      | encoding                                                                 |
//! |-----------|--------------------------------------------------------------------------|
//! | preamble  | magic `b"VNMF"`, version `u16` LE, payload length `u32` LE (fixed width)  |
//! | payload   | [`BlobHeader`], then arrays as postcard sequences of `f32` (varint length, |
//! |           | 4 bytes LE each): input offset, input scale, the eight encoder arrays when |
//! |           | `hidden1, hidden2 > 0` (layer1 W, b, layer2 W, b, α-head W, b, β-head W, b; |
//! |           | weights input-major, `in × out`), dictionary `W` (`m × r`, row-major);     |
//! |           | from version 2, channel names: a postcard sequence of UTF-8 strings, none  |
//! |           | or one per channel; from version 3, the front end: a postcard              |
//! |           | `Option<`[`FrontEnd`]`>` (spectrogram dictionaries record theirs)           |
//! |           | from version 4, an encoding byte right after the header: 0 = the f32      |
//! |           | encoder arrays above, 1 = in their place one postcard                     |
//! |           | [`QuantizedEncoderArrays`](crate::quant::owned::QuantizedEncoderArrays)   |
//! |           | (int8 weights as bytes, int32 biases and multipliers as varints)          |
//! | checksum  | CRC-32 (ISO-HDLC) of preamble and payload, `u32` LE                        |
//!
//! Versions: 4 (written now for models) adds the encoding byte and quantised encoders; 3 (front
//! end), 2 (channel names, no front end) and 1 (no names) are still read. Versions 5 to 7
//! ([`ENHANCER_FORMAT_VERSION`], written now) share the preamble and the checksum but carry a
//! speech enhancer ([`crate::speech::enhancer_blob`]) instead of a model — 7 adds the
//! quantised network, 6 the gain floor, 5 is read with neither; the model decoders refuse them
//! with [`ModelError::BlobKind`],
//! and the enhancer decoder refuses versions 1–4 the same way.
//!
//! Decoding checks, in order: length of the preamble, magic, version, declared length
//! (truncated / trailing bytes), checksum, payload structure, dimensions, then every value
//! (the same routine as [`Model::new_checked`]). Any single flipped bit or any truncation is
//! therefore rejected, with the most specific error, and never panics.

use crate::error::{len_u32, Field, ModelError};
use crate::front_end::FrontEnd;
use crate::model::{panel_position, DenseLayer, Dims, EncoderWeights, Model, ModelParts};
use serde::{Deserialize, Serialize};

/// First four bytes of every blob.
pub const MAGIC: [u8; 4] = *b"VNMF";
/// The format version this build writes (it reads every version from
/// [`OLDEST_READABLE_VERSION`] to this one).
pub const FORMAT_VERSION: u16 = 4;
/// The oldest format version this build reads.
pub const OLDEST_READABLE_VERSION: u16 = 1;
/// The format version of a speech enhancer blob this build writes (the newest it reads; it
/// also reads enhancer versions 5 and 6).
pub const ENHANCER_FORMAT_VERSION: u16 = 7;
/// Longest channel name, in bytes of UTF-8.
pub const MAX_CHANNEL_NAME_LEN: usize = 64;
/// Size of the fixed-width preamble.
pub const PREAMBLE_LEN: usize = 10;
/// Size of the trailing CRC-32.
pub const CHECKSUM_LEN: usize = 4;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// The CRC-32 the decoder checks, of the concatenation of `parts` (a blob's bytes before the
/// checksum, in one piece or several: a device can check a modified view of a blob in flash
/// without copying it).
pub fn checksum(parts: &[&[u8]]) -> u32 {
    let mut digest = CRC32.digest();
    for part in parts {
        digest.update(part);
    }
    digest.finalize()
}

#[derive(Serialize, Deserialize)]
struct Preamble {
    magic: [u8; 4],
    #[serde(with = "postcard::fixint::le")]
    version: u16,
    #[serde(with = "postcard::fixint::le")]
    payload_len: u32,
}

/// Scalars stored at the start of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlobHeader {
    /// Dimensions.
    pub dims: Dims,
    /// Prior shape α₀.
    pub alpha0: f32,
    /// Floor added to both heads' softplus.
    pub floor: f32,
}

/// Checks preamble, length and checksum of a blob of any kind; returns the version and the
/// payload.
pub(crate) fn open_envelope(bytes: &[u8]) -> Result<(u16, &[u8]), ModelError> {
    let min = (PREAMBLE_LEN + CHECKSUM_LEN) as u32;
    let found = len_u32(bytes.len());
    if bytes.len() < 4 {
        return Err(ModelError::Truncated { expected: min, found });
    }
    let mut magic = [0u8; 4];
    magic.copy_from_slice(&bytes[..4]);
    if magic != MAGIC {
        return Err(ModelError::BadMagic { found: magic });
    }
    if bytes.len() < PREAMBLE_LEN {
        return Err(ModelError::Truncated { expected: min, found });
    }
    let (preamble, _) =
        postcard::take_from_bytes::<Preamble>(&bytes[..PREAMBLE_LEN]).map_err(|_| ModelError::Malformed)?;
    if !(OLDEST_READABLE_VERSION..=ENHANCER_FORMAT_VERSION).contains(&preamble.version) {
        return Err(ModelError::UnsupportedVersion {
            found: preamble.version,
            supported: ENHANCER_FORMAT_VERSION,
        });
    }
    let total = PREAMBLE_LEN as u64 + u64::from(preamble.payload_len) + CHECKSUM_LEN as u64;
    if (bytes.len() as u64) < total {
        return Err(ModelError::Truncated {
            expected: u32::try_from(total).unwrap_or(u32::MAX),
            found,
        });
    }
    if bytes.len() as u64 > total {
        return Err(ModelError::TrailingBytes {
            count: len_u32(bytes.len() - total as usize),
        });
    }
    let (body, crc) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    let computed = checksum(&[body]);
    if stored != computed {
        return Err(ModelError::Checksum { stored, computed });
    }
    Ok((preamble.version, &body[PREAMBLE_LEN..]))
}

/// Wraps `payload` (written after [`PREAMBLE_LEN`] placeholder bytes of `out`) in the preamble
/// of `version` and the checksum.
#[cfg(feature = "alloc")]
pub(crate) fn seal(version: u16, mut out: alloc::vec::Vec<u8>) -> Result<alloc::vec::Vec<u8>, ModelError> {
    let payload_len = u32::try_from(out.len() - PREAMBLE_LEN).map_err(|_| ModelError::Malformed)?;
    let preamble = Preamble {
        magic: MAGIC,
        version,
        payload_len,
    };
    postcard::to_slice(&preamble, &mut out[..PREAMBLE_LEN]).map_err(|_| ModelError::Malformed)?;
    let crc = CRC32.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Checks preamble, length, checksum and kind (a model, not an enhancer); returns the version,
/// the header and the bytes of the arrays.
fn open(bytes: &[u8]) -> Result<(u16, BlobHeader, &[u8]), ModelError> {
    let (version, payload) = open_envelope(bytes)?;
    if version > FORMAT_VERSION {
        return Err(ModelError::BlobKind { enhancer: true });
    }
    let (header, arrays) =
        postcard::take_from_bytes::<BlobHeader>(payload).map_err(|_| ModelError::Malformed)?;
    Ok((version, header, arrays))
}

/// A channel name must be 1 ..= [`MAX_CHANNEL_NAME_LEN`] bytes without control characters.
fn check_channel_name(channel: usize, name: &str) -> Result<(), ModelError> {
    if name.is_empty() || name.len() > MAX_CHANNEL_NAME_LEN || name.chars().any(char::is_control) {
        return Err(ModelError::InvalidChannelName {
            channel: len_u32(channel),
        });
    }
    Ok(())
}

/// Reads (version ≥ 2) the channel-name section without allocating, checks it, and calls
/// `each` with every name in order.
fn read_channel_names<'a>(
    version: u16,
    rest: &mut &'a [u8],
    channels: u32,
    mut each: impl FnMut(&'a str),
) -> Result<(), ModelError> {
    if version < 2 {
        return Ok(());
    }
    let (count, mut tail) = postcard::take_from_bytes::<u32>(rest).map_err(|_| ModelError::Malformed)?;
    if count != 0 && count != channels {
        return Err(ModelError::DimensionMismatch {
            field: Field::ChannelNames,
            expected: channels,
            found: count,
        });
    }
    for channel in 0..count as usize {
        let (name, after) = postcard::take_from_bytes::<&str>(tail).map_err(|_| ModelError::Malformed)?;
        check_channel_name(channel, name)?;
        each(name);
        tail = after;
    }
    *rest = tail;
    Ok(())
}

/// Reads (version ≥ 3) the front-end section and checks it against the model's channels.
fn read_front_end(version: u16, rest: &mut &[u8], channels: u32) -> Result<Option<FrontEnd>, ModelError> {
    if version < 3 {
        return Ok(None);
    }
    let (front_end, tail) =
        postcard::take_from_bytes::<Option<FrontEnd>>(rest).map_err(|_| ModelError::Malformed)?;
    if let Some(f) = &front_end {
        f.validate(channels)?;
    }
    *rest = tail;
    Ok(front_end)
}

/// Reads (version ≥ 4) the encoding byte: whether the encoder is quantised. A quantised
/// encoder needs hidden layers.
fn read_encoding(version: u16, rest: &mut &[u8], dims: &Dims) -> Result<bool, ModelError> {
    if version < 4 {
        return Ok(false);
    }
    let (&tag, tail) = rest.split_first().ok_or(ModelError::Malformed)?;
    let quantized = match tag {
        0 => false,
        1 => true,
        _ => {
            return Err(ModelError::OutOfRange {
                field: Field::Encoding,
                index: 0,
            })
        }
    };
    if quantized && !dims.has_encoder() {
        return Err(ModelError::EncoderPresence { present: true });
    }
    *rest = tail;
    Ok(quantized)
}

/// Reads the header of a blob after checking its preamble, length and checksum, without
/// decoding any array: how a tool learns the dimensions before choosing buffers.
pub fn peek_header(bytes: &[u8]) -> Result<BlobHeader, ModelError> {
    open(bytes).map(|(_, header, _)| header)
}

/// Reads the next array's length prefix and checks it against `expected`.
fn array_len(rest: &mut &[u8], field: Field, expected: u64) -> Result<usize, ModelError> {
    let (n, tail) = postcard::take_from_bytes::<u32>(rest).map_err(|_| ModelError::Malformed)?;
    if u64::from(n) != expected {
        return Err(ModelError::DimensionMismatch {
            field,
            expected: u32::try_from(expected).unwrap_or(u32::MAX),
            found: n,
        });
    }
    let n = n as usize;
    // Lengths come from a checksummed payload, but a blob crafted with a valid CRC could
    // still claim more values than it carries.
    if tail.len() / 4 < n {
        return Err(ModelError::Malformed);
    }
    *rest = tail;
    Ok(n)
}

/// Reads the next array into `out`, whose length is the one the header declares.
fn read_array(rest: &mut &[u8], field: Field, out: &mut [f32]) -> Result<(), ModelError> {
    let n = array_len(rest, field, out.len() as u64)?;
    let (data, tail) = rest.split_at(n * 4);
    for (o, chunk) in out.iter_mut().zip(data.chunks_exact(4)) {
        *o = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    *rest = tail;
    Ok(())
}

/// Reads the next array, input-major `inputs × outputs` weights, into `out` in panel order.
fn read_weights(
    rest: &mut &[u8],
    field: Field,
    (inputs, outputs): (usize, usize),
    out: &mut [f32],
) -> Result<(), ModelError> {
    let n = array_len(rest, field, out.len() as u64)?;
    let (data, tail) = rest.split_at(n * 4);
    for (k, chunk) in data.chunks_exact(4).enumerate() {
        let (i, o) = (k / outputs.max(1), k % outputs.max(1));
        if let Some(w) = out.get_mut(panel_position(inputs, outputs, i, o)) {
            *w = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
    }
    *rest = tail;
    Ok(())
}

/// Caller-provided buffers for decoding a blob at run time, without a heap.
///
/// For the paper-sized encoder this is ~656 KiB: on a microcontroller keep such weights in
/// flash (`static` arrays from a `build.rs`) and use [`Model::new_checked`] instead.
#[derive(Debug, Clone)]
pub struct ModelStorage<const M: usize, const H1: usize, const H2: usize, const R: usize> {
    input_offset: [f32; M],
    input_scale: [f32; M],
    layer1_weights: [[f32; H1]; M],
    layer1_bias: [f32; H1],
    layer2_weights: [[f32; H2]; H1],
    layer2_bias: [f32; H2],
    alpha_head_weights: [[f32; R]; H2],
    alpha_head_bias: [f32; R],
    beta_head_weights: [[f32; R]; H2],
    beta_head_bias: [f32; R],
    dictionary: [[f32; R]; M],
    alpha0: f32,
    floor: f32,
}

impl<const M: usize, const H1: usize, const H2: usize, const R: usize> Default
    for ModelStorage<M, H1, H2, R>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const M: usize, const H1: usize, const H2: usize, const R: usize> ModelStorage<M, H1, H2, R> {
    /// Zeroed storage (usable in a `static`).
    pub const fn new() -> Self {
        Self {
            input_offset: [0.0; M],
            input_scale: [0.0; M],
            layer1_weights: [[0.0; H1]; M],
            layer1_bias: [0.0; H1],
            layer2_weights: [[0.0; H2]; H1],
            layer2_bias: [0.0; H2],
            alpha_head_weights: [[0.0; R]; H2],
            alpha_head_bias: [0.0; R],
            beta_head_weights: [[0.0; R]; H2],
            beta_head_bias: [0.0; R],
            dictionary: [[0.0; R]; M],
            alpha0: 0.0,
            floor: 0.0,
        }
    }

    /// Decodes and validates `bytes` into this storage and returns the model borrowing it.
    /// Weights are rearranged from the blob's input-major order into the kernel's panel order
    /// on the way (see [`DenseLayer`]). The blob's dimensions must be exactly `M, H1, H2, R`.
    /// On error the storage holds unspecified (but finite-length) data and no model is
    /// returned.
    pub fn decode(&mut self, bytes: &[u8]) -> Result<Model<'_, M, H1, H2, R>, ModelError> {
        let (version, header, mut rest) = open(bytes)?;
        header.dims.expect(&ModelParts::<M, H1, H2, R>::dims())?;
        if read_encoding(version, &mut rest, &header.dims)? {
            return Err(ModelError::QuantizedEncoder);
        }
        let has_encoder = header.dims.has_encoder();
        read_array(&mut rest, Field::InputOffset, &mut self.input_offset)?;
        read_array(&mut rest, Field::InputScale, &mut self.input_scale)?;
        if has_encoder {
            read_weights(
                &mut rest,
                Field::Layer1Weights,
                (M, H1),
                self.layer1_weights.as_flattened_mut(),
            )?;
            read_array(&mut rest, Field::Layer1Bias, &mut self.layer1_bias)?;
            read_weights(
                &mut rest,
                Field::Layer2Weights,
                (H1, H2),
                self.layer2_weights.as_flattened_mut(),
            )?;
            read_array(&mut rest, Field::Layer2Bias, &mut self.layer2_bias)?;
            read_weights(
                &mut rest,
                Field::AlphaHeadWeights,
                (H2, R),
                self.alpha_head_weights.as_flattened_mut(),
            )?;
            read_array(&mut rest, Field::AlphaHeadBias, &mut self.alpha_head_bias)?;
            read_weights(
                &mut rest,
                Field::BetaHeadWeights,
                (H2, R),
                self.beta_head_weights.as_flattened_mut(),
            )?;
            read_array(&mut rest, Field::BetaHeadBias, &mut self.beta_head_bias)?;
        }
        read_array(&mut rest, Field::Dictionary, self.dictionary.as_flattened_mut())?;
        // Names are for host tools; a device checks them and keeps none.
        read_channel_names(version, &mut rest, header.dims.channels, |_| {})?;
        read_front_end(version, &mut rest, header.dims.channels)?;
        if !rest.is_empty() {
            return Err(ModelError::Malformed);
        }
        self.alpha0 = header.alpha0;
        self.floor = header.floor;
        let this = &*self;
        let encoder = has_encoder.then_some(EncoderWeights {
            layer1: DenseLayer {
                weights: &this.layer1_weights,
                bias: &this.layer1_bias,
            },
            layer2: DenseLayer {
                weights: &this.layer2_weights,
                bias: &this.layer2_bias,
            },
            alpha_head: DenseLayer {
                weights: &this.alpha_head_weights,
                bias: &this.alpha_head_bias,
            },
            beta_head: DenseLayer {
                weights: &this.beta_head_weights,
                bias: &this.beta_head_bias,
            },
        });
        Model::new_checked(ModelParts {
            input_offset: &this.input_offset,
            input_scale: &this.input_scale,
            alpha0: this.alpha0,
            floor: this.floor,
            encoder,
            quantized: None,
            dictionary: &this.dictionary,
        })
    }
}

#[cfg(feature = "alloc")]
pub use owned::{EncoderArrays, ModelBlob};

#[cfg(feature = "alloc")]
mod owned {
    use super::*;
    use crate::model::ModelView;
    use crate::quant::owned::QuantizedEncoderArrays;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    /// Reads the next `f32` array of `dims`'s length for `field`.
    fn take_f32s(rest: &mut &[u8], field: Field, dims: &Dims) -> Result<Vec<f32>, ModelError> {
        let n = array_len(rest, field, dims.len_of(field))?;
        let (data, tail) = rest.split_at(n * 4);
        *rest = tail;
        Ok(data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// Owned encoder arrays, flat; weights input-major (`in × out`, burn's `Linear` layout).
    #[derive(Debug, Clone, PartialEq)]
    pub struct EncoderArrays {
        /// `m × h1`.
        pub layer1_weights: Vec<f32>,
        /// `h1`.
        pub layer1_bias: Vec<f32>,
        /// `h1 × h2`.
        pub layer2_weights: Vec<f32>,
        /// `h2`.
        pub layer2_bias: Vec<f32>,
        /// `h2 × r`.
        pub alpha_head_weights: Vec<f32>,
        /// `r`.
        pub alpha_head_bias: Vec<f32>,
        /// `h2 × r`.
        pub beta_head_weights: Vec<f32>,
        /// `r`.
        pub beta_head_bias: Vec<f32>,
    }

    impl EncoderArrays {
        /// A copy whose four weight arrays are rearranged from input-major into the panel
        /// order [`DenseLayer`] reads: what code emitting `static` arrays for
        /// [`Model::new_checked`] needs (e.g. a firmware `build.rs`). `dims` are the model's.
        pub fn to_panel_order(&self, dims: Dims) -> Self {
            let (m, h1, h2, r) = dims.sizes();
            let pack = |inputs: usize, outputs: usize, w: &[f32]| {
                let mut out = alloc::vec![0.0; w.len()];
                crate::model::to_panel_order(inputs, outputs, w, &mut out);
                out
            };
            Self {
                layer1_weights: pack(m, h1, &self.layer1_weights),
                layer2_weights: pack(h1, h2, &self.layer2_weights),
                alpha_head_weights: pack(h2, r, &self.alpha_head_weights),
                beta_head_weights: pack(h2, r, &self.beta_head_weights),
                ..self.clone()
            }
        }

        fn as_slices(&self) -> [&[f32]; 8] {
            [
                &self.layer1_weights,
                &self.layer1_bias,
                &self.layer2_weights,
                &self.layer2_bias,
                &self.alpha_head_weights,
                &self.alpha_head_bias,
                &self.beta_head_weights,
                &self.beta_head_bias,
            ]
        }
    }

    /// A model with owned arrays of any dimensions: what the trainer writes and what
    /// host tools (and the firmware's `build.rs`) read. Fields are public; call
    /// [`ModelBlob::validate`] (or [`ModelBlob::to_bytes`], which does) after building one.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ModelBlob {
        /// Dimensions; `hidden1 = hidden2 = 0` for an NMF-only model.
        pub dims: Dims,
        /// Prior shape α₀.
        pub alpha0: f32,
        /// Floor added to both heads' softplus.
        pub floor: f32,
        /// Per-channel offset (`m`).
        pub input_offset: Vec<f32>,
        /// Per-channel scale (`m`).
        pub input_scale: Vec<f32>,
        /// f32 encoder: when both hidden sizes are nonzero, this or `quantized` is present.
        pub encoder: Option<EncoderArrays>,
        /// Quantised encoder (format 4), in place of `encoder`.
        pub quantized: Option<QuantizedEncoderArrays>,
        /// Dictionary `W`, `m × r` row-major.
        pub dictionary: Vec<f32>,
        /// Channel (muscle) names: none, or one per channel, each 1 ..=
        /// [`MAX_CHANNEL_NAME_LEN`] bytes without control characters. Blobs of format
        /// version 1 have none.
        pub channel_names: Vec<String>,
        /// How the input frames were made, for spectrogram dictionaries (format 3; none for
        /// EMG models and for older blobs).
        pub front_end: Option<FrontEnd>,
    }

    impl ModelBlob {
        /// A valid model of any dimensions with random values, deterministic per seed: for
        /// benchmarks (inference cost does not depend on the values) and tests. Weights are
        /// uniform in ±1/√inputs, biases in ±0.1, the dictionary in [0, 1); no offset, unit
        /// scale, α₀ = 1, floor 10⁻³, no channel names.
        pub fn random(dims: Dims, seed: u64) -> Self {
            let mut rng = crate::gamma::Prng::new(seed);
            let (m, h1, h2, r) = dims.sizes();
            let mut uniform = |n: usize, lo: f32, hi: f32| -> Vec<f32> {
                (0..n).map(|_| lo + (hi - lo) * rng.uniform() as f32).collect()
            };
            let mut dense = |inputs: usize, outputs: usize| {
                let a = 1.0 / libm::sqrtf(inputs as f32);
                (uniform(inputs * outputs, -a, a), uniform(outputs, -0.1, 0.1))
            };
            let encoder = dims.has_encoder().then(|| {
                let (layer1_weights, layer1_bias) = dense(m, h1);
                let (layer2_weights, layer2_bias) = dense(h1, h2);
                let (alpha_head_weights, alpha_head_bias) = dense(h2, r);
                let (beta_head_weights, beta_head_bias) = dense(h2, r);
                EncoderArrays {
                    layer1_weights,
                    layer1_bias,
                    layer2_weights,
                    layer2_bias,
                    alpha_head_weights,
                    alpha_head_bias,
                    beta_head_weights,
                    beta_head_bias,
                }
            });
            let mut rng = crate::gamma::Prng::new(seed ^ 0x5EED);
            let dictionary = (0..m * r).map(|_| rng.uniform() as f32).collect();
            Self {
                dims,
                alpha0: 1.0,
                floor: 1e-3,
                input_offset: alloc::vec![0.0; m],
                input_scale: alloc::vec![1.0; m],
                encoder,
                quantized: None,
                dictionary,
                channel_names: Vec::new(),
                front_end: None,
            }
        }

        /// Whether the model has an encoder, f32 or quantised.
        pub fn has_encoder(&self) -> bool {
            self.encoder.is_some() || self.quantized.is_some()
        }

        fn view(&self) -> ModelView<'_> {
            ModelView {
                dims: self.dims,
                alpha0: self.alpha0,
                floor: self.floor,
                input_offset: &self.input_offset,
                input_scale: &self.input_scale,
                encoder: self.encoder.as_ref().map(EncoderArrays::as_slices),
                quantized: self.quantized.as_ref().map(QuantizedEncoderArrays::view),
                dictionary: &self.dictionary,
            }
        }

        /// Runs the same validation as [`Model::new_checked`] and blob decoding.
        pub fn validate(&self) -> Result<(), ModelError> {
            self.view().validate()?;
            let count = len_u32(self.channel_names.len());
            if count != 0 && count != self.dims.channels {
                return Err(ModelError::DimensionMismatch {
                    field: Field::ChannelNames,
                    expected: self.dims.channels,
                    found: count,
                });
            }
            for (channel, name) in self.channel_names.iter().enumerate() {
                check_channel_name(channel, name)?;
            }
            if let Some(f) = &self.front_end {
                f.validate(self.dims.channels)?;
            }
            Ok(())
        }

        /// Validates and encodes.
        pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
            self.validate()?;
            let header = BlobHeader {
                dims: self.dims,
                alpha0: self.alpha0,
                floor: self.floor,
            };
            let mut out = alloc::vec![0u8; PREAMBLE_LEN];
            out = postcard::to_extend(&header, out).map_err(|_| ModelError::Malformed)?;
            out.push(u8::from(self.quantized.is_some()));
            let view = self.view();
            for values in [view.input_offset, view.input_scale] {
                out = postcard::to_extend(values, out).map_err(|_| ModelError::Malformed)?;
            }
            if let Some(quantized) = &self.quantized {
                out = postcard::to_extend(quantized, out).map_err(|_| ModelError::Malformed)?;
            }
            for values in view.encoder.into_iter().flatten().chain([view.dictionary]) {
                out = postcard::to_extend(values, out).map_err(|_| ModelError::Malformed)?;
            }
            out = postcard::to_extend(&self.channel_names, out).map_err(|_| ModelError::Malformed)?;
            out = postcard::to_extend(&self.front_end, out).map_err(|_| ModelError::Malformed)?;
            seal(FORMAT_VERSION, out)
        }

        /// Decodes and validates a blob of any dimensions.
        pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
            let (version, header, mut rest) = open(bytes)?;
            let dims = header.dims;
            let is_quantized = read_encoding(version, &mut rest, &dims)?;
            let input_offset = take_f32s(&mut rest, Field::InputOffset, &dims)?;
            let input_scale = take_f32s(&mut rest, Field::InputScale, &dims)?;
            let quantized = if is_quantized {
                let (q, tail) = postcard::take_from_bytes::<QuantizedEncoderArrays>(rest)
                    .map_err(|_| ModelError::Malformed)?;
                rest = tail;
                Some(q)
            } else {
                None
            };
            let mut next = |field: Field| take_f32s(&mut rest, field, &dims);
            let encoder = if dims.has_encoder() && !is_quantized {
                Some(EncoderArrays {
                    layer1_weights: next(Field::Layer1Weights)?,
                    layer1_bias: next(Field::Layer1Bias)?,
                    layer2_weights: next(Field::Layer2Weights)?,
                    layer2_bias: next(Field::Layer2Bias)?,
                    alpha_head_weights: next(Field::AlphaHeadWeights)?,
                    alpha_head_bias: next(Field::AlphaHeadBias)?,
                    beta_head_weights: next(Field::BetaHeadWeights)?,
                    beta_head_bias: next(Field::BetaHeadBias)?,
                })
            } else {
                None
            };
            let dictionary = next(Field::Dictionary)?;
            let mut channel_names = Vec::new();
            read_channel_names(version, &mut rest, dims.channels, |name| {
                channel_names.push(name.to_string())
            })?;
            let front_end = read_front_end(version, &mut rest, dims.channels)?;
            if !rest.is_empty() {
                return Err(ModelError::Malformed);
            }
            let blob = Self {
                dims,
                alpha0: header.alpha0,
                floor: header.floor,
                input_offset,
                input_scale,
                encoder,
                quantized,
                dictionary,
                channel_names,
                front_end,
            };
            blob.validate()?;
            Ok(blob)
        }
    }
}
