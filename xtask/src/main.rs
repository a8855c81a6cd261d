//! Project orchestration: `cargo xtask <command>`.
//!
//! - `setup`: installs what the tests need (Cortex-M targets, `qemu-system-arm`).
//! - `test`:  setup, then every test: host workspace tests, the Python package's (its own
//!   virtual environment under `target/python-venv`) and the no_std target builds.
//! - `demo`:  the main job end to end.
//! - `bench [core|trainer|speech|speech-table|firmware|quantize|speech-firmware|python]`: the benchmarks (figures in
//!   the README); all by default.
//! - `fuzz [TARGET|all] [SECONDS]`: cargo-fuzz targets — the blob decoders and every file
//!   loader a user feeds (WAV, NPY, MAT, CSV, manifest) — (nightly; installs what it needs).
//! - `footprint`: the firmware for every board × model: flash, RAM, fits, estimated time per
//!   frame.

mod activations;
mod firmware_bench;
mod footprint;
mod fuzz;
mod python;
mod quantize_bench;
mod speech_firmware_bench;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

const TARGETS: [&str; 2] = ["thumbv7em-none-eabihf", "thumbv6m-none-eabi"];

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("test") => setup().and_then(|()| test()),
        Some("demo") => demo(),
        Some("bench") => bench(args.get(1).map(String::as_str)),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("footprint") => setup().and_then(|()| footprint::footprint_table()),
        _ => Err(
            "usage: cargo xtask <setup|test|demo|bench [core|trainer|speech|speech-table|firmware|quantize|speech-firmware|python]|fuzz [TARGET|all] [SECONDS]|footprint>"
                .to_string(),
        ),
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
    run_with(program, args, &[])
}

/// [`run`] with `env` added to the environment.
fn run_with(program: &str, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result<(), String> {
    eprintln!("+ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
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
    // Debian packages: the emulator, and a font for the plots' text.
    let mut missing = Vec::new();
    if !have("qemu-system-arm") {
        missing.push("qemu-system-arm");
    }
    let font = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    if !font.exists() && env::var_os("VAENMF_FONT").is_none() {
        missing.push("fonts-dejavu-core");
    }
    if !missing.is_empty() {
        if is_root() && have("apt-get") {
            run("apt-get", &["update", "-qq"])?;
            let mut args = vec!["install", "-y", "-qq"];
            args.extend(&missing);
            run("apt-get", &args)?;
        } else {
            return Err(format!(
                "{} missing; install with: sudo apt-get install -y {}",
                missing.join(" and "),
                missing.join(" ")
            ));
        }
    }
    Ok(())
}

fn test() -> Result<(), String> {
    cargo(&["test", "--workspace"])?;
    // The Python package, on the build the workspace tests just made.
    python::test()?;
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

/// Runs `vaenmf` (dev profile: shares the test build; dependencies are optimised). The first
/// call builds it where cargo's progress shows: a first build compiles burn and takes minutes,
/// which `cargo run --quiet` would spend printing nothing.
fn vaenmf(args: &[&str]) -> Result<(), String> {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let mut built = Ok(());
    BUILT.call_once(|| {
        eprintln!(
            "xtask: building the `vaenmf` command line (a first build compiles burn and its \
             dependencies: about 15–20 minutes on 2 cores; later runs start at once)"
        );
        built = cargo(&["build", "-p", "vaenmf-trainer", "--bin", "vaenmf"]);
    });
    built?;
    let mut all = vec!["run", "--quiet", "-p", "vaenmf-trainer", "--bin", "vaenmf", "--"];
    all.extend_from_slice(args);
    cargo(&all)
}

fn read_csv(path: &str) -> Result<Vec<Vec<f32>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    activations::parse_host_csv(path, &text)
}

/// Builds every firmware binary with `model` and `frames` embedded (the shared harness) and
/// returns the folder holding the ELFs.
fn build_firmware(dir: &str, model: &Path, frames: &Path) -> Result<PathBuf, String> {
    eprintln!("+ firmware build {dir} (VAENMF_MODEL={})", model.display());
    vaenmf_system_tests::build_firmware(dir, model, frames)
}

/// Runs a firmware ELF on the emulated Cortex-M4F and returns what it printed.
fn qemu(elf: &Path) -> Result<String, String> {
    eprintln!(
        "+ qemu-system-arm {} -kernel {}",
        vaenmf_system_tests::QEMU_ARGS.join(" "),
        elf.display()
    );
    vaenmf_system_tests::run_qemu(elf)
}

/// Builds the firmware with `model` and the demo frames, runs it on QEMU, and prints device
/// against host activations side by side.
fn firmware_run(tag: &str, model: &str, frames: &str, host_z: &str, host_report: &str) -> Result<(), String> {
    let bin_dir = build_firmware(&format!("demo-{tag}"), Path::new(model), Path::new(frames))?;
    let out = qemu(&bin_dir.join("vaenmf-firmware-example"))?;
    let device = activations::parse_device(&out)?;
    let summary = out
        .lines()
        .find(|l| l.starts_with("summary"))
        .unwrap_or("summary missing");
    let host = read_csv(host_z)?;
    let report = std::fs::read_to_string(host_report).map_err(|e| format!("{host_report}: {e}"))?;
    let host_vaf = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"vaf\": "))
        .unwrap_or("?")
        .trim_end_matches(',');
    println!("\n== {tag}: device (Cortex-M4F on QEMU) against host ==");
    println!("frame | device z                                   | host z");
    for (f, (d, h)) in device.iter().zip(&host).take(5).enumerate() {
        let fmt = |v: &[f32]| v.iter().map(|x| format!("{x:.5}")).collect::<Vec<_>>().join(" ");
        println!("{f:5} | {:42} | {}", fmt(d), fmt(h));
    }
    // Fails the demo unless every activation matches.
    let values = activations::compare(&device, &host).map_err(|e| format!("{tag}: {e}"))?;
    println!(
        "frames {}; {values} of {values} activations bit-identical (vaenmf eval runs the core's inference)",
        device.len()
    );
    println!("host VAF {host_vaf}; device {summary}");
    Ok(())
}

