//! A whole recording through the core's streaming enhancer ([`vaenmf_core::speech`]), hop by
//! hop, exactly as a device runs it: the same code, the same bits. The recording is followed
//! by the enhancer's delay in zeros and the output shifted back, so the estimate is as long
//! as the input and aligned with it.

use anyhow::{bail, Result};
use serde::Serialize;
use vaenmf_core::speech::{ActivationLoss, NmfEnhancer, NmfGainSettings, FFT_SIZE, MAX_UPDATES_PER_FRAME};
use vaenmf_core::InputError;

use super::separate::Separator;
use crate::nmf::NmfLoss;
use crate::params;
use crate::speech::front_end::stft::describe;

/// Most atoms (speech + noise) the host's streaming enhancer takes.
pub const MAX_ATOMS: usize = 256;

/// Multiplicative updates per frame, checked against the core's bound.
pub fn check_updates_per_frame(updates: u32) -> Result<u32> {
    params::within(
        "updates-per-frame",
        updates as usize,
        1,
        MAX_UPDATES_PER_FRAME as usize,
    )?;
    Ok(updates)
}

/// How a [`Separator`] enhances a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The whole utterance's STFT at once, the activation fit over every frame (the tables').
    Offline,
    /// Hop by hop through the core's streaming enhancer.
    Stream {
        /// Warm-started multiplicative updates per frame.
        updates_per_frame: u32,
    },
}

impl Mode {
    /// The speech estimate of `noisy`, as long as it.
    pub fn enhance(self, separator: &Separator, noisy: &[f32]) -> Result<Vec<f32>> {
        match self {
            Mode::Offline => Ok(separator.enhance(noisy)?.speech),
            Mode::Stream { updates_per_frame } => enhance_nmf(separator, updates_per_frame, noisy),
        }
    }

    /// In words, for tables.
    pub fn describe(self) -> String {
        match self {
            Mode::Offline => "whole utterance".into(),
            Mode::Stream { updates_per_frame } => format!("streamed, {updates_per_frame} updates per frame"),
        }
    }
}

/// The speech estimate of `noisy` by `separator`'s dictionaries and settings, streamed with
/// `updates_per_frame` warm-started multiplicative updates per frame. The front end must be
/// the streaming one: a 512-point FFT, hop 64, 128 or 256.
pub fn enhance_nmf(separator: &Separator, updates_per_frame: u32, noisy: &[f32]) -> Result<Vec<f32>> {
    let front_end = separator.front_end();
    if front_end.fft_size as usize != FFT_SIZE {
        bail!(
            "the streaming enhancer needs a {FFT_SIZE}-point FFT; the dictionaries have {} (use --offline)",
            describe(front_end)
        );
    }
    match front_end.hop {
        64 => run::<64>(separator, updates_per_frame, noisy),
        128 => run::<128>(separator, updates_per_frame, noisy),
        256 => run::<256>(separator, updates_per_frame, noisy),
        hop => bail!("the streaming enhancer takes hop 64, 128 or 256; the dictionaries have hop {hop} (use --offline)"),
    }
}

fn run<const HOP: usize>(separator: &Separator, updates_per_frame: u32, noisy: &[f32]) -> Result<Vec<f32>> {
    let w = separator.dictionary();
    if w.ncols() > MAX_ATOMS {
        bail!(
            "the streaming enhancer takes at most {MAX_ATOMS} atoms in all; the dictionaries have {} (use --offline)",
            w.ncols()
        );
    }
    let cfg = separator.config();
    let settings = NmfGainSettings {
        loss: match cfg.loss {
            NmfLoss::Frobenius => ActivationLoss::Frobenius,
            NmfLoss::KullbackLeibler => ActivationLoss::KullbackLeibler,
        },
        updates_per_frame: check_updates_per_frame(updates_per_frame)?,
        // The trainer's convention: the penalty per frame entry times the bins.
        lambda: cfg.sparsity * w.nrows() as f32,
        gain_exponent: cfg.gain_exponent,
    };
    // Column-major bins × atoms: the core's layout.
    let mut enhancer = Box::new(NmfEnhancer::<HOP, MAX_ATOMS>::new_checked(
        separator.front_end(),
        w.as_slice(),
        separator.speech_rank(),
        settings,
    )?);
    let delay = NmfEnhancer::<HOP, MAX_ATOMS>::delay();
    let hops = (noisy.len() + delay).div_ceil(HOP);
    let mut out = Vec::with_capacity(hops * HOP);
    let mut input = [0.0f32; HOP];
    let mut output = [0.0f32; HOP];
    for t in 0..hops {
        let from = (t * HOP).min(noisy.len());
        let to = ((t + 1) * HOP).min(noisy.len());
        input.fill(0.0);
        input[..to - from].copy_from_slice(&noisy[from..to]);
        enhancer.process(&input, &mut output).map_err(|e| match e {
            InputError::NonFinite { channel } => {
                anyhow::anyhow!("sample {} is not finite", t * HOP + channel as usize)
            }
            InputError::SampleRange { index } => anyhow::anyhow!(
                "sample {} ({}) is beyond ±{}",
                t * HOP + index as usize,
                input[index as usize],
                vaenmf_core::speech::MAX_ABS_SAMPLE
            ),
            other => anyhow::anyhow!("{other}"),
        })?;
        out.extend_from_slice(&output);
    }
    Ok(out[delay..delay + noisy.len()].to_vec())
}
