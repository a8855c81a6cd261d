//! From a data file to the frames a method sees: load, select frames, envelope, clamp
//! negatives, scale. Training computes the scaling; evaluation applies a model's.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::envelope::{envelope, EnvelopeLog, EnvelopeParams};
use super::load::{channel_names, load, LoadOptions};
use super::ninapro::load_ninapro;
use super::{clamp_negatives, EmgMatrix, Normalize};
use crate::output::numbered;

/// Where the data comes from and how to read it.
#[derive(Debug, Clone, Default)]
pub struct DataSpec {
    /// Data file: .csv (time in rows), .npy or .mat.
    pub path: PathBuf,
    /// MATLAB variables, concatenated in time (default: the only 2-D one).
    pub vars: Vec<String>,
    /// The file stores channels in rows and time in columns.
    pub channels_in_rows: bool,
    /// The file is in the Ninapro DB1 layout (split by repetition); `Some(movement filter)`.
    pub ninapro: Option<Option<u32>>,
    /// Frames START..END of the file.
    pub frames: Option<(usize, usize)>,
    /// Raw EMG: compute envelopes with these settings.
    pub envelope: Option<EnvelopeParams>,
    /// Negative values are an error instead of being clamped to 0.
    pub strict: bool,
    /// Channel names given by the user (override the file's).
    pub names: Option<Vec<String>>,
}

/// Held-out data: another file, other frames of the same file, or both.
#[derive(Debug, Clone, Default)]
pub struct TestSpec {
    /// Held-out file (same reading options as the training file).
    pub path: Option<PathBuf>,
    /// MATLAB variables of the held-out file.
    pub vars: Vec<String>,
    /// Held-out frames START..END (of the held-out file, or of the data file without one).
    pub frames: Option<(usize, usize)>,
}

impl TestSpec {
    /// Whether any held-out data is asked for.
    pub fn is_set(&self) -> bool {
        self.path.is_some() || self.frames.is_some() || !self.vars.is_empty()
    }
}

/// How frames are scaled after loading.
#[derive(Debug, Clone, PartialEq)]
pub enum Scaling {
    /// Compute per-channel scales on the training frames (stored in the model).
    Fit(Normalize),
    /// A model's `(x − offset) · scale`, as the core applies it on the device.
    Model {
        /// Per-channel offset.
        offset: Vec<f32>,
        /// Per-channel scale.
        scale: Vec<f32>,
    },
    /// Leave the values as they are (frames for a device, which scales them itself).
    None,
}

/// What data preparation did, for the report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DataReport {
    /// Source file.
    pub source: String,
    /// Normalisation computed on the training frames (none when a model's was applied).
    pub normalize: Option<Normalize>,
    /// Per-channel scale applied (and stored in the model).
    pub input_scale: Vec<f32>,
    /// Negative values clamped to zero (training and test data).
    pub negatives_clamped: usize,
    /// Envelope stages applied and skipped.
    pub envelope: Option<EnvelopeLog>,
}

/// Prepared training (and optional test) frames.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Training frames, scaled.
    pub train: EmgMatrix,
    /// Test frames, scaled with the training scales.
    pub test: Option<EmgMatrix>,
    /// Channel names from the user or the file (`None` when neither names them).
    pub channel_names: Option<Vec<String>>,
    /// Report of what was done.
    pub report: DataReport,
    /// Things the user should know (clamped values, skipped filter stages, dropped samples).
    pub warnings: Vec<String>,
}

fn select_frames(m: EmgMatrix, range: Option<(usize, usize)>, what: &str) -> Result<EmgMatrix> {
    match range {
        None => Ok(m),
        Some((a, b)) if b <= m.frames => Ok(m.slice_frames(a, b)),
        Some((a, b)) => bail!("{what}: frame range {a}:{b} exceeds its {} frames", m.frames),
    }
}

impl Prepared {
    /// The channel names, or `ch1 … chM`.
    pub fn names_or_numbered(&self) -> Vec<String> {
        self.channel_names
            .clone()
            .unwrap_or_else(|| numbered("ch", self.train.channels))
    }
}

impl DataSpec {
    fn load_options(&self, vars: &[String]) -> LoadOptions {
        LoadOptions {
            channels_in_rows: self.channels_in_rows,
            vars: vars.to_vec(),
        }
    }

