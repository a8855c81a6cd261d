//! Raw EMG samples → envelope frames, one sample at a time, on the device.
//!
//! The stage is the causal form of the trainer's envelope (`vaenmf train --causal-envelope`):
//! band-pass (cascaded second-order sections), full-wave rectification, low-pass (sections),
//! then every `decimate`-th sample out as a frame. Coefficients are designed on the host (the
//! firmware's `build.rs` and the trainer use the same Butterworth design) and passed in; this
//! module only runs them.
//!
//! # Invariants
//!
//! - Sections are transposed direct form II in f32, summed in a fixed order without fused
//!   multiply-add, so results are the same on every target.
//! - [`EnvelopeStage::new_checked`] accepts only finite coefficients of stable sections
//!   (`|a₂| < 1`, `|a₁| < 1 + a₂`) and `decimate ≥ 1`; a stable filter's state stays bounded
//!   for bounded input.
//! - The first sample sets every section to the steady state of a constant input equal to it
//!   (scipy's `sosfilt_zi` scaled by the first value), so an ADC's DC offset does not ring
//!   through the band-pass at start-up. Frames come out at samples 0, `decimate`,
//!   2·`decimate`, … (the trainer's decimation keeps the same ones).
//! - A sample with a non-finite value is refused and leaves the state untouched.

/// One second-order section `H(z) = (b₀ + b₁z⁻¹ + b₂z⁻²) / (1 + a₁z⁻¹ + a₂z⁻²)`: scipy's
/// `sos` row `[b₀, b₁, b₂, 1, a₁, a₂]` without the leading 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Section {
    /// Numerator `b₀, b₁, b₂`.
    pub b: [f32; 3],
    /// Denominator `a₁, a₂` (`a₀ = 1`).
    pub a: [f32; 2],
}

impl Section {
    /// Gain at 0 Hz, `H(1)`.
    fn dc_gain(&self) -> f32 {
        (self.b[0] + self.b[1] + self.b[2]) / (1.0 + self.a[0] + self.a[1])
    }

    /// State holding the output steady at `dc_gain · u` for the constant input `u`.
    fn steady_state(&self, u: f32) -> [f32; 2] {
        let y = self.dc_gain() * u;
        let s1 = self.b[2] * u - self.a[1] * y;
        let s0 = self.b[1] * u - self.a[0] * y + s1;
        [s0, s1]
    }

    /// One sample through the section (transposed direct form II).
    fn run(&self, x: f32, s: &mut [f32; 2]) -> f32 {
        let y = self.b[0] * x + s[0];
        s[0] = self.b[1] * x - self.a[0] * y + s[1];
        s[1] = self.b[2] * x - self.a[1] * y;
        y
    }

    fn is_stable(&self) -> bool {
        let [a1, a2] = self.a;
        let finite = self.b.iter().chain(&self.a).all(|v| v.is_finite());
        finite && a2.abs() < 1.0 && a1.abs() < 1.0 + a2
    }
}

/// Why an envelope stage or a sample was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeError {
    /// A band-pass section (its index) has a non-finite coefficient or a pole on or outside
    /// the unit circle.
    UnstableBandSection(usize),
    /// The same for a low-pass section.
    UnstableLowpassSection(usize),
    /// `decimate` was 0.
    ZeroDecimation,
    /// The sample's value on this channel is NaN or infinite.
    NonFiniteSample(usize),
}

impl core::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::UnstableBandSection(i) => write!(f, "band-pass section {i} is not a stable, finite filter"),
            Self::UnstableLowpassSection(i) => {
                write!(f, "low-pass section {i} is not a stable, finite filter")
            }
            Self::ZeroDecimation => f.write_str("decimate must be at least 1"),
            Self::NonFiniteSample(c) => write!(f, "sample on channel {c} is not finite"),
        }
    }
}

/// The streaming envelope of `M` channels with `B` band-pass and `L` low-pass sections.
#[derive(Debug, Clone)]
pub struct EnvelopeStage<const M: usize, const B: usize, const L: usize> {
    band: [Section; B],
    lowpass: [Section; L],
    decimate: u32,
    band_state: [[[f32; 2]; B]; M],
    low_state: [[[f32; 2]; L]; M],
    /// Samples since the last frame out; `None` before the first sample.
    phase: Option<u32>,
}

impl<const M: usize, const B: usize, const L: usize> EnvelopeStage<M, B, L> {
    /// A stage with checked coefficients (see the module's invariants).
    pub fn new_checked(
        band: [Section; B],
        lowpass: [Section; L],
        decimate: u32,
    ) -> Result<Self, EnvelopeError> {
        if let Some(i) = band.iter().position(|s| !s.is_stable()) {
            return Err(EnvelopeError::UnstableBandSection(i));
        }
        if let Some(i) = lowpass.iter().position(|s| !s.is_stable()) {
            return Err(EnvelopeError::UnstableLowpassSection(i));
        }
        if decimate == 0 {
            return Err(EnvelopeError::ZeroDecimation);
        }
        Ok(Self {
            band,
            lowpass,
            decimate,
            band_state: [[[0.0; 2]; B]; M],
            low_state: [[[0.0; 2]; L]; M],
            phase: None,
        })
    }

    /// Samples per frame.
    pub fn decimate(&self) -> u32 {
        self.decimate
    }

    /// Feeds one sample of every channel; returns the envelope frame when this sample is one
    /// the decimation keeps.
    pub fn push(&mut self, sample: &[f32; M]) -> Result<Option<[f32; M]>, EnvelopeError> {
        if let Some(c) = sample.iter().position(|v| !v.is_finite()) {
            return Err(EnvelopeError::NonFiniteSample(c));
        }
        if self.phase.is_none() {
            self.start(sample);
        }
        let mut frame = [0.0f32; M];
        for (c, (&x, out)) in sample.iter().zip(frame.iter_mut()).enumerate() {
            let mut v = x;
            for (section, state) in self.band.iter().zip(self.band_state[c].iter_mut()) {
                v = section.run(v, state);
            }
            v = v.abs();
            for (section, state) in self.lowpass.iter().zip(self.low_state[c].iter_mut()) {
                v = section.run(v, state);
            }
            *out = v;
        }
        let phase = self.phase.unwrap_or(0);
        self.phase = Some(if phase + 1 >= self.decimate { 0 } else { phase + 1 });
        Ok((phase == 0).then_some(frame))
    }

    /// Steady state for a constant input equal to the first sample, section by section.
    fn start(&mut self, sample: &[f32; M]) {
        for (c, &x) in sample.iter().enumerate() {
            let mut u = x;
            for (section, state) in self.band.iter().zip(self.band_state[c].iter_mut()) {
                *state = section.steady_state(u);
                u *= section.dc_gain();
            }
            u = u.abs();
            for (section, state) in self.lowpass.iter().zip(self.low_state[c].iter_mut()) {
                *state = section.steady_state(u);
                u *= section.dc_gain();
            }
        }
        self.phase = Some(0);
    }
}
