//! The firmware harness shared by the system tests (`tests/`) and `cargo xtask` (demo, firmware
//! benchmark, footprint table): build the firmware with a model and frames embedded — for QEMU
//! or for a development board — run an ELF on the emulated Cortex-M4F (or, for thumbv6m builds,
//! Cortex-M0) and read what it printed, measure an ELF's flash and RAM. One QEMU command line
//! for the project (the firmware's `.cargo/config.toml` runner, for `cargo run`, spells the
//! same one).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use object::{Object, ObjectSection};

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

/// A development board the firmware builds for (Cortex-M4F, thumbv7em-none-eabihf). None can be
/// flashed here: the tests build and link every binary and check the footprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    /// nRF52840-DK.
    Nrf52840,
    /// STM32F411E-DISCO.
    Stm32f411,
}

impl Board {
    /// Every board.
    pub const ALL: [Board; 2] = [Board::Nrf52840, Board::Stm32f411];

    /// The firmware's cargo feature.
    pub const fn feature(self) -> &'static str {
        match self {
            Board::Nrf52840 => "board-nrf52840",
            Board::Stm32f411 => "board-stm32f411",
        }
    }

    /// Flash and RAM of the part, bytes.
    pub const fn limits(self) -> (u64, u64) {
        match self {
            Board::Nrf52840 => (1024 * 1024, 256 * 1024),
            Board::Stm32f411 => (512 * 1024, 128 * 1024),
        }
    }

    /// Core clock the firmware sets up, Hz.
    pub const fn clock_hz(self) -> u64 {
        match self {
            Board::Nrf52840 => 64_000_000,
            Board::Stm32f411 => 100_000_000,
        }
    }
}

/// The firmware's binaries (`live` needs a board with an ADC source).
pub const FIRMWARE_BINARIES: [&str; 5] = [
    "vaenmf-firmware-example",
    "selftest",
    "kernel_bench",
    "live",
    "speech",
];

/// What the `speech` binary embeds (`VAENMF_SPEECH_MODEL`, `VAENMF_SPEECH_WAV`) and where a
/// QEMU run writes its enhanced samples (`VAENMF_SPEECH_OUT`).
#[derive(Debug, Clone, Copy)]
pub struct SpeechFiles<'a> {
    /// The enhancer.
    pub model: &'a Path,
    /// The noisy recording.
    pub wav: &'a Path,
    /// The output WAV, or none (the firmware prints the samples' checksum only).
    pub out: Option<&'a Path>,
}

/// Flash (vector table, code, read-only data, initialised data) and static RAM (data, bss) of
/// a firmware ELF, bytes. The stack takes the rest of RAM.
pub fn footprint(elf: &Path) -> Result<(u64, u64), String> {
    let bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", elf.display()))?;
    let size = |name: &str| file.section_by_name(name).map_or(0, |s| s.size());
    let flash = size(".vector_table") + size(".text") + size(".rodata") + size(".data");
    let ram = size(".data") + size(".bss") + size(".uninit");
    Ok((flash, ram))
}

/// Builds every firmware binary for `board` with `model` and `frames` embedded (into
/// `target/firmware/<tag>`) and checks each ELF's footprint against the part. Returns the
/// folder holding the ELFs, or why it does not build or fit: the build's own message (a model
/// too large for the part is named by `build.rs`), the linker's overflow restated with the
/// board, or a footprint over the part's limits.
pub fn build_board(board: Board, tag: &str, model: &Path, frames: &Path) -> Result<PathBuf, String> {
    let env = [
        ("VAENMF_MODEL", model.as_os_str()),
        ("VAENMF_FRAMES", frames.as_os_str()),
    ];
    let dir =
        cargo_build(&["--features", board.feature()], Core::M4, tag, &env).map_err(|stderr| match stderr
            .lines()
            .find(|l| l.contains("overflowed by"))
        {
            Some(line) => format!(
                "{} with {} does not fit the part's memory: {}",
                board.feature(),
                model.display(),
                line.trim()
            ),
            None => stderr,
        })?;
    let (flash_limit, ram_limit) = board.limits();
    for bin in FIRMWARE_BINARIES {
        let elf = dir.join(bin);
        if !elf.is_file() {
            continue; // `live` is built for the STM32F411 only
        }
        let (flash, ram) = footprint(&elf)?;
        if flash > flash_limit || ram > ram_limit {
            return Err(format!(
                "{} for {} needs {flash} B flash and {ram} B static RAM; the part has {flash_limit} and {ram_limit}",
                elf.display(),
                board.feature()
            ));
        }
    }
    Ok(dir)
}

