//! Speech-enhancement speed against the Python tools people use, side by side in one run:
//!
//! - BSS-eval SDR/SIR/SAR of a 3 s utterance: `mir_eval` and `fast_bss_eval`;
//! - PESQ (the ITU C code through PyPI `pesq`) and STOI (`pystoi`) on the same pair;
//! - a rank-40 dictionary, 200 multiplicative updates on 10 000 frames × 257 bins:
//!   scikit-learn `NMF(solver='mu')`;
//! - supervised enhancement (rank 40 + 40, 50 updates) on one core: the real-time factor;
//! - offline against streamed, the same file, one core: supervised NMF (50 updates per
//!   utterance against 50 warm-started per frame) and a paper-size VAE-NMF enhancer (random
//!   weights: the cost does not depend on their values).
//!
//! The Python side is `scripts/speech_bench.py`, run with `$VAENMF_PYTHON` (else `python3`);
//! without it (or without a package) the line says so and only our figure is printed.
//! `cargo bench -p vaenmf-trainer --bench speech` (or `cargo xtask bench speech`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vaenmf_core::speech::{EnhancerBlob, EnhancerMethod, RandomEnhancerSizes};
use vaenmf_trainer::nmf::{fit, NmfConfig, NmfInit, NmfLoss};
use vaenmf_trainer::speech::front_end::audio::{read_wav, wav_bytes, WavFormat};
use vaenmf_trainer::speech::front_end::mix::noise_gain;
use vaenmf_trainer::speech::front_end::stft::{Stft, StftConfig};
use vaenmf_trainer::speech::methods::dictionary::{learn, magnitude_frames};
use vaenmf_trainer::speech::methods::enhancer::Enhancer;
use vaenmf_trainer::speech::methods::separate::{oracle, SeparationConfig, Separator};
use vaenmf_trainer::speech::methods::streaming::{enhance_streamed, DEFAULT_UPDATES_PER_FRAME};
use vaenmf_trainer::speech::metrics::bss_eval::{speech_ratios, Assignment};
use vaenmf_trainer::speech::metrics::pesq::pesq;
use vaenmf_trainer::speech::metrics::stoi::stoi;

fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut t = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeats {
        let s = Instant::now();
        out = Some(f());
        t = t.min(s.elapsed().as_secs_f64());
    }
    (t, out.expect("at least one repeat"))
}

fn samples(path: &Path) -> Vec<f32> {
    read_wav(path).unwrap_or_else(|e| panic!("{e:#}")).0.samples
}

/// A C-order float32 .npy (format 1.0).
fn write_npy(path: &Path, rows: usize, cols: usize, data: &[f32]) {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(data.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, bytes).expect("write .npy");
}

fn ratio(name: &str, theirs: Option<f64>, ours: f64) {
    match theirs {
        Some(t) => println!("  {name}: {t:.4} s → ours is {:.1}× faster", t / ours),
        None => println!("  {name}: not available (pip install -r scripts/requirements.txt)"),
    }
}

