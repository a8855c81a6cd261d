//! The streaming network enhancer: [`StreamingStft`] around [`NetworkGain`], one hop in, one
//! hop out, with caller-provided rings (no heap): the log-compressed frames of the context
//! before and the look-ahead after, and the spectra waiting for their look-ahead.
//!
//! Frame `c`'s gain needs frames up to `c + after`, so its output leaves `after` hops later
//! than a network without look-ahead: the latency is one window plus `after · HOP` samples.
//! The first frame stands in for the frames before it, as the offline features repeat an edge
//! frame; until the look-ahead has arrived the output is silence.

use super::fft::{Spectrum, BINS, FFT_SIZE};
use super::gain_floor::GainFloor;
use super::network::{NetworkGain, OutputView};
use super::nmf_gain::magnitudes;
use super::stream::StreamingStft;
use crate::error::{len_u32, Field, InputError, ModelError};
use crate::front_end::FrontEnd;

/// The rings and work space of a [`NetworkEnhancer`], borrowed from the caller (a `static`
/// on a device). [`NetworkBuffers::lengths`] gives the sizes a network needs.
#[derive(Debug)]
pub struct NetworkBuffers<'b> {
    /// Log-compressed frames: at least `(before + 1 + after) · BINS` values.
    pub frames: &'b mut [f32],
    /// Spectra waiting for their look-ahead: at least `after + 1`.
    pub spectra: &'b mut [Spectrum],
    /// The network's input and scratch: at least `width + scratch_len` values.
    pub work: &'b mut [f32],
}

impl NetworkBuffers<'_> {
    /// `(frames, spectra, work)` lengths `net` needs.
    pub fn lengths(net: &NetworkGain) -> (usize, usize, usize) {
        let f = &net.features;
        (
            (f.before + 1 + f.after) * BINS,
            f.after + 1,
            f.width() + net.scratch_len(),
        )
    }
}

/// [`NetworkBuffers`] on the heap, sized for one network (feature `alloc`: the host's way to
/// stream; a device borrows `static`s instead).
#[cfg(feature = "alloc")]
#[derive(Debug, Clone)]
pub struct OwnedNetworkBuffers {
    frames: alloc::vec::Vec<f32>,
    spectra: alloc::vec::Vec<Spectrum>,
    work: alloc::vec::Vec<f32>,
}

#[cfg(feature = "alloc")]
impl OwnedNetworkBuffers {
    /// Zeroed buffers of the [`NetworkBuffers::lengths`] `net` needs.
    pub fn for_network(net: &NetworkGain) -> Self {
        let (frames, spectra, work) = NetworkBuffers::lengths(net);
        Self {
            frames: alloc::vec![0.0; frames],
            spectra: alloc::vec![Spectrum::default(); spectra],
            work: alloc::vec![0.0; work],
        }
    }

    /// The buffers, borrowed for a [`NetworkEnhancer`].
    pub fn borrow(&mut self) -> NetworkBuffers<'_> {
        NetworkBuffers {
            frames: &mut self.frames,
            spectra: &mut self.spectra,
            work: &mut self.work,
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
    if net.layers.is_empty() {
        return Err(mismatch(Field::Layers, 1, 0));
    }
    let mut inputs = f.width();
    for (i, layer) in net.layers.iter().enumerate() {
        if layer.inputs != inputs || layer.outputs == 0 {
            return Err(ModelError::OutOfRange {
                field: Field::Layers,
                index: len_u32(i),
            });
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

/// A network enhancer (mask or dictionary activations) with hop `HOP`.
#[derive(Debug)]
pub struct NetworkEnhancer<'a, const HOP: usize> {
    stft: StreamingStft<HOP>,
    net: NetworkGain<'a>,
    magnitude_exponent: f32,
    frames: &'a mut [f32],
    spectra: &'a mut [Spectrum],
    work: &'a mut [f32],
    /// Frames analysed since the start (or the last reset).
    seen: u64,
    spectrum: Spectrum,
    magnitude: [f32; BINS],
    bin_gain: [f32; BINS],
    gain_floor: GainFloor,
}

impl<'a, const HOP: usize> NetworkEnhancer<'a, HOP> {
    /// Checks the front end (valid, [`FFT_SIZE`]-point, hop `HOP`), the network's sizes
    /// against each other and the buffers against [`NetworkBuffers::lengths`]. The values are
    /// the model file's to check ([`super::EnhancerBlob::validate`]); any that slip through
    /// give gains in [0, 1] all the same.
    pub fn new_checked(
        front_end: &FrontEnd,
        net: NetworkGain<'a>,
        buffers: NetworkBuffers<'a>,
    ) -> Result<Self, ModelError> {
        front_end.validate(BINS as u32)?;
        if front_end.hop as usize != HOP {
            return Err(mismatch(Field::Hop, HOP, front_end.hop as usize));
        }
        check_sizes(&net)?;
        let (frames, spectra, work) = NetworkBuffers::lengths(&net);
        if buffers.frames.len() < frames {
            return Err(mismatch(Field::Buffer, frames, buffers.frames.len()));
        }
        if buffers.spectra.len() < spectra {
            return Err(mismatch(Field::Buffer, spectra, buffers.spectra.len()));
        }
        if buffers.work.len() < work {
            return Err(mismatch(Field::Buffer, work, buffers.work.len()));
        }
        Ok(Self {
            stft: StreamingStft::new(front_end.window),
            net,
            magnitude_exponent: front_end.magnitude_exponent,
            frames: &mut buffers.frames[..frames],
            spectra: &mut buffers.spectra[..spectra],
            work: &mut buffers.work[..work],
            seen: 0,
            spectrum: Spectrum::default(),
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
        self.stft.analyse(input, &mut self.spectrum)?;
        let ring = self.ring_len();
        let (before, after) = (self.net.features.before, self.net.features.after);
        magnitudes(&self.spectrum, self.magnitude_exponent, &mut self.magnitude);
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
        let spectra = self.spectra.len() as u64;
        self.spectra[(self.seen % spectra) as usize] = self.spectrum;
        self.seen = self.seen.saturating_add(1);
        if self.seen <= after as u64 {
            // The look-ahead of the first frame has not arrived: silence.
            self.bin_gain.fill(0.0);
            self.stft.synthesise(&Spectrum::default(), output);
            return Ok(());
        }
        let c = self.seen - 1 - after as u64;
        let width = self.net.features.width();
        let (x, scratch) = self.work.split_at_mut(width);
        // Frames c − before ..= c + after, oldest first.
        let first = ((c % ring as u64) as usize + ring - before) % ring;
        for (k, out) in x.chunks_exact_mut(BINS).enumerate() {
            let s = (first + k) % ring;
            out.copy_from_slice(&self.frames[s * BINS..(s + 1) * BINS]);
        }
        self.net.features.standardise(x);
        self.net.gain(x, scratch, &mut self.bin_gain);
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
