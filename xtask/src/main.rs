//! Project orchestration: `cargo xtask <command>`.
//!
//! - `setup`: installs what the tests need (Cortex-M targets, `qemu-system-arm`).
//! - `test`:  setup, then every test: host workspace tests and the no_std target builds.
//! - `demo`:  the main job end to end.
//! - `bench`: the benchmarks (figures in the README).

use std::env;
use std::path::PathBuf;
use std::process::{exit, Command};

const TARGETS: [&str; 2] = ["thumbv7em-none-eabihf", "thumbv6m-none-eabi"];

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("test") => setup().and_then(|()| test()),
        Some("demo") => demo(),
        Some("bench") => bench(),
        _ => Err("usage: cargo xtask <setup|test|demo|bench>".to_string()),
    };
    if let Err(message) = result {
        eprintln!("xtask: {message}");
        exit(1);
    }
}

fn root() -> PathBuf {
    let xtask = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().map(PathBuf::from).unwrap_or(xtask)
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("+ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn cargo(args: &[&str]) -> Result<(), String> {
    run(&env::var("CARGO").unwrap_or_else(|_| "cargo".into()), args)
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs the Cortex-M targets (rustup) and `qemu-system-arm` (apt-get, as root).
fn setup() -> Result<(), String> {
    let mut args = vec!["target", "add"];
    args.extend(TARGETS);
    run("rustup", &args)?;
    if !have("qemu-system-arm") {
        if is_root() && have("apt-get") {
            run("apt-get", &["update", "-qq"])?;
            run("apt-get", &["install", "-y", "-qq", "qemu-system-arm"])?;
        } else {
            return Err(
                "qemu-system-arm is missing; install it with: sudo apt-get install -y qemu-system-arm".into(),
            );
        }
    }
    Ok(())
}

fn test() -> Result<(), String> {
    cargo(&["test", "--workspace"])?;
    // The core's optional features (alloc/std, fast-math) change its code paths.
    cargo(&["test", "-p", "vaenmf-core", "--all-features"])?;
    for target in TARGETS {
        cargo(&[
            "build",
            "-p",
            "vaenmf-core",
            "--no-default-features",
            "--target",
            target,
        ])?;
    }
    cargo(&[
        "build",
        "-p",
        "vaenmf-core",
        "--no-default-features",
        "--features",
        "fast-math",
        "--target",
        TARGETS[0],
    ])?;
    Ok(())
}

/// Runs `vaenmf` (dev profile: shares the test build; dependencies are optimised).
fn vaenmf(args: &[&str]) -> Result<(), String> {
    let mut all = vec!["run", "--quiet", "-p", "vaenmf-trainer", "--bin", "vaenmf", "--"];
    all.extend_from_slice(args);
    cargo(&all)
}

/// The main job: synthetic data with known synergies and the real gait EMG → NMF → model
/// blob → evaluation, plots and reports under `out/demo/`; then the core tracking frames
/// from a blob on the host.
fn demo() -> Result<(), String> {
    let out = root().join("out/demo");
    let p = |name: &str| out.join(name).display().to_string();
    vaenmf(&[
        "synth",
        "--out",
        &p("synthetic"),
        "--channels",
        "10",
        "--rank",
        "4",
        "--frames",
        "20000",
        "--test-frames",
        "5000",
        "--snr-db",
        "20",
        "--noise",
        "gaussian",
        "--seed",
        "1",
    ])?;
    vaenmf(&[
        "train",
        "--data",
        &p("synthetic/train.csv"),
        "--test",
        &p("synthetic/test.csv"),
        "--truth",
        &p("synthetic/synergies.csv"),
        "--method",
        "nmf",
        "--rank",
        "4",
        "--out",
        &p("synthetic/nmf.vnmf"),
        "--report",
        &p("synthetic/nmf.json"),
        "--plots",
        &p("synthetic/plots"),
    ])?;
    vaenmf(&["inspect", &p("synthetic/nmf.vnmf")])?;
    let gait = std::env::var_os("VAENMF_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"))
        .join("gait120-sts/V_matrix.npy");
    if gait.exists() {
        let gait = gait.display().to_string();
        vaenmf(&[
            "train",
            "--data",
            &gait,
            "--channels-in-rows",
            "--method",
            "nmf",
            "--rank",
            "4",
            "--frames",
            "0:7900",
            "--test-frames",
            "7900:9900",
            "--out",
            &p("gait/nmf.vnmf"),
            "--report",
            &p("gait/nmf.json"),
            "--plots",
            &p("gait/plots"),
        ])?;
        vaenmf(&[
            "rank",
            "--data",
            &gait,
            "--channels-in-rows",
            "--max-rank",
            "8",
            "--report",
            &p("gait/rank.json"),
            "--plots",
            &p("gait/plots"),
        ])?;
    } else {
        eprintln!(
            "xtask: {} not found: skipping the real-data part (set VAENMF_SHARED_DATA)",
            gait.display()
        );
    }
    cargo(&[
        "run",
        "--quiet",
        "-p",
        "vaenmf-core",
        "--features",
        "std",
        "--example",
        "track",
    ])?;
    eprintln!("xtask: reports, models and plots are under {}", out.display());
    Ok(())
}

fn bench() -> Result<(), String> {
    cargo(&["bench", "-p", "vaenmf-core", "--bench", "inference"])?;
    cargo(&["bench", "-p", "vaenmf-trainer", "--bench", "nmf"])
}
