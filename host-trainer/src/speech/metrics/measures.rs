//! Every speech-enhancement measure of one estimate, with the report keys users know:
//! BSS-eval `sdr`, `sir`, `sar` (dB), `pesq_nb_raw`, `pesq_nb_mos_lqo`, `pesq_wb`, `stoi`,
//! `estoi`.

use anyhow::Result;
use serde::Serialize;

use super::bss_eval::{speech_ratios_many, Assignment};
use super::pesq::pesq;
use super::stoi::stoi;

/// The measures of one speech estimate against the clean speech (and the noise, for
/// BSS-eval's interference term).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpeechMetrics {
    /// Source-to-distortion ratio, dB.
    pub sdr: f64,
    /// Source-to-interference ratio, dB.
    pub sir: f64,
    /// Source-to-artefacts ratio, dB.
    pub sar: f64,
    /// P.862 narrowband raw score (on 8 kHz input).
    pub pesq_nb_raw: f64,
    /// P.862.1 MOS-LQO of the narrowband score.
    pub pesq_nb_mos_lqo: f64,
    /// P.862.2 wideband MOS-LQO (`None` at 8 kHz).
    pub pesq_wb: Option<f64>,
    /// STOI.
    pub stoi: f64,
    /// Extended STOI.
    pub estoi: f64,
    /// Whether BSS-eval's permutation search swapped the estimate and the residual (always
    /// false without the search).
    pub permuted: bool,
}

/// The measures of each of `estimates` (all as long as `clean` and `noise`, at `rate`), the
/// BSS-eval ratios matched by `assignment`.
pub fn speech_metrics(
    clean: &[f32],
    noise: &[f32],
    estimates: &[&[f32]],
    rate: u32,
    assignment: Assignment,
) -> Result<Vec<SpeechMetrics>> {
    let ratios = speech_ratios_many(clean, noise, estimates, assignment)?;
    estimates
        .iter()
        .zip(ratios)
        .map(|(est, (r, permuted))| {
            let p = pesq(clean, est, rate)?;
            let q = stoi(clean, est, rate)?;
            Ok(SpeechMetrics {
                sdr: r.sdr,
                sir: r.sir,
                sar: r.sar,
                pesq_nb_raw: p.pesq_nb_raw,
                pesq_nb_mos_lqo: p.pesq_nb_mos_lqo,
                pesq_wb: p.pesq_wb,
                stoi: q.stoi,
                estoi: q.estoi,
                permuted,
            })
        })
        .collect()
}

/// The mean of each measure (`pesq_wb` when every item has it; `permuted`: any).
pub fn mean(items: &[SpeechMetrics]) -> SpeechMetrics {
    let n = items.len().max(1) as f64;
    let avg = |pick: fn(&SpeechMetrics) -> f64| items.iter().map(pick).sum::<f64>() / n;
    let wb: Option<Vec<f64>> = items.iter().map(|m| m.pesq_wb).collect();
    SpeechMetrics {
        sdr: avg(|m| m.sdr),
        sir: avg(|m| m.sir),
        sar: avg(|m| m.sar),
        pesq_nb_raw: avg(|m| m.pesq_nb_raw),
        pesq_nb_mos_lqo: avg(|m| m.pesq_nb_mos_lqo),
        pesq_wb: wb.map(|v| v.iter().sum::<f64>() / n),
        stoi: avg(|m| m.stoi),
        estoi: avg(|m| m.estoi),
        permuted: items.iter().any(|m| m.permuted),
    }
}
