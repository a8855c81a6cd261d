//! Arguments of `vaenmf speech …` (clap types, converted into the library's checked settings).

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, Subcommand};

use super::args::{choice, parse_hidden};
use crate::nmf::{NmfConfig, NmfInit, NmfLoss};
use crate::pipeline::Method;
use crate::speech::experiment::config::TableConfig;
use crate::speech::front_end::stft::{StftConfig, Window};
use crate::speech::methods::dnmf::DnmfConfig;
use crate::speech::methods::enhancer::gain_floor_db;
use crate::speech::methods::network::NetConfig;
use crate::speech::methods::separate::{SeparationConfig, SeparationParams};
use crate::speech::methods::streaming::{check_updates_per_frame, Mode, DEFAULT_UPDATES_PER_FRAME};
use crate::speech::metrics::bss_eval::Assignment;
use crate::vae::training::{Backend, DecoderSteps, Nonneg, VaeTrainConfig};
use vaenmf_core::speech::{EnhancerMethod, GainFloor};
use vaenmf_core::FrontEnd;

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
    /// Train one method's speech enhancer (speech and noise models, networks) and write it
    /// as an enhancer file for `speech enhance --model`.
    Train(Box<TrainArgs>),
    /// Train and score every method of the paper's comparison (NMF, DNMF, DNN, VAE-NMF and
    /// ablations) per noise type (Table 1) and on pooled noises (Table 2).
    Table(Box<TableArgs>),
}

