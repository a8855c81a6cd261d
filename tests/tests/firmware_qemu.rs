//! The firmware under QEMU (Cortex-M4F, mps2-an386) against the core on the host, frame by
//! frame, for both paths: a VAE-NMF model (encoder) and an NMF-only model (NNLS on the device).
//!
//! Activations must be bit-identical: host and device run the same code in IEEE-754 single
//! precision, sums in a fixed order, no fused multiply-add on either side, and every
//! elementary function (libm's expf/log1pf, correctly rounded sqrt) gives the same result; the
//! device prints each value in the shortest form that parses back to the same f32.

use std::path::{Path, PathBuf};

use vaenmf_core::quant::owned::QuantizedStorage;
use vaenmf_core::{Model, ModelBlob, ModelStorage, SynergyTracker};
use vaenmf_system_tests::{build_firmware_for, root, run_qemu_on, Core};

/// The tracking firmware built with `model` and `frames`, or the build's stderr.
fn build_firmware(tag: &str, model: &Path, frames: &Path) -> Result<PathBuf, String> {
    vaenmf_system_tests::build_firmware(tag, model, frames).map(|dir| dir.join("vaenmf-firmware-example"))
}

/// The self-test binary built next to the tracking firmware.
fn selftest_elf(tracking_elf: &Path) -> PathBuf {
    tracking_elf.with_file_name("selftest")
}

/// What the ELF printed; the run must succeed.
fn run_qemu(elf: &Path) -> String {
    vaenmf_system_tests::run_qemu(elf).unwrap_or_else(|e| panic!("{e}"))
}

struct DeviceRun {
    /// (frame index, activations) of each tracked frame.
    activations: Vec<(usize, Vec<f32>)>,
    /// (frame index, reason) of each frame the device skipped.
    skipped: Vec<(usize, String)>,
    vaf: f32,
    instructions_per_frame: u64,
    macs_per_frame: u64,
}

fn parse(output: &str) -> DeviceRun {
    let mut activations: Vec<(usize, Vec<f32>)> = Vec::new();
    let mut skipped = Vec::new();
    let mut summary = None;
    let mut next_frame = 0;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("z,") {
            let mut cells = rest.split(',');
            let frame: usize = cells.next().unwrap().parse().unwrap();
            assert_eq!(frame, next_frame, "frames out of order");
            next_frame += 1;
            activations.push((frame, cells.map(|c| c.parse::<f32>().unwrap()).collect()));
        } else if let Some(rest) = line.strip_prefix("skip,") {
            let (frame, reason) = rest.split_once(',').expect("skip,<frame>,<reason>");
            let frame: usize = frame.parse().unwrap();
            assert_eq!(frame, next_frame, "frames out of order");
            next_frame += 1;
            skipped.push((frame, reason.to_string()));
        } else if let Some(rest) = line.strip_prefix("summary ") {
            summary = Some(rest.to_string());
        }
    }
    let summary = summary.expect("summary line");
    let field = |name: &str| -> String {
        summary
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("summary without {name}: {summary}"))
            .to_string()
    };
    assert_eq!(field("frames").parse::<usize>().unwrap(), activations.len());
    assert_eq!(field("skipped").parse::<usize>().unwrap(), skipped.len());
    DeviceRun {
        activations,
        skipped,
        vaf: field("vaf").parse().unwrap(),
        instructions_per_frame: field("instructions_per_frame").parse().unwrap(),
        macs_per_frame: field("macs_per_frame").parse().unwrap(),
    }
}

fn read_frames(path: &Path) -> Vec<Vec<f32>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|c| c.trim().parse().unwrap()).collect())
        .collect()
}

/// What the host's tracker gives each frame: activations of the accepted frames (with their
/// index), the indices it rejected, and the VAF.
type HostRun<const R: usize> = (Vec<(usize, [f32; R])>, Vec<usize>, f32);

/// The host side: the same blob decoded by the core, the same frames through the tracker.
fn host_run<const M: usize, const H1: usize, const H2: usize, const R: usize>(
    model: &Path,
    frames: &[Vec<f32>],
) -> HostRun<R> {
    let bytes = std::fs::read(model).unwrap();
    let mut storage = Box::new(ModelStorage::<M, H1, H2, R>::new());
    track::<M, H1, H2, R, 200>(storage.decode(&bytes).unwrap(), frames)
}

/// The host side for a quantised blob: the core's typed int8 model (the device's kernels, the
/// portable ones here) over the same frames, with the device's VAF window.
fn host_run_quantized<
    const M: usize,
    const H1: usize,
    const H2: usize,
    const R: usize,
    const WINDOW: usize,
>(
    model: &Path,
    frames: &[Vec<f32>],
) -> HostRun<R> {
    let blob = ModelBlob::from_bytes(&std::fs::read(model).unwrap()).unwrap();
    let storage = QuantizedStorage::<M, H1, H2, R>::from_blob(&blob).unwrap();
    track::<M, H1, H2, R, WINDOW>(storage.model().unwrap(), frames)
}

