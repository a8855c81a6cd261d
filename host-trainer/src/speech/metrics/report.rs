//! The report of `vaenmf speech metrics` (and the Python package's `speech.metrics`): one
//! estimate's measures with the keys users know, how BSS-eval matched it, and what each
//! measure is.

use anyhow::{bail, Result};

use super::bss_eval::Assignment;
use super::measures::{speech_metrics, SpeechMetrics};

/// The measures of `estimate` against `reference` speech and the `noise` that was added to it
/// (all at `rate`), and their report: the [`SpeechMetrics`] keys, `bss_eval_assignment` and
/// `definitions`. `names` name reference, noise and estimate in errors.
pub fn metrics_report(
    reference: &[f32],
    noise: &[f32],
    estimate: &[f32],
    rate: u32,
    assignment: Assignment,
    names: [&str; 3],
) -> Result<(SpeechMetrics, serde_json::Value)> {
    if reference.len() != estimate.len() || reference.len() != noise.len() {
        bail!(
            "lengths differ: reference {} has {} samples, noise {} has {}, estimate {} has {}",
            names[0],
            reference.len(),
            names[1],
            noise.len(),
            names[2],
            estimate.len()
        );
    }
    let m = speech_metrics(reference, noise, &[estimate], rate, assignment)?[0];
    let mut json = serde_json::to_value(m)?;
    json["bss_eval_assignment"] = serde_json::to_value(assignment)?;
    json["definitions"] = serde_json::json!({
        "bss_eval": format!("v3, mir_eval.separation.bss_eval_sources semantics (512-tap filters): {}, dB", assignment.describe()),
        "pesq_nb": "ITU-T P.862 on the signals decimated to 8 kHz (pesq crate, checked against the ITU code); MOS-LQO by P.862.1",
        "pesq_wb": "ITU-T P.862.2 MOS-LQO at 16 kHz",
        "stoi": "Taal et al. 2011; estoi: Jensen & Taal 2016 (pystoi's processing)",
    });
    Ok((m, json))
}