/// `vaenmf speech dict`.
#[derive(Debug, Args)]
pub struct DictArgs {
    /// Recordings: WAV files, or folders whose *.wav files are used.
    #[arg(required = true, value_name = "FILES_OR_DIRS")]
    pub inputs: Vec<PathBuf>,
    /// Method (VAE-NMF dictionaries: see `speech table`).
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

impl FrontEndArgs {
    /// The checked front end.
    pub fn front_end(&self) -> Result<FrontEnd> {
        let stft = StftConfig {
            n_fft: self.n_fft,
            hop: self.hop,
            window: self.window,
        }
        .check()?;
        crate::params::within(
            "rate",
            self.rate as usize,
            1,
            crate::params::limits::SAMPLE_RATE as usize,
        )?;
        crate::params::positive("magnitude-exponent", f64::from(self.magnitude_exponent))?;
        Ok(stft.front_end(self.rate, self.magnitude_exponent))
    }
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

/// Offline or streamed enhancement, shared by enhance and eval.
#[derive(Debug, Args)]
pub struct ModeArgs {
    /// Enhance hop by hop with the core's streaming enhancer — the code a device runs. Needs
    /// a 512-point FFT and hop 64, 128 or 256. The default for the network methods (dnn,
    /// vae-nmf, nmf-dict-net).
    #[arg(long, conflicts_with = "offline")]
    pub stream: bool,
    /// Enhance the whole utterance's STFT at once (the tables' way). The default for the
    /// multiplicative-update methods (nmf, dnmf, vae-nmf-dict-mu): streamed, they lost 0.3 to
    /// 0.9 dB SDR on mixtures of the bundled set's training files.
    #[arg(long)]
    pub offline: bool,
    /// Multiplicative updates per frame when streaming, warm-started from the previous frame
    /// (1 to 1000; --iterations is the offline fit's). 50 was the best of 5, 20 and 50 on
    /// mixtures of the bundled set's training files.
    #[arg(long, default_value_t = DEFAULT_UPDATES_PER_FRAME, conflicts_with = "offline")]
    pub updates_per_frame: u32,
    /// Overrides the enhancer's gain floor: the smallest gain in dB (−120 to 0; `none` for
    /// no floor). By default the enhancer's own.
    #[arg(long, value_name = "DB|none", allow_negative_numbers = true, value_parser = parse_gain_floor)]
    pub gain_floor: Option<GainFloor>,
}

/// `none`, or a floor in dB.
fn parse_gain_floor(value: &str) -> std::result::Result<GainFloor, String> {
    if value == "none" {
        return Ok(GainFloor::NONE);
    }
    let db: f64 = value
        .parse()
        .map_err(|_| format!("`{value}` is neither `none` nor a number of dB"))?;
    gain_floor_db(db).map_err(|e| e.to_string())
}

impl ModeArgs {
    /// The checked mode.
    pub fn mode(&self) -> Result<Mode> {
        let updates_per_frame = check_updates_per_frame(self.updates_per_frame)?;
        Ok(if self.stream {
            Mode::Stream { updates_per_frame }
        } else if self.offline {
            Mode::Offline
        } else {
            Mode::Default { updates_per_frame }
        })
    }
}

/// `vaenmf speech enhance`.
#[derive(Debug, Args)]
pub struct EnhanceArgs {
    /// Speech enhancer of any method (from `speech train` or `speech table --save-models`);
    /// it carries its own settings. Or give --speech and --noise.
    #[arg(long, conflicts_with_all = ["speech", "noise"], required_unless_present_all = ["speech", "noise"])]
    pub model: Option<PathBuf>,
    /// Speech dictionary (from `speech dict`), for supervised NMF with --noise.
    #[arg(long, requires = "noise")]
    pub speech: Option<PathBuf>,
    /// Noise dictionary, with --speech.
    #[arg(long, requires = "speech")]
    pub noise: Option<PathBuf>,
    /// Noisy recording.
    pub input: PathBuf,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub separation: SeparationArgs,
    /// Resample the input when its rate differs from the enhancer's (else an error); the
    /// enhanced recording is resampled back to the input's rate and length.
    #[arg(long)]
    pub resample: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub mode: ModeArgs,
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
    #[command(flatten)]
    #[allow(missing_docs)]
    pub bss: BssArgs,
    /// JSON report to write.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Spectrograms to draw (PNG): the mixture (reference + noise), the estimate and the
    /// reference, 512-point Hamming STFT, hop 128, on one dB scale.
    #[arg(long, value_name = "PNG")]
    pub plot: Option<PathBuf>,
}

/// How BSS-eval matches the estimate to the references.
#[derive(Debug, Args)]
pub struct BssArgs {
    /// Score with mir_eval's default instead: estimates [estimate, mixture − estimate] and
    /// the permutation with the best mean SIR (by default the estimate is the speech
    /// estimate, no permutation search).
    #[arg(long)]
    pub permutation: bool,
}

impl BssArgs {
    /// The library's setting.
    pub fn assignment(&self) -> Assignment {
        if self.permutation {
            Assignment::Permutation
        } else {
            Assignment::Fixed
        }
    }
}

/// `vaenmf speech eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// `manifest.csv` of a `speech mix` set (use one made from test files only).
    #[arg(long)]
    pub manifest: PathBuf,
    /// Speech enhancer for the manifest's noise NAME, or for every noise without a NAME=
    /// (repeatable; from `speech train` or `speech table --save-models`). Or give --speech
    /// and --noise.
    #[arg(
        long = "model",
        value_name = "[NAME=]ENHANCER",
        value_parser = parse_optionally_named_path,
        conflicts_with_all = ["speech", "noises"],
        required_unless_present_all = ["speech", "noises"]
    )]
    pub models: Vec<(Option<String>, PathBuf)>,
    /// Speech dictionary, for supervised NMF with --noise.
    #[arg(long, requires = "noises")]
    pub speech: Option<PathBuf>,
    /// Noise dictionary per noise of the manifest, NAME=MODEL (repeatable), with --speech.
    #[arg(long = "noise", value_name = "NAME=MODEL", value_parser = parse_named_path, requires = "speech")]
    pub noises: Vec<(String, PathBuf)>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub separation: SeparationArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub mode: ModeArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub bss: BssArgs,
    /// Output folder: eval.json, table.md and spectrograms-NOISE.png (noisy / enhanced /
    /// clean, one mixture per noise).
    #[arg(long)]
    pub out: PathBuf,
}

