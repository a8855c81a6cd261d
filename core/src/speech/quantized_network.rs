//! A quantised enhancer's network as the enhancer file holds it (feature `alloc`), and the
//! post-training quantisation that makes it: calibrate the activation ranges on training
//! frames with the f32 network, then quantise weights per output channel and derive the
//! integer requantisation ([`crate::quant::calibrate`]'s rules, with the first layer's input
//! range narrowed so that its wide accumulators cannot overflow).
//!
//! The file stores each layer's weights as the kernel reads them: `padded(inputs) × outputs`
//! int8 values in pair order ([`super::quant_network`]), so a device embeds them unchanged.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::enhancer_blob::{mismatch, out_of_range, EnhancerBlob, MAX_LAYERS};
use super::quant_network::{padded, QuantLayerView, QuantNetworkView, MAX_INT8_INPUTS};
use crate::error::{Field, ModelError};
use crate::quant::calibrate::{head_layer, hidden_layer, step_within, QuantizeError};
use crate::quant::owned::pair_ordered;
use crate::quant::{ACTIVATION_MAX, WEIGHT_MAX};

/// One int8 layer of a [`QuantizedNetwork`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedLayer {
    /// Inputs (before padding to even).
    pub inputs: u32,
    /// Outputs.
    pub outputs: u32,
    /// `padded(inputs) × outputs` weights in `[−127, 127]`, pair order.
    pub weights: Vec<i8>,
    /// One bias per output, accumulator units.
    pub bias: Vec<i32>,
    /// Hidden layers: requantisation multipliers (≥ 1), one per output; the last: empty.
    pub multiplier: Vec<i32>,
    /// The last layer: f32 value of an accumulator unit per output (> 0); hidden: empty.
    pub output_scale: Vec<f32>,
}

/// The int8 layers that replace an enhancer network's f32 ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedNetwork {
    /// Step of the int16 input (> 0).
    pub input_step: f32,
    /// Largest magnitude of a quantised input, 1 ..= 32767.
    pub input_max: u16,
    /// Layers, ReLU after each but the last.
    pub layers: Vec<QuantizedLayer>,
}

fn length(field: Field, expected: usize, found: usize) -> Result<(), ModelError> {
    if expected != found {
        return Err(mismatch(field, expected as u64, found));
    }
    Ok(())
}

impl QuantizedNetwork {
    /// Every size against the network's input `width` and `outputs`, every value, and the
    /// accumulator bound: `padded(inputs) · 127 · (largest input) + max |bias| ≤ i32::MAX` for
    /// every layer, so no sum overflows and every kernel gives the same integers.
    pub fn validate(&self, width: u64, outputs: u64) -> Result<(), ModelError> {
        if !(self.input_step.is_finite() && self.input_step > 0.0) {
            return Err(out_of_range(Field::InputStep, 0));
        }
        if !(1..=ACTIVATION_MAX as u16).contains(&self.input_max) {
            return Err(out_of_range(Field::InputMax, 0));
        }
        if !(1..=MAX_LAYERS).contains(&self.layers.len()) {
            return Err(out_of_range(Field::QuantizedLayers, self.layers.len()));
        }
        let mut inputs = width;
        let last = self.layers.len() - 1;
        for (i, l) in self.layers.iter().enumerate() {
            let stored = padded(l.inputs as usize);
            if u64::from(l.inputs) != inputs || l.outputs == 0 || stored > MAX_INT8_INPUTS {
                return Err(out_of_range(Field::QuantizedLayers, i));
            }
            let n = l.outputs as usize;
            length(Field::QuantizedWeights, stored * n, l.weights.len())?;
            length(Field::QuantizedBias, n, l.bias.len())?;
            let (multipliers, scales) = if i == last { (0, n) } else { (n, 0) };
            length(Field::QuantizedMultiplier, multipliers, l.multiplier.len())?;
            length(Field::QuantizedScale, scales, l.output_scale.len())?;
            if let Some(j) = l.weights.iter().position(|&w| w < -WEIGHT_MAX) {
                return Err(out_of_range(Field::QuantizedWeights, j));
            }
            if let Some(j) = l.multiplier.iter().position(|&m| m < 1) {
                return Err(out_of_range(Field::QuantizedMultiplier, j));
            }
            if let Some(j) = l.output_scale.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
                return Err(out_of_range(Field::QuantizedScale, j));
            }
            let input_max = if i == 0 {
                u64::from(self.input_max)
            } else {
                ACTIVATION_MAX as u64
            };
            let max_bias = l
                .bias
                .iter()
                .map(|b| u64::from(b.unsigned_abs()))
                .max()
                .unwrap_or(0);
            if stored as u64 * WEIGHT_MAX as u64 * input_max + max_bias > i32::MAX as u64 {
                return Err(ModelError::AccumulatorRange {
                    field: Field::QuantizedBias,
                });
            }
            inputs = u64::from(l.outputs);
        }
        if inputs != outputs {
            return Err(ModelError::DimensionMismatch {
                field: Field::QuantizedLayers,
                expected: u32::try_from(outputs).unwrap_or(u32::MAX),
                found: u32::try_from(inputs).unwrap_or(u32::MAX),
            });
        }
        Ok(())
    }

    /// The layers as the views [`Self::view`] takes.
    pub fn layer_views(&self) -> Vec<QuantLayerView<'_>> {
        self.layers
            .iter()
            .map(|l| QuantLayerView {
                inputs: l.inputs as usize,
                outputs: l.outputs as usize,
                weights: &l.weights,
                bias: &l.bias,
                multiplier: &l.multiplier,
                output_scale: &l.output_scale,
            })
            .collect()
    }

    /// The network over `layers` ([`Self::layer_views`]).
    pub fn view<'a>(&self, layers: &'a [QuantLayerView<'a>]) -> QuantNetworkView<'a> {
        QuantNetworkView {
            inverse_step: 1.0 / self.input_step,
            input_max: self.input_max.min(ACTIVATION_MAX as u16) as i16,
            layers,
        }
    }

    /// Multiply-adds per frame (padded inputs counted).
    pub fn macs(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| padded(l.inputs as usize) as u64 * u64::from(l.outputs))
            .sum()
    }

    /// Bytes of the parameters a device stores: weights, biases, multipliers, scales.
    pub fn parameter_bytes(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weights.len() + 4 * (l.bias.len() + l.multiplier.len() + l.output_scale.len()))
            .sum()
    }
}