fn main() {
    // As `vaenmf` runs (see `single_threaded_products`).
    vaenmf_trainer::nmf::gemm::single_threaded_products();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mini = root.join("data/speech-mini");
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let rate = 16000;

    // A 3 s pair: speech at 0 dB in babble, and its oracle-mask estimate.
    let clean = samples(&mini.join("clean/test/ls_302-123504-0000.wav"))[16000..64000].to_vec();
    let babble = samples(&mini.join("noise/babble/test.wav"))[..48000].to_vec();
    let gain = noise_gain(&clean, &babble, 0.0).expect("gain");
    let noise: Vec<f32> = babble.iter().map(|&v| (f64::from(v) * gain) as f32).collect();
    let stft = Stft::new(&StftConfig::default().check().expect("default STFT"));
    let estimate = oracle(&stft, &clean, &noise, 1.0).expect("oracle");
    for (name, s) in [("clean", &clean), ("noise", &noise), ("estimate", &estimate)] {
        std::fs::write(
            d.join(format!("{name}.wav")),
            wav_bytes(s, rate, WavFormat::Float32).expect("wav"),
        )
        .expect("write");
    }

    // 10 000 magnitude frames of every bundled recording.
    let mut files: Vec<PathBuf> = ["clean/train", "clean/test", "noise/babble", "noise/running_tap"]
        .iter()
        .flat_map(|sub| {
            let mut v: Vec<PathBuf> = std::fs::read_dir(mini.join(sub))
                .expect("bundled data")
                .map(|e| e.expect("entry").path())
                .collect();
            v.sort();
            v
        })
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "wav"));
    let signals: Vec<Vec<f32>> = files.iter().map(|p| samples(p)).collect();
    let mut x = magnitude_frames(&signals, &stft, 1.0).expect("frames");
    let frames = 10_000.min(x.frames);
    x.data.truncate(frames * x.channels);
    x.frames = frames;
    write_npy(&d.join("frames.npy"), frames, x.channels, &x.data);

    let python = std::env::var("VAENMF_PYTHON").unwrap_or_else(|_| "python3".into());
    let py: serde_json::Value = Command::new(&python)
        .arg(root.join("scripts/speech_bench.py"))
        .arg(d)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice(&o.stdout).ok())
        .unwrap_or(serde_json::Value::Null);
    if py.is_null() {
        println!("({python} with NumPy/SciPy not found: no Python baselines; set VAENMF_PYTHON)");
    }
    let secs = |tool: &str, key: &str| py[tool][key].as_f64();

    // Medians of 10 calls (5 on the Python side), with the spread.
    let mut times = Vec::new();
    let mut scored = None;
    for _ in 0..10 {
        let s = Instant::now();
        scored = Some(speech_ratios(&clean, &noise, &estimate, Assignment::Permutation).expect("bss"));
        times.push(s.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let (t_bss, (r, _)) = (times[5], scored.expect("ten calls"));
    println!(
        "BSS-eval, 3 s at 16 kHz, 2 sources: ours {t_bss:.4} s (median of 10, {:.4}–{:.4}; SDR {:.3} dB; mir_eval {} dB)",
        times[0],
        times[9],
        r.sdr,
        py["mir_eval"]["sdr"]
            .as_f64()
            .map_or("–".into(), |v| format!("{v:.3}"))
    );
    for tool in ["mir_eval", "fast_bss_eval"] {
        if let (Some(lo), Some(hi)) = (secs(tool, "min"), secs(tool, "max")) {
            println!("  {tool}: median of 5, {lo:.4}–{hi:.4} s");
        }
        ratio(tool, secs(tool, "seconds"), t_bss);
    }

    let (t_pesq, p) = best(5, || pesq(&clean, &estimate, rate).expect("pesq"));
    println!(
        "PESQ (wideband + narrowband at 8 kHz), 3 s: ours {t_pesq:.4} s (WB {:.3}, NB {:.3})",
        p.pesq_wb.unwrap_or(f64::NAN),
        p.pesq_nb_mos_lqo
    );
    ratio(
        "ITU C code (PyPI pesq, wb + nb)",
        secs("pesq", "wb_seconds")
            .zip(secs("pesq", "nb_seconds"))
            .map(|(a, b)| a + b),
        t_pesq,
    );
    let (t_stoi, q) = best(5, || stoi(&clean, &estimate, rate).expect("stoi"));
    println!("STOI + ESTOI, 3 s: ours {t_stoi:.4} s (STOI {:.4})", q.stoi);
    ratio("pystoi (STOI only)", secs("pystoi", "seconds"), t_stoi);

    let cfg = NmfConfig {
        rank: 40,
        loss: NmfLoss::Frobenius,
        sparsity: 0.0,
        init: NmfInit::Random,
        iterations: 200,
        tol: 0.0,
        restarts: 1,
        seed: 0,
    }
    .check()
    .expect("settings");
    let (t_nmf, f) = best(2, || fit(&x, &cfg, |_, _| {}).expect("nmf"));
    println!(
        "dictionary, rank 40, 200 updates, {frames} × {} : ours {t_nmf:.3} s (½‖X−WH‖² = {:.5e}; scikit-learn ‖X−WH‖ = {})",
        x.channels,
        f.objective,
        py["sklearn"]["frobenius"].as_f64().map_or("–".into(), |v| format!("{v:.5e}"))
    );
    ratio("scikit-learn mu", secs("sklearn", "seconds"), t_nmf);

    // Real-time factor of supervised NMF on one core.
    let front_end = stft.config().front_end(rate, 1.0);
    let small = |sub: &str| {
        let c = NmfConfig {
            iterations: 100,
            ..*cfg
        };
        let sig = vec![samples(&mini.join(sub))];
        learn(&sig, &front_end, &c.check().expect("settings"), |_, _| {})
            .expect("dictionary")
            .0
    };
    let speech_dict = small("clean/train/ls_1116-132847-0000.wav");
    let noise_dict = small("noise/babble/train.wav");
    let separation = SeparationConfig {
        iterations: 50,
        ..SeparationConfig::default()
    }
    .check()
    .expect("settings");
    let sep = Separator::new(&speech_dict, &noise_dict, &separation).expect("separator");
    let noisy: Vec<f32> = samples(&mini.join("clean/test/ls_302-123504-0000.wav"))
        .iter()
        .zip(samples(&mini.join("noise/babble/test.wav")).iter().cycle())
        .map(|(s, n)| s + n)
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let (t_enh, _) = best(5, || pool.install(|| sep.enhance(&noisy).expect("enhance")));
    let audio = noisy.len() as f64 / f64::from(rate);
    println!(
        "enhancement, rank 40 + 40, 50 updates, one core: {audio:.1} s of audio in {t_enh:.3} s = {:.0}× real time (goal 200×)",
        audio / t_enh
    );

    // Offline against streamed on the same file, one core.
    let nmf = Enhancer::from_separator(&sep).expect("nmf enhancer");
    let vae = EnhancerBlob::random(
        EnhancerMethod::VaeNmf,
        nmf.blob().front_end,
        RandomEnhancerSizes {
            ranks: (40, 40),
            hidden: &[500, 500, 500],
            context: (1, 1),
        },
        11,
    );
    let vae_nmf = Enhancer::new(vae).expect("vae-nmf enhancer");
    for (name, enhancer, streamed) in [
        (
            "nmf 40 + 40 (offline: 50 updates per utterance)",
            &nmf,
            "streamed: 50 per frame",
        ),
        ("vae-nmf, 771 → 500 × 3 → 80", &vae_nmf, "streamed"),
    ] {
        let (t_offline, _) = best(5, || pool.install(|| enhancer.enhance(&noisy).expect("offline")));
        let (t_stream, _) = best(5, || {
            pool.install(|| {
                enhance_streamed(enhancer.blob(), DEFAULT_UPDATES_PER_FRAME, &noisy).expect("stream")
            })
        });
        println!(
            "{name}, {audio:.1} s of audio, one core: offline {t_offline:.3} s ({:.0}× real time), {streamed} {t_stream:.3} s ({:.0}× real time); streamed / offline = {:.2}",
            audio / t_offline,
            audio / t_stream,
            t_stream / t_offline
        );
    }
}
