//! The firmware under QEMU (Cortex-M4F, mps2-an386) against the core on the host, frame by
//! frame, for both paths: a VAE-NMF model (encoder) and an NMF-only model (NNLS on the device).
//!
//! Activations must be bit-identical: host and device run the same code in IEEE-754 single
//! precision, sums in a fixed order, no fused multiply-add on either side, and every
//! elementary function (libm's expf/log1pf, correctly rounded sqrt) gives the same result; the
//! device prints each value in the shortest form that parses back to the same f32.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vaenmf_core::{ModelStorage, SynergyTracker};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn require_qemu() {
    let ok = Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "qemu-system-arm not found: install it with `apt-get install -y qemu-system-arm` (or run `cargo xtask setup`)"
    );
}

/// Builds the firmware with `model` and `frames` into its own target directory (a nested
/// cargo on the workspace's target directory would wait for the lock the outer `cargo test`
/// holds). Returns the ELF, or the build's stderr on failure.
fn build_firmware(tag: &str, model: &Path, frames: &Path) -> Result<PathBuf, String> {
    let target_dir = root().join("target/firmware").join(tag);
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "--target-dir"])
        .arg(&target_dir)
        .current_dir(root().join("firmware-example"))
        .env("VAENMF_MODEL", model)
        .env("VAENMF_FRAMES", frames)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    if out.status.success() {
        Ok(target_dir.join("thumbv7em-none-eabihf/release/vaenmf-firmware-example"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The self-test binary built next to the tracking firmware.
fn selftest_elf(tracking_elf: &Path) -> PathBuf {
    tracking_elf.with_file_name("selftest")
}

/// Runs the ELF in QEMU (with a time limit) and returns its standard output.
fn run_qemu(elf: &Path) -> String {
    require_qemu();
    let mut child = Command::new("qemu-system-arm")
        .args(["-cpu", "cortex-m4", "-machine", "mps2-an386", "-nographic"])
        .args([
            "-semihosting-config",
            "enable=on,target=native",
            "-icount",
            "shift=0",
            "-kernel",
        ])
        .arg(elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qemu");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for qemu") {
            let out = child.wait_with_output().expect("qemu output");
            assert!(
                status.success(),
                "firmware failed ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return String::from_utf8(out.stdout).expect("utf-8 output");
        }
        if start.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!("firmware did not finish within 300 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct DeviceRun {
    activations: Vec<Vec<f32>>,
    vaf: f32,
    instructions_per_frame: u64,
    macs_per_frame: u64,
}

fn parse(output: &str) -> DeviceRun {
    let mut activations = Vec::new();
    let mut summary = None;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("z,") {
            let mut cells = rest.split(',');
            let frame: usize = cells.next().unwrap().parse().unwrap();
            assert_eq!(frame, activations.len(), "frames out of order");
            activations.push(cells.map(|c| c.parse::<f32>().unwrap()).collect());
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
    DeviceRun {
        activations,
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

/// The host side: the same blob decoded by the core, the same frames through the tracker.
fn host_run<const M: usize, const H1: usize, const H2: usize, const R: usize>(
    model: &Path,
    frames: &[Vec<f32>],
) -> (Vec<[f32; R]>, f32) {
    let bytes = std::fs::read(model).unwrap();
    let mut storage = Box::new(ModelStorage::<M, H1, H2, R>::new());
    let model = storage.decode(&bytes).unwrap();
    let mut tracker = SynergyTracker::<M, H1, H2, R, 200>::new(model);
    let z = frames
        .iter()
        .map(|f| {
            tracker
                .push(&f.as_slice().try_into().unwrap())
                .unwrap()
                .activations
        })
        .collect();
    (z, tracker.vaf().unwrap())
}

fn compare<const R: usize>(device: &DeviceRun, host: &(Vec<[f32; R]>, f32)) {
    assert_eq!(device.activations.len(), host.0.len());
    for (f, (d, h)) in device.activations.iter().zip(&host.0).enumerate() {
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
        host.1.to_bits(),
        "VAF device {} vs host {}",
        device.vaf,
        host.1
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
    println!(
        "vae-nmf on M4: {} instructions/frame, {:.2} per MAC, VAF {}",
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
    assert!(host.1 > 0.8, "VAF {}", host.1);
    println!(
        "nmf on M4: {} instructions/frame, VAF {}",
        device.instructions_per_frame, device.vaf
    );
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
