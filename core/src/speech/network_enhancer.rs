//! The streaming network enhancer: [`StreamingStft`] around [`NetworkGain`], one hop in, one
//! hop out, with caller-provided state (no heap, [`NetworkBuffers`]): the STFT's, the rings of
//! the log-compressed frames of the context before and the look-ahead after and of the spectra
//! waiting for their look-ahead, and the network's work space (f32, or int16/int32 for a
//! quantised network).
//!
//! Frame `c`'s gain needs frames up to `c + after`, so its output leaves `after` hops later
//! than a network without look-ahead: the latency is one window plus `after · HOP` samples.
//! The first frame stands in for the frames before it, as the offline features repeat an edge
//! frame; until the look-ahead has arrived the output is silence.

use super::fft::{Spectrum, BINS, FFT_SIZE};
use super::gain_floor::GainFloor;
use super::network::{GainScratch, LayerView, NetworkGain, NetworkLayers, OutputView};
use super::nmf_gain::magnitudes;
use super::quant_network::{padded, QuantNetworkView, MAX_INT8_INPUTS};
use super::stream::StreamingStft;
use crate::error::{len_u32, Field, InputError, ModelError};
use crate::front_end::FrontEnd;

/// The state, rings and work space of a [`NetworkEnhancer`], borrowed from the caller
/// (`static`s on a device, so that no large state is built on the stack and copied).
/// [`BufferLengths::of`] gives the sizes a network needs.
#[derive(Debug)]
pub struct NetworkBuffers<'b, const HOP: usize> {
    /// The STFT's state (any: the enhancer configures it for the front end's window and puts
    /// it at rest; [`StreamingStft::ZEROED`] for a `static`).
    pub stft: &'b mut StreamingStft<HOP>,
    /// Log-compressed frames: at least `(before + 1 + after) · BINS` values.
    pub frames: &'b mut [f32],
    /// Spectra waiting for their look-ahead: at least `after + 1`.
    pub spectra: &'b mut [Spectrum],
    /// The network's input and f32 scratch.
    pub work: &'b mut [f32],
    /// int16 activations of a quantised network (4-byte aligned on a Cortex-M4 for the
    /// `SMLAD` kernel; empty for an f32 one).
    pub int: &'b mut [i16],
    /// int32 accumulators of a quantised network (empty for an f32 one).
    pub acc: &'b mut [i32],
}

/// The lengths of the [`NetworkBuffers`] a network needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLengths {
    /// [`NetworkBuffers::frames`].
    pub frames: usize,
    /// [`NetworkBuffers::spectra`].
    pub spectra: usize,
    /// [`NetworkBuffers::work`]: the input width and the f32 scratch.
    pub work: usize,
    /// [`NetworkBuffers::int`].
    pub int: usize,
    /// [`NetworkBuffers::acc`].
    pub acc: usize,
}

impl BufferLengths {
    /// The lengths `net` needs.
    pub fn of(net: &NetworkGain) -> Self {
        let f = &net.features;
        let (float, int, acc) = net.scratch_lengths();
        Self {
            frames: (f.before + 1 + f.after) * BINS,
            spectra: f.after + 1,
            work: f.width() + float,
            int,
            acc,
        }
    }
}

/// [`NetworkBuffers`] on the heap, sized for one network (feature `alloc`: the host's way to
/// stream; a device borrows `static`s instead).
#[cfg(feature = "alloc")]
#[derive(Debug, Clone)]
pub struct OwnedNetworkBuffers<const HOP: usize> {
    stft: alloc::boxed::Box<StreamingStft<HOP>>,
    frames: alloc::vec::Vec<f32>,
    spectra: alloc::vec::Vec<Spectrum>,
    work: alloc::vec::Vec<f32>,
    int: alloc::vec::Vec<i16>,
    acc: alloc::vec::Vec<i32>,
}

