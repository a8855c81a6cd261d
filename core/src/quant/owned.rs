//! Owned quantised-encoder arrays (feature `alloc`): what the blob stores, the trainer's
//! quantiser writes and the firmware's `build.rs` reads; run-time-sized inference on them.
//!
//! Weights here are input-major (`in × out`, as the f32 arrays); typed layers read them in
//! pair order ([`to_pair_order`](super::kernel::to_pair_order)). Integer sums are exact, so
//! the plain loops below give the same integers, and the same activations bit for bit, as the
//! typed kernels.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::kernel::{quantize, quantize_relu, requantize_relu};
use super::{
    Align4, FirstLayer, FirstView, HeadLayer, HeadView, HeadsView, HiddenLayer, HiddenView, QuantHeads,
    QuantLayer, QuantView, QuantizedEncoder,
};
use crate::blob::ModelBlob;
use crate::dynamic::PosteriorVec;
use crate::error::ModelError;
use crate::math::softplus;
use crate::model::{DenseLayer, Model, ModelParts};

/// An int8 hidden layer with ReLU, input-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenArrays {
    /// `in × out` weights in `[−127, 127]`.
    pub weights: Vec<i8>,
    /// One bias per output, in accumulator units.
    pub bias: Vec<i32>,
    /// Requantisation multiplier per output (≥ 1): the factor is `multiplier / 2³²`.
    pub multiplier: Vec<i32>,
}

/// An int8 head, input-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadArrays {
    /// `h2 × r` weights in `[−127, 127]`.
    pub weights: Vec<i8>,
    /// One bias per output, in accumulator units.
    pub bias: Vec<i32>,
    /// Accumulator unit in f32 per output (> 0).
    pub output_scale: Vec<f32>,
}

/// The first layer: int8, or f32 in the hybrid variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FirstLayerArrays {
    /// f32 weights (`m × h1`, input-major) and bias; ReLU outputs quantised with `output_step`.
    Float {
        /// `m × h1`.
        weights: Vec<f32>,
        /// `h1`.
        bias: Vec<f32>,
        /// Step of the int16 activations produced.
        output_step: f32,
    },
    /// int8; the scaled frame is quantised with `input_step`.
    Int8 {
        /// Step of the int16 input.
        input_step: f32,
        /// The layer.
        layer: HiddenArrays,
    },
}

/// The heads: int8, or f32 in the hybrid variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HeadsArrays {
    /// f32 heads (`h2 × r` input-major weights, `r` biases); the int16 input is dequantised
    /// with `input_step`.
    Float {
        /// Step of the int16 activations read.
        input_step: f32,
        /// Shape head weights.
        alpha_weights: Vec<f32>,
        /// Shape head bias.
        alpha_bias: Vec<f32>,
        /// Rate head weights.
        beta_weights: Vec<f32>,
        /// Rate head bias.
        beta_bias: Vec<f32>,
    },
    /// int8 heads.
    Int8 {
        /// Shape head.
        alpha: HeadArrays,
        /// Rate head.
        beta: HeadArrays,
    },
}

/// A quantised encoder with owned arrays (blob format 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedEncoderArrays {
    /// First layer.
    pub layer1: FirstLayerArrays,
    /// Second layer (int8).
    pub layer2: HiddenArrays,
    /// Heads.
    pub heads: HeadsArrays,
}

fn hidden_view(l: &HiddenArrays) -> HiddenView<'_> {
    HiddenView {
        weights: &l.weights,
        bias: &l.bias,
        multiplier: &l.multiplier,
    }
}

fn head_view(h: &HeadArrays) -> HeadView<'_> {
    HeadView {
        weights: &h.weights,
        bias: &h.bias,
        output_scale: &h.output_scale,
    }
}

/// `acc[o] = bias[o] + Σᵢ w[i·out + o] · x[i]` in `i32` (exact: see the module docs).
fn accumulate(weights: &[i8], bias: &[i32], x: &[i16]) -> Vec<i32> {
    let mut acc = bias.to_vec();
    let outputs = bias.len().max(1);
    for (&xi, row) in x.iter().zip(weights.chunks_exact(outputs)) {
        for (a, &w) in acc.iter_mut().zip(row) {
            *a = a.wrapping_add(i32::from(w) * i32::from(xi));
        }
    }
    acc
}

