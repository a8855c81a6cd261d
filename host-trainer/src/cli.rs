//! The `vaenmf` command line: argument types and the commands.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::data::envelope::{envelope, EnvelopeConfig, EnvelopeLog};
use crate::data::load::{load, LoadOptions};
use crate::data::ninapro::load_ninapro;
use crate::data::synth::{synthesize, NoiseKind, SynthConfig};
use crate::data::{apply_scales, clamp_negatives, EmgMatrix, Normalize};
use crate::eval::{choose_rank, fit_metrics, load_synergies, similarity, Fit, RankPoint, Synergies};
use crate::export::{blob_synergies, describe, nmf_blob, read_blob, write_blob};
use crate::nmf::{self, NmfConfig, NmfInit, NmfLoss};
use crate::output::{csv_text, numbered, write_atomic};
use crate::plots;
use crate::vae::training::{self as vae_training, Backend, DecoderSteps, Nonneg, VaeTrainConfig};

/// Muscle-synergy extraction from EMG: NMF baselines and VAE-NMF, evaluation, model export.
#[derive(Debug, Parser)]
#[command(name = "vaenmf", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write synthetic synergy data (Tresch et al. 2006 style) with its true synergies.
    Synth(SynthArgs),
    /// Extract synergies, evaluate them, write the model blob and a report.
    Train(Box<TrainArgs>),
    /// Evaluate a model blob on data.
    Eval(EvalArgs),
    /// VAF versus number of synergies, and the rank the 90 % / 75 % rule picks.
    Rank(RankArgs),
    /// Write frames as the device sees them before its input scaling (after loading,
    /// envelope and clamping), time in rows: the EMG sequence a firmware build embeds.
    Frames {
        #[command(flatten)]
        #[allow(missing_docs)]
        data: DataArgs,
        /// CSV to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print what a model blob holds.
    Inspect {
        /// The model blob.
        model: PathBuf,
    },
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
    #[arg(long, default_value_t = 20.0)]
    pub snr_db: f64,
    /// Noise model.
    #[arg(long, value_enum, default_value_t = NoiseKind::Gaussian)]
    pub noise: NoiseKind,
    /// Correlation of the activations (0 ≤ ρ < 1).
    #[arg(long, default_value_t = 0.0)]
    pub correlation: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// How to read and prepare data (shared by train, eval and rank).
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
    /// The file is in the Ninapro DB1 layout (emg, restimulus, rerepetition); training uses
    /// repetitions 1,3,4,6,8,9,10 and the test 2,5,7.
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
    /// Sampling rate of raw EMG, Hz.
    #[arg(long, value_name = "HZ")]
    pub fs: Option<f64>,
    /// Envelope low-pass cut-off, Hz.
    #[arg(long, default_value_t = 4.0, value_name = "HZ")]
    pub lowpass: f64,
    /// Band-pass edges for raw EMG, Hz.
    #[arg(long, default_value = "20:450", value_name = "LO:HI", value_parser = parse_band)]
    pub band: (f64, f64),
    /// Keep every K-th envelope sample.
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub decimate: usize,
    /// Scaling before training (stored in the model).
    #[arg(long, value_enum, default_value_t = Normalize::GlobalMax)]
    pub normalize: Normalize,
    /// Negative envelope values are an error instead of being clamped to 0.
    #[arg(long)]
    pub strict: bool,
}

/// Test data options of `train`.
#[derive(Debug, Args, Clone)]
pub struct TestArgs {
    /// Held-out data file (same options as --data); with --ninapro the test repetitions.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// MATLAB variable(s) of the test file (repeatable).
    #[arg(long = "test-var", value_name = "NAME")]
    pub test_vars: Vec<String>,
    /// Held-out frames START:END of the test file (of --data when --test is absent).
    #[arg(long, value_name = "START:END", value_parser = parse_range)]
    pub test_frames: Option<(usize, usize)>,
}

