//! Every bad-input case: a one-line error naming the problem, a non-zero exit, no output.

use crate::support;

use std::path::Path;

use predicates::prelude::*;
use support::{vaenmf, write_mat_v5, MatVar};

/// Runs `vaenmf train` on `data` with extra arguments and checks failure, the message and
/// that neither output file exists.
fn train_fails(dir: &Path, data: &Path, extra: &[&str], message: &str) {
    let out = dir.join("out");
    let model = out.join("model.vnmf");
    let report = out.join("report.json");
    let assert = vaenmf()
        .args(["train", "--method", "nmf", "--iterations", "50"])
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(&model)
        .arg("--report")
        .arg(&report)
        .args(extra)
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(message));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "one error line expected:\n{stderr}"
    );
    assert!(!model.exists() && !report.exists(), "partial output left behind");
    // No temporary files either.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "unexpected files: {leftovers:?}");
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn good_csv() -> String {
    let mut s = String::from("a,b,c\n");
    for i in 0..40 {
        s += &format!(
            "{},{},{}\n",
            0.1 + (i % 5) as f32 * 0.1,
            0.2 + (i % 3) as f32 * 0.1,
            0.3
        );
    }
    s
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    train_fails(dir.path(), &missing, &["--rank", "1"], "nope.csv: no such file");
}

#[test]
fn ragged_csv_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "ragged.csv", "a,b,c\n1,2,3\n4,5\n");
    train_fails(
        dir.path(),
        &data,
        &["--rank", "1"],
        "ragged.csv: row 3 has 2 columns, expected 3",
    );
}

#[test]
fn non_numeric_csv_cell() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "text.csv", "1,2,3\n4,x5,6\n");
    train_fails(
        dir.path(),
        &data,
        &["--rank", "1"],
        "text.csv: row 2, column 2: 'x5' is not a number",
    );
}

#[test]
fn non_finite_value() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "nan.csv", "a,b,c\n1,2,3\n4,5,NaN\n7,inf,9\n");
    train_fails(
        dir.path(),
        &data,
        &["--rank", "1"],
        "nan.csv: non-finite value NaN at frame 2, channel 3",
    );
}

#[test]
fn rank_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "ok.csv", &good_csv());
    train_fails(
        dir.path(),
        &data,
        &["--rank", "3"],
        "--rank 3 must be at least 1 and below min(channels, frames) = 3",
    );
    train_fails(
        dir.path(),
        &data,
        &["--rank", "0"],
        "invalid --rank 0: must be between 1 and 16",
    );
}

#[test]
fn negative_values_warn_or_fail_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = good_csv();
    text += "-0.01,0.2,-0.05\n";
    let data = write(dir.path(), "neg.csv", &text);
    train_fails(
        dir.path(),
        &data,
        &["--rank", "1", "--strict"],
        "neg.csv: negative value -0.01 at frame 41, channel 1 (--strict",
    );
    // Without --strict: clamped with a warning giving the count and the most negative value.
    let model = dir.path().join("m.vnmf");
    vaenmf()
        .args(["train", "--rank", "1", "--iterations", "20"])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&model)
        .arg("--report")
        .arg(dir.path().join("r.json"))
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "clamped 2 negative values to 0 (most negative -0.05 at frame 41, channel 3)",
        ));
    assert!(model.exists());
}

#[test]
fn mat_variable_missing_lists_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.mat");
    let values: Vec<f64> = (0..60).map(|i| (i % 7) as f64 * 0.1).collect();
    write_mat_v5(
        &path,
        &[MatVar {
            name: "emg",
            rows: 20,
            cols: 3,
            values: &values,
        }],
    );
    train_fails(
        dir.path(),
        &path,
        &["--rank", "1", "--var", "EMG"],
        "rec.mat: no variable 'EMG'; the file has: emg [20, 3]",
    );
}

#[test]
fn unreadable_mat_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "broken.mat", "this is not a MAT file");
    train_fails(
        dir.path(),
        &data,
        &["--rank", "1"],
        "broken.mat: not a readable MATLAB v5 file",
    );
}

#[test]
fn unknown_extension_and_bad_truth() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "data.xlsx", "whatever");
    train_fails(dir.path(), &data, &["--rank", "1"], "unknown file type '.xlsx'");
    let data = write(dir.path(), "ok.csv", &good_csv());
    let truth = write(dir.path(), "truth.csv", "s1\n0.5\n0.5\n");
    train_fails(
        dir.path(),
        &data,
        &["--rank", "1", "--truth", truth.to_str().unwrap()],
        "cannot compare synergies over 3 channels with a truth over 2 channels",
    );
}

#[test]
fn envelope_needs_sampling_rate() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "raw.csv", &good_csv());
    train_fails(
        dir.path(),
        &data,
        &["--rank", "1", "--envelope"],
        "--envelope needs --fs HZ",
    );
}

#[test]
fn corrupted_model_is_rejected_by_eval_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("bad.vnmf");
    std::fs::write(&model, b"VNMF\x01\x00\x50\x00\x00\x00garbage!!").unwrap();
    vaenmf()
        .arg("inspect")
        .arg(&model)
        .assert()
        .failure()
        .stderr(predicate::str::contains("bad.vnmf: model blob truncated"));
}
