//! Post-training quantisation (`vaenmf quantize`): calibrate on training frames, quantise
//! with the core's quantiser, and measure the quantised model against the f32 one on the
//! same frames with the core's inference (the numbers a device computes).

use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use vaenmf_core::quant::calibrate::{calibrate, quantize, ActivationRanges, Variant};
use vaenmf_core::{vaf, ModelBlob};

use crate::data::EmgMatrix;

/// How far the quantised model's activations and reconstruction are from the f32 model's.
#[derive(Debug, Clone, Serialize)]
pub struct Accuracy {
    /// Frames compared.
    pub frames: usize,
    /// `‖Z_q − Z‖_F / ‖Z‖_F` over all frames' activation vectors (posterior means).
    pub relative_error: f64,
    /// Per frame `‖z_q − z‖ / ‖z‖`: mean, 95th percentile and largest.
    pub relative_error_mean: f64,
    /// 95th percentile of the per-frame relative error.
    pub relative_error_p95: f64,
    /// Largest per-frame relative error.
    pub relative_error_max: f64,
    /// Global VAF of `W z` (scaled units) with the f32 encoder.
    pub vaf_f32: f32,
    /// The same with the quantised encoder.
    pub vaf_quantized: f32,
}

impl Accuracy {
    /// `vaf_quantized − vaf_f32`.
    pub fn vaf_difference(&self) -> f32 {
        self.vaf_quantized - self.vaf_f32
    }
}

/// What a model makes of a run of frames.
struct Tracked {
    /// Posterior means, one vector per frame.
    activations: Vec<Vec<f32>>,
    /// The scaled inputs, frame-major.
    inputs: Vec<f32>,
    /// `W z` per frame, frame-major.
    reconstructions: Vec<f32>,
}

/// Activations (posterior means) and reconstructions of raw `frames` under `blob`, frame by
/// frame as the tracker computes them (negatives clamped to 0, then the model's scaling).
fn activations(blob: &ModelBlob, frames: &EmgMatrix) -> Result<Tracked> {
    let (m, r) = (blob.dims.channels as usize, blob.dims.rank as usize);
    if frames.channels != m {
        bail!("the data has {} channels, the model {m}", frames.channels);
    }
    let mut x = vec![0.0f32; m];
    let (mut z_all, mut inputs, mut reconstructions) = (Vec::new(), Vec::new(), Vec::new());
    for (f, raw) in frames.data.chunks_exact(m).enumerate() {
        let clamped: Vec<f32> = raw.iter().map(|v| v.max(0.0)).collect();
        blob.scale_input(&clamped, &mut x)
            .map_err(|e| anyhow!("frame {f}: {e}"))?;
        let z = blob
            .posterior_mean(&x)
            .map_err(|e| anyhow!("frame {f}: {e}"))?
            .ok_or_else(|| anyhow!("the model has no encoder"))?;
        for c in 0..m {
            reconstructions.push((0..r).map(|k| blob.dictionary[c * r + k] * z[k]).sum::<f32>());
        }
        inputs.extend_from_slice(&x);
        z_all.push(z);
    }
    Ok(Tracked {
        activations: z_all,
        inputs,
        reconstructions,
    })
}

/// Compares `quantized` against `reference` (the same model with its f32 encoder) on raw
/// `frames`.
pub fn accuracy(reference: &ModelBlob, quantized: &ModelBlob, frames: &EmgMatrix) -> Result<Accuracy> {
    let f = activations(reference, frames)?;
    let q = activations(quantized, frames)?;
    let (z, x, xhat) = (&f.activations, &f.inputs, &f.reconstructions);
    let (zq, xhat_q) = (&q.activations, &q.reconstructions);
    let norm2 = |v: &[f32]| v.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>();
    let mut per_frame: Vec<f64> = Vec::with_capacity(z.len());
    let (mut err_total, mut norm_total) = (0.0, 0.0);
    for (a, b) in z.iter().zip(zq) {
        let diff: Vec<f32> = a.iter().zip(b).map(|(p, q)| q - p).collect();
        let (e, n) = (norm2(&diff), norm2(a));
        err_total += e;
        norm_total += n;
        per_frame.push(if n > 0.0 { (e / n).sqrt() } else { e.sqrt() });
    }
    if per_frame.is_empty() {
        bail!("no frames to compare");
    }
    let mut sorted = per_frame.clone();
    sorted.sort_by(f64::total_cmp);
    let p95 = sorted[((sorted.len() as f64 * 0.95).ceil() as usize).clamp(1, sorted.len()) - 1];
    Ok(Accuracy {
        frames: per_frame.len(),
        relative_error: (err_total / norm_total.max(f64::MIN_POSITIVE)).sqrt(),
        relative_error_mean: per_frame.iter().sum::<f64>() / per_frame.len() as f64,
        relative_error_p95: p95,
        relative_error_max: sorted[sorted.len() - 1],
        vaf_f32: vaf(x, xhat).map_err(|e| anyhow!("VAF: {e}"))?,
        vaf_quantized: vaf(x, xhat_q).map_err(|e| anyhow!("VAF: {e}"))?,
    })
}

/// A quantised model and what calibration saw.
#[derive(Debug, Clone)]
pub struct Quantized {
    /// The model with its encoder quantised.
    pub blob: ModelBlob,
    /// Largest magnitudes per tensor on the calibration frames.
    pub ranges: ActivationRanges,
}

/// Calibrates on raw `calibration` frames and quantises `blob`'s encoder.
pub fn quantize_model(blob: &ModelBlob, calibration: &EmgMatrix, variant: Variant) -> Result<Quantized> {
    if blob.encoder.is_none() {
        if blob.quantized.is_some() {
            bail!("the model is already quantised");
        }
        bail!("the model has no encoder (an NMF model): only VAE-NMF encoders are quantised");
    }
    if calibration.channels != blob.dims.channels as usize {
        bail!(
            "the calibration data has {} channels, the model {}",
            calibration.channels,
            blob.dims.channels
        );
    }
    let clamped: Vec<f32> = calibration.data.iter().map(|v| v.max(0.0)).collect();
    let ranges = calibrate(blob, &clamped).map_err(|e| anyhow!("{e}"))?;
    let blob = quantize(blob, &ranges, variant).map_err(|e| anyhow!("{e}"))?;
    Ok(Quantized { blob, ranges })
}
