//! `cargo xtask bench firmware`: the encoder (f32, int8, hybrid) and NNLS on the emulated
//! Cortex-M4F, and the int8 encoder on the emulated Cortex-M0.
//!
//! Writes a paper-sized encoder blob (10 → 400 → 400 → 2 × 4, random weights: cost does not
//! depend on their values), its quantised versions (calibrated on other frames than the ones
//! run) and an NMF-only blob (m = 10, r = 4), builds the firmware with each, and runs under
//! QEMU: the tracking firmware (instructions per frame), the kernel benchmark (the model's
//! kernel against a naive dot-product loop, same run) and the ELF's flash and RAM.

use std::path::{Path, PathBuf};

use vaenmf_core::gamma::Prng;
use vaenmf_core::quant::calibrate::{calibrate, quantize, Variant};
use vaenmf_core::{reconstruct, Dims, ModelBlob};
use vaenmf_system_tests::Core;

use crate::root;

const M: usize = 10;
const R: usize = 4;
const FRAMES: usize = 50;

/// A random model with `hidden × hidden` encoder layers (`hidden = 0`: NMF only).
pub(crate) fn blob(hidden: usize, seed: u64) -> ModelBlob {
    let dims = Dims {
        channels: M as u32,
        hidden1: hidden as u32,
        hidden2: hidden as u32,
        rank: R as u32,
    };
    ModelBlob::random(dims, seed)
}

/// Frames `W z + noise` with sparse nonnegative `z`, so NNLS meets active sets as on EMG.
pub(crate) fn frames_csv(dictionary: &[f32], rng: &mut Prng) -> String {
    let w: [[f32; R]; M] = std::array::from_fn(|c| std::array::from_fn(|k| dictionary[c * R + k]));
    let mut csv = String::new();
    for _ in 0..FRAMES {
        let z: [f32; R] = std::array::from_fn(|_| (rng.uniform() as f32 - 0.3).max(0.0));
        let x = reconstruct(&w, &z);
        let row: Vec<String> = x
            .iter()
            .map(|v| format!("{}", (v + 0.02 * rng.normal() as f32).max(0.0)))
            .collect();
        csv += &row.join(",");
        csv.push('\n');
    }
    csv
}

pub(crate) fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

struct Run {
    instructions_per_frame: f64,
    macs_per_frame: f64,
    flash: u64,
    ram: u64,
    kernel: Option<String>,
}

fn build_and_run(core: Core, tag: &str, model: &Path, frames: &Path) -> Result<Run, String> {
    eprintln!(
        "+ firmware build bench-{tag} for {} (VAENMF_MODEL={})",
        core.target(),
        model.display()
    );
    let bin_dir = vaenmf_system_tests::build_firmware_for(core, &format!("bench-{tag}"), model, frames)?;
    let elf = bin_dir.join("vaenmf-firmware-example");
    let qemu = |elf: &Path| {
        eprintln!(
            "+ qemu-system-arm {} -kernel {}",
            core.qemu_args().join(" "),
            elf.display()
        );
        vaenmf_system_tests::run_qemu_on(core, elf)
    };
    let out = qemu(&elf)?;
    let summary = out
        .lines()
        .find(|l| l.starts_with("summary"))
        .ok_or_else(|| format!("{tag}: no summary line in the firmware output"))?;
    let number = |key: &str| -> Result<f64, String> {
        field(summary, key)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{tag}: no {key} in `{summary}`"))
    };
    let (flash, ram) = vaenmf_system_tests::footprint(&elf)?;
    let kernel = if tag != "nnls" {
        let out = qemu(&bin_dir.join("kernel_bench"))?;
        out.lines().find(|l| l.starts_with("kernel")).map(str::to_string)
    } else {
        None
    };
    Ok(Run {
        instructions_per_frame: number("instructions_per_frame")?,
        macs_per_frame: number("macs_per_frame")?,
        flash,
        ram,
        kernel,
    })
}

