//! `cargo xtask fuzz [TARGET|all] [SECONDS]`: a cargo-fuzz target for SECONDS (default 60)
//! each. Targets: `blob` (the core's blob decoders, `core/fuzz`, from seeds of every kind of
//! blob: f32 encoder, NMF-only, int8 and hybrid quantised, a speech enhancer of each method)
//! and the files a user hands to
//! `vaenmf` (`host-trainer/fuzz`, from the committed seeds in `host-trainer/fuzz/seeds/`):
//! `wav`, `npy`, `mat`, `csv`, `manifest`. Each run stops at the first panic, hang (10 s on
//! one input) or allocation over 2 GiB, and saves the input under the crate's `artifacts/`.
//!
//! Installs what it needs when missing: a nightly toolchain (`rustup toolchain install
//! nightly --profile minimal`) and `cargo-fuzz` (`cargo install cargo-fuzz --locked`). Not
//! part of `cargo xtask test`: libFuzzer needs nightly's sanitizer flags.

use std::path::Path;
use std::process::Command;

use vaenmf_core::front_end::Window;
use vaenmf_core::gamma::Prng;
use vaenmf_core::quant::calibrate::{calibrate, quantize, Variant};
use vaenmf_core::speech::quantized_network::{calibrate as calibrate_network, quantize as quantize_network};
use vaenmf_core::speech::{EnhancerBlob, EnhancerMethod, RandomEnhancerSizes};
use vaenmf_core::{Dims, FrontEnd, ModelBlob};

use crate::{root, run};

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Seed blobs with the dimensions of the target's `ModelStorage::<4, 8, 8, 2>`.
fn write_seeds(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dims = |hidden: u32| Dims {
        channels: 4,
        hidden1: hidden,
        hidden2: hidden,
        rank: 2,
    };
    let f32_model = ModelBlob::random(dims(8), 1);
    let mut rng = Prng::new(2);
    let frames: Vec<f32> = (0..4 * 64).map(|_| rng.uniform() as f32).collect();
    let ranges = calibrate(&f32_model, &frames).map_err(|e| e.to_string())?;
    let mut named = ModelBlob::random(dims(0), 3);
    named.channel_names = (0..4).map(|c| format!("m{c}")).collect();
    let seeds = [
        ("f32", f32_model.clone()),
        ("nmf", named),
        (
            "int8",
            quantize(&f32_model, &ranges, Variant::FullInt8).map_err(|e| e.to_string())?,
        ),
        (
            "hybrid",
            quantize(&f32_model, &ranges, Variant::Hybrid).map_err(|e| e.to_string())?,
        ),
    ];
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, blob) in seeds {
        files.push((name.into(), blob.to_bytes().map_err(|e| format!("{name}: {e}"))?));
    }
    let front_end = FrontEnd {
        sample_rate: 8000,
        fft_size: 8,
        hop: 4,
        window: Window::Hann,
        magnitude_exponent: 1.0,
    };
    let sizes = RandomEnhancerSizes {
        ranks: (2, 2),
        hidden: &[4],
        context: (1, 1),
    };
    for method in [
        EnhancerMethod::Nmf,
        EnhancerMethod::Dnmf,
        EnhancerMethod::Dnn,
        EnhancerMethod::VaeNmf,
    ] {
        let blob = EnhancerBlob::random(method, front_end, sizes, 4);
        let name = format!("enhancer-{}", method.name());
        files.push((name.clone(), blob.to_bytes().map_err(|e| format!("{name}: {e}"))?));
        if method.has_network() {
            // Its quantised version (format 7's int8 layers), calibrated on a few frames.
            let width = blob.network.as_ref().map_or(0, |n| n.width(blob.bins()) as usize);
            let frames: Vec<f32> = (0..4 * width).map(|i| (i % 7) as f32 - 3.0).collect();
            let int8 = calibrate_network(&blob, &frames)
                .and_then(|ranges| quantize_network(&blob, &ranges))
                .map_err(|e| format!("{name}: {e}"))?;
            let name = format!("{name}-int8");
            files.push((name.clone(), int8.to_bytes().map_err(|e| format!("{name}: {e}"))?));
        }
    }
    for (name, bytes) in files {
        let path = dir.join(format!("seed-{name}.vnmf"));
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The blob target lives in the core's fuzz crate; the loaders in the trainer's.
const TRAINER_TARGETS: [&str; 5] = ["wav", "npy", "mat", "csv", "manifest"];

const USAGE: &str = "usage: cargo xtask fuzz [blob|wav|npy|mat|csv|manifest|all] [SECONDS]";

pub fn fuzz(args: &[String]) -> Result<(), String> {
    let (target, seconds) = match args {
        [] => ("all", "60"),
        [one] if one.parse::<u64>().is_ok() => ("blob", one.as_str()),
        [target] => (target.as_str(), "60"),
        [target, seconds] => (target.as_str(), seconds.as_str()),
        _ => return Err(USAGE.into()),
    };
    let seconds: u64 = seconds.parse().map_err(|_| USAGE.to_string())?;
    let targets: Vec<&str> = match target {
        "all" => std::iter::once("blob").chain(TRAINER_TARGETS).collect(),
        t if t == "blob" || TRAINER_TARGETS.contains(&t) => vec![t],
        _ => return Err(USAGE.into()),
    };
    if !succeeds("rustup", &["run", "nightly", "rustc", "--version"]) {
        run(
            "rustup",
            &["toolchain", "install", "nightly", "--profile", "minimal"],
        )?;
    }
    if !succeeds("cargo", &["fuzz", "--version"]) {
        run("cargo", &["install", "cargo-fuzz", "--locked"])?;
    }
    for target in targets {
        run_target(target, seconds)?;
    }
    Ok(())
}

fn run_target(target: &str, seconds: u64) -> Result<(), String> {
    let (crate_dir, seeds) = if target == "blob" {
        let corpus = root().join("core/fuzz/corpus/blob_decode");
        write_seeds(&corpus)?;
        (root().join("core"), None)
    } else {
        (
            root().join("host-trainer"),
            Some(root().join("host-trainer/fuzz/seeds").join(target)),
        )
    };
    let name = if target == "blob" { "blob_decode" } else { target };
    let corpus = crate_dir.join("fuzz/corpus").join(name);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let mut args: Vec<String> = ["+nightly", "fuzz", "run", name].map(String::from).to_vec();
    if target != "blob" {
        // The loaders are safe Rust (and so are hound, npyz, matfile and csv): AddressSanitizer
        // would find nothing a panic does not, and costs a second build of burn and 2-3x the
        // executions. Panics, hangs (-timeout) and memory (-rss_limit_mb) are caught without it.
        args.push("--sanitizer=none".into());
    }
    args.push(corpus.display().to_string());
    args.extend(seeds.map(|s| s.display().to_string()));
    args.extend([
        "--".to_string(),
        format!("-max_total_time={seconds}"),
        "-timeout=10".into(),
        "-rss_limit_mb=2048".into(),
        "-print_final_stats=1".into(),
    ]);
    eprintln!("+ ({}) cargo {}", crate_dir.display(), args.join(" "));
    let status = Command::new("cargo")
        .args(&args)
        .current_dir(&crate_dir)
        .env_remove("RUSTFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{target}: the fuzzer stopped with {status}: the input is saved under {}",
            crate_dir.join("fuzz/artifacts").join(name).display()
        ))
    }
}
