//! Scoring a separation method over a noisy set (`vaenmf speech mix`'s manifest): BSS-eval
//! ratios of the unprocessed input, the method and the oracle mask per mixture, averaged per
//! noise and SNR, with the paper's "Aver" row (the mean over −5 … 10 dB).

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;

use crate::speech::front_end::audio::read_at_rate;
use crate::speech::front_end::manifest::ManifestRow;
use crate::speech::methods::enhancer::Enhancer;
use crate::speech::methods::separate::oracle;
use crate::speech::methods::streaming::Mode;
use crate::speech::metrics::bss_eval::Assignment;
use crate::speech::metrics::{mean, speech_metrics, SpeechMetrics};

/// Scores of one mixture.
#[derive(Debug, Clone, Serialize)]
pub struct MixtureScores {
    /// Utterance.
    pub utterance: String,
    /// Noise.
    pub noise: String,
    /// SNR, dB.
    pub snr_db: f64,
    /// The noisy input.
    pub input: SpeechMetrics,
    /// The method.
    pub method: SpeechMetrics,
    /// The oracle mask.
    pub oracle: SpeechMetrics,
}

/// Scores every mixture with the enhancer of its noise (`enhancers[noise]`) run in `mode`,
/// BSS-eval matched by `assignment`. `done` is called after each mixture.
pub fn score(
    rows: &[ManifestRow],
    enhancers: &BTreeMap<String, Enhancer>,
    mode: Mode,
    oracle_exponent: f32,
    assignment: Assignment,
    done: impl Fn() + Sync,
) -> Result<Vec<MixtureScores>> {
    for r in rows {
        if !enhancers.contains_key(&r.noise) {
            bail!(
                "the manifest has noise {:?}, and no enhancer or noise dictionary was given for it",
                r.noise
            );
        }
    }
    rows.par_iter()
        .map(|row| {
            let enhancer = &enhancers[&row.noise];
            let rate = enhancer.blob().front_end.sample_rate;
            let [clean, noise, noisy] = row
                .files
                .clone()
                .map(|p| read_at_rate(&p, rate, false).map(|(s, _)| s));
            let (clean, noise, noisy) = (clean?, noise?, noisy?);
            let enhanced = mode
                .enhance(enhancer, &noisy)
                .with_context(|| format!("{}", row.files[2].display()))?;
            let oracle_est = oracle(enhancer.stft(), &clean, &noise, oracle_exponent)?;
            let estimates = [noisy.as_slice(), &enhanced, &oracle_est];
            let m = speech_metrics(&clean, &noise, &estimates, rate, assignment)
                .with_context(|| format!("{}", row.files[2].display()))?;
            let scores = MixtureScores {
                utterance: row.utterance.clone(),
                noise: row.noise.clone(),
                snr_db: row.snr_db,
                input: m[0],
                method: m[1],
                oracle: m[2],
            };
            done();
            Ok(scores)
        })
        .collect()
}

/// Mean ratios of a set of mixtures.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Mean {
    /// Mixtures averaged.
    pub count: usize,
    /// The noisy input.
    pub input: SpeechMetrics,
    /// The method.
    pub method: SpeechMetrics,
    /// The oracle mask.
    pub oracle: SpeechMetrics,
}

fn mean_of(scores: &[&MixtureScores]) -> Mean {
    let avg =
        |pick: fn(&MixtureScores) -> SpeechMetrics| mean(&scores.iter().map(|s| pick(s)).collect::<Vec<_>>());
    Mean {
        count: scores.len(),
        input: avg(|s| s.input),
        method: avg(|s| s.method),
        oracle: avg(|s| s.oracle),
    }
}