fn hidden_forward(l: &HiddenArrays, x: &[i16]) -> Vec<i16> {
    let acc = accumulate(&l.weights, &l.bias, x);
    acc.iter()
        .zip(&l.multiplier)
        .map(|(&a, &m)| requantize_relu(a, m))
        .collect()
}

fn head_forward(h: &HeadArrays, x: &[i16]) -> Vec<f32> {
    let acc = accumulate(&h.weights, &h.bias, x);
    acc.iter()
        .zip(&h.output_scale)
        .map(|(&a, &s)| a as f32 * s)
        .collect()
}

/// f32 dense layer, input-major (the run-time-sized encoder's, bit-identical to the typed one).
fn float_forward(weights: &[f32], bias: &[f32], x: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; bias.len()];
    crate::linalg::dense(x, weights, bias, &mut out);
    out
}

impl QuantizedEncoderArrays {
    pub(crate) fn view(&self) -> QuantView<'_> {
        QuantView {
            layer1: match &self.layer1 {
                FirstLayerArrays::Float {
                    weights,
                    bias,
                    output_step,
                } => FirstView::Float {
                    weights,
                    bias,
                    output_step: *output_step,
                },
                FirstLayerArrays::Int8 { input_step, layer } => FirstView::Int8 {
                    input_step: *input_step,
                    layer: hidden_view(layer),
                },
            },
            layer2: hidden_view(&self.layer2),
            heads: match &self.heads {
                HeadsArrays::Float {
                    input_step,
                    alpha_weights,
                    alpha_bias,
                    beta_weights,
                    beta_bias,
                } => HeadsView::Float {
                    input_step: *input_step,
                    alpha: [alpha_weights, alpha_bias],
                    beta: [beta_weights, beta_bias],
                },
                HeadsArrays::Int8 { alpha, beta } => HeadsView::Int8 {
                    alpha: head_view(alpha),
                    beta: head_view(beta),
                },
            },
        }
    }

    /// Whether the first layer and the heads keep f32 weights (the hybrid variant).
    pub fn is_hybrid(&self) -> bool {
        matches!(self.layer1, FirstLayerArrays::Float { .. })
    }

    /// Bytes of weights and per-output parameters (what a device keeps in flash).
    pub fn parameter_bytes(&self) -> usize {
        let hidden = |l: &HiddenArrays| l.weights.len() + 4 * l.bias.len() + 4 * l.multiplier.len();
        let head = |h: &HeadArrays| h.weights.len() + 4 * (h.bias.len() + h.output_scale.len());
        let first = match &self.layer1 {
            FirstLayerArrays::Float { weights, bias, .. } => 4 * (weights.len() + bias.len()),
            FirstLayerArrays::Int8 { layer, .. } => hidden(layer),
        };
        let heads = match &self.heads {
            HeadsArrays::Float {
                alpha_weights,
                alpha_bias,
                beta_weights,
                beta_bias,
                ..
            } => 4 * (alpha_weights.len() + alpha_bias.len() + beta_weights.len() + beta_bias.len()),
            HeadsArrays::Int8 { alpha, beta } => head(alpha) + head(beta),
        };
        first + hidden(&self.layer2) + heads
    }

    /// Posterior `(α, β)` of an already scaled, finite frame of `dims.channels` values.
    pub(crate) fn encode_scaled(&self, x: &[f32], floor: f32) -> PosteriorVec {
        let h1: Vec<i16> = match &self.layer1 {
            FirstLayerArrays::Float {
                weights,
                bias,
                output_step,
            } => {
                let inverse = 1.0 / *output_step;
                float_forward(weights, bias, x)
                    .iter()
                    .map(|&v| quantize_relu(v, inverse))
                    .collect()
            }
            FirstLayerArrays::Int8 { input_step, layer } => {
                let inverse = 1.0 / *input_step;
                let xq: Vec<i16> = x.iter().map(|&v| quantize(v, inverse)).collect();
                hidden_forward(layer, &xq)
            }
        };
        let h2 = hidden_forward(&self.layer2, &h1);
        let (mut alpha, mut beta) = match &self.heads {
            HeadsArrays::Float {
                input_step,
                alpha_weights,
                alpha_bias,
                beta_weights,
                beta_bias,
            } => {
                let h: Vec<f32> = h2.iter().map(|&q| f32::from(q) * *input_step).collect();
                (
                    float_forward(alpha_weights, alpha_bias, &h),
                    float_forward(beta_weights, beta_bias, &h),
                )
            }
            HeadsArrays::Int8 { alpha, beta } => (head_forward(alpha, &h2), head_forward(beta, &h2)),
        };
        for v in alpha.iter_mut().chain(beta.iter_mut()) {
            *v = softplus(*v) + floor;
        }
        PosteriorVec { alpha, beta }
    }
}

