//! The quantised encoder: int8 weights, int16 activations, int32 accumulators.
//!
//! # Scheme
//!
//! - **Weights**: symmetric int8 per output channel, `w ≈ q · sᵂₒ`, `q ∈ [−127, 127]`.
//! - **Activations**: symmetric int16 per tensor, `h ≈ q · step`, `q ∈ [−32767, 32767]`
//!   (`[0, 32767]` after ReLU); the steps are calibrated on training frames by the trainer.
//! - **Hidden layers** (`layer2` always, `layer1` when int8): `acc = bias + Σ qᵂ qˣ` in `i32`
//!   (the bias pre-scaled to `sᵂₒ · stepᵢₙ`), then requantised to the next layer's step by an
//!   integer multiplier, `round(acc · m / 2³²)` ([`kernel::requantize`], one `SMMULR`), and
//!   clamped by the ReLU. No float in between.
//! - **Edges**: the scaled frame is quantised with the input step (f32 → int16, 10 values);
//!   int8 heads dequantise their accumulators with one f32 factor per output and then apply
//!   softplus and the floor in f32, as the float encoder does.
//! - **Hybrid** (an option of `vaenmf quantize`): the first layer and the heads keep f32
//!   weights ([`FirstLayer::Float`], [`QuantHeads::Float`]); only `layer2` (96 % of the paper
//!   encoder's MACs) is int8.
//!
//! # Invariants
//!
//! A decoded or checked quantised encoder has weights in `[−127, 127]`, multipliers ≥ 1,
//! positive finite steps and scales, finite float layers, and for every int8 layer
//! `inputs · 127 · 32767 + max |bias| ≤ i32::MAX`: no partial sum can overflow, so integer
//! results do not depend on the order of the additions, and the DSP kernel (`quant::dsp`, Cortex-M4
//! only) gives the same integers as the portable one on every target.

pub mod kernel;

#[cfg(vaenmf_dsp)]
mod dsp;
/// The f32 panel kernel (`VLDM` + `VMLA.F32`, Cortex-M4F/M7F), for checking it against the
/// portable panel loop: `false` when its preconditions do not hold.
#[cfg(vaenmf_fpu)]
pub use dsp::dense_panels_f32;
#[cfg(vaenmf_fpu)]
pub(crate) use dsp::sqrt as fpu_sqrt;
/// The `SMLAD` kernels themselves (Cortex-M4/M7 builds only), for checking them against
/// [`kernel::dense_portable`]: `false` when their preconditions do not hold.
#[cfg(vaenmf_dsp)]
pub use dsp::{dense as dsp_dense, dense_relu as dsp_dense_relu};
#[cfg(feature = "alloc")]
pub mod calibrate;
#[cfg(feature = "alloc")]
pub mod owned;
/// The `PMADDWD` kernels (x86-64 hosts), for checking them against
/// [`kernel::dense_portable`]: `false` when their preconditions do not hold.
#[cfg(target_arch = "x86_64")]
pub mod x86;

use crate::encoder::Posterior;
use crate::error::{len_u32, Field, ModelError};
use crate::math::softplus;
use crate::model::{DenseLayer, Dims};

/// Largest magnitude of an int16 activation (−32768 is never produced).
pub const ACTIVATION_MAX: i32 = 32767;
/// Largest magnitude of an int8 weight (−128 is rejected).
pub const WEIGHT_MAX: i8 = 127;
/// Inputs per group in the pair-ordered weight layout ([`kernel::pair_position`]).
pub const GROUP: usize = 8;
/// Groups the portable kernel keeps on its stack (2 KiB): int8 layers have at most
/// `GROUP · MAX_GROUPS + GROUP − 1` inputs (the encoder's accumulator bound allows at most
/// 516; a speech network's first layer, with narrower inputs, up to 1031).
pub const MAX_GROUPS: usize = 128;

/// A 4-byte-aligned wrapper: the DSP kernel loads weights and activations a word at a time.
/// Firmware `static`s of int8 weights use it (`static W: Align4<[[i8; O]; I]>`); unaligned
/// weights still work, through the portable kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, align(4))]
pub struct Align4<T>(pub T);

