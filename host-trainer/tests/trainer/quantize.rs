//! `vaenmf quantize` end to end on the firmware's committed model and bad input: an int8 and a
//! hybrid blob that `vaenmf eval` and `inspect` read, with the accuracy printed and in the
//! report; an NMF model, an already quantised model and calibration data of the wrong width
//! exit 1 naming the problem and write nothing.

use crate::support;

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use support::vaenmf;

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware-example/model")
}

#[test]
fn quantize_writes_a_model_eval_reads() {
    let dir = tempfile::tempdir().unwrap();
    let frames = model_dir().join("frames.csv");
    for hybrid in [false, true] {
        let out = dir.path().join(format!("q-{hybrid}.vnmf"));
        let report = dir.path().join(format!("q-{hybrid}.json"));
        let mut cmd = vaenmf();
        cmd.arg("quantize")
            .arg(model_dir().join("default.vnmf"))
            .arg("--data")
            .arg(&frames)
            .args(["--frames", "0:150", "--test-frames", "150:200", "-o"])
            .arg(&out)
            .arg("--report")
            .arg(&report);
        if hybrid {
            cmd.arg("--hybrid");
        }
        cmd.assert()
            .success()
            .stdout(predicate::str::contains("test: 50 frames, activation error"));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let test = &json["accuracy"]["test"];
        let error = test["relative_error"].as_f64().unwrap();
        assert!(
            error > 0.0 && error < 0.03,
            "hybrid {hybrid}: activation error {error}"
        );
        let dvaf = (test["vaf_quantized"].as_f64().unwrap() - test["vaf_f32"].as_f64().unwrap()).abs();
        assert!(dvaf < 0.005, "hybrid {hybrid}: VAF moved {dvaf}");
        vaenmf().arg("inspect").arg(&out).assert().success().stdout(
            predicate::str::contains("quantised encoder").and(predicate::str::contains("format version 4")),
        );
        vaenmf()
            .args(["eval", "--model"])
            .arg(&out)
            .arg("--data")
            .arg(&frames)
            .arg("--report")
            .arg(dir.path().join("eval.json"))
            .assert()
            .success()
            .stdout(predicate::str::contains("vae-nmf rank 4"));
    }
}

fn quantize_fails(model: &Path, data: &Path, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.vnmf");
    vaenmf()
        .arg("quantize")
        .arg(model)
        .arg("--data")
        .arg(data)
        .arg("-o")
        .arg(&out)
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(message));
    assert!(!out.exists(), "output written despite the error");
}

#[test]
fn quantize_refuses_what_it_cannot_quantise() {
    let frames = model_dir().join("frames.csv");
    quantize_fails(
        &model_dir().join("nmf.vnmf"),
        &frames,
        "no encoder (an NMF model)",
    );
    quantize_fails(
        &model_dir().join("default-int8.vnmf"),
        &frames,
        "already quantised",
    );
    let dir = tempfile::tempdir().unwrap();
    let narrow = dir.path().join("narrow.csv");
    std::fs::write(&narrow, "a,b,c\n1,2,3\n4,5,6\n").unwrap();
    quantize_fails(
        &model_dir().join("default.vnmf"),
        &narrow,
        "the calibration data has 3 channels, the model 12",
    );
}
