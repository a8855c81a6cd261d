//! `cargo xtask bench firmware`: the encoder and NNLS on the emulated Cortex-M4F.
//!
//! Writes a paper-sized encoder blob (10 → 400 → 400 → 2 × 4, random weights: cost does not
//! depend on their values) and an NMF-only blob (m = 10, r = 4), builds the firmware with each,
//! and runs under QEMU: the tracking firmware (instructions per frame), the kernel benchmark
//! (panel kernel against a naive dot-product loop, same run) and the ELF's flash and RAM.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection};
use vaenmf_core::gamma::Prng;
use vaenmf_core::{reconstruct, Dims, ModelBlob};

use crate::{build_firmware, qemu, root};

const M: usize = 10;
const R: usize = 4;
const FRAMES: usize = 50;

/// A random model with `hidden × hidden` encoder layers (`hidden = 0`: NMF only).
fn blob(hidden: usize, seed: u64) -> ModelBlob {
    let dims = Dims {
        channels: M as u32,
        hidden1: hidden as u32,
        hidden2: hidden as u32,
        rank: R as u32,
    };
    ModelBlob::random(dims, seed)
}

/// Frames `W z + noise` with sparse nonnegative `z`, so NNLS meets active sets as on EMG.
fn frames_csv(dictionary: &[f32], rng: &mut Prng) -> String {
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

/// Flash (vector table, code, read-only data, initialised data) and static RAM (data, bss).
fn flash_and_ram(elf: &Path) -> Result<(u64, u64), String> {
    let bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", elf.display()))?;
    let size = |name: &str| file.section_by_name(name).map_or(0, |s| s.size());
    let flash = size(".vector_table") + size(".text") + size(".rodata") + size(".data");
    let ram = size(".data") + size(".bss") + size(".uninit");
    Ok((flash, ram))
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
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

fn build_and_run(tag: &str, model: &Path, frames: &Path) -> Result<Run, String> {
    let bin_dir = build_firmware(&format!("bench-{tag}"), model, frames)?;
    let elf = bin_dir.join("vaenmf-firmware-example");
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
    let (flash, ram) = flash_and_ram(&elf)?;
    let kernel = if tag == "encoder" {
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

pub fn bench() -> Result<(), String> {
    let dir: PathBuf = root().join("target/firmware/bench-inputs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut rng = Prng::new(7);
    let encoder = blob(400, 7);
    let mut nmf = blob(0, 7);
    nmf.dictionary.clone_from(&encoder.dictionary);
    let frames = dir.join("frames.csv");
    std::fs::write(&frames, frames_csv(&nmf.dictionary, &mut rng)).map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    for (tag, model) in [("encoder", &encoder), ("nnls", &nmf)] {
        let path = dir.join(format!("{tag}.vnmf"));
        let bytes = model.to_bytes().map_err(|e| format!("{tag}: {e}"))?;
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        runs.push((tag, build_and_run(tag, &path, &frames)?));
    }
    println!("\n== firmware on the emulated Cortex-M4F (QEMU mps2-an386, -icount shift=0) ==");
    println!("path                      | instructions/frame | encoder instr/MAC | flash KiB | static RAM B");
    for (tag, run) in &runs {
        let (name, per_mac) = if *tag == "encoder" {
            (
                "encoder 10-400-400-2x4",
                format!("{:.3}", run.instructions_per_frame / run.macs_per_frame),
            )
        } else {
            ("NNLS m=10 r=4 (NMF model)", "-".to_string())
        };
        println!(
            "{name:25} | {:18.0} | {per_mac:>17} | {:9.1} | {:12}",
            run.instructions_per_frame,
            run.flash as f64 / 1024.0,
            run.ram
        );
    }
    println!("(instructions per frame include scaling, the heads and the tracker's VAF bookkeeping; RAM excludes the stack)");
    if let [(_, enc), (_, nnls)] = &runs[..] {
        println!(
            "encoder / NNLS instructions per frame: {:.1}×",
            enc.instructions_per_frame / nnls.instructions_per_frame
        );
        if let Some(kernel) = &enc.kernel {
            println!("{kernel}");
        }
    }
    Ok(())
}
