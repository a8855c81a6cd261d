//! The Python package (`python/`): a virtual environment under `target/python-venv` with what
//! the tests need (`python/requirements-test.txt`), the extension built into it by
//! `maturin develop` in the workspace's target directory — the dev profile and the feature set
//! of `cargo test --workspace`, so burn is not compiled again — and pytest.

use std::path::{Path, PathBuf};

use crate::{root, run, run_with};

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
    let wanted =
        std::fs::read_to_string(&requirements).map_err(|e| format!("{}: {e}", requirements.display()))?;
    let stamp = dir.join("requirements-installed.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let py = python.display().to_string();
        run(&py, &["-m", "pip", "install", "--quiet", "--upgrade", "pip"])?;
        run(
            &py,
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                &requirements.display().to_string(),
            ],
        )?;
        std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    }
    Ok(python)
}

/// Builds the extension into the environment (`release`: optimised, for benchmarks).
pub fn develop(python: &Path, release: bool) -> Result<(), String> {
    let bin = python.parent().ok_or("the environment has no bin folder")?;
    let venv = bin.parent().ok_or("the environment has no folder")?;
    let maturin = bin.join("maturin").display().to_string();
    let mut args = vec!["develop", "--quiet", "--manifest-path", "python/Cargo.toml"];
    if release {
        args.push("--release");
    }
    // maturin installs into the environment `VIRTUAL_ENV` names.
    run_with(&maturin, &args, &[("VIRTUAL_ENV", venv.as_os_str())])
}

/// The package's tests: environment, extension, pytest. Every test runs: a missing tool (the
/// `vaenmf` binary the workspace tests built, QEMU) fails instead of skipping.
pub fn test() -> Result<(), String> {
    let python = environment()?;
    develop(&python, false)?;
    let bin = root().join("target/debug/vaenmf");
    run_with(
        &python.display().to_string(),
        &["-m", "pytest", "-q", "-p", "no:cacheprovider", "python/tests"],
        &[("VAENMF_TEST_ALL", "1".as_ref()), ("VAENMF_BIN", bin.as_os_str())],
    )
}

/// `python/benchmarks/nmf_vs_sklearn.py` on the optimised extension.
pub fn bench() -> Result<(), String> {
    let python = environment()?;
    develop(&python, true)?;
    run(
        &python.display().to_string(),
        &["python/benchmarks/nmf_vs_sklearn.py"],
    )
}