/// Extraction methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Lee–Seung multiplicative updates, Frobenius norm.
    Nmf,
    /// Lee–Seung multiplicative updates, generalised KL divergence.
    NmfKl,
    /// Frobenius NMF with an L1 penalty on activations and unit-norm synergies.
    SparseNmf,
    /// The paper's VAE-NMF: Gamma-posterior encoder, nonnegative linear decoder (burn).
    VaeNmf,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Nmf => "nmf",
            Method::NmfKl => "nmf-kl",
            Method::SparseNmf => "sparse-nmf",
            Method::VaeNmf => "vae-nmf",
        }
    }
}

/// Solver options shared by train and rank.
#[derive(Debug, Args, Clone)]
pub struct SolverArgs {
    /// Extraction method.
    #[arg(long, value_enum, default_value_t = Method::Nmf)]
    pub method: Method,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Maximum iterations.
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
    /// Relative objective decrease (per 10 iterations) below which to stop; 0 = never.
    #[arg(long, default_value_t = 1e-6)]
    pub tol: f64,
    /// Runs (the first from --init, the rest random); the best objective wins.
    #[arg(long, default_value_t = 1)]
    pub restarts: usize,
    /// Initialisation.
    #[arg(long, value_enum, default_value_t = NmfInit::Nndsvda)]
    pub init: NmfInit,
    /// L1 penalty on activations for sparse-nmf (scikit-learn's alpha_H convention).
    #[arg(long, default_value_t = 0.01)]
    pub sparsity: f32,
}

/// Likelihood p(x | z) of VAE-NMF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    /// Gaussian with standard deviation --sigma.
    Gaussian,
    /// Poisson (generalised KL divergence).
    Poisson,
}

/// VAE-NMF options of `train` (ignored by the NMF methods).
#[derive(Debug, Args, Clone)]
pub struct VaeArgs {
    /// Encoder hidden widths.
    #[arg(long, default_value = "400,400", value_parser = parse_hidden)]
    pub hidden: (usize, usize),
    /// Prior shape α₀ of Gamma(α₀, 1).
    #[arg(long, default_value_t = 1.0)]
    pub alpha0: f64,
    /// Gaussian likelihood σ (default: residual RMS of a quick NMF of the same rank).
    #[arg(long)]
    pub sigma: Option<f64>,
    /// Likelihood.
    #[arg(long, value_enum, default_value_t = Likelihood::Gaussian)]
    pub likelihood: Likelihood,
    /// Shape augmentation B (≥ 1) of the Gamma reparameterisation.
    #[arg(long, default_value_t = 1)]
    pub boost: u32,
    /// Weight γ of the nonnegativity penalty (γ/2) Σ min(w, 0)².
    #[arg(long, default_value_t = 1000.0)]
    pub gamma: f64,
    /// Keep W ≥ 0 by the paper's penalty or by projection after every step.
    #[arg(long, value_enum, default_value_t = Nonneg::Penalty)]
    pub nonneg: Nonneg,
    /// How W is updated each step: Adam like the encoder (the paper's training), or sign
    /// steps of size lr.
    #[arg(long, value_enum, default_value_t = DecoderSteps::Adam)]
    pub decoder_steps: DecoderSteps,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Adam weight decay (paper: 5e-4; 0 keeps synergy shapes closer to the truth).
    #[arg(long, default_value_t = 5e-4)]
    pub weight_decay: f64,
    /// Minibatch size.
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    /// Maximum epochs.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Fraction of training frames held out for early stopping (0 = none).
    #[arg(long, default_value_t = 0.1)]
    pub validation: f64,
    /// Epochs without validation improvement before stopping (0 = never).
    #[arg(long, default_value_t = 15)]
    pub patience: usize,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Write a checkpoint every N epochs (needs --checkpoint-dir).
    #[arg(long, default_value_t = 0)]
    pub checkpoint_every: usize,
    /// Folder for checkpoints.
    #[arg(long)]
    pub checkpoint_dir: Option<PathBuf>,
    /// Continue from a checkpoint written by --checkpoint-dir.
    #[arg(long)]
    pub resume: Option<PathBuf>,
}