/// An int8 dense layer's integer part: `acc = bias + Σᵢ w(i, ·) · x[i]`.
#[derive(Debug, Clone, Copy)]
pub struct QuantLayer<'a, const IN: usize, const OUT: usize> {
    /// `IN × OUT` weights in pair order ([`kernel::pair_position`]).
    pub weights: &'a [[i8; OUT]; IN],
    /// One bias per output, in accumulator units (`sᵂₒ · stepᵢₙ`).
    pub bias: &'a [i32; OUT],
}

/// `acc = bias + Wᵀ x` over pair-ordered `weights` (`x.len() × acc.len()`): the `SMLAD`
/// kernel where it applies (Cortex-M4/M7, aligned, even inputs), `PMADDWD` on x86-64 (SSE2, AVX2
/// where the CPU has it), else the portable one — the same integers either way.
pub fn dense(weights: &[i8], bias: &[i32], x: &[i16], acc: &mut [i32]) {
    #[cfg(vaenmf_dsp)]
    if dsp::dense(weights, bias, x, acc) {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if x86::dense(weights, bias, x, acc) {
        return;
    }
    kernel::dense_portable(weights, bias, x, acc);
}

/// `out = relu(requantize(bias + Wᵀ x))`, as [`dense`] picks its kernel (`multiplier`: one
/// per output).
pub fn dense_relu(weights: &[i8], bias: &[i32], multiplier: &[i32], x: &[i16], out: &mut [i16]) {
    #[cfg(vaenmf_dsp)]
    if dsp::dense_relu(weights, bias, multiplier, x, out) {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if x86::dense_relu(weights, bias, multiplier, x, out) {
        return;
    }
    dense_relu_portable(weights, bias, multiplier, x, out);
}

/// [`dense_relu`] on the portable kernel, in blocks of 64 outputs (an even count keeps the pair
/// order's blocks aligned). Not inlined: its accumulators stay off the stack of callers that
/// take the `SMLAD` path.
#[inline(never)]
fn dense_relu_portable(weights: &[i8], bias: &[i32], multiplier: &[i32], x: &[i16], out: &mut [i16]) {
    let mut acc = [0i32; 64];
    let block = 2 * x.len();
    for (k, out) in out.chunks_mut(acc.len()).enumerate() {
        let first = k * acc.len();
        let n = out.len();
        let w = weights.get(first * x.len()..).unwrap_or(&[]);
        let b = bias.get(first..first + n).unwrap_or(&[]);
        kernel::dense_portable(&w[..w.len().min(n.div_ceil(2) * block)], b, x, &mut acc[..n]);
        for ((o, &a), &m) in out
            .iter_mut()
            .zip(&acc[..n])
            .zip(multiplier.get(first..).unwrap_or(&[]))
        {
            *o = kernel::requantize_relu(a, m);
        }
    }
}

impl<const IN: usize, const OUT: usize> QuantLayer<'_, IN, OUT> {
    /// The accumulators for int16 inputs `x`.
    pub fn accumulate(&self, x: &Align4<[i16; IN]>, acc: &mut [i32; OUT]) {
        dense(self.weights.as_flattened(), self.bias, &x.0, acc);
    }
}

/// An int8 hidden layer with ReLU: accumulators requantised to the next layer's step.
#[derive(Debug, Clone, Copy)]
pub struct HiddenLayer<'a, const IN: usize, const OUT: usize> {
    /// Weights and bias.
    pub layer: QuantLayer<'a, IN, OUT>,
    /// Requantisation multiplier per output (≥ 1): the factor is `multiplier / 2³²`.
    pub multiplier: &'a [i32; OUT],
}

impl<const IN: usize, const OUT: usize> HiddenLayer<'_, IN, OUT> {
    /// `out = relu(requantize(bias + Wᵀ x))`.
    pub fn forward(&self, x: &Align4<[i16; IN]>, out: &mut Align4<[i16; OUT]>) {
        #[cfg(vaenmf_dsp)]
        if dsp::dense_relu(
            self.layer.weights.as_flattened(),
            self.layer.bias,
            self.multiplier,
            &x.0,
            &mut out.0,
        ) {
            return;
        }
        // All the accumulators at once: one pass of the portable kernel (the run-time-sized
        // `dense_relu` works in blocks, each re-reading the inputs).
        let mut acc = [0i32; OUT];
        self.layer.accumulate(x, &mut acc);
        for ((o, &a), &m) in out.0.iter_mut().zip(&acc).zip(self.multiplier) {
            *o = kernel::requantize_relu(a, m);
        }
    }
}

