//! `cargo xtask footprint`: the firmware for every board × model — flash, static RAM, whether
//! it fits the part — and each model's cost per frame on the boards, estimated from the
//! instruction count under QEMU.
//!
//! Models: the bundled NMF (m = 12, r = 4), VAE-NMF small (12 → 32 → 32 → 2 × 4) and its int8
//! version, and a paper-sized encoder (10 → 400 → 400 → 2 × 4, random weights) in f32 and int8.
//!
//! The estimate: a Cortex-M4 retires at most one instruction per cycle, so the QEMU count is a
//! lower bound on the cycles; loads, taken branches and flash wait states (0 on the nRF52840's
//! cached flash, 3 on the STM32F411's at 100 MHz behind the ART accelerator) cost more, about
//! 1.1–1.5 cycles per instruction on such loops. The table gives the time at 1.0 and 1.5.
//! On a board the `summary` line's `cycles_per_frame` (DWT) is the measurement.
//!
//! Then the `speech` binary with the bundled int8 enhancer: flash and RAM per board, time per
//! hop estimated the same way.

use std::path::{Path, PathBuf};

use vaenmf_core::gamma::Prng;
use vaenmf_core::quant::calibrate::{calibrate, quantize, Variant};
use vaenmf_system_tests::{
    build_board, build_firmware, build_speech, footprint, run_qemu, Board, SpeechFiles,
};

use crate::firmware_bench::{blob, field, frames_csv, parse_frames};
use crate::root;

struct Model {
    name: &'static str,
    path: PathBuf,
    frames: PathBuf,
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The bundled models and the paper-sized ones (written under `dir`).
fn models(dir: &Path) -> Result<Vec<Model>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bundled = root().join("firmware-example/model");
    let paper = blob(400, 7);
    let mut rng = Prng::new(7);
    let frames = dir.join("paper-frames.csv");
    write(&frames, frames_csv(&paper.dictionary, &mut rng).as_bytes())?;
    let calibration = parse_frames(&frames_csv(&paper.dictionary, &mut rng))?;
    let ranges = calibrate(&paper, &calibration).map_err(|e| e.to_string())?;
    let int8 = quantize(&paper, &ranges, Variant::FullInt8).map_err(|e| e.to_string())?;
    for (file, model) in [("paper.vnmf", &paper), ("paper-int8.vnmf", &int8)] {
        write(&dir.join(file), &model.to_bytes().map_err(|e| e.to_string())?)?;
    }
    let small = |name, file: &str| Model {
        name,
        path: bundled.join(file),
        frames: bundled.join("frames.csv"),
    };
    let paper_model = |name, file: &str| Model {
        name,
        path: dir.join(file),
        frames: frames.clone(),
    };
    Ok(vec![
        small("NMF 12x4", "nmf.vnmf"),
        small("VAE-NMF small f32", "default.vnmf"),
        small("VAE-NMF small int8", "default-int8.vnmf"),
        paper_model("paper-sized f32", "paper.vnmf"),
        paper_model("paper-sized int8", "paper-int8.vnmf"),
    ])
}

/// Instructions per `SynergyTracker::push` on the emulated Cortex-M4F.
fn qemu_instructions(tag: &str, model: &Model) -> Result<f64, String> {
    eprintln!("+ firmware build {tag} for QEMU ({})", model.path.display());
    let dir = build_firmware(tag, &model.path, &model.frames)?;
    let out = run_qemu(&dir.join("vaenmf-firmware-example"))?;
    let summary = out
        .lines()
        .find(|l| l.starts_with("summary"))
        .ok_or_else(|| format!("{tag}: no summary line"))?;
    field(summary, "instructions_per_frame")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{tag}: no instructions_per_frame in `{summary}`"))
}

