//! Encoder inference: scaled frame → dense+ReLU → dense+ReLU → heads → Gamma (α, β).
//!
//! No heap, no recursion; the stack holds two hidden activations (`H1 + H2` floats), however
//! many weights the layers have. Each output's dot product is summed in input order, so the
//! result is the same on every IEEE-754 target (no fused multiply-add is used).

use crate::math::softplus;
use crate::model::{DenseLayer, Model, PANEL};

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

impl<const IN: usize, const OUT: usize> DenseLayer<'_, IN, OUT> {
    /// `out = b + Wᵀ x`. Each output is summed as `b + w₀x₀ + w₁x₁ + …` in input order,
    /// whichever panel computes it.
    ///
    /// Panel by panel (four at once on hosts): a panel's [`PANEL`] accumulators stay in
    /// registers while its weights stream past in storage order, so each weight costs one
    /// load and one multiply-accumulate. On a Cortex-M4F the full panels go to `quant::dsp`'s
    /// kernel: one `VLDM` of a panel's 8 weights per input and `VMLA.F32`, which rounds like
    /// `VMUL` + `VADD` — the same bits.
    pub fn forward(&self, x: &[f32; IN], out: &mut [f32; OUT]) {
        if IN == 0 {
            *out = *self.bias;
            return;
        }
        let flat = self.weights.as_flattened();
        let (full_bias, tail_bias) = self.bias.as_chunks::<PANEL>();
        let (full_out, tail_out) = out.as_chunks_mut::<PANEL>();
        let (full, tail) = flat
            .split_at_checked(full_bias.len() * PANEL * IN)
            .unwrap_or((flat, &[]));
        #[cfg(vaenmf_fpu)]
        let panels_done = crate::quant::dense_panels_f32(full, x, full_bias, full_out);
        #[cfg(not(vaenmf_fpu))]
        let panels_done = false;
        let panels = full.chunks_exact(PANEL * IN).map(|p| p.as_chunks::<PANEL>().0);
        let skip = if panels_done { full_bias.len() } else { 0 };
        let mut panels = panels.zip(full_bias).zip(full_out).skip(skip);
        // A host's FPU has latency to hide: four panels at a time give four independent
        // chains of additions. A Cortex-M4F has registers for one panel's accumulators (and
        // its `VLDM` + `VMLA.F32` kernel, `quant::dsp`, has done the full panels above).
        let groups = if cfg!(target_arch = "arm") {
            0
        } else {
            full_bias.len() / 4
        };
        for _ in 0..groups {
            let (Some(p0), Some(p1), Some(p2), Some(p3)) =
                (panels.next(), panels.next(), panels.next(), panels.next())
            else {
                break;
            };
            let ((rows0, b0), o0) = p0;
            let ((rows1, b1), o1) = p1;
            let ((rows2, b2), o2) = p2;
            let ((rows3, b3), o3) = p3;
            let mut acc = [*b0, *b1, *b2, *b3];
            let rows = x.iter().zip(rows0).zip(rows1).zip(rows2).zip(rows3);
            for ((((&xi, w0), w1), w2), w3) in rows {
                for (a, w) in acc.iter_mut().zip([w0, w1, w2, w3]) {
                    for (ak, &wk) in a.iter_mut().zip(w) {
                        *ak += wk * xi;
                    }
                }
            }
            for (o, a) in [o0, o1, o2, o3].into_iter().zip(acc) {
                *o = a;
            }
        }
        for ((rows, bias), o) in panels {
            let mut acc = *bias;
            for (&xi, w) in x.iter().zip(rows) {
                for (a, &wk) in acc.iter_mut().zip(w) {
                    *a += wk * xi;
                }
            }
            *o = acc;
        }
        // The narrower last panel (OUT mod PANEL outputs), e.g. the heads' R outputs.
        let width = tail_bias.len();
        if width > 0 {
            let mut acc = [0.0f32; PANEL];
            for (a, &b) in acc.iter_mut().zip(tail_bias) {
                *a = b;
            }
            for (&xi, w) in x.iter().zip(tail.chunks_exact(width)) {
                for (a, &wk) in acc.iter_mut().zip(w) {
                    *a += wk * xi;
                }
            }
            for (o, a) in tail_out.iter_mut().zip(acc) {
                *o = a;
            }
        }
    }
}

fn relu_in_place(v: &mut [f32]) {
    for x in v {
        *x = x.max(0.0);
    }
}

impl<const M: usize, const H1: usize, const H2: usize, const R: usize> Model<'_, M, H1, H2, R> {
    /// Runs the encoder (f32 or quantised) on an already scaled frame (see
    /// [`Model::scale_input`]). `None` for an NMF-only model.
    pub fn encode_scaled(&self, x: &[f32; M]) -> Option<Posterior<R>> {
        let floor = self.parts().floor;
        if let Some(quantized) = self.quantized() {
            return Some(quantized.encode_scaled(x, floor));
        }
        let enc = self.encoder()?;
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