fn track<const M: usize, const H1: usize, const H2: usize, const R: usize, const WINDOW: usize>(
    model: Model<'_, M, H1, H2, R>,
    frames: &[Vec<f32>],
) -> HostRun<R> {
    let mut tracker = SynergyTracker::<M, H1, H2, R, WINDOW>::new(model);
    let (mut z, mut rejected) = (Vec::new(), Vec::new());
    for (f, frame) in frames.iter().enumerate() {
        match tracker.push(&frame.as_slice().try_into().unwrap()) {
            Ok(t) => z.push((f, t.activations)),
            Err(_) => rejected.push(f),
        }
    }
    (z, rejected, tracker.vaf().unwrap())
}

fn compare<const R: usize>(device: &DeviceRun, host: &HostRun<R>) {
    assert_eq!(device.activations.len(), host.0.len());
    let device_skipped: Vec<usize> = device.skipped.iter().map(|(f, _)| *f).collect();
    assert_eq!(device_skipped, host.1, "skipped frames");
    for ((f, d), (host_f, h)) in device.activations.iter().zip(&host.0) {
        assert_eq!(f, host_f);
        assert_eq!(d.len(), R);
        for k in 0..R {
            assert_eq!(
                d[k].to_bits(),
                h[k].to_bits(),
                "frame {f}, synergy {k}: device {} vs host {}",
                d[k],
                h[k]
            );
        }
    }
    assert_eq!(
        device.vaf.to_bits(),
        host.2.to_bits(),
        "VAF device {} vs host {}",
        device.vaf,
        host.2
    );
}

fn model_dir() -> PathBuf {
    root().join("firmware-example/model")
}

#[test]
fn vae_nmf_model_on_qemu_matches_the_host_bit_for_bit() {
    let (model, frames) = (model_dir().join("default.vnmf"), model_dir().join("frames.csv"));
    let elf =
        build_firmware("vae", &model, &frames).unwrap_or_else(|e| panic!("firmware build failed:\n{e}"));
    let device = parse(&run_qemu(&elf));
    let host = host_run::<12, 32, 32, 4>(&model, &read_frames(&frames));
    compare(&device, &host);
    assert_eq!(device.macs_per_frame, 12 * 32 + 32 * 32 + 2 * 32 * 4);
    assert!(
        device.instructions_per_frame > device.macs_per_frame,
        "{}",
        device.instructions_per_frame
    );
    // The core's numerics checks, on the emulated Cortex-M4F (run_qemu asserts success).
    let selftest = run_qemu(&selftest_elf(&elf));
    assert!(selftest.contains(" passed, 0 failed"), "{selftest}");
    assert!(!selftest.contains("FAIL"), "{selftest}");
    assert!(
        selftest.contains("ok   flipped bit rejected by the checksum"),
        "{selftest}"
    );
    println!(
        "vae-nmf on M4: {} instructions/frame, {:.2} per MAC, VAF {}",
        device.instructions_per_frame,
        device.instructions_per_frame as f64 / device.macs_per_frame as f64,
        device.vaf
    );
}

