//! Noisy sets: clean utterance + a noise segment scaled to a given SNR.
//!
//! SNR = 20·log10(‖s‖ / ‖n‖) over the whole utterance, with `n` the scaled noise segment. For
//! each (utterance, noise, SNR) the segment's start is drawn uniformly, by seed, from the noise
//! recording given — pass the *train* part of each noise to build training mixtures and the
//! *test* part for evaluation, so the two never share a sample.

use anyhow::{bail, Result};
use vaenmf_core::gamma::Prng;

use crate::params::ParamError;

/// A named signal.
#[derive(Debug, Clone)]
pub struct Named {
    /// Name (a file stem, a noise type).
    pub name: String,
    /// Samples.
    pub samples: Vec<f32>,
}

/// One noisy mixture and its parts.
#[derive(Debug, Clone)]
pub struct Mixture {
    /// Index of the utterance in the input list.
    pub utterance: usize,
    /// Index of the noise.
    pub noise: usize,
    /// First sample of the noise segment in the noise recording.
    pub segment_start: usize,
    /// SNR in dB.
    pub snr_db: f64,
    /// The clean utterance.
    pub clean: Vec<f32>,
    /// The noise segment, scaled.
    pub noise_part: Vec<f32>,
    /// `clean + noise_part`.
    pub noisy: Vec<f32>,
}

fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v).powi(2)).sum()
}

/// The gain `g` that makes `20·log10(‖speech‖ / ‖g·noise‖) = snr_db`.
pub fn noise_gain(speech: &[f32], noise: &[f32], snr_db: f64) -> Result<f64> {
    let (es, en) = (energy(speech), energy(noise));
    if es == 0.0 {
        bail!("the utterance is silent: no SNR can be set");
    }
    if en == 0.0 {
        bail!("the noise segment is silent: no SNR can be set");
    }
    Ok((es / en).sqrt() / 10f64.powf(snr_db / 20.0))
}

/// Largest |SNR| a mixture may be asked for, dB: the noise gain of ±100 dB (10⁵ in
/// amplitude) times any ordinary level ratio stays finite in f32.
pub const MAX_ABS_SNR_DB: f64 = 100.0;

/// Every SNR must be a finite number of dB in `−MAX_ABS_SNR_DB ..= MAX_ABS_SNR_DB`.
pub fn check_snrs(snrs: &[f64]) -> Result<(), ParamError> {
    if snrs.is_empty() {
        return Err(ParamError::new("snr", "(none)", "one or more SNRs in dB"));
    }
    match snrs.iter().find(|s| s.is_nan() || s.abs() > MAX_ABS_SNR_DB) {
        Some(s) => Err(ParamError::new(
            "snr",
            s,
            format!("a number of dB from −{MAX_ABS_SNR_DB} to {MAX_ABS_SNR_DB}"),
        )),
        None => Ok(()),
    }
}

/// The SNR in dB of `speech` against `noise`.
pub fn snr_db(speech: &[f32], noise: &[f32]) -> f64 {
    10.0 * (energy(speech) / energy(noise)).log10()
}

/// Every noise can give every utterance a segment: at least as long, or (with `loop_noise`)
/// not empty. Checked by [`mix`]; callers that train before they mix check it first.
pub fn check_lengths(utterances: &[Named], noises: &[Named], loop_noise: bool) -> Result<()> {
    let Some(longest) = utterances.iter().max_by_key(|u| u.samples.len()) else {
        return Ok(());
    };
    let len = longest.samples.len();
    for noise in noises {
        let have = noise.samples.len();
        if have == 0 {
            bail!("noise '{}' has no samples", noise.name);
        }
        if have < len && !loop_noise {
            bail!(
                "noise '{}' has {have} samples, {} fewer than utterance '{}' needs ({len} samples); --loop-noise repeats it",
                noise.name,
                len - have,
                longest.name
            );
        }
    }
    Ok(())
}

/// Every (utterance, noise, SNR) mixture, in that nesting order; the same seed and inputs give
/// the same segments. A noise shorter than an utterance is an error unless `loop_noise`: then
/// the recording is repeated end to start and the segment may start anywhere in it.
pub fn mix(
    utterances: &[Named],
    noises: &[Named],
    snrs: &[f64],
    seed: u64,
    loop_noise: bool,
) -> Result<Vec<Mixture>> {
    check_snrs(snrs)?;
    check_lengths(utterances, noises, loop_noise)?;
    let mut rng = Prng::new(seed);
    let mut out = Vec::with_capacity(utterances.len() * noises.len() * snrs.len());
    for (u, utt) in utterances.iter().enumerate() {
        let len = utt.samples.len();
        for (k, noise) in noises.iter().enumerate() {
            let looped = noise.samples.len() < len;
            for &snr in snrs {
                let nlen = noise.samples.len();
                let starts = if looped { nlen } else { nlen - len + 1 } as u64;
                let start = (rng.next_u64() % starts) as usize;
                let segment: Vec<f32> = (start..start + len).map(|i| noise.samples[i % nlen]).collect();
                let gain = noise_gain(&utt.samples, &segment, snr)
                    .map_err(|e| anyhow::anyhow!("utterance '{}', noise '{}': {e}", utt.name, noise.name))?;
                let noise_part: Vec<f32> = segment.iter().map(|&v| (f64::from(v) * gain) as f32).collect();
                let noisy: Vec<f32> = utt.samples.iter().zip(&noise_part).map(|(s, n)| s + n).collect();
                if noisy.iter().any(|v| !v.is_finite()) {
                    bail!(
                        "utterance '{}', noise '{}' at {snr} dB: the noise gain {gain:e} takes samples past the largest float; use a higher --snr",
                        utt.name,
                        noise.name
                    );
                }
                out.push(Mixture {
                    utterance: u,
                    noise: k,
                    segment_start: start,
                    snr_db: snr,
                    clean: utt.samples.clone(),
                    noise_part,
                    noisy,
                });
            }
        }
    }
    Ok(out)
}
