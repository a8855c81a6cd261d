//! Argument types of the `vaenmf` commands (clap derives live here, not on library types),
//! and their conversion into the library's checked settings.

use std::path::PathBuf;

use anyhow::Result;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::Args;

use crate::choice::Choice;
use crate::data::envelope::EnvelopeConfig;
use crate::data::prepare::{DataSpec, TestSpec};
use crate::data::synth::NoiseKind;
use crate::data::Normalize;
use crate::nmf::{NmfConfig, NmfInit, NmfLoss, NmfParams, MAX_RANK};
use crate::params::ParamError;
use crate::pipeline::{FitSettings, Method};
use crate::vae::training::{Backend, DecoderSteps, Nonneg, VaeParams, VaeTrainConfig};

/// A parser for a library [`Choice`] enum: its names as the possible values, with help.
pub fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(
        T::CHOICES
            .iter()
            .map(|(name, help, _)| PossibleValue::new(*name).help(*help)),
    )
    .map(|name| T::from_name(&name).unwrap_or(T::CHOICES[0].2))
}

/// `vaenmf synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output folder (train.csv, test.csv, synergies.csv).
    #[arg(long)]
    pub out: PathBuf,
    /// Channels (muscles).
    #[arg(long, default_value_t = 10)]
    pub channels: usize,
    /// Synergies.
    #[arg(long, default_value_t = 4)]
    pub rank: usize,
    /// Training frames.
    #[arg(long, default_value_t = 20000)]
    pub frames: usize,
    /// Test frames.
    #[arg(long, default_value_t = 5000)]
    pub test_frames: usize,
    /// Signal-to-noise ratio in dB.
    #[arg(long, allow_negative_numbers = true, default_value_t = 20.0)]
    pub snr_db: f64,
    /// Noise model.
    #[arg(long, value_parser = choice::<NoiseKind>(), default_value = "gaussian")]
    pub noise: NoiseKind,
    /// Correlation of the activations (0 ≤ ρ < 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub correlation: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// How to read and prepare data (shared by train, eval, rank and frames).
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// Data file: .csv (time in rows), .npy (2-D float) or .mat (MATLAB v5).
    #[arg(long)]
    pub data: PathBuf,
    /// MATLAB variable(s) to read, concatenated in time (repeatable).
    #[arg(long = "var", value_name = "NAME")]
    pub vars: Vec<String>,
    /// The file stores channels in rows and time in columns.
    #[arg(long)]
    pub channels_in_rows: bool,
    /// Channel (muscle) names, comma-separated, in data order (default: the CSV header, or a
    /// channel_names.txt beside the file, one name per line).
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub names: Option<Vec<String>>,
    /// The file is in the Ninapro DB1 layout (emg, restimulus, rerepetition); training uses
    /// repetitions 1,3,4,6,8,9,10 and the test 2,5,7 (--frames and --test* do not apply).
    #[arg(long)]
    pub ninapro: bool,
    /// With --ninapro: only this movement (restimulus value).
    #[arg(long, value_name = "K")]
    pub movement: Option<u32>,
    /// Use only frames START:END (0-based, END exclusive) of the data file.
    #[arg(long, value_name = "START:END", value_parser = parse_range)]
    pub frames: Option<(usize, usize)>,
    /// The data is raw EMG: compute envelopes (needs --fs).
    #[arg(long)]
    pub envelope: bool,
    /// Sampling rate of raw EMG, Hz (with --envelope).
    #[arg(long, allow_negative_numbers = true, value_name = "HZ")]
    pub fs: Option<f64>,
    /// Envelope low-pass cut-off, Hz.
    #[arg(long, allow_negative_numbers = true, default_value_t = 4.0, value_name = "HZ")]
    pub lowpass: f64,
    /// Band-pass edges for raw EMG, Hz.
    #[arg(long, default_value = "20:450", value_name = "LO:HI", value_parser = parse_band)]
    pub band: (f64, f64),
    /// Keep every K-th envelope sample (with --envelope).
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub decimate: usize,
    /// With --envelope: causal filters only, as the firmware's envelope stage computes them
    /// (no mean removal, forward filtering from the first sample's steady state).
    #[arg(long)]
    pub causal_envelope: bool,
    /// Scaling before training (stored in the model).
    #[arg(long, value_parser = choice::<Normalize>(), default_value = "global-max")]
    pub normalize: Normalize,
    /// Negative envelope values are an error instead of being clamped to 0.
    #[arg(long)]
    pub strict: bool,
}

