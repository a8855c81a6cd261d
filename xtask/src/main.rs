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
        Some("demo") => demo(&args[1..]),
        Some("bench") => bench(),
        _ => Err("usage: cargo xtask <setup|test|demo|bench>".to_string()),
    };
    if let Err(message) = result {
        eprintln!("xtask: {message}");
        exit(1);
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
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
    cargo(&["test", "--workspace", "--all-features"])?;
    cargo(&["test", "--workspace"])?;
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

fn demo(extra: &[String]) -> Result<(), String> {
    let mut args = vec![
        "run",
        "--release",
        "-p",
        "vaenmf-core",
        "--features",
        "std",
        "--example",
        "track",
        "--",
    ];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)
}

fn bench() -> Result<(), String> {
    cargo(&["bench", "-p", "vaenmf-core", "--bench", "inference"])
}