/// Largest magnitude seen per tensor over the calibration frames.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkRanges {
    /// The standardised input.
    pub input: f32,
    /// Each hidden layer after its ReLU.
    pub hidden: Vec<f32>,
    /// Frames seen.
    pub frames: usize,
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Runs the f32 network of `blob` on `inputs` (stacked, standardised feature frames, the
/// network's input width each) and records each tensor's largest magnitude.
pub fn calibrate(blob: &EnhancerBlob, inputs: &[f32]) -> Result<NetworkRanges, QuantizeError> {
    blob.validate().map_err(QuantizeError::Model)?;
    let net = blob.network.as_ref().ok_or(QuantizeError::NoNetwork)?;
    if blob.quantized.is_some() {
        return Err(QuantizeError::NoNetwork);
    }
    let width = net.width(blob.bins()) as usize;
    if inputs.len() < width {
        return Err(QuantizeError::NoFrames);
    }
    let hidden = net.layers.len() - 1;
    let mut ranges = NetworkRanges {
        input: 0.0,
        hidden: alloc::vec![0.0; hidden],
        frames: 0,
    };
    for x in inputs.chunks_exact(width) {
        ranges.input = ranges.input.max(max_abs(x));
        let mut h = x.to_vec();
        for (layer, range) in net.layers[..hidden].iter().zip(&mut ranges.hidden) {
            let mut out = alloc::vec![0.0f32; layer.outputs as usize];
            crate::linalg::dense(&h, &layer.weights, &layer.bias, &mut out);
            for v in &mut out {
                *v = v.max(0.0);
            }
            *range = range.max(max_abs(&out));
            h = out;
        }
        ranges.frames += 1;
    }
    Ok(ranges)
}

/// Largest input magnitude of a first layer of `stored` inputs: full scale (32767) when the
/// accumulator bound allows it, else what leaves an eighth of the `i32` range to the biases.
pub fn first_input_max(stored: usize) -> u16 {
    let room = (i32::MAX as u64 / 8 * 7) / (stored.max(1) as u64 * WEIGHT_MAX as u64);
    room.clamp(1, ACTIVATION_MAX as u64) as u16
}

/// `blob` with its f32 layers replaced by int8 ones for the calibrated `ranges` (validated).
pub fn quantize(blob: &EnhancerBlob, ranges: &NetworkRanges) -> Result<EnhancerBlob, QuantizeError> {
    blob.validate().map_err(QuantizeError::Model)?;
    let net = blob.network.as_ref().ok_or(QuantizeError::NoNetwork)?;
    if blob.quantized.is_some() || ranges.hidden.len() + 1 != net.layers.len() {
        return Err(QuantizeError::NoNetwork);
    }
    let width = net.width(blob.bins()) as usize;
    let input_max = first_input_max(padded(width));
    let input_step = step_within(ranges.input, i32::from(input_max)) as f32;
    let mut step_in = (f64::from(input_step), i32::from(input_max));
    let last = net.layers.len() - 1;
    let mut layers = Vec::with_capacity(net.layers.len());
    for (i, l) in net.layers.iter().enumerate() {
        let (inputs, outputs) = (l.inputs as usize, l.outputs as usize);
        let stored = padded(inputs);
        // Zero weights for the padding input.
        let mut w = l.weights.clone();
        w.resize(stored * outputs, 0.0);
        let layer = if i == last {
            let head = head_layer(&w, &l.bias, step_in);
            QuantizedLayer {
                inputs: l.inputs,
                outputs: l.outputs,
                weights: pair_ordered(stored, outputs, &head.weights),
                bias: head.bias,
                multiplier: Vec::new(),
                output_scale: head.output_scale,
            }
        } else {
            let target = step_within(ranges.hidden[i], ACTIVATION_MAX);
            let (hidden, output_step) = hidden_layer(&w, &l.bias, step_in, target);
            step_in = (output_step, ACTIVATION_MAX);
            QuantizedLayer {
                inputs: l.inputs,
                outputs: l.outputs,
                weights: pair_ordered(stored, outputs, &hidden.weights),
                bias: hidden.bias,
                multiplier: hidden.multiplier,
                output_scale: Vec::new(),
            }
        };
        layers.push(layer);
    }
    let mut out = blob.clone();
    out.quantized = Some(QuantizedNetwork {
        input_step,
        input_max,
        layers,
    });
    if let Some(n) = out.network.as_mut() {
        n.layers.clear();
    }
    out.validate().map_err(QuantizeError::Model)?;
    Ok(out)
}