    /// Loads training and held-out frames as stored (before envelope, clamping, scaling).
    fn load_raw(
        &self,
        test: &TestSpec,
        warnings: &mut Vec<String>,
    ) -> Result<(EmgMatrix, Option<EmgMatrix>)> {
        let source = self.path.display().to_string();
        if let Some(movement) = self.ninapro {
            if self.frames.is_some() || test.is_set() {
                bail!(
                    "{source}: --ninapro splits by repetition (train 1,3,4,6,8,9,10; test 2,5,7); --frames, --test, --test-var and --test-frames do not apply"
                );
            }
            let split = load_ninapro(&self.path, movement)?;
            if split.truncated > 0 {
                warnings.push(format!(
                    "{source}: emg, restimulus and rerepetition differ in length; {} trailing samples dropped",
                    split.truncated
                ));
            }
            return Ok((split.train, Some(split.test)));
        }
        let full = load(&self.path, &self.load_options(&self.vars))?;
        let test_m = if test.is_set() {
            let m = match &test.path {
                Some(path) => load(path, &self.load_options(&test.vars))?,
                None if !test.vars.is_empty() => bail!("--test-var needs --test FILE"),
                None => full.clone(),
            };
            let name = test.path.as_ref().unwrap_or(&self.path).display().to_string();
            Some(select_frames(m, test.frames, &name)?)
        } else {
            None
        };
        Ok((select_frames(full, self.frames, &source)?, test_m))
    }

    /// Channel names: the user's, else the file's.
    fn channel_names(&self, channels: usize) -> Result<Option<Vec<String>>> {
        if let Some(names) = &self.names {
            if names.len() != channels {
                bail!(
                    "--names gives {} names but {} has {channels} channels",
                    names.len(),
                    self.path.display()
                );
            }
            return Ok(Some(names.clone()));
        }
        if self.ninapro.is_some() {
            return Ok(None);
        }
        channel_names(&self.path, &self.load_options(&self.vars), channels)
    }

    /// Loads, preprocesses and scales the training (and held-out) frames.
    pub fn prepare(&self, test: &TestSpec, scaling: &Scaling) -> Result<Prepared> {
        let source = self.path.display().to_string();
        let mut warnings = Vec::new();
        let (mut train, mut test_m) = self.load_raw(test, &mut warnings)?;
        if let Some(t) = &test_m {
            if t.channels != train.channels {
                bail!(
                    "test data has {} channels, training data {}",
                    t.channels,
                    train.channels
                );
            }
        }
        let channel_names = self.channel_names(train.channels)?;
        let mut report = DataReport {
            source: source.clone(),
            ..Default::default()
        };
        if let Some(cfg) = &self.envelope {
            let (env, log) = envelope(&train, cfg).with_context(|| source.clone())?;
            warnings.extend(log.skipped.iter().map(|s| format!("{source}: skipped {s}")));
            train = env;
            if let Some(t) = test_m.take() {
                test_m = Some(envelope(&t, cfg).context("test data")?.0);
            }
            report.envelope = Some(log);
        }
        let mut clamp = |m: &mut EmgMatrix, what: &str| -> Result<()> {
            if let Some(neg) = clamp_negatives(m, self.strict, what)? {
                warnings.push(format!(
                    "{what}: clamped {} negative values to 0 (most negative {} at frame {}, channel {}); --strict makes this an error",
                    neg.count,
                    neg.most_negative,
                    neg.at.0 + 1,
                    neg.at.1 + 1
                ));
                report.negatives_clamped += neg.count;
            }
            Ok(())
        };
        clamp(&mut train, &source)?;
        if let Some(t) = &mut test_m {
            clamp(t, "test data")?;
        }
        let channels = train.channels;
        let (offset, scale) = match scaling {
            Scaling::Fit(normalize) => {
                report.normalize = Some(*normalize);
                (vec![0.0; channels], normalize.scales(&train))
            }
            Scaling::Model { offset, scale } => {
                if scale.len() != channels {
                    bail!(
                        "{source}: data has {channels} channels but the model expects {}",
                        scale.len()
                    );
                }
                (offset.clone(), scale.clone())
            }
            Scaling::None => (vec![0.0; channels], vec![1.0; channels]),
        };
        super::apply_input_scaling(&mut train, &offset, &scale);
        if let Some(t) = &mut test_m {
            super::apply_input_scaling(t, &offset, &scale);
        }
        report.input_scale = scale;
        Ok(Prepared {
            train,
            test: test_m,
            channel_names,
            report,
            warnings,
        })
    }
}
