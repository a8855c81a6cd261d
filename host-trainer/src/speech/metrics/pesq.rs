//! PESQ through the `pesq` crate (pure Rust P.862 / P.862.2), routed around what it gets
//! wrong. Checked here against the ITU reference code (PyPI `pesq`) on the committed fixtures
//! (`tests/trainer/speech_separation.rs`):
//!
//! - wideband P.862.2 at 16 kHz (`pesq_wb`): agrees with the ITU code;
//! - narrowband P.862 on 8 kHz input (`pesq_8k`): agrees with the ITU code at 8 kHz;
//! - narrowband on 16 kHz input (the crate's `pesq`, with its own decimation): reads 0.1–0.55
//!   MOS above the ITU code's 16 kHz narrowband mode — not used.
//!
//! So narrowband scores here are P.862 on the signals decimated to 8 kHz by this project's
//! resampler (rubato, windowed sinc), as `pesq(8000, …, 'nb')` on 8 kHz files would give.

use anyhow::Result;
use serde::Serialize;

use crate::speech::front_end::audio::resample;

/// PESQ of one pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PesqScores {
    /// P.862 narrowband raw score (on 8 kHz input).
    pub pesq_nb_raw: f64,
    /// P.862.1 MOS-LQO of the narrowband raw score.
    pub pesq_nb_mos_lqo: f64,
    /// P.862.2 wideband MOS-LQO (16 kHz input); `None` for 8 kHz signals.
    pub pesq_wb: Option<f64>,
}

/// Both signals as 16-bit PCM with one scale: full scale ±1 when nothing exceeds it,
/// otherwise scaled down together (PESQ aligns levels itself, so a common gain changes
/// nothing, and clipping would).
fn to_pcm(clean: &[f32], degraded: &[f32]) -> (Vec<i16>, Vec<i16>) {
    let peak = clean.iter().chain(degraded).fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = 32767.0 / peak.max(1.0);
    let pcm = |s: &[f32]| {
        s.iter()
            .map(|&v| (v * scale).round() as i16)
            .collect::<Vec<i16>>()
    };
    (pcm(clean), pcm(degraded))
}

/// PESQ of `degraded` against `clean` at `rate` (8000 or 16 000 Hz; other rates are
/// resampled to 16 kHz first).
pub fn pesq(clean: &[f32], degraded: &[f32], rate: u32) -> Result<PesqScores> {
    super::pair::check_pair("PESQ", clean, degraded, rate)?;
    let err = |what: &str, e: pesq::PesqError| anyhow::anyhow!("PESQ ({what}): {e}");
    let (clean16, degraded16) = if rate == 8000 || rate == 16000 {
        (clean.to_vec(), degraded.to_vec())
    } else {
        (resample(clean, rate, 16000)?, resample(degraded, rate, 16000)?)
    };
    let (pesq_wb, clean8, degraded8) = if rate == 8000 {
        (None, clean16, degraded16)
    } else {
        let (r, d) = to_pcm(&clean16, &degraded16);
        let wb = pesq::pesq_wb(&r, &d).map_err(|e| err("wideband", e))?;
        (
            Some(f64::from(wb)),
            resample(&clean16, 16000, 8000)?,
            resample(&degraded16, 16000, 8000)?,
        )
    };
    let (r, d) = to_pcm(&clean8, &degraded8);
    let raw = f64::from(pesq::pesq_8k(&r, &d).map_err(|e| err("narrowband", e))?);
    Ok(PesqScores {
        pesq_nb_raw: raw,
        pesq_nb_mos_lqo: f64::from(pesq::score::mos_lqo(raw)),
        pesq_wb,
    })
}
