//! Post-training quantisation of an f32 encoder (feature `alloc`): calibrate the activation
//! ranges on frames, then quantise weights per output channel and derive the integer
//! requantisation. The trainer's `vaenmf quantize` calls this with training frames.

use alloc::vec::Vec;

use super::owned::{FirstLayerArrays, HeadArrays, HeadsArrays, HiddenArrays, QuantizedEncoderArrays};
use super::{ACTIVATION_MAX, WEIGHT_MAX};
use crate::blob::{EncoderArrays, ModelBlob};
use crate::error::{InputError, ModelError};

/// Which layers become int8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Every layer int8.
    FullInt8,
    /// First layer and heads keep f32 weights; the second layer is int8.
    Hybrid,
}

/// Largest absolute value seen per tensor over the calibration frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActivationRanges {
    /// Scaled input frame.
    pub input: f32,
    /// First hidden layer after ReLU.
    pub hidden1: f32,
    /// Second hidden layer after ReLU.
    pub hidden2: f32,
    /// Frames seen.
    pub frames: usize,
}

/// Why quantisation could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantizeError {
    /// The model has no f32 encoder to quantise.
    NoEncoder,
    /// The speech enhancer has no f32 network to quantise (a multiplicative-update method, or
    /// one already quantised).
    NoNetwork,
    /// No calibration frames were given.
    NoFrames,
    /// A calibration frame was rejected.
    Input(InputError),
    /// The model, or the quantised model, failed validation (e.g. a layer too wide for int32
    /// accumulators).
    Model(ModelError),
}

impl core::fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            QuantizeError::NoEncoder => f.write_str("the model has no f32 encoder to quantise"),
            QuantizeError::NoNetwork => f.write_str(
                "the enhancer has no f32 network to quantise (nmf, dnmf and vae-nmf-dict-mu fit their activations by multiplicative updates; a quantised enhancer is quantised already)",
            ),
            QuantizeError::NoFrames => f.write_str("no calibration frames"),
            QuantizeError::Input(e) => write!(f, "calibration frame: {e}"),
            QuantizeError::Model(e) => write!(f, "model: {e}"),
        }
    }
}

impl core::error::Error for QuantizeError {}

