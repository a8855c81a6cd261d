//! A quantised enhancer's network: int8 weights, int16 activations, int32 accumulators, on
//! the core's integer kernels ([`crate::quant`]: `SMLAD` on a Cortex-M4, portable elsewhere,
//! the same integers on every target).
//!
//! - The standardised input is quantised with one step for the tensor, clamped to
//!   `±input_max` (below 32767 when the first layer is so wide that full-scale inputs could
//!   overflow its `i32` accumulators).
//! - Hidden layers requantise their accumulators to the next layer's step with one integer
//!   multiplier per output (`SMMULR`) and the ReLU's clamp (`USAT`): no float in between.
//! - The last layer's accumulators go back to f32 with one factor per output; the mask or the
//!   dictionary gain follows in f32 ([`super::network`]).
//!
//! Layers store `padded(inputs) × outputs` weights in the kernel's pair order
//! ([`crate::quant::kernel::pair_position`]), the input count padded to even with zero
//! weights, so the `SMLAD` kernel (two inputs per instruction) applies to every layer.
//!
//! Cost per frame: `Σ padded(inputs)·outputs` int8 multiply-adds (≈ 1.15–1.25 instructions
//! per MAC on the M4, see `docs/BENCHMARKS.md`), `width` float-to-int16 conversions, and one
//! multiply per output of the last layer.

use crate::quant::kernel::quantize_within;
use crate::quant::{dense, dense_relu, GROUP, MAX_GROUPS};

/// Most (padded) inputs of an int8 layer: what the portable kernel's stack holds.
pub const MAX_INT8_INPUTS: usize = GROUP * (MAX_GROUPS + 1) - 2;

/// `inputs` rounded up to even: the stored input count of a quantised layer.
pub const fn padded(inputs: usize) -> usize {
    inputs + inputs % 2
}

/// One int8 layer.
#[derive(Debug, Clone, Copy)]
pub struct QuantLayerView<'a> {
    /// Inputs (before padding).
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// `padded(inputs) × outputs` weights in pair order.
    pub weights: &'a [i8],
    /// One bias per output, in accumulator units (`sᵂₒ · stepᵢₙ`).
    pub bias: &'a [i32],
    /// Hidden layers: one requantisation multiplier per output (the factor is
    /// `multiplier / 2³²`); the last layer: empty.
    pub multiplier: &'a [i32],
    /// The last layer: the f32 value of one accumulator unit per output; hidden layers: empty.
    pub output_scale: &'a [f32],
}

/// The int8 network.
#[derive(Debug, Clone, Copy)]
pub struct QuantNetworkView<'a> {
    /// `1 / step` of the input quantisation.
    pub inverse_step: f32,
    /// Largest magnitude of a quantised input (1 ..= 32767).
    pub input_max: i16,
    /// Layers, ReLU after each but the last.
    pub layers: &'a [QuantLayerView<'a>],
}

impl QuantNetworkView<'_> {
    fn widest_hidden(&self) -> usize {
        let hidden = self.layers.len().saturating_sub(1);
        self.layers[..hidden]
            .iter()
            .map(|l| padded(l.outputs))
            .max()
            .unwrap_or(0)
    }

    /// Outputs of the last layer.
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }

    /// int16 scratch [`Self::forward`] needs for an input of `width` values: the quantised
    /// input and two of the widest hidden layer's outputs, each section an even length (a
    /// 4-byte-aligned scratch keeps every section aligned for the `SMLAD` kernel).
    pub fn int_len(&self, width: usize) -> usize {
        padded(width) + 2 * self.widest_hidden()
    }

    /// Runs the network on a standardised `input`; writes the last layer's outputs into
    /// `out` and returns how many. `int` holds at least [`Self::int_len`] values, `acc` and
    /// `out` at least [`Self::outputs`]; shorter ones give zero outputs, never a panic (the
    /// sizes are the enhancer's to check).
    pub fn forward(&self, input: &[f32], int: &mut [i16], acc: &mut [i32], out: &mut [f32]) -> usize {
        let n = self.outputs();
        let width = padded(input.len());
        if int.len() < self.int_len(input.len()) || acc.len() < n || out.len() < n {
            out.iter_mut().take(n).for_each(|v| *v = 0.0);
            return 0;
        }
        let (x, rest) = int.split_at_mut(width);
        for (q, &v) in x.iter_mut().zip(input) {
            *q = quantize_within(v, self.inverse_step, self.input_max);
        }
        x[input.len()..].fill(0);
        let (a, b) = rest.split_at_mut(self.widest_hidden());
        let last = self.layers.len().saturating_sub(1);
        let mut from_width = width;
        for (i, layer) in self.layers.iter().enumerate() {
            // Ping-pong: layer 0 reads `x`, layer i > 0 reads the half layer i − 1 wrote.
            let (from, to): (&[i16], &mut [i16]) = match i {
                0 => (&*x, &mut *a),
                _ if i % 2 == 1 => (&a[..from_width], &mut *b),
                _ => (&b[..from_width], &mut *a),
            };
            if i == last {
                dense(layer.weights, layer.bias, from, &mut acc[..n]);
                for ((o, &v), &s) in out.iter_mut().zip(&acc[..n]).zip(layer.output_scale) {
                    *o = v as f32 * s;
                }
            } else {
                let outputs = padded(layer.outputs);
                dense_relu(
                    layer.weights,
                    layer.bias,
                    layer.multiplier,
                    from,
                    &mut to[..layer.outputs],
                );
                to[layer.outputs..outputs].fill(0);
                from_width = outputs;
            }
        }
        n
    }
}