pub fn footprint_table() -> Result<(), String> {
    let models = models(&root().join("target/firmware/footprint-inputs"))?;
    let mut rows = Vec::new();
    for (i, model) in models.iter().enumerate() {
        let instructions = qemu_instructions(&format!("footprint-qemu-{i}"), model)?;
        for board in Board::ALL {
            eprintln!(
                "+ firmware build for {} ({})",
                board.feature(),
                model.path.display()
            );
            // One target directory per board: only the firmware crate rebuilds between models.
            let fit = build_board(board, board.feature(), &model.path, &model.frames)
                .and_then(|dir| footprint(&dir.join("vaenmf-firmware-example")));
            rows.push((model.name, board, instructions, fit));
        }
    }
    println!("\n== footprint of the tracking firmware (all binaries built and linked per board) ==");
    println!("model              | board            | flash KiB / part | static RAM B | fits | µs per frame, est. (1.0–1.5 cycles/instr)");
    for (name, board, instructions, fit) in &rows {
        let (flash_limit, _) = board.limits();
        let clock = board.clock_hz() as f64;
        let time = format!(
            "{:.0}–{:.0} (QEMU: {instructions:.0} instr.)",
            instructions / clock * 1e6,
            1.5 * instructions / clock * 1e6
        );
        match fit {
            Ok((flash, ram)) => println!(
                "{name:18} | {:16} | {:7.1} / {:4} | {ram:12} | yes  | {time}",
                board.feature(),
                *flash as f64 / 1024.0,
                flash_limit / 1024
            ),
            Err(e) => println!(
                "{name:18} | {:16} | {:>7} / {:4} | {:>12} | no   | – ({})",
                board.feature(),
                "–",
                flash_limit / 1024,
                "–",
                e.lines().find(|l| l.contains("does not fit")).unwrap_or(e).trim()
            ),
        }
    }
    speech_rows()
}

/// The `speech` binary with the bundled int8 enhancer and recording: its flash and static RAM
/// per board (the board builds of the table above) and the time per 8 ms hop from the QEMU
/// count.
fn speech_rows() -> Result<(), String> {
    let bundled = root().join("firmware-example/model");
    let files = SpeechFiles {
        model: &bundled.join("speech.vnmf"),
        wav: &bundled.join("speech.wav"),
        out: None,
    };
    eprintln!("+ speech firmware build for QEMU");
    let out = run_qemu(&build_speech("footprint-speech-qemu", files, &[])?)?;
    let summary = out
        .lines()
        .find_map(|l| l.strip_prefix("summary "))
        .ok_or_else(|| "speech: no summary line".to_string())?;
    let get = |key: &str| -> Result<f64, String> {
        field(summary, key)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("speech: no {key} in `{summary}`"))
    };
    let (mean, max, stack) = (
        get("instructions_per_hop")?,
        get("max_instructions_per_hop")?,
        get("stack_bytes")?,
    );
    println!("\n== the speech enhancer (`speech` binary, bundled int8 VAE-NMF and 2.8 s recording; a hop is 8 ms) ==");
    println!("board            | flash KiB / part (recording incl.) | static RAM B + stack B | µs per hop, est. (1.0–1.5 cycles/instr) | share of the 8 ms hop");
    for board in Board::ALL {
        let elf = build_board(
            board,
            board.feature(),
            &bundled.join("default.vnmf"),
            &bundled.join("frames.csv"),
        )?
        .join("speech");
        let (flash, ram) = footprint(&elf)?;
        let clock = board.clock_hz() as f64;
        let (lo, hi) = (mean / clock * 1e6, 1.5 * max / clock * 1e6);
        println!(
            "{:16} | {:7.1} / {:4} | {ram} + {stack:.0} | {lo:.0}–{hi:.0} (QEMU: mean {mean:.0}, max {max:.0} instr.) | {:.0}–{:.0} %",
            board.feature(),
            flash as f64 / 1024.0,
            board.limits().0 / 1024,
            lo / 80.0,
            hi / 80.0
        );
    }
    Ok(())
}
