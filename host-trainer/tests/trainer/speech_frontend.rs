//! The speech front end: WAV in and out, resampling, STFT against a direct DFT and its exact
//! inverse.

use std::f64::consts::PI;

use realfft::num_complex::Complex32;
use vaenmf_core::gamma::Prng;
use vaenmf_trainer::speech::front_end::audio::{read_at_rate, read_wav, resample, wav_bytes, WavFormat};
use vaenmf_trainer::speech::front_end::stft::{Stft, StftConfig, Window};

fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Prng::new(seed);
    (0..n).map(|_| (rng.normal() * 0.3) as f32).collect()
}

fn write_int_wav(path: &std::path::Path, bits: u16, channels: u16, rate: u32, samples: &[i32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn wav_formats_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let x = noise(1000, 1);
    std::fs::write(d.join("f.wav"), wav_bytes(&x, 16000, WavFormat::Float32).unwrap()).unwrap();
    let (a, log) = read_wav(&d.join("f.wav")).unwrap();
    assert_eq!((a.rate, a.samples.clone(), log.channels), (16000, x.clone(), 1));
    // 16-bit with a stated scale: quantised to 1/32768 of full scale.
    std::fs::write(
        d.join("i16.wav"),
        wav_bytes(&x, 16000, WavFormat::Pcm16 { scale: 0.5 }).unwrap(),
    )
    .unwrap();
    let (b, log) = read_wav(&d.join("i16.wav")).unwrap();
    assert_eq!(log.format, "PCM 16-bit");
    for (u, v) in x.iter().zip(&b.samples) {
        assert!((u * 0.5 - v).abs() <= 0.5 / 32768.0 + 1e-7, "{u} {v}");
    }
    // A scale that would clip is refused, naming the sample.
    let err = wav_bytes(&[0.1, 0.9, -0.2], 16000, WavFormat::Pcm16 { scale: 2.0 }).unwrap_err();
    assert!(err.to_string().contains("sample 2"), "{err}");
    // 24-bit and 32-bit integer PCM; stereo averaged to mono.
    write_int_wav(&d.join("i24.wav"), 24, 1, 8000, &[1 << 22, -(1 << 22), 0]);
    assert_eq!(
        read_wav(&d.join("i24.wav")).unwrap().0.samples,
        vec![0.5, -0.5, 0.0]
    );
    write_int_wav(&d.join("i32.wav"), 32, 1, 8000, &[1 << 30]);
    assert_eq!(read_wav(&d.join("i32.wav")).unwrap().0.samples, vec![0.5]);
    write_int_wav(&d.join("st.wav"), 16, 2, 8000, &[16384, 0, -16384, -16384]);
    let (st, log) = read_wav(&d.join("st.wav")).unwrap();
    assert_eq!((st.samples, log.channels), (vec![0.25, -0.5], 2));
    let (_, notes) = read_at_rate(&d.join("st.wav"), 8000, false).unwrap();
    assert!(notes[0].contains("2 channels averaged to mono"), "{notes:?}");
}

#[test]
fn bad_wav_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let msg = |name: &str| read_wav(&d.join(name)).unwrap_err().to_string();
    std::fs::write(d.join("text.wav"), b"this is not audio").unwrap();
    assert!(
        msg("text.wav").contains("text.wav: not a readable WAV file"),
        "{}",
        msg("text.wav")
    );
    std::fs::write(d.join("empty.wav"), b"").unwrap();
    assert!(msg("empty.wav").contains("empty.wav: not a readable WAV file"));
    let good = wav_bytes(&noise(100, 2), 16000, WavFormat::Float32).unwrap();
    std::fs::write(d.join("cut.wav"), &good[..good.len() - 10]).unwrap();
    assert!(
        msg("cut.wav").contains("cut.wav: truncated or corrupt"),
        "{}",
        msg("cut.wav")
    );
    std::fs::write(
        d.join("none.wav"),
        wav_bytes(&[], 16000, WavFormat::Float32).unwrap(),
    )
    .unwrap();
    assert!(msg("none.wav").contains("none.wav: no samples"));
    std::fs::write(
        d.join("nan.wav"),
        wav_bytes(&[0.1, f32::NAN, 0.0], 16000, WavFormat::Float32).unwrap(),
    )
    .unwrap();
    assert!(
        msg("nan.wav").contains("non-finite sample NaN at sample 2"),
        "{}",
        msg("nan.wav")
    );
    std::fs::write(d.join("r.wav"), good).unwrap();
    let err = read_at_rate(&d.join("r.wav"), 22050, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sample rate 16000 Hz, but 22050 Hz is needed"),
        "{err}"
    );
}