impl DataArgs {
    /// The library's data description, with envelope settings checked.
    pub fn spec(&self) -> Result<DataSpec> {
        let envelope = if self.envelope {
            let fs = self
                .fs
                .ok_or_else(|| anyhow::anyhow!("--envelope needs --fs HZ (the raw EMG sampling rate)"))?;
            Some(
                EnvelopeConfig {
                    lowpass: self.lowpass,
                    band: self.band,
                    decimate: self.decimate,
                    causal: self.causal_envelope,
                    ..EnvelopeConfig::new(fs)
                }
                .check()?,
            )
        } else {
            if let Some(fs) = self.fs {
                anyhow::bail!("--fs {fs} only applies with --envelope (raw EMG)");
            }
            if self.decimate != 1 {
                anyhow::bail!("--decimate {} only applies with --envelope", self.decimate);
            }
            if self.causal_envelope {
                anyhow::bail!("--causal-envelope only applies with --envelope (raw EMG)");
            }
            None
        };
        if let (Some(movement), false) = (self.movement, self.ninapro) {
            anyhow::bail!("--movement {movement} only applies with --ninapro");
        }
        Ok(DataSpec {
            path: self.data.clone(),
            vars: self.vars.clone(),
            channels_in_rows: self.channels_in_rows,
            ninapro: self.ninapro.then_some(self.movement),
            frames: self.frames,
            envelope,
            strict: self.strict,
            names: self.names.clone(),
        })
    }
}

/// Test data options of `train`.
#[derive(Debug, Args, Clone)]
pub struct TestArgs {
    /// Held-out data file (same options as --data).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// MATLAB variable(s) of the test file (repeatable; needs --test).
    #[arg(long = "test-var", value_name = "NAME")]
    pub test_vars: Vec<String>,
    /// Held-out frames START:END of the test file (of --data when --test is absent).
    #[arg(long, value_name = "START:END", value_parser = parse_range)]
    pub test_frames: Option<(usize, usize)>,
}

impl TestArgs {
    /// The library's held-out data description.
    pub fn spec(&self) -> TestSpec {
        TestSpec {
            path: self.test.clone(),
            vars: self.test_vars.clone(),
            frames: self.test_frames,
        }
    }
}

/// Solver options shared by train and rank.
#[derive(Debug, Args, Clone)]
pub struct SolverArgs {
    /// Extraction method.
    #[arg(long, value_parser = choice::<Method>(), default_value = "nmf")]
    pub method: Method,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Maximum iterations (NMF methods).
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
    /// Relative objective decrease (per 10 iterations) below which to stop; 0 = never.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-6)]
    pub tol: f64,
    /// Runs (the first from --init, the rest random); the best objective wins.
    #[arg(long, default_value_t = 1)]
    pub restarts: usize,
    /// Initialisation.
    #[arg(long, value_parser = choice::<NmfInit>(), default_value = "nndsvda")]
    pub init: NmfInit,
    /// L1 penalty on activations for sparse-nmf (scikit-learn's alpha_H convention).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.01)]
    pub sparsity: f32,
}

impl SolverArgs {
    /// Checked NMF settings at `rank` (EMG synergies: at most [`MAX_RANK`], the core's limit).
    pub fn nmf_params(&self, rank: usize) -> Result<NmfParams> {
        if !(1..=MAX_RANK).contains(&rank) {
            return Err(ParamError::new("rank", rank, format!("between 1 and {MAX_RANK}")).into());
        }
        Ok(NmfConfig {
            rank,
            loss: if self.method == Method::NmfKl {
                NmfLoss::KullbackLeibler
            } else {
                NmfLoss::Frobenius
            },
            sparsity: if self.method == Method::SparseNmf {
                self.sparsity
            } else {
                0.0
            },
            init: self.init,
            iterations: self.iterations,
            tol: self.tol,
            restarts: self.restarts,
            seed: self.seed,
        }
        .check()?)
    }
}

