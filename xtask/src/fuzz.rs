//! `cargo xtask fuzz [SECONDS]`: the blob decoders' cargo-fuzz target for SECONDS (default 60),
//! from seeds of every kind of blob (f32 encoder, NMF-only, int8 and hybrid quantised).
//!
//! Installs what it needs when missing: a nightly toolchain (`rustup toolchain install
//! nightly --profile minimal`) and `cargo-fuzz` (`cargo install cargo-fuzz --locked`). Not
//! part of `cargo xtask test`: libFuzzer needs nightly's sanitizer flags.

use std::path::Path;
use std::process::Command;

use vaenmf_core::gamma::Prng;
use vaenmf_core::quant::calibrate::{calibrate, quantize, Variant};
use vaenmf_core::{Dims, ModelBlob};

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
    for (name, blob) in seeds {
        let bytes = blob.to_bytes().map_err(|e| format!("{name}: {e}"))?;
        let path = dir.join(format!("seed-{name}.vnmf"));
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

pub fn fuzz(seconds: Option<&str>) -> Result<(), String> {
    let seconds: u64 = seconds
        .unwrap_or("60")
        .parse()
        .map_err(|_| "usage: cargo xtask fuzz [SECONDS]".to_string())?;
    if !succeeds("rustup", &["run", "nightly", "rustc", "--version"]) {
        run(
            "rustup",
            &["toolchain", "install", "nightly", "--profile", "minimal"],
        )?;
    }
    if !succeeds("cargo", &["fuzz", "--version"]) {
        run("cargo", &["install", "cargo-fuzz", "--locked"])?;
    }
    let fuzz_dir = root().join("core/fuzz");
    let corpus = fuzz_dir.join("corpus/blob_decode");
    write_seeds(&corpus)?;
    let time = format!("-max_total_time={seconds}");
    eprintln!("+ (core) cargo +nightly fuzz run blob_decode -- {time} -print_final_stats=1");
    let status = Command::new("cargo")
        .args([
            "+nightly",
            "fuzz",
            "run",
            "blob_decode",
            "--",
            &time,
            "-print_final_stats=1",
        ])
        .current_dir(root().join("core"))
        .env_remove("RUSTFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the fuzzer stopped with {status}: a crash is saved under {}",
            fuzz_dir.join("artifacts/blob_decode").display()
        ))
    }
}