fn parse_hidden(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s.split_once(',').ok_or_else(|| format!("'{s}' is not H1,H2"))?;
    let a: usize = a.trim().parse().map_err(|_| format!("'{a}' is not a width"))?;
    let b: usize = b.trim().parse().map_err(|_| format!("'{b}' is not a width"))?;
    if a == 0 || b == 0 {
        return Err("hidden widths must be positive".into());
    }
    Ok((a, b))
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
    /// Number of synergies.
    #[arg(long)]
    pub rank: usize,
    /// True synergies (CSV, channels × rank) for the similarity score.
    #[arg(long)]
    pub truth: Option<PathBuf>,
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
    /// Largest rank tried.
    #[arg(long)]
    pub max_rank: usize,
    /// Report JSON to write.
    #[arg(long)]
    pub report: PathBuf,
    /// Folder for plots.
    #[arg(long)]
    pub plots: Option<PathBuf>,
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

/// Prints a warning on stderr.
pub fn warn(message: &str) {
    eprintln!("warning: {message}");
}

/// Runs a command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Synth(args) => synth(&args),
        Command::Train(args) => train(&args),
        Command::Eval(args) => eval(&args),
        Command::Rank(args) => rank(&args),
        Command::Frames { data, out } => {
            // Unit scales: the device applies the model's own scaling to these frames.
            let channels = load_channels(&data)?;
            let prepared = prepare(&data, None, Some(&vec![1.0; channels]))?;
            let x = &prepared.train;
            write_atomic(&out, csv_text(&numbered("ch", x.channels), &x.data).as_bytes())?;
            println!(
                "wrote {} ({} frames × {} channels)",
                out.display(),
                x.frames,
                x.channels
            );
            Ok(())
        }
        Command::Inspect { model } => {
            let bytes = std::fs::metadata(&model)
                .with_context(|| format!("{}: cannot read", model.display()))?
                .len() as usize;
            let blob = read_blob(&model)?;
            print!("{}", describe(&blob, bytes));
            Ok(())
        }
    }
}

/// Channel count of a data file as `prepare` would read it.
fn load_channels(data: &DataArgs) -> Result<usize> {
    if data.ninapro {
        return Ok(load_ninapro(&data.data, data.movement)?.train.channels);
    }
    let opts = LoadOptions {
        channels_in_rows: data.channels_in_rows,
        vars: data.vars.clone(),
    };
    Ok(load(&data.data, &opts)?.channels)
}

fn synth(args: &SynthArgs) -> Result<()> {
    if args.rank == 0 || args.rank >= args.channels {
        bail!(
            "--rank must be between 1 and channels − 1 ({}), got {}",
            args.channels.saturating_sub(1),
            args.rank
        );
    }
    if args.frames == 0 {
        bail!("--frames must be positive");
    }
    if !(0.0..1.0).contains(&args.correlation) {
        bail!("--correlation must be in [0, 1), got {}", args.correlation);
    }
    let cfg = SynthConfig {
        channels: args.channels,
        rank: args.rank,
        frames: args.frames,
        test_frames: args.test_frames,
        snr_db: args.snr_db,
        noise: args.noise,
        correlation: args.correlation,
        seed: args.seed,
    };
    let data = synthesize(&cfg);
    let ch = numbered("ch", args.channels);
    write_atomic(
        &args.out.join("train.csv"),
        csv_text(&ch, &data.train.data).as_bytes(),
    )?;
    write_atomic(
        &args.out.join("test.csv"),
        csv_text(&ch, &data.test.data).as_bytes(),
    )?;
    write_atomic(
        &args.out.join("synergies.csv"),
        csv_text(&numbered("s", args.rank), &data.synergies).as_bytes(),
    )?;
    println!(
        "wrote {}/train.csv ({} frames), test.csv ({} frames), synergies.csv ({} × {})",
        args.out.display(),
        args.frames,
        args.test_frames,
        args.channels,
        args.rank
    );
    Ok(())
}

/// What data preparation did, for the report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DataReport {
    /// Source file.
    pub source: String,
    /// Normalisation.
    pub normalize: Option<Normalize>,
    /// Per-channel scale applied (and stored in the model).
    pub input_scale: Vec<f32>,
    /// Negative values clamped to zero (training and test data).
    pub negatives_clamped: usize,
    /// Envelope stages applied and skipped.
    pub envelope: Option<EnvelopeLog>,
}

