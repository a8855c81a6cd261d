//! How a spectrogram dictionary's frames were made: the front end a speech model records
//! (blob format 3) so that it is never applied to a spectrogram made differently.
//!
//! A frame is `|STFT|^p` of a signal at `sample_rate`: `fft_size`-point periodic `window`,
//! hop `hop`, centred frames, `fft_size / 2 + 1` bins (the model's channels), exponent
//! `p = magnitude_exponent` (1: magnitude, 2: power).

use serde::{Deserialize, Serialize};

use crate::error::{Field, ModelError};

/// Analysis window of the front end (periodic). In a blob it is the variant's index; in JSON
/// its kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Window {
    /// `0.54 − 0.46 cos(2πn/N)`.
    Hamming,
    /// `0.5 − 0.5 cos(2πn/N)`.
    Hann,
}

impl Window {
    /// Lower-case name, as on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Window::Hamming => "hamming",
            Window::Hann => "hann",
        }
    }

    /// Value `i` of the `n`-point periodic window, `a₀ − a₁ cos(2πi/n)`.
    pub fn value(self, i: usize, n: usize) -> f64 {
        let (a0, a1) = match self {
            Window::Hamming => (0.54, 0.46),
            Window::Hann => (0.5, 0.5),
        };
        a0 - a1 * libm::cos(2.0 * core::f64::consts::PI * i as f64 / n as f64)
    }

    /// The `n` window values.
    #[cfg(feature = "alloc")]
    pub fn values(self, n: usize) -> alloc::vec::Vec<f32> {
        (0..n).map(|i| self.value(i, n) as f32).collect()
    }
}

/// The STFT front end a spectrogram dictionary was learned with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrontEnd {
    /// Sample rate, Hz (> 0).
    pub sample_rate: u32,
    /// FFT size = window length (even, ≥ 2; the model has `fft_size / 2 + 1` channels).
    pub fft_size: u32,
    /// Hop between frames, samples (1 ..= `fft_size`).
    pub hop: u32,
    /// Window.
    pub window: Window,
    /// Exponent `p` of `|X|^p` (finite, > 0).
    pub magnitude_exponent: f32,
}

impl FrontEnd {
    /// Frequency bins, `fft_size / 2 + 1`.
    pub const fn bins(&self) -> u32 {
        self.fft_size / 2 + 1
    }

    /// Checks every field, and that the bins are the model's `channels`.
    pub fn validate(&self, channels: u32) -> Result<(), ModelError> {
        let bad = |field| Err(ModelError::OutOfRange { field, index: 0 });
        if self.sample_rate == 0 {
            return bad(Field::SampleRate);
        }
        if self.fft_size < 2 || !self.fft_size.is_multiple_of(2) {
            return bad(Field::FftSize);
        }
        if self.hop == 0 || self.hop > self.fft_size {
            return bad(Field::Hop);
        }
        if !(self.magnitude_exponent.is_finite() && self.magnitude_exponent > 0.0) {
            return bad(Field::MagnitudeExponent);
        }
        if self.bins() != channels {
            return Err(ModelError::DimensionMismatch {
                field: Field::FftSize,
                expected: channels,
                found: self.bins(),
            });
        }
        Ok(())
    }
}
