//! Embeds the model and the EMG frames in flash.
//!
//! `VAENMF_MODEL` (default `model/default.vnmf`) is validated with `vaenmf-core` — the same
//! routine the device would run — and emitted as `static` arrays whose const-generic
//! dimensions come from the blob. `VAENMF_FRAMES` (default `model/frames.csv`, raw values, time
//! in rows, optional header) is emitted the same way. An invalid blob fails the build with the
//! core's error message.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use vaenmf_core::ModelBlob;

fn fail(message: String) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

/// One f32 as a Rust expression: `{:?}` prints the shortest string that parses back to the
/// same f32; recorded frames may hold NaN or ∞ (a dropped sample), which have no literal.
fn literal(v: f32) -> String {
    if v.is_nan() {
        "f32::NAN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "f32::INFINITY"
        } else {
            "f32::NEG_INFINITY"
        }
        .into()
    } else {
        format!("{v:?}")
    }
}

/// A `[[f32; cols]; rows]` static holding `values` in their given order.
fn matrix(name: &str, values: &[f32], rows: usize, cols: usize) -> String {
    let mut s = format!("pub static {name}: [[f32; {cols}]; {rows}] = [");
    for r in 0..rows {
        s.push('[');
        for &v in &values[r * cols..(r + 1) * cols] {
            let _ = write!(s, "{},", literal(v));
        }
        s.push_str("],");
    }
    s.push_str("];\n");
    s
}

fn vector(name: &str, values: &[f32]) -> String {
    let mut s = format!("pub static {name}: [f32; {}] = [", values.len());
    for &v in values {
        let _ = write!(s, "{},", literal(v));
    }
    s.push_str("];\n");
    s
}

fn read_frames(path: &Path, channels: usize) -> Vec<f32> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).filter(|c| !c.is_empty()).collect();
        if cells.is_empty() {
            continue;
        }
        let parsed: Result<Vec<f32>, _> = cells.iter().map(|c| c.parse::<f32>()).collect();
        match parsed {
            Ok(row) if row.len() == channels => out.extend(row),
            Ok(row) => fail(format!(
                "{}: row {} has {} values, the model has {channels} channels",
                path.display(),
                i + 1,
                row.len()
            )),
            Err(_) if out.is_empty() && i == 0 => {} // header
            Err(_) => fail(format!("{}: row {} is not numeric", path.display(), i + 1)),
        }
    }
    out
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let model_path = env::var_os("VAENMF_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("model/default.vnmf"));
    let frames_path = env::var_os("VAENMF_FRAMES")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("model/frames.csv"));
    println!("cargo:rerun-if-env-changed=VAENMF_MODEL");
    println!("cargo:rerun-if-env-changed=VAENMF_FRAMES");
    println!("cargo:rerun-if-changed={}", model_path.display());
    println!("cargo:rerun-if-changed={}", frames_path.display());
    println!("cargo:rerun-if-changed=memory.x");

    let bytes = fs::read(&model_path).unwrap_or_else(|e| fail(format!("{}: {e}", model_path.display())));
    let blob = ModelBlob::from_bytes(&bytes)
        .unwrap_or_else(|e| fail(format!("invalid model blob {}: {e}", model_path.display())));
    let d = blob.dims;
    let (m, h1, h2, r) = d.sizes();
    let frames = read_frames(&frames_path, m);
    let n = frames.len() / m;
    if n == 0 {
        fail(format!("{}: no frames", frames_path.display()));
    }

    let mut code = String::new();
    let _ = writeln!(code, "pub const M: usize = {m};\npub const H1: usize = {h1};\npub const H2: usize = {h2};\npub const R: usize = {r};\npub const N_FRAMES: usize = {n};");
    let _ = writeln!(code, "pub const HAS_ENCODER: bool = {};", blob.encoder.is_some());
    let _ = writeln!(
        code,
        "pub const ALPHA0: f32 = {:?};\npub const FLOOR: f32 = {:?};",
        blob.alpha0, blob.floor
    );
    let _ = writeln!(code, "pub const ENCODER_MACS: u64 = {};", d.encoder_macs());
    code += &vector("INPUT_OFFSET", &blob.input_offset);
    code += &vector("INPUT_SCALE", &blob.input_scale);
    let empty = Vec::new();
    // The kernel reads weights in panel order; the blob stores them input-major.
    let packed = blob.encoder.as_ref().map(|e| e.to_panel_order(d));
    let enc = packed.as_ref();
    let pick = |f: fn(&vaenmf_core::EncoderArrays) -> &Vec<f32>| enc.map(f).unwrap_or(&empty);
    code += &matrix("L1_W", pick(|e| &e.layer1_weights), m, h1);
    code += &vector("L1_B", pick(|e| &e.layer1_bias));
    code += &matrix("L2_W", pick(|e| &e.layer2_weights), h1, h2);
    code += &vector("L2_B", pick(|e| &e.layer2_bias));
    // Without an encoder the head arrays are never used, but their types still need R biases.
    let no_bias = vec![0.0f32; r];
    code += &matrix("ALPHA_W", pick(|e| &e.alpha_head_weights), h2, r);
    code += &vector("ALPHA_B", enc.map(|e| &e.alpha_head_bias).unwrap_or(&no_bias));
    code += &matrix("BETA_W", pick(|e| &e.beta_head_weights), h2, r);
    code += &vector("BETA_B", enc.map(|e| &e.beta_head_bias).unwrap_or(&no_bias));
    code += &matrix("DICTIONARY", &blob.dictionary, m, r);
    code += &matrix("FRAMES", &frames, n, m);

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("model.rs"), code).expect("write model.rs");
    fs::copy(manifest.join("memory.x"), out.join("memory.x")).expect("copy memory.x");
    // The raw blob too, for the self-test's run-time decoding.
    fs::write(out.join("model.vnmf"), &bytes).expect("write model.vnmf");
    println!("cargo:rustc-link-search={}", out.display());
}
