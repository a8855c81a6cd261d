//! The commands: check the arguments, call the library, print what happened.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::args::{DataArgs, EvalArgs, RankArgs, SynthArgs, TrainArgs};
use super::warn;
use crate::arrange::Order;
use crate::choice::Choice;
use crate::data::prepare::{Prepared, Scaling, TestSpec};
use crate::data::synth::{synthesize, SynthConfig};
use crate::eval::{choose_rank, fit_metrics, load_synergies, RankPoint, Synergies};
use crate::export::{blob_synergies, read_blob};
use crate::nmf::MAX_RANK;
use crate::output::{csv_text, numbered, write_atomic, OutputSet};
use crate::pipeline::{self, Method, OutputPaths, Progress, Silent, TrainSettings};
use crate::plots;
use crate::report::{self, RankReport, Report};
use crate::vae::training::EpochLog;

/// A progress bar as a pipeline [`Progress`].
struct Bar {
    bar: ProgressBar,
    /// NMF iterations per run (the bar counts runs × iterations).
    iterations: usize,
}

impl Bar {
    fn new(total: u64, what: &str, iterations: usize) -> Self {
        let bar = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        Self { bar, iterations }
    }
}

impl Progress for Bar {
    fn nmf(&self, run: usize, it: usize) {
        if it.is_multiple_of(50) || it == self.iterations {
            self.bar.set_position((run * self.iterations + it) as u64);
        }
    }

    fn epoch(&self, log: &EpochLog, _epochs: usize) {
        self.bar.set_position(log.epoch as u64);
        self.bar.set_message(format!(
            "loss {:.3} rec {:.3} kl {:.3} pen {:.2e}",
            log.loss, log.reconstruction, log.kl, log.penalty
        ));
    }
}

pub(crate) fn prepare(data: &DataArgs, test: &TestSpec, scaling: &Scaling) -> Result<Prepared> {
    let prepared = data.spec()?.prepare(test, scaling)?;
    for w in &prepared.warnings {
        warn(w);
    }
    Ok(prepared)
}

/// The true synergies for the similarity score, checked against the data's channels.
fn truth(path: Option<&Path>, channels: usize) -> Result<Option<Synergies>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let t = load_synergies(path)?;
    if t.channels != channels {
        bail!(
            "{}: cannot compare synergies over {channels} channels with a truth over {} channels",
            path.display(),
            t.channels
        );
    }
    Ok(Some(t))
}