/// Int8 weights of an `inputs × outputs` layer rearranged into pair order.
pub fn pair_ordered(inputs: usize, outputs: usize, input_major: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; input_major.len()];
    super::kernel::to_pair_order(inputs, outputs, input_major, &mut out);
    out
}

/// An int8 hidden layer's buffers: pair-ordered weights, biases, multipliers.
type HiddenBuffers<const IN: usize, const OUT: usize> = (Align4<[[i8; OUT]; IN]>, [i32; OUT], [i32; OUT]);
/// An int8 head's buffers: pair-ordered weights, biases, output scales.
type HeadBuffers<const IN: usize, const OUT: usize> = (Align4<[[i8; OUT]; IN]>, [i32; OUT], [f32; OUT]);

/// Fixed-size buffers holding a quantised model decoded at run time (host tools, tests and
/// benchmarks; a device keeps its weights in flash as `static`s from a `build.rs`). Weights
/// are stored in the kernels' orders; [`QuantizedStorage::model`] borrows them.
#[derive(Debug, Clone)]
pub struct QuantizedStorage<const M: usize, const H1: usize, const H2: usize, const R: usize> {
    input_offset: [f32; M],
    input_scale: [f32; M],
    dictionary: [[f32; R]; M],
    alpha0: f32,
    floor: f32,
    hybrid: bool,
    input_step: f32,
    hidden_steps: [f32; 2],
    layer1_float: ([[f32; H1]; M], [f32; H1]),
    layer1: HiddenBuffers<M, H1>,
    layer2: HiddenBuffers<H1, H2>,
    heads_float: [([[f32; R]; H2], [f32; R]); 2],
    heads: [HeadBuffers<H2, R>; 2],
}

fn copy<T: Copy>(dst: &mut [T], src: &[T]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

fn copy_hidden<const IN: usize, const OUT: usize>(dst: &mut HiddenBuffers<IN, OUT>, src: &HiddenArrays) {
    copy(dst.0 .0.as_flattened_mut(), &pair_ordered(IN, OUT, &src.weights));
    copy(&mut dst.1, &src.bias);
    copy(&mut dst.2, &src.multiplier);
}

fn head_layer<const IN: usize, const OUT: usize>(h: &HeadBuffers<IN, OUT>) -> HeadLayer<'_, IN, OUT> {
    HeadLayer {
        layer: QuantLayer {
            weights: &h.0 .0,
            bias: &h.1,
        },
        output_scale: &h.2,
    }
}

fn hidden_layer<const IN: usize, const OUT: usize>(l: &HiddenBuffers<IN, OUT>) -> HiddenLayer<'_, IN, OUT> {
    HiddenLayer {
        layer: QuantLayer {
            weights: &l.0 .0,
            bias: &l.1,
        },
        multiplier: &l.2,
    }
}

