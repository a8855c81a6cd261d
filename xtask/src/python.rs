//! The Python package (`python/`): a virtual environment under `target/python-venv` with what
//! the tests need (`python/requirements-test.txt`), the extension built into it by
//! `maturin develop` in the workspace's target directory — the dev profile and the feature set
//! of `cargo test --workspace`, so burn is not compiled again — and pytest.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, run};

/// The Python interpreter that makes the environment: `VAENMF_PYTHON_BASE` or `python3`.
fn base_python() -> String {
    std::env::var("VAENMF_PYTHON_BASE").unwrap_or_else(|_| "python3".into())
}

/// The environment's folder and its `python`.
fn venv() -> (PathBuf, PathBuf) {
    let dir = root().join("target/python-venv");
    let python = dir.join("bin/python");
    (dir, python)
}

/// Makes the environment (once) and installs the test requirements (again when they change).
pub fn environment() -> Result<PathBuf, String> {
    let (dir, python) = venv();
    if !python.is_file() {
        run(&base_python(), &["-m", "venv", &dir.display().to_string()])?;
    }
    let requirements = root().join("python/requirements-test.txt");
    let wanted = std::fs::read_to_string(&requirements).map_err(|e| format!("{}: {e}", requirements.display()))?;
    let stamp = dir.join("requirements-installed.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let py = python.display().to_string();
        run(&py, &["-m", "pip", "install", "--quiet", "--upgrade", "pip"])?;
        run(&py, &["-m", "pip", "install", "--quiet", "-r", &requirements.display().to_string()])?;
        std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    }
    Ok(python)
}

/// Builds the extension into the environment (`release`: optimised, for benchmarks).
pub fn develop(python: &Path, release: bool) -> Result<(), String> {
    let bin = python.parent().ok_or("the environment has no bin folder")?;
    let maturin = bin.join("maturin").display().to_string();
    let mut args = vec!["develop", "--quiet", "--manifest-path", "python/Cargo.toml"];
    if release {
        args.push("--release");
    }
    with_venv(&maturin, &args, python)
}

/// Runs `program` with the environment active (maturin installs into `VIRTUAL_ENV`).
fn with_venv(program: &str, args: &[&str], python: &Path) -> Result<(), String> {
    eprintln!("+ {program} {}", args.join(" "));
    let dir = python.parent().and_then(Path::parent).ok_or("the environment has no folder")?;
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .env("VIRTUAL_ENV", dir)
        .env_remove("CONDA_PREFIX")
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// The package's tests: environment, extension, pytest. Every test runs: a missing tool (the
/// `vaenmf` binary the workspace tests built, QEMU) fails instead of skipping.
pub fn test() -> Result<(), String> {
    let python = environment()?;
    develop(&python, false)?;
    let py = python.display().to_string();
    eprintln!("+ {py} -m pytest python/tests");
    let status = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "python/tests"])
        .current_dir(root())
        .env("VAENMF_TEST_ALL", "1")
        .env("VAENMF_BIN", root().join("target/debug/vaenmf"))
        .status()
        .map_err(|e| format!("cannot run {py}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the Python package's tests failed ({status})"))
    }
}

/// `python/benchmarks/nmf_vs_sklearn.py` on the optimised extension.
pub fn bench() -> Result<(), String> {
    let python = environment()?;
    develop(&python, true)?;
    run(&python.display().to_string(), &["python/benchmarks/nmf_vs_sklearn.py"])
}
