//! Spectrogram dictionaries: NMF of the magnitude frames of a set of recordings, stored as a
//! model whose channels are frequency bins and which records its front end (blob format 3), so
//! it is never applied to a spectrogram made differently.

use anyhow::{bail, Result};
use vaenmf_core::{FrontEnd, ModelBlob};

use super::training_set::magnitude_matrix;
use crate::data::EmgMatrix;
use crate::eval::Synergies;
use crate::export::nmf_blob;
use crate::nmf::{self, NmfFit, NmfParams};
use crate::speech::front_end::stft::{Stft, StftConfig};

/// The magnitude frames `|STFT|^p` of every signal, concatenated (frames × bins).
pub fn magnitude_frames(signals: &[Vec<f32>], stft: &Stft, exponent: f32) -> Result<EmgMatrix> {
    let refs: Vec<&[f32]> = signals.iter().map(Vec::as_slice).collect();
    // A bins × frames matrix stores its columns (frames) one after another: frame-major data.
    let m = magnitude_matrix(&refs, stft, exponent);
    EmgMatrix::new(m.ncols(), m.nrows(), m.data.into())
}

/// Learns a dictionary from `signals` (at the front end's rate) and returns it as a model
/// blob (no encoder, unit input scale, the front end recorded) with the fit.
pub fn learn(
    signals: &[Vec<f32>],
    front_end: &FrontEnd,
    params: &NmfParams,
    progress: impl FnMut(usize, usize),
) -> Result<(ModelBlob, NmfFit)> {
    let stft = Stft::new(&StftConfig::of_front_end(front_end).check()?);
    let x = magnitude_frames(signals, &stft, front_end.magnitude_exponent)?;
    if params.rank >= x.frames {
        bail!(
            "--rank {} must be below the number of spectrogram frames ({}); give more audio or a lower rank",
            params.rank,
            x.frames
        );
    }
    let fit = nmf::fit(&x, params, progress)?;
    let synergies = Synergies {
        channels: x.channels,
        rank: params.rank,
        w: fit.w.clone(),
    };
    let mut blob = nmf_blob(&synergies, &vec![1.0; x.channels]);
    blob.front_end = Some(*front_end);
    blob.validate()?;
    Ok((blob, fit))
}

/// The front end of a dictionary model, or an error naming `what` when it has none.
pub fn front_end_of(blob: &ModelBlob, what: &str) -> Result<FrontEnd> {
    blob.front_end.ok_or_else(|| {
        anyhow::anyhow!("{what} records no front end: it is not a spectrogram dictionary (make one with `vaenmf speech dict`)")
    })
}