#[cfg(feature = "alloc")]
impl<const HOP: usize> OwnedNetworkBuffers<HOP> {
    /// Zeroed buffers of the [`BufferLengths`] `net` needs.
    pub fn for_network(net: &NetworkGain) -> Self {
        let n = BufferLengths::of(net);
        Self {
            stft: alloc::boxed::Box::new(StreamingStft::ZEROED),
            frames: alloc::vec![0.0; n.frames],
            spectra: alloc::vec![Spectrum::default(); n.spectra],
            work: alloc::vec![0.0; n.work],
            int: alloc::vec![0; n.int],
            acc: alloc::vec![0; n.acc],
        }
    }

    /// The buffers, borrowed for a [`NetworkEnhancer`].
    pub fn borrow(&mut self) -> NetworkBuffers<'_, HOP> {
        NetworkBuffers {
            stft: &mut self.stft,
            frames: &mut self.frames,
            spectra: &mut self.spectra,
            work: &mut self.work,
            int: &mut self.int,
            acc: &mut self.acc,
        }
    }
}

fn mismatch(field: Field, expected: usize, found: usize) -> ModelError {
    ModelError::DimensionMismatch {
        field,
        expected: len_u32(expected),
        found: len_u32(found),
    }
}

/// Checks that every size of `net` fits the others and the [`BINS`]-bin front end.
fn check_sizes(net: &NetworkGain) -> Result<(), ModelError> {
    let f = &net.features;
    if f.bins != BINS {
        return Err(mismatch(Field::FftSize, BINS, f.bins));
    }
    if f.mean.len() != f.width() {
        return Err(mismatch(Field::FeatureMean, f.width(), f.mean.len()));
    }
    if f.std.len() != f.width() {
        return Err(mismatch(Field::FeatureStd, f.width(), f.std.len()));
    }
    if !(f.reference.is_finite() && f.reference > 0.0) {
        return Err(ModelError::OutOfRange {
            field: Field::FeatureReference,
            index: 0,
        });
    }
    let inputs = match net.layers {
        NetworkLayers::Float(layers) => check_float_layers(f.width(), layers)?,
        NetworkLayers::Int8(q) => check_int8_layers(f.width(), &q)?,
    };
    match net.output {
        OutputView::Mask if inputs != 2 * BINS => Err(mismatch(Field::Layers, 2 * BINS, inputs)),
        OutputView::Activations {
            scale,
            dictionary,
            speech_rank,
            ..
        } => {
            if scale.len() != inputs {
                return Err(mismatch(Field::OutputScale, inputs, scale.len()));
            }
            if dictionary.len() != inputs * BINS {
                return Err(mismatch(Field::Dictionary, inputs * BINS, dictionary.len()));
            }
            if speech_rank == 0 || speech_rank >= inputs {
                return Err(ModelError::OutOfRange {
                    field: Field::SpeechRank,
                    index: len_u32(speech_rank),
                });
            }
            Ok(())
        }
        OutputView::Mask => Ok(()),
    }
}

fn layer_error(i: usize) -> ModelError {
    ModelError::OutOfRange {
        field: Field::Layers,
        index: len_u32(i),
    }
}

/// The f32 layers' sizes from `width` inputs on; returns the last layer's outputs.
fn check_float_layers(width: usize, layers: &[LayerView]) -> Result<usize, ModelError> {
    if layers.is_empty() {
        return Err(mismatch(Field::Layers, 1, 0));
    }
    let mut inputs = width;
    for (i, layer) in layers.iter().enumerate() {
        if layer.inputs != inputs || layer.outputs == 0 {
            return Err(layer_error(i));
        }
        if Some(layer.weights.len()) != layer.inputs.checked_mul(layer.outputs) {
            return Err(mismatch(
                Field::LayerWeights,
                layer.inputs * layer.outputs,
                layer.weights.len(),
            ));
        }
        if layer.bias.len() != layer.outputs {
            return Err(mismatch(Field::LayerBias, layer.outputs, layer.bias.len()));
        }
        inputs = layer.outputs;
    }
    Ok(inputs)
}

