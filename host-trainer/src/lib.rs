//! `vaenmf-trainer`: the host side of vaenmf. Loads EMG (CSV, NPY, MATLAB v5, Ninapro DB1),
//! turns raw EMG into envelopes, extracts synergies (NMF baselines), evaluates them as the
//! synergy literature does, plots, and writes model blobs in the core's one format.
//!
//! Layers: [`data`] (matrices, loaders, envelopes, synthetic data, [`data::prepare`]) →
//! [`nmf`] and [`vae`] (extraction, with settings checked once by [`params`]) → [`eval`]
//! (VAF, NNLS refit, similarity, rank) and [`arrange`] (synergy order and unit-norm scale) →
//! [`export`] / [`report`] / [`plots`] / [`output`] (files, written together and atomically).
//! [`pipeline`] strings these together for training and evaluation; [`cli`] (the `vaenmf`
//! binary) only parses arguments, calls it and prints. [`speech`] is the speech-enhancement
//! chain (audio, STFT, noisy sets).

pub mod arrange;
pub mod choice;
pub mod cli;
pub mod data;
pub mod eval;
pub mod export;
pub mod inspect;
pub mod nmf;
pub mod output;
pub mod params;
pub mod pipeline;
pub mod plots;
pub mod quantize;
pub mod report;
pub mod speech;
pub mod vae;