/// Prepared training (and optional test) data.
pub struct Prepared {
    /// Training frames, scaled.
    pub train: EmgMatrix,
    /// Test frames, scaled with the training scales.
    pub test: Option<EmgMatrix>,
    /// Report of what was done.
    pub report: DataReport,
}

fn select_frames(m: EmgMatrix, range: Option<(usize, usize)>, what: &str) -> Result<EmgMatrix> {
    match range {
        None => Ok(m),
        Some((a, b)) if b <= m.frames => Ok(m.slice_frames(a, b)),
        Some((a, b)) => bail!("{what}: frame range {a}:{b} exceeds its {} frames", m.frames),
    }
}

/// Loads, preprocesses and (with `scales = None`) normalises; `scales` given (from a model)
/// are applied instead of computing new ones.
pub fn prepare(data: &DataArgs, test: Option<&TestArgs>, scales: Option<&[f32]>) -> Result<Prepared> {
    let source = data.data.display().to_string();
    let (mut train, mut test_m) = if data.ninapro {
        let split = load_ninapro(&data.data, data.movement)?;
        if split.truncated > 0 {
            warn(&format!(
                "{source}: emg, restimulus and rerepetition differ in length; {} trailing samples dropped",
                split.truncated
            ));
        }
        (split.train, Some(split.test))
    } else {
        if data.movement.is_some() {
            bail!("--movement needs --ninapro");
        }
        let opts = LoadOptions {
            channels_in_rows: data.channels_in_rows,
            vars: data.vars.clone(),
        };
        let full = load(&data.data, &opts)?;
        let test_m = match test {
            Some(t) if t.test.is_some() || t.test_frames.is_some() => {
                let m = match &t.test {
                    Some(path) => load(
                        path,
                        &LoadOptions {
                            channels_in_rows: data.channels_in_rows,
                            vars: t.test_vars.clone(),
                        },
                    )?,
                    None => full.clone(),
                };
                let name = t.test.as_ref().unwrap_or(&data.data).display().to_string();
                Some(select_frames(m, t.test_frames, &name)?)
            }
            _ => None,
        };
        (select_frames(full, data.frames, &source)?, test_m)
    };
    if let Some(t) = &test_m {
        if t.channels != train.channels {
            bail!(
                "test data has {} channels, training data {}",
                t.channels,
                train.channels
            );
        }
    }
    let mut report = DataReport {
        source: source.clone(),
        ..Default::default()
    };
    if data.envelope {
        let fs = data
            .fs
            .context("--envelope needs --fs HZ (the raw EMG sampling rate)")?;
        let cfg = EnvelopeConfig {
            lowpass: data.lowpass,
            band: data.band,
            decimate: data.decimate,
            ..EnvelopeConfig::new(fs)
        };
        let (env, log) = envelope(&train, &cfg).with_context(|| source.clone())?;
        for s in &log.skipped {
            warn(&format!("{source}: skipped {s}"));
        }
        train = env;
        if let Some(t) = test_m.take() {
            test_m = Some(envelope(&t, &cfg)?.0);
        }
        report.envelope = Some(log);
    } else if data.fs.is_some() || data.decimate != 1 {
        warn("--fs and --decimate only apply with --envelope");
    }
    let mut clamp = |m: &mut EmgMatrix, what: &str| -> Result<()> {
        if let Some(neg) = clamp_negatives(m, data.strict, what)? {
            warn(&format!(
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
    let scales = match scales {
        Some(s) => {
            if s.len() != train.channels {
                bail!(
                    "{source}: data has {} channels but the model expects {}",
                    train.channels,
                    s.len()
                );
            }
            s.to_vec()
        }
        None => {
            report.normalize = Some(data.normalize);
            data.normalize.scales(&train)
        }
    };
    apply_scales(&mut train, &scales);
    if let Some(t) = &mut test_m {
        apply_scales(t, &scales);
    }
    report.input_scale = scales;
    Ok(Prepared {
        train,
        test: test_m,
        report,
    })
}

fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

fn nmf_config(solver: &SolverArgs, rank: usize) -> NmfConfig {
    NmfConfig {
        rank,
        loss: if solver.method == Method::NmfKl {
            NmfLoss::KullbackLeibler
        } else {
            NmfLoss::Frobenius
        },
        sparsity: if solver.method == Method::SparseNmf {
            solver.sparsity
        } else {
            0.0
        },
        init: solver.init,
        iterations: solver.iterations,
        tol: solver.tol,
        restarts: solver.restarts,
        seed: solver.seed,
    }
}

/// Runs the chosen method on `x`: (synergies, own activations, method details).
fn extract(
    x: &EmgMatrix,
    solver: &SolverArgs,
    rank: usize,
    show_progress: bool,
) -> Result<(Synergies, Vec<f32>, serde_json::Value)> {
    let cfg = nmf_config(solver, rank);
    let bar = progress_bar(
        (cfg.iterations * cfg.restarts.max(1)) as u64,
        solver.method.name(),
    );
    if !show_progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let iterations = cfg.iterations;
    let fit = nmf::fit(x, &cfg, |run, it| {
        if it % 50 == 0 || it == iterations {
            bar.set_position((run * iterations + it) as u64);
        }
    })?;
    bar.finish_and_clear();
    let details = serde_json::json!({
        "config": cfg,
        "iterations": fit.iterations,
        "objective": fit.objective,
        "run_objectives": fit.run_objectives,
    });
    let synergies = Synergies {
        channels: x.channels,
        rank,
        w: fit.w,
    };
    Ok((synergies, fit.z, details))
}

/// Metrics of one data split.
#[derive(Debug, Clone, Serialize)]
pub struct SplitReport {
    /// Frames.
    pub frames: usize,
    /// Global VAF with the method's own activations.
    pub vaf: f64,
    /// Per-channel VAF with the method's own activations.
    pub vaf_per_channel: Vec<f64>,
    /// Centred R².
    pub r2: f64,
    /// Global VAF with W fixed and activations refit by NNLS.
    pub vaf_nnls: f64,
    /// Per-channel VAF with NNLS activations.
    pub vaf_nnls_per_channel: Vec<f64>,
}

fn split_report(x: &EmgMatrix, own: &Fit, nnls: &Fit) -> SplitReport {
    SplitReport {
        frames: x.frames,
        vaf: own.vaf,
        vaf_per_channel: own.vaf_per_channel.clone(),
        r2: own.r2,
        vaf_nnls: nnls.vaf,
        vaf_nnls_per_channel: nnls.vaf_per_channel.clone(),
    }
}

/// The `train` and `eval` report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Method name.
    pub method: String,
    /// Synergies.
    pub rank: usize,
    /// Channels.
    pub channels: usize,
    /// Frames the figures below are computed on.
    pub frames: usize,
    /// Global uncentred VAF with the method's own activations.
    pub vaf: f64,
    /// Per-channel VAF.
    pub vaf_per_channel: Vec<f64>,
    /// Centred R².
    pub r2: f64,
    /// Global VAF with activations refit by NNLS (W fixed).
    pub vaf_nnls: f64,
    /// Per-channel VAF with NNLS activations.
    pub vaf_nnls_per_channel: Vec<f64>,
    /// Mean Hungarian-matched cosine to the true synergies, if given.
    pub similarity: Option<f64>,
    /// Wall-clock seconds of extraction (train) or evaluation (eval).
    pub seconds: f64,
    /// Held-out figures.
    pub test: Option<SplitReport>,
    /// Data preparation.
    pub data: DataReport,
    /// Method-specific details (iterations, objective, settings).
    pub training: serde_json::Value,
    /// Model blob written or read.
    pub model: String,
    /// Plot files written.
    pub plots: Vec<String>,
}

fn write_report<T: Serialize>(path: &Path, report: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(report).context("report: cannot serialise")?;
    write_atomic(path, text.as_bytes())
}

fn truth_similarity(truth: Option<&PathBuf>, synergies: &Synergies) -> Result<Option<f64>> {
    truth
        .map(|path| {
            let t = load_synergies(path)?;
            similarity(synergies, &t).with_context(|| path.display().to_string())
        })
        .transpose()
}

fn evaluate_split(x: &EmgMatrix, synergies: &Synergies, own_z: &[f32]) -> Result<(Fit, Fit, Vec<f32>)> {
    let own = fit_metrics(x, &synergies.reconstruct(own_z))?;
    let nnls_z = synergies.nnls_activations(x)?;
    let nnls_xhat = synergies.reconstruct(&nnls_z);
    let nnls = fit_metrics(x, &nnls_xhat)?;
    Ok((own, nnls, nnls_xhat))
}

fn make_plots(
    dir: &Path,
    synergies: &Synergies,
    x: &EmgMatrix,
    xhat: &[f32],
    fit: &Fit,
) -> Result<Vec<String>> {
    let names = numbered("ch", synergies.channels);
    let mut files = plots::synergies(dir, synergies, &names)?;
    files.extend(plots::reconstruction(
        dir,
        "reconstruction",
        x,
        xhat,
        &fit.vaf_per_channel,
        &names,
    )?);
    Ok(files.into_iter().map(|p| p.display().to_string()).collect())
}

fn train(args: &TrainArgs) -> Result<()> {
    let prepared = prepare(&args.data, Some(&args.test), None)?;
    let x = &prepared.train;
    check_rank(args.rank, x)?;
    let start = Instant::now();
    let trained = if args.solver.method == Method::VaeNmf {
        train_vae(x, args, &prepared.report.input_scale)?
    } else {
        let (synergies, z, details) = extract(x, &args.solver, args.rank, true)?;
        let blob = nmf_blob(&synergies, &prepared.report.input_scale);
        Trained {
            synergies,
            z,
            details,
            blob,
            encoder: None,
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let Trained {
        synergies,
        z,
        details,
        blob,
        encoder,
    } = trained;
    let (own, nnls, _) = evaluate_split(x, &synergies, &z)?;
    let test = match &prepared.test {
        Some(t) => {
            // Held-out activations: the encoder's for VAE-NMF; NMF has none, so its "own"
            // activations are the NNLS refit.
            let own_z = match &encoder {
                Some((model, floor, backend)) => posterior_means(model, t, *floor, *backend),
                None => synergies.nnls_activations(t)?,
            };
            let (own_t, nnls_t, _) = evaluate_split(t, &synergies, &own_z)?;
            Some(split_report(t, &own_t, &nnls_t))
        }
        None => None,
    };
    let similarity = truth_similarity(args.truth.as_ref(), &synergies)?;
    let plots = match &args.plots {
        Some(dir) => make_plots(dir, &synergies, x, &synergies.reconstruct(&z), &own)?,
        None => Vec::new(),
    };
    let bytes = write_blob(&args.out, &blob)?;
    let report = Report {
        method: args.solver.method.name().into(),
        rank: args.rank,
        channels: x.channels,
        frames: x.frames,
        vaf: own.vaf,
        vaf_per_channel: own.vaf_per_channel.clone(),
        r2: own.r2,
        vaf_nnls: nnls.vaf,
        vaf_nnls_per_channel: nnls.vaf_per_channel.clone(),
        similarity,
        seconds,
        test,
        data: prepared.report,
        training: details,
        model: args.out.display().to_string(),
        plots,
    };
    write_report(&args.report, &report)?;
    print_summary(&report);
    println!(
        "model: {} ({bytes} bytes); report: {}",
        args.out.display(),
        args.report.display()
    );
    Ok(())
}

/// What a method produced.
struct Trained {
    synergies: Synergies,
    z: Vec<f32>,
    details: serde_json::Value,
    blob: vaenmf_core::ModelBlob,
    /// VAE-NMF: the model, its head floor and backend, for held-out activations.
    encoder: Option<(crate::vae::model::VaeNmf, f64, Backend)>,
}

/// Posterior means α/β (frames × r) of an encoder model.
fn posterior_means(
    model: &crate::vae::model::VaeNmf,
    x: &EmgMatrix,
    floor: f64,
    backend: Backend,
) -> Vec<f32> {
    let (a, b) = vae_training::posterior(model, x, floor, backend);
    a.iter().zip(&b).map(|(a, b)| a / b).collect()
}

fn train_vae(x: &EmgMatrix, args: &TrainArgs, input_scale: &[f32]) -> Result<Trained> {
    let v = &args.vae;
    if v.resume.is_some() && v.checkpoint_every > 0 && v.checkpoint_dir.is_none() {
        bail!("--checkpoint-every needs --checkpoint-dir");
    }
    let cfg = VaeTrainConfig {
        hidden: v.hidden,
        rank: args.rank,
        alpha0: v.alpha0,
        sigma: v.sigma,
        poisson: v.likelihood == Likelihood::Poisson,
        boost: v.boost,
        gamma: v.gamma,
        nonneg: v.nonneg,
        decoder_steps: v.decoder_steps,
        lr: v.lr,
        weight_decay: v.weight_decay,
        batch_size: v.batch_size,
        epochs: v.epochs,
        validation: v.validation,
        patience: v.patience,
        floor: crate::export::DEFAULT_FLOOR as f64,
        seed: args.solver.seed,
        backend: v.backend,
        checkpoint_every: v.checkpoint_every,
        checkpoint_dir: v.checkpoint_dir.clone(),
        resume: v.resume.clone(),
    };
    let bar = progress_bar(cfg.epochs as u64, "vae-nmf");
    let fit = vae_training::train(x, &cfg, |log, _| {
        bar.set_position(log.epoch as u64);
        bar.set_message(format!(
            "loss {:.3} rec {:.3} kl {:.3} pen {:.2e}",
            log.loss, log.reconstruction, log.kl, log.penalty
        ));
    })?;
    bar.finish_and_clear();
    if fit.stopped.starts_with("diverged") {
        warn(&fit.stopped);
    }
    let (w, clamp) = crate::vae::dictionary(&fit.model);
    let synergies = Synergies {
        channels: x.channels,
        rank: args.rank,
        w,
    };
    let z = posterior_means(&fit.model, x, cfg.floor, cfg.backend);
    let blob = crate::vae::to_blob(&fit.model, &fit.arch, cfg.alpha0, input_scale);
    let details = serde_json::json!({
        "config": cfg,
        "architecture": {"channels": fit.arch.channels, "hidden1": fit.arch.hidden1, "hidden2": fit.arch.hidden2, "rank": fit.arch.rank, "floor": fit.arch.floor},
        "sigma": fit.sigma,
        "w_min_before_clamp": clamp.w_min_before_clamp,
        "w_negative_fraction": clamp.w_negative_fraction,
        "epochs_run": fit.history.len(),
        "stopped": fit.stopped,
        "history": fit.history,
    });
    Ok(Trained {
        synergies,
        z,
        details,
        blob,
        encoder: Some((fit.model, cfg.floor, cfg.backend)),
    })
}

fn print_summary(r: &Report) {
    let mut line = format!(
        "{} rank {}: {} frames × {} channels, VAF {:.4} (NNLS {:.4}), R² {:.4}",
        r.method, r.rank, r.frames, r.channels, r.vaf, r.vaf_nnls, r.r2
    );
    if let Some(s) = r.similarity {
        line += &format!(", similarity {s:.4}");
    }
    if let Some(t) = &r.test {
        line += &format!(
            "; test {} frames: VAF {:.4} (NNLS {:.4})",
            t.frames, t.vaf, t.vaf_nnls
        );
    }
    println!("{line}");
}

fn check_rank(rank: usize, x: &EmgMatrix) -> Result<()> {
    let limit = x.channels.min(x.frames);
    if rank == 0 || rank >= limit {
        bail!("--rank {rank} must be at least 1 and below min(channels, frames) = {limit}");
    }
    if rank > 16 {
        bail!("--rank {rank}: at most 16 synergies are supported");
    }
    Ok(())
}

fn eval(args: &EvalArgs) -> Result<()> {
    let blob = read_blob(&args.model)?;
    let prepared = prepare(&args.data, None, Some(&blob.input_scale))?;
    let x = &prepared.train;
    let start = Instant::now();
    let synergies = blob_synergies(&blob);
    let z = if blob.encoder.is_some() {
        let backend = Backend::Flex;
        let (model, arch) = crate::vae::from_blob(&blob, &backend.device(false))?;
        posterior_means(&model, x, arch.floor, backend)
    } else {
        synergies.nnls_activations(x)?
    };
    let (own, nnls, xhat) = evaluate_split(x, &synergies, &z)?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some(path) = &args.activations {
        write_atomic(path, csv_text(&numbered("z", synergies.rank), &z).as_bytes())?;
    }
    let similarity = truth_similarity(args.truth.as_ref(), &synergies)?;
    let plots = match &args.plots {
        Some(dir) => make_plots(dir, &synergies, x, &xhat, &own)?,
        None => Vec::new(),
    };
    let report = Report {
        method: if blob.encoder.is_some() { "vae-nmf" } else { "nmf" }.into(),
        rank: synergies.rank,
        channels: x.channels,
        frames: x.frames,
        vaf: own.vaf,
        vaf_per_channel: own.vaf_per_channel.clone(),
        r2: own.r2,
        vaf_nnls: nnls.vaf,
        vaf_nnls_per_channel: nnls.vaf_per_channel,
        similarity,
        seconds,
        test: None,
        data: prepared.report,
        training: serde_json::Value::Null,
        model: args.model.display().to_string(),
        plots,
    };
    write_report(&args.report, &report)?;
    print_summary(&report);
    Ok(())
}

/// The `rank` report.
#[derive(Debug, Serialize)]
pub struct RankReport {
    /// Method name.
    pub method: String,
    /// Channels.
    pub channels: usize,
    /// Frames.
    pub frames: usize,
    /// VAF and lowest channel VAF for each rank tried.
    pub curve: Vec<RankPoint>,
    /// Smallest rank with global VAF ≥ 0.90 and every channel ≥ 0.75 (null if none).
    pub chosen_rank: Option<usize>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Data preparation.
    pub data: DataReport,
    /// Plot files written.
    pub plots: Vec<String>,
}

fn rank(args: &RankArgs) -> Result<()> {
    if args.solver.method == Method::VaeNmf {
        bail!("`vaenmf rank` sweeps the NMF methods; train VAE-NMF at the chosen rank with `vaenmf train`");
    }
    let prepared = prepare(&args.data, None, None)?;
    let x = &prepared.train;
    let limit = x.channels.min(x.frames) - 1;
    if args.max_rank == 0 {
        bail!("--max-rank must be at least 1");
    }
    if args.max_rank > limit.min(16) {
        bail!(
            "--max-rank {} must be below min(channels, frames) = {} (and at most 16)",
            args.max_rank,
            limit + 1
        );
    }
    let start = Instant::now();
    let bar = progress_bar(args.max_rank as u64, "ranks");
    let mut curve = Vec::new();
    for r in 1..=args.max_rank {
        let (synergies, z, _) = extract(x, &args.solver, r, false)?;
        let fit = fit_metrics(x, &synergies.reconstruct(&z))?;
        curve.push(RankPoint {
            rank: r,
            vaf: fit.vaf,
            min_channel_vaf: fit.vaf_per_channel.iter().copied().fold(f64::INFINITY, f64::min),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let chosen_rank = choose_rank(&curve);
    let plots = match &args.plots {
        Some(dir) => plots::rank_curve(dir, &curve)?
            .into_iter()
            .map(|p| p.display().to_string())
            .collect(),
        None => Vec::new(),
    };
    for p in &curve {
        println!(
            "rank {:2}: VAF {:.4}, lowest channel {:.4}",
            p.rank, p.vaf, p.min_channel_vaf
        );
    }
    match chosen_rank {
        Some(r) => println!("chosen rank: {r} (global VAF ≥ 0.90 and every channel ≥ 0.75)"),
        None => println!(
            "no rank up to {} meets global VAF ≥ 0.90 and every channel ≥ 0.75",
            args.max_rank
        ),
    }
    let report = RankReport {
        method: args.solver.method.name().into(),
        channels: x.channels,
        frames: x.frames,
        curve,
        chosen_rank,
        seconds: start.elapsed().as_secs_f64(),
        data: prepared.report,
        plots,
    };
    write_report(&args.report, &report)
}
