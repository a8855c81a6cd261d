//! The front end every method shares: [`audio`] (WAV in and out, resampling), [`stft`]
//! (analysis and exact weighted-overlap-add synthesis), [`mix`] (noisy sets at given SNRs,
//! noise segments drawn by seed) and their [`manifest`].

pub mod audio;
pub mod manifest;
pub mod mix;
pub mod stft;