/// The main job: synthetic data with known synergies and the real gait EMG → NMF and
/// VAE-NMF → model blobs → the firmware built with each model → run on QEMU → device against
/// host, VAF on both, instructions per frame; reports, models and plots under `out/demo/`.
fn demo() -> Result<(), String> {
    setup()?;
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
    let gait = demo_gait_matrix();
    if !gait.exists() {
        return Err(format!(
            "{} not found: the repository is incomplete",
            gait.display()
        ));
    }
    let gait = gait.display().to_string();
    let data = ["--data", &gait, "--channels-in-rows"];
    let split = ["--frames", "0:7900", "--test-frames", "7900:9900"];
    vaenmf(
        &[
            &["train"][..],
            &data,
            &split,
            &[
                "--method",
                "nmf",
                "--rank",
                "4",
                "--out",
                &p("gait/nmf.vnmf"),
                "--report",
                &p("gait/nmf.json"),
                "--plots",
                &p("gait/plots-nmf"),
            ],
        ]
        .concat(),
    )?;
    // A VAE-NMF small enough to train in well under a minute (hidden 32 × 32).
    vaenmf(
        &[
            &["train"][..],
            &data,
            &split,
            &[
                "--method",
                "vae-nmf",
                "--rank",
                "4",
                "--hidden",
                "32,32",
                "--epochs",
                "200",
                "--patience",
                "0",
                "--lr",
                "3e-3",
                "--out",
                &p("gait/vae-nmf.vnmf"),
                "--report",
                &p("gait/vae-nmf.json"),
                "--plots",
                &p("gait/plots-vae-nmf"),
            ],
        ]
        .concat(),
    )?;
    vaenmf(&["inspect", &p("gait/vae-nmf.vnmf")])?;
    // 200 recorded frames from the held-out cycles, as the device receives them.
    vaenmf(
        &[
            &["frames"][..],
            &data,
            &["--frames", "7900:8100", "--out", &p("gait/frames.csv")],
        ]
        .concat(),
    )?;
    for tag in ["vae-nmf", "nmf"] {
        vaenmf(&[
            "eval",
            "--model",
            &p(&format!("gait/{tag}.vnmf")),
            "--data",
            &p("gait/frames.csv"),
            "--report",
            &p(&format!("gait/{tag}-frames.json")),
            "--activations",
            &p(&format!("gait/{tag}-host-z.csv")),
        ])?;
        firmware_run(
            tag,
            &p(&format!("gait/{tag}.vnmf")),
            &p("gait/frames.csv"),
            &p(&format!("gait/{tag}-host-z.csv")),
            &p(&format!("gait/{tag}-frames.json")),
        )?;
    }
    speech_demo(&out.join("speech"))?;
    println!("\nreports, models and plots: {}", out.display());
    Ok(())
}