/// f32 dense layer, input-major, with ReLU.
fn dense_relu(weights: &[f32], bias: &[f32], x: &[f32]) -> Vec<f32> {
    let mut out = alloc::vec![0.0; bias.len()];
    crate::linalg::dense(x, weights, bias, &mut out);
    for v in &mut out {
        *v = v.max(0.0);
    }
    out
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Runs the f32 encoder of `blob` on raw `frames` (`channels` values each, row after row)
/// and records each tensor's largest magnitude.
pub fn calibrate(blob: &ModelBlob, frames: &[f32]) -> Result<ActivationRanges, QuantizeError> {
    blob.validate().map_err(QuantizeError::Model)?;
    let enc = blob.encoder.as_ref().ok_or(QuantizeError::NoEncoder)?;
    let m = blob.dims.channels as usize;
    if frames.is_empty() || m == 0 {
        return Err(QuantizeError::NoFrames);
    }
    let mut ranges = ActivationRanges {
        input: 0.0,
        hidden1: 0.0,
        hidden2: 0.0,
        frames: 0,
    };
    let mut x = alloc::vec![0.0f32; m];
    for raw in frames.chunks(m) {
        blob.scale_input(raw, &mut x).map_err(QuantizeError::Input)?;
        if let Some(channel) = x.iter().position(|v| !v.is_finite()) {
            return Err(QuantizeError::Input(InputError::NonFinite {
                channel: channel as u32,
            }));
        }
        let h1 = dense_relu(&enc.layer1_weights, &enc.layer1_bias, &x);
        let h2 = dense_relu(&enc.layer2_weights, &enc.layer2_bias, &h1);
        ranges.input = ranges.input.max(max_abs(&x));
        ranges.hidden1 = ranges.hidden1.max(max_abs(&h1));
        ranges.hidden2 = ranges.hidden2.max(max_abs(&h2));
        ranges.frames += 1;
    }
    Ok(ranges)
}

/// Step for a tensor whose largest magnitude is `range` (a silent tensor gets step 1).
fn step(range: f32) -> f64 {
    step_within(range, ACTIVATION_MAX)
}

/// Step for a tensor whose largest magnitude `range` maps to `max` (a silent tensor gets
/// step 1).
pub(crate) fn step_within(range: f32, max: i32) -> f64 {
    if range > 0.0 {
        f64::from(range) / f64::from(max)
    } else {
        1.0
    }
}

/// Accumulator units left for a bias beside `inputs` products of full-scale weights and
/// inputs of magnitude `input_max`.
fn bias_room(inputs: usize, input_max: i32) -> f64 {
    (i64::from(i32::MAX) - inputs as i64 * i64::from(WEIGHT_MAX) * i64::from(input_max)).max(0) as f64
}

/// Smallest requantisation multiplier the quantiser gives an output (relative precision
/// 2⁻¹⁷): weight scales are raised to reach it.
const MIN_MULTIPLIER: f64 = 65_536.0;

/// Per-output weight scales: `max |w| / 127`, raised where the bias would not fit beside the
/// products (`|b| / step_in ≤` [`bias_room`]). An output whose weights are all but zero and
/// whose bias is not — a unit the training switched off except for its offset — thus keeps
/// its bias exactly and its weights round to 0, instead of the bias being clipped.
fn weight_scales(weights: &[f32], bias: &[f32], input_step: f64, input_max: i32) -> Vec<f64> {
    let outputs = bias.len().max(1);
    let room = bias_room(weights.len() / outputs, input_max);
    let mut max = alloc::vec![0.0f64; bias.len()];
    for row in weights.chunks_exact(outputs) {
        for (m, &w) in max.iter_mut().zip(row) {
            *m = m.max(f64::from(w).abs());
        }
    }
    max.into_iter()
        .zip(bias)
        .map(|(m, &b)| {
            // 1 + 2⁻²⁰: the rounded bias must stay inside the room.
            let for_bias = f64::from(b).abs() / (input_step * room) * (1.0 + 1.0 / 1_048_576.0);
            let s = (m / f64::from(WEIGHT_MAX)).max(for_bias);
            if s > 0.0 {
                s
            } else {
                1.0 / f64::from(WEIGHT_MAX)
            }
        })
        .collect()
}

/// int8 weights and int32 biases of one layer for input step `input_step` (the scales keep
/// every bias inside the accumulator bound).
fn integer_layer(
    weights: &[f32],
    bias: &[f32],
    scales: &[f64],
    (input_step, input_max): (f64, i32),
) -> (Vec<i8>, Vec<i32>) {
    let outputs = bias.len().max(1);
    let room = bias_room(weights.len() / outputs, input_max);
    let q = weights
        .iter()
        .enumerate()
        .map(|(k, &w)| {
            let v = libm::round(f64::from(w) / scales[k % outputs]);
            v.clamp(-f64::from(WEIGHT_MAX), f64::from(WEIGHT_MAX)) as i8
        })
        .collect();
    let b = bias
        .iter()
        .zip(scales)
        .map(|(&b, &s)| libm::round(f64::from(b) / (s * input_step)).clamp(-room, room) as i32)
        .collect();
    (q, b)
}

/// Integer multiplier with `multiplier / 2³² ≈ factor` (`factor < ½`).
fn multiplier(factor: f64) -> i32 {
    libm::round(factor * libm::ldexp(1.0, 32)).clamp(1.0, f64::from(i32::MAX)) as i32
}

/// An int8 hidden layer (input-major `weights`) from `input_step` (inputs within
/// `±input_max` steps) to (at least) `output_step`; returns the layer and the output step
/// used, raised when a requantisation factor would exceed ½. Weight scales are raised so that
/// every multiplier is at least [`MIN_MULTIPLIER`].
pub(crate) fn hidden_layer(
    weights: &[f32],
    bias: &[f32],
    (input_step, input_max): (f64, i32),
    output_step: f64,
) -> (HiddenArrays, f64) {
    let mut scales = weight_scales(weights, bias, input_step, input_max);
    let largest = scales.iter().fold(0.0f64, |m, &s| m.max(s * input_step));
    let output_step = output_step.max(2.0 * largest);
    let precision = MIN_MULTIPLIER * output_step / (input_step * libm::ldexp(1.0, 32));
    for s in &mut scales {
        *s = s.max(precision);
    }
    let (weights, bias) = integer_layer(weights, bias, &scales, (input_step, input_max));
    let multiplier = scales
        .iter()
        .map(|&s| self::multiplier(s * input_step / output_step))
        .collect();
    let layer = HiddenArrays {
        weights,
        bias,
        multiplier,
    };
    (layer, output_step)
}

/// An int8 layer (input-major `weights`) whose accumulators go back to f32.
pub(crate) fn head_layer(weights: &[f32], bias: &[f32], (input_step, input_max): (f64, i32)) -> HeadArrays {
    let scales = weight_scales(weights, bias, input_step, input_max);
    let (weights, bias) = integer_layer(weights, bias, &scales, (input_step, input_max));
    HeadArrays {
        weights,
        bias,
        output_scale: scales.iter().map(|&s| (s * input_step) as f32).collect(),
    }
}

fn quantized_encoder(
    enc: &EncoderArrays,
    ranges: &ActivationRanges,
    variant: Variant,
) -> QuantizedEncoderArrays {
    let (layer1, hidden1_step) = match variant {
        Variant::Hybrid => {
            let output_step = step(ranges.hidden1);
            let layer = FirstLayerArrays::Float {
                weights: enc.layer1_weights.clone(),
                bias: enc.layer1_bias.clone(),
                output_step: output_step as f32,
            };
            (layer, f64::from(output_step as f32))
        }
        Variant::FullInt8 => {
            let input_step = f64::from(step(ranges.input) as f32);
            let (layer, output_step) = hidden_layer(
                &enc.layer1_weights,
                &enc.layer1_bias,
                (input_step, ACTIVATION_MAX),
                step(ranges.hidden1),
            );
            let layer = FirstLayerArrays::Int8 {
                input_step: input_step as f32,
                layer,
            };
            (layer, output_step)
        }
    };
    let (layer2, hidden2_step) = hidden_layer(
        &enc.layer2_weights,
        &enc.layer2_bias,
        (hidden1_step, ACTIVATION_MAX),
        step(ranges.hidden2),
    );
    let heads = match variant {
        Variant::Hybrid => HeadsArrays::Float {
            input_step: hidden2_step as f32,
            alpha_weights: enc.alpha_head_weights.clone(),
            alpha_bias: enc.alpha_head_bias.clone(),
            beta_weights: enc.beta_head_weights.clone(),
            beta_bias: enc.beta_head_bias.clone(),
        },
        Variant::FullInt8 => HeadsArrays::Int8 {
            alpha: head_layer(
                &enc.alpha_head_weights,
                &enc.alpha_head_bias,
                (hidden2_step, ACTIVATION_MAX),
            ),
            beta: head_layer(
                &enc.beta_head_weights,
                &enc.beta_head_bias,
                (hidden2_step, ACTIVATION_MAX),
            ),
        },
    };
    QuantizedEncoderArrays {
        layer1,
        layer2,
        heads,
    }
}

/// The model with its f32 encoder replaced by a quantised one (validated).
pub fn quantize(
    blob: &ModelBlob,
    ranges: &ActivationRanges,
    variant: Variant,
) -> Result<ModelBlob, QuantizeError> {
    blob.validate().map_err(QuantizeError::Model)?;
    let enc = blob.encoder.as_ref().ok_or(QuantizeError::NoEncoder)?;
    let mut out = blob.clone();
    out.quantized = Some(quantized_encoder(enc, ranges, variant));
    out.encoder = None;
    out.validate().map_err(QuantizeError::Model)?;
    Ok(out)
}
