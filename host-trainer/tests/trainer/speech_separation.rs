//! Speech separation: BSS-eval against mir_eval, PESQ against the ITU reference code, STOI and
//! ESTOI against pystoi, the oracle mask end to end against the Python
//! reference (SciPy STFT + mir_eval), the large-rank NMF kernel against the unrolled one, and
//! the `speech dict / enhance / metrics / eval` commands on the bundled data, bad input included.
//! Reference values: `scripts/speech_reference.py fixtures` (committed JSON; no Python needed).

use crate::support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::vaenmf;
use vaenmf_trainer::data::EmgMatrix;
use vaenmf_trainer::export::read_blob;
use vaenmf_trainer::nmf::gemm::{self as nmf_gemm, MuSettings};
use vaenmf_trainer::nmf::{self, NmfConfig, NmfInit, NmfLoss};
use vaenmf_trainer::speech::front_end::audio::{read_wav, resample, wav_bytes, WavFormat};
use vaenmf_trainer::speech::front_end::mix::{mix, Mixture, Named};
use vaenmf_trainer::speech::front_end::stft::{Stft, StftConfig};
use vaenmf_trainer::speech::methods::enhancer::Enhancer;
use vaenmf_trainer::speech::methods::separate::oracle;
use vaenmf_trainer::speech::methods::separate::{SeparationConfig, Separator};
use vaenmf_trainer::speech::methods::streaming::enhance_streamed;
use vaenmf_trainer::speech::metrics::bss_eval::{bss_eval_sources, speech_ratios, Assignment};
use vaenmf_trainer::speech::metrics::pesq::pesq;
use vaenmf_trainer::speech::metrics::stoi::stoi;

fn mini(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/speech-mini")
        .join(rel)
}

fn fixtures() -> (PathBuf, Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech");
    let json = std::fs::read_to_string(dir.join("reference.json")).unwrap();
    (dir, serde_json::from_str(&json).unwrap())
}

fn samples(path: &Path) -> Vec<f32> {
    read_wav(path).unwrap().0.samples
}