/// Raw frames as CSV text.
fn csv(frames: &[f32]) -> String {
    frames
        .chunks(M)
        .map(|row| row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",") + "\n")
        .collect()
}

/// The frames of a CSV written by [`frames_csv`], flat; a cell that is not a number is an
/// error, not a dropped value.
pub(crate) fn parse_frames(text: &str) -> Result<Vec<f32>, String> {
    let mut out = Vec::new();
    for (row, line) in text.lines().enumerate() {
        for (col, cell) in line.split(',').enumerate() {
            let v = cell.parse::<f32>().map_err(|_| {
                format!(
                    "frames: row {}, column {}: {cell:?} is not a number",
                    row + 1,
                    col + 1
                )
            })?;
            out.push(v);
        }
    }
    Ok(out)
}

pub fn bench() -> Result<(), String> {
    let dir: PathBuf = root().join("target/firmware/bench-inputs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut rng = Prng::new(7);
    let encoder = blob(400, 7);
    let mut nmf = blob(0, 7);
    nmf.dictionary.clone_from(&encoder.dictionary);
    let frames = dir.join("frames.csv");
    std::fs::write(&frames, frames_csv(&nmf.dictionary, &mut rng)).map_err(|e| e.to_string())?;
    // Calibration frames from the same distribution, not the ones the device runs.
    let calibration = parse_frames(&frames_csv(&nmf.dictionary, &mut rng))?;
    let ranges = calibrate(&encoder, &calibration).map_err(|e| e.to_string())?;
    let int8 = quantize(&encoder, &ranges, Variant::FullInt8).map_err(|e| e.to_string())?;
    let hybrid = quantize(&encoder, &ranges, Variant::Hybrid).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("calibration.csv"), csv(&calibration)).map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    let cases = [
        ("encoder", "encoder f32 (M4F)", &encoder, Core::M4),
        ("int8", "encoder int8 (M4F)", &int8, Core::M4),
        ("hybrid", "encoder hybrid (M4F)", &hybrid, Core::M4),
        ("int8-m0", "encoder int8 (M0)", &int8, Core::M0),
        ("nnls", "NNLS m=10 r=4 (M4F)", &nmf, Core::M4),
    ];
    for (tag, name, model, core) in cases {
        let path = dir.join(format!("{tag}.vnmf"));
        let bytes = model.to_bytes().map_err(|e| format!("{tag}: {e}"))?;
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        runs.push((tag, name, build_and_run(core, tag, &path, &frames)?));
    }
    println!("\n== firmware under QEMU, -icount shift=0: Cortex-M4F = mps2-an386, Cortex-M0 = micro:bit ==");
    println!("model 10-400-400-2x4     | instructions/frame | instr/MAC | flash KiB | static RAM B");
    for (tag, name, run) in &runs {
        let per_mac = if *tag == "nnls" {
            "-".to_string()
        } else {
            format!("{:.3}", run.instructions_per_frame / run.macs_per_frame)
        };
        println!(
            "{name:24} | {:18.0} | {per_mac:>9} | {:9.1} | {:12}",
            run.instructions_per_frame,
            run.flash as f64 / 1024.0,
            run.ram
        );
    }
    println!("(instructions per frame: the whole SynergyTracker::push — scaling, encoder, heads, W·z and the VAF window; RAM excludes the stack)");
    let find = |t: &str| runs.iter().find(|(tag, _, _)| *tag == t).map(|(_, _, r)| r);
    if let (Some(f), Some(q), Some(h)) = (find("encoder"), find("int8"), find("hybrid")) {
        println!(
            "int8 / f32 instructions per frame on the M4F: {:.3} (hybrid {:.3}); flash int8 / f32: {:.3}",
            q.instructions_per_frame / f.instructions_per_frame,
            h.instructions_per_frame / f.instructions_per_frame,
            q.flash as f64 / f.flash as f64
        );
    }
    for (_, name, run) in &runs {
        if let Some(kernel) = &run.kernel {
            println!("{name}: {kernel}");
        }
    }
    Ok(())
}
