//! The streaming NMF speech enhancer: [`StreamingStft`] around [`NmfGain`], one hop in, one
//! hop out.

use super::fft::{Spectrum, BINS, FFT_SIZE};
use super::gain_floor::GainFloor;
use super::nmf_gain::{NmfGain, NmfGainSettings};
use super::stream::StreamingStft;
use crate::error::{Field, InputError, ModelError};
use crate::front_end::FrontEnd;

/// A speech + noise dictionary enhancer with hop `HOP` and room for `N` atoms in all.
#[derive(Debug, Clone)]
pub struct NmfEnhancer<'w, const HOP: usize, const N: usize> {
    stft: StreamingStft<HOP>,
    gain: NmfGain<'w, N>,
    spectrum: Spectrum,
    bin_gain: [f32; BINS],
    gain_floor: GainFloor,
}

impl<'w, const HOP: usize, const N: usize> NmfEnhancer<'w, HOP, N> {
    /// Checks the front end (valid, [`FFT_SIZE`]-point, hop `HOP`) and the dictionary and
    /// settings as [`NmfGain::new_checked`] does.
    pub fn new_checked(
        front_end: &FrontEnd,
        w: &'w [f32],
        speech_rank: usize,
        settings: NmfGainSettings,
    ) -> Result<Self, ModelError> {
        front_end.validate(BINS as u32)?;
        if front_end.hop as usize != HOP {
            return Err(ModelError::DimensionMismatch {
                field: Field::Hop,
                expected: HOP as u32,
                found: front_end.hop,
            });
        }
        Ok(Self {
            stft: StreamingStft::new(front_end.window),
            gain: NmfGain::new_checked(w, speech_rank, front_end.magnitude_exponent, settings)?,
            spectrum: Spectrum::default(),
            bin_gain: [0.0; BINS],
            gain_floor: GainFloor::NONE,
        })
    }

    /// Reconstructs with DNMF's bases `wbar` (see [`NmfGain::set_reconstruction`]).
    pub fn set_reconstruction(&mut self, wbar: &'w [f32]) -> Result<(), ModelError> {
        self.gain.set_reconstruction(wbar)
    }

    /// Applies `floor` to every gain from the next hop on (none until set).
    pub fn set_gain_floor(&mut self, floor: GainFloor) {
        self.gain_floor = floor;
    }

    /// Enhances one hop: `output` is the speech estimate of the input `FFT_SIZE − HOP`
    /// samples before this hop's first. An input error leaves every state untouched.
    pub fn process(&mut self, input: &[f32; HOP], output: &mut [f32; HOP]) -> Result<(), InputError> {
        self.stft.analyse(input, &mut self.spectrum)?;
        self.gain.gain(&self.spectrum, &mut self.bin_gain);
        self.gain_floor.apply(&mut self.bin_gain);
        for ((re, im), &g) in self
            .spectrum
            .re
            .iter_mut()
            .zip(&mut self.spectrum.im)
            .zip(&self.bin_gain)
        {
            *re *= g;
            *im *= g;
        }
        self.stft.synthesise(&self.spectrum, output);
        Ok(())
    }

    /// The stream at rest again: past samples zero, the next frame's activations start flat.
    pub fn reset(&mut self) {
        self.stft.reset();
        self.gain.reset();
    }

    /// The last frame's activations `[hˢ hⁿ]`.
    pub fn activations(&self) -> &[f32] {
        self.gain.activations()
    }

    /// The last frame's gain per bin.
    pub fn bin_gain(&self) -> &[f32; BINS] {
        &self.bin_gain
    }

    /// Output delay beyond the hop, samples: [`StreamingStft::delay`].
    pub const fn delay() -> usize {
        StreamingStft::<HOP>::delay()
    }

    /// Algorithmic latency, samples: one window (a hop to fill, the rest to complete).
    pub const fn latency() -> usize {
        FFT_SIZE
    }
}
