//! `vaenmf speech …`: the speech-enhancement commands.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};

use super::warn;
use crate::output::OutputSet;
use crate::speech::audio::{read_at_rate, wav_bytes, WavFormat};
use crate::speech::mix::{mix, snr_db, Named};

/// Speech-enhancement commands.
#[derive(Debug, Subcommand)]
pub enum SpeechCommand {
    /// Build (clean, noise, noisy) triplets at given SNRs, with a manifest CSV.
    Mix(MixArgs),
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
    /// Output folder: NOISE/SNRdB/UTTERANCE.{clean,noise,noisy}.wav and manifest.csv.
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_named_path(s: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=FILE"))?;
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(format!("'{name}' is not a usable noise name"));
    }
    Ok((name.to_string(), PathBuf::from(path)))
}

/// The WAV files named, folders expanded to their *.wav files sorted by name.
pub fn wav_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("{}: cannot list", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")))
                .collect();
            if files.is_empty() {
                bail!("{}: no .wav files in this folder", input.display());
            }
            files.sort();
            out.extend(files);
        } else if input.exists() {
            out.push(input.clone());
        } else {
            bail!("{}: no such file or folder", input.display());
        }
    }
    Ok(out)
}

fn load(path: &Path, rate: u32, resample: bool) -> Result<Vec<f32>> {
    let (samples, notes) = read_at_rate(path, rate, resample)?;
    for n in notes {
        warn(&n);
    }
    Ok(samples)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "audio".into(), |s| s.to_string_lossy().into_owned())
}

/// Runs a speech command.
pub fn run(command: &SpeechCommand) -> Result<()> {
    match command {
        SpeechCommand::Mix(args) => mix_command(args),
    }
}

fn mix_command(args: &MixArgs) -> Result<()> {
    if args.rate == 0 {
        bail!("invalid --rate 0: must be a sample rate > 0");
    }
    let utterances = wav_files(&args.speech)?
        .iter()
        .map(|p| {
            Ok(Named {
                name: stem(p),
                samples: load(p, args.rate, args.resample)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let noises = args
        .noises
        .iter()
        .map(|(name, p)| {
            Ok(Named {
                name: name.clone(),
                samples: load(p, args.rate, args.resample)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mixtures = mix(&utterances, &noises, &args.snr, args.seed)?;
    let mut set = OutputSet::new();
    let mut manifest = String::from("utterance,noise,segment_start,snr_db,clean,noise_file,noisy\n");
    for m in &mixtures {
        let (utt, noise) = (&utterances[m.utterance].name, &noises[m.noise].name);
        let dir = PathBuf::from(noise).join(format!("{}dB", m.snr_db));
        let rel = |kind: &str| dir.join(format!("{utt}.{kind}.wav"));
        for (kind, samples) in [("clean", &m.clean), ("noise", &m.noise_part), ("noisy", &m.noisy)] {
            set.add(
                &args.out.join(rel(kind)),
                &wav_bytes(samples, args.rate, WavFormat::Float32)?,
            )?;
        }
        manifest += &format!(
            "{utt},{noise},{},{},{},{},{}\n",
            m.segment_start,
            m.snr_db,
            rel("clean").display(),
            rel("noise").display(),
            rel("noisy").display()
        );
        debug_assert!((snr_db(&m.clean, &m.noise_part) - m.snr_db).abs() < 1e-3);
    }
    set.add(&args.out.join("manifest.csv"), manifest.as_bytes())?;
    set.commit()?;
    println!(
        "wrote {} mixtures ({} utterances × {} noises × {} SNRs, float WAV at {} Hz) and {}",
        mixtures.len(),
        utterances.len(),
        noises.len(),
        args.snr.len(),
        args.rate,
        args.out.join("manifest.csv").display()
    );
    Ok(())
}