/// An int8 head: accumulators back to f32 with one factor per output.
#[derive(Debug, Clone, Copy)]
pub struct HeadLayer<'a, const IN: usize, const OUT: usize> {
    /// Weights and bias.
    pub layer: QuantLayer<'a, IN, OUT>,
    /// `sᵂₒ · stepᵢₙ` per output: an accumulator unit in the head's f32 units (> 0).
    pub output_scale: &'a [f32; OUT],
}

impl<const IN: usize, const OUT: usize> HeadLayer<'_, IN, OUT> {
    /// The head's pre-softplus values.
    pub fn forward(&self, x: &Align4<[i16; IN]>) -> [f32; OUT] {
        let mut acc = [0i32; OUT];
        self.layer.accumulate(x, &mut acc);
        core::array::from_fn(|o| acc[o] as f32 * self.output_scale[o])
    }
}

/// The first layer: int8, or f32 weights in the hybrid variant.
#[derive(Debug, Clone, Copy)]
pub enum FirstLayer<'a, const M: usize, const H1: usize> {
    /// f32 weights (panel order, as [`DenseLayer`]); ReLU outputs quantised with `output_step`.
    Float {
        /// The layer.
        layer: DenseLayer<'a, M, H1>,
        /// Step of the int16 hidden activations it produces (> 0).
        output_step: f32,
    },
    /// int8 weights; the scaled frame is quantised with `input_step` first.
    Int8 {
        /// Step of the int16 input (> 0).
        input_step: f32,
        /// The layer, requantising to the second layer's input step.
        layer: HiddenLayer<'a, M, H1>,
    },
}

/// The two heads: int8, or f32 weights in the hybrid variant.
#[derive(Debug, Clone, Copy)]
pub enum QuantHeads<'a, const H2: usize, const R: usize> {
    /// f32 weights (panel order); the int16 hidden activations are dequantised with
    /// `input_step` first.
    Float {
        /// Step of the int16 activations the heads read (> 0).
        input_step: f32,
        /// Shape head.
        alpha: DenseLayer<'a, H2, R>,
        /// Rate head.
        beta: DenseLayer<'a, H2, R>,
    },
    /// int8 weights.
    Int8 {
        /// Shape head.
        alpha: HeadLayer<'a, H2, R>,
        /// Rate head.
        beta: HeadLayer<'a, H2, R>,
    },
}

/// A quantised encoder `m → h1 → h2 → 2·r` (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct QuantizedEncoder<'a, const M: usize, const H1: usize, const H2: usize, const R: usize> {
    /// First layer (int8 or f32).
    pub layer1: FirstLayer<'a, M, H1>,
    /// Second layer, always int8.
    pub layer2: HiddenLayer<'a, H1, H2>,
    /// Heads (int8 or f32).
    pub heads: QuantHeads<'a, H2, R>,
}

impl<const M: usize, const H1: usize, const H2: usize, const R: usize> QuantizedEncoder<'_, M, H1, H2, R> {
    /// Posterior for an already scaled frame; `floor` is added to both heads' softplus.
    pub fn encode_scaled(&self, x: &[f32; M], floor: f32) -> Posterior<R> {
        let mut h1 = Align4([0i16; H1]);
        match &self.layer1 {
            FirstLayer::Float { layer, output_step } => {
                let mut y = [0.0f32; H1];
                layer.forward(x, &mut y);
                let inverse = 1.0 / *output_step;
                for (q, &v) in h1.0.iter_mut().zip(&y) {
                    *q = kernel::quantize_relu(v, inverse);
                }
            }
            FirstLayer::Int8 { input_step, layer } => {
                let inverse = 1.0 / *input_step;
                let xq = Align4(core::array::from_fn(|i| kernel::quantize(x[i], inverse)));
                layer.forward(&xq, &mut h1);
            }
        }
        let mut h2 = Align4([0i16; H2]);
        self.layer2.forward(&h1, &mut h2);
        let (mut alpha, mut beta) = match &self.heads {
            QuantHeads::Float {
                input_step,
                alpha,
                beta,
            } => {
                let h: [f32; H2] = core::array::from_fn(|i| f32::from(h2.0[i]) * *input_step);
                let (mut a, mut b) = ([0.0f32; R], [0.0f32; R]);
                alpha.forward(&h, &mut a);
                beta.forward(&h, &mut b);
                (a, b)
            }
            QuantHeads::Int8 { alpha, beta } => (alpha.forward(&h2), beta.forward(&h2)),
        };
        for v in alpha.iter_mut().chain(beta.iter_mut()) {
            *v = softplus(*v) + floor;
        }
        Posterior { alpha, beta }
    }
}

