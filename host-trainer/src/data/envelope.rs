//! Raw EMG → linear envelope: remove DC, band-pass, full-wave rectify, zero-phase low-pass,
//! optional decimation. Filters are Butterworth designs from `sci-rs` (a port of SciPy's
//! `butter` and `sosfiltfilt`), run forward and backward so the envelope is not delayed.
//!
//! The causal mode (`causal: true`, `--causal-envelope`) is what a device can compute while
//! the signal arrives, and what `vaenmf_core::envelope::EnvelopeStage` computes in the
//! firmware: no mean removal, each filter run forward only from the steady state of its first
//! input (`sosfilt` with `sosfilt_zi · x₀`). Train on causal envelopes for a model that will
//! see the device's envelopes: they lag the zero-phase ones by the filters' group delay.

use anyhow::{bail, Result};
use sci_rs::signal::filter::design::{butter_dyn, DigitalFilter, FilterBandType, FilterOutputType, Sos};
use sci_rs::signal::filter::{sosfilt_dyn, sosfilt_zi_dyn, sosfiltfilt_dyn};

use super::EmgMatrix;
use crate::params::{self, Checked, ParamError};

/// Envelope settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EnvelopeConfig {
    /// Sampling rate of the raw EMG, Hz.
    pub fs: f64,
    /// Band-pass edges, Hz (surface EMG convention: 20–450 Hz).
    pub band: (f64, f64),
    /// Envelope low-pass cut-off, Hz.
    pub lowpass: f64,
    /// Butterworth order of each filter (applied twice by the zero-phase pass).
    pub order: usize,
    /// Keep every k-th envelope sample (1 = no decimation).
    pub decimate: usize,
    /// Forward-only filters from their steady state, no mean removal (the device's envelope).
    pub causal: bool,
}

impl EnvelopeConfig {
    /// Defaults for a sampling rate: 20–450 Hz band-pass, 4 Hz envelope, order 4.
    pub fn new(fs: f64) -> Self {
        Self {
            fs,
            band: (20.0, 450.0),
            lowpass: 4.0,
            order: 4,
            decimate: 1,
            causal: false,
        }
    }
}

/// Settings that passed [`EnvelopeConfig::check`].
pub type EnvelopeParams = Checked<EnvelopeConfig>;

impl EnvelopeConfig {
    /// Checks every setting once: a finite positive sampling rate, a low-pass cut-off between
    /// 0 and the Nyquist frequency, band edges 0 < low < high (edges at or above Nyquist are
    /// skipped, and said so, when filtering), filter order and decimation ≥ 1.
    pub fn check(self) -> Result<EnvelopeParams, ParamError> {
        params::positive("fs", self.fs)?;
        let nyquist = self.fs / 2.0;
        if !(self.lowpass > 0.0 && self.lowpass < nyquist) {
            return Err(ParamError::new(
                "lowpass",
                self.lowpass,
                format!("between 0 and the Nyquist frequency {nyquist} Hz (exclusive)"),
            ));
        }
        let (lo, hi) = self.band;
        if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi > lo) {
            return Err(ParamError::new(
                "band",
                format!("{lo}:{hi}"),
                "LO:HI with 0 < LO < HI",
            ));
        }
        params::at_least("order", self.order, 1)?;
        params::at_least("decimate", self.decimate, 1)?;
        Ok(Checked::new_unchecked(self))
    }
}

/// What the preprocessing did, for the report and the user.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EnvelopeLog {
    /// Stages applied, in order.
    pub applied: Vec<String>,
    /// Stages skipped and why (e.g. a band edge above the Nyquist frequency).
    pub skipped: Vec<String>,
}

/// Second-order sections of a Butterworth filter; `wn` in Hz with `fs`.
pub fn butterworth(order: usize, wn: Vec<f64>, band: FilterBandType, fs: f64) -> Result<Vec<Sos<f64>>> {
    match butter_dyn(
        order,
        wn,
        Some(band),
        Some(false),
        Some(FilterOutputType::Sos),
        Some(fs),
    ) {
        DigitalFilter::Sos(sos) => Ok(sos.sos),
        _ => bail!("filter design returned coefficients in another form than second-order sections"),
    }
}

/// Zero-phase filtering of one channel (needs more than 3 × (2·sections + 1) samples).
fn filtfilt(x: &[f64], sos: &[Sos<f64>]) -> Vec<f64> {
    sosfiltfilt_dyn(x.iter(), sos)
}

