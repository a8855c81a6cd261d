//! `cargo xtask bench speech-firmware`: issue #23's table in one run — the quantised speech
//! enhancer on the emulated Cortex-M4F against its budget, its accuracy against the f32
//! enhancer and against supervised NMF on the shared test set, device output against host.
//!
//! Steps (everything under `out/bench/speech-firmware/`):
//! 1. Per noise of Table 1: training mixtures (clean/train + noise train part, −5…10 dB, seed
//!    7) and the table's test mixtures (clean/test + noise test part, seed 1001 + k).
//! 2. Per noise: the default device model — VAE-NMF, 2 × 128 activation network on the
//!    current and the previous frame (no look-ahead) — trained with `vaenmf speech train`,
//!    quantised with `vaenmf quantize` (calibrated on the training mixtures, scored f32 against
//!    int8 on the test mixtures, offline); supervised NMF (100 updates, offline) trained and
//!    scored on the same mixtures.
//! 3. Per noise: the `speech` firmware with that int8 enhancer and the bundled recording on
//!    QEMU, its WAV compared byte for byte with `vaenmf speech enhance --stream` on the host;
//!    the babble f32 enhancer too (cost only). The FFT pair from `kernel_bench`; flash from
//!    the board builds' ELFs less the recording; RAM = static + the painted stack's mark.
//! 4. The table, each goal with its number and met / not met.

use std::path::{Path, PathBuf};
use std::process::Command;

use vaenmf_system_tests::{build_board, build_speech, footprint, run_qemu, Board, SpeechFiles};

use crate::firmware_bench::field;
use crate::{cargo, root, speech_data, SPEECH_TABLE_NOISES};

fn vaenmf(args: &[&str]) -> Result<String, String> {
    let bin = root().join("target/release/vaenmf");
    eprintln!("+ vaenmf {}", args.join(" "));
    let out = Command::new(&bin)
        .args(args)
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!(
            "vaenmf {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn number(v: &serde_json::Value, pointer: &str) -> Result<f64, String> {
    v.pointer(pointer)
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| format!("no number at {pointer}"))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Per-noise accuracy: f32 and int8 VAE-NMF and NMF, mean over the noise's test mixtures.
struct Accuracy {
    f32_sdr: f64,
    int8_sdr: f64,
    f32_pesq: f64,
    int8_pesq: f64,
    f32_stoi: f64,
    int8_stoi: f64,
    nmf_sdr: f64,
}

/// One firmware run's summary numbers.
struct DeviceRun {
    recording_bytes: u64,
    mean: f64,
    max: f64,
    stack: u64,
    static_ram: u64,
    latency_ms: f64,
    macs: u64,
    identical: bool,
}

fn device_run(tag: &str, model: &Path, wav: &Path, dir: &Path) -> Result<DeviceRun, String> {
    let device_wav = dir.join(format!("{tag}-device.wav"));
    let host_wav = dir.join(format!("{tag}-host.wav"));
    let _ = std::fs::remove_file(&device_wav);
    let elf = build_speech(
        tag,
        SpeechFiles {
            model,
            wav,
            out: Some(&device_wav),
        },
        &[],
    )?;
    let printed = run_qemu(&elf)?;
    let summary = printed
        .lines()
        .find_map(|l| l.strip_prefix("summary "))
        .ok_or_else(|| format!("{tag}: no summary line in {printed}"))?;
    println!("{tag}: {summary}");
    vaenmf(&[
        "speech",
        "enhance",
        &s(wav),
        "--model",
        &s(model),
        "--stream",
        "-o",
        &s(&host_wav),
    ])?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let identical = read(&device_wav)? == read(&host_wav)?;
    let get = |key: &str| -> Result<f64, String> {
        field(summary, key)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{tag}: no {key} in {summary}"))
    };
    let recording_bytes = printed
        .lines()
        .find_map(|l| l.strip_prefix("embedded "))
        .and_then(|l| field(l, "recording_bytes")?.parse().ok())
        .ok_or_else(|| format!("{tag}: no embedded line in {printed}"))?;
    Ok(DeviceRun {
        recording_bytes,
        mean: get("instructions_per_hop")?,
        max: get("max_instructions_per_hop")?,
        stack: get("stack_bytes")? as u64,
        static_ram: get("static_ram_bytes")? as u64,
        latency_ms: get("latency_ms")?,
        macs: get("macs_per_hop")? as u64,
        identical,
    })
}

/// Trains, quantises and scores the default device model and NMF for noise `k`.
fn accuracy(data: &Path, dir: &Path, k: usize, noise: &str) -> Result<(Accuracy, PathBuf, PathBuf), String> {
    let d = |rel: &str| s(&data.join(rel));
    let train_mix = dir.join(format!("mix/train-{noise}"));
    let test_mix = dir.join(format!("mix/test-{noise}"));
    let noise_train = format!("{noise}={}", d(&format!("noise/{noise}/train.wav")));
    for (mix, speech, noise_arg, seed) in [
        (&train_mix, d("clean/train"), noise_train.clone(), 7),
        (
            &test_mix,
            d("clean/test"),
            format!("{noise}={}", d(&format!("noise/{noise}/test.wav"))),
            1001 + k,
        ),
    ] {
        vaenmf(&[
            "speech",
            "mix",
            "--speech",
            &speech,
            "--noise",
            &noise_arg,
            "--snr=-5,0,5,10",
            "--seed",
            &seed.to_string(),
            "--loop-noise",
            "--out",
            &s(mix),
        ])?;
    }
    let f32_model = dir.join(format!("models/{noise}-vae-nmf.vnmf"));
    let int8_model = dir.join(format!("models/{noise}-vae-nmf-int8.vnmf"));
    let nmf_model = dir.join(format!("models/{noise}-nmf.vnmf"));
    let train = |method: &str, out: &Path, extra: &[&str]| -> Result<String, String> {
        let mut args = vec!["speech", "train", "--method", method, "--speech-train"];
        let speech = d("clean/train");
        args.push(&speech);
        args.extend(["--noise", &noise_train, "--loop-noise", "-o"]);
        let out = s(out);
        args.push(&out);
        args.extend_from_slice(extra);
        vaenmf(&args)
    };
    train(
        "vae-nmf",
        &f32_model,
        &["--net-hidden", "128,128", "--look-ahead", "0"],
    )?;
    train("nmf", &nmf_model, &[])?;
    let report = dir.join(format!("{noise}-quantize.json"));
    vaenmf(&[
        "quantize",
        &s(&f32_model),
        "--data",
        &s(&train_mix.join("manifest.csv")),
        "--test",
        &s(&test_mix.join("manifest.csv")),
        "-o",
        &s(&int8_model),
        "--report",
        &s(&report),
    ])?;
    let q = json(&report)?;
    let eval_dir = dir.join(format!("eval-nmf-{noise}"));
    vaenmf(&[
        "speech",
        "eval",
        "--manifest",
        &s(&test_mix.join("manifest.csv")),
        "--model",
        &s(&nmf_model),
        "--offline",
        "--out",
        &s(&eval_dir),
    ])?;
    let nmf = json(&eval_dir.join("eval.json"))?;
    let nmf_sdr = number(&nmf, &format!("/summary/{noise}/Aver/method/sdr"))?;
    Ok((
        Accuracy {
            f32_sdr: number(&q, "/test/f32/sdr")?,
            int8_sdr: number(&q, "/test/int8/sdr")?,
            f32_pesq: number(&q, "/test/f32/pesq_nb")?,
            int8_pesq: number(&q, "/test/int8/pesq_nb")?,
            f32_stoi: number(&q, "/test/f32/stoi")?,
            int8_stoi: number(&q, "/test/int8/stoi")?,
            nmf_sdr,
        },
        f32_model,
        int8_model,
    ))
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**not met**"
    }
}

