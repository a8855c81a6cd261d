//! The firmware harness shared by the system tests (`tests/`) and `cargo xtask` (demo and
//! firmware benchmark): build the firmware with a model and frames embedded, run an ELF on the
//! emulated Cortex-M4F (or, for thumbv6m builds, Cortex-M0), read what it printed. One QEMU command line for the project (the
//! firmware's `.cargo/config.toml` runner, for `cargo run`, spells the same one).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// QEMU's arguments before `-kernel ELF`: Cortex-M4F on mps2-an386, semihosting for output
/// and exit, one instruction per virtual nanosecond (the instruction counter's time base).
pub const QEMU_ARGS: [&str; 9] = [
    "-cpu",
    "cortex-m4",
    "-machine",
    "mps2-an386",
    "-nographic",
    "-semihosting-config",
    "enable=on,target=native",
    "-icount",
    "shift=0",
];

/// The same for the Cortex-M0 builds (thumbv6m): the BBC micro:bit (nRF51822), whose CPU is
/// fixed by the machine.
pub const QEMU_ARGS_M0: [&str; 7] = [
    "-machine",
    "microbit",
    "-nographic",
    "-semihosting-config",
    "enable=on,target=native",
    "-icount",
    "shift=0",
];

/// An emulated core the firmware runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Core {
    /// Cortex-M4F (thumbv7em-none-eabihf) on mps2-an386.
    M4,
    /// Cortex-M0 (thumbv6m-none-eabi) on the micro:bit.
    M0,
}

impl Core {
    /// The Rust target the firmware is built for.
    pub const fn target(self) -> &'static str {
        match self {
            Core::M4 => "thumbv7em-none-eabihf",
            Core::M0 => "thumbv6m-none-eabi",
        }
    }

    /// QEMU's arguments before `-kernel ELF`.
    pub fn qemu_args(self) -> &'static [&'static str] {
        match self {
            Core::M4 => &QEMU_ARGS,
            Core::M0 => &QEMU_ARGS_M0,
        }
    }
}

/// Longest a firmware run may take before it is stopped as hung.
pub const QEMU_TIME_LIMIT: Duration = Duration::from_secs(300);

/// Builds every firmware binary with `model` and `frames` embedded into its own target
/// directory `target/firmware/<tag>` (a nested cargo on the workspace's target directory would
/// wait for the lock an outer `cargo test` holds). Returns the folder holding the ELFs, or the
/// build's stderr on failure.
pub fn build_firmware(tag: &str, model: &Path, frames: &Path) -> Result<PathBuf, String> {
    build_firmware_for(Core::M4, tag, model, frames)
}

/// [`build_firmware`] for `core`'s target.
pub fn build_firmware_for(core: Core, tag: &str, model: &Path, frames: &Path) -> Result<PathBuf, String> {
    let target_dir = root().join("target/firmware").join(tag);
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--quiet",
            "--bins",
            "--target",
            core.target(),
            "--target-dir",
        ])
        .arg(&target_dir)
        .current_dir(root().join("firmware-example"))
        .env("VAENMF_MODEL", model)
        .env("VAENMF_FRAMES", frames)
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.status.success() {
        Ok(target_dir.join(core.target()).join("release"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Runs an ELF on the emulated Cortex-M4F and returns its standard output; a failure exit
/// (a panic in the firmware), a missing `qemu-system-arm` or a run past
/// [`QEMU_TIME_LIMIT`] is an error.
pub fn run_qemu(elf: &Path) -> Result<String, String> {
    run_qemu_on(Core::M4, elf)
}

/// [`run_qemu`] on `core`'s machine.
pub fn run_qemu_on(core: Core, elf: &Path) -> Result<String, String> {
    let mut child = Command::new("qemu-system-arm")
        .args(core.qemu_args())
        .arg("-kernel")
        .arg(elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot start qemu-system-arm ({e}): install it with `apt-get install -y qemu-system-arm` (or run `cargo xtask setup`)")
        })?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!(
                    "{} failed ({status}): {}",
                    elf.display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            return String::from_utf8(out.stdout).map_err(|e| e.to_string());
        }
        if start.elapsed() > QEMU_TIME_LIMIT {
            let _ = child.kill();
            return Err(format!(
                "{} did not finish within {} s",
                elf.display(),
                QEMU_TIME_LIMIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
