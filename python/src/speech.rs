//! Speech: enhance a recording with any enhancer file, and score an estimate with the
//! measures of `vaenmf speech metrics`.

use anyhow::{bail, Context};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use vaenmf_trainer::speech::front_end::audio::resample;
use vaenmf_trainer::speech::methods::enhancer::{gain_floor_db, Enhancer};
use vaenmf_trainer::speech::methods::streaming::{check_updates_per_frame, Mode};
use vaenmf_trainer::speech::metrics::bss_eval::Assignment;
use vaenmf_trainer::speech::metrics::report::metrics_report;

use crate::arrays::{to_numpy1, vector};
use crate::errors::OrPyErr;
use crate::interrupt;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(enhance, m)?)?;
    m.add_function(wrap_pyfunction!(metrics, m)?)?;
    m.add_function(wrap_pyfunction!(enhancer_rate, m)?)?;
    Ok(())
}

fn enhancer(bytes: &[u8]) -> anyhow::Result<Enhancer> {
    Enhancer::from_bytes("the model", bytes)
}

/// The sample rate the enhancer works at, Hz.
#[pyfunction]
fn enhancer_rate(bytes: &[u8]) -> PyResult<u32> {
    Ok(enhancer(bytes).or_py()?.blob().front_end.sample_rate)
}

/// The speech estimate of mono `samples` at `rate` Hz, as long as they are. `mode`:
/// `default` (network methods streamed, the others whole utterance), `stream` or `offline`,
/// as `vaenmf speech enhance`; `gain_floor_db` overrides the enhancer's floor (`None`: its
/// own). A rate other than the enhancer's is an error unless `resample`, which converts to the
/// enhancer's rate and the estimate back.
#[pyfunction]
#[pyo3(signature = (bytes, samples, rate, mode, updates_per_frame, gain_floor, resample_rate))]
#[allow(clippy::too_many_arguments)]
fn enhance<'py>(
    py: Python<'py>,
    bytes: &[u8],
    samples: PyReadonlyArray1<'py, f32>,
    rate: u32,
    mode: &str,
    updates_per_frame: u32,
    gain_floor: Option<f64>,
    resample_rate: bool,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let updates_per_frame = check_updates_per_frame(updates_per_frame).or_py()?;
    let mode = match mode {
        "default" => Mode::Default { updates_per_frame },
        "stream" => Mode::Stream { updates_per_frame },
        "offline" => Mode::Offline,
        other => {
            return Err(vaenmf_trainer::params::ParamError::new(
                "mode",
                other,
                "one of default, stream, offline",
            ))
            .or_py()
        }
    };
    let mut enhancer = enhancer(bytes).or_py()?;
    if let Some(db) = gain_floor {
        enhancer = enhancer.with_gain_floor(gain_floor_db(db).or_py()?);
    }
    let noisy = vector(&samples);
    let estimate = interrupt::run(py, false, |_| {
        let own = enhancer.blob().front_end.sample_rate;
        if rate == own {
            return mode.enhance(&enhancer, &noisy);
        }
        if !resample_rate {
            bail!("samples: sample rate {rate} Hz, but the enhancer needs {own} Hz (pass resample=True, or convert the recording)");
        }
        let converted = resample(&noisy, rate, own).context("samples")?;
        let speech = mode.enhance(&enhancer, &converted)?;
        let mut back = resample(&speech, own, rate).context("the estimate")?;
        back.resize(noisy.len(), 0.0);
        Ok(back)
    })?;
    Ok(to_numpy1(py, estimate))
}

/// `vaenmf speech metrics`' report of `estimate` against `clean` speech and the `noise` added
/// to it (all at `rate` Hz), as JSON text: `sdr`, `sir`, `sar`, `pesq_nb_raw`,
/// `pesq_nb_mos_lqo`, `pesq_wb`, `stoi`, `estoi`, `permuted`, `bss_eval_assignment`,
/// `definitions`.
#[pyfunction]
fn metrics(
    py: Python<'_>,
    clean: PyReadonlyArray1<'_, f32>,
    noise: PyReadonlyArray1<'_, f32>,
    estimate: PyReadonlyArray1<'_, f32>,
    rate: u32,
    permutation: bool,
) -> PyResult<String> {
    let (clean, noise, estimate) = (vector(&clean), vector(&noise), vector(&estimate));
    let assignment = if permutation {
        Assignment::Permutation
    } else {
        Assignment::Fixed
    };
    let (_, json) = py
        .detach(|| {
            metrics_report(
                &clean,
                &noise,
                &estimate,
                rate,
                assignment,
                ["clean", "noise", "estimate"],
            )
        })
        .or_py()?;
    Ok(json.to_string())
}
