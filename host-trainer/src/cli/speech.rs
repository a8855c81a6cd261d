//! `vaenmf speech …`: the speech-enhancement commands (arguments in [`super::speech_args`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use std::collections::BTreeMap;

use indicatif::{ProgressBar, ProgressStyle};

use super::warn;
use crate::export::read_blob;
use crate::nmf::{NmfConfig, NmfLoss};
use crate::output::OutputSet;
use crate::pipeline::Method;
use crate::plots::{SpectrogramPanel, SpectrogramScale};
use crate::speech::experiment::config::{Event, NoiseSource, Sources, TableConfig};
use crate::speech::experiment::enhancer_training::train_enhancers;
use crate::speech::experiment::eval::{example_magnitudes, examples, markdown, score, summarise};
use crate::speech::front_end::audio::{read_at_rate, resample, wav_bytes, WavFormat};
use crate::speech::front_end::manifest::ManifestRow;
use crate::speech::front_end::manifest::{manifest_text, read_manifest, ManifestEntry};
use crate::speech::front_end::mix::{mix, snr_db, Named};
use crate::speech::front_end::stft::{describe, Stft, StftConfig};
use crate::speech::methods::dictionary::learn;
use crate::speech::methods::enhancer::{describe_enhancer, enhancer_summary, floor_db, Enhancer};
use crate::speech::methods::separate::Separator;
use crate::speech::methods::streaming::Mode;
use crate::speech::metrics::bss_eval::Assignment;
use crate::speech::metrics::report::metrics_report;

pub use super::speech_args::*;

/// The `*.wav` paths among a folder's `entries`. An entry that cannot be read is an error
/// naming the folder: a training or test set never loses a file without a word.
pub fn wav_entries(
    dir: &Path,
    entries: impl IntoIterator<Item = std::io::Result<PathBuf>>,
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let path = entry.with_context(|| format!("{}: cannot read folder entry {}", dir.display(), i + 1))?;
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")) {
            files.push(path);
        }
    }
    Ok(files)
}

/// The WAV files named, folders expanded to their *.wav files sorted by name.
pub fn wav_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let entries =
                std::fs::read_dir(input).with_context(|| format!("{}: cannot list", input.display()))?;
            let mut files = wav_entries(input, entries.map(|e| e.map(|e| e.path())))?;
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
        SpeechCommand::Dict(args) => dict_command(args),
        SpeechCommand::Enhance(args) => enhance_command(args),
        SpeechCommand::Metrics(args) => metrics_command(args),
        SpeechCommand::Eval(args) => eval_command(args),
        SpeechCommand::Train(args) => train_command(args),
        SpeechCommand::Table(args) => table_command(args),
    }
}