/// How much SDR the streamed NMF enhancement (50 updates per frame) may lose against the
/// whole-utterance fit on one mixture. Measured on the bundled set's training-file mixtures:
/// 0.3 dB (running tap) to 0.9 dB (babble) on average; room for a single mixture.
const STREAM_SDR_MARGIN_DB: f64 = 2.0;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn bss_eval_matches_mir_eval_within_five_hundredths_of_a_db() {
    let (dir, reference) = fixtures();
    for case in reference["bss_eval"].as_array().unwrap() {
        let len = case["length"].as_u64().unwrap() as usize;
        let start = case["clean_start"].as_u64().unwrap() as usize;
        let clean = samples(&mini(case["clean"].as_str().unwrap()))[start..start + len].to_vec();
        let gain = f(&case["noise_gain"]);
        let noise: Vec<f32> = samples(&mini(case["noise"].as_str().unwrap()))[..len]
            .iter()
            .map(|&v| (f64::from(v) * gain) as f32)
            .collect();
        let estimate = samples(&dir.join(case["estimate"].as_str().unwrap()));
        let residual: Vec<f32> = clean
            .iter()
            .zip(&noise)
            .zip(&estimate)
            .map(|((s, n), e)| s + n - e)
            .collect();
        let ours = bss_eval_sources(&[&clean, &noise], &[&estimate, &residual]).unwrap();
        let name = case["estimate"].as_str().unwrap();
        let perm: Vec<usize> = case["permutation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(ours.permutation, perm, "{name}");
        for (i, r) in ours.sources.iter().enumerate() {
            for (key, value) in [("sdr", r.sdr), ("sir", r.sir), ("sar", r.sar)] {
                let expected = f(&case[key][i]);
                assert!(
                    (value - expected).abs() < 0.05,
                    "{name} source {i} {key}: ours {value:.4}, mir_eval {expected:.4}"
                );
            }
        }
    }
}

#[test]
fn bss_eval_rejects_unequal_lengths_and_silent_references() {
    let a = vec![0.1f32; 1000];
    let b = vec![0.2f32; 999];
    let err = bss_eval_sources(&[&a, &a], &[&b, &a]).unwrap_err().to_string();
    assert!(err.contains("999") && err.contains("1000"), "{err}");
    let silent = vec![0.0f32; 1000];
    let err = bss_eval_sources(&[&a, &silent], &[&a, &a])
        .unwrap_err()
        .to_string();
    assert!(err.contains("reference 2 is silent"), "{err}");
    let err = speech_ratios(&a, &a, &b, Assignment::Fixed)
        .unwrap_err()
        .to_string();
    assert!(err.contains("999") && err.contains("1000"), "{err}");
}

/// The unprocessed input of a 0 dB mixture whose clean, noise and noisy files were each
/// rounded to 16-bit PCM: the input is the speech estimate, SDR ≈ 0 dB. With mir_eval's
/// permutation search the residual `s + n − x` (rounding noise) is chosen as the "speech"
/// and the input scores about −18 dB; both against mir_eval on the same files. Through the
/// `speech metrics` command, which must use the fixed assignment by default.
#[test]
fn unprocessed_int16_input_scores_zero_db_without_the_permutation_search() {
    let (dir, _) = fixtures();
    let json = std::fs::read_to_string(dir.join("int16_input.json")).unwrap();
    let reference: Value = serde_json::from_str(&json).unwrap();
    let file = |k: &str| dir.join(reference["files"][k].as_str().unwrap());
    let [clean, noise, noisy] = ["clean", "noise", "noisy"].map(|k| samples(&file(k)));
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("input.json");
    let metrics = |extra: &[&str]| -> Value {
        let mut args = vec![
            "speech".to_string(),
            "metrics".into(),
            "--reference".into(),
            file("clean").display().to_string(),
            "--noise".into(),
            file("noise").display().to_string(),
            "--estimate".into(),
            file("noisy").display().to_string(),
            "--report".into(),
            report.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        run_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap()
    };
    let fixed = metrics(&[]);
    assert_eq!(fixed["bss_eval_assignment"], "fixed");
    assert_eq!(fixed["permuted"], false);
    let sdr = f(&fixed["sdr"]);
    assert!(sdr.abs() < 0.3, "input SDR {sdr:.3} dB, expected ≈ 0");
    for key in ["sdr", "sir", "sar"] {
        let (ours, theirs) = (f(&fixed[key]), f(&reference["fixed"][key]));
        assert!(
            (ours - theirs).abs() < 0.05,
            "{key}: ours {ours:.4}, mir_eval {theirs:.4}"
        );
    }
    // mir_eval's default, asked for: the swapped residual, as mir_eval reports it.
    let permuted = metrics(&["--permutation"]);
    assert_eq!(permuted["bss_eval_assignment"], "permutation");
    assert_eq!(permuted["permuted"], true);
    let (ours, theirs) = (f(&permuted["sdr"]), f(&reference["permutation"]["sdr"]));
    assert!(
        (ours - theirs).abs() < 0.05,
        "permutation SDR: ours {ours:.4}, mir_eval {theirs:.4}"
    );
    // The library call agrees with the command.
    let (r, swapped) = speech_ratios(&clean, &noise, &noisy, Assignment::Fixed).unwrap();
    assert!(!swapped && (r.sdr - sdr).abs() < 1e-9);
}

/// A pure tone as a reference makes the Gram matrix of its delayed copies (numerically)
/// singular, rank 2: whichever solver ends up solving it — the block Levinson recursion, or
/// the least-squares fallback when the recursion breaks down or fails its residual check —
/// must give the ratios the decomposition implies.
#[test]
fn bss_eval_handles_a_singular_gram_matrix() {
    let n = 16000;
    let mut rng = vaenmf_core::gamma::Prng::new(11);
    let tone: Vec<f32> = (0..n).map(|t| (0.05 * t as f64).sin() as f32).collect();
    let noise: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
    let estimate: Vec<f32> = tone.iter().zip(&noise).map(|(s, v)| s + 0.1 * v).collect();
    let (r, permuted) = speech_ratios(&tone, &noise, &estimate, Assignment::Permutation).unwrap();
    assert!(!permuted);
    let es: f64 = tone.iter().map(|&v| f64::from(v).powi(2)).sum();
    let en: f64 = noise.iter().map(|&v| f64::from(0.1 * v).powi(2)).sum();
    let expected = 10.0 * (es / en).log10();
    assert!(
        r.sdr.is_finite() && (r.sdr - expected).abs() < 0.5,
        "SDR {} vs {expected}",
        r.sdr
    );
    // The noise is interference, explained by the noise reference: high SAR, SIR ≈ SDR.
    assert!(r.sar > 40.0 && (r.sir - r.sdr).abs() < 0.5, "{r:?}");
}

/// The bundled test mixtures at 0 dB, made exactly as `vaenmf speech mix --seed 1` makes
/// them (the Python reference read those files): (utterance, noise, mixture).
fn bundled_mixtures() -> Vec<(String, String, Mixture)> {
    let named = |names: [&str; 2], path: fn(&str) -> String| -> Vec<Named> {
        names
            .iter()
            .map(|n| Named {
                name: n.to_string(),
                samples: samples(&mini(&path(n))),
            })
            .collect()
    };
    let utterances = named(["ls_302-123504-0000", "ls_3242-67153-0000"], |u| {
        format!("clean/test/{u}.wav")
    });
    let noises = named(["babble", "running_tap"], |n| format!("noise/{n}/test.wav"));
    mix(&utterances, &noises, &[0.0], 1, false)
        .unwrap()
        .into_iter()
        .map(|m| {
            (
                utterances[m.utterance].name.clone(),
                noises[m.noise].name.clone(),
                m,
            )
        })
        .collect()
}

/// The oracle mask (p = 2) on the bundled test mixtures at 0 dB against the Python reference
/// (SciPy STFT, mir_eval) on the same files: STFT, inverse STFT and BSS-eval checked together.
#[test]
fn oracle_mask_matches_the_python_reference_within_a_tenth_of_a_db() {
    let (_, reference) = fixtures();
    let stft = Stft::new(&StftConfig::default().check().unwrap());
    let cases = reference["oracle_p2"].as_array().unwrap();
    let mixtures = bundled_mixtures();
    assert_eq!(cases.len(), mixtures.len());
    for (utt, noise, m) in &mixtures {
        let case = cases
            .iter()
            .find(|c| c["utterance"] == utt.as_str() && c["noise"] == noise.as_str())
            .unwrap();
        assert_eq!(m.segment_start as u64, case["segment_start"].as_u64().unwrap());
        let est = oracle(&stft, &m.clean, &m.noise_part, 2.0).unwrap();
        let (ratios, permuted) =
            speech_ratios(&m.clean, &m.noise_part, &est, Assignment::Permutation).unwrap();
        assert!(!permuted);
        let expected = f(&case["sdr"]);
        assert!(
            (ratios.sdr - expected).abs() < 0.1,
            "{utt} + {noise}: oracle SDR {:.3}, reference {expected:.3}",
            ratios.sdr
        );
    }
}

/// PESQ within 0.05 MOS of the ITU reference code (wideband; narrowband on 8 kHz input) and
/// STOI / ESTOI within 0.005 of pystoi, on processed 2 s excerpts and whole noisy utterances.
#[test]
fn pesq_and_stoi_match_the_reference_implementations() {
    let (dir, reference) = fixtures();
    let cases = reference["quality"].as_array().unwrap();
    let case = |pair: &str| cases.iter().find(|c| c["pair"] == pair).unwrap();
    let mut pairs: Vec<(String, Vec<f32>, Vec<f32>)> = Vec::new();
    for c in reference["bss_eval"].as_array().unwrap() {
        let len = c["length"].as_u64().unwrap() as usize;
        let start = c["clean_start"].as_u64().unwrap() as usize;
        let clean = samples(&mini(c["clean"].as_str().unwrap()))[start..start + len].to_vec();
        let name = c["estimate"].as_str().unwrap();
        pairs.push((name.to_string(), clean, samples(&dir.join(name))));
    }
    for (utt, noise, m) in bundled_mixtures() {
        pairs.push((format!("{noise}/{utt} noisy"), m.clean, m.noisy));
    }
    assert_eq!(pairs.len(), cases.len());
    for (name, clean, degraded) in &pairs {
        let expected = case(name);
        let p = pesq(clean, degraded, 16000).unwrap();
        let q = stoi(clean, degraded, 16000).unwrap();
        for (key, ours, tolerance) in [
            ("pesq_wb", p.pesq_wb.unwrap(), 0.05),
            ("pesq_nb_mos_lqo", p.pesq_nb_mos_lqo, 0.05),
            ("stoi", q.stoi, 0.005),
            ("estoi", q.estoi, 0.005),
        ] {
            let theirs = f(&expected[key]);
            assert!(
                (ours - theirs).abs() < tolerance,
                "{name} {key}: ours {ours:.4}, reference {theirs:.4}"
            );
        }
    }
}

/// The dense-product kernel (large ranks) runs the same updates as the rank-unrolled one.
#[test]
fn large_rank_kernel_matches_the_unrolled_kernel() {
    let mut rng = vaenmf_core::gamma::Prng::new(3);
    let (frames, channels, rank) = (300, 20, 5);
    let data: Vec<f32> = (0..frames * channels).map(|_| rng.uniform() as f32).collect();
    let x = EmgMatrix::new(frames, channels, data).unwrap();
    for (loss, sparsity) in [
        (NmfLoss::Frobenius, 0.0),
        (NmfLoss::KullbackLeibler, 0.0),
        (NmfLoss::Frobenius, 0.01),
    ] {
        let cfg = NmfConfig {
            rank,
            loss,
            sparsity,
            init: NmfInit::Nndsvda,
            iterations: 50,
            tol: 0.0,
            restarts: 1,
            seed: 0,
        }
        .check()
        .unwrap();
        let unrolled = nmf::fit(&x, &cfg, |_, _| {}).unwrap();
        let (w0, z0) = nmf::initialize(&x, rank, NmfInit::Nndsvda, 0);
        let xm = nalgebra::DMatrix::from_column_slice(channels, frames, &x.data);
        let mut w = nalgebra::DMatrix::from_row_slice(channels, rank, &w0);
        let mut h = nalgebra::DMatrix::from_column_slice(rank, frames, &z0);
        let settings = MuSettings {
            loss,
            lambda: sparsity * channels as f32,
            iterations: 50,
            tol: 0.0,
            learn_w: true,
        };
        let (_, objective) = nmf_gemm::run(&xm, &mut w, &mut h, &settings, |_| {});
        let rel = (objective - unrolled.objective).abs() / unrolled.objective;
        assert!(
            rel < 1e-4,
            "{loss:?}: objective {objective} vs {}",
            unrolled.objective
        );
        let w_row_major = w.transpose();
        let max_diff = w_row_major
            .as_slice()
            .iter()
            .zip(&unrolled.w)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        let scale = unrolled.w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            max_diff < 1e-3 * scale,
            "{loss:?}: W differs by {max_diff} (scale {scale})"
        );
        // A fixed dictionary stays fixed.
        let fixed = w.clone();
        let mut h2 = nalgebra::DMatrix::from_element(rank, frames, 0.5f32);
        let mut w2 = w.clone();
        let settings = MuSettings {
            learn_w: false,
            ..settings
        };
        nmf_gemm::run(&xm, &mut w2, &mut h2, &settings, |_| {});
        assert_eq!(w2, fixed);
    }
}

fn run_ok(args: &[&str]) -> String {
    let out = vaenmf().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "vaenmf {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run_err(args: &[&str]) -> String {
    let out = vaenmf().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "vaenmf {args:?} should fail with exit 1"
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.starts_with("error:"), "{err}");
    err
}