impl<'a, const IN: usize, const OUT: usize> HiddenLayer<'a, IN, OUT> {
    fn view(&self) -> HiddenView<'a> {
        HiddenView {
            weights: self.layer.weights.as_flattened(),
            bias: self.layer.bias,
            multiplier: self.multiplier,
        }
    }
}

impl<'a, const M: usize, const H1: usize, const H2: usize, const R: usize>
    QuantizedEncoder<'a, M, H1, H2, R>
{
    pub(crate) fn view(&self) -> QuantView<'a> {
        QuantView {
            layer1: match &self.layer1 {
                FirstLayer::Float { layer, output_step } => FirstView::Float {
                    weights: layer.weights.as_flattened(),
                    bias: layer.bias,
                    output_step: *output_step,
                },
                FirstLayer::Int8 { input_step, layer } => FirstView::Int8 {
                    input_step: *input_step,
                    layer: layer.view(),
                },
            },
            layer2: self.layer2.view(),
            heads: match &self.heads {
                QuantHeads::Float {
                    input_step,
                    alpha,
                    beta,
                } => HeadsView::Float {
                    input_step: *input_step,
                    alpha: [alpha.weights.as_flattened(), alpha.bias],
                    beta: [beta.weights.as_flattened(), beta.bias],
                },
                QuantHeads::Int8 { alpha, beta } => HeadsView::Int8 {
                    alpha: HeadView {
                        weights: alpha.layer.weights.as_flattened(),
                        bias: alpha.layer.bias,
                        output_scale: alpha.output_scale,
                    },
                    beta: HeadView {
                        weights: beta.layer.weights.as_flattened(),
                        bias: beta.layer.bias,
                        output_scale: beta.output_scale,
                    },
                },
            },
        }
    }
}

/// Flat view of an int8 hidden layer, for validation.
pub(crate) struct HiddenView<'a> {
    pub weights: &'a [i8],
    pub bias: &'a [i32],
    pub multiplier: &'a [i32],
}

/// Flat view of an int8 head.
pub(crate) struct HeadView<'a> {
    pub weights: &'a [i8],
    pub bias: &'a [i32],
    pub output_scale: &'a [f32],
}

pub(crate) enum FirstView<'a> {
    Float {
        weights: &'a [f32],
        bias: &'a [f32],
        output_step: f32,
    },
    Int8 {
        input_step: f32,
        layer: HiddenView<'a>,
    },
}

pub(crate) enum HeadsView<'a> {
    Float {
        input_step: f32,
        /// Weights, bias.
        alpha: [&'a [f32]; 2],
        beta: [&'a [f32]; 2],
    },
    Int8 {
        alpha: HeadView<'a>,
        beta: HeadView<'a>,
    },
}

/// What the one quantised-encoder validation routine reads.
pub(crate) struct QuantView<'a> {
    pub layer1: FirstView<'a>,
    pub layer2: HiddenView<'a>,
    pub heads: HeadsView<'a>,
}

/// The fields an int8 layer's errors name.
struct LayerFields {
    weights: Field,
    bias: Field,
    multiplier: Field,
}

const LAYER1: LayerFields = LayerFields {
    weights: Field::Layer1Weights,
    bias: Field::Layer1Bias,
    multiplier: Field::Layer1Multiplier,
};
const LAYER2: LayerFields = LayerFields {
    weights: Field::Layer2Weights,
    bias: Field::Layer2Bias,
    multiplier: Field::Layer2Multiplier,
};

fn length(field: Field, expected: u64, found: usize) -> Result<(), ModelError> {
    if found as u64 != expected {
        return Err(ModelError::DimensionMismatch {
            field,
            expected: u32::try_from(expected).unwrap_or(u32::MAX),
            found: len_u32(found),
        });
    }
    Ok(())
}

fn out_of_range(field: Field, index: usize) -> ModelError {
    ModelError::OutOfRange {
        field,
        index: len_u32(index),
    }
}