/// Likelihood p(x | z) of VAE-NMF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likelihood {
    /// Gaussian with standard deviation --sigma.
    Gaussian,
    /// Poisson (generalised KL divergence).
    Poisson,
}

impl Choice for Likelihood {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        (
            "gaussian",
            "Gaussian with standard deviation --sigma",
            Likelihood::Gaussian,
        ),
        (
            "poisson",
            "Poisson (generalised KL divergence)",
            Likelihood::Poisson,
        ),
    ];
}

/// VAE-NMF options of `train` (ignored by the NMF methods).
#[derive(Debug, Args, Clone)]
pub struct VaeArgs {
    /// Encoder hidden widths.
    #[arg(long, default_value = "400,400", value_parser = parse_hidden)]
    pub hidden: (usize, usize),
    /// Prior shape α₀ of Gamma(α₀, 1) (> 0).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub alpha0: f64,
    /// Gaussian likelihood σ (> 0; default: residual RMS of a quick NMF of the same rank).
    #[arg(long, allow_negative_numbers = true)]
    pub sigma: Option<f64>,
    /// Likelihood.
    #[arg(long, value_parser = choice::<Likelihood>(), default_value = "gaussian")]
    pub likelihood: Likelihood,
    /// Shape augmentation B (≥ 1) of the Gamma reparameterisation.
    #[arg(long, default_value_t = 1)]
    pub boost: u32,
    /// Weight γ (≥ 0) of the nonnegativity penalty (γ/2) Σ min(w, 0)².
    #[arg(long, allow_negative_numbers = true, default_value_t = 1000.0)]
    pub gamma: f64,
    /// Keep W ≥ 0 by the paper's penalty or by projection after every step.
    #[arg(long, value_parser = choice::<Nonneg>(), default_value = "penalty")]
    pub nonneg: Nonneg,
    /// How W is updated each step: Adam like the encoder (the paper's training), or sign
    /// steps of size lr.
    #[arg(long, value_parser = choice::<DecoderSteps>(), default_value = "adam")]
    pub decoder_steps: DecoderSteps,
    /// Adam learning rate (> 0).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-3)]
    pub lr: f64,
    /// Adam weight decay (≥ 0; paper: 5e-4).
    #[arg(long, allow_negative_numbers = true, default_value_t = 5e-4)]
    pub weight_decay: f64,
    /// Minibatch size.
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    /// Maximum epochs.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Fraction of training frames held out for early stopping: 0 (none) or in (0, 0.5];
    /// every round(1/f)-th frame is used.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.1)]
    pub validation: f64,
    /// Epochs without validation improvement before stopping (0 = never).
    #[arg(long, default_value_t = 15)]
    pub patience: usize,
    /// Compute backend.
    #[arg(long, value_parser = choice::<Backend>(), default_value = "flex")]
    pub backend: Backend,
    /// Write a checkpoint every N epochs (needs --checkpoint-dir).
    #[arg(long, default_value_t = 0)]
    pub checkpoint_every: usize,
    /// Folder for checkpoints (epoch-NNNNN folders).
    #[arg(long)]
    pub checkpoint_dir: Option<PathBuf>,
    /// Continue from a checkpoint folder (epoch-NNNNN) written with --checkpoint-dir: weights,
    /// optimiser state, epoch and random generator, so the result equals an uninterrupted
    /// run's.
    #[arg(long)]
    pub resume: Option<PathBuf>,
}

