//! `vaenmf quantize ENHANCER.vnmf --data NOISY -o OUT.vnmf [--test MANIFEST]`: a network speech
//! enhancer's int8 version, calibrated on noisy training recordings, with its gain error
//! against the f32 enhancer on them and, with `--test`, SDR / PESQ / STOI of both on a
//! held-out `speech mix` set.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde_json::json;
use vaenmf_core::quant::calibrate::QuantizeError;

use super::quantize::QuantizeArgs;
use crate::output::OutputSet;
use crate::speech::experiment::eval::{score, MixtureScores};
use crate::speech::front_end::manifest::read_manifest;
use crate::speech::methods::enhancer::{describe_enhancer, Enhancer};
use crate::speech::methods::quantize::{calibrate_on, gain_error, noisy_files, quantize_enhancer};
use crate::speech::methods::streaming::Mode;
use crate::speech::metrics::bss_eval::Assignment;
use crate::speech::metrics::{mean, SpeechMetrics};

/// The options of `quantize` that read EMG frames, and whether each was given.
fn emg_options(args: &QuantizeArgs) -> [(&'static str, bool); 8] {
    let d = &args.data;
    [
        ("--var", !d.vars.is_empty()),
        ("--channels-in-rows", d.channels_in_rows),
        ("--names", d.names.is_some()),
        ("--ninapro", d.ninapro),
        ("--frames", d.frames.is_some()),
        ("--envelope", d.envelope),
        (
            "--test-var / --test-frames",
            !args.test.test_vars.is_empty() || args.test.test_frames.is_some(),
        ),
        ("--hybrid", args.hybrid),
    ]
}

/// Mean SDR / PESQ / STOI of `enhancer` over the held-out `rows`.
fn held_out(
    rows: &[crate::speech::front_end::manifest::ManifestRow],
    enhancer: &Enhancer,
) -> Result<SpeechMetrics> {
    let enhancers: BTreeMap<String, Enhancer> = rows
        .iter()
        .map(|r| Ok((r.noise.clone(), Enhancer::new(enhancer.blob().clone())?)))
        .collect::<Result<_>>()?;
    let scores: Vec<MixtureScores> =
        score(rows, &enhancers, Mode::Offline, 2.0, Assignment::default(), || {})?;
    Ok(mean(&scores.iter().map(|s| s.method).collect::<Vec<_>>()))
}

/// Runs `vaenmf quantize` on a speech enhancer.
pub fn run(args: &QuantizeArgs) -> Result<()> {
    if let Some((flag, _)) = emg_options(args).into_iter().find(|(_, given)| *given) {
        bail!(
            "{flag} applies to EMG models; {} is a speech enhancer (--data: noisy WAV recordings, --test: a speech mix manifest.csv)",
            args.model.display()
        );
    }
    let f32_enhancer = Enhancer::load(&args.model)?;
    let blob = f32_enhancer.blob();
    if blob.network.is_none() || blob.quantized.is_some() {
        bail!("{}: {}", args.model.display(), QuantizeError::NoNetwork);
    }
    let files = noisy_files(&args.data.data)?;
    let ranges = calibrate_on(&f32_enhancer, &files)
        .map_err(|e| anyhow::anyhow!("{}: {e:#}", args.model.display()))?;
    let blob = quantize_enhancer(&f32_enhancer, &ranges)
        .map_err(|e| anyhow::anyhow!("{}: {e:#}", args.model.display()))?;
    let int8 = Enhancer::new(blob.clone())?;
    let calibration = gain_error(&f32_enhancer, &int8, &files)?;
    let test = match &args.test.test {
        Some(path) => {
            let rows = read_manifest(path)?;
            Some((
                held_out(&rows, &f32_enhancer)?,
                held_out(&rows, &int8)?,
                rows.len(),
            ))
        }
        None => None,
    };
    let bytes = blob.to_bytes()?;
    let f32_bytes = f32_enhancer.blob().to_bytes()?.len();
    let parameter_bytes = blob.quantized.as_ref().map_or(0, |q| q.parameter_bytes());
    let mut outputs = OutputSet::new();
    outputs.add(&args.out, &bytes)?;
    if let Some(path) = &args.report {
        let scores = |m: &SpeechMetrics| json!({"sdr": m.sdr, "pesq_nb": m.pesq_nb_mos_lqo, "stoi": m.stoi});
        let report = json!({
            "enhancer": args.model.display().to_string(),
            "calibration": {
                "data": args.data.data.display().to_string(),
                "recordings": files.len(),
                "frames": ranges.frames,
                "max_abs": {"input": ranges.input, "hidden": ranges.hidden},
                "gain_error": calibration,
            },
            "bytes": {"f32_file": f32_bytes, "int8_file": bytes.len(), "network_parameters": parameter_bytes},
            "test": test.as_ref().map(|(f, q, n)| json!({
                "data": args.test.test.as_ref().map(|p| p.display().to_string()),
                "mixtures": n,
                "mode": "offline",
                "f32": scores(f),
                "int8": scores(q),
            })),
        });
        outputs.add(path, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    outputs.commit()?;
    println!(
        "wrote {}: {} bytes (f32 enhancer {f32_bytes}), int8 network parameters {parameter_bytes} bytes\n{}",
        args.out.display(),
        bytes.len(),
        describe_enhancer(&blob)
    );
    println!(
        "calibration: {} recordings, {} frames; gain error |int8 − f32| mean {:.5}, p99 {:.5}, max {:.5}",
        files.len(),
        calibration.frames,
        calibration.mean_abs,
        calibration.p99_abs,
        calibration.max_abs
    );
    if let Some((f, q, n)) = &test {
        println!(
            "test ({n} mixtures, offline): SDR {:.3} → {:.3} dB ({:+.3}), PESQ-NB {:.3} → {:.3} ({:+.3}), STOI {:.4} → {:.4} ({:+.4})",
            f.sdr,
            q.sdr,
            q.sdr - f.sdr,
            f.pesq_nb_mos_lqo,
            q.pesq_nb_mos_lqo,
            q.pesq_nb_mos_lqo - f.pesq_nb_mos_lqo,
            f.stoi,
            q.stoi,
            q.stoi - f.stoi
        );
    }
    Ok(())
}
