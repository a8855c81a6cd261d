//! `cargo xtask bench quantize`: the quantised encoder's accuracy against f32 on models that
//! were trained, not random. Paper-sized VAE-NMF encoders (m → 400 → 400 → 2·4) are trained
//! on the bundled gait EMG (cycles' frames 0–7899; 7900–9899 held out) and on synthetic data
//! (10 channels, 4 synergies, 20 dB), then quantised (int8 and hybrid) with the training frames
//! as calibration; the reports compare activations and VAF on the held-out frames. Outputs
//! under `out/bench/quantize/`.

use serde_json::Value;

use crate::{demo_gait_matrix, root, vaenmf};

/// One trained model and its held-out data options for `vaenmf quantize`.
struct Case {
    name: &'static str,
    train: Vec<String>,
    test: Vec<String>,
}

fn read_json(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

pub fn bench() -> Result<(), String> {
    let out = root().join("out/bench/quantize");
    let p = |name: &str| out.join(name).display().to_string();
    let gait = demo_gait_matrix().display().to_string();
    vaenmf(&[
        "synth",
        "--out",
        &p("synthetic"),
        "--channels",
        "10",
        "--rank",
        "4",
        "--frames",
        "8000",
        "--test-frames",
        "2000",
        "--snr-db",
        "20",
        "--seed",
        "3",
    ])?;
    let data = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases = [
        Case {
            name: "gait",
            train: data(&["--data", &gait, "--channels-in-rows", "--frames", "0:7900"]),
            test: data(&["--test-frames", "7900:9900"]),
        },
        Case {
            name: "synthetic",
            train: data(&["--data", &p("synthetic/train.csv")]),
            test: data(&["--test", &p("synthetic/test.csv")]),
        },
    ];
    let mut rows = Vec::new();
    for case in &cases {
        let model = p(&format!("{}-f32.vnmf", case.name));
        let mut train: Vec<String> = vec!["train".into()];
        train.extend(case.train.iter().cloned());
        train.extend(case.test.iter().cloned());
        for a in [
            "--method",
            "vae-nmf",
            "--rank",
            "4",
            "--hidden",
            "400,400",
            "--epochs",
            "100",
            "--patience",
            "0",
            "--lr",
            "1e-3",
            "--seed",
            "0",
            "--out",
            &model,
            "--report",
            &p(&format!("{}-train.json", case.name)),
        ] {
            train.push(a.into());
        }
        vaenmf(&train.iter().map(String::as_str).collect::<Vec<_>>())?;
        for variant in ["int8", "hybrid"] {
            let report = p(&format!("{}-{variant}.json", case.name));
            let mut args: Vec<String> = vec!["quantize".into(), model.clone()];
            args.extend(case.train.iter().cloned());
            args.extend(case.test.iter().cloned());
            args.extend([
                "-o".into(),
                p(&format!("{}-{variant}.vnmf", case.name)),
                "--report".into(),
                report.clone(),
            ]);
            if variant == "hybrid" {
                args.push("--hybrid".into());
            }
            vaenmf(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
            rows.push((case.name, variant, read_json(&report)?));
        }
    }
    println!("\n== quantised encoder vs f32, held-out frames (paper-sized encoders, trained) ==");
    println!("data      | variant | frames | act. error % | p95 % | max % | VAF f32 | VAF quant | ΔVAF    | blob bytes (f32)");
    for (name, variant, r) in &rows {
        let t = &r["accuracy"]["test"];
        let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        println!(
            "{name:9} | {variant:7} | {:6} | {:12.3} | {:5.2} | {:5.2} | {:7.4} | {:9.4} | {:+.4} | {} ({})",
            t["frames"],
            100.0 * num(&t["relative_error"]),
            100.0 * num(&t["relative_error_p95"]),
            100.0 * num(&t["relative_error_max"]),
            num(&t["vaf_f32"]),
            num(&t["vaf_quantized"]),
            num(&t["vaf_quantized"]) - num(&t["vaf_f32"]),
            r["bytes"]["quantized_blob"],
            r["bytes"]["f32_blob"],
        );
    }
    println!("(act. error: ‖Z_int8 − Z_f32‖_F / ‖Z_f32‖_F over the held-out frames' posterior means; goal ≤ 2 %, |ΔVAF| ≤ 0.005)");
    Ok(())
}