/// Forward filtering from the steady state of a constant input equal to `x[0]`.
fn filt_from_steady_state(x: &[f64], sos: &[Sos<f64>]) -> Vec<f64> {
    let mut sections = sos.to_vec();
    sosfilt_zi_dyn::<_, _, Sos<f64>>(sections.iter_mut());
    let x0 = x.first().copied().unwrap_or(0.0);
    for s in &mut sections {
        s.zi0 *= x0;
        s.zi1 *= x0;
    }
    sosfilt_dyn(x.iter(), &mut sections)
}

/// The two filters of an envelope: the band-pass (or high-pass only, or none, when the band's
/// edges reach the Nyquist frequency) and the envelope low-pass, as second-order sections.
#[derive(Debug, Clone)]
pub struct EnvelopeFilters {
    /// Band-pass sections, if any edge is below the Nyquist frequency.
    pub band: Option<Vec<Sos<f64>>>,
    /// Low-pass sections.
    pub lowpass: Vec<Sos<f64>>,
    /// What the design did, for the report.
    pub log: EnvelopeLog,
}

/// Designs the envelope's filters for checked settings.
pub fn design(cfg: &EnvelopeParams) -> Result<EnvelopeFilters> {
    let nyquist = cfg.fs / 2.0;
    let phase = if cfg.causal { "causal" } else { "zero-phase" };
    let mut log = EnvelopeLog::default();
    if !cfg.causal {
        log.applied
            .push("remove DC (subtract each channel's mean)".into());
    }

    // Band-pass: keep only the edges the sampling rate supports.
    let (lo, hi) = cfg.band;
    let order = cfg.order;
    let band: Option<Vec<Sos<f64>>> = if lo >= nyquist {
        log.skipped.push(format!(
            "band-pass {lo}–{hi} Hz: both edges are at or above the Nyquist frequency {nyquist} Hz"
        ));
        None
    } else if hi >= nyquist {
        log.skipped.push(format!(
            "band-pass upper edge {hi} Hz: at or above the Nyquist frequency {nyquist} Hz"
        ));
        log.applied
            .push(format!("high-pass {lo} Hz, Butterworth order {order}, {phase}"));
        Some(butterworth(order, vec![lo], FilterBandType::Highpass, cfg.fs)?)
    } else {
        log.applied.push(format!(
            "band-pass {lo}–{hi} Hz, Butterworth order {order}, {phase}"
        ));
        Some(butterworth(
            order,
            vec![lo, hi],
            FilterBandType::Bandpass,
            cfg.fs,
        )?)
    };
    log.applied.push("full-wave rectification".into());
    log.applied.push(format!(
        "low-pass {} Hz, Butterworth order {}, {phase}",
        cfg.lowpass, cfg.order
    ));
    let lowpass = butterworth(order, vec![cfg.lowpass], FilterBandType::Lowpass, cfg.fs)?;
    Ok(EnvelopeFilters { band, lowpass, log })
}

/// Raw EMG to envelopes, channel by channel.
pub fn envelope(raw: &EmgMatrix, cfg: &EnvelopeParams) -> Result<(EmgMatrix, EnvelopeLog)> {
    let min_len = 3 * (2 * cfg.order + 1) + 1;
    if raw.frames <= min_len {
        bail!(
            "{} samples are too few to filter (need more than {min_len})",
            raw.frames
        );
    }
    let EnvelopeFilters {
        band,
        lowpass: low,
        mut log,
    } = design(cfg)?;
    let run = |x: &[f64], sos: &[Sos<f64>]| {
        if cfg.causal {
            filt_from_steady_state(x, sos)
        } else {
            filtfilt(x, sos)
        }
    };

    let mut channels_out: Vec<Vec<f64>> = Vec::with_capacity(raw.channels);
    for c in 0..raw.channels {
        let mut x: Vec<f64> = raw.frames_iter().map(|f| f64::from(f[c])).collect();
        if !cfg.causal {
            let mean = x.iter().sum::<f64>() / x.len() as f64;
            x.iter_mut().for_each(|v| *v -= mean);
        }
        if let Some(sos) = &band {
            x = run(&x, sos);
        }
        x.iter_mut().for_each(|v| *v = v.abs());
        let env = run(&x, &low);
        channels_out.push(env.into_iter().step_by(cfg.decimate).collect());
    }
    if cfg.decimate > 1 {
        log.applied.push(format!(
            "decimation by {} (to {} Hz)",
            cfg.decimate,
            cfg.fs / cfg.decimate as f64
        ));
    }
    let frames = channels_out[0].len();
    let mut data = vec![0.0f32; frames * raw.channels];
    for (c, ch) in channels_out.iter().enumerate() {
        for (f, &v) in ch.iter().enumerate() {
            data[f * raw.channels + c] = v as f32;
        }
    }
    Ok((EmgMatrix::new(frames, raw.channels, data)?, log))
}
