//! Model files: the core's blob bytes read, written, described, quantised, and run.
//!
//! Python holds a model as its blob bytes; every function here decodes them with the core's
//! validating decoder, so a blob Python saves is one `vaenmf inspect` and the firmware's
//! `build.rs` accept, and an invalid file is refused with the decoder's message.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use numpy::PyReadonlyArray2;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use vaenmf_core::quant::calibrate::Variant;
use vaenmf_core::ModelBlob;
use vaenmf_trainer::speech::methods::enhancer::is_enhancer_blob;

use crate::arrays::{matrix, synergies, to_numpy, Matrix};
use crate::errors::OrPyErr;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_model, m)?)?;
    m.add_function(wrap_pyfunction!(write_model, m)?)?;
    m.add_function(wrap_pyfunction!(describe, m)?)?;
    m.add_function(wrap_pyfunction!(blob_info, m)?)?;
    m.add_function(wrap_pyfunction!(nmf_blob, m)?)?;
    m.add_function(wrap_pyfunction!(posterior, m)?)?;
    m.add_function(wrap_pyfunction!(quantize, m)?)?;
    Ok(())
}

/// The blob in `bytes`; errors say it is `what`.
fn decode(bytes: &[u8], what: &str) -> PyResult<ModelBlob> {
    ModelBlob::from_bytes(bytes)
        .map_err(|e| anyhow!("{what}: {e}"))
        .or_py()
}

fn encode(blob: &ModelBlob) -> PyResult<Vec<u8>> {
    blob.to_bytes().map_err(|e| anyhow!("the model: {e}")).or_py()
}

/// The bytes of the model file at `path`, checked (an EMG blob or a speech enhancer). Returns
/// `(bytes, is_speech_enhancer)`.
#[pyfunction]
fn read_model(py: Python<'_>, path: PathBuf) -> PyResult<(Bound<'_, PyBytes>, bool)> {
    let bytes = std::fs::read(&path)
        .with_context(|| format!("{}: cannot read", path.display()))
        .or_py()?;
    // Checking is decoding: the same code `vaenmf inspect` runs.
    vaenmf_trainer::inspect::describe_model(&path.display().to_string(), &bytes).or_py()?;
    let speech = is_enhancer_blob(&bytes);
    Ok((PyBytes::new(py, &bytes), speech))
}

/// Writes `bytes` to `path` atomically (whole or not at all).
#[pyfunction]
fn write_model(path: PathBuf, bytes: &[u8]) -> PyResult<()> {
    vaenmf_trainer::output::write_atomic(&path, bytes).or_py()
}

/// `vaenmf inspect`'s text for the model `name` holding `bytes`.
#[pyfunction]
fn describe(name: &str, bytes: &[u8]) -> PyResult<String> {
    vaenmf_trainer::inspect::describe_model(name, bytes).or_py()
}

/// The blob's parts as a dict: `kind`, `channels`, `hidden`, `rank`, `alpha0`, `floor`,
/// `dictionary` (channels × rank), `input_offset`, `input_scale`, `channel_names`.
#[pyfunction]
fn blob_info<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let blob = decode(bytes, "the model")?;
    let d = blob.dims;
    let kind = match (&blob.encoder, &blob.quantized) {
        (Some(_), _) => "vae-nmf",
        (None, Some(q)) if q.is_hybrid() => "vae-nmf-hybrid",
        (None, Some(_)) => "vae-nmf-int8",
        (None, None) if blob.front_end.is_some() => "spectrogram-dictionary",
        (None, None) => "nmf",
    };
    let (m, r) = (d.channels as usize, d.rank as usize);
    let info = PyDict::new(py);
    info.set_item("kind", kind)?;
    info.set_item("channels", m)?;
    info.set_item("hidden", (d.hidden1, d.hidden2))?;
    info.set_item("rank", r)?;
    info.set_item("alpha0", blob.alpha0)?;
    info.set_item("floor", blob.floor)?;
    info.set_item("dictionary", to_numpy(py, m, r, blob.dictionary)?)?;
    info.set_item("input_offset", blob.input_offset)?;
    info.set_item("input_scale", blob.input_scale)?;
    info.set_item("channel_names", blob.channel_names)?;
    Ok(info)
}

