//! Embeds the model and the EMG frames in flash.
//!
//! `VAENMF_MODEL` (default `model/default.vnmf`) is validated with `vaenmf-core` — the same
//! routine the device would run — and emitted as `static` arrays whose const-generic
//! dimensions come from the blob, with `encoder()` and `quantized()` constructors: f32 weights
//! in panel order, or a quantised encoder's int8 weights in pair order (4-byte aligned, for the
//! `SMLAD` kernel; `cfg(vaenmf_quantized)` is set). `VAENMF_FRAMES` (default
//! `model/frames.csv`, raw values, time in rows, optional header) is emitted the same way. An
//! invalid blob fails the build with the core's error message. `parts()` assembles the
//! model's `ModelParts`.
//!
//! The memory map follows the place the firmware runs (`build/place.rs`): a board feature
//! picks the board's `memory-<board>.x` and links defmt; without one, the target picks QEMU's
//! machine: `memory-mps2.x` (Cortex-M4F), `memory-microbit.x` (thumbv6m,
//! `cfg(vaenmf_microbit)`). A model whose arrays alone exceed the part's flash fails here with
//! the sizes, before the linker's less helpful "region `FLASH' overflowed".
//!
//! `VAENMF_SPEECH_MODEL`, `VAENMF_SPEECH_WAV` and `VAENMF_SPEECH_OUT` set the `speech` binary's
//! enhancer, noisy recording and output file (`build/speech.rs`, `OUT_DIR/speech.rs`).
//!
//! `VAENMF_ENVELOPE` (default `fs=1000,band=20:450,lowpass=4,order=4,decimate=10`) sets the
//! envelope stage of the live ADC source; `build/envelope.rs` designs its Butterworth sections
//! with sci-rs, as the trainer's `--envelope` designs them, and emits them as `ENVELOPE_*` in
//! `OUT_DIR/envelope.rs`.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use vaenmf_core::quant::owned::{
    pair_ordered, FirstLayerArrays, HeadsArrays, HiddenArrays, QuantizedEncoderArrays,
};
use vaenmf_core::ModelBlob;

#[path = "build/envelope.rs"]
mod envelope;
#[path = "build/place.rs"]
mod place;
#[path = "build/speech.rs"]
mod speech;
use place::PLACES;

/// Bytes of the statics emitted so far (model arrays and frames), for the footprint check.
static STATIC_BYTES: AtomicUsize = AtomicUsize::new(0);

fn count(values: usize, size: usize) {
    STATIC_BYTES.fetch_add(values * size, Ordering::Relaxed);
}

pub(crate) fn fail(message: String) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

/// One f32 as a Rust expression: `{:?}` prints the shortest string that parses back to the
/// same f32; recorded frames may hold NaN or ∞ (a dropped sample), which have no literal.
pub(crate) fn literal(v: f32) -> String {
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
    count(rows * cols, 4);
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
    count(values.len(), 4);
    let mut s = format!("pub static {name}: [f32; {}] = [", values.len());
    for &v in values {
        let _ = write!(s, "{},", literal(v));
    }
    s.push_str("];\n");
    s
}

/// A static array of integers (`ty` is `i8`, `i32` or `u8`); `aligned` wraps it in
/// `Align4` for the DSP kernel's word loads.
fn integers<T: std::fmt::Display>(
    name: &str,
    ty: &str,
    values: &[T],
    rows: usize,
    cols: usize,
    aligned: bool,
) -> String {
    count(rows * cols, std::mem::size_of::<T>());
    let mut body = String::from("[");
    for r in 0..rows {
        body.push('[');
        for v in &values[r * cols..(r + 1) * cols] {
            let _ = write!(body, "{v},");
        }
        body.push_str("],");
    }
    body.push(']');
    if aligned {
        format!("pub static {name}: vaenmf_core::Align4<[[{ty}; {cols}]; {rows}]> = vaenmf_core::Align4({body});\n")
    } else {
        format!("pub static {name}: [[{ty}; {cols}]; {rows}] = {body};\n")
    }
}

