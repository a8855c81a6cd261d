//! VAE-NMF (the paper's model) with burn: [`model`], [`sampler`], [`special`] functions,
//! [`training`], and export to / import from the core's model blob.

pub mod checkpoint;
pub mod fused_adam;
pub mod model;
pub mod sampler;
pub mod special;
pub mod subnormal;
pub mod training;

use anyhow::{bail, Result};
use burn::module::Param;
use burn::prelude::*;
use burn::tensor::TensorData;
use vaenmf_core::{Dims, EncoderArrays, ModelBlob};

use model::{VaeNmf, VaeNmfConfig};
use sampler::to_vec;

/// How negative the decoder was before the final clamp to W ≥ 0.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ClampReport {
    /// Smallest decoder weight before clamping.
    pub w_min_before_clamp: f64,
    /// Fraction of decoder weights that were negative.
    pub w_negative_fraction: f64,
}

fn linear_arrays(l: &burn::nn::Linear) -> Result<(Vec<f32>, Vec<f32>)> {
    // burn's Linear weight is [d_in, d_out], the blob's input-major layout: a plain copy.
    let w = subnormal::flush(to_vec(l.weight.val())?);
    let b = match l.bias.as_ref() {
        Some(b) => subnormal::flush(to_vec(b.val())?),
        None => Vec::new(),
    };
    Ok((w, b))
}

/// The dictionary `W` (`m × r`, row-major) with negatives clamped to 0, and the clamp report.
pub fn dictionary(model: &VaeNmf) -> Result<(Vec<f32>, ClampReport)> {
    let [r, m] = model.decoder.val().dims();
    let wt = to_vec(model.decoder.val())?;
    let mut w = vec![0.0f32; m * r];
    for k in 0..r {
        for i in 0..m {
            w[i * r + k] = wt[k * m + i];
        }
    }
    let min = w.iter().copied().fold(f32::INFINITY, f32::min);
    let negative = w.iter().filter(|&&v| v < 0.0).count();
    w.iter_mut().for_each(|v| *v = v.max(0.0));
    Ok((
        w,
        ClampReport {
            w_min_before_clamp: f64::from(min),
            w_negative_fraction: negative as f64 / (m * r).max(1) as f64,
        },
    ))
}

/// The core's model blob for a trained model (W clamped to ≥ 0).
pub fn to_blob(model: &VaeNmf, arch: &VaeNmfConfig, alpha0: f64, input_scale: &[f32]) -> Result<ModelBlob> {
    let (l1w, l1b) = linear_arrays(&model.layer1)?;
    let (l2w, l2b) = linear_arrays(&model.layer2)?;
    let (aw, ab) = linear_arrays(&model.alpha_head)?;
    let (bw, bb) = linear_arrays(&model.beta_head)?;
    Ok(ModelBlob {
        dims: Dims {
            channels: arch.channels as u32,
            hidden1: arch.hidden1 as u32,
            hidden2: arch.hidden2 as u32,
            rank: arch.rank as u32,
        },
        alpha0: alpha0 as f32,
        floor: arch.floor as f32,
        input_offset: vec![0.0; arch.channels],
        input_scale: input_scale.to_vec(),
        encoder: Some(EncoderArrays {
            layer1_weights: l1w,
            layer1_bias: l1b,
            layer2_weights: l2w,
            layer2_bias: l2b,
            alpha_head_weights: aw,
            alpha_head_bias: ab,
            beta_head_weights: bw,
            beta_head_bias: bb,
        }),
        quantized: None,
        dictionary: dictionary(model)?.0,
        channel_names: Vec::new(),
        front_end: None,
    })
}

fn set_linear(l: &mut burn::nn::Linear, w: &[f32], b: &[f32], d_in: usize, d_out: usize, device: &Device) {
    l.weight = Param::from_tensor(Tensor::from_data(
        TensorData::new(w.to_vec(), [d_in, d_out]),
        device,
    ));
    l.bias = Some(Param::from_tensor(Tensor::from_data(
        TensorData::new(b.to_vec(), [d_out]),
        device,
    )));
}

/// A burn model holding a blob's weights (for evaluating encoder models on the host).
pub fn from_blob(blob: &ModelBlob, device: &Device) -> Result<(VaeNmf, VaeNmfConfig)> {
    let Some(enc) = &blob.encoder else {
        bail!("the model has no encoder");
    };
    let d = blob.dims;
    let (m, h1, h2, r) = d.sizes();
    let arch = VaeNmfConfig::new(m, r)
        .with_hidden1(h1)
        .with_hidden2(h2)
        .with_floor(f64::from(blob.floor));
    let wt: Vec<f32> = (0..r)
        .flat_map(|k| (0..m).map(move |i| blob.dictionary[i * r + k]))
        .collect();
    let mut model = arch.init(Tensor::from_data(TensorData::new(wt, [r, m]), device), device);
    set_linear(
        &mut model.layer1,
        &enc.layer1_weights,
        &enc.layer1_bias,
        m,
        h1,
        device,
    );
    set_linear(
        &mut model.layer2,
        &enc.layer2_weights,
        &enc.layer2_bias,
        h1,
        h2,
        device,
    );
    set_linear(
        &mut model.alpha_head,
        &enc.alpha_head_weights,
        &enc.alpha_head_bias,
        h2,
        r,
        device,
    );
    set_linear(
        &mut model.beta_head,
        &enc.beta_head_weights,
        &enc.beta_head_bias,
        h2,
        r,
        device,
    );
    Ok((model, arch))
}