/// The int8 layers' sizes (padded inputs, multipliers on hidden layers, scales on the last)
/// from `width` inputs on; returns the last layer's outputs.
fn check_int8_layers(width: usize, q: &QuantNetworkView) -> Result<usize, ModelError> {
    if q.layers.is_empty() {
        return Err(mismatch(Field::QuantizedLayers, 1, 0));
    }
    if q.input_max < 1 {
        return Err(ModelError::OutOfRange {
            field: Field::InputMax,
            index: 0,
        });
    }
    let mut inputs = width;
    let last = q.layers.len() - 1;
    for (i, layer) in q.layers.iter().enumerate() {
        if layer.inputs != inputs || layer.outputs == 0 || padded(layer.inputs) > MAX_INT8_INPUTS {
            return Err(ModelError::OutOfRange {
                field: Field::QuantizedLayers,
                index: len_u32(i),
            });
        }
        let weights = padded(layer.inputs).checked_mul(layer.outputs);
        if Some(layer.weights.len()) != weights {
            return Err(mismatch(
                Field::QuantizedWeights,
                weights.unwrap_or(usize::MAX),
                layer.weights.len(),
            ));
        }
        if layer.bias.len() != layer.outputs {
            return Err(mismatch(Field::QuantizedBias, layer.outputs, layer.bias.len()));
        }
        let (multipliers, scales) = if i == last {
            (0, layer.outputs)
        } else {
            (layer.outputs, 0)
        };
        if layer.multiplier.len() != multipliers {
            return Err(mismatch(
                Field::QuantizedMultiplier,
                multipliers,
                layer.multiplier.len(),
            ));
        }
        if layer.output_scale.len() != scales {
            return Err(mismatch(Field::QuantizedScale, scales, layer.output_scale.len()));
        }
        inputs = layer.outputs;
    }
    Ok(inputs)
}

/// A network enhancer (mask or dictionary activations) with hop `HOP`.
#[derive(Debug)]
pub struct NetworkEnhancer<'a, const HOP: usize> {
    stft: &'a mut StreamingStft<HOP>,
    net: NetworkGain<'a>,
    magnitude_exponent: f32,
    frames: &'a mut [f32],
    spectra: &'a mut [Spectrum],
    /// `float` starts with the network's input.
    scratch: GainScratch<'a>,
    /// Frames analysed since the start (or the last reset).
    seen: u64,
    magnitude: [f32; BINS],
    bin_gain: [f32; BINS],
    gain_floor: GainFloor,
}

impl<'a, const HOP: usize> NetworkEnhancer<'a, HOP> {
    /// Checks the front end (valid, [`FFT_SIZE`]-point, hop `HOP`), the network's sizes
    /// against each other and the buffers against [`BufferLengths::of`]. The values are
    /// the model file's to check ([`super::EnhancerBlob::validate`]); any that slip through
    /// give gains in [0, 1] all the same.
    pub fn new_checked(
        front_end: &FrontEnd,
        net: NetworkGain<'a>,
        buffers: NetworkBuffers<'a, HOP>,
    ) -> Result<Self, ModelError> {
        front_end.validate(BINS as u32)?;
        if front_end.hop as usize != HOP {
            return Err(mismatch(Field::Hop, HOP, front_end.hop as usize));
        }
        check_sizes(&net)?;
        let n = BufferLengths::of(&net);
        for (needed, found) in [
            (n.frames, buffers.frames.len()),
            (n.spectra, buffers.spectra.len()),
            (n.work, buffers.work.len()),
            (n.int, buffers.int.len()),
            (n.acc, buffers.acc.len()),
        ] {
            if found < needed {
                return Err(mismatch(Field::Buffer, needed, found));
            }
        }
        buffers.stft.configure(front_end.window);
        Ok(Self {
            stft: buffers.stft,
            net,
            magnitude_exponent: front_end.magnitude_exponent,
            frames: &mut buffers.frames[..n.frames],
            spectra: &mut buffers.spectra[..n.spectra],
            scratch: GainScratch {
                float: &mut buffers.work[..n.work],
                int: &mut buffers.int[..n.int],
                acc: &mut buffers.acc[..n.acc],
            },
            seen: 0,
            magnitude: [0.0; BINS],
            bin_gain: [0.0; BINS],
            gain_floor: GainFloor::NONE,
        })
    }