fn positive_step(field: Field, step: f32) -> Result<(), ModelError> {
    if step.is_finite() && step > 0.0 {
        Ok(())
    } else {
        Err(out_of_range(field, 0))
    }
}

/// Weights in ±127, and no partial sum able to leave `i32`.
fn check_integer_layer(
    (weights_field, bias_field): (Field, Field),
    inputs: u64,
    weights: &[i8],
    bias: &[i32],
) -> Result<(), ModelError> {
    if let Some(i) = weights.iter().position(|&w| w < -WEIGHT_MAX) {
        return Err(out_of_range(weights_field, i));
    }
    let max_bias = bias
        .iter()
        .map(|b| u64::from(b.unsigned_abs()))
        .max()
        .unwrap_or(0);
    let bound = inputs * WEIGHT_MAX as u64 * ACTIVATION_MAX as u64 + max_bias;
    if bound > i32::MAX as u64 || inputs > (GROUP * (MAX_GROUPS + 1) - 1) as u64 {
        return Err(ModelError::AccumulatorRange { field: bias_field });
    }
    Ok(())
}

fn check_hidden(
    fields: &LayerFields,
    dims: &Dims,
    inputs: u64,
    l: &HiddenView<'_>,
) -> Result<(), ModelError> {
    let outputs = dims.len_of(fields.bias);
    length(fields.weights, dims.len_of(fields.weights), l.weights.len())?;
    length(fields.bias, outputs, l.bias.len())?;
    length(fields.multiplier, outputs, l.multiplier.len())?;
    check_integer_layer((fields.weights, fields.bias), inputs, l.weights, l.bias)?;
    if let Some(i) = l.multiplier.iter().position(|&m| m < 1) {
        return Err(out_of_range(fields.multiplier, i));
    }
    Ok(())
}

fn check_float(
    dims: &Dims,
    (weights_field, bias_field): (Field, Field),
    arrays: [&[f32]; 2],
) -> Result<(), ModelError> {
    for (field, values) in [(weights_field, arrays[0]), (bias_field, arrays[1])] {
        length(field, dims.len_of(field), values.len())?;
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                field,
                index: len_u32(i),
            });
        }
    }
    Ok(())
}

fn check_head(dims: &Dims, fields: [Field; 3], h: &HeadView<'_>) -> Result<(), ModelError> {
    let [weights, bias, scale] = fields;
    let outputs = dims.len_of(bias);
    length(weights, dims.len_of(weights), h.weights.len())?;
    length(bias, outputs, h.bias.len())?;
    length(scale, outputs, h.output_scale.len())?;
    check_integer_layer((weights, bias), u64::from(dims.hidden2), h.weights, h.bias)?;
    if let Some(i) = h.output_scale.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(out_of_range(scale, i));
    }
    Ok(())
}

impl QuantView<'_> {
    /// Lengths against `dims`, then every value (see the module's invariants).
    pub fn validate(&self, dims: &Dims) -> Result<(), ModelError> {
        match &self.layer1 {
            FirstView::Float {
                weights,
                bias,
                output_step,
            } => {
                check_float(dims, (Field::Layer1Weights, Field::Layer1Bias), [weights, bias])?;
                positive_step(Field::Hidden1Step, *output_step)?;
            }
            FirstView::Int8 { input_step, layer } => {
                positive_step(Field::InputStep, *input_step)?;
                check_hidden(&LAYER1, dims, u64::from(dims.channels), layer)?;
            }
        }
        check_hidden(&LAYER2, dims, u64::from(dims.hidden1), &self.layer2)?;
        match &self.heads {
            HeadsView::Float {
                input_step,
                alpha,
                beta,
            } => {
                positive_step(Field::Hidden2Step, *input_step)?;
                check_float(dims, (Field::AlphaHeadWeights, Field::AlphaHeadBias), *alpha)?;
                check_float(dims, (Field::BetaHeadWeights, Field::BetaHeadBias), *beta)?;
            }
            HeadsView::Int8 { alpha, beta } => {
                let a = [
                    Field::AlphaHeadWeights,
                    Field::AlphaHeadBias,
                    Field::AlphaHeadScale,
                ];
                let b = [Field::BetaHeadWeights, Field::BetaHeadBias, Field::BetaHeadScale];
                check_head(dims, a, alpha)?;
                check_head(dims, b, beta)?;
            }
        }
        Ok(())
    }
}
