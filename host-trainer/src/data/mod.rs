//! EMG data: the in-memory matrix, file loaders (CSV, NPY, MATLAB v5, Ninapro DB1),
//! envelope preprocessing, normalisation and synthetic data.

pub mod envelope;
pub mod load;
pub mod ninapro;
pub mod prepare;
pub mod synth;

use anyhow::{bail, Result};

/// EMG samples, `frames × channels`, frame-major (`data[f * channels + c]`): the layout of
/// a CSV with time in rows and what the core's tracker consumes frame by frame.
#[derive(Debug, Clone, PartialEq)]
pub struct EmgMatrix {
    /// Number of time frames (rows).
    pub frames: usize,
    /// Number of channels (columns).
    pub channels: usize,
    /// Frame-major samples.
    pub data: Vec<f32>,
}

impl EmgMatrix {
    /// Wraps frame-major data; `data.len()` must be `frames × channels`.
    pub fn new(frames: usize, channels: usize, data: Vec<f32>) -> Result<Self> {
        if data.len() != frames * channels {
            bail!(
                "matrix data has {} values, expected {frames} frames × {channels} channels",
                data.len()
            );
        }
        Ok(Self {
            frames,
            channels,
            data,
        })
    }

    /// Builds from channel-major data (`channels × frames`, channel rows contiguous).
    pub fn from_channel_major(channels: usize, frames: usize, data: &[f32]) -> Result<Self> {
        if data.len() != frames * channels {
            bail!(
                "matrix data has {} values, expected {channels} channels × {frames} frames",
                data.len()
            );
        }
        let mut out = vec![0.0; data.len()];
        for c in 0..channels {
            for f in 0..frames {
                out[f * channels + c] = data[c * frames + f];
            }
        }
        Self::new(frames, channels, out)
    }

    /// One frame.
    pub fn frame(&self, f: usize) -> &[f32] {
        &self.data[f * self.channels..(f + 1) * self.channels]
    }

    /// Iterator over frames.
    pub fn frames_iter(&self) -> std::slice::ChunksExact<'_, f32> {
        self.data.chunks_exact(self.channels)
    }

    /// One channel as a contiguous vector.
    pub fn channel(&self, c: usize) -> Vec<f32> {
        self.frames_iter().map(|f| f[c]).collect()
    }

    /// Frames `start..end` as a new matrix.
    pub fn slice_frames(&self, start: usize, end: usize) -> Self {
        Self {
            frames: end - start,
            channels: self.channels,
            data: self.data[start * self.channels..end * self.channels].to_vec(),
        }
    }

    /// Appends another matrix's frames (same channel count).
    pub fn append(&mut self, other: &EmgMatrix) -> Result<()> {
        if other.channels != self.channels {
            bail!(
                "cannot concatenate {} channels to {} channels",
                other.channels,
                self.channels
            );
        }
        self.data.extend_from_slice(&other.data);
        self.frames += other.frames;
        Ok(())
    }

    /// Maximum value (0 for an empty matrix).
    pub fn max(&self) -> f32 {
        self.data.iter().copied().fold(0.0, f32::max)
    }

    /// First non-finite value as (frame, channel), 0-based.
    pub fn first_non_finite(&self) -> Option<(usize, usize)> {
        self.data
            .iter()
            .position(|v| !v.is_finite())
            .map(|i| (i / self.channels, i % self.channels))
    }
}

/// How data is scaled before training; the scale is stored in the model blob so the device
/// applies the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalize {
    /// Divide everything by the global maximum (VAF-invariant; keeps encoder inputs in [0, 1]).
    GlobalMax,
    /// Divide each channel by its own maximum (changes the relative weighting of channels).
    ChannelMax,
    /// Leave the data as it is.
    None,
}

impl Normalize {
    /// Per-channel scale factors computed on `x` (1 where a channel is silent).
    pub fn scales(self, x: &EmgMatrix) -> Vec<f32> {
        let safe = |m: f32| if m > 0.0 { 1.0 / m } else { 1.0 };
        match self {
            Normalize::GlobalMax => vec![safe(x.max()); x.channels],
            Normalize::ChannelMax => (0..x.channels)
                .map(|c| safe(x.frames_iter().map(|f| f[c]).fold(0.0, f32::max)))
                .collect(),
            Normalize::None => vec![1.0; x.channels],
        }
    }
}

/// `(x − offset) · scale` channel by channel: the same f32 operations, in the same order, as
/// the core's `Model::scale_input` on the device.
pub fn apply_input_scaling(x: &mut EmgMatrix, offset: &[f32], scale: &[f32]) {
    for frame in x.data.chunks_exact_mut(scale.len()) {
        for ((v, off), s) in frame.iter_mut().zip(offset).zip(scale) {
            *v = (*v - off) * s;
        }
    }
}

/// Summary of negative values clamped to zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NegativeReport {
    /// How many values were negative.
    pub count: usize,
    /// The most negative value.
    pub most_negative: f32,
    /// Where the most negative value was (frame, channel), 0-based.
    pub at: (usize, usize),
}

/// Envelope data must be nonnegative: small negatives (filter ringing) are clamped to 0 and
/// reported; with `strict` any negative value is an error naming its position.
pub fn clamp_negatives(x: &mut EmgMatrix, strict: bool, source: &str) -> Result<Option<NegativeReport>> {
    let mut report: Option<NegativeReport> = None;
    for (i, v) in x.data.iter_mut().enumerate() {
        if *v < 0.0 {
            let at = (i / x.channels, i % x.channels);
            if strict {
                bail!(
                    "{source}: negative value {} at frame {}, channel {} (--strict forbids negative envelope values)",
                    *v,
                    at.0 + 1,
                    at.1 + 1
                );
            }
            let r = report.get_or_insert(NegativeReport {
                count: 0,
                most_negative: 0.0,
                at,
            });
            r.count += 1;
            if *v < r.most_negative {
                r.most_negative = *v;
                r.at = at;
            }
            *v = 0.0;
        }
    }
    Ok(report)
}

impl crate::choice::Choice for Normalize {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        (
            "global-max",
            "divide everything by the global maximum",
            Normalize::GlobalMax,
        ),
        (
            "channel-max",
            "divide each channel by its own maximum",
            Normalize::ChannelMax,
        ),
        ("none", "leave the data as it is", Normalize::None),
    ];
}