/// Dictionaries from the bundled train files, enhancement of the bundled test mixtures:
/// supervised NMF must gain on the stationary tap noise (the reference pipeline gains
/// +11.2 dB there on the full set) and the commands must agree with each other.
#[test]
fn dict_enhance_and_eval_on_the_bundled_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |s: &str| d.join(s).to_string_lossy().into_owned();
    let m = |s: &str| mini(s).to_string_lossy().into_owned();
    run_ok(&[
        "speech",
        "dict",
        "--rank",
        "40",
        "-o",
        &p("speech.vnmf"),
        &m("clean/train"),
    ]);
    run_ok(&[
        "speech",
        "dict",
        "--rank",
        "40",
        "-o",
        &p("tap.vnmf"),
        &m("noise/running_tap/train.wav"),
    ]);
    run_ok(&[
        "speech",
        "mix",
        "--speech",
        &m("clean/test"),
        "--noise",
        &format!("running_tap={}", m("noise/running_tap/test.wav")),
        "--snr",
        "0",
        "--seed",
        "1",
        "--out",
        &p("mix"),
    ]);
    let noisy = p("mix/running_tap/0dB/ls_302-123504-0000.noisy.wav");
    let enhance = |mode: &[&str], out: &str| {
        let (speech, noise_model, out) = (p("speech.vnmf"), p("tap.vnmf"), p(out));
        let mut args = vec!["speech", "enhance", "--speech", &speech, "--noise", &noise_model];
        args.extend_from_slice(mode);
        args.extend([noisy.as_str(), "-o", &out]);
        run_ok(&args);
    };
    enhance(&[], "enh.wav");
    let metrics = |estimate: &str, report: &str| -> Value {
        run_ok(&[
            "speech",
            "metrics",
            "--reference",
            &p("mix/running_tap/0dB/ls_302-123504-0000.clean.wav"),
            "--noise",
            &p("mix/running_tap/0dB/ls_302-123504-0000.noise.wav"),
            "--estimate",
            estimate,
            "--report",
            &p(report),
        ]);
        serde_json::from_str(&std::fs::read_to_string(d.join(report)).unwrap()).unwrap()
    };
    let enhanced = metrics(&p("enh.wav"), "enh.json");
    let input = metrics(&noisy, "in.json");
    let gain = f(&enhanced["sdr"]) - f(&input["sdr"]);
    assert!(gain > 5.0, "SDR gain on running tap at 0 dB: {gain:.2} dB");

    // The core's streaming enhancer, hop by hop: as long as the input, and close to the
    // whole-utterance fit (the margin from the measured difference, with room).
    enhance(&["--stream"], "stream.wav");
    let (streamed, _) = read_wav(&d.join("stream.wav")).unwrap();
    let (offline, _) = read_wav(&d.join("enh.wav")).unwrap();
    assert_eq!(streamed.samples.len(), offline.samples.len());
    assert_ne!(streamed.samples, offline.samples);
    // Aligned with the input (BSS-eval's 512-tap filters would forgive a shift of a window):
    // the streamed estimate correlates best with the offline one at lag 0.
    let correlation = |lag: i64| -> f64 {
        let o = &offline.samples;
        (0..o.len() as i64)
            .filter_map(|n| {
                Some((
                    streamed.samples[n as usize],
                    *o.get(usize::try_from(n + lag).ok()?)?,
                ))
            })
            .map(|(a, b)| f64::from(a) * f64::from(b))
            .sum()
    };
    let best = (-600..=600i64).max_by(|&a, &b| correlation(a).total_cmp(&correlation(b)));
    assert_eq!(best, Some(0));
    // What the CLI wrote is the core's streaming enhancer, bit for bit.
    let separator = Separator::new(
        &read_blob(&d.join("speech.vnmf")).unwrap(),
        &read_blob(&d.join("tap.vnmf")).unwrap(),
        &SeparationConfig::default().check().unwrap(),
    )
    .unwrap();
    let (noisy_audio, _) = read_wav(Path::new(&noisy)).unwrap();
    let enhancer = Enhancer::from_separator(&separator).unwrap();
    let library = enhance_streamed(enhancer.blob(), 50, &noisy_audio.samples).unwrap();
    assert!(library
        .iter()
        .zip(&streamed.samples)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    let streamed = metrics(&p("stream.wav"), "stream.json");
    let stream_gain = f(&streamed["sdr"]) - f(&input["sdr"]);
    eprintln!("running tap 0 dB: offline +{gain:.2} dB, streamed +{stream_gain:.2} dB");
    assert!(
        stream_gain > gain - STREAM_SDR_MARGIN_DB,
        "streamed +{stream_gain:.2} dB, offline +{gain:.2} dB"
    );
    // A 22.05 kHz input with --resample: enhanced at 16 kHz, given back at 22.05 kHz and its
    // own length.
    let at_22k = resample(&noisy_audio.samples, 16_000, 22_050).unwrap();
    let wav = wav_bytes(&at_22k, 22_050, WavFormat::Float32).unwrap();
    std::fs::write(d.join("noisy22k.wav"), wav).unwrap();
    run_ok(&[
        "speech",
        "enhance",
        "--speech",
        &p("speech.vnmf"),
        "--noise",
        &p("tap.vnmf"),
        "--resample",
        &p("noisy22k.wav"),
        "-o",
        &p("enh22k.wav"),
    ]);
    let (back, _) = read_wav(&d.join("enh22k.wav")).unwrap();
    assert_eq!((back.rate, back.samples.len()), (22_050, at_22k.len()));
    let err = vaenmf()
        .args([
            "speech",
            "enhance",
            "--speech",
            &p("speech.vnmf"),
            "--noise",
            &p("tap.vnmf"),
        ])
        .args([
            "--stream",
            "--updates-per-frame",
            "0",
            &noisy,
            "-o",
            &p("never.wav"),
        ])
        .assert()
        .failure()
        .code(1);
    let text = String::from_utf8_lossy(&err.get_output().stderr).to_string();
    assert!(
        text.contains("--updates-per-frame 0: must be between 1 and 1000"),
        "{text}"
    );
    assert!(!d.join("never.wav").exists());
    run_ok(&[
        "speech",
        "eval",
        "--manifest",
        &p("mix/manifest.csv"),
        "--speech",
        &p("speech.vnmf"),
        "--noise",
        &format!("running_tap={}", p("tap.vnmf")),
        "--out",
        &p("eval"),
    ]);
    let eval: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("eval/eval.json")).unwrap()).unwrap();
    let row = eval["mixtures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["utterance"] == "ls_302-123504-0000")
        .unwrap();
    assert!(
        (f(&row["method"]["sdr"]) - f(&enhanced["sdr"])).abs() < 1e-9,
        "eval and enhance+metrics agree"
    );
    assert!(std::fs::read_to_string(d.join("eval/table.md"))
        .unwrap()
        .contains("| Aver |"));

    // Bad input: a clear error, exit 1, nothing written.
    run_ok(&[
        "speech",
        "dict",
        "--rank",
        "20",
        "--n-fft",
        "256",
        "--hop",
        "64",
        "-o",
        &p("tap256.vnmf"),
        &m("noise/running_tap/train.wav"),
    ]);
    let err = run_err(&[
        "speech",
        "enhance",
        "--speech",
        &p("speech.vnmf"),
        "--noise",
        &p("tap256.vnmf"),
        &noisy,
        "-o",
        &p("x.wav"),
    ]);
    assert!(
        err.contains("front end") && err.contains("FFT 512") && err.contains("FFT 256"),
        "{err}"
    );
    assert!(!d.join("x.wav").exists());
    // A model without a front end (an EMG model) is not a dictionary.
    let emg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware-example/model/nmf.vnmf");
    let err = run_err(&[
        "speech",
        "enhance",
        "--speech",
        &p("speech.vnmf"),
        "--noise",
        &emg.to_string_lossy(),
        &noisy,
        "-o",
        &p("x.wav"),
    ]);
    assert!(err.contains("records no front end"), "{err}");
    // Rank not below the number of frames: 0.1 s of audio has 13 frames.
    let short: Vec<f32> = samples(&mini("noise/running_tap/test.wav"))[..1600].to_vec();
    std::fs::write(
        d.join("short.wav"),
        vaenmf_trainer::speech::front_end::audio::wav_bytes(
            &short,
            16000,
            vaenmf_trainer::speech::front_end::audio::WavFormat::Float32,
        )
        .unwrap(),
    )
    .unwrap();
    let err = run_err(&[
        "speech",
        "dict",
        "--rank",
        "40",
        "-o",
        &p("short.vnmf"),
        &p("short.wav"),
    ]);
    assert!(err.contains("--rank 40") && err.contains("13"), "{err}");
    assert!(!d.join("short.vnmf").exists());
    // Reference and estimate of different lengths: both lengths named.
    let err = run_err(&[
        "speech",
        "metrics",
        "--reference",
        &p("mix/running_tap/0dB/ls_302-123504-0000.clean.wav"),
        "--noise",
        &p("mix/running_tap/0dB/ls_302-123504-0000.noise.wav"),
        "--estimate",
        &p("short.wav"),
        "--report",
        &p("bad.json"),
    ]);
    assert!(
        err.contains("1600") && err.contains(&short.len().to_string()) && err.contains("230160"),
        "{err}"
    );
    assert!(!d.join("bad.json").exists());
    // An unknown loss, and a manifest noise without a dictionary.
    let err = run_err(&[
        "speech",
        "enhance",
        "--speech",
        &p("speech.vnmf"),
        "--noise",
        &p("tap.vnmf"),
        "--loss",
        "l3",
        &noisy,
        "-o",
        &p("x.wav"),
    ]);
    assert!(err.contains("--loss"), "{err}");
    let err = run_err(&[
        "speech",
        "eval",
        "--manifest",
        &p("mix/manifest.csv"),
        "--speech",
        &p("speech.vnmf"),
        "--noise",
        &format!("babble={}", p("tap.vnmf")),
        "--out",
        &p("eval2"),
    ]);
    assert!(err.contains("running_tap"), "{err}");
    assert!(!d.join("eval2").exists());
}
