//! Run-time-sized inference on an owned [`ModelBlob`] (feature `alloc`): what host tools use
//! when the dimensions are known only after reading a file.
//!
//! It computes exactly what the const-generic path computes — the same input scaling, each
//! output summed `b + w₀x₀ + w₁x₁ + …` in input order without fused multiply-add, the same
//! softplus and floor — so its activations are bit-identical to [`Model::encode`] and to a
//! device running the firmware with the same blob (tested against the const-generic path, and
//! under QEMU through `vaenmf eval --activations`). It is simpler and slower than the panel
//! kernel; use [`Model`] where the dimensions are fixed at build time.
//!
//! [`Model`]: crate::Model
//! [`Model::encode`]: crate::Model::encode

use alloc::vec;
use alloc::vec::Vec;

use crate::blob::ModelBlob;
use crate::error::{len_u32, InputError};
use crate::linalg::dense;
use crate::math::softplus;

fn relu(v: &mut [f32]) {
    for x in v {
        *x = x.max(0.0);
    }
}

/// Posterior of one frame with run-time length `r` (shape α, rate β), as
/// [`Posterior`](crate::Posterior) is for a const-generic model.
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorVec {
    /// Shape α_k > 0 per synergy.
    pub alpha: Vec<f32>,
    /// Rate β_k > 0 per synergy.
    pub beta: Vec<f32>,
}

impl PosteriorVec {
    /// Posterior mean α/β: the activation estimate.
    pub fn mean(&self) -> Vec<f32> {
        self.alpha.iter().zip(&self.beta).map(|(a, b)| a / b).collect()
    }
}

impl ModelBlob {
    /// Applies the input scaling `(raw − offset) · scale` channel by channel into `out`.
    ///
    /// Errors when `raw` or `out` does not have one value per channel.
    pub fn scale_input(&self, raw: &[f32], out: &mut [f32]) -> Result<(), InputError> {
        let m = self.input_scale.len();
        for len in [raw.len(), out.len()] {
            if len != m {
                return Err(InputError::LengthMismatch {
                    expected: len_u32(m),
                    found: len_u32(len),
                });
            }
        }
        for (((o, &x), &off), &s) in out
            .iter_mut()
            .zip(raw)
            .zip(&self.input_offset)
            .zip(&self.input_scale)
        {
            *o = (x - off) * s;
        }
        Ok(())
    }

    /// The encoder's posterior (α, β), `r` values each, for an already scaled frame; `None`
    /// for an NMF-only model. Errors on a frame of the wrong length or with a non-finite
    /// value (naming the channel).
    pub fn encode_scaled(&self, x: &[f32]) -> Result<Option<PosteriorVec>, InputError> {
        let (m, h1, h2, r) = self.dims.sizes();
        if x.len() != m {
            return Err(InputError::LengthMismatch {
                expected: len_u32(m),
                found: len_u32(x.len()),
            });
        }
        if let Some(channel) = x.iter().position(|v| !v.is_finite()) {
            return Err(InputError::NonFinite {
                channel: len_u32(channel),
            });
        }
        if let Some(quantized) = &self.quantized {
            return Ok(Some(quantized.encode_scaled(x, self.floor)));
        }
        let Some(enc) = &self.encoder else {
            return Ok(None);
        };
        let mut hidden1 = vec![0.0f32; h1];
        dense(x, &enc.layer1_weights, &enc.layer1_bias, &mut hidden1);
        relu(&mut hidden1);
        let mut hidden2 = vec![0.0f32; h2];
        dense(&hidden1, &enc.layer2_weights, &enc.layer2_bias, &mut hidden2);
        relu(&mut hidden2);
        let mut alpha = vec![0.0f32; r];
        let mut beta = vec![0.0f32; r];
        dense(
            &hidden2,
            &enc.alpha_head_weights,
            &enc.alpha_head_bias,
            &mut alpha,
        );
        dense(&hidden2, &enc.beta_head_weights, &enc.beta_head_bias, &mut beta);
        for v in alpha.iter_mut().chain(beta.iter_mut()) {
            *v = softplus(*v) + self.floor;
        }
        Ok(Some(PosteriorVec { alpha, beta }))
    }

    /// Posterior means `α/β` of an already scaled frame (`None` for an NMF-only model).
    pub fn posterior_mean(&self, x: &[f32]) -> Result<Option<Vec<f32>>, InputError> {
        Ok(self.encode_scaled(x)?.map(|p| p.mean()))
    }
}
