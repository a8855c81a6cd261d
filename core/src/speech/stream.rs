//! The streaming STFT: one hop of samples in, one windowed frame's spectrum; a gain per bin
//! in, one hop of samples out by weighted overlap-add.
//!
//! Frame `k` (after the `k+1`-th hop) covers the last [`FFT_SIZE`] input samples, zeros
//! before the first. Its inverse FFT is windowed again and overlap-added; a sample leaves
//! once every frame that covers it has been added, divided by the sum of the squared window
//! over those frames — so with unit gain the output is the input delayed by
//! `FFT_SIZE − HOP` samples, exactly up to rounding (the weighted overlap-add of Griffin &
//! Lim, the offline STFT's inverse in the steady state). Algorithmic latency: one window,
//! `FFT_SIZE` samples (a hop to fill, `FFT_SIZE − HOP` to complete).

use super::fft::{RealFft, Spectrum, FFT_SIZE};
use crate::error::InputError;
use crate::front_end::Window;

/// Largest sample magnitude accepted: full-scale audio is ±1 (or ±32768 as raw 16-bit
/// integers); beyond ±65536 the f32 spectra and activations could overflow.
pub const MAX_ABS_SAMPLE: f32 = 65536.0;

/// Analysis and synthesis state of a hop-by-hop STFT with hop `HOP` (a power of two from 16
/// to `FFT_SIZE / 2`, so at least two frames cover every sample).
#[derive(Debug, Clone)]
pub struct StreamingStft<const HOP: usize> {
    window: [f32; FFT_SIZE],
    /// `1 / Σₘ w²(j + m·HOP)` for output phase `j < HOP`.
    inverse_norm: [f32; HOP],
    fft: RealFft,
    /// The last `FFT_SIZE` input samples, oldest first.
    input: [f32; FFT_SIZE],
    /// Overlap-added windowed frames not yet complete, oldest sample first.
    overlap: [f32; FFT_SIZE],
    scratch: [f32; FFT_SIZE],
}

impl<const HOP: usize> StreamingStft<HOP> {
    const HOP_IS_VALID: () = assert!(
        HOP.is_power_of_two() && HOP >= 16 && HOP <= FFT_SIZE / 2,
        "HOP must be a power of two from 16 to FFT_SIZE / 2"
    );

    /// A stream at rest (every past sample zero) with the periodic `window`.
    pub fn new(window: Window) -> Self {
        let mut stft = Self::ZEROED;
        stft.configure(window);
        stft
    }

    /// All zeros — a `static`'s initial value, which a device then [`Self::configure`]s in
    /// place rather than building 12 KiB of state on its stack and copying it.
    pub const ZEROED: Self = Self {
        window: [0.0; FFT_SIZE],
        inverse_norm: [0.0; HOP],
        fft: RealFft::ZEROED,
        input: [0.0; FFT_SIZE],
        overlap: [0.0; FFT_SIZE],
        scratch: [0.0; FFT_SIZE],
    };

    /// Sets the periodic `window` (and the FFT's twiddles) in place and puts the stream at
    /// rest.
    pub fn configure(&mut self, window: Window) {
        #[allow(clippy::let_unit_value)]
        let () = Self::HOP_IS_VALID;
        self.window = *super::tables::window_512(window);
        for (j, v) in self.inverse_norm.iter_mut().enumerate() {
            let sum: f64 = (j..FFT_SIZE)
                .step_by(HOP)
                .map(|i| f64::from(self.window[i]) * f64::from(self.window[i]))
                .sum();
            // Every window this crate offers is positive somewhere in each phase: sum > 0.
            *v = (1.0 / sum) as f32;
        }
        self.fft.compute_twiddles();
        self.reset();
    }

    /// Forgets every past sample (the stream at rest again).
    pub fn reset(&mut self) {
        self.input = [0.0; FFT_SIZE];
        self.overlap = [0.0; FFT_SIZE];
    }

    /// Takes one hop of samples and writes the spectrum of the frame that ends with it. A NaN
    /// or ±∞ sample ([`InputError::NonFinite`], `channel` = its index in the hop) or one past
    /// ±[`MAX_ABS_SAMPLE`] ([`InputError::SampleRange`]) is an error and leaves the state
    /// untouched.
    pub fn analyse(&mut self, hop: &[f32; HOP], spectrum: &mut Spectrum) -> Result<(), InputError> {
        if let Some(i) = hop.iter().position(|v| !v.is_finite()) {
            return Err(InputError::NonFinite { channel: i as u32 });
        }
        if let Some(i) = hop.iter().position(|v| v.abs() > MAX_ABS_SAMPLE) {
            return Err(InputError::SampleRange { index: i as u32 });
        }
        self.input.copy_within(HOP.., 0);
        self.input[FFT_SIZE - HOP..].copy_from_slice(hop);
        for ((s, &x), &w) in self.scratch.iter_mut().zip(&self.input).zip(&self.window) {
            *s = x * w;
        }
        self.fft.forward(&mut self.scratch, spectrum);
        Ok(())
    }

    /// Inverse of the frame `spectrum` (usually the analysed one times a gain), overlap-added;
    /// writes the hop of output samples that is now complete.
    pub fn synthesise(&mut self, spectrum: &Spectrum, out: &mut [f32; HOP]) {
        self.fft.inverse(spectrum, &mut self.scratch);
        for ((o, &y), &w) in self.overlap.iter_mut().zip(&self.scratch).zip(&self.window) {
            *o += y * w;
        }
        for ((o, &acc), &norm) in out.iter_mut().zip(&self.overlap).zip(&self.inverse_norm) {
            *o = acc * norm;
        }
        self.overlap.copy_within(HOP.., 0);
        self.overlap[FFT_SIZE - HOP..].fill(0.0);
    }

    /// Samples between a sample's arrival and its leaving, beyond the hop it arrives in:
    /// `FFT_SIZE − HOP`.
    pub const fn delay() -> usize {
        FFT_SIZE - HOP
    }
}
