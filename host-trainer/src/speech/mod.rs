//! Speech enhancement with learned speech and noise dictionaries (the paper's second
//! experiment), in four rooms, each depending only on those before it:
//!
//! - [`front_end`]: audio files, the STFT, noisy mixtures and their manifest;
//! - [`metrics`]: SDR / SIR / SAR, PESQ, STOI;
//! - [`methods`]: NMF dictionaries and supervised separation, the streaming enhancer, DNMF,
//!   the mask network, VAE-NMF dictionaries and their activation network;
//! - [`experiment`]: the paper's Tables 1 and 2 (training per condition, scoring, reports) and
//!   the scoring of `speech eval`.

pub mod experiment;
pub mod front_end;
pub mod methods;
pub mod metrics;