/// Builds every firmware binary with `model` and `frames` embedded (see `cargo_build`) and
/// returns the folder holding the ELFs, `target/firmware/<tag>/…`, or the build's stderr on
/// failure.
pub fn build_firmware(tag: &str, model: &Path, frames: &Path) -> Result<PathBuf, String> {
    build_firmware_for(Core::M4, tag, model, frames)
}

/// [`build_firmware`] for `core`'s target.
pub fn build_firmware_for(core: Core, tag: &str, model: &Path, frames: &Path) -> Result<PathBuf, String> {
    let env = [
        ("VAENMF_MODEL", model.as_os_str()),
        ("VAENMF_FRAMES", frames.as_os_str()),
    ];
    cargo_build(&[], core, tag, &env)
}

/// Builds the firmware for QEMU's Cortex-M4F, or with `features` for a board, with the
/// `speech` binary embedding `speech` (the EMG binaries their defaults) and returns the
/// `speech` ELF, or the build's stderr on failure.
pub fn build_speech(tag: &str, speech: SpeechFiles, features: &[&str]) -> Result<PathBuf, String> {
    let mut env = vec![
        ("VAENMF_SPEECH_MODEL", speech.model.as_os_str()),
        ("VAENMF_SPEECH_WAV", speech.wav.as_os_str()),
    ];
    if let Some(out) = speech.out {
        env.push(("VAENMF_SPEECH_OUT", out.as_os_str()));
    }
    cargo_build(features, Core::M4, tag, &env).map(|dir| dir.join("speech"))
}

/// Builds every firmware binary with the files `env` names embedded (the firmware's defaults
/// for the others) and copies the ELFs this build produced to
/// `target/firmware/<tag>/<target>/release`. Every build shares one target
/// directory, `target/firmware/shared` (a nested cargo on the workspace's target directory
/// would wait for the lock an outer `cargo test` holds): the dependencies are compiled once,
/// and only the firmware crate again for each model. Builds and copies of one process take
/// turns, so no build overwrites an ELF before its copy. Returns the folder holding the ELFs,
/// or the build's stderr on failure.
fn cargo_build(
    extra: &[&str],
    core: Core,
    tag: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<PathBuf, String> {
    static ONE_BUILD_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_BUILD_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--quiet",
            "--bins",
            "--message-format=json-render-diagnostics",
            "--target",
            core.target(),
        ])
        .args(extra)
        .arg("--target-dir")
        .arg(root().join("target/firmware/shared"))
        .current_dir(root().join("firmware-example"))
        // Each build embeds only what it names: no setting leaks in from the caller's shell.
        .env_remove("VAENMF_MODEL")
        .env_remove("VAENMF_FRAMES")
        .env_remove("VAENMF_SPEECH_MODEL")
        .env_remove("VAENMF_SPEECH_WAV")
        .env_remove("VAENMF_SPEECH_OUT")
        .envs(env.iter().copied())
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let dir = root()
        .join("target/firmware")
        .join(tag)
        .join(core.target())
        .join("release");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // The binaries of this build, fresh or relinked: cargo's artifact messages name them.
    let messages = String::from_utf8_lossy(&out.stdout);
    let mut copied = 0;
    for elf in messages
        .lines()
        .filter_map(|l| l.split("\"executable\":\"").nth(1)?.split('"').next())
    {
        let elf = Path::new(elf);
        let name = elf
            .file_name()
            .ok_or_else(|| format!("cargo named an executable {}", elf.display()))?;
        std::fs::copy(elf, dir.join(name)).map_err(|e| format!("{}: {e}", elf.display()))?;
        copied += 1;
    }
    if copied == 0 {
        return Err(format!("cargo built no firmware binary for {tag}"));
    }
    Ok(dir)
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
