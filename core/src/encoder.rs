//! Encoder inference: scaled frame → dense+ReLU → dense+ReLU → heads → Gamma (α, β).
//!
//! No heap, no recursion; the stack holds two hidden activations (`H1 + H2` floats), however
//! many weights the layers have. Each output's dot product is summed in input order, so the
//! result is the same on every IEEE-754 target (no fused multiply-add is used).

use crate::math::softplus;
use crate::model::{DenseLayer, Model};

/// Posterior `q(z | x) = ∏ Gamma(α_k, β_k)` for one frame (shape α, rate β).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Posterior<const R: usize> {
    /// Shape α_k > 0 per synergy.
    pub alpha: [f32; R],
    /// Rate β_k > 0 per synergy.
    pub beta: [f32; R],
}

impl<const R: usize> Posterior<R> {
    /// Posterior mean α/β: the activation estimate.
    pub fn mean(&self) -> [f32; R] {
        core::array::from_fn(|k| self.alpha[k] / self.beta[k])
    }

    /// Posterior variance α/β²: a per-synergy confidence.
    pub fn variance(&self) -> [f32; R] {
        core::array::from_fn(|k| self.alpha[k] / (self.beta[k] * self.beta[k]))
    }
}

/// Outputs computed together: their accumulators stay in registers while the inputs stream
/// past, so each weight costs one load and one multiply-add (on a Cortex-M4: 8 S-registers
/// of accumulators; on a host the block vectorises).
const OUTPUT_BLOCK: usize = 8;

impl<const IN: usize, const OUT: usize> DenseLayer<'_, IN, OUT> {
    /// `out = b + Wᵀ x` (weights input-major). Each output is summed as
    /// `b + w₀x₀ + w₁x₁ + …` in input order, whichever code path computes it.
    pub fn forward(&self, x: &[f32; IN], out: &mut [f32; OUT]) {
        let mut start = 0;
        while start + OUTPUT_BLOCK <= OUT {
            let mut acc = [0.0f32; OUTPUT_BLOCK];
            if let Some(b) = self.bias[start..].first_chunk::<OUTPUT_BLOCK>() {
                acc = *b;
            }
            // Input i's weights for this block start at i·OUT + start: stepping through the
            // flat array in strides of OUT keeps the loop to one pointer increment.
            let strips = self.weights.as_flattened()[start..].chunks(OUT);
            for (&xi, strip) in x.iter().zip(strips) {
                if let Some(w) = strip.first_chunk::<OUTPUT_BLOCK>() {
                    for (a, &wk) in acc.iter_mut().zip(w) {
                        *a += wk * xi;
                    }
                }
            }
            if let Some(o) = out[start..].first_chunk_mut::<OUTPUT_BLOCK>() {
                *o = acc;
            }
            start += OUTPUT_BLOCK;
        }
        for o in start..OUT {
            out[o] = x
                .iter()
                .zip(self.weights)
                .fold(self.bias[o], |acc, (&xi, row)| acc + row[o] * xi);
        }
    }
}

fn relu_in_place(v: &mut [f32]) {
    for x in v {
        *x = x.max(0.0);
    }
}

impl<const M: usize, const H1: usize, const H2: usize, const R: usize> Model<'_, M, H1, H2, R> {
    /// Runs the encoder on an already scaled frame (see [`Model::scale_input`]).
    /// `None` for an NMF-only model.
    pub fn encode_scaled(&self, x: &[f32; M]) -> Option<Posterior<R>> {
        let enc = self.encoder()?;
        let floor = self.parts().floor;
        let mut h1 = [0.0f32; H1];
        enc.layer1.forward(x, &mut h1);
        relu_in_place(&mut h1);
        let mut h2 = [0.0f32; H2];
        enc.layer2.forward(&h1, &mut h2);
        relu_in_place(&mut h2);
        let mut alpha = [0.0f32; R];
        let mut beta = [0.0f32; R];
        enc.alpha_head.forward(&h2, &mut alpha);
        enc.beta_head.forward(&h2, &mut beta);
        for v in alpha.iter_mut().chain(beta.iter_mut()) {
            *v = softplus(*v) + floor;
        }
        Some(Posterior { alpha, beta })
    }

    /// Scales a raw frame and runs the encoder. `None` for an NMF-only model.
    pub fn encode(&self, raw: &[f32; M]) -> Option<Posterior<R>> {
        self.encode_scaled(&self.scale_input(raw))
    }
}
