//! The speech firmware under QEMU (Cortex-M4F) against the core's streaming enhancer on the
//! host — the code `vaenmf speech enhance --stream` runs — for the bundled quantised enhancer
//! and for an f32 one with look-ahead: the WAV the device writes through semihosting is, byte
//! for byte, the float WAV of the host's samples (header as `hound` writes it). A hop the
//! enhancer refuses (NaN, a sample past ±65536) is reported, its output is silence and the
//! stream goes on, on both sides alike.

use std::path::{Path, PathBuf};

use vaenmf_core::front_end::Window;
use vaenmf_core::speech::{
    EnhancerBlob, EnhancerMethod, NetworkEnhancer, OwnedNetworkBuffers, RandomEnhancerSizes, FFT_SIZE,
};
use vaenmf_core::FrontEnd;
use vaenmf_system_tests::{build_speech, root, run_qemu, SpeechFiles};

const HOP: usize = 128;

/// The firmware's output, as the host computes it: the recording and `delay` zeros through
/// the enhancer hop by hop, a refused hop giving silence, the first `delay` samples dropped.
/// Returns the samples and the refused hops.
fn host_enhance(blob: &EnhancerBlob, noisy: &[f32]) -> (Vec<f32>, Vec<usize>) {
    let views = blob.layer_views();
    let net = blob.network_gain(&views).expect("a network enhancer");
    let mut buffers = OwnedNetworkBuffers::<HOP>::for_network(&net);
    let mut enhancer = NetworkEnhancer::<HOP>::new_checked(&blob.front_end, net, buffers.borrow()).unwrap();
    enhancer.set_gain_floor(blob.floor().unwrap());
    let delay = enhancer.delay();
    let hops = (noisy.len() + delay).div_ceil(HOP);
    let (mut out, mut refused) = (Vec::new(), Vec::new());
    for t in 0..hops {
        let input: [f32; HOP] = std::array::from_fn(|i| noisy.get(t * HOP + i).copied().unwrap_or(0.0));
        let mut output = [0.0f32; HOP];
        if enhancer.process(&input, &mut output).is_err() {
            refused.push(t);
            output = [0.0; HOP];
        }
        out.extend_from_slice(&output);
    }
    (out[delay..delay + noisy.len()].to_vec(), refused)
}

fn float_wav(samples: &[f32], rate: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    cursor.into_inner()
}

/// The samples of a WAV as the trainer reads them (16-bit PCM: `v / 32768`).
fn read_wav(path: &Path) -> Vec<f32> {
    let reader = hound::WavReader::open(path).unwrap();
    match reader.spec().sample_format {
        hound::SampleFormat::Int => reader
            .into_samples::<i16>()
            .map(|s| (f64::from(s.unwrap()) / 32768.0) as f32)
            .collect(),
        hound::SampleFormat::Float => reader.into_samples::<f32>().map(Result::unwrap).collect(),
    }
}

fn field<'a>(summary: &'a str, name: &str) -> &'a str {
    summary
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("summary without {name}: {summary}"))
}