/// A blob over the self-test's 16 KiB copy buffer (12 → 64 → 64 → 4, 22 KiB): the bit-flip
/// check runs in place on the blob in flash instead of being skipped.
#[test]
fn selftest_checks_a_flipped_bit_of_a_blob_too_large_to_copy() {
    let dir = std::env::temp_dir().join(format!("vaenmf-wide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dims = vaenmf_core::Dims {
        channels: 12,
        hidden1: 64,
        hidden2: 64,
        rank: 4,
    };
    let bytes = ModelBlob::random(dims, 21).to_bytes().unwrap();
    assert!(bytes.len() > 16 * 1024, "{} bytes", bytes.len());
    let model = dir.join("wide.vnmf");
    std::fs::write(&model, bytes).unwrap();
    let elf = build_firmware("wide", &model, &model_dir().join("frames.csv"))
        .unwrap_or_else(|e| panic!("firmware build failed:\n{e}"));
    let selftest = run_qemu(&selftest_elf(&elf));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(selftest.contains(" passed, 0 failed"), "{selftest}");
    assert!(
        selftest.contains("ok   checksum of the blob in flash = stored"),
        "{selftest}"
    );
    assert!(
        selftest.contains("ok   flipped bit changes the checksum (checked in place)"),
        "{selftest}"
    );
}

/// The quantised default model (int8 and hybrid) on the Cortex-M4F, whose int8 layers run
/// the `SMLAD` kernel, against the host's portable kernel: the same bits. The self-test
/// checks the `SMLAD` kernel against the portable one on random layers.
#[test]
fn quantized_models_on_qemu_m4_match_the_host_bit_for_bit() {
    let frames = model_dir().join("frames.csv");
    for name in ["default-int8", "default-hybrid"] {
        let model = model_dir().join(format!("{name}.vnmf"));
        let elf =
            build_firmware(name, &model, &frames).unwrap_or_else(|e| panic!("firmware build failed:\n{e}"));
        let device = parse(&run_qemu(&elf));
        compare(
            &device,
            &host_run_quantized::<12, 32, 32, 4, 200>(&model, &read_frames(&frames)),
        );
        assert_eq!(device.macs_per_frame, 12 * 32 + 32 * 32 + 2 * 32 * 4);
        let selftest = run_qemu(&selftest_elf(&elf));
        assert!(selftest.contains(" passed, 0 failed"), "{selftest}");
        assert!(selftest.contains("ok   SMLAD kernels ran"), "{selftest}");
        println!(
            "{name} on M4: {} instructions/frame, {:.2} per MAC, VAF {}",
            device.instructions_per_frame,
            device.instructions_per_frame as f64 / device.macs_per_frame as f64,
            device.vaf
        );
    }
}

/// The int8 model on a Cortex-M0 (no FPU, no DSP: the portable kernel, soft-float edges)
/// under QEMU's micro:bit: bit-identical to the host, over the device's 32-frame VAF window.
#[test]
fn int8_model_on_qemu_m0_matches_the_host_bit_for_bit() {
    let (model, frames) = (
        model_dir().join("default-int8.vnmf"),
        model_dir().join("frames.csv"),
    );
    let dir = build_firmware_for(Core::M0, "int8-m0", &model, &frames)
        .unwrap_or_else(|e| panic!("firmware build failed:\n{e}"));
    let run = |name: &str| run_qemu_on(Core::M0, &dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
    let device = parse(&run("vaenmf-firmware-example"));
    compare(
        &device,
        &host_run_quantized::<12, 32, 32, 4, 32>(&model, &read_frames(&frames)),
    );
    let selftest = run("selftest");
    assert!(selftest.contains(" passed, 0 failed"), "{selftest}");
    println!(
        "int8 on M0: {} instructions/frame, {:.2} per MAC, VAF (last 32 frames) {}",
        device.instructions_per_frame,
        device.instructions_per_frame as f64 / device.macs_per_frame as f64,
        device.vaf
    );
}

#[test]
fn nmf_model_on_qemu_matches_the_host_bit_for_bit() {
    let (model, frames) = (model_dir().join("nmf.vnmf"), model_dir().join("frames.csv"));
    let elf =
        build_firmware("nmf", &model, &frames).unwrap_or_else(|e| panic!("firmware build failed:\n{e}"));
    let device = parse(&run_qemu(&elf));
    let host = host_run::<12, 0, 0, 4>(&model, &read_frames(&frames));
    compare(&device, &host);
    assert!(device.skipped.is_empty());
    assert!(host.2 > 0.8, "VAF {}", host.2);
    println!(
        "nmf on M4: {} instructions/frame, VAF {}",
        device.instructions_per_frame, device.vaf
    );
}

/// A prosthesis must keep running through a bad sample: frames holding NaN or ∞ are reported
/// (`skip,<frame>,<reason>`), the tracker's state is untouched, and the run completes with the
/// same activations and VAF as the host tracker over the same frames.
#[test]
fn non_finite_frames_are_reported_and_skipped_on_qemu() {
    let dir = std::env::temp_dir().join(format!("vaenmf-nan-frames-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(model_dir().join("frames.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(41).map(String::from).collect();
    // Frame 3 (line 4 after the header) gets a NaN in channel 2, frame 17 an ∞ in channel 5.
    let poison = |line: &mut String, channel: usize, value: &str| {
        let mut cells: Vec<&str> = line.split(',').collect();
        cells[channel] = value;
        *line = cells.join(",");
    };
    poison(&mut lines[4], 2, "NaN");
    poison(&mut lines[18], 5, "inf");
    let frames = dir.join("frames-with-nan.csv");
    std::fs::write(&frames, lines.join("\n") + "\n").unwrap();
    let model = model_dir().join("nmf.vnmf");
    let elf = build_firmware("nan-frames", &model, &frames)
        .unwrap_or_else(|e| panic!("firmware build failed:\n{e}"));
    let device = parse(&run_qemu(&elf));
    let skipped: Vec<usize> = device.skipped.iter().map(|(f, _)| *f).collect();
    assert_eq!(skipped, vec![3, 17]);
    assert!(
        device.skipped[0].1.contains("channel 2"),
        "reason names the channel: {}",
        device.skipped[0].1
    );
    assert_eq!(device.activations.len(), 38);
    compare(&device, &host_run::<12, 0, 0, 4>(&model, &read_frames(&frames)));
}

#[test]
fn corrupted_blob_fails_the_firmware_build_with_the_core_message() {
    let dir = std::env::temp_dir().join(format!("vaenmf-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = std::fs::read(model_dir().join("nmf.vnmf")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    let bad = dir.join("bad.vnmf");
    std::fs::write(&bad, bytes).unwrap();
    let err = build_firmware("corrupt", &bad, &model_dir().join("frames.csv")).expect_err("build must fail");
    assert!(
        err.contains("invalid model blob") && err.contains("checksum mismatch"),
        "{err}"
    );
}
