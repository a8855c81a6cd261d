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
use crate::plots::SpectrogramPanel;
use crate::speech::experiment::eval::{example_magnitudes, examples, markdown, score, summarise};
use crate::speech::front_end::audio::{read_at_rate, resample, wav_bytes, WavFormat};
use crate::speech::front_end::manifest::{manifest_text, read_manifest, ManifestEntry};
use crate::speech::front_end::mix::{mix, snr_db, Named};
use crate::speech::front_end::stft::describe;
use crate::speech::methods::dictionary::learn;
use crate::speech::methods::separate::Separator;
use crate::speech::metrics::speech_metrics;

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
        SpeechCommand::Table(args) => table_command(args),
    }
}

fn dict_command(args: &DictArgs) -> Result<()> {
    let (loss, sparsity) = match args.method {
        Method::Nmf => (NmfLoss::Frobenius, 0.0),
        Method::NmfKl => (NmfLoss::KullbackLeibler, 0.0),
        Method::SparseNmf => (NmfLoss::Frobenius, args.sparsity),
        Method::VaeNmf => bail!(
            "--method vae-nmf: VAE-NMF spectrogram dictionaries are trained inside `vaenmf speech table` and not yet written as models; use nmf, nmf-kl or sparse-nmf here"
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

fn enhance_command(args: &EnhanceArgs) -> Result<()> {
    let mode = args.mode.mode()?;
    let sep = separator(&args.speech, &args.noise, &args.separation)?;
    let rate = sep.front_end().sample_rate;
    let noisy = load(&args.input, rate, args.resample)?;
    let started = std::time::Instant::now();
    let speech = mode
        .enhance(&sep, &noisy)
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
    if reference.len() != estimate.len() || reference.len() != noise.len() {
        bail!(
            "lengths differ: reference {} has {} samples, noise {} has {}, estimate {} has {}",
            args.reference.display(),
            reference.len(),
            args.noise.display(),
            noise.len(),
            args.estimate.display(),
            estimate.len()
        );
    }
    let assignment = args.bss.assignment();
    let m = speech_metrics(&reference, &noise, &[&estimate], rate, assignment)?[0];
    let mut json = serde_json::to_value(m)?;
    json["bss_eval_assignment"] = serde_json::to_value(assignment)?;
    json["definitions"] = serde_json::json!({
        "bss_eval": format!("v3, mir_eval.separation.bss_eval_sources semantics (512-tap filters): {}, dB", assignment.describe()),
        "pesq_nb": "ITU-T P.862 on the signals decimated to 8 kHz (pesq crate, checked against the ITU code); MOS-LQO by P.862.1",
        "pesq_wb": "ITU-T P.862.2 MOS-LQO at 16 kHz",
        "stoi": "Taal et al. 2011; estoi: Jensen & Taal 2016 (pystoi's processing)",
    });
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
    if let Some(report) = &args.report {
        crate::output::write_atomic(report, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    Ok(())
}

fn eval_command(args: &EvalArgs) -> Result<()> {
    let mode = args.mode.mode()?;
    let rows = read_manifest(&args.manifest)?;
    if rows.is_empty() {
        bail!("{}: the manifest lists no mixtures", args.manifest.display());
    }
    let mut separators = BTreeMap::new();
    for (name, model) in &args.noises {
        separators.insert(name.clone(), separator(&args.speech, model, &args.separation)?);
    }
    let bar = ProgressBar::new(rows.len() as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} [{elapsed}]")
            .unwrap_or(ProgressStyle::default_bar()),
    );
    bar.set_message("mixtures");
    let started = std::time::Instant::now();
    let assignment = args.bss.assignment();
    let scores = score(&rows, &separators, mode, 2.0, assignment, || bar.inc(1))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let summary = summarise(&scores);
    let table = format!(
        "BSS-eval, every row: {}.\n\n{}",
        assignment.describe(),
        markdown(&summary, &format!("NMF ({})", mode.describe()))
    );
    let mut set = OutputSet::new();
    let mut plots = Vec::new();
    for row in examples(&rows) {
        let [noisy, enhanced, clean] = example_magnitudes(row, &separators[&row.noise])?;
        let bins = separators[&row.noise].front_end().bins() as usize;
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
                panel(format!("supervised NMF: {mixture}"), &enhanced),
                panel(format!("clean: {}", row.utterance), &clean),
            ],
        )?;
        plots.push(path);
    }
    let json = serde_json::json!({
        "manifest": args.manifest,
        "speech": args.speech,
        "noises": args.noises.iter().map(|(n, p)| (n.clone(), p.clone())).collect::<BTreeMap<_, _>>(),
        "separation": *args.separation.config()?,
        "mode": mode,
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

fn table_command(args: &TableArgs) -> Result<()> {
    use crate::choice::Choice;
    use crate::speech::experiment::config::{Event, NoiseSource, Sources};
    use crate::speech::experiment::report;
    use crate::speech::experiment::table::run;
    let cfg = args.config()?;
    let rate = cfg.front_end.sample_rate;
    let sources = Sources {
        speech_train: named(&wav_files(&args.speech_train)?, rate, args.resample)?,
        speech_test: named(&wav_files(&args.speech_test)?, rate, args.resample)?,
        noises: args
            .noises
            .iter()
            .map(|(name, train, test)| {
                Ok(NoiseSource {
                    name: name.clone(),
                    train: load(train, rate, args.resample)?,
                    test: load(test, rate, args.resample)?,
                })
            })
            .collect::<Result<Vec<_>>>()?,
    };
    let mut names: Vec<&str> = sources.noises.iter().map(|n| n.name.as_str()).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!("--noise {} is given twice", w[0]);
    }
    let bar = ProgressBar::new(1).with_style(
        ProgressStyle::with_template("{msg:48} {bar:30} {pos}/{len} [{elapsed}]")
            .unwrap_or(ProgressStyle::default_bar()),
    );
    // Without a terminal the bar is hidden: log the stages with their start times instead.
    let log_stages = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let started = std::time::Instant::now();
    let on = |e: Event| match e {
        Event::Stage { name, total } => {
            if log_stages {
                eprintln!("[{:7.1} s] {name}", started.elapsed().as_secs_f64());
            }
            bar.set_message(name.to_string());
            bar.set_length(total as u64);
            bar.set_position(0);
            bar.reset_elapsed();
        }
        Event::Step(done) => bar.set_position(done as u64),
    };
    let result = run(&sources, &cfg, &on)?;
    bar.finish_and_clear();
    let settings = serde_json::json!({
        "methods": cfg.methods.iter().map(|m| m.name()).collect::<Vec<_>>(),
        "snrs": cfg.snrs,
        "front_end": cfg.front_end,
        "dictionary": &*cfg.dictionary,
        "separation": &*cfg.separation,
        "dnmf": &*cfg.dnmf,
        "net": &*cfg.net,
        "dnn_gamma": cfg.dnn_gamma,
        "vae": &*cfg.vae,
        "seed": cfg.seed,
        "loop_noise": cfg.loop_noise,
        "speech_train": sources.speech_train.iter().map(|u| &u.name).collect::<Vec<_>>(),
        "speech_test": sources.speech_test.iter().map(|u| &u.name).collect::<Vec<_>>(),
        "noises": args.noises,
    });
    let json = report::json(&result, settings);
    let mut set = OutputSet::new();
    set.add(
        &args.out.join("table.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    set.add(&args.out.join("table.md"), report::markdown(&result).as_bytes())?;
    set.commit()?;
    for (title, results) in [("Table 1", &result.table1), ("Table 2", &result.table2)] {
        if results.is_empty() {
            continue;
        }
        let table = report::table_of(results);
        let line: Vec<String> = report::METHOD_ORDER
            .iter()
            .filter_map(|m| {
                table
                    .get(*m)
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
