//! Speech enhancement with learned speech and noise dictionaries (the paper's second
//! experiment). The front end shared by every method: [`audio`] (WAV in and out,
//! resampling), [`stft`] (analysis and exact weighted-overlap-add synthesis) and [`mix`]
//! (noisy sets at given SNRs, noise segments drawn by seed).

pub mod audio;
pub mod mix;
pub mod stft;