/// Speech enhancement on the bundled speech set: NMF dictionaries from the train files, noisy
/// test mixtures, scores and spectrograms; then a VAE-NMF enhancer trained on the same files
/// and streamed through the core on the same mixtures.
fn speech_demo(out: &Path) -> Result<(), String> {
    let mini = root().join("data/speech-mini");
    let m = |rel: &str| mini.join(rel).display().to_string();
    let p = |name: &str| out.join(name).display().to_string();
    let noises = ["babble", "running_tap"];
    let sources = [("speech".to_string(), "clean/train".to_string())]
        .into_iter()
        .chain(noises.map(|n| (n.to_string(), format!("noise/{n}/train.wav"))));
    for (name, files) in sources {
        vaenmf(&[
            "speech",
            "dict",
            "--rank",
            "40",
            "-o",
            &p(&format!("{name}.vnmf")),
            &m(&files),
        ])?;
    }
    let mut mix = vec![
        "speech".to_string(),
        "mix".into(),
        "--speech".into(),
        m("clean/test"),
    ];
    let mut eval = vec![
        "speech".to_string(),
        "eval".into(),
        "--manifest".into(),
        p("test-mix/manifest.csv"),
        "--speech".into(),
        p("speech.vnmf"),
    ];
    for n in noises {
        mix.extend([
            "--noise".into(),
            format!("{n}={}", m(&format!("noise/{n}/test.wav"))),
        ]);
        eval.extend(["--noise".into(), format!("{n}={}", p(&format!("{n}.vnmf")))]);
    }
    mix.extend([
        "--snr=-5,0,5,10".into(),
        "--seed".into(),
        "1".into(),
        "--out".into(),
        p("test-mix"),
    ]);
    eval.extend(["--out".into(), p("eval")]);
    vaenmf(&mix.iter().map(String::as_str).collect::<Vec<_>>())?;
    vaenmf(&eval.iter().map(String::as_str).collect::<Vec<_>>())?;
    // A VAE-NMF enhancer small enough to train in about a minute (rank 20, 64 × 64 VAEs, a
    // 128 × 128 activation network), streamed hop by hop through the core on the same
    // mixtures.
    let model = p("vae-nmf.vnmf");
    let mut train = vec![
        "speech".to_string(),
        "train".into(),
        "--method".into(),
        "vae-nmf".into(),
        "--speech-train".into(),
        m("clean/train"),
    ];
    for n in noises {
        train.extend([
            "--noise".into(),
            format!("{n}={}", m(&format!("noise/{n}/train.wav"))),
        ]);
    }
    train.extend(
        [
            "--rank",
            "20",
            "--vae-hidden",
            "64,64",
            "--vae-epochs",
            "20",
            "--net-hidden",
            "128,128",
            "--net-epochs",
            "10",
            "-o",
            &model,
            "--report",
        ]
        .map(String::from),
    );
    train.push(p("vae-nmf-training.json"));
    vaenmf(&train.iter().map(String::as_str).collect::<Vec<_>>())?;
    vaenmf(&["inspect", &model])?;
    vaenmf(&[
        "speech",
        "eval",
        "--manifest",
        &p("test-mix/manifest.csv"),
        "--model",
        &model,
        "--stream",
        "--out",
        &p("eval-vae-nmf"),
    ])
}