    fn ring_len(&self) -> usize {
        self.net.features.before + 1 + self.net.features.after
    }

    /// Applies `floor` to every gain from the next hop on (none until set).
    pub fn set_gain_floor(&mut self, floor: GainFloor) {
        self.gain_floor = floor;
    }

    /// Enhances one hop: `output` is the speech estimate of the input
    /// [`Self::delay`] samples before this hop's first. An input error leaves every state
    /// untouched.
    pub fn process(&mut self, input: &[f32; HOP], output: &mut [f32; HOP]) -> Result<(), InputError> {
        // Analysed straight into its place in the ring (an error writes nothing).
        let spectra = self.spectra.len() as u64;
        let newest = (self.seen % spectra) as usize;
        self.stft.analyse(input, &mut self.spectra[newest])?;
        let ring = self.ring_len();
        let (before, after) = (self.net.features.before, self.net.features.after);
        magnitudes(
            &self.spectra[newest],
            self.magnitude_exponent,
            &mut self.magnitude,
        );
        let t = (self.seen % ring as u64) as usize;
        let slot = &mut self.frames[t * BINS..(t + 1) * BINS];
        self.net.features.compress(&self.magnitude, slot);
        if self.seen == 0 {
            // The first frame stands in for the frames before it.
            let (first, rest) = self.frames.split_at_mut(BINS);
            for other in rest.chunks_exact_mut(BINS) {
                other.copy_from_slice(first);
            }
        }
        self.seen = self.seen.saturating_add(1);
        if self.seen <= after as u64 {
            // The look-ahead of the first frame has not arrived: silence.
            self.bin_gain.fill(0.0);
            self.stft.synthesise(&Spectrum::ZERO, output);
            return Ok(());
        }
        let c = self.seen - 1 - after as u64;
        let width = self.net.features.width();
        let (x, float) = self.scratch.float.split_at_mut(width);
        // Frames c − before ..= c + after, oldest first.
        let first = ((c % ring as u64) as usize + ring - before) % ring;
        for (k, out) in x.chunks_exact_mut(BINS).enumerate() {
            let s = (first + k) % ring;
            out.copy_from_slice(&self.frames[s * BINS..(s + 1) * BINS]);
        }
        self.net.features.standardise(x);
        let mut scratch = GainScratch {
            float,
            int: &mut *self.scratch.int,
            acc: &mut *self.scratch.acc,
        };
        self.net.gain(x, &mut scratch, &mut self.bin_gain);
        self.gain_floor.apply(&mut self.bin_gain);
        let spectrum = &mut self.spectra[(c % spectra) as usize];
        for ((re, im), &g) in spectrum.re.iter_mut().zip(&mut spectrum.im).zip(&self.bin_gain) {
            *re *= g;
            *im *= g;
        }
        self.stft.synthesise(spectrum, output);
        Ok(())
    }

    /// The stream at rest again: past samples zero, no frames seen.
    pub fn reset(&mut self) {
        self.stft.reset();
        self.seen = 0;
    }

    /// The gain of the frame the last output came from.
    pub fn bin_gain(&self) -> &[f32; BINS] {
        &self.bin_gain
    }

    /// Output delay beyond the hop, samples: the STFT's and the look-ahead's.
    pub fn delay(&self) -> usize {
        StreamingStft::<HOP>::delay() + self.net.features.after * HOP
    }

    /// Algorithmic latency, samples: one window and the look-ahead.
    pub fn latency(&self) -> usize {
        FFT_SIZE + self.net.features.after * HOP
    }
}