/// An NMF model blob: `components` (rank × channels) as its dictionary, unit input scale.
#[pyfunction]
fn nmf_blob<'py>(
    py: Python<'py>,
    components: PyReadonlyArray2<'py, f32>,
    channel_names: Vec<String>,
) -> PyResult<Bound<'py, PyBytes>> {
    let synergies = synergies(&components);
    let mut blob = vaenmf_trainer::export::nmf_blob(&synergies, &vec![1.0; synergies.channels]);
    blob.channel_names = channel_names;
    blob.validate()
        .map_err(|e| anyhow!("the NMF model: {e}"))
        .or_py()?;
    Ok(PyBytes::new(py, &encode(&blob)?))
}

/// The encoder's posterior (α, β), frames × rank each, of raw frames `x` (the blob's input
/// scaling applied): the core's inference, bit for bit what a device computes.
#[pyfunction]
fn posterior<'py>(
    py: Python<'py>,
    bytes: &[u8],
    x: PyReadonlyArray2<'py, f32>,
) -> PyResult<(Matrix<'py>, Matrix<'py>)> {
    let blob = decode(bytes, "the model")?;
    let x = matrix(&x)?;
    let r = blob.dims.rank as usize;
    let (alpha, beta) = py
        .detach(|| -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
            let (mut alpha, mut beta) = (Vec::with_capacity(x.frames * r), Vec::with_capacity(x.frames * r));
            let mut scaled = vec![0.0f32; x.channels];
            for (f, frame) in x.frames_iter().enumerate() {
                let at = |e| anyhow!("frame {}: {e}", f + 1);
                blob.scale_input(frame, &mut scaled).map_err(at)?;
                let p = blob
                    .encode_scaled(&scaled)
                    .map_err(at)?
                    .ok_or_else(|| anyhow!("the model has no encoder (an NMF model)"))?;
                alpha.extend(p.alpha);
                beta.extend(p.beta);
            }
            Ok((alpha, beta))
        })
        .or_py()?;
    Ok((
        to_numpy(py, x.frames, r, alpha)?,
        to_numpy(py, x.frames, r, beta)?,
    ))
}

/// Quantises the f32 encoder of `bytes`, calibrated on raw frames `x`. Returns `(bytes,
/// accuracy)`: the quantised blob and a dict of its accuracy against the f32 model on `x`
/// (`vaenmf quantize`'s figures).
#[pyfunction]
fn quantize<'py>(
    py: Python<'py>,
    bytes: &[u8],
    x: PyReadonlyArray2<'py, f32>,
    hybrid: bool,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyDict>)> {
    let blob = decode(bytes, "the model")?;
    let x = matrix(&x)?;
    let variant = if hybrid {
        Variant::Hybrid
    } else {
        Variant::FullInt8
    };
    let (quantized, accuracy) = py
        .detach(|| -> anyhow::Result<_> {
            let q = vaenmf_trainer::quantize::quantize_model(&blob, &x, variant)?;
            let accuracy = vaenmf_trainer::quantize::accuracy(&blob, &q.blob, &x)?;
            Ok((q.blob, accuracy))
        })
        .or_py()?;
    let out = PyDict::new(py);
    out.set_item("frames", accuracy.frames)?;
    out.set_item("relative_error", accuracy.relative_error)?;
    out.set_item("relative_error_mean", accuracy.relative_error_mean)?;
    out.set_item("relative_error_p95", accuracy.relative_error_p95)?;
    out.set_item("relative_error_max", accuracy.relative_error_max)?;
    out.set_item("vaf_f32", accuracy.vaf_f32)?;
    out.set_item("vaf_quantized", accuracy.vaf_quantized)?;
    Ok((PyBytes::new(py, &encode(&quantized)?), out))
}