/// The demo's real EMG: the project's bundled copy, never `../shared` (a fresh clone must
/// run the demo on its own).
fn demo_gait_matrix() -> PathBuf {
    root().join("data/gait120-sts/V_matrix.npy")
}

fn bench(only: Option<&str>) -> Result<(), String> {
    const GROUPS: [&str; 8] = [
        "core",
        "trainer",
        "speech",
        "speech-table",
        "firmware",
        "quantize",
        "speech-firmware",
        "python",
    ];
    if let Some(other) = only.filter(|g| !GROUPS.contains(g)) {
        return Err(format!(
            "unknown benchmark group '{other}' ({})",
            GROUPS.join(", ")
        ));
    }
    let all = only.is_none();
    if all || only == Some("core") {
        cargo(&["bench", "-p", "vaenmf-core", "--bench", "inference"])?;
    }
    if all || only == Some("trainer") {
        cargo(&["bench", "-p", "vaenmf-trainer", "--bench", "nmf"])?;
        cargo(&["bench", "-p", "vaenmf-trainer", "--bench", "vae"])?;
    }
    if all || only == Some("speech") {
        cargo(&["bench", "-p", "vaenmf-trainer", "--bench", "speech"])?;
    }
    if all || only == Some("speech-table") {
        speech_table_bench()?;
    }
    if all || only == Some("firmware") {
        setup()?;
        firmware_bench::bench()?;
    }
    if all || only == Some("quantize") {
        quantize_bench::bench()?;
    }
    if all || only == Some("speech-firmware") {
        setup()?;
        speech_firmware_bench::bench()?;
    }
    if all || only == Some("python") {
        python::bench()?;
    }
    Ok(())
}

/// The full speech set: `VAENMF_SPEECH_DATA`, else `../shared/data/speech` beside the
/// project. Too large to bundle; only the benchmarks use it.
fn speech_data() -> Result<PathBuf, String> {
    let dir = env::var_os("VAENMF_SPEECH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data/speech"));
    if dir.join("clean/train").is_dir() && dir.join("noise").is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "the speech data set is not at {} (expected clean/train, clean/test and noise/NAME/{{train,test}}.wav); set VAENMF_SPEECH_DATA to its folder",
            dir.display()
        ))
    }
}

/// The paper's Tables 1 and 2 on the full speech set (4 noises) with `speech table`'s
/// defaults, which are sized to finish within half an hour on two cores (1 286 s measured).
/// Writes out/bench/speech-table/{table.json,table.md} and every trained enhancer to
/// out/bench/speech-table/models/.
fn speech_table_bench() -> Result<(), String> {
    let data = speech_data()?;
    let d = |rel: &str| data.join(rel).display().to_string();
    let out = root().join("out/bench/speech-table").display().to_string();
    let models = root().join("out/bench/speech-table/models").display().to_string();
    let mut args: Vec<String> = [
        "run",
        "--release",
        "--quiet",
        "-p",
        "vaenmf-trainer",
        "--bin",
        "vaenmf",
        "--",
        "speech",
        "table",
        "--speech-train",
        &d("clean/train"),
        "--speech-test",
        &d("clean/test"),
        "--loop-noise",
        "--out",
        &out,
        "--save-models",
        &models,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for noise in SPEECH_TABLE_NOISES {
        args.extend([
            "--noise".to_string(),
            format!(
                "{noise}={}:{}",
                d(&format!("noise/{noise}/train.wav")),
                d(&format!("noise/{noise}/test.wav"))
            ),
        ]);
    }
    cargo(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Noise types of the speech table benchmark.
const SPEECH_TABLE_NOISES: [&str; 4] = ["babble", "doing_the_dishes", "exercise_bike", "running_tap"];

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's two commands must work from a clone of the project alone.
    #[test]
    fn demo_data_resolves_inside_the_repository() {
        let gait = demo_gait_matrix();
        assert!(gait.exists(), "{}", gait.display());
        let repo = root().canonicalize().unwrap();
        let data = gait.canonicalize().unwrap();
        assert!(
            data.starts_with(&repo),
            "{} is outside {}",
            data.display(),
            repo.display()
        );
    }
}
