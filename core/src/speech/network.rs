//! The learned enhancers' network, frame by frame, on borrowed weights and caller-provided
//! buffers: log-compressed magnitude frames stacked with their context, standardised, a ReLU
//! MLP (linear last layer, [`crate::linalg`]'s dense kernel: each output summed in input order,
//! no fused multiply-add), and the gain its output implies — a mask, or activations of a
//! speech + noise dictionary through the Wiener-type gain.
//!
//! The offline path (a whole spectrogram, edge frames repeated) and a streaming path compute
//! each frame with these same functions, so their gains agree bit for bit wherever they see
//! the same frames.
//!
//! The layers are f32 or int8 ([`super::quant_network`]); the features and the gain are f32
//! either way.
//!
//! Cost per frame: `Σ inputs·outputs` multiply-adds for the layers, plus `bins·r` for the
//! dictionary reconstruction of an activation network; `bins` `log1p`s and softplus per
//! output.

use super::nmf_gain::wiener_gain;
use super::quant_network::{padded, QuantNetworkView};
use crate::linalg::dense;
use crate::math::softplus;

/// Keeps the mask finite where both of its outputs underflow.
const MASK_EPS: f32 = 1e-8;

/// One dense layer, weights input-major (`w[i·outputs + o]`).
#[derive(Debug, Clone, Copy)]
pub struct LayerView<'a> {
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// `inputs × outputs` weights.
    pub weights: &'a [f32],
    /// `outputs` biases.
    pub bias: &'a [f32],
}

/// The input features: `ln(1 + |X|/reference)` per bin, `before` frames of context, the
/// frame, `after` frames, standardised per dimension.
#[derive(Debug, Clone, Copy)]
pub struct FeatureView<'a> {
    /// Bins per frame.
    pub bins: usize,
    /// Context frames before the current one.
    pub before: usize,
    /// Context frames after it (the look-ahead).
    pub after: usize,
    /// Magnitude reference of the log compression (> 0).
    pub reference: f32,
    /// Per-dimension mean (`width` values).
    pub mean: &'a [f32],
    /// Per-dimension standard deviation (`width` values, > 0).
    pub std: &'a [f32],
}

impl FeatureView<'_> {
    /// Stacked input width, `bins · (before + 1 + after)`.
    pub fn width(&self) -> usize {
        self.bins * (self.before + 1 + self.after)
    }

    /// `ln(1 + max(v, 0)/reference)` of one magnitude frame into `out`.
    pub fn compress(&self, magnitude: &[f32], out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(magnitude) {
            *o = libm::log1pf(v.max(0.0) / self.reference);
        }
    }

    /// Stacks frame `t`'s context from `compressed` (frame-major, `frames × bins`), edge
    /// frames repeated, and standardises it into `out` (`width` values).
    pub fn stack(&self, compressed: &[f32], frames: usize, t: usize, out: &mut [f32]) {
        let last = frames.saturating_sub(1);
        for (offset, slot) in out.chunks_exact_mut(self.bins).enumerate() {
            let s = (t + offset).saturating_sub(self.before).min(last);
            slot.copy_from_slice(&compressed[s * self.bins..(s + 1) * self.bins]);
        }
        self.standardise(out);
    }

    /// `(x − mean) / std` per dimension.
    pub fn standardise(&self, x: &mut [f32]) {
        for ((v, m), s) in x.iter_mut().zip(self.mean).zip(self.std) {
            *v = (*v - m) / s;
        }
    }
}

/// What the network's last layer means.
#[derive(Debug, Clone, Copy)]
pub enum OutputView<'a> {
    /// `2·bins` outputs, speech then noise spectra: mask `ŝ / (ŝ + n̂)` with `ŝ, n̂` their
    /// softplus.
    Mask,
    /// `r` activations `softplus(o)·scale` of `[Wˢ Wⁿ]` (column-major, `bins × r`), then the
    /// Wiener-type gain of `Wˢhˢ` and `Wⁿhⁿ`.
    Activations {
        /// Scale per activation.
        scale: &'a [f32],
        /// `[Wˢ Wⁿ]`, column-major.
        dictionary: &'a [f32],
        /// Speech atoms (the first columns).
        speech_rank: usize,
        /// Exponent of the gain.
        gain_exponent: f32,
    },
}

