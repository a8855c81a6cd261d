//! Signal helpers: the trainer's EMG envelope and the core's VAF.

use numpy::PyReadonlyArray2;
use pyo3::prelude::*;
use vaenmf_trainer::data::envelope::{envelope as emg_envelope, EnvelopeConfig};

use crate::arrays::{matrix, synergies, to_numpy, Matrix};
use crate::errors::OrPyErr;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(envelope, m)?)?;
    m.add_function(wrap_pyfunction!(vaf, m)?)?;
    Ok(())
}

/// Linear envelopes of raw EMG `raw` (samples × channels) sampled at `fs` Hz: DC removed,
/// band-passed, rectified, low-passed (zero-phase, or forward only from the steady state
/// when `causal`: the device's envelope), every `decimate`-th sample kept. Returns the
/// envelopes and the stages skipped, with why.
#[pyfunction]
#[pyo3(signature = (raw, fs, band, lowpass, order, decimate, causal))]
#[allow(clippy::too_many_arguments)] // the envelope's settings, as Python passes them
fn envelope<'py>(
    py: Python<'py>,
    raw: PyReadonlyArray2<'py, f32>,
    fs: f64,
    band: (f64, f64),
    lowpass: f64,
    order: usize,
    decimate: usize,
    causal: bool,
) -> PyResult<(Matrix<'py>, Vec<String>)> {
    let raw = matrix(&raw)?;
    let params = EnvelopeConfig {
        fs,
        band,
        lowpass,
        order,
        decimate,
        causal,
    }
    .check()
    .or_py()?;
    let (env, log) = py.detach(|| emg_envelope(&raw, &params)).or_py()?;
    Ok((to_numpy(py, env.frames, env.channels, env.data)?, log.skipped))
}

/// Uncentred VAF of `x` (frames × channels) by `activations @ components` (frames × r, r ×
/// channels): the core's sums, as the reports and the device compute them.
#[pyfunction]
fn vaf(
    x: PyReadonlyArray2<'_, f32>,
    activations: PyReadonlyArray2<'_, f32>,
    components: PyReadonlyArray2<'_, f32>,
) -> PyResult<f64> {
    let x = matrix(&x)?;
    let z: Vec<f32> = activations.as_array().iter().copied().collect();
    let synergies = synergies(&components);
    let xhat = synergies.reconstruct(&z);
    if xhat.len() != x.data.len() {
        return Err(anyhow::anyhow!(
            "X has {} frames × {} channels, W @ H gives {} values",
            x.frames,
            x.channels,
            xhat.len()
        ))
        .or_py();
    }
    let v = vaenmf_core::vaf(&x.data, &xhat)
        .map_err(|e| anyhow::anyhow!("VAF: {e}"))
        .or_py()?;
    Ok(f64::from(v))
}