/// A static vector of integers.
fn integer_vector<T: std::fmt::Display>(name: &str, ty: &str, values: &[T]) -> String {
    count(values.len(), std::mem::size_of::<T>());
    let mut s = format!("pub static {name}: [{ty}; {}] = [", values.len());
    for v in values {
        let _ = write!(s, "{v},");
    }
    s.push_str("];\n");
    s
}

/// Statics and a `quantized()` constructor for a quantised encoder (weights in pair order).
fn quantized_code(q: &QuantizedEncoderArrays, (m, h1, h2, r): (usize, usize, usize, usize)) -> String {
    let mut code = String::new();
    let hidden = |code: &mut String, tag: &str, l: &HiddenArrays, inputs: usize, outputs: usize| {
        let w = pair_ordered(inputs, outputs, &l.weights);
        *code += &integers(&format!("{tag}_W"), "i8", &w, inputs, outputs, true);
        *code += &integer_vector(&format!("{tag}_B"), "i32", &l.bias);
        *code += &integer_vector(&format!("{tag}_MUL"), "i32", &l.multiplier);
        format!(
            "HiddenLayer {{ layer: QuantLayer {{ weights: &{tag}_W.0, bias: &{tag}_B }}, multiplier: &{tag}_MUL }}"
        )
    };
    let layer1 = match &q.layer1 {
        FirstLayerArrays::Float {
            weights,
            bias,
            output_step,
        } => {
            let mut packed = vec![0.0; weights.len()];
            vaenmf_core::model::to_panel_order(m, h1, weights, &mut packed);
            code += &matrix("Q1_WF", &packed, m, h1);
            code += &vector("Q1_BF", bias);
            format!(
                "FirstLayer::Float {{ layer: DenseLayer {{ weights: &Q1_WF, bias: &Q1_BF }}, output_step: {} }}",
                literal(*output_step)
            )
        }
        FirstLayerArrays::Int8 { input_step, layer } => {
            let l = hidden(&mut code, "Q1", layer, m, h1);
            format!(
                "FirstLayer::Int8 {{ input_step: {}, layer: {l} }}",
                literal(*input_step)
            )
        }
    };
    let layer2 = hidden(&mut code, "Q2", &q.layer2, h1, h2);
    let heads = match &q.heads {
        HeadsArrays::Float {
            input_step,
            alpha_weights,
            alpha_bias,
            beta_weights,
            beta_bias,
        } => {
            for (tag, w, b) in [("QA", alpha_weights, alpha_bias), ("QB", beta_weights, beta_bias)] {
                let mut packed = vec![0.0; w.len()];
                vaenmf_core::model::to_panel_order(h2, r, w, &mut packed);
                code += &matrix(&format!("{tag}_WF"), &packed, h2, r);
                code += &vector(&format!("{tag}_BF"), b);
            }
            format!(
                "QuantHeads::Float {{ input_step: {}, alpha: DenseLayer {{ weights: &QA_WF, bias: &QA_BF }}, beta: DenseLayer {{ weights: &QB_WF, bias: &QB_BF }} }}",
                literal(*input_step)
            )
        }
        HeadsArrays::Int8 { alpha, beta } => {
            for (tag, h) in [("QA", alpha), ("QB", beta)] {
                let w = pair_ordered(h2, r, &h.weights);
                code += &integers(&format!("{tag}_W"), "i8", &w, h2, r, true);
                code += &integer_vector(&format!("{tag}_B"), "i32", &h.bias);
                code += &vector(&format!("{tag}_SCALE"), &h.output_scale);
            }
            "QuantHeads::Int8 { alpha: HeadLayer { layer: QuantLayer { weights: &QA_W.0, bias: &QA_B }, output_scale: &QA_SCALE }, beta: HeadLayer { layer: QuantLayer { weights: &QB_W.0, bias: &QB_B }, output_scale: &QB_SCALE } }".to_string()
        }
    };
    let _ = writeln!(
        code,
        "/// The quantised encoder over the statics above.\npub fn quantized() -> Option<vaenmf_core::QuantizedEncoder<'static, M, H1, H2, R>> {{\n    #[allow(unused_imports)]\n    use vaenmf_core::{{DenseLayer, FirstLayer, HeadLayer, HiddenLayer, QuantHeads, QuantLayer}};\n    Some(vaenmf_core::QuantizedEncoder {{ layer1: {layer1}, layer2: {layer2}, heads: {heads} }})\n}}"
    );
    code
}