/// The layers of a network: f32, or int8 ([`QuantNetworkView`]).
#[derive(Debug, Clone, Copy)]
pub enum NetworkLayers<'a> {
    /// f32 layers, ReLU after each but the last.
    Float(&'a [LayerView<'a>]),
    /// A quantised network.
    Int8(QuantNetworkView<'a>),
}

impl NetworkLayers<'_> {
    /// Outputs of the last layer.
    pub fn outputs(&self) -> usize {
        match self {
            NetworkLayers::Float(layers) => layers.last().map_or(0, |l| l.outputs),
            NetworkLayers::Int8(q) => q.outputs(),
        }
    }

    /// Multiply-adds per frame (an int8 layer's padded inputs counted).
    pub fn macs(&self) -> u64 {
        match self {
            NetworkLayers::Float(layers) => layers.iter().map(|l| (l.inputs * l.outputs) as u64).sum(),
            NetworkLayers::Int8(q) => q
                .layers
                .iter()
                .map(|l| (padded(l.inputs) * l.outputs) as u64)
                .sum(),
        }
    }
}

/// Work space of [`NetworkGain::gain`]: f32, int16 (4-byte aligned on a Cortex-M4 for the
/// `SMLAD` kernel) and int32 values ([`NetworkGain::scratch_lengths`]).
#[derive(Debug)]
pub struct GainScratch<'s> {
    /// f32 values.
    pub float: &'s mut [f32],
    /// int16 activations (quantised networks).
    pub int: &'s mut [i16],
    /// int32 accumulators (quantised networks).
    pub acc: &'s mut [i32],
}

/// [`GainScratch`] on the heap, sized for one network (feature `alloc`).
#[cfg(feature = "alloc")]
#[derive(Debug, Clone)]
pub struct OwnedGainScratch {
    float: alloc::vec::Vec<f32>,
    int: alloc::vec::Vec<i16>,
    acc: alloc::vec::Vec<i32>,
}

#[cfg(feature = "alloc")]
impl OwnedGainScratch {
    /// Zeroed scratch of the [`NetworkGain::scratch_lengths`] `net` needs.
    pub fn for_network(net: &NetworkGain) -> Self {
        let (float, int, acc) = net.scratch_lengths();
        Self {
            float: alloc::vec![0.0; float],
            int: alloc::vec![0; int],
            acc: alloc::vec![0; acc],
        }
    }

    /// The scratch, borrowed for [`NetworkGain::gain`].
    pub fn borrow(&mut self) -> GainScratch<'_> {
        GainScratch {
            float: &mut self.float,
            int: &mut self.int,
            acc: &mut self.acc,
        }
    }
}

/// A network enhancer's frame-to-gain map.
#[derive(Debug, Clone, Copy)]
pub struct NetworkGain<'a> {
    /// Features.
    pub features: FeatureView<'a>,
    /// Layers.
    pub layers: NetworkLayers<'a>,
    /// The output's meaning.
    pub output: OutputView<'a>,
}