/// Per noise: the mean per SNR (keyed as written, e.g. "-5") and "Aver", the mean over the
/// mixtures at −5 … 10 dB (the paper's average).
pub fn summarise(scores: &[MixtureScores]) -> BTreeMap<String, BTreeMap<String, Mean>> {
    let mut out = BTreeMap::new();
    let noises: std::collections::BTreeSet<&str> = scores.iter().map(|s| s.noise.as_str()).collect();
    for noise in noises {
        let of_noise: Vec<&MixtureScores> = scores.iter().filter(|s| s.noise == noise).collect();
        let mut table = BTreeMap::new();
        let mut snrs: Vec<f64> = of_noise.iter().map(|s| s.snr_db).collect();
        snrs.sort_by(f64::total_cmp);
        snrs.dedup();
        for snr in snrs {
            let at: Vec<&MixtureScores> = of_noise.iter().copied().filter(|s| s.snr_db == snr).collect();
            table.insert(format!("{snr}"), mean_of(&at));
        }
        let paper: Vec<&MixtureScores> = of_noise
            .iter()
            .copied()
            .filter(|s| (-5.0..=10.0).contains(&s.snr_db))
            .collect();
        if !paper.is_empty() {
            table.insert("Aver".to_string(), mean_of(&paper));
        }
        out.insert(noise.to_string(), table);
    }
    out
}

/// Markdown tables shaped like the paper's Table 1: one per noise, rows SNR and Aver,
/// columns SDR / SIR / SAR / PESQ / STOI of the method, with the input's and the oracle
/// mask's SDR, PESQ and STOI beside them. PESQ is the P.862.2 wideband MOS-LQO.
pub fn markdown(summary: &BTreeMap<String, BTreeMap<String, Mean>>, method: &str) -> String {
    let mut s = String::new();
    let wb = |m: &SpeechMetrics| m.pesq_wb.map_or("–".to_string(), |v| format!("{v:.2}"));
    for (noise, table) in summary {
        s += &format!(
            "### {noise}\n\n| SNR (dB) | n | {method} SDR | SIR | SAR | PESQ-WB | PESQ-NB | STOI | input SDR | input PESQ-WB | input STOI | oracle SDR | oracle PESQ-WB | oracle STOI |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        );
        let mut keys: Vec<&String> = table.keys().collect();
        keys.sort_by(|a, b| {
            let v = |k: &str| k.parse::<f64>().unwrap_or(f64::INFINITY);
            v(a).total_cmp(&v(b))
        });
        for k in keys {
            let m = &table[k];
            s += &format!(
                "| {k} | {} | {:.2} | {:.2} | {:.2} | {} | {:.2} | {:.3} | {:.2} | {} | {:.3} | {:.2} | {} | {:.3} |\n",
                m.count,
                m.method.sdr,
                m.method.sir,
                m.method.sar,
                wb(&m.method),
                m.method.pesq_nb_mos_lqo,
                m.method.stoi,
                m.input.sdr,
                wb(&m.input),
                m.input.stoi,
                m.oracle.sdr,
                wb(&m.oracle),
                m.oracle.stoi,
            );
        }
        s += "\n";
    }
    s
}

/// The mixture each noise is illustrated by: its first at 0 dB, else its first.
pub fn examples(rows: &[ManifestRow]) -> Vec<&ManifestRow> {
    let mut noises: Vec<&str> = rows.iter().map(|r| r.noise.as_str()).collect();
    noises.sort();
    noises.dedup();
    noises
        .into_iter()
        .filter_map(|n| {
            let of_noise = || rows.iter().filter(move |r| r.noise == n);
            of_noise().find(|r| r.snr_db == 0.0).or_else(|| of_noise().next())
        })
        .collect()
}

/// `|STFT|` (frame-major) of a mixture's noisy input, the enhancer's speech estimate in
/// `mode` and the clean speech, for spectrogram plots.
pub fn example_magnitudes(row: &ManifestRow, enhancer: &Enhancer, mode: Mode) -> Result<[Vec<f32>; 3]> {
    let rate = enhancer.blob().front_end.sample_rate;
    let clean = read_at_rate(&row.files[0], rate, false)?.0;
    let noisy = read_at_rate(&row.files[2], rate, false)?.0;
    let enhanced = mode.enhance(enhancer, &noisy)?;
    Ok([noisy, enhanced, clean].map(|s| enhancer.stft().forward(&s).magnitude(1.0)))
}
