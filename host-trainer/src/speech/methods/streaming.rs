//! A whole recording through the core's streaming enhancer ([`vaenmf_core::speech`]), hop by
//! hop, exactly as a device runs it: the same code, the same bits. It streams the
//! multiplicative-update methods without reconstruction bases (`nmf`, `vae-nmf-dict-mu`);
//! DNMF and the network methods run offline so far. The recording is followed
//! by the enhancer's delay in zeros and the output shifted back, so the estimate is as long
//! as the input and aligned with it.

use anyhow::{bail, Result};
use serde::Serialize;
use vaenmf_core::speech::{
    ActivationFit, EnhancerBlob, NmfEnhancer, NmfGainSettings, FFT_SIZE, MAX_UPDATES_PER_FRAME,
};
use vaenmf_core::InputError;

use super::enhancer::Enhancer;
use crate::params;
use crate::speech::front_end::stft::describe;

/// Most atoms (speech + noise) the host's streaming enhancer takes.
pub const MAX_ATOMS: usize = 256;

/// Multiplicative updates per frame by default: the best of 5, 20 and 50 on mixtures of the
/// bundled set's training files.
pub const DEFAULT_UPDATES_PER_FRAME: u32 = 50;

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

/// How an [`Enhancer`] enhances a recording.
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
    pub fn enhance(self, enhancer: &Enhancer, noisy: &[f32]) -> Result<Vec<f32>> {
        match self {
            Mode::Offline => enhancer.enhance(noisy),
            Mode::Stream { updates_per_frame } => enhance_nmf(enhancer.blob(), updates_per_frame, noisy),
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

/// The speech estimate of `noisy` by `enhancer`'s dictionaries and settings, streamed with
/// `updates_per_frame` warm-started multiplicative updates per frame. The front end must be
/// the streaming one: a 512-point FFT, hop 64, 128 or 256.
pub fn enhance_nmf(enhancer: &EnhancerBlob, updates_per_frame: u32, noisy: &[f32]) -> Result<Vec<f32>> {
    let front_end = &enhancer.front_end;
    let (Some(fit), true) = (&enhancer.fit, enhancer.reconstruction.is_empty()) else {
        bail!(
            "the streaming enhancer runs nmf and vae-nmf-dict-mu enhancers so far; this one is {} (leave out --stream)",
            enhancer.method.name()
        );
    };
    if front_end.fft_size as usize != FFT_SIZE {
        bail!(
            "the streaming enhancer needs a {FFT_SIZE}-point FFT; the dictionaries have {} (leave out --stream)",
            describe(front_end)
        );
    }
    match front_end.hop {
        64 => run::<64>(enhancer, fit, updates_per_frame, noisy),
        128 => run::<128>(enhancer, fit, updates_per_frame, noisy),
        256 => run::<256>(enhancer, fit, updates_per_frame, noisy),
        hop => bail!("the streaming enhancer takes hop 64, 128 or 256; the dictionaries have hop {hop} (leave out --stream)"),
    }
}

fn run<const HOP: usize>(
    blob: &EnhancerBlob,
    fit: &ActivationFit,
    updates_per_frame: u32,
    noisy: &[f32],
) -> Result<Vec<f32>> {
    let rank = blob.rank() as usize;
    if rank > MAX_ATOMS {
        bail!(
            "the streaming enhancer takes at most {MAX_ATOMS} atoms in all; the dictionaries have {rank} (leave out --stream)"
        );
    }
    let settings = NmfGainSettings {
        loss: fit.loss,
        updates_per_frame: check_updates_per_frame(updates_per_frame)?,
        // The trainer's convention: the penalty per frame entry times the bins.
        lambda: fit.sparsity * blob.bins() as f32,
        gain_exponent: blob.gain_exponent,
    };
    // Column-major bins × atoms: the core's layout and the file's.
    let mut enhancer = Box::new(NmfEnhancer::<HOP, MAX_ATOMS>::new_checked(
        &blob.front_end,
        &blob.analysis,
        blob.speech_rank as usize,
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