/// Flash of the `speech` ELF for `board` less the embedded recording's bytes.
fn board_flash(board: Board, recording_bytes: u64) -> Result<u64, String> {
    let bundled = root().join("firmware-example/model");
    let dir = build_board(
        board,
        &format!("speech-{}", board.feature()),
        &bundled.join("default.vnmf"),
        &bundled.join("frames.csv"),
    )?;
    let (flash, _) = footprint(&dir.join("speech"))?;
    Ok(flash - recording_bytes)
}

pub fn bench() -> Result<(), String> {
    let data = speech_data()?;
    let dir = root().join("out/bench/speech-firmware");
    std::fs::create_dir_all(dir.join("models")).map_err(|e| format!("{}: {e}", dir.display()))?;
    cargo(&[
        "build",
        "--release",
        "--quiet",
        "-p",
        "vaenmf-trainer",
        "--bin",
        "vaenmf",
    ])?;
    let wav = root().join("firmware-example/model/speech.wav");
    let mut accuracies = Vec::new();
    let mut runs = Vec::new();
    let mut first_f32 = None;
    let bundled = std::fs::read(root().join("firmware-example/model/speech.vnmf")).ok();
    let mut bundled_is = None;
    for (k, noise) in SPEECH_TABLE_NOISES.iter().enumerate() {
        let (acc, f32_model, int8_model) = accuracy(&data, &dir, k, noise)?;
        runs.push((
            noise.to_string(),
            device_run(&format!("speech-{noise}-int8"), &int8_model, &wav, &dir)?,
        ));
        if k == 0 {
            first_f32 = Some(device_run(
                &format!("speech-{noise}-f32"),
                &f32_model,
                &wav,
                &dir,
            )?);
        }
        if bundled.is_some() && std::fs::read(&int8_model).ok() == bundled {
            bundled_is = Some(noise.to_string());
        }
        accuracies.push(acc);
    }
    match &bundled_is {
        Some(noise) => println!(
            "the bundled firmware-example/model/speech.vnmf is, byte for byte, the {noise} int8 enhancer trained and quantised here"
        ),
        None => println!(
            "the bundled firmware-example/model/speech.vnmf is NONE of the int8 enhancers trained and quantised here"
        ),
    }
    let fft = run_qemu(
        &root().join("target/firmware/speech-babble-int8/thumbv7em-none-eabihf/release/kernel_bench"),
    )?;
    let fft_pair: f64 = fft
        .lines()
        .find(|l| l.starts_with("fft "))
        .and_then(|l| field(l, "pair_instructions"))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("kernel_bench printed no fft line: {fft}"))?;
    let stages = fft
        .lines()
        .find_map(|l| l.strip_prefix("speech stages "))
        .unwrap_or("(kernel_bench printed no speech stages)")
        .to_string();
    let (_, babble) = &runs[0];
    let flash: Vec<(Board, u64)> = Board::ALL
        .iter()
        .map(|&b| board_flash(b, babble.recording_bytes).map(|f| (b, f)))
        .collect::<Result<_, _>>()?;

    let mean_per_hop = mean(runs.iter().map(|(_, r)| r.mean));
    let worst_ratio = runs.iter().map(|(_, r)| r.max / r.mean).fold(0.0, f64::max);
    let ram = babble.static_ram + babble.stack;
    let hop_seconds = 128.0 / 16_000.0;
    let sdr_diff = mean(accuracies.iter().map(|a| a.int8_sdr - a.f32_sdr));
    let pesq_diff = mean(accuracies.iter().map(|a| a.int8_pesq - a.f32_pesq));
    let int8_sdr = mean(accuracies.iter().map(|a| a.int8_sdr));
    let nmf_sdr = mean(accuracies.iter().map(|a| a.nmf_sdr));
    let identical = runs.iter().filter(|(_, r)| r.identical).count()
        + usize::from(first_f32.as_ref().is_some_and(|r| r.identical));
    let compared = runs.len() + 1;
    let max_flash = flash.iter().map(|(_, f)| *f).max().unwrap_or(0);
    println!("\n| measure | now | goal | |\n|---|---|---|---|");
    println!(
        "| whole enhancer, instructions per hop (mean of the 4 int8 enhancers) | {:.0} ({:.1} M/s of audio) | ≤ 300 k (stretch 150 k) | {} |",
        mean_per_hop,
        mean_per_hop / hop_seconds / 1e6,
        verdict(mean_per_hop <= 300_000.0)
    );
    println!(
        "| worst hop / mean | {worst_ratio:.3} | ≤ 1.5 | {} |",
        verdict(worst_ratio <= 1.5)
    );
    println!(
        "| 512-point real FFT + inverse | {fft_pair:.0} | ≤ 110 k | {} |",
        verdict(fft_pair <= 110_000.0)
    );
    println!(
        "| RAM: static {} B + stack {} B | {:.1} KiB | ≤ 32 KiB | {} |",
        babble.static_ram,
        babble.stack,
        ram as f64 / 1024.0,
        verdict(ram <= 32 * 1024)
    );
    for (b, f) in &flash {
        println!(
            "| flash without the recording, {} | {:.1} KiB | ≤ 256 KiB | {} |",
            b.feature(),
            *f as f64 / 1024.0,
            verdict(*f <= 256 * 1024)
        );
    }
    println!(
        "| algorithmic latency | {} ms | ≤ 40 ms | {} |",
        babble.latency_ms,
        verdict(babble.latency_ms <= 40.0)
    );
    println!(
        "| int8 − f32 on the test set (4 noises × 40 mixtures, offline) | SDR {sdr_diff:+.3} dB, PESQ-NB {pesq_diff:+.3} | within 0.3 dB / 0.05 | {} |",
        verdict(sdr_diff.abs() <= 0.3 && pesq_diff.abs() <= 0.05)
    );
    println!(
        "| device output vs host (`speech enhance --stream`) | {identical} of {compared} WAVs identical | bit-identical | {} |",
        verdict(identical == compared)
    );
    println!(
        "| small int8 model vs supervised NMF, average SDR (−5…10 dB) | {int8_sdr:.2} vs {nmf_sdr:.2} dB | higher | {} |",
        verdict(int8_sdr > nmf_sdr)
    );
    println!(
        "\nmultiply-adds per hop {}; per noise (SDR f32 → int8 / NMF, PESQ-NB f32 → int8, STOI f32 → int8, instructions per hop mean / max):",
        babble.macs
    );
    for ((noise, r), a) in runs.iter().zip(&accuracies) {
        println!(
            "  {noise}: {:.2} → {:.2} / {:.2} dB, {:.3} → {:.3}, {:.4} → {:.4}, {:.0} / {:.0}",
            a.f32_sdr, a.int8_sdr, a.nmf_sdr, a.f32_pesq, a.int8_pesq, a.f32_stoi, a.int8_stoi, r.mean, r.max
        );
    }
    if let Some(r) = &first_f32 {
        println!(
            "  babble f32 on the device: {:.0} / {:.0} instructions per hop, static {} B + stack {} B",
            r.mean, r.max, r.static_ram, r.stack
        );
    }
    println!("flash of the speech ELF for the largest part: {max_flash} B without the recording");
    println!("stages of a hop (the babble int8 build's kernel_bench, instructions): fft pair={fft_pair:.0} {stages}");
    if identical != compared {
        return Err(format!(
            "{} of {compared} device WAVs differ from the host's",
            compared - identical
        ));
    }
    Ok(())
}
