//! The learned methods of the paper's comparison: DNMF's gradient and the mask layer's
//! gradient against central finite differences, DNMF training, and `vaenmf speech table` on
//! the bundled data (shape of table.json, bad input).

use crate::support;

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::TensorData;
use nalgebra::DMatrix;
use serde_json::Value;
use support::vaenmf;
use vaenmf_core::gamma::Prng;
use vaenmf_trainer::nmf::NmfLoss;
use vaenmf_trainer::speech::methods::dnmf::{self, Problem};
use vaenmf_trainer::speech::methods::dnn::mask_loss;
use vaenmf_trainer::vae::sampler::to_vec;
use vaenmf_trainer::vae::training::Backend;

fn mini(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/speech-mini")
        .join(rel)
}

fn uniform(rng: &mut Prng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn random_matrix(rng: &mut Prng, rows: usize, cols: usize, lo: f64, hi: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| uniform(rng, lo, hi))
}

/// A small DNMF problem with mixtures near speech + noise.
struct Case {
    w: DMatrix<f64>,
    h: DMatrix<f64>,
    mixture: DMatrix<f64>,
    speech: DMatrix<f64>,
}

impl Case {
    fn problem(&self, loss: NmfLoss, p: f64) -> Problem<'_, f64> {
        Problem {
            h: &self.h,
            speech_rank: 3,
            mixture: &self.mixture,
            speech: &self.speech,
            loss,
            p,
        }
    }
}

fn case(seed: u64) -> Case {
    let mut rng = Prng::new(seed);
    let (bins, frames, rs, rn) = (7, 11, 3, 2);
    let w = random_matrix(&mut rng, bins, rs + rn, 0.1, 1.0);
    let h = random_matrix(&mut rng, rs + rn, frames, 0.1, 1.0);
    let speech = w.columns(0, rs) * h.rows(0, rs) + random_matrix(&mut rng, bins, frames, 0.0, 0.3);
    let noise = w.columns(rs, rn) * h.rows(rs, rn);
    let mixture = &speech + noise + random_matrix(&mut rng, bins, frames, 0.0, 0.1);
    Case {
        w,
        h,
        mixture,
        speech,
    }
}

#[test]
fn dnmf_gradient_matches_central_finite_differences() {
    for (loss, p) in [
        (NmfLoss::Frobenius, 2.0),
        (NmfLoss::KullbackLeibler, 2.0),
        (NmfLoss::Frobenius, 1.0),
        (NmfLoss::KullbackLeibler, 1.5),
    ] {
        let c = case(7);
        let problem = c.problem(loss, p);
        // Away from the starting point, so speech and noise bases both matter.
        let mut rng = Prng::new(3);
        let wbar = c.w.map(|v| v * uniform(&mut rng, 0.5, 1.5));
        let analytic = dnmf::gradient(&wbar, &problem);
        let step = 1e-6;
        let mut worst = 0.0f64;
        for i in 0..wbar.len() {
            let (mut plus, mut minus) = (wbar.clone(), wbar.clone());
            plus[i] += step;
            minus[i] -= step;
            let numeric =
                (dnmf::objective(&plus, &problem) - dnmf::objective(&minus, &problem)) / (2.0 * step);
            let err = (analytic[i] - numeric).abs() / numeric.abs().max(1e-3);
            worst = worst.max(err);
        }
        assert!(
            worst < 1e-5,
            "{loss:?}, p = {p}: worst relative gradient error {worst:e}"
        );
    }
}

#[test]
fn dnmf_training_lowers_the_objective_and_keeps_the_bases_nonnegative() {
    for loss in [NmfLoss::Frobenius, NmfLoss::KullbackLeibler] {
        let c = case(11);
        let problem = c.problem(loss, 2.0);
        let trained = dnmf::train(&c.w, &problem, 50, |_| {});
        let first = trained.objectives[0];
        let best = trained.objectives.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(best < 0.8 * first, "{loss:?}: objective {first} → best {best}");
        assert_eq!(dnmf::objective(&trained.wbar, &problem), best);
        assert!(trained.wbar.iter().all(|&v| v >= 0.0 && v.is_finite()));
    }
}

