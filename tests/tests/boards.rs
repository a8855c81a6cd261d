//! The firmware for every development board: every binary builds and links for the board's
//! memory map, fits the part's flash and RAM, and a model too large for the part is refused
//! with an error that names the model, the board and the sizes. (Nothing is flashed: no board
//! is attached here. The firmware's behaviour is tested under QEMU, `firmware_qemu.rs`.)

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use vaenmf_core::quant::calibrate::{calibrate, quantize, Variant};
use vaenmf_core::{Dims, ModelBlob};
use vaenmf_system_tests::{build_board, footprint, root, Board};

/// The tests share each board's target directory (one HAL build per board), so they build one
/// at a time: a build for another model would replace the ELFs under the other's checks.
static BUILDS: Mutex<()> = Mutex::new(());

fn model_dir() -> PathBuf {
    root().join("firmware-example/model")
}

#[test]
fn every_board_builds_and_fits_with_the_default_models() {
    let _one_at_a_time = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let frames = model_dir().join("frames.csv");
    for board in Board::ALL {
        for model in ["default.vnmf", "default-int8.vnmf", "nmf.vnmf"] {
            let dir = build_board(board, board.feature(), &model_dir().join(model), &frames)
                .unwrap_or_else(|e| panic!("{} with {model}: {e}", board.feature()));
            let mut bins = vec!["vaenmf-firmware-example", "selftest", "kernel_bench"];
            if board == Board::Stm32f411 {
                bins.push("live");
            }
            for bin in bins {
                let (flash, ram) = footprint(&dir.join(bin)).unwrap();
                let (flash_limit, ram_limit) = board.limits();
                println!(
                    "{} {model} {bin}: flash {flash} B, static RAM {ram} B",
                    board.feature()
                );
                assert!(flash > 4_000 && flash <= flash_limit, "{bin}: flash {flash}");
                assert!(ram <= ram_limit, "{bin}: RAM {ram}");
            }
        }
    }
}

/// A paper-sized encoder (10 → 400 → 400 → 2 × 4, random weights) and its int8 version.
fn paper_models(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let dims = Dims {
        channels: 10,
        hidden1: 400,
        hidden2: 400,
        rank: 4,
    };
    let f32_model = ModelBlob::random(dims, 11);
    let mut rng = vaenmf_core::gamma::Prng::new(3);
    let frames: Vec<f32> = (0..10 * 100).map(|_| rng.uniform() as f32).collect();
    let ranges = calibrate(&f32_model, &frames).unwrap();
    let int8_model = quantize(&f32_model, &ranges, Variant::FullInt8).unwrap();
    let (f32_path, int8_path, csv) = (
        dir.join("paper.vnmf"),
        dir.join("paper-int8.vnmf"),
        dir.join("frames.csv"),
    );
    std::fs::write(&f32_path, f32_model.to_bytes().unwrap()).unwrap();
    std::fs::write(&int8_path, int8_model.to_bytes().unwrap()).unwrap();
    let text: String = frames
        .chunks(10)
        .take(20)
        .map(|row| row.iter().map(f32::to_string).collect::<Vec<_>>().join(",") + "\n")
        .collect();
    std::fs::write(&csv, text).unwrap();
    (f32_path, int8_path, csv)
}

#[test]
fn the_paper_sized_f32_model_is_refused_by_a_512_kib_part_and_its_int8_version_fits() {
    let _one_at_a_time = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = root().join("target/firmware/board-inputs");
    let (f32_model, int8_model, frames) = paper_models(&dir);
    let board = Board::Stm32f411;
    let err = build_board(board, board.feature(), &f32_model, &frames).unwrap_err();
    assert!(
        err.contains("paper.vnmf")
            && err.contains("does not fit STM32F411E-DISCO")
            && err.contains("512 KiB"),
        "unclear error: {err}"
    );
    let dir = build_board(board, board.feature(), &int8_model, &frames).unwrap_or_else(|e| panic!("{e}"));
    let (flash, _) = footprint(&dir.join("vaenmf-firmware-example")).unwrap();
    println!("paper-sized int8 on {}: flash {flash} B", board.feature());
    assert!(flash < 512 * 1024);
}
