//! `vaenmf quantize`: an f32 VAE-NMF model blob in, its int8 version out, with the accuracy
//! against the f32 model on the calibration frames and, with `--test`, held-out frames; or a
//! network speech enhancer in, its int8 network out ([`super::quantize_speech`]).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use vaenmf_core::quant::calibrate::Variant;

use super::args::{DataArgs, TestArgs};
use super::commands::prepare;
use crate::data::prepare::Scaling;
use crate::export::read_blob;
use crate::output::OutputSet;
use crate::quantize::{accuracy, quantize_model, Accuracy};
use crate::speech::methods::enhancer::is_enhancer_blob;

/// `vaenmf quantize`.
#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// The f32 VAE-NMF model blob, or a network speech enhancer (dnn, vae-nmf, nmf-dict-net,
    /// vae-nmf-e2e).
    pub model: PathBuf,
    /// Calibration frames (`--data`: training frames, raw as the device receives them; the
    /// model's scaling is applied) and their reading options. For a speech enhancer `--data`
    /// is noisy training recordings: a WAV file, a folder of them or a `speech mix`
    /// manifest.csv; `--test` a held-out `speech mix` manifest.csv (scored f32 against int8).
    #[command(flatten)]
    #[allow(missing_docs)]
    pub data: DataArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub test: TestArgs,
    /// Keep the first layer and the heads in f32; only the second layer becomes int8.
    #[arg(long)]
    pub hybrid: bool,
    /// Quantised model blob to write (format 4).
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    /// Report JSON to write (ranges, sizes, accuracy).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

fn line(what: &str, a: &Accuracy) -> String {
    format!(
        "{what}: {} frames, activation error {:.3} % (per frame mean {:.3} %, p95 {:.3} %, max {:.3} %), VAF {:.4} → {:.4} ({:+.4})",
        a.frames,
        100.0 * a.relative_error,
        100.0 * a.relative_error_mean,
        100.0 * a.relative_error_p95,
        100.0 * a.relative_error_max,
        a.vaf_f32,
        a.vaf_quantized,
        a.vaf_difference()
    )
}

/// Runs `vaenmf quantize`.
pub fn run(args: &QuantizeArgs) -> Result<()> {
    let bytes =
        std::fs::read(&args.model).with_context(|| format!("{}: cannot read", args.model.display()))?;
    if is_enhancer_blob(&bytes) {
        return super::quantize_speech::run(args);
    }
    let blob = read_blob(&args.model)?;
    let prepared = prepare(&args.data, &args.test.spec(), &Scaling::None)?;
    let variant = if args.hybrid {
        Variant::Hybrid
    } else {
        Variant::FullInt8
    };
    let quantized = quantize_model(&blob, &prepared.train, variant)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.model.display()))?;
    let calibration = accuracy(&blob, &quantized.blob, &prepared.train)?;
    let test = prepared
        .test
        .as_ref()
        .map(|t| accuracy(&blob, &quantized.blob, t))
        .transpose()?;
    let bytes = quantized.blob.to_bytes()?;
    let f32_bytes = blob.to_bytes()?.len();
    let parameter_bytes = quantized
        .blob
        .quantized
        .as_ref()
        .map_or(0, |q| q.parameter_bytes());
    let mut outputs = OutputSet::new();
    outputs.add(&args.out, &bytes)?;
    if let Some(path) = &args.report {
        let r = quantized.ranges;
        let report = json!({
            "model": args.model.display().to_string(),
            "variant": if args.hybrid { "hybrid" } else { "int8" },
            "calibration": {
                "data": args.data.data.display().to_string(),
                "frames": r.frames,
                "max_abs": {"input": r.input, "hidden1": r.hidden1, "hidden2": r.hidden2},
            },
            "bytes": {"f32_blob": f32_bytes, "quantized_blob": bytes.len(), "encoder_parameters": parameter_bytes},
            "accuracy": {"calibration": calibration, "test": test},
        });
        outputs.add(path, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    outputs.commit()?;
    println!(
        "wrote {} ({} variant): {} bytes (f32 model {f32_bytes}), encoder parameters {parameter_bytes} bytes",
        args.out.display(),
        if args.hybrid { "hybrid" } else { "int8" },
        bytes.len()
    );
    println!("{}", line("calibration", &calibration));
    if let Some(t) = &test {
        println!("{}", line("test", t));
    }
    Ok(())
}
