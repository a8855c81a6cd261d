//! Short-time Fourier transform and its inverse (`realfft`).
//!
//! Defaults are those of the reference implementation the paper follows: 16 kHz, a 512-point
//! periodic Hamming window, hop 128, centred frames (the signal zero-padded by half a window on
//! each side, as `librosa.stft(center=True)` and SciPy's `stft(boundary='zeros')`), 257 bins.
//! Frame `t` covers padded samples `t·hop … t·hop + n_fft`; there are `1 + len / hop` frames.
//! The inverse is the weighted overlap-add (Griffin & Lim 1984): each frame's inverse FFT is
//! windowed again, overlap-added, and divided by the overlap-added squared window — the exact
//! inverse of the analysis for every hop at which that sum stays positive.

use std::sync::Arc;

use anyhow::{bail, Result};
use realfft::num_complex::{Complex32, Complex64};
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};
use vaenmf_core::FrontEnd;

use crate::choice::Choice;
use crate::params::{limits, Checked, ParamError};

pub use vaenmf_core::front_end::Window;

impl Choice for Window {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        (
            "hamming",
            "periodic Hamming (the reference implementation's)",
            Window::Hamming,
        ),
        ("hann", "periodic Hann", Window::Hann),
    ];
}

/// STFT settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StftConfig {
    /// FFT size = window length (even).
    pub n_fft: usize,
    /// Hop between frames, samples (1 ≤ hop ≤ n_fft).
    pub hop: usize,
    /// Window.
    pub window: Window,
}

impl Default for StftConfig {
    fn default() -> Self {
        Self {
            n_fft: 512,
            hop: 128,
            window: Window::Hamming,
        }
    }
}

/// Settings that passed [`StftConfig::check`].
pub type StftParams = Checked<StftConfig>;

impl StftConfig {
    /// Checks the settings: an even FFT size from 16 to [`limits::N_FFT`] and a hop between 1
    /// and half the FFT size (frames overlap, so every sample, the last ones included, is
    /// covered twice and the overlap-added squared window never vanishes: the inverse exists).
    pub fn check(self) -> Result<StftParams, ParamError> {
        if !(16..=limits::N_FFT).contains(&self.n_fft) || !self.n_fft.is_multiple_of(2) {
            return Err(ParamError::new(
                "n-fft",
                self.n_fft,
                format!("an even number from 16 to {}", limits::N_FFT),
            ));
        }
        if !(1..=self.n_fft / 2).contains(&self.hop) {
            return Err(ParamError::new(
                "hop",
                self.hop,
                format!("between 1 and n-fft / 2 = {}", self.n_fft / 2),
            ));
        }
        let w = self.window.values(self.n_fft);
        let min_sum = (0..self.hop)
            .map(|phase| w.iter().skip(phase).step_by(self.hop).map(|v| v * v).sum::<f32>())
            .fold(f32::INFINITY, f32::min);
        if min_sum < 1e-3 {
            return Err(ParamError::new(
                "hop",
                self.hop,
                format!(
                    "small enough that the {} windows overlap everywhere (the inverse STFT needs it)",
                    self.window.name()
                ),
            ));
        }
        Ok(Checked::new_unchecked(self))
    }

    /// Frequency bins, `n_fft / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// The STFT settings of a recorded front end.
    pub fn of_front_end(front_end: &FrontEnd) -> Self {
        Self {
            n_fft: front_end.fft_size as usize,
            hop: front_end.hop as usize,
            window: front_end.window,
        }
    }

    /// Frames of a signal of `len` samples, `1 + len / hop`.
    pub fn frames(&self, len: usize) -> usize {
        1 + len / self.hop
    }
}

impl StftParams {
    /// The front end a model records: these settings at `sample_rate`, frames `|X|^exponent`.
    /// (Checked: the FFT size, at most [`limits::N_FFT`], and the hop fit a `u32`.)
    pub fn front_end(&self, sample_rate: u32, magnitude_exponent: f32) -> FrontEnd {
        FrontEnd {
            sample_rate,
            fft_size: self.n_fft as u32,
            hop: self.hop as u32,
            window: self.window,
            magnitude_exponent,
        }
    }
}

/// A complex spectrogram, frame-major: `data[t · bins + k]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    /// Frames.
    pub frames: usize,
    /// Bins per frame.
    pub bins: usize,
    /// Values.
    pub data: Vec<Complex32>,
}