/// Statics of the f32 encoder (empty arrays for an NMF-only model, whose hidden sizes are 0)
/// and an `encoder()` constructor over them.
fn float_encoder_code(blob: &ModelBlob) -> String {
    let d = blob.dims;
    let (m, h1, h2, r) = d.sizes();
    let mut code = String::new();
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
    code += "/// The f32 encoder over the statics above (None for an NMF-only model).
pub fn encoder() -> Option<vaenmf_core::EncoderWeights<'static, M, H1, H2, R>> {
    use vaenmf_core::{DenseLayer, EncoderWeights};
    HAS_ENCODER.then_some(EncoderWeights {
        layer1: DenseLayer { weights: &L1_W, bias: &L1_B },
        layer2: DenseLayer { weights: &L2_W, bias: &L2_B },
        alpha_head: DenseLayer { weights: &ALPHA_W, bias: &ALPHA_B },
        beta_head: DenseLayer { weights: &BETA_W, bias: &BETA_B },
    })
}
";
    code
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

/// The `speech` binary's enhancer and recording (`build/speech.rs`), checked against the part's
/// flash.
fn speech_code(manifest: &Path, place: &place::Place) -> String {
    let model = env::var_os("VAENMF_SPEECH_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("model/speech.vnmf"));
    let wav = env::var_os("VAENMF_SPEECH_WAV")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("model/speech.wav"));
    let out = env::var("VAENMF_SPEECH_OUT").ok();
    for var in ["VAENMF_SPEECH_MODEL", "VAENMF_SPEECH_WAV", "VAENMF_SPEECH_OUT"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed={}", model.display());
    println!("cargo:rerun-if-changed={}", wav.display());
    let s = speech::speech(&model, &wav, out.as_deref());
    if s.model_bytes + s.recording_bytes > place.flash_kib * 1024 {
        fail(format!(
            "{} and {} do not fit {}: the enhancer's arrays take {:.1} KiB and the recording {:.1} KiB, the part has {} KiB of flash (a smaller network, `vaenmf speech train --net-hidden 128,128`, an int8 enhancer, `vaenmf quantize`, or a shorter recording)",
            model.display(),
            wav.display(),
            place.name,
            s.model_bytes as f64 / 1024.0,
            s.recording_bytes as f64 / 1024.0,
            place.flash_kib
        ));
    }
    let mut code = s.code;
    let _ = writeln!(
        code,
        "pub const MODEL_BYTES: usize = {};\npub const RECORDING_BYTES: usize = {};",
        s.model_bytes, s.recording_bytes
    );
    code
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
    println!("cargo:rerun-if-env-changed=VAENMF_ENVELOPE");
    for p in &PLACES {
        println!("cargo:rerun-if-changed={}", p.memory);
    }
    // thumbv6m runs on QEMU's micro:bit (nRF51822, Cortex-M0): its own memory map and clock.
    println!("cargo::rustc-check-cfg=cfg(vaenmf_microbit)");
    let microbit = env::var("TARGET").is_ok_and(|t| t.starts_with("thumbv6m"));
    if microbit {
        println!("cargo::rustc-cfg=vaenmf_microbit");
    }
    let place = place::select(microbit);
    if !place.feature.is_empty() {
        println!("cargo:rustc-link-arg=-Tdefmt.x");
    }

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
    let _ = writeln!(code, "pub const HAS_ENCODER: bool = {};", blob.has_encoder());
    let _ = writeln!(
        code,
        "pub const ALPHA0: f32 = {:?};\npub const FLOOR: f32 = {:?};",
        blob.alpha0, blob.floor
    );
    let _ = writeln!(code, "pub const ENCODER_MACS: u64 = {};", d.encoder_macs());
    code += &vector("INPUT_OFFSET", &blob.input_offset);
    code += &vector("INPUT_SCALE", &blob.input_scale);
    // A quantised model: its statics and `quantized()`; the f32 encoder's constructor is None.
    println!("cargo::rustc-check-cfg=cfg(vaenmf_quantized)");
    // Which of a quantised encoder's layers are f32 (the hybrid variant), so that the firmware
    // links only those kernels (`is_embedded_kind`).
    println!("cargo::rustc-check-cfg=cfg(vaenmf_float_first_layer)");
    println!("cargo::rustc-check-cfg=cfg(vaenmf_float_heads)");
    if let Some(q) = &blob.quantized {
        println!("cargo::rustc-cfg=vaenmf_quantized");
        if matches!(q.layer1, FirstLayerArrays::Float { .. }) {
            println!("cargo::rustc-cfg=vaenmf_float_first_layer");
        }
        if matches!(q.heads, HeadsArrays::Float { .. }) {
            println!("cargo::rustc-cfg=vaenmf_float_heads");
        }
        code += &quantized_code(q, (m, h1, h2, r));
        code += "/// The encoder is quantised: no f32 one.\npub fn encoder() -> Option<vaenmf_core::EncoderWeights<'static, M, H1, H2, R>> { None }\n";
    } else {
        code += "/// No quantised encoder in this model.\npub fn quantized() -> Option<vaenmf_core::QuantizedEncoder<'static, M, H1, H2, R>> { None }\n";
    }
    if blob.quantized.is_none() {
        code += &float_encoder_code(&blob);
    }
    code += &matrix("DICTIONARY", &blob.dictionary, m, r);
    code += "/// The model's parts over the statics above.
pub fn parts() -> vaenmf_core::ModelParts<'static, M, H1, H2, R> {
    vaenmf_core::ModelParts {
        input_offset: &INPUT_OFFSET,
        input_scale: &INPUT_SCALE,
        alpha0: ALPHA0,
        floor: FLOOR,
        encoder: encoder(),
        quantized: quantized(),
        dictionary: &DICTIONARY,
    }
}
";
    code += &matrix("FRAMES", &frames, n, m);
    let data_bytes = STATIC_BYTES.load(Ordering::Relaxed);
    if data_bytes > place.flash_kib * 1024 {
        fail(format!(
            "{} does not fit {}: its arrays and the {n} recorded frames take {:.1} KiB, the part has {} KiB of flash (a quantised model, `vaenmf quantize`, is about 4x smaller)",
            model_path.display(),
            place.name,
            data_bytes as f64 / 1024.0,
            place.flash_kib
        ));
    }

    // The micro:bit (Cortex-M0, 256 KiB of flash) does not run the speech enhancer.
    let speech = if microbit {
        String::new()
    } else {
        speech_code(&manifest, place)
    };

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("model.rs"), code).expect("write model.rs");
    fs::write(out.join("speech.rs"), speech).expect("write speech.rs");
    fs::write(out.join("envelope.rs"), envelope::code()).expect("write envelope.rs");
    // Copied as OUT_DIR/memory.x, which cortex-m-rt's link.x includes (a memory.x in the
    // package root would be found first, whatever the target).
    fs::copy(manifest.join(place.memory), out.join("memory.x")).expect("copy memory.x");
    // The raw blob too, for the self-test's run-time decoding.
    fs::write(out.join("model.vnmf"), &bytes).expect("write model.vnmf");
    println!("cargo:rustc-link-search={}", out.display());
}