/// DNMF's objective of an f32 problem with 1.3 M terms equals the same objective computed in
/// f64 from the same values to 1e-6 (an f32 running sum drifts by ~1e-4 here: DNMF picks its
/// best iterate on this sum).
#[test]
fn dnmf_objective_of_an_f32_problem_is_summed_without_drift() {
    let mut rng = Prng::new(5);
    let (bins, frames, rs, rn) = (257, 5000, 3, 2);
    let w = random_matrix(&mut rng, bins, rs + rn, 0.1, 1.0);
    let h = random_matrix(&mut rng, rs + rn, frames, 0.1, 1.0);
    let speech = random_matrix(&mut rng, bins, frames, 0.0, 1.0);
    let mixture = &speech + random_matrix(&mut rng, bins, frames, 0.0, 1.0);
    let single = |m: &DMatrix<f64>| m.map(|v| v as f32);
    let (w32, h32, s32, m32) = (single(&w), single(&h), single(&speech), single(&mixture));
    let wide = |m: &DMatrix<f32>| m.map(f64::from);
    let (w64, h64, s64, m64) = (wide(&w32), wide(&h32), wide(&s32), wide(&m32));
    for loss in [NmfLoss::Frobenius, NmfLoss::KullbackLeibler] {
        let p32 = Problem {
            h: &h32,
            speech_rank: rs,
            mixture: &m32,
            speech: &s32,
            loss,
            p: 2.0f32,
        };
        let p64 = Problem {
            h: &h64,
            speech_rank: rs,
            mixture: &m64,
            speech: &s64,
            loss,
            p: 2.0f64,
        };
        let (ours, reference) = (dnmf::objective(&w32, &p32), dnmf::objective(&w64, &p64));
        let rel = (ours - reference).abs() / reference.abs();
        assert!(
            rel < 1e-6,
            "{loss:?}: f32 problem {ours}, f64 {reference}: relative {rel:e}"
        );
    }
}

/// The mask layer's loss written out in f64, independently of the burn version.
fn mask_loss_f64(out: &[f64], x: &[f64], s: &[f64], n: &[f64], bins: usize, gamma: f64) -> f64 {
    let frames = x.len() / bins;
    let softplus = |v: f64| v.exp().ln_1p();
    let mut total = 0.0;
    for t in 0..frames {
        for k in 0..bins {
            let ys = softplus(out[t * 2 * bins + k]);
            let yn = softplus(out[t * 2 * bins + bins + k]);
            let m = ys / (ys + yn + 1e-8);
            let i = t * bins + k;
            let (sh, nh) = (m * x[i], (1.0 - m) * x[i]);
            total += (sh - s[i]).powi(2) + (nh - n[i]).powi(2)
                - gamma * ((sh - n[i]).powi(2) + (nh - s[i]).powi(2));
        }
    }
    total / frames as f64
}

#[test]
fn mask_layer_gradient_matches_central_finite_differences() {
    let (frames, bins, gamma) = (4, 5, 0.05);
    let mut rng = Prng::new(5);
    let draw = |rng: &mut Prng, len: usize, lo: f64, hi: f64| -> Vec<f64> {
        (0..len).map(|_| uniform(rng, lo, hi)).collect()
    };
    let out = draw(&mut rng, frames * 2 * bins, -2.0, 2.0);
    let s = draw(&mut rng, frames * bins, 0.0, 1.0);
    let n = draw(&mut rng, frames * bins, 0.0, 1.0);
    let x: Vec<f64> = s.iter().zip(&n).map(|(a, b)| a + b + 0.05).collect();

    let device = Backend::Ndarray.device(true);
    let tensor = |v: &[f64], cols: usize| {
        Tensor::<2>::from_data(
            TensorData::new(v.iter().map(|&a| a as f32).collect::<Vec<_>>(), [frames, cols]),
            &device,
        )
    };
    let outputs = tensor(&out, 2 * bins).require_grad();
    let loss = mask_loss(
        outputs.clone(),
        tensor(&x, bins),
        tensor(&s, bins),
        tensor(&n, bins),
        gamma,
    );
    let value = f64::from(loss.clone().into_scalar::<f32>());
    let grads = loss.backward();
    let analytic = to_vec(outputs.grad(&grads).expect("gradient of the outputs")).unwrap();

    let reference = mask_loss_f64(&out, &x, &s, &n, bins, gamma);
    assert!(
        (value - reference).abs() < 1e-5 * reference.abs().max(1.0),
        "loss {value} vs {reference}"
    );
    let step = 1e-5;
    for i in 0..out.len() {
        let (mut plus, mut minus) = (out.clone(), out.clone());
        plus[i] += step;
        minus[i] -= step;
        let numeric = (mask_loss_f64(&plus, &x, &s, &n, bins, gamma)
            - mask_loss_f64(&minus, &x, &s, &n, bins, gamma))
            / (2.0 * step);
        let err = (f64::from(analytic[i]) - numeric).abs();
        assert!(
            err < 1e-4 + 1e-3 * numeric.abs(),
            "output {i}: autodiff {} vs finite differences {numeric}",
            analytic[i]
        );
    }
}