/// `NAME=PATH`, or a bare `PATH` (an `=` after a path separator belongs to the path).
pub fn parse_optionally_named_path(s: &str) -> Result<(Option<String>, PathBuf), String> {
    match s.split_once('=') {
        Some((name, path)) if !name.contains(['/', '\\']) => {
            if name.is_empty() || path.is_empty() {
                return Err(format!("expected [NAME=]PATH, got {s:?}"));
            }
            Ok((Some(name.to_string()), PathBuf::from(path)))
        }
        _ if s.is_empty() => Err("expected [NAME=]PATH, got an empty value".into()),
        _ => Ok((None, PathBuf::from(s))),
    }
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

/// `NAME=TRAIN.wav:TEST.wav`. Paths may contain `:`: the pair splits at the `:` where both
/// sides name existing files (the last such one), and at the last `:` when none does (the
/// missing file is then reported when it is read).
pub fn parse_noise_pair(s: &str) -> Result<(String, PathBuf, PathBuf), String> {
    let (name, path) = parse_named_path(s)?;
    let text = path.to_string_lossy();
    let usage = || format!("'{s}' is not NAME=TRAIN.wav:TEST.wav");
    let splits: Vec<(&str, &str)> = text
        .match_indices(':')
        .map(|(i, _)| (&text[..i], &text[i + 1..]))
        .filter(|(train, test)| !train.is_empty() && !test.is_empty())
        .collect();
    let (train, test) = splits
        .iter()
        .rev()
        .find(|(train, test)| Path::new(train).is_file() && Path::new(test).is_file())
        .or(splits.last())
        .ok_or_else(usage)?;
    Ok((name, PathBuf::from(train), PathBuf::from(test)))
}

/// `vaenmf speech table`.
#[derive(Debug, Args)]
pub struct TableArgs {
    /// Training utterances: WAV files or folders.
    #[arg(long = "speech-train", required = true, num_args = 1.., value_name = "FILE_OR_DIR")]
    pub speech_train: Vec<PathBuf>,
    /// Test utterances (never used for training): WAV files or folders.
    #[arg(long = "speech-test", required = true, num_args = 1.., value_name = "FILE_OR_DIR")]
    pub speech_test: Vec<PathBuf>,
    /// A noise type as NAME=TRAIN.wav:TEST.wav (repeatable).
    #[arg(long = "noise", required = true, value_name = "NAME=TRAIN:TEST", value_parser = parse_noise_pair)]
    pub noises: Vec<(String, PathBuf, PathBuf)>,
    /// Methods, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = choice::<EnhancerMethod>(),
        default_value = "nmf,dnmf,dnn,vae-nmf,nmf-dict-net,vae-nmf-dict-mu,vae-nmf-e2e"
    )]
    pub methods: Vec<EnhancerMethod>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub training: TrainingArgs,
    /// Skip Table 2 (the pooled noise model).
    #[arg(long)]
    pub no_pooled: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub bss: BssArgs,
    /// Output folder: table.json and table.md.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write every trained enhancer to this folder, as CONDITION-METHOD.vnmf (a noise
    /// name or `pooled`; one per method and condition).
    #[arg(long, value_name = "DIR")]
    pub save_models: Option<PathBuf>,
}

/// The method options of `speech table` and `speech train`.
#[derive(Debug, Args)]
pub struct TrainingArgs {
    /// SNRs in dB of the training (and the tables' test) mixtures, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        default_value = "-5,0,5,10"
    )]
    pub snr: Vec<f64>,
    /// Atoms per dictionary (speech and noise), and latent size of the VAEs.
    #[arg(long, default_value_t = 40)]
    pub rank: usize,
    /// Multiplicative updates of the NMF dictionaries.
    #[arg(long, default_value_t = 200)]
    pub dict_iterations: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub separation: SeparationArgs,
    /// Smallest gain of the enhancers, dB (−120 to 0; `none` for no floor): no bin is
    /// attenuated by more. Stored in the enhancer file.
    #[arg(long, value_name = "DB|none", allow_negative_numbers = true, value_parser = parse_gain_floor, default_value = "none")]
    pub gain_floor: GainFloor,
    /// DNMF divergence between clean speech and estimate.
    #[arg(long, value_parser = choice::<NmfLoss>(), default_value = "euclidean")]
    pub dnmf_loss: NmfLoss,
    /// DNMF multiplicative updates of the reconstruction bases.
    #[arg(long, default_value_t = 25)]
    pub dnmf_iterations: usize,
    /// Hidden widths of the mask DNN and the activation networks.
    #[arg(long, value_delimiter = ',', default_value = "500,500,500")]
    pub net_hidden: Vec<usize>,
    /// Frames before the current one in the networks' input.
    #[arg(long, default_value_t = 1)]
    pub net_context: usize,
    /// Frames after the current one in the networks' input: each adds a hop to the streaming
    /// latency; 0 trains causal networks.
    #[arg(long, default_value_t = 1)]
    pub look_ahead: usize,
    /// Epochs of the networks.
    #[arg(long, default_value_t = 10)]
    pub net_epochs: usize,
    /// Minibatch of the networks.
    #[arg(long, default_value_t = 256)]
    pub net_batch_size: usize,
    /// Adam learning rate of the networks.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-3)]
    pub net_lr: f64,
    /// Adam weight decay of the networks (1e-4: chosen on a validation split of the training
    /// files, see docs/BENCHMARKS.md).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-4)]
    pub net_weight_decay: f64,
    /// Epochs of vae-nmf-e2e's fine-tuning of the activation network through the
    /// dictionaries and the gain (the epoch kept is chosen on the last tenth of the training
    /// frames).
    #[arg(long, default_value_t = 10)]
    pub e2e_epochs: usize,
    /// Adam learning rate of that fine-tuning.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-4)]
    pub e2e_lr: f64,
    /// Weight γ of the discriminative term of the mask DNN and of vae-nmf-e2e's fine-tuning.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.05)]
    pub dnn_gamma: f64,
    /// VAE-NMF encoder hidden widths.
    #[arg(long, default_value = "400,400", value_parser = parse_hidden)]
    pub vae_hidden: (usize, usize),
    /// VAE-NMF maximum epochs.
    #[arg(long, default_value_t = 30)]
    pub vae_epochs: usize,
    /// VAE-NMF prior shape α₀.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub alpha0: f64,
    /// VAE-NMF Adam learning rate.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-3)]
    pub vae_lr: f64,
    /// Seed of every random choice (noise segments, initialisations, data order).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Backend of the networks.
    #[arg(long, value_parser = choice::<Backend>(), default_value = "flex")]
    pub backend: Backend,
    /// Repeat a noise recording shorter than an utterance (otherwise an error).
    #[arg(long)]
    pub loop_noise: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub front_end: FrontEndArgs,
    /// Resample files at another rate (otherwise they are an error).
    #[arg(long)]
    pub resample: bool,
}

