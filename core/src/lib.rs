//! `vaenmf-core`: VAE-NMF muscle-synergy inference for microcontrollers and hosts.
//!
//! A VAE-NMF model explains an EMG envelope frame `x ∈ ℝᵐ₊` as `x ≈ W z` with a
//! nonnegative dictionary `W` (`m × r`, the synergies) and activations `z ∈ ℝʳ₊` whose
//! posterior is a product of Gammas produced by an encoder MLP. This crate runs a trained
//! model; `vaenmf-trainer` trains and exports it.
//!
//! # Layers
//!
//! - [`blob`]: the one model format (postcard, versioned, CRC-32, validated on load).
//! - [`front_end`]: the STFT settings a spectrogram dictionary records (format 3).
//! - [`model`]: [`Model`], dimensions as const generics, weights as borrowed fixed-size
//!   arrays (in flash as `static`s, or in caller-provided [`ModelStorage`]).
//! - [`envelope`]: raw EMG samples → envelope frames on the device (band-pass, rectify,
//!   low-pass, decimate), the causal form of the trainer's envelope.
//! - [`encoder`]: scaling → dense+ReLU → dense+ReLU → softplus heads → Gamma (α, β).
//! - [`quant`]: the same encoder with int8 weights and int16 activations (format 4), a
//!   portable integer kernel and, on Cortex-M4/M7, an `SMLAD` kernel.
//! - [`gamma`]: log-gamma, digamma, Gamma KL, a seedable Marsaglia–Tsang sampler.
//! - [`linalg`]: `W·z` and Lawson–Hanson NNLS for a fixed dictionary.
//! - [`vaf`](mod@vaf): variance accounted for, batch and streaming.
//! - [`tracker`]: [`SynergyTracker`], one frame in, activations and windowed VAF out.
//! - [`speech`]: the streaming speech enhancer, one hop of audio in, one hop out (512-point
//!   real FFT, weighted overlap-add, a speech + noise dictionary's Wiener-type gain).
//! - `dynamic` (feature `alloc`): the same encoder on an owned `ModelBlob` whose dimensions
//!   are known only at run time, bit-identical to the const-generic path (host tools).
//!
//! # Invariants
//!
//! - No heap (unless the `alloc` feature is on, and then only for `ModelBlob` and its
//!   run-time-sized inference), no
//!   recursion in inference. `unsafe` (denied crate-wide) is allowed in one module per target,
//!   with its safety argument there: the Cortex-M DSP kernel `quant::dsp` (inline assembly;
//!   ARM targets with the DSP extension) and the x86-64 SIMD kernel `quant::x86`.
//! - No panics on any input: malformed blobs, wrong dimensions and non-finite frames are
//!   errors ([`ModelError`], [`InputError`]). Array lengths are part of the types, so a
//!   constructed [`Model`] cannot index out of bounds.
//! - A model built with [`Model::new_checked`] or decoded from a blob has finite weights, a
//!   nonnegative dictionary and positive scales, α₀ and floor, so every α, β it produces is
//!   strictly positive.
//! - Results do not depend on the target: dot products are summed in a fixed order without
//!   fused multiply-add.
//!
//! # Features
//!
//! - `alloc` / `std`: owned `ModelBlob` and blob encoding.
//! - `fast-math`: micromath's approximate `exp`/`ln` in the heads (about 1e-3 relative).
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod blob;
#[cfg(feature = "alloc")]
pub mod dynamic;
pub mod encoder;
pub mod envelope;
pub mod error;
pub mod front_end;
pub mod gamma;
pub mod linalg;
mod math;
pub mod model;
pub mod quant;
pub mod speech;
pub mod tracker;
pub mod vaf;

pub use blob::{peek_header, BlobHeader, ModelStorage};
#[cfg(feature = "alloc")]
pub use blob::{EncoderArrays, ModelBlob};
pub use encoder::Posterior;
pub use error::{Field, InputError, ModelError};
pub use front_end::FrontEnd;
pub use linalg::{reconstruct, NnlsSolution, NnlsSolver};
pub use model::{DenseLayer, Dims, EncoderWeights, Model, ModelParts};
pub use quant::{Align4, FirstLayer, HeadLayer, HiddenLayer, QuantHeads, QuantLayer, QuantizedEncoder};
pub use tracker::{SynergyTracker, TrackedFrame};
pub use vaf::{r2_centred, vaf, vaf_per_channel, VafAccumulator};
