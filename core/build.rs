//! Writes the speech front end's tables (`OUT_DIR/speech_tables.rs`), and sets
//! `cfg(vaenmf_dsp)` on targets whose every core has the Armv7E-M DSP extension
//! (`thumbv7em-*`: Cortex-M4 and M7), where the quantised encoder uses its `SMLAD` kernel.
//! Stable Rust does not expose `target_feature = "dsp"` to `cfg`, hence the target name.
//! `cfg(vaenmf_fpu)` on those with the single-precision FPU in the hard-float ABI
//! (`thumbv7em-none-eabihf`: Cortex-M4F/M7F), where `sqrt` is one `VSQRT.F32`.

use std::fmt::Write as _;

/// FFT size of the streaming speech front end (`speech::fft::FFT_SIZE`).
const FFT_SIZE: usize = 512;

fn table(name: &str, doc: &str, values: impl Iterator<Item = f32>) -> String {
    let values: Vec<f32> = values.collect();
    let mut s = format!("/// {doc}\npub(crate) static {name}: [f32; {}] = [", values.len());
    for v in values {
        let _ = write!(s, "{v:?},");
    }
    s.push_str("];\n");
    s
}

/// `OUT_DIR/speech_tables.rs`: the 512-point FFT's twiddles `cos, sin(2πk/N)` and the
/// Hamming and Hann windows, each computed in f64 with libm and rounded to f32 — the
/// expressions `Window::value` and the FFT used at run time.
fn speech_tables() -> String {
    let angle = |k: usize| 2.0 * std::f64::consts::PI * k as f64 / FFT_SIZE as f64;
    let window = |a0: f64, a1: f64| (0..FFT_SIZE).map(move |i| (a0 - a1 * libm::cos(angle(i))) as f32);
    [
        table(
            "TWIDDLE_RE",
            "`cos(2πk/512)`, `k < 256`.",
            (0..FFT_SIZE / 2).map(|k| libm::cos(angle(k)) as f32),
        ),
        table(
            "TWIDDLE_IM",
            "`sin(2πk/512)`, `k < 256`.",
            (0..FFT_SIZE / 2).map(|k| libm::sin(angle(k)) as f32),
        ),
        table(
            "HAMMING_512",
            "The periodic Hamming window, 512 points.",
            window(0.54, 0.46),
        ),
        table(
            "HANN_512",
            "The periodic Hann window, 512 points.",
            window(0.5, 0.5),
        ),
    ]
    .concat()
}

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("speech_tables.rs"), speech_tables()).expect("write speech_tables.rs");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(vaenmf_dsp)");
    println!("cargo::rustc-check-cfg=cfg(vaenmf_fpu)");
    println!("cargo::rerun-if-env-changed=TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em-") {
        println!("cargo::rustc-cfg=vaenmf_dsp");
        if target.ends_with("eabihf") {
            println!("cargo::rustc-cfg=vaenmf_fpu");
        }
    }
}
