//! Arguments of `vaenmf speech …` (clap types, converted into the library's checked settings).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::args::choice;
use crate::nmf::{NmfInit, NmfLoss};
use crate::pipeline::Method;
use crate::speech::separate::{SeparationConfig, SeparationParams};
use crate::speech::stft::Window;

/// Speech-enhancement commands.
#[derive(Debug, Subcommand)]
pub enum SpeechCommand {
    /// Build (clean, noise, noisy) triplets at given SNRs, with a manifest CSV.
    Mix(MixArgs),
    /// Learn a dictionary from the magnitude spectrogram of a set of recordings.
    Dict(DictArgs),
    /// Enhance a noisy recording with a speech and a noise dictionary.
    Enhance(EnhanceArgs),
    /// SDR / SIR / SAR (BSS-eval), PESQ and STOI of a speech estimate.
    Metrics(MetricsArgs),
    /// Score supervised NMF, the noisy input and the oracle mask over a `speech mix` set.
    Eval(EvalArgs),
}

/// `vaenmf speech dict`.
#[derive(Debug, Args)]
pub struct DictArgs {
    /// Recordings: WAV files, or folders whose *.wav files are used.
    #[arg(required = true, value_name = "FILES_OR_DIRS")]
    pub inputs: Vec<PathBuf>,
    /// Method (vae-nmf dictionaries come with issue #12).
    #[arg(long, value_parser = choice::<Method>(), default_value = "nmf")]
    pub method: Method,
    /// Dictionary size.
    #[arg(long, default_value_t = 40)]
    pub rank: usize,
    /// Multiplicative-update iterations.
    #[arg(long, default_value_t = 200)]
    pub iterations: usize,
    /// L1 penalty on activations (sparse-nmf).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.01)]
    pub sparsity: f32,
    /// Initialisation.
    #[arg(long, value_parser = choice::<NmfInit>(), default_value = "random")]
    pub init: NmfInit,
    /// Seed of the random initialisation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub front_end: FrontEndArgs,
    /// Resample files at another rate (otherwise they are an error).
    #[arg(long)]
    pub resample: bool,
    /// Model blob to write.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// JSON report to write (settings, frames, objective).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// The STFT front end a dictionary is learned with.
#[derive(Debug, Args)]
pub struct FrontEndArgs {
    /// Sample rate, Hz.
    #[arg(long, default_value_t = 16000)]
    pub rate: u32,
    /// FFT size (= window length).
    #[arg(long, default_value_t = 512)]
    pub n_fft: usize,
    /// Hop, samples.
    #[arg(long, default_value_t = 128)]
    pub hop: usize,
    /// Window.
    #[arg(long, value_parser = choice::<Window>(), default_value = "hamming")]
    pub window: Window,
    /// Exponent of the magnitude spectrum (1: magnitude, 2: power).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub magnitude_exponent: f32,
}

/// Separation settings shared by enhance and eval.
#[derive(Debug, Args)]
pub struct SeparationArgs {
    /// Divergence of the activation fit.
    #[arg(long, value_parser = choice::<NmfLoss>(), default_value = "euclidean")]
    pub loss: NmfLoss,
    /// Multiplicative updates of the activations.
    #[arg(long, default_value_t = 100)]
    pub iterations: usize,
    /// L1 penalty on the activations.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub sparsity: f32,
    /// Exponent p of the gain (Wˢhˢ)ᵖ / ((Wˢhˢ)ᵖ + (Wⁿhⁿ)ᵖ).
    #[arg(long, allow_negative_numbers = true, default_value_t = 2.0)]
    pub gain_exponent: f32,
}

impl SeparationArgs {
    pub fn config(&self) -> Result<SeparationParams> {
        Ok(SeparationConfig {
            loss: self.loss,
            iterations: self.iterations,
            sparsity: self.sparsity,
            gain_exponent: self.gain_exponent,
        }
        .check()?)
    }
}

/// `vaenmf speech enhance`.
#[derive(Debug, Args)]
pub struct EnhanceArgs {
    /// Speech dictionary (from `speech dict`).
    #[arg(long)]
    pub speech: PathBuf,
    /// Noise dictionary.
    #[arg(long)]
    pub noise: PathBuf,
    /// Noisy recording.
    pub input: PathBuf,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub separation: SeparationArgs,
    /// Resample the input when its rate differs from the dictionaries' (else an error).
    #[arg(long)]
    pub resample: bool,
    /// Enhanced recording to write (32-bit float WAV).
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

/// `vaenmf speech metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Clean speech.
    #[arg(long)]
    pub reference: PathBuf,
    /// The noise that was added to it.
    #[arg(long)]
    pub noise: PathBuf,
    /// Speech estimate.
    #[arg(long)]
    pub estimate: PathBuf,
    /// JSON report to write.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// `vaenmf speech eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// `manifest.csv` of a `speech mix` set (use one made from test files only).
    #[arg(long)]
    pub manifest: PathBuf,
    /// Speech dictionary.
    #[arg(long)]
    pub speech: PathBuf,
    /// Noise dictionary per noise of the manifest, NAME=MODEL (repeatable).
    #[arg(long = "noise", required = true, value_name = "NAME=MODEL", value_parser = parse_named_path)]
    pub noises: Vec<(String, PathBuf)>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub separation: SeparationArgs,
    /// Output folder: eval.json, table.md and spectrograms-NOISE.png (noisy / enhanced /
    /// clean, one mixture per noise).
    #[arg(long)]
    pub out: PathBuf,
}

/// `vaenmf speech mix`.
#[derive(Debug, Args)]
pub struct MixArgs {
    /// Clean utterances: WAV files, or folders whose *.wav files are used (sorted by name).
    #[arg(long = "speech", required = true, num_args = 1.., value_name = "FILE_OR_DIR")]
    pub speech: Vec<PathBuf>,
    /// A noise recording as NAME=FILE (repeatable). Give the train part of each noise for
    /// training sets and the test part for evaluation sets.
    #[arg(long = "noise", required = true, value_name = "NAME=FILE", value_parser = parse_named_path)]
    pub noises: Vec<(String, PathBuf)>,
    /// SNRs in dB, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        default_value = "-5,0,5,10,15,20"
    )]
    pub snr: Vec<f64>,
    /// Seed of the noise segments' positions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sample rate of the set, Hz.
    #[arg(long, default_value_t = 16000)]
    pub rate: u32,
    /// Resample files at another rate (otherwise they are an error).
    #[arg(long)]
    pub resample: bool,
    /// Repeat a noise recording shorter than an utterance (otherwise an error).
    #[arg(long)]
    pub loop_noise: bool,
    /// Output folder: NOISE/SNRdB/UTTERANCE.{clean,noise,noisy}.wav and manifest.csv.
    #[arg(long)]
    pub out: PathBuf,
}

/// `NAME=FILE`.
pub fn parse_named_path(s: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=FILE"))?;
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(format!("'{name}' is not a usable noise name"));
    }
    Ok((name.to_string(), PathBuf::from(path)))
}