/// `vaenmf speech train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Method.
    #[arg(long, value_parser = choice::<EnhancerMethod>())]
    pub method: EnhancerMethod,
    /// Training utterances: WAV files or folders.
    #[arg(long = "speech-train", required = true, num_args = 1.., value_name = "FILE_OR_DIR")]
    pub speech_train: Vec<PathBuf>,
    /// A training noise as NAME=TRAIN.wav (repeatable: several make one pooled noise model).
    #[arg(long = "noise", required = true, value_name = "NAME=TRAIN.wav", value_parser = parse_named_path)]
    pub noises: Vec<(String, PathBuf)>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub training: TrainingArgs,
    /// Enhancer file to write.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// JSON report to write (settings, training curves, seconds).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

impl TableArgs {
    /// Every setting, checked.
    pub fn config(&self) -> Result<TableConfig> {
        let mut methods = self.methods.clone();
        methods.sort();
        methods.dedup();
        self.training
            .config(methods, !self.no_pooled, self.bss.assignment())
    }
}

impl TrainingArgs {
    /// Every setting, checked, for `methods`.
    pub fn config(
        &self,
        methods: Vec<EnhancerMethod>,
        pooled: bool,
        assignment: Assignment,
    ) -> Result<TableConfig> {
        crate::speech::front_end::mix::check_snrs(&self.snr)?;
        let separation = self.separation.config()?;
        Ok(TableConfig {
            methods,
            snrs: self.snr.clone(),
            front_end: self.front_end.front_end()?,
            dictionary: NmfConfig {
                rank: self.rank,
                loss: NmfLoss::Frobenius,
                sparsity: 0.0,
                init: NmfInit::Random,
                iterations: self.dict_iterations,
                tol: 0.0,
                restarts: 1,
                seed: self.seed,
            }
            .check()?,
            dnmf: DnmfConfig {
                loss: self.dnmf_loss,
                iterations: self.dnmf_iterations,
                gain_exponent: separation.gain_exponent,
            }
            .check()?,
            separation,
            gain_floor: self.gain_floor,
            net: NetConfig {
                hidden: self.net_hidden.clone(),
                context: self.net_context,
                look_ahead: self.look_ahead,
                epochs: self.net_epochs,
                batch_size: self.net_batch_size,
                lr: self.net_lr,
                weight_decay: self.net_weight_decay,
                e2e_epochs: self.e2e_epochs,
                e2e_lr: self.e2e_lr,
                seed: self.seed,
            }
            .check()?,
            dnn_gamma: {
                crate::params::nonnegative("dnn-gamma", self.dnn_gamma)?;
                self.dnn_gamma
            },
            vae: VaeTrainConfig {
                hidden: self.vae_hidden,
                rank: self.rank,
                alpha0: self.alpha0,
                sigma: None,
                poisson: false,
                boost: 1,
                gamma: 1000.0,
                nonneg: Nonneg::Penalty,
                decoder_steps: DecoderSteps::Adam,
                lr: self.vae_lr,
                weight_decay: 5e-4,
                batch_size: 128,
                epochs: self.vae_epochs,
                validation: 0.1,
                patience: 10,
                floor: f64::from(crate::export::DEFAULT_FLOOR),
                seed: self.seed,
                backend: self.backend,
                checkpoint_every: 0,
                checkpoint_dir: None,
                resume: None,
            }
            .check()?,
            seed: self.seed,
            loop_noise: self.loop_noise,
            pooled,
            backend: self.backend,
            assignment,
        })
    }
}
