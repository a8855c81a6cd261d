//! Checked parameters, linfa-style: each settings struct (`NmfConfig`, `VaeTrainConfig`,
//! `EnvelopeConfig`) is validated once by its `check()` into a checked type (`NmfParams`,
//! `VaeParams`, `EnvelopeParams`) that the fitting functions take. A value out of range is a
//! [`ParamError`] naming the parameter, the value and what is allowed; the CLI and library
//! callers get the same checks.

use std::fmt;
use std::ops::Deref;

/// A parameter outside its allowed range.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    /// The parameter, as the CLI flag names it without the dashes (`lr`, `weight-decay`).
    pub parameter: &'static str,
    /// The value given, as text.
    pub value: String,
    /// What is allowed.
    pub allowed: String,
}

impl ParamError {
    /// `parameter = value` is not allowed; `allowed` says what is.
    pub fn new(parameter: &'static str, value: impl fmt::Display, allowed: impl Into<String>) -> Self {
        Self {
            parameter,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid --{} {}: must be {}",
            self.parameter, self.value, self.allowed
        )
    }
}

impl std::error::Error for ParamError {}

/// `value` must be finite and > 0.
pub fn positive(parameter: &'static str, value: f64) -> Result<(), ParamError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ParamError::new(parameter, value, "a finite number > 0"))
    }
}

/// `value` must be finite and ≥ 0.
pub fn nonnegative(parameter: &'static str, value: f64) -> Result<(), ParamError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ParamError::new(parameter, value, "a finite number ≥ 0"))
    }
}

/// Upper bounds of the sizes a user sets: far above real use, far below what exhausts the
/// memory or the patience of a 2-core machine before the run could say anything.
pub mod limits {
    /// Multiplicative updates, DNMF and separation iterations.
    pub const ITERATIONS: usize = 1_000_000;
    /// Restarts of an NMF fit.
    pub const RESTARTS: usize = 1_000;
    /// Training epochs.
    pub const EPOCHS: usize = 100_000;
    /// Minibatch size.
    pub const BATCH_SIZE: usize = 65_536;
    /// Width of one hidden layer.
    pub const WIDTH: usize = 8_192;
    /// Hidden layers of a network.
    pub const LAYERS: usize = 8;
    /// Context frames on each side of a network's input.
    pub const CONTEXT: usize = 32;
    /// FFT size of the speech front end (0.34 s at 48 kHz).
    pub const N_FFT: usize = 16_384;
    /// Sample rate, Hz.
    pub const SAMPLE_RATE: u32 = 384_000;
}

/// `value` must lie in `min ..= max`.
pub fn within(parameter: &'static str, value: usize, min: usize, max: usize) -> Result<(), ParamError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ParamError::new(
            parameter,
            value,
            format!("between {min} and {max}"),
        ))
    }
}

/// `value` must be at least `min`.
pub fn at_least(parameter: &'static str, value: usize, min: usize) -> Result<(), ParamError> {
    if value >= min {
        Ok(())
    } else {
        Err(ParamError::new(parameter, value, format!("at least {min}")))
    }
}

/// A settings struct that passed its checks. Derefs to the settings; built only by their
/// `check()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked<T>(T);

impl<T> Checked<T> {
    /// Wraps settings whose checks passed (for the settings' own `check()`).
    pub(crate) fn new_unchecked(inner: T) -> Self {
        Self(inner)
    }

    /// The settings.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Checked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::Serialize> serde::Serialize for Checked<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