/// `vaenmf synth`.
pub fn synth(args: &SynthArgs) -> Result<()> {
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
    let mut set = OutputSet::new();
    set.add(
        &args.out.join("train.csv"),
        csv_text(&ch, &data.train.data).as_bytes(),
    )?;
    set.add(
        &args.out.join("test.csv"),
        csv_text(&ch, &data.test.data).as_bytes(),
    )?;
    set.add(
        &args.out.join("synergies.csv"),
        csv_text(&numbered("s", args.rank), &data.synergies).as_bytes(),
    )?;
    set.commit()?;
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

/// `vaenmf train`.
pub fn train(args: &TrainArgs) -> Result<()> {
    // Settings first: a bad flag is reported before any data is read.
    let fit = args.fit_settings()?;
    let prepared = prepare(&args.data, &args.test.spec(), &Scaling::Fit(args.data.normalize))?;
    let (order, order_label) = match &args.match_model {
        Some(path) => (
            Order::Match(blob_synergies(&read_blob(path)?)),
            format!("matched to {} (Hungarian assignment of cosines)", path.display()),
        ),
        None => (
            Order::PeakChannel,
            "by the channel of each synergy's largest weight".to_string(),
        ),
    };
    let settings = TrainSettings {
        method: args.solver.method,
        fit,
        order,
        order_label,
        truth: truth(args.truth.as_deref(), prepared.train.channels)?,
    };
    let bar = match &settings.fit {
        pipeline::FitSettings::Nmf(p) => Bar::new(
            (p.iterations * p.restarts) as u64,
            settings.method.name(),
            p.iterations,
        ),
        pipeline::FitSettings::Vae(p) => Bar::new(p.epochs as u64, "vae-nmf", 0),
    };
    let mut run = pipeline::train(&prepared, &settings, &bar)?;
    bar.bar.finish_and_clear();
    if let Some(stopped) = run.report.training["stopped"].as_str() {
        if stopped.starts_with("diverged") {
            warn(stopped);
        }
    }
    let paths = OutputPaths {
        model: Some(args.out.clone()),
        report: args.report.clone(),
        plots: args.plots.clone(),
        activations: None,
    };
    let bytes = run.write(&paths, &args.out)?;
    print_summary(&run.report);
    println!(
        "model: {} ({bytes} bytes); report: {}",
        args.out.display(),
        args.report.display()
    );
    Ok(())
}

/// `vaenmf eval`.
pub fn eval(args: &EvalArgs) -> Result<()> {
    let blob = read_blob(&args.model)?;
    let scaling = Scaling::Model {
        offset: blob.input_offset.clone(),
        scale: blob.input_scale.clone(),
    };
    let prepared = prepare(&args.data, &TestSpec::default(), &scaling)?;
    let truth = truth(args.truth.as_deref(), prepared.train.channels)?;
    let mut run = pipeline::evaluate(&blob, &prepared, truth.as_ref())?;
    let paths = OutputPaths {
        model: None,
        report: args.report.clone(),
        plots: args.plots.clone(),
        activations: args.activations.clone(),
    };
    run.write(&paths, &args.model)?;
    print_summary(&run.report);
    Ok(())
}

/// `vaenmf rank`.
pub fn rank(args: &RankArgs) -> Result<()> {
    if args.solver.method == Method::VaeNmf {
        bail!("`vaenmf rank` sweeps the NMF methods; train VAE-NMF at the chosen rank with `vaenmf train`");
    }
    if !(1..=MAX_RANK).contains(&args.max_rank) {
        bail!("--max-rank {} must be between 1 and {MAX_RANK}", args.max_rank);
    }
    // Every rank's settings are checked before any work.
    let params: Vec<_> = (1..=args.max_rank)
        .map(|r| args.solver.nmf_params(r))
        .collect::<Result<_>>()?;
    let prepared = prepare(
        &args.data,
        &TestSpec::default(),
        &Scaling::Fit(args.data.normalize),
    )?;
    let x = &prepared.train;
    let limit = x.channels.min(x.frames);
    if args.max_rank >= limit {
        bail!(
            "--max-rank {} must be below min(channels, frames) = {limit}",
            args.max_rank
        );
    }
    let start = Instant::now();
    let bar = ProgressBar::new(args.max_rank as u64);
    let mut curve = Vec::new();
    for p in &params {
        let (synergies, z, _) = pipeline::fit_nmf(x, p, &Silent)?;
        let fit = fit_metrics(x, &synergies.reconstruct(&z))?;
        curve.push(RankPoint {
            rank: p.rank,
            vaf: fit.vaf,
            min_channel_vaf: fit.vaf_per_channel.iter().copied().fold(f64::INFINITY, f64::min),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let chosen_rank = choose_rank(&curve);
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
    let mut set = OutputSet::new();
    let plots = match &args.plots {
        Some(dir) => plots::rank_curve(&mut set, dir, &curve)?
            .into_iter()
            .map(|p| p.display().to_string())
            .collect(),
        None => Vec::new(),
    };
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
    set.add(&args.report, report::to_json(&report)?.as_bytes())?;
    set.commit()
}

/// `vaenmf frames`: unscaled frames (the device applies the model's own scaling), with the
/// channel names as the header.
pub fn frames(data: &DataArgs, out: &Path) -> Result<()> {
    let prepared = prepare(data, &TestSpec::default(), &Scaling::None)?;
    let x = &prepared.train;
    write_atomic(out, csv_text(&prepared.names_or_numbered(), &x.data).as_bytes())?;
    println!(
        "wrote {} ({} frames × {} channels)",
        out.display(),
        x.frames,
        x.channels
    );
    Ok(())
}

/// `vaenmf inspect`.
pub fn inspect(model: &Path) -> Result<()> {
    let bytes = std::fs::read(model).with_context(|| format!("{}: cannot read", model.display()))?;
    print!(
        "{}",
        crate::inspect::describe_model(&model.display().to_string(), &bytes)?
    );
    Ok(())
}

fn print_summary(r: &Report) {
    let mut line = format!(
        "{} rank {}: {} frames × {} channels, VAF {:.4} (NNLS {:.4}), R² {:.4}",
        r.method, r.rank, r.fit.frames, r.channels, r.fit.vaf, r.fit.vaf_nnls, r.fit.r2
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
