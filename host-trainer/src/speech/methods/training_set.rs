//! Magnitude spectrograms of training mixtures: for every (utterance, SNR) the noisy mixture,
//! the clean speech and the scaled noise that make it, frame for frame. Everything the
//! learned methods fit on (DNMF's reconstruction bases, the mask network, the activation
//! network) comes from here, built from *training* utterances and *training* noise only.

use anyhow::{bail, Result};
use nalgebra::DMatrix;

use crate::speech::front_end::mix::{mix, Mixture, Named};
use crate::speech::front_end::stft::Stft;

/// Aligned magnitude spectrograms, each bins × frames (a column is a frame).
#[derive(Debug, Clone)]
pub struct Magnitudes {
    /// `|STFT(s + n)|`.
    pub noisy: DMatrix<f32>,
    /// `|STFT(s)|`.
    pub speech: DMatrix<f32>,
    /// `|STFT(n)|`.
    pub noise: DMatrix<f32>,
}

impl Magnitudes {
    /// Frames.
    pub fn frames(&self) -> usize {
        self.noisy.ncols()
    }
}

/// `|STFT|^p` of each signal, concatenated as the columns of one bins × frames matrix.
pub fn magnitude_matrix(signals: &[&[f32]], stft: &Stft, exponent: f32) -> DMatrix<f32> {
    let bins = stft.config().bins();
    let mut data = Vec::new();
    for s in signals {
        data.extend(stft.forward(s).magnitude(exponent));
    }
    DMatrix::from_vec(bins, data.len() / bins, data)
}

/// The training mixtures: every utterance at every SNR with a noise segment drawn by `seed`.
/// With one noise that noise is used throughout; with several (a pooled noise model) the
/// noises take turns over the (utterance, SNR) pairs — pair `(u, s)` gets noise
/// `(u + s) mod K` — so the set is as large as for one noise and, given at least `K`
/// utterances, every noise is trained at every SNR (see [`snr_coverage`]). `loop_noise` repeats
/// a noise recording shorter than an utterance (otherwise an error), as for the test mixtures.
pub fn training_mixtures(
    utterances: &[Named],
    noises: &[Named],
    snrs: &[f64],
    seed: u64,
    loop_noise: bool,
) -> Result<Vec<Mixture>> {
    if noises.is_empty() {
        bail!("no training noise given");
    }
    let mut out = Vec::with_capacity(utterances.len() * snrs.len());
    for (k, noise) in noises.iter().enumerate() {
        let all = mix(
            utterances,
            std::slice::from_ref(noise),
            snrs,
            seed.wrapping_add(k as u64),
            loop_noise,
        )?;
        // `mix` numbers one noise's mixtures utterance-major, then by SNR.
        out.extend(
            all.into_iter()
                .enumerate()
                .filter(|(i, _)| (i / snrs.len() + i % snrs.len()) % noises.len() == k)
                .map(|(_, mut m)| {
                    m.noise = k;
                    m
                }),
        );
    }
    out.sort_by_key(|m| (m.utterance, m.noise));
    Ok(out)
}

/// How many of `mixtures` each noise has at each SNR: `[noise][index in snrs]`.
pub fn snr_coverage(mixtures: &[Mixture], noises: usize, snrs: &[f64]) -> Vec<Vec<usize>> {
    let mut counts = vec![vec![0; snrs.len()]; noises];
    for m in mixtures {
        if let (Some(row), Some(s)) = (counts.get_mut(m.noise), snrs.iter().position(|&v| v == m.snr_db)) {
            row[s] += 1;
        }
    }
    counts
}

/// The aligned magnitudes of `mixtures`.
pub fn magnitudes(mixtures: &[Mixture], stft: &Stft, exponent: f32) -> Magnitudes {
    let pick = |f: fn(&Mixture) -> &[f32]| mixtures.iter().map(f).collect::<Vec<_>>();
    Magnitudes {
        noisy: magnitude_matrix(&pick(|m| &m.noisy), stft, exponent),
        speech: magnitude_matrix(&pick(|m| &m.clean), stft, exponent),
        noise: magnitude_matrix(&pick(|m| &m.noise_part), stft, exponent),
    }
}