impl VaeArgs {
    /// Checked VAE-NMF settings at `rank` (EMG synergies: at most [`MAX_RANK`], the core's
    /// limit).
    pub fn vae_params(&self, rank: usize, seed: u64) -> Result<VaeParams> {
        if !(1..=MAX_RANK).contains(&rank) {
            return Err(ParamError::new("rank", rank, format!("between 1 and {MAX_RANK}")).into());
        }
        Ok(VaeTrainConfig {
            hidden: self.hidden,
            rank,
            alpha0: self.alpha0,
            sigma: self.sigma,
            poisson: self.likelihood == Likelihood::Poisson,
            boost: self.boost,
            gamma: self.gamma,
            nonneg: self.nonneg,
            decoder_steps: self.decoder_steps,
            lr: self.lr,
            weight_decay: self.weight_decay,
            batch_size: self.batch_size,
            epochs: self.epochs,
            validation: self.validation,
            patience: self.patience,
            floor: f64::from(crate::export::DEFAULT_FLOOR),
            seed,
            backend: self.backend,
            checkpoint_every: self.checkpoint_every,
            checkpoint_dir: self.checkpoint_dir.clone(),
            resume: self.resume.clone(),
        }
        .check()?)
    }
}

/// `vaenmf train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub vae: VaeArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub data: DataArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub test: TestArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub solver: SolverArgs,
    /// Number of synergies (1 to 16, below the channel count).
    #[arg(long)]
    pub rank: usize,
    /// True synergies (CSV, channels × rank) for the similarity score.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Order synergies like this model's (Hungarian matching of cosines); default: by the
    /// channel of each synergy's largest weight.
    #[arg(long = "match", value_name = "MODEL")]
    pub match_model: Option<PathBuf>,
    /// Model blob to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Report JSON to write.
    #[arg(long)]
    pub report: PathBuf,
    /// Folder for plots (SVG and PNG).
    #[arg(long)]
    pub plots: Option<PathBuf>,
}

impl TrainArgs {
    /// The method's checked settings.
    pub fn fit_settings(&self) -> Result<FitSettings> {
        Ok(if self.solver.method == Method::VaeNmf {
            FitSettings::Vae(self.vae.vae_params(self.rank, self.solver.seed)?)
        } else {
            FitSettings::Nmf(self.solver.nmf_params(self.rank)?)
        })
    }
}

/// `vaenmf eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model blob.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub data: DataArgs,
    /// True synergies (CSV) for the similarity score.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Report JSON to write.
    #[arg(long)]
    pub report: PathBuf,
    /// Folder for plots.
    #[arg(long)]
    pub plots: Option<PathBuf>,
    /// Also write the activations (frames × rank CSV) the model gives each frame.
    #[arg(long)]
    pub activations: Option<PathBuf>,
}

/// `vaenmf rank`.
#[derive(Debug, Args)]
pub struct RankArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub data: DataArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub solver: SolverArgs,
    /// Largest rank tried (at most 16, below the channel count).
    #[arg(long)]
    pub max_rank: usize,
    /// Report JSON to write.
    #[arg(long)]
    pub report: PathBuf,
    /// Folder for plots.
    #[arg(long)]
    pub plots: Option<PathBuf>,
}

pub(crate) fn parse_hidden(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s.split_once(',').ok_or_else(|| format!("'{s}' is not H1,H2"))?;
    let a: usize = a.trim().parse().map_err(|_| format!("'{a}' is not a width"))?;
    let b: usize = b.trim().parse().map_err(|_| format!("'{b}' is not a width"))?;
    if a == 0 || b == 0 {
        return Err("hidden widths must be positive".into());
    }
    Ok((a, b))
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}' is not START:END"))?;
    let a: usize = a
        .trim()
        .parse()
        .map_err(|_| format!("'{a}' is not a frame index"))?;
    let b: usize = b
        .trim()
        .parse()
        .map_err(|_| format!("'{b}' is not a frame index"))?;
    if a >= b {
        return Err(format!("empty frame range {a}:{b}"));
    }
    Ok((a, b))
}

fn parse_band(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(':').ok_or_else(|| format!("'{s}' is not LO:HI"))?;
    let a: f64 = a
        .trim()
        .parse()
        .map_err(|_| format!("'{a}' is not a frequency"))?;
    let b: f64 = b
        .trim()
        .parse()
        .map_err(|_| format!("'{b}' is not a frequency"))?;
    if !(a > 0.0 && b > a) {
        return Err(format!("band {a}:{b} must satisfy 0 < LO < HI"));
    }
    Ok((a, b))
}