impl Spectrogram {
    /// `|X|^p` per bin, frame-major (`p = 1`: magnitude, `2`: power).
    pub fn magnitude(&self, exponent: f32) -> Vec<f32> {
        self.data
            .iter()
            .map(|c| {
                let m = c.norm();
                if exponent == 1.0 {
                    m
                } else {
                    m.powf(exponent)
                }
            })
            .collect()
    }
}

/// Forward and inverse transforms of one configuration (FFT plans made once). The FFTs run
/// in f64, so a round trip is exact to the f32 storage of the spectrogram.
pub struct Stft {
    cfg: StftParams,
    window: Vec<f64>,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
}

impl Stft {
    /// Plans the transforms.
    pub fn new(cfg: &StftParams) -> Self {
        let mut planner = RealFftPlanner::<f64>::new();
        Self {
            cfg: cfg.clone(),
            window: (0..cfg.n_fft).map(|i| cfg.window.value(i, cfg.n_fft)).collect(),
            forward: planner.plan_fft_forward(cfg.n_fft),
            inverse: planner.plan_fft_inverse(cfg.n_fft),
        }
    }

    /// The settings.
    pub fn config(&self) -> &StftParams {
        &self.cfg
    }

    /// The centred STFT of `x`.
    pub fn forward(&self, x: &[f32]) -> Spectrogram {
        let (n, hop, bins) = (self.cfg.n_fft, self.cfg.hop, self.cfg.bins());
        let pad = n / 2;
        let frames = self.cfg.frames(x.len());
        let mut data = Vec::with_capacity(frames * bins);
        let mut buf = vec![0.0f64; n];
        let mut spectrum = self.forward.make_output_vec();
        let mut scratch = self.forward.make_scratch_vec();
        for t in 0..frames {
            for (i, b) in buf.iter_mut().enumerate() {
                // Sample i of frame t is padded sample t·hop + i, i.e. x[t·hop + i − pad].
                let j = (t * hop + i).checked_sub(pad);
                *b = f64::from(j.and_then(|j| x.get(j)).copied().unwrap_or(0.0)) * self.window[i];
            }
            // Lengths match the plan, so the FFT cannot fail.
            let _ = self
                .forward
                .process_with_scratch(&mut buf, &mut spectrum, &mut scratch);
            data.extend(spectrum.iter().map(|c| Complex32::new(c.re as f32, c.im as f32)));
        }
        Spectrogram { frames, bins, data }
    }

    /// The signal of `len` samples whose centred STFT is `spec` (weighted overlap-add).
    pub fn inverse(&self, spec: &Spectrogram, len: usize) -> Result<Vec<f32>> {
        let (n, hop, bins) = (self.cfg.n_fft, self.cfg.hop, self.cfg.bins());
        if spec.bins != bins {
            bail!("spectrogram has {} bins, the STFT {bins}", spec.bins);
        }
        let pad = n / 2;
        let total = (spec.frames - 1) * hop + n;
        let mut out = vec![0.0f64; total];
        let mut norm = vec![0.0f64; total];
        let mut frame = self.inverse.make_output_vec();
        let mut input = self.inverse.make_input_vec();
        let mut scratch = self.inverse.make_scratch_vec();
        let scale = 1.0 / n as f64;
        for t in 0..spec.frames {
            for (i, c) in input.iter_mut().zip(&spec.data[t * bins..(t + 1) * bins]) {
                *i = Complex64::new(f64::from(c.re), f64::from(c.im));
            }
            // A real signal's DC and Nyquist bins are real; drop any imaginary part the
            // caller's processing left there (realfft requires it).
            input[0].im = 0.0;
            input[bins - 1].im = 0.0;
            let _ = self
                .inverse
                .process_with_scratch(&mut input, &mut frame, &mut scratch);
            for (i, (&v, &w)) in frame.iter().zip(&self.window).enumerate() {
                out[t * hop + i] += v * scale * w;
                norm[t * hop + i] += w * w;
            }
        }
        Ok((0..len)
            .map(|j| {
                let k = j + pad;
                match (out.get(k), norm.get(k)) {
                    (Some(&o), Some(&w)) if w > 1e-10 => (o / w) as f32,
                    _ => 0.0,
                }
            })
            .collect())
    }
}

/// A front end in words, for errors and reports.
pub fn describe(f: &FrontEnd) -> String {
    format!(
        "{} Hz, FFT {}, hop {}, {} window, |X|^{}",
        f.sample_rate,
        f.fft_size,
        f.hop,
        f.window.name(),
        f.magnitude_exponent
    )
}