fn dict_command(args: &DictArgs) -> Result<()> {
    let (loss, sparsity) = match args.method {
        Method::Nmf => (NmfLoss::Frobenius, 0.0),
        Method::NmfKl => (NmfLoss::KullbackLeibler, 0.0),
        Method::SparseNmf => (NmfLoss::Frobenius, args.sparsity),
        Method::VaeNmf => bail!(
            "--method vae-nmf: a VAE-NMF dictionary comes with its activation network: train the enhancer with `vaenmf speech train --method vae-nmf` (or nmf-kl, sparse-nmf dictionaries here)"
        ),
    };
    let f = &args.front_end;
    let front_end = f.front_end()?;
    let params = NmfConfig {
        rank: args.rank,
        loss,
        sparsity,
        init: args.init,
        iterations: args.iterations,
        tol: 0.0,
        restarts: 1,
        seed: args.seed,
    }
    .check()?;
    let files = wav_files(&args.inputs)?;
    let signals = files
        .iter()
        .map(|p| load(p, f.rate, args.resample))
        .collect::<Result<Vec<_>>>()?;
    let bar = ProgressBar::new(args.iterations as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} [{elapsed}]")
            .unwrap_or(ProgressStyle::default_bar()),
    );
    bar.set_message("dictionary");
    let started = std::time::Instant::now();
    let (blob, fit) = learn(&signals, &front_end, &params, |_, it| bar.set_position(it as u64))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let frames = fit.z.len() / args.rank;
    let mut set = OutputSet::new();
    set.add(&args.out, &blob.to_bytes()?)?;
    if let Some(report) = &args.report {
        let json = serde_json::json!({
            "method": args.method,
            "nmf": *params,
            "front_end": front_end,
            "files": files,
            "frames": frames,
            "objective": fit.objective,
            "iterations": fit.iterations,
            "seconds": seconds,
        });
        set.add(report, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    set.commit()?;
    println!(
        "{}: rank-{} dictionary of {} bins from {} files ({frames} frames; {}), objective {:.6e}, {seconds:.1} s",
        args.out.display(),
        args.rank,
        front_end.bins(),
        files.len(),
        describe(&front_end),
        fit.objective
    );
    Ok(())
}

fn separator(speech: &Path, noise: &Path, args: &SeparationArgs) -> Result<Separator> {
    let named =
        |p: &Path| read_blob(p).with_context(|| format!("{}: cannot use as a dictionary", p.display()));
    Separator::new(&named(speech)?, &named(noise)?, &args.config()?)
        .with_context(|| format!("{} with {}", speech.display(), noise.display()))
}

/// The enhancer of `--model`, or supervised NMF from `--speech` and `--noise`.
fn enhancer_of(
    model: Option<&Path>,
    dictionaries: Option<(&Path, &Path)>,
    args: &SeparationArgs,
) -> Result<Enhancer> {
    match (model, dictionaries) {
        (Some(path), _) => Enhancer::load(path),
        (None, Some((speech, noise))) => Enhancer::from_separator(&separator(speech, noise, args)?),
        (None, None) => bail!("give --model, or --speech and --noise"),
    }
}

fn enhance_command(args: &EnhanceArgs) -> Result<()> {
    let mode = args.mode.mode()?;
    let dictionaries = args.speech.as_deref().zip(args.noise.as_deref());
    let mut enhancer = enhancer_of(args.model.as_deref(), dictionaries, &args.separation)?;
    if let Some(floor) = args.mode.gain_floor {
        enhancer = enhancer.with_gain_floor(floor);
    }
    let rate = enhancer.blob().front_end.sample_rate;
    let noisy = load(&args.input, rate, args.resample)?;
    let started = std::time::Instant::now();
    let speech = mode
        .enhance(&enhancer, &noisy)
        .with_context(|| format!("{}", args.input.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    // A resampled input is given back at its own rate and length.
    let (input_rate, input_len) = hound::WavReader::open(&args.input)
        .map(|r| (r.spec().sample_rate, r.duration() as usize))
        .with_context(|| format!("{}", args.input.display()))?;
    let (speech, out_rate) = if input_rate == rate {
        (speech, rate)
    } else {
        let mut back = resample(&speech, rate, input_rate)
            .with_context(|| format!("{}: back to {input_rate} Hz", args.out.display()))?;
        back.resize(input_len, 0.0);
        warn(&format!(
            "{}: resampled back from {rate} Hz to the input's {input_rate} Hz",
            args.out.display()
        ));
        (back, input_rate)
    };
    crate::output::write_atomic(&args.out, &wav_bytes(&speech, out_rate, WavFormat::Float32)?)?;
    let audio = noisy.len() as f64 / f64::from(rate);
    println!(
        "{}: {audio:.2} s enhanced in {seconds:.3} s ({:.0}× real time)",
        args.out.display(),
        audio / seconds.max(1e-9)
    );
    Ok(())
}

fn metrics_command(args: &MetricsArgs) -> Result<()> {
    let read = |p: &Path| -> Result<(Vec<f32>, u32)> {
        let (audio, _) = crate::speech::front_end::audio::read_wav(p)?;
        Ok((audio.samples, audio.rate))
    };
    let (reference, rate) = read(&args.reference)?;
    let (noise, noise_rate) = read(&args.noise)?;
    let (estimate, estimate_rate) = read(&args.estimate)?;
    if noise_rate != rate || estimate_rate != rate {
        bail!("sample rates differ: reference {rate} Hz, noise {noise_rate} Hz, estimate {estimate_rate} Hz");
    }
    let assignment = args.bss.assignment();
    let names = [&args.reference, &args.noise, &args.estimate].map(|p| p.display().to_string());
    let (m, json) = metrics_report(
        &reference,
        &noise,
        &estimate,
        rate,
        assignment,
        names.each_ref().map(String::as_str),
    )?;
    println!(
        "SDR {:.3} dB  SIR {:.3} dB  SAR {:.3} dB  PESQ-NB {:.3} (raw {:.3})  PESQ-WB {}  STOI {:.4}  ESTOI {:.4}{}",
        m.sdr,
        m.sir,
        m.sar,
        m.pesq_nb_mos_lqo,
        m.pesq_nb_raw,
        m.pesq_wb.map_or("–".into(), |v| format!("{v:.3}")),
        m.stoi,
        m.estoi,
        if m.permuted { "  (BSS-eval's permutation search swapped the estimates)" } else { "" }
    );
    let mut set = OutputSet::new();
    if let Some(report) = &args.report {
        set.add(report, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    if let Some(plot) = &args.plot {
        let mixture: Vec<f32> = reference.iter().zip(&noise).map(|(s, n)| s + n).collect();
        let stft = Stft::new(&StftConfig::default().check()?);
        let bins = stft.config().bins();
        let [mixture, estimate_mag, reference_mag] =
            [&mixture, &estimate, &reference].map(|s| stft.forward(s).magnitude(1.0));
        let name = |p: &Path| {
            p.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        };
        let panel = |title: String, magnitude| SpectrogramPanel {
            title,
            magnitude,
            bins,
        };
        crate::plots::spectrograms(
            &mut set,
            plot,
            &[
                panel(
                    format!("mixture: {} + {}", name(&args.reference), name(&args.noise)),
                    &mixture,
                ),
                panel(format!("estimate: {}", name(&args.estimate)), &estimate_mag),
                panel(format!("reference: {}", name(&args.reference)), &reference_mag),
            ],
            SpectrogramScale {
                frame_seconds: 128.0 / f64::from(rate),
                nyquist_hz: f64::from(rate) / 2.0,
            },
        )?;
    }
    set.commit()
}

fn eval_command(args: &EvalArgs) -> Result<()> {
    let mode = args.mode.mode()?;
    let rows = read_manifest(&args.manifest)?;
    if rows.is_empty() {
        bail!("{}: the manifest lists no mixtures", args.manifest.display());
    }
    let mut enhancers = eval_enhancers(args, &rows)?;
    if let Some(floor) = args.mode.gain_floor {
        enhancers = enhancers
            .into_iter()
            .map(|(name, e)| (name, e.with_gain_floor(floor)))
            .collect();
    }
    let bar = ProgressBar::new(rows.len() as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} [{elapsed}]")
            .unwrap_or(ProgressStyle::default_bar()),
    );
    bar.set_message("mixtures");
    let started = std::time::Instant::now();
    let assignment = args.bss.assignment();
    let scores = score(&rows, &enhancers, mode, 2.0, assignment, || bar.inc(1))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let summary = summarise(&scores);
    let table = format!(
        "BSS-eval, every row: {}.\n\n{}",
        assignment.describe(),
        markdown(
            &summary,
            &format!(
                "{} ({})",
                method_title(&enhancers),
                resolved_mode(&enhancers, mode)
                    .describe(enhancers.values().any(|e| e.blob().method.has_fit()))
            )
        )
    );
    let mut set = OutputSet::new();
    let mut plots = Vec::new();
    for row in examples(&rows) {
        let enhancer = &enhancers[&row.noise];
        let [noisy, enhanced, clean] = example_magnitudes(row, enhancer, mode)?;
        let bins = enhancer.blob().bins() as usize;
        let front_end = enhancer.blob().front_end;
        let panel = |title: String, magnitude| SpectrogramPanel {
            title,
            magnitude,
            bins,
        };
        let mixture = format!("{} + {} at {} dB", row.utterance, row.noise, row.snr_db);
        let path = args.out.join(format!("spectrograms-{}.png", row.noise));
        crate::plots::spectrograms(
            &mut set,
            &path,
            &[
                panel(format!("noisy: {mixture}"), &noisy),
                panel(format!("{}: {mixture}", enhancer.blob().method.name()), &enhanced),
                panel(format!("clean: {}", row.utterance), &clean),
            ],
            SpectrogramScale {
                frame_seconds: f64::from(front_end.hop) / f64::from(front_end.sample_rate),
                nyquist_hz: f64::from(front_end.sample_rate) / 2.0,
            },
        )?;
        plots.push(path);
    }
    let json = serde_json::json!({
        "manifest": args.manifest,
        "speech": args.speech,
        "noises": args.noises.iter().map(|(n, p)| (n.clone(), p.clone())).collect::<BTreeMap<_, _>>(),
        "models": args.models.iter().map(|(n, p)| (n.clone().unwrap_or_else(|| "*".into()), p.clone())).collect::<BTreeMap<_, _>>(),
        "methods": enhancers.iter().map(|(n, e)| (n.clone(), e.blob().method.name())).collect::<BTreeMap<_, _>>(),
        "gain_floor_db": enhancers.iter().map(|(n, e)| (n.clone(), e.blob().floor().ok().and_then(floor_db))).collect::<BTreeMap<_, _>>(),
        "separation": args.models.is_empty().then_some(*args.separation.config()?),
        "mode": resolved_mode(&enhancers, mode),
        "oracle_gain_exponent": 2.0,
        "bss_eval_assignment": assignment,
        "bss_eval": assignment.describe(),
        "metrics": "BSS-eval v3 (mir_eval bss_eval_sources semantics, dB); PESQ NB = P.862 at 8 kHz after decimation (MOS-LQO P.862.1), PESQ WB = P.862.2; STOI / ESTOI",
        "seconds": seconds,
        "summary": summary,
        "plots": plots,
        "mixtures": scores,
    });
    set.add(
        &args.out.join("eval.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    set.add(&args.out.join("table.md"), table.as_bytes())?;
    set.commit()?;
    print!("{table}");
    println!(
        "wrote {} and {}",
        args.out.join("eval.json").display(),
        args.out.join("table.md").display()
    );
    Ok(())
}

/// Every manifest noise's enhancer: `--model NAME=…` for its noise, a bare `--model …` for
/// the others; or supervised NMF from `--speech` and each `--noise NAME=…`.
fn eval_enhancers(args: &EvalArgs, rows: &[ManifestRow]) -> Result<BTreeMap<String, Enhancer>> {
    let mut enhancers = BTreeMap::new();
    if args.models.is_empty() {
        let speech = args
            .speech
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("give --model, or --speech and --noise"))?;
        for (name, model) in &args.noises {
            let sep = separator(speech, model, &args.separation)?;
            enhancers.insert(name.clone(), Enhancer::from_separator(&sep)?);
        }
        return Ok(enhancers);
    }
    let mut every = None;
    for (name, path) in &args.models {
        match name {
            Some(name) => {
                if enhancers.insert(name.clone(), Enhancer::load(path)?).is_some() {
                    bail!("--model {name}=… is given twice");
                }
            }
            None if every.is_some() => bail!("--model without a NAME= is given twice"),
            None => every = Some(path),
        }
    }
    if let Some(path) = every {
        for row in rows {
            if !enhancers.contains_key(&row.noise) {
                enhancers.insert(row.noise.clone(), Enhancer::load(path)?);
            }
        }
    }
    Ok(enhancers)
}

/// The mode the enhancers ran in: `mode` resolved for their method (all of one method; else
/// `mode` as given).
fn resolved_mode(enhancers: &BTreeMap<String, Enhancer>, mode: Mode) -> Mode {
    let mut methods = enhancers.values().map(|e| e.blob().method);
    match methods.next() {
        Some(first) if methods.all(|m| m == first) => mode.resolve(first),
        _ => mode,
    }
}

/// The methods of the enhancers, for a table's title.
fn method_title(enhancers: &BTreeMap<String, Enhancer>) -> String {
    let mut names: Vec<&str> = enhancers.values().map(|e| e.blob().method.name()).collect();
    names.sort();
    names.dedup();
    names.join(", ")
}

fn mix_command(args: &MixArgs) -> Result<()> {
    crate::params::within(
        "rate",
        args.rate as usize,
        1,
        crate::params::limits::SAMPLE_RATE as usize,
    )?;
    crate::speech::front_end::mix::check_snrs(&args.snr)?;
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
    let mixtures = mix(&utterances, &noises, &args.snr, args.seed, args.loop_noise)?;
    let mut set = OutputSet::new();
    let mut files = Vec::with_capacity(mixtures.len());
    for m in &mixtures {
        let (utt, noise) = (&utterances[m.utterance].name, &noises[m.noise].name);
        let dir = PathBuf::from(noise).join(format!("{}dB", m.snr_db));
        let rel = ["clean", "noise", "noisy"].map(|kind| dir.join(format!("{utt}.{kind}.wav")));
        for (path, samples) in rel.iter().zip([&m.clean, &m.noise_part, &m.noisy]) {
            set.add(
                &args.out.join(path),
                &wav_bytes(samples, args.rate, WavFormat::Float32)?,
            )?;
        }
        files.push(rel);
        debug_assert!((snr_db(&m.clean, &m.noise_part) - m.snr_db).abs() < 1e-3);
    }
    let entries: Vec<ManifestEntry> = mixtures
        .iter()
        .zip(&files)
        .map(|(m, rel)| ManifestEntry {
            utterance: &utterances[m.utterance].name,
            noise: &noises[m.noise].name,
            segment_start: m.segment_start,
            snr_db: m.snr_db,
            files: [&rel[0], &rel[1], &rel[2]],
        })
        .collect();
    set.add(&args.out.join("manifest.csv"), &manifest_text(&entries)?)?;
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

fn named(files: &[PathBuf], rate: u32, resample: bool) -> Result<Vec<Named>> {
    files
        .iter()
        .map(|p| {
            Ok(Named {
                name: stem(p),
                samples: load(p, rate, resample)?,
            })
        })
        .collect()
}

/// Progress of a long training run: a bar on a terminal; without one, each stage's name and
/// start time on stderr.
struct Stages {
    bar: ProgressBar,
    log: bool,
    started: std::time::Instant,
}

impl Stages {
    fn new() -> Self {
        Self {
            bar: ProgressBar::new(1).with_style(
                ProgressStyle::with_template("{msg:48} {bar:30} {pos}/{len} [{elapsed}]")
                    .unwrap_or(ProgressStyle::default_bar()),
            ),
            log: !std::io::IsTerminal::is_terminal(&std::io::stderr()),
            started: std::time::Instant::now(),
        }
    }

    fn on(&self, e: Event) {
        match e {
            Event::Stage { name, total } => {
                if self.log {
                    eprintln!("[{:7.1} s] {name}", self.started.elapsed().as_secs_f64());
                }
                self.bar.set_message(name.to_string());
                self.bar.set_length(total as u64);
                self.bar.set_position(0);
                self.bar.reset_elapsed();
            }
            Event::Step(done) => self.bar.set_position(done as u64),
        }
    }
}

/// The settings of a training run, for reports.
fn settings_json(cfg: &TableConfig, sources: &Sources) -> serde_json::Value {
    serde_json::json!({
        "methods": cfg.methods.iter().map(|m| m.name()).collect::<Vec<_>>(),
        "snrs": cfg.snrs,
        "front_end": cfg.front_end,
        "dictionary": &*cfg.dictionary,
        "separation": &*cfg.separation,
        "gain_floor_db": floor_db(cfg.gain_floor),
        "dnmf": &*cfg.dnmf,
        "net": &*cfg.net,
        "dnn_gamma": cfg.dnn_gamma,
        "vae": &*cfg.vae,
        "seed": cfg.seed,
        "loop_noise": cfg.loop_noise,
        "speech_train": sources.speech_train.iter().map(|u| &u.name).collect::<Vec<_>>(),
        "speech_test": sources.speech_test.iter().map(|u| &u.name).collect::<Vec<_>>(),
    })
}

/// Refuses a noise name given twice.
fn check_unique_noises(sources: &Sources) -> Result<()> {
    let mut names: Vec<&str> = sources.noises.iter().map(|n| n.name.as_str()).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!("--noise {} is given twice", w[0]);
    }
    Ok(())
}

fn train_command(args: &TrainArgs) -> Result<()> {
    let cfg = args
        .training
        .config(vec![args.method], false, Assignment::Fixed)?;
    let rate = cfg.front_end.sample_rate;
    let sources = Sources {
        speech_train: named(&wav_files(&args.speech_train)?, rate, args.training.resample)?,
        speech_test: Vec::new(),
        noises: args
            .noises
            .iter()
            .map(|(name, train)| {
                Ok(NoiseSource {
                    name: name.clone(),
                    train: load(train, rate, args.training.resample)?,
                    test: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>>>()?,
    };
    check_unique_noises(&sources)?;
    let stages = Stages::new();
    let (trained, report) = train_enhancers(&sources, &cfg, &|e| stages.on(e))?;
    stages.bar.finish_and_clear();
    let blob = &trained
        .first()
        .ok_or_else(|| anyhow::anyhow!("internal: no enhancer trained"))?
        .blob;
    let mut set = OutputSet::new();
    set.add(&args.out, &blob.to_bytes()?)?;
    if let Some(path) = &args.report {
        let mut settings = settings_json(&cfg, &sources);
        settings["noises"] = serde_json::to_value(&args.noises)?;
        let json = serde_json::json!({
            "settings": settings,
            "enhancer": enhancer_summary(blob),
            "report": report,
        });
        set.add(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    set.commit()?;
    println!(
        "{}: {} enhancer, {} ({:.0} s)",
        args.out.display(),
        blob.method.name(),
        describe_enhancer(blob),
        stages.started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn table_command(args: &TableArgs) -> Result<()> {
    use crate::speech::experiment::report;
    use crate::speech::experiment::table::run;
    let cfg = args.config()?;
    let rate = cfg.front_end.sample_rate;
    let resample = args.training.resample;
    let sources = Sources {
        speech_train: named(&wav_files(&args.speech_train)?, rate, resample)?,
        speech_test: named(&wav_files(&args.speech_test)?, rate, resample)?,
        noises: args
            .noises
            .iter()
            .map(|(name, train, test)| {
                Ok(NoiseSource {
                    name: name.clone(),
                    train: load(train, rate, resample)?,
                    test: load(test, rate, resample)?,
                })
            })
            .collect::<Result<Vec<_>>>()?,
    };
    check_unique_noises(&sources)?;
    let stages = Stages::new();
    let result = run(&sources, &cfg, &|e| stages.on(e))?;
    stages.bar.finish_and_clear();
    let mut settings = settings_json(&cfg, &sources);
    settings["noises"] = serde_json::to_value(&args.noises)?;
    let json = report::json(&result, settings);
    let mut set = OutputSet::new();
    set.add(
        &args.out.join("table.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    set.add(&args.out.join("table.md"), report::markdown(&result).as_bytes())?;
    if let Some(dir) = &args.save_models {
        for condition in result.table1.iter().chain(&result.table2) {
            for (method, blob) in &condition.enhancers {
                let path = dir.join(format!("{}-{}.vnmf", condition.condition, method.name()));
                set.add(&path, &blob.to_bytes()?)?;
            }
        }
    }
    set.commit()?;
    for (title, results) in [("Table 1", &result.table1), ("Table 2", &result.table2)] {
        if results.is_empty() {
            continue;
        }
        let table = report::table_of(results);
        let line: Vec<String> = report::method_order()
            .into_iter()
            .filter_map(|m| {
                table
                    .get(m)
                    .and_then(|rows| rows.get("average"))
                    .map(|v| format!("{m} {:.2}", v.sdr))
            })
            .collect();
        println!("{title} average SDR (dB): {}", line.join(", "));
    }
    println!(
        "{}: table.json, table.md ({:.0} s)",
        args.out.display(),
        result.seconds
    );
    Ok(())
}