impl NetworkGain<'_> {
    /// `(float, int, acc)` lengths of the [`GainScratch`] [`Self::gain`] needs: for f32
    /// layers two of the widest layer's outputs (and at least one frame's speech and noise
    /// spectra); for int8 ones the last layer's outputs and a frame's noise spectrum,
    /// [`QuantNetworkView::int_len`] and the last layer's accumulators.
    pub fn scratch_lengths(&self) -> (usize, usize, usize) {
        match self.layers {
            NetworkLayers::Float(layers) => {
                let widest = layers.iter().map(|l| l.outputs).max().unwrap_or(0);
                (2 * widest.max(self.features.bins), 0, 0)
            }
            NetworkLayers::Int8(q) => (
                q.outputs() + self.features.bins,
                q.int_len(self.features.width()),
                q.outputs(),
            ),
        }
    }

    /// The gain (`bins` values in [0, 1]) of one frame from its stacked, standardised
    /// `input`. `scratch` holds at least [`Self::scratch_lengths`] values. The view must be
    /// consistent (as a validated enhancer blob's is); a short buffer gives zero gains where
    /// values are missing, never a panic.
    pub fn gain(&self, input: &[f32], scratch: &mut GainScratch, gain: &mut [f32]) {
        let (out, spare): (&mut [f32], &mut [f32]) = match self.layers {
            NetworkLayers::Float(layers) => {
                let (in_first_half, n) = float_forward(layers, input, scratch.float);
                let half = scratch.float.len() / 2;
                let (a, b) = scratch.float.split_at_mut(half);
                if in_first_half {
                    (&mut a[..n], b)
                } else {
                    (&mut b[..n], a)
                }
            }
            NetworkLayers::Int8(q) => {
                let n = q.forward(input, scratch.int, scratch.acc, scratch.float);
                scratch.float.split_at_mut(n)
            }
        };
        self.output_gain(out, spare, gain);
    }

    /// The gain implied by the network's outputs `out` (overwritten); `spare` holds a
    /// frame's noise spectrum.
    fn output_gain(&self, out: &mut [f32], spare: &mut [f32], gain: &mut [f32]) {
        let width = out.len();
        gain.fill(0.0);
        match self.output {
            OutputView::Mask => {
                let bins = gain.len().min(width / 2);
                let (speech, noise) = out.split_at(bins);
                for ((g, &s), &n) in gain.iter_mut().zip(speech).zip(noise) {
                    let (s, n) = (softplus(s), softplus(n));
                    let m = s / (s + n + MASK_EPS);
                    // In [0, 1] whatever the weights (NaN → 0).
                    *g = if m >= 0.0 { m.min(1.0) } else { 0.0 };
                }
            }
            OutputView::Activations {
                scale,
                dictionary,
                speech_rank,
                gain_exponent,
            } => {
                for (h, &c) in out.iter_mut().zip(scale) {
                    *h = softplus(*h) * c;
                }
                let bins = gain.len();
                let rank = out.len().min(dictionary.len() / bins.max(1));
                let speech_rank = speech_rank.min(rank);
                // Speech reconstruction into `gain`, noise into `spare`, then the gain.
                let h = &out[..rank];
                let n = bins.min(spare.len());
                let noise = &mut spare[..n];
                let w = &dictionary[..rank * bins];
                let (ws, wn) = w.split_at(speech_rank * bins);
                reconstruct(ws, &h[..speech_rank], gain);
                reconstruct(wn, &h[speech_rank..], noise);
                for (g, &n) in gain.iter_mut().zip(noise.iter()) {
                    *g = wiener_gain(*g, n, gain_exponent);
                }
            }
        }
    }
}

/// `out[k] = Σⱼ w[j·bins + k] · h[j]` (`bins = out.len()`, column-major `w`), each sum in
/// atom order from 0 — the bits of a plain loop over the atoms — eight bins at a time, so
/// the eight sums stay in registers while each atom's eight weights are loaded at once.
fn reconstruct(w: &[f32], h: &[f32], out: &mut [f32]) {
    const PANEL: usize = 8;
    let bins = out.len();
    let mut k = 0;
    while k + PANEL <= bins {
        let mut acc = [0.0f32; PANEL];
        for (column, &hj) in w.chunks_exact(bins).zip(h) {
            if let Some(col) = column.get(k..k + PANEL) {
                for (a, &v) in acc.iter_mut().zip(col) {
                    *a += v * hj;
                }
            }
        }
        out[k..k + PANEL].copy_from_slice(&acc);
        k += PANEL;
    }
    for (i, o) in out.iter_mut().enumerate().skip(k) {
        *o = w
            .chunks_exact(bins)
            .zip(h)
            .fold(0.0, |acc, (column, &hj)| acc + column[i] * hj);
    }
}

/// The f32 layers on `input`, ping-ponging between the halves of `scratch`; returns whether
/// the last layer's outputs are in the first half, and how many.
fn float_forward(layers: &[LayerView], input: &[f32], scratch: &mut [f32]) -> (bool, usize) {
    let half = scratch.len() / 2;
    let (a, b) = scratch.split_at_mut(half);
    let mut width = input.len();
    for (i, layer) in layers.iter().enumerate() {
        let n = layer.outputs.min(half);
        // Ping-pong between the two halves: layer 0 reads `input`, layer i reads the
        // half layer i − 1 wrote.
        let (from, to): (&[f32], &mut [f32]) = match i {
            0 => (input, &mut a[..n]),
            _ if i % 2 == 1 => (&a[..width], &mut b[..n]),
            _ => (&b[..width], &mut a[..n]),
        };
        dense(from, layer.weights, layer.bias, to);
        if i + 1 < layers.len() {
            for v in to.iter_mut() {
                *v = v.max(0.0);
            }
        }
        width = n;
    }
    (layers.len() % 2 == 1, width.min(half))
}
