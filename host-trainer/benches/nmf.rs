//! NMF speed against scikit-learn, side by side in one run (medians of 7 fits each, with the
//! spread): 500 multiplicative-update
//! iterations (Frobenius, NNDSVDa, no early stop) at rank 4 on the real 9900 × 12 gait matrix.
//! scikit-learn is timed by `scripts/sklearn_nmf_bench.py` when `python3 -c 'import sklearn'`
//! works; the ratio is printed.
//!
//! `cargo bench -p vaenmf-trainer --bench nmf` (or `cargo xtask bench`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use vaenmf_trainer::data::load::{load, LoadOptions};
use vaenmf_trainer::eval::{fit_metrics, Synergies};
use vaenmf_trainer::nmf::{fit, NmfConfig, NmfInit, NmfLoss};

const RANK: usize = 4;
const ITERATIONS: usize = 500;
const REPEATS: usize = 7;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    // The project's bundled copy (data/gait120-sts/README.md).
    let path = root.join("data/gait120-sts/V_matrix.npy");
    let x = load(
        &path,
        &LoadOptions {
            channels_in_rows: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let cfg = NmfConfig {
        rank: RANK,
        loss: NmfLoss::Frobenius,
        sparsity: 0.0,
        init: NmfInit::Nndsvda,
        iterations: ITERATIONS,
        tol: 0.0,
        restarts: 1,
        seed: 0,
    }
    .check()
    .expect("valid settings");
    let mut times = Vec::with_capacity(REPEATS);
    let mut vaf = 0.0;
    for _ in 0..REPEATS {
        let start = Instant::now();
        let f = fit(&x, &cfg, |_, _| {}).expect("NMF fit");
        times.push(start.elapsed().as_secs_f64());
        let s = Synergies {
            channels: x.channels,
            rank: RANK,
            w: f.w,
        };
        vaf = fit_metrics(&x, &s.reconstruct(&f.z)).expect("VAF").vaf;
    }
    times.sort_by(f64::total_cmp);
    let median = times[REPEATS / 2];
    println!(
        "vaenmf nmf: {} x {} rank {RANK}, {ITERATIONS} iterations: {median:.4} s (median of {REPEATS}, {:.4}–{:.4}), VAF {vaf:.4}",
        x.frames,
        x.channels,
        times[0],
        times[REPEATS - 1]
    );
    let script = root.join("scripts/sklearn_nmf_bench.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .args([RANK.to_string(), ITERATIONS.to_string(), REPEATS.to_string()])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let line = String::from_utf8_lossy(&o.stdout);
            let v: serde_json::Value = serde_json::from_str(line.trim()).expect("sklearn bench output");
            let sk = v["seconds"].as_f64().unwrap_or(f64::NAN);
            println!(
                "scikit-learn {} mu: {sk:.4} s (median of {REPEATS}, {:.4}–{:.4}), VAF {:.4}",
                v["sklearn"].as_str().unwrap_or("?"),
                v["min"].as_f64().unwrap_or(f64::NAN),
                v["max"].as_f64().unwrap_or(f64::NAN),
                v["vaf"].as_f64().unwrap_or(f64::NAN)
            );
            println!("speed-up over scikit-learn: {:.1}x (medians)", sk / median);
        }
        _ => println!("scikit-learn not available (pip install scikit-learn): no ratio"),
    }
}
