//! Parameters are checked once: every out-of-range flag is an `error:` line naming the flag,
//! the value and what is allowed, exit status 1, and no output file. And a run's outputs are
//! written as a set: when one cannot be written, none is.

use crate::support;

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use support::vaenmf;

/// A small envelope CSV (time in rows, 4 channels) in `dir`.
fn data(dir: &Path) -> PathBuf {
    let mut text = String::from("a,b,c,d\n");
    for f in 0..200 {
        let t = f as f64 / 20.0;
        text += &format!(
            "{},{},{},{}\n",
            t.sin().abs(),
            t.cos().abs(),
            (0.5 * t).sin().abs(),
            0.1 + 0.05 * (f % 7) as f64
        );
    }
    let path = dir.join("emg.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// `vaenmf train … <flags>` fails with exit status 1, every fragment in stderr, and writes
/// neither the model nor the report.
fn train_rejects(flags: &[&str], fragments: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut cmd = vaenmf();
    cmd.arg("train");
    if !flags.contains(&"--rank") {
        cmd.args(["--rank", "2"]);
    }
    cmd.arg("--data")
        .arg(data(d))
        .arg("--out")
        .arg(d.join("m.vnmf"))
        .arg("--report")
        .arg(d.join("r.json"))
        .args(flags);
    let mut assert = cmd
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: "));
    for fragment in fragments {
        assert = assert.stderr(predicate::str::contains(*fragment));
    }
    let _ = assert;
    assert!(!d.join("m.vnmf").exists(), "model written despite the error");
    assert!(!d.join("r.json").exists(), "report written despite the error");
}

macro_rules! rejected {
    ($($name:ident: [$($flag:expr),*] => [$($fragment:expr),*];)*) => {$(
        #[test]
        fn $name() {
            train_rejects(&[$($flag),*], &[$($fragment),*]);
        }
    )*};
}

const VAE: &str = "vae-nmf";

rejected! {
    lr_zero: ["--method", VAE, "--lr", "0"] => ["--lr 0", "a finite number > 0"];
    lr_negative: ["--method", VAE, "--lr", "-0.001"] => ["--lr -0.001", "> 0"];
    lr_infinite: ["--method", VAE, "--lr", "inf"] => ["--lr inf", "finite"];
    sigma_zero: ["--method", VAE, "--sigma", "0"] => ["--sigma 0", "a finite number > 0"];
    alpha0_zero: ["--method", VAE, "--alpha0", "0"] => ["--alpha0 0", "> 0"];
    alpha0_negative: ["--method", VAE, "--alpha0", "-1"] => ["--alpha0 -1", "> 0"];
    gamma_negative: ["--method", VAE, "--gamma", "-5"] => ["--gamma -5", "≥ 0"];
    gamma_nan: ["--method", VAE, "--gamma", "NaN"] => ["--gamma NaN", "finite"];
    weight_decay_negative: ["--method", VAE, "--weight-decay", "-0.1"] => ["--weight-decay -0.1", "≥ 0"];
    validation_too_large: ["--method", VAE, "--validation", "0.9"] => ["--validation 0.9", "(0, 0.5]"];
    validation_above_one: ["--method", VAE, "--validation", "1.5"] => ["--validation 1.5", "(0, 0.5]"];
    validation_negative: ["--method", VAE, "--validation", "-0.1"] => ["--validation -0.1", "(0, 0.5]"];
    boost_zero: ["--method", VAE, "--boost", "0"] => ["--boost 0", "at least 1"];
    batch_size_zero: ["--method", VAE, "--batch-size", "0"] => ["--batch-size 0", "between 1 and 65536"];
    batch_size_above_cap: ["--method", VAE, "--batch-size", "65537"] => ["--batch-size 65537", "between 1 and 65536"];
    epochs_zero: ["--method", VAE, "--epochs", "0"] => ["--epochs 0", "between 1 and 100000"];
    epochs_above_cap: ["--method", VAE, "--epochs", "100001"] => ["--epochs 100001", "between 1 and 100000"];
    hidden_too_wide: ["--method", VAE, "--hidden", "8193,10"] => ["--hidden 8193,10", "two widths between 1 and 8192"];
    checkpoint_every_without_dir: ["--method", VAE, "--checkpoint-every", "5"]
        => ["--checkpoint-every 5", "--checkpoint-dir"];
    restarts_zero: ["--restarts", "0"] => ["--restarts 0", "between 1 and 1000"];
    restarts_above_cap: ["--restarts", "1001"] => ["--restarts 1001", "between 1 and 1000"];
    iterations_zero: ["--iterations", "0"] => ["--iterations 0", "between 1 and 1000000"];
    iterations_above_cap: ["--iterations", "1000001"] => ["--iterations 1000001", "between 1 and 1000000"];
    tol_negative: ["--tol", "-1"] => ["--tol -1", "≥ 0"];
    sparsity_negative: ["--method", "sparse-nmf", "--sparsity", "-0.5"] => ["--sparsity -0.5", "≥ 0"];
    rank_above_cap: ["--rank", "17"] => ["--rank 17", "between 1 and 16"];
    ninapro_with_frames: ["--ninapro", "--frames", "0:100"] => ["--ninapro splits by repetition", "--frames"];
    ninapro_with_test_frames: ["--ninapro", "--test-frames", "0:100"] => ["--ninapro splits by repetition", "--test-frames"];
    movement_without_ninapro: ["--movement", "3"] => ["--movement 3 only applies with --ninapro"];
    fs_without_envelope: ["--fs", "2000"] => ["--fs 2000 only applies with --envelope"];
    decimate_without_envelope: ["--decimate", "4"] => ["--decimate 4 only applies with --envelope"];
    causal_envelope_without_envelope: ["--causal-envelope"] => ["--causal-envelope only applies with --envelope"];
    envelope_without_fs: ["--envelope"] => ["--envelope needs --fs"];
    lowpass_above_nyquist: ["--envelope", "--fs", "100", "--lowpass", "60"]
        => ["--lowpass 60", "Nyquist frequency 50 Hz"];
    envelope_fs_zero: ["--envelope", "--fs", "0"] => ["--fs 0", "> 0"];
    names_wrong_count: ["--names", "a,b,c"] => ["--names gives 3 names", "4 channels"];
    test_var_without_test: ["--test-var", "emg"] => ["--test-var needs --test"];
    unparsable_flag: ["--lr", "fast"] => ["--lr", "fast"];
}

/// A report that cannot be written (its folder is a file) leaves no model behind either.
#[test]
fn outputs_are_written_as_a_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("taken"), b"a file, not a folder").unwrap();
    vaenmf()
        .args(["train", "--rank", "2", "--iterations", "50", "--data"])
        .arg(data(d))
        .arg("--out")
        .arg(d.join("m.vnmf"))
        .arg("--report")
        .arg(d.join("taken/r.json"))
        .arg("--plots")
        .arg(d.join("plots"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("taken"));
    assert!(!d.join("m.vnmf").exists(), "model left behind");
    let plots: Vec<_> = std::fs::read_dir(d.join("plots"))
        .map(|r| r.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(plots.is_empty(), "plots left behind: {plots:?}");
    // No temporary files either.
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".vaenmf-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // The same command with a writable report writes everything.
    vaenmf()
        .args(["train", "--rank", "2", "--iterations", "50", "--data"])
        .arg(d.join("emg.csv"))
        .arg("--out")
        .arg(d.join("m.vnmf"))
        .arg("--report")
        .arg(d.join("r.json"))
        .arg("--plots")
        .arg(d.join("plots"))
        .assert()
        .success();
    for file in [
        "m.vnmf",
        "r.json",
        "plots/synergies.png",
        "plots/activations.png",
        "plots/reconstruction.png",
    ] {
        assert!(d.join(file).exists(), "{file}");
    }
}
