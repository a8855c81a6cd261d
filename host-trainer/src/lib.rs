//! `vaenmf-trainer`: the host side of vaenmf. Loads EMG (CSV, NPY, MATLAB v5, Ninapro DB1),
//! turns raw EMG into envelopes, extracts synergies (NMF baselines), evaluates them as the
//! synergy literature does, plots, and writes model blobs in the core's one format.
//!
//! Layers: [`data`] (matrices, loaders, envelopes, synthetic data) → [`nmf`] (extraction) →
//! [`eval`] (VAF, NNLS refit, similarity, rank) → [`export`] / [`plots`] / [`output`]
//! (files, always written atomically) → [`cli`] (the `vaenmf` binary).

pub mod cli;
pub mod data;
pub mod eval;
pub mod export;
pub mod nmf;
pub mod output;
pub mod plots;
pub mod vae;
