//! Streaming speech enhancement on `no_std` targets: one hop of samples in, one hop of the
//! speech estimate out, with sizes fixed at compile time and no heap.
//!
//! # Layers
//!
//! - [`fft`]: the 512-point real FFT and its inverse (`microfft`, the same code on host and
//!   device).
//! - [`stream`]: [`StreamingStft`], analysis window, frame ring and weighted overlap-add;
//!   [`tables`]: its window and twiddle tables, computed at build time.
//! - [`nmf_gain`]: [`NmfGain`], a fixed speech + noise dictionary's activations per frame
//!   (warm-started multiplicative updates) and the Wiener-type gain.
//! - [`gain_floor`]: [`GainFloor`], the smallest gain an enhancer applies.
//! - [`enhancer`]: [`NmfEnhancer`], the two together.
//! - [`network`]: [`NetworkGain`], a learned enhancer's network frame by frame (features with
//!   context, ReLU MLP on the core's dense kernel, mask or dictionary activations → gain).
//! - [`quant_network`]: [`QuantNetworkView`], a quantised enhancer's int8 network on the
//!   core's integer kernels.
//! - [`network_enhancer`]: [`NetworkEnhancer`], [`StreamingStft`] around [`NetworkGain`] with
//!   rings for the context and the look-ahead.
//! - [`enhancer_blob`] (feature `alloc`): [`EnhancerBlob`], the enhancer file of every method
//!   (blob format version 7; 5 and 6 still read).
//! - [`quantized_network`] (feature `alloc`): [`QuantizedNetwork`], a quantised enhancer's
//!   int8 layers in the file, and the post-training quantisation that makes them.
//!
//! # Invariants
//!
//! - Finite samples within ±[`MAX_ABS_SAMPLE`] give finite output; any other sample is an
//!   [`InputError`](crate::InputError) and changes no state.
//! - Every gain is in [0, 1]; activations stay finite and nonnegative for any checked
//!   dictionary.
//! - The same bits on every target: `+ − × ÷`, `sqrt` and `libm` in a fixed order, no fused
//!   multiply-add.

pub mod enhancer;
#[cfg(feature = "alloc")]
pub mod enhancer_blob;
pub mod fft;
pub mod gain_floor;
pub mod network;
pub mod network_enhancer;
pub mod nmf_gain;
pub mod quant_network;
#[cfg(feature = "alloc")]
pub mod quantized_network;
pub mod stream;
pub mod tables;

pub use enhancer::NmfEnhancer;
#[cfg(feature = "alloc")]
pub use enhancer_blob::{
    ActivationFit, EnhancerBlob, EnhancerMethod, LayerViews, Network, NetworkLayer, RandomEnhancerSizes,
};
pub use fft::{RealFft, Spectrum, BINS, FFT_SIZE};
pub use gain_floor::GainFloor;
#[cfg(feature = "alloc")]
pub use network::OwnedGainScratch;
pub use network::{FeatureView, GainScratch, LayerView, NetworkGain, NetworkLayers, OutputView};
#[cfg(feature = "alloc")]
pub use network_enhancer::OwnedNetworkBuffers;
pub use network_enhancer::{BufferLengths, NetworkBuffers, NetworkEnhancer};
pub use nmf_gain::{
    magnitudes, wiener_gain, ActivationLoss, NmfGain, NmfGainSettings, MAX_UPDATES_PER_FRAME,
};
pub use quant_network::{QuantLayerView, QuantNetworkView};
#[cfg(feature = "alloc")]
pub use quantized_network::{NetworkRanges, QuantizedLayer, QuantizedNetwork};
pub use stream::{StreamingStft, MAX_ABS_SAMPLE};