/// A small, fast `speech table` run on the bundled data.
fn table_args(out: &Path) -> Vec<String> {
    let noise = |name: &str| {
        format!(
            "{name}={}:{}",
            mini(&format!("noise/{name}/train.wav")).display(),
            mini(&format!("noise/{name}/test.wav")).display()
        )
    };
    [
        "speech",
        "table",
        "--speech-train",
        mini("clean/train").to_str().unwrap(),
        "--speech-test",
        mini("clean/test").to_str().unwrap(),
        "--noise",
        &noise("running_tap"),
        "--noise",
        &noise("babble"),
        "--snr",
        "0",
        "--rank",
        "8",
        "--dict-iterations",
        "40",
        "--iterations",
        "30",
        "--dnmf-iterations",
        "5",
        "--net-hidden",
        "48",
        "--net-epochs",
        "2",
        "--vae-hidden",
        "32,32",
        "--vae-epochs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn speech_table_writes_both_tables_for_every_method() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("table");
    let args = table_args(&out);
    let output = vaenmf().args(&args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("table.json")).unwrap()).unwrap();
    let methods = [
        "input",
        "nmf",
        "dnmf",
        "dnn",
        "vae-nmf",
        "nmf-dict-net",
        "vae-nmf-dict-mu",
        "oracle",
    ];
    for table in ["table1", "table2"] {
        for m in methods {
            let row = &json[table][m];
            for key in ["0", "average"] {
                for measure in ["sdr", "sir", "sar", "pesq_nb_mos_lqo", "pesq_wb", "stoi"] {
                    assert!(
                        row[key][measure].as_f64().is_some_and(f64::is_finite),
                        "{table}.{m}.{key}.{measure}: {}",
                        row[key][measure]
                    );
                }
            }
            // 2 test utterances × 2 noises at one SNR.
            assert_eq!(row["average"]["count"], 4, "{table}.{m}");
        }
    }
    // The ideal ratio mask beats the unprocessed input by a wide margin on every table.
    for table in ["table1", "table2"] {
        let sdr = |m: &str| json[table][m]["average"]["sdr"].as_f64().unwrap();
        assert!(
            sdr("oracle") > sdr("input") + 5.0,
            "{table}: oracle {} input {}",
            sdr("oracle"),
            sdr("input")
        );
        // Running tap is easy for any dictionary method: NMF gains there even this small.
    }
    let tap_nmf = json["table1_by_noise"]["running_tap"]["nmf"]["average"]["sdr"]
        .as_f64()
        .unwrap();
    let tap_in = json["table1_by_noise"]["running_tap"]["input"]["average"]["sdr"]
        .as_f64()
        .unwrap();
    assert!(
        tap_nmf > tap_in + 2.0,
        "running tap: NMF {tap_nmf} dB, input {tap_in} dB"
    );
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(
        md.contains("## Table 1") && md.contains("## Table 2") && md.contains("| Aver |"),
        "{md}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Table 1 average SDR"), "{stdout}");
}

fn fails_with(args: &[String], expected: &str) {
    let output = vaenmf().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(expected), "expected '{expected}' in: {stderr}");
}

/// `args` with `flag`'s (first) value replaced, or the flag added.
fn with(args: &[String], flag: &str, value: &str) -> Vec<String> {
    let mut out = args.to_vec();
    match out.iter().position(|a| a == flag) {
        Some(i) => out[i + 1] = value.to_string(),
        None => out.extend([flag.to_string(), value.to_string()]),
    }
    out
}

#[test]
fn speech_table_rejects_bad_input_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("table");
    let args = table_args(&out);
    fails_with(&with(&args, "--methods", "nmf,vae"), "invalid value 'vae'");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    fails_with(
        &with(&args, "--speech-train", empty.to_str().unwrap()),
        "no .wav files in this folder",
    );
    // A test noise shorter than the test utterances: says which, and by how much.
    let short = dir.path().join("short.wav");
    let tap = mini("noise/running_tap/test.wav");
    let (audio, _) = vaenmf_trainer::speech::front_end::audio::read_wav(&tap).unwrap();
    let bytes = vaenmf_trainer::speech::front_end::audio::wav_bytes(
        &audio.samples[..16000 * 3],
        16000,
        vaenmf_trainer::speech::front_end::audio::WavFormat::Float32,
    )
    .unwrap();
    std::fs::write(&short, bytes).unwrap();
    let noise = format!(
        "short={}:{}",
        mini("noise/running_tap/train.wav").display(),
        short.display()
    );
    let mut short_args = with(&args, "--noise", &noise);
    let i = short_args.iter().rposition(|a| a == "--noise").unwrap();
    short_args.drain(i..i + 2);
    fails_with(&short_args, "fewer than utterance");
    // A training noise shorter than a training utterance: refused before any training (no
    // stage is logged), naming the noise and the flag that repeats it.
    let short_train = format!(
        "short={}:{}",
        short.display(),
        mini("noise/running_tap/test.wav").display()
    );
    let mut short_args = with(&args, "--noise", &short_train);
    let i = short_args.iter().rposition(|a| a == "--noise").unwrap();
    short_args.drain(i..i + 2);
    let output = vaenmf().args(&short_args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("'short (train)'") && stderr.contains("--loop-noise"),
        "{stderr}"
    );
    assert!(!stderr.contains("dictionary"), "training started: {stderr}");
    // More atoms than spectrogram frames of one short training utterance.
    let tiny = dir.path().join("tiny");
    std::fs::create_dir_all(&tiny).unwrap();
    std::fs::write(
        tiny.join("a.wav"),
        vaenmf_trainer::speech::front_end::audio::wav_bytes(
            &audio.samples[..640],
            16000,
            vaenmf_trainer::speech::front_end::audio::WavFormat::Float32,
        )
        .unwrap(),
    )
    .unwrap();
    fails_with(
        &with(&args, "--speech-train", tiny.to_str().unwrap()),
        "needs more than",
    );
    assert!(!out.join("table.json").exists() && !out.join("table.md").exists());
}

