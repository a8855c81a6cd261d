//! The `vaenmf` command line: [`args`] (argument types, converted into the library's checked
//! settings) and [`commands`] (each command: call the library pipeline, print a summary). The
//! work itself — preparing data, fitting, evaluating, writing outputs — is in the library
//! ([`crate::pipeline`]).

pub mod args;
pub mod commands;
pub mod quantize;
pub mod quantize_speech;
pub mod speech;
pub mod speech_args;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use args::{DataArgs, EvalArgs, RankArgs, SynthArgs, TrainArgs};

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
    /// Extract synergies, evaluate them, write the model blob, a report and plots.
    Train(Box<TrainArgs>),
    /// Evaluate a model blob on data with the core's inference (the device's numbers).
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
    /// Quantise a VAE-NMF model's encoder to int8 (post-training, calibrated on frames).
    Quantize(Box<quantize::QuantizeArgs>),
    /// Print what a model blob holds.
    Inspect {
        /// The model blob.
        model: PathBuf,
    },
    /// Speech enhancement with speech and noise dictionaries.
    #[command(subcommand)]
    Speech(speech::SpeechCommand),
}

/// Prints a warning on stderr.
pub fn warn(message: &str) {
    eprintln!("warning: {message}");
}

/// Runs a command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Synth(args) => commands::synth(&args),
        Command::Train(args) => commands::train(&args),
        Command::Eval(args) => commands::eval(&args),
        Command::Rank(args) => commands::rank(&args),
        Command::Frames { data, out } => commands::frames(&data, &out),
        Command::Quantize(args) => quantize::run(&args),
        Command::Inspect { model } => commands::inspect(&model),
        Command::Speech(command) => speech::run(&command),
    }
}