impl<const M: usize, const H1: usize, const H2: usize, const R: usize> QuantizedStorage<M, H1, H2, R> {
    /// Copies a validated quantised `blob` whose dimensions are exactly `M, H1, H2, R`.
    pub fn from_blob(blob: &ModelBlob) -> Result<Box<Self>, ModelError> {
        blob.validate()?;
        blob.dims.expect(&ModelParts::<M, H1, H2, R>::dims())?;
        let q = blob
            .quantized
            .as_ref()
            .ok_or(ModelError::EncoderPresence { present: false })?;
        let mut s = Box::new(Self {
            input_offset: [0.0; M],
            input_scale: [0.0; M],
            dictionary: [[0.0; R]; M],
            alpha0: blob.alpha0,
            floor: blob.floor,
            hybrid: q.is_hybrid(),
            input_step: 1.0,
            hidden_steps: [1.0; 2],
            layer1_float: ([[0.0; H1]; M], [0.0; H1]),
            layer1: (Align4([[0; H1]; M]), [0; H1], [0; H1]),
            layer2: (Align4([[0; H2]; H1]), [0; H2], [0; H2]),
            heads_float: [([[0.0; R]; H2], [0.0; R]); 2],
            heads: [(Align4([[0; R]; H2]), [0; R], [0.0; R]); 2],
        });
        copy(&mut s.input_offset, &blob.input_offset);
        copy(&mut s.input_scale, &blob.input_scale);
        copy(s.dictionary.as_flattened_mut(), &blob.dictionary);
        match &q.layer1 {
            FirstLayerArrays::Float {
                weights,
                bias,
                output_step,
            } => {
                crate::model::to_panel_order(M, H1, weights, s.layer1_float.0.as_flattened_mut());
                copy(&mut s.layer1_float.1, bias);
                s.hidden_steps[0] = *output_step;
            }
            FirstLayerArrays::Int8 { input_step, layer } => {
                s.input_step = *input_step;
                copy_hidden(&mut s.layer1, layer);
            }
        }
        copy_hidden(&mut s.layer2, &q.layer2);
        match &q.heads {
            HeadsArrays::Float {
                input_step,
                alpha_weights,
                alpha_bias,
                beta_weights,
                beta_bias,
            } => {
                s.hidden_steps[1] = *input_step;
                for (dst, (w, b)) in s
                    .heads_float
                    .iter_mut()
                    .zip([(alpha_weights, alpha_bias), (beta_weights, beta_bias)])
                {
                    crate::model::to_panel_order(H2, R, w, dst.0.as_flattened_mut());
                    copy(&mut dst.1, b);
                }
            }
            HeadsArrays::Int8 { alpha, beta } => {
                for (dst, h) in s.heads.iter_mut().zip([alpha, beta]) {
                    copy(dst.0 .0.as_flattened_mut(), &pair_ordered(H2, R, &h.weights));
                    copy(&mut dst.1, &h.bias);
                    copy(&mut dst.2, &h.output_scale);
                }
            }
        }
        Ok(s)
    }

    /// The model borrowing these buffers (validated again, as every [`Model`] is).
    pub fn model(&self) -> Result<Model<'_, M, H1, H2, R>, ModelError> {
        let layer1 = if self.hybrid {
            FirstLayer::Float {
                layer: DenseLayer {
                    weights: &self.layer1_float.0,
                    bias: &self.layer1_float.1,
                },
                output_step: self.hidden_steps[0],
            }
        } else {
            FirstLayer::Int8 {
                input_step: self.input_step,
                layer: hidden_layer(&self.layer1),
            }
        };
        let heads = if self.hybrid {
            let [a, b] = &self.heads_float;
            QuantHeads::Float {
                input_step: self.hidden_steps[1],
                alpha: DenseLayer {
                    weights: &a.0,
                    bias: &a.1,
                },
                beta: DenseLayer {
                    weights: &b.0,
                    bias: &b.1,
                },
            }
        } else {
            QuantHeads::Int8 {
                alpha: head_layer(&self.heads[0]),
                beta: head_layer(&self.heads[1]),
            }
        };
        Model::new_checked(ModelParts {
            input_offset: &self.input_offset,
            input_scale: &self.input_scale,
            alpha0: self.alpha0,
            floor: self.floor,
            encoder: None,
            quantized: Some(QuantizedEncoder {
                layer1,
                layer2: hidden_layer(&self.layer2),
                heads,
            }),
            dictionary: &self.dictionary,
        })
    }
}