#[test]
fn resampling_keeps_a_tone() {
    // 440 Hz at 22.05 kHz → 16 kHz: the same tone, within the band, and the expected length.
    let (from, to, seconds) = (22050u32, 16000u32, 1.0);
    let n = (f64::from(from) * seconds) as usize;
    let tone = |rate: u32, i: usize| (0.5 * (2.0 * PI * 440.0 * i as f64 / f64::from(rate)).sin()) as f32;
    let x: Vec<f32> = (0..n).map(|i| tone(from, i)).collect();
    let y = resample(&x, from, to).unwrap();
    assert_eq!(
        y.len(),
        (n as f64 * f64::from(to) / f64::from(from)).ceil() as usize
    );
    // Away from the edges the output is a 440 Hz tone of amplitude 0.5 (least-squares fit of
    // sin and cos; the resampler may shift it by a fraction of a sample) and nothing else.
    let inner: Vec<usize> = (2000..y.len() - 2000).collect();
    let w = 2.0 * PI * 440.0 / f64::from(to);
    let (mut ss, mut sc, mut cc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &i in &inner {
        let (s, c, v) = ((w * i as f64).sin(), (w * i as f64).cos(), f64::from(y[i]));
        ss += s * s;
        sc += s * c;
        cc += c * c;
        ys += v * s;
        yc += v * c;
    }
    let det = ss * cc - sc * sc;
    let (a, b) = ((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
    assert!(
        ((a * a + b * b).sqrt() - 0.5).abs() < 1e-3,
        "amplitude {}",
        (a * a + b * b).sqrt()
    );
    let residual = inner
        .iter()
        .map(|&i| (f64::from(y[i]) - a * (w * i as f64).sin() - b * (w * i as f64).cos()).powi(2))
        .sum::<f64>()
        / inner.len() as f64;
    assert!(residual.sqrt() < 1e-3, "residual RMS {}", residual.sqrt());
    // A tone above the new Nyquist frequency (9 kHz > 8 kHz) is filtered out, not aliased.
    let high: Vec<f32> = (0..n)
        .map(|i| (0.5 * (2.0 * PI * 9000.0 * i as f64 / f64::from(from)).sin()) as f32)
        .collect();
    let y = resample(&high, from, to).unwrap();
    let rms = (inner.iter().map(|&i| f64::from(y[i]).powi(2)).sum::<f64>() / inner.len() as f64).sqrt();
    assert!(rms < 0.01, "aliased RMS {rms}");
    assert_eq!(resample(&x, from, from).unwrap(), x);
}

#[test]
fn periodic_windows() {
    let w = Window::Hamming.values(512);
    assert!((w[0] - 0.08).abs() < 1e-7 && (w[256] - 1.0).abs() < 1e-7);
    // Periodic: symmetric about n/2, not about (n−1)/2.
    for i in 1..256 {
        assert!((w[i] - w[512 - i]).abs() < 1e-6);
    }
    assert_eq!(Window::Hann.values(8)[0], 0.0);
}

#[test]
fn stft_frames_equal_a_direct_dft() {
    let cfg = StftConfig::default().check().unwrap();
    let stft = Stft::new(&cfg);
    let x = noise(4000, 3);
    let spec = stft.forward(&x);
    assert_eq!((spec.frames, spec.bins), (1 + 4000 / 128, 257));
    let w = Window::Hamming.values(512);
    for t in [0, 1, 7, spec.frames - 1] {
        // Frame t is x[t·128 − 256 …] windowed, zeros outside the signal.
        let frame: Vec<f64> = (0..512)
            .map(|i| {
                let j = (t * 128 + i) as i64 - 256;
                if (0..4000).contains(&j) {
                    f64::from(x[j as usize] * w[i])
                } else {
                    0.0
                }
            })
            .collect();
        for k in [0, 1, 40, 128, 256] {
            let (mut re, mut im) = (0.0, 0.0);
            for (i, v) in frame.iter().enumerate() {
                let phase = -2.0 * PI * (k * i) as f64 / 512.0;
                re += v * phase.cos();
                im += v * phase.sin();
            }
            let got: Complex32 = spec.data[t * 257 + k];
            let scale = frame.iter().map(|v| v.abs()).sum::<f64>().max(1e-9);
            assert!(
                ((f64::from(got.re) - re).abs() + (f64::from(got.im) - im).abs()) / scale < 1e-5,
                "frame {t} bin {k}: {got} vs {re}+{im}i"
            );
        }
    }
}

#[test]
fn inverse_stft_reproduces_the_signal() {
    for (n_fft, hop, window) in [
        (512, 128, Window::Hamming),
        (512, 256, Window::Hann),
        (256, 64, Window::Hamming),
    ] {
        let cfg = StftConfig { n_fft, hop, window }.check().unwrap();
        let stft = Stft::new(&cfg);
        for len in [1000, 16000, 16001, 48123] {
            let x: Vec<f32> = noise(len, len as u64)
                .iter()
                .enumerate()
                .map(|(i, v)| v + (0.3 * (2.0 * PI * 300.0 * (i as f64 / 16000.0).powi(2)).sin()) as f32)
                .collect();
            let y = stft.inverse(&stft.forward(&x), len).unwrap();
            let err = x
                .iter()
                .zip(&y)
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum::<f64>()
                .sqrt();
            let norm = x.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>().sqrt();
            assert!(
                err / norm < 1e-5,
                "n_fft {n_fft} hop {hop} len {len}: relative error {:e}",
                err / norm
            );
            let worst = x
                .iter()
                .zip(&y)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "largest sample error {worst}");
        }
    }
}

#[test]
fn stft_settings_are_checked() {
    let bad = |n_fft, hop| {
        StftConfig {
            n_fft,
            hop,
            window: Window::Hann,
        }
        .check()
        .unwrap_err()
        .to_string()
    };
    assert!(bad(511, 128).contains("--n-fft 511"));
    assert!(bad(512, 0).contains("--hop 0"));
    assert!(bad(512, 300).contains("--hop 300: must be between 1 and n-fft / 2 = 256"));
}

use crate::support;

fn write_wav(path: &std::path::Path, x: &[f32], rate: u32) {
    std::fs::write(path, wav_bytes(x, rate, WavFormat::Float32).unwrap()).unwrap();
}

/// `vaenmf speech mix`: every (utterance, noise, SNR), the SNR as asked, the segment where the
/// manifest says, the same files for the same seed.
#[test]
fn mix_builds_noisy_sets_at_the_asked_snr() {
    use predicates::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("clean")).unwrap();
    write_wav(&d.join("clean/a.wav"), &noise(3000, 11), 16000);
    write_wav(&d.join("clean/b.wav"), &noise(2000, 12), 16000);
    let babble = noise(20000, 13);
    write_wav(&d.join("babble.wav"), &babble, 16000);
    write_wav(&d.join("hum.wav"), &noise(9000, 14), 16000);
    let run = |out: &str, seed: &str| {
        support::vaenmf()
            .args(["speech", "mix", "--snr", "-5,0,7.5", "--seed", seed, "--speech"])
            .arg(d.join("clean"))
            .arg("--noise")
            .arg(format!("babble={}", d.join("babble.wav").display()))
            .arg("--noise")
            .arg(format!("hum={}", d.join("hum.wav").display()))
            .arg("--out")
            .arg(d.join(out))
            .assert()
            .success();
        std::fs::read_to_string(d.join(out).join("manifest.csv")).unwrap()
    };
    let manifest = run("set1", "3");
    let rows: Vec<Vec<&str>> = manifest.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2 * 2 * 3);
    for row in &rows {
        let read = |rel: &str| read_wav(&d.join("set1").join(rel)).unwrap().0.samples;
        let (clean, part, noisy) = (read(row[4]), read(row[5]), read(row[6]));
        let snr = vaenmf_trainer::speech::front_end::mix::snr_db(&clean, &part);
        let asked: f64 = row[3].parse().unwrap();
        assert!((snr - asked).abs() < 1e-3, "{row:?}: SNR {snr}");
        for ((c, p), y) in clean.iter().zip(&part).zip(&noisy) {
            assert!((c + p - y).abs() < 1e-6);
        }
        if row[1] == "babble" {
            // The scaled segment is the recording from segment_start on.
            let start: usize = row[2].parse().unwrap();
            let gain = part[10] / babble[start + 10];
            for (i, p) in part.iter().enumerate().step_by(97) {
                assert!((p - gain * babble[start + i]).abs() < 1e-5 * gain.abs().max(1.0));
            }
        }
    }
    assert_eq!(run("set2", "3"), manifest, "same seed, same set");
    assert_ne!(run("set3", "4"), manifest, "another seed draws other segments");
    // Bad input: an SNR list that does not parse, a noise shorter than an utterance, a rate.
    support::vaenmf()
        .args(["speech", "mix", "--snr", "0,loud", "--speech"])
        .arg(d.join("clean"))
        .arg("--noise")
        .arg(format!("babble={}", d.join("babble.wav").display()))
        .arg("--out")
        .arg(d.join("bad"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("loud"));
    write_wav(&d.join("short.wav"), &noise(100, 15), 16000);
    support::vaenmf()
        .args(["speech", "mix", "--speech"])
        .arg(d.join("clean"))
        .arg("--noise")
        .arg(format!("short={}", d.join("short.wav").display()))
        .arg("--out")
        .arg(d.join("bad"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "noise 'short' has 100 samples, 2900 fewer than utterance 'a' needs (3000 samples)",
        ));
    write_wav(&d.join("fast.wav"), &noise(30000, 16), 22050);
    support::vaenmf()
        .args(["speech", "mix", "--speech"])
        .arg(d.join("clean"))
        .arg("--noise")
        .arg(format!("fast={}", d.join("fast.wav").display()))
        .arg("--out")
        .arg(d.join("bad"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "sample rate 22050 Hz, but 16000 Hz is needed",
        ));
    assert!(!d.join("bad").exists());
}