/// `--loop-noise` reaches the training mixtures: a training noise shorter than an utterance
/// is repeated instead of refused.
#[test]
fn loop_noise_applies_to_training_mixtures() {
    use vaenmf_trainer::speech::front_end::mix::Named;
    use vaenmf_trainer::speech::methods::training_set::training_mixtures;
    let utterance = Named {
        name: "u".into(),
        samples: (0..1000).map(|t| (t as f32 * 0.1).sin()).collect(),
    };
    let noise = Named {
        name: "n".into(),
        samples: (0..300).map(|t| (t as f32 * 0.37).cos()).collect(),
    };
    let err = training_mixtures(
        std::slice::from_ref(&utterance),
        std::slice::from_ref(&noise),
        &[0.0],
        1,
        false,
    )
    .unwrap_err();
    assert!(err.to_string().contains("--loop-noise"), "{err}");
    let set = training_mixtures(&[utterance], &[noise], &[0.0, 5.0], 1, true).unwrap();
    assert_eq!(set.len(), 2);
    assert!(set.iter().all(|m| m.noise_part.len() == 1000));
}

#[test]
fn pooled_training_mixtures_give_every_noise_its_turn() {
    use vaenmf_trainer::speech::front_end::mix::Named;
    use vaenmf_trainer::speech::methods::training_set::training_mixtures;
    let signal = |name: &str, len: usize, seed: u64| {
        let mut rng = Prng::new(seed);
        Named {
            name: name.into(),
            samples: (0..len).map(|_| uniform(&mut rng, -0.5, 0.5) as f32).collect(),
        }
    };
    let utterances: Vec<Named> = (0..3).map(|u| signal(&format!("u{u}"), 800, u)).collect();
    let noises = [signal("a", 4000, 10), signal("b", 4000, 11)];
    let snrs = [-5.0, 0.0, 5.0, 10.0];
    let set = training_mixtures(&utterances, &noises, &snrs, 3, false).unwrap();
    // As many mixtures as with one noise, half from each noise, every (utterance, SNR) once.
    assert_eq!(set.len(), 12);
    assert_eq!(set.iter().filter(|m| m.noise == 0).count(), 6);
    let mut pairs: Vec<(usize, i64)> = set.iter().map(|m| (m.utterance, m.snr_db as i64)).collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), 12);
    let again = training_mixtures(&utterances, &noises, &snrs, 3, false).unwrap();
    assert!(set.iter().zip(&again).all(|(a, b)| a.noisy == b.noisy));
    let one = training_mixtures(&utterances, &noises[..1], &snrs, 3, false).unwrap();
    assert_eq!(one.len(), 12);
    assert!(one.iter().all(|m| m.noise == 0));
}

/// A pooled model of 4 noises at 4 SNRs: each noise at every SNR (the turns once went by
/// mixture index, which gave each noise a single SNR), as evenly as the utterances allow.
#[test]
fn pooled_training_mixtures_give_every_noise_every_snr() {
    use vaenmf_trainer::speech::front_end::mix::Named;
    use vaenmf_trainer::speech::methods::training_set::{snr_coverage, training_mixtures};
    let signal = |name: &str, len: usize, seed: u64| {
        let mut rng = Prng::new(seed);
        Named {
            name: name.into(),
            samples: (0..len).map(|_| uniform(&mut rng, -0.5, 0.5) as f32).collect(),
        }
    };
    let utterances: Vec<Named> = (0..8).map(|u| signal(&format!("u{u}"), 400, u)).collect();
    let noises: Vec<Named> = (0..4).map(|k| signal(&format!("n{k}"), 2000, 20 + k)).collect();
    let snrs = [-5.0, 0.0, 5.0, 10.0];
    let set = training_mixtures(&utterances, &noises, &snrs, 7, false).unwrap();
    assert_eq!(set.len(), 32);
    assert_eq!(snr_coverage(&set, 4, &snrs), vec![vec![2; 4]; 4]);
}