/// Builds and runs the speech firmware with `model` and `wav`; checks the written WAV
/// against the host byte for byte and the report against the host's refused hops; returns
/// the summary line.
fn device_matches_host(tag: &str, model: &Path, wav: &Path) -> String {
    let dir = root().join("target/firmware/speech-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{tag}.wav"));
    let _ = std::fs::remove_file(&out);
    let files = SpeechFiles {
        model,
        wav,
        out: Some(&out),
    };
    let elf = build_speech(tag, files, &[]).unwrap_or_else(|e| panic!("{e}"));
    let printed = run_qemu(&elf).unwrap_or_else(|e| panic!("{e}"));
    let blob = EnhancerBlob::from_bytes(&std::fs::read(model).unwrap()).unwrap();
    let noisy = read_wav(wav);
    let (expected, refused) = host_enhance(&blob, &noisy);
    let device = std::fs::read(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let host = float_wav(&expected, blob.front_end.sample_rate);
    assert_eq!(device.len(), host.len(), "{tag}: WAV length");
    if let Some(i) = device.iter().zip(&host).position(|(a, b)| a != b) {
        panic!(
            "{tag}: the device's WAV differs from the host's at byte {i} (sample {})",
            i.saturating_sub(68) / 4
        );
    }
    let skips: Vec<usize> = printed
        .lines()
        .filter_map(|l| l.strip_prefix("skip,")?.split(',').next()?.parse().ok())
        .collect();
    assert_eq!(skips, refused, "{tag}: refused hops");
    let summary = printed
        .lines()
        .find_map(|l| l.strip_prefix("summary "))
        .unwrap_or_else(|| panic!("{tag}: no summary in {printed}"))
        .to_string();
    let delay = FFT_SIZE - HOP + blob.network.as_ref().unwrap().context_after as usize * HOP;
    assert_eq!(
        field(&summary, "hops"),
        (noisy.len() + delay).div_ceil(HOP).to_string()
    );
    assert_eq!(field(&summary, "skipped"), refused.len().to_string());
    assert_eq!(
        field(&summary, "macs_per_hop"),
        blob.macs_per_frame(0).to_string()
    );
    assert_eq!(
        field(&summary, "latency_ms").parse::<f64>().unwrap(),
        blob.latency_seconds() * 1e3
    );
    // The CRC the firmware prints (what a board reports) is the samples' CRC.
    let crc = printed
        .lines()
        .find_map(|l| l.strip_prefix("output "))
        .and_then(|l| field(l, "crc32").parse::<String>().ok())
        .unwrap_or_else(|| panic!("{tag}: no output line"));
    assert_eq!(crc, format!("{:08x}", crc32(&host[68..])));
    for key in [
        "instructions_per_hop",
        "max_instructions_per_hop",
        "stack_bytes",
        "static_ram_bytes",
    ] {
        assert!(field(&summary, key).parse::<u64>().unwrap() > 0, "{key}");
    }
    summary
}

/// CRC-32 (ISO-HDLC), bit by bit from its definition.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn the_bundled_int8_enhancer_on_qemu_writes_the_hosts_wav_byte_for_byte() {
    let model = root().join("firmware-example/model/speech.vnmf");
    let wav = root().join("firmware-example/model/speech.wav");
    let summary = device_matches_host("speech-default", &model, &wav);
    assert!(summary.contains("model=vae-nmf-int8"), "{summary}");
    assert_eq!(field(&summary, "skipped"), "0");
}

/// An f32 enhancer with a frame of look-ahead, on a float recording with a NaN and a sample
/// past ±65536 in it.
#[test]
fn an_f32_enhancer_matches_too_and_bad_samples_are_skipped_and_the_stream_goes_on() {
    let front_end = FrontEnd {
        sample_rate: 16_000,
        fft_size: FFT_SIZE as u32,
        hop: HOP as u32,
        window: Window::Hamming,
        magnitude_exponent: 1.0,
    };
    let sizes = RandomEnhancerSizes {
        ranks: (8, 6),
        hidden: &[24],
        context: (1, 1),
    };
    let blob = EnhancerBlob::random(EnhancerMethod::VaeNmf, front_end, sizes, 5);
    let dir: PathBuf = root().join("target/firmware/speech-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("random-f32.vnmf");
    std::fs::write(&model, blob.to_bytes().unwrap()).unwrap();
    let mut noisy: Vec<f32> = (0..20_000)
        .map(|i| 0.3 * (i as f32 * 0.07).sin() + 0.05 * ((i * 7919 % 1000) as f32 / 500.0 - 1.0))
        .collect();
    noisy[5_000] = f32::NAN;
    noisy[9_000] = 1e6;
    let wav = dir.join("random-noisy.wav");
    std::fs::write(&wav, float_wav(&noisy, 16_000)).unwrap();
    let summary = device_matches_host("speech-f32", &model, &wav);
    assert!(summary.contains("model=vae-nmf "), "{summary}");
    assert_eq!(field(&summary, "skipped"), "2");
}
