//! The `speech` binary's enhancer and recording, emitted as `OUT_DIR/speech.rs`.
//!
//! `VAENMF_SPEECH_MODEL` (default `model/speech.vnmf`) is decoded and validated with the core
//! — a network enhancer (dnn, vae-nmf, nmf-dict-net, vae-nmf-e2e), f32 or quantised — and
//! emitted as `static` arrays with a `network()` constructor and the buffer lengths its
//! streaming enhancer needs. `VAENMF_SPEECH_WAV` (default `model/speech.wav`, mono, at the
//! enhancer's rate) becomes `RECORDING`: 16-bit PCM stays 16-bit (half the flash), other
//! formats become f32 as the trainer reads them. `VAENMF_SPEECH_OUT` (optional) is where the
//! QEMU run writes the enhanced samples.

use std::fmt::Write as _;
use std::path::Path;

use vaenmf_core::speech::{BufferLengths, EnhancerBlob, FFT_SIZE};

use super::{fail, literal};

/// Largest recording embedded, seconds at the enhancer's rate.
const MAX_SECONDS: u32 = 60;

/// What the arrays of the speech binary take in flash, and its code.
pub struct Speech {
    pub code: String,
    pub model_bytes: usize,
    pub recording_bytes: usize,
}

fn floats(name: &str, values: &[f32], bytes: &mut usize) -> String {
    *bytes += 4 * values.len();
    let mut s = format!("pub static {name}: [f32; {}] = [", values.len());
    for &v in values {
        let _ = write!(s, "{},", literal(v));
    }
    s.push_str("];\n");
    s
}

fn integers<T: std::fmt::Display>(name: &str, ty: &str, values: &[T], bytes: &mut usize) -> String {
    *bytes += std::mem::size_of_val(values);
    let mut s = format!("pub static {name}: [{ty}; {}] = [", values.len());
    for v in values {
        let _ = write!(s, "{v},");
    }
    s.push_str("];\n");
    s
}

fn read_model(path: &Path) -> EnhancerBlob {
    let bytes = std::fs::read(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    let blob = EnhancerBlob::from_bytes(&bytes)
        .unwrap_or_else(|e| fail(format!("invalid speech enhancer {}: {e}", path.display())));
    if blob.network.is_none() {
        fail(format!(
            "{}: the speech firmware runs network enhancers (dnn, vae-nmf, nmf-dict-net, vae-nmf-e2e); {} fits its activations by multiplicative updates",
            path.display(),
            blob.method.name()
        ));
    }
    let fe = blob.front_end;
    if fe.fft_size as usize != FFT_SIZE || !(fe.hop.is_power_of_two() && (16..=256).contains(&fe.hop)) {
        fail(format!(
            "{}: the streaming enhancer runs a {FFT_SIZE}-point FFT with a power-of-two hop of 16 to 256 samples; the enhancer has front_end.fft_size {} and front_end.hop {}",
            path.display(),
            fe.fft_size,
            fe.hop
        ));
    }
    blob
}

/// The enhancer's statics and `network()`.
fn model_code(blob: &EnhancerBlob, bytes: &mut usize) -> String {
    let net = blob.network.as_ref().expect("checked by read_model");
    let fe = blob.front_end;
    let mut code = String::new();
    let _ = writeln!(
        code,
        "pub const HOP: usize = {};\npub const METHOD: &str = {:?};\npub const INT8: bool = {};\npub const GAIN_FLOOR: f32 = {};\npub const MACS_PER_HOP: u64 = {};\npub const LATENCY_SAMPLES: usize = {};",
        fe.hop,
        blob.method.name(),
        blob.quantized.is_some(),
        literal(blob.gain_floor),
        blob.macs_per_frame(0),
        FFT_SIZE + net.context_after as usize * fe.hop as usize,
    );
    let _ = writeln!(
        code,
        "pub const FRONT_END: vaenmf_core::FrontEnd = vaenmf_core::FrontEnd {{ sample_rate: {}, fft_size: {}, hop: {}, window: vaenmf_core::front_end::Window::{:?}, magnitude_exponent: {} }};",
        fe.sample_rate,
        fe.fft_size,
        fe.hop,
        fe.window,
        literal(fe.magnitude_exponent)
    );
    code += &floats("MEAN", &net.mean, bytes);
    code += &floats("STD", &net.std, bytes);
    code += &floats("OUTPUT_SCALE", &net.output_scale, bytes);
    code += &floats("DICTIONARY", &blob.analysis, bytes);
    let mut float_layers = Vec::new();
    for (i, l) in net.layers.iter().enumerate() {
        code += &floats(&format!("L{i}_W"), &l.weights, bytes);
        code += &floats(&format!("L{i}_B"), &l.bias, bytes);
        float_layers.push(format!(
            "vaenmf_core::speech::LayerView {{ inputs: {}, outputs: {}, weights: &L{i}_W, bias: &L{i}_B }}",
            l.inputs, l.outputs
        ));
    }
    let mut int8_layers = Vec::new();
    let (mut inverse_step, mut input_max) = (1.0f32, 1u16);
    if let Some(q) = &blob.quantized {
        let views = q.layer_views();
        let view = q.view(&views);
        (inverse_step, input_max) = (view.inverse_step, q.input_max);
        for (i, l) in q.layers.iter().enumerate() {
            *bytes += l.weights.len();
            let mut w = format!(
                "pub static Q{i}_W: vaenmf_core::Align4<[i8; {}]> = vaenmf_core::Align4([",
                l.weights.len()
            );
            for v in &l.weights {
                let _ = write!(w, "{v},");
            }
            w.push_str("]);\n");
            code += &w;
            code += &integers(&format!("Q{i}_B"), "i32", &l.bias, bytes);
            code += &integers(&format!("Q{i}_M"), "i32", &l.multiplier, bytes);
            code += &floats(&format!("Q{i}_S"), &l.output_scale, bytes);
            int8_layers.push(format!(
                "vaenmf_core::speech::QuantLayerView {{ inputs: {}, outputs: {}, weights: &Q{i}_W.0, bias: &Q{i}_B, multiplier: &Q{i}_M, output_scale: &Q{i}_S }}",
                l.inputs, l.outputs
            ));
        }
    }
    let _ = writeln!(
        code,
        "static FLOAT_LAYERS: [vaenmf_core::speech::LayerView<'static>; {}] = [{}];\nstatic INT8_LAYERS: [vaenmf_core::speech::QuantLayerView<'static>; {}] = [{}];",
        float_layers.len(),
        float_layers.join(", "),
        int8_layers.len(),
        int8_layers.join(", ")
    );
    let layers = if blob.quantized.is_some() {
        format!(
            "NetworkLayers::Int8(QuantNetworkView {{ inverse_step: {}, input_max: {input_max}, layers: &INT8_LAYERS }})",
            literal(inverse_step)
        )
    } else {
        "NetworkLayers::Float(&FLOAT_LAYERS)".to_string()
    };
    let output = if blob.method.has_dictionaries() {
        format!(
            "OutputView::Activations {{ scale: &OUTPUT_SCALE, dictionary: &DICTIONARY, speech_rank: {}, gain_exponent: {} }}",
            blob.speech_rank,
            literal(blob.gain_exponent)
        )
    } else {
        "OutputView::Mask".to_string()
    };
    let _ = writeln!(
        code,
        "/// The enhancer's network over the statics above.
pub fn network() -> vaenmf_core::speech::NetworkGain<'static> {{
    #[allow(unused_imports)]
    use vaenmf_core::speech::{{FeatureView, LayerView, NetworkGain, NetworkLayers, OutputView, QuantLayerView, QuantNetworkView}};
    NetworkGain {{
        features: FeatureView {{ bins: {}, before: {}, after: {}, reference: {}, mean: &MEAN, std: &STD }},
        layers: {layers},
        output: {output},
    }}
}}",
        blob.bins(),
        net.context_before,
        net.context_after,
        literal(net.reference)
    );
    let views = blob.layer_views();
    let gain = blob.network_gain(&views).expect("a network enhancer");
    let n = BufferLengths::of(&gain);
    let _ = writeln!(
        code,
        "pub const FRAMES_LEN: usize = {};\npub const SPECTRA_LEN: usize = {};\npub const WORK_LEN: usize = {};\npub const INT_LEN: usize = {};\npub const ACC_LEN: usize = {};",
        n.frames, n.spectra, n.work, n.int, n.acc
    );
    code
}

/// `RECORDING` (a `Recording` of the firmware library) from a mono WAV at `rate` Hz.
fn recording_code(path: &Path, rate: u32, bytes: &mut usize) -> String {
    let reader = hound::WavReader::open(path)
        .unwrap_or_else(|e| fail(format!("{}: not a readable WAV file ({e})", path.display())));
    let spec = reader.spec();
    if spec.channels != 1 {
        fail(format!(
            "{}: {} channels; the speech firmware plays a mono recording",
            path.display(),
            spec.channels
        ));
    }
    if spec.sample_rate != rate {
        fail(format!(
            "{}: {} Hz, the enhancer runs at {rate} Hz (resample it, e.g. `vaenmf speech mix`, or train at its rate)",
            path.display(),
            spec.sample_rate
        ));
    }
    let len = reader.duration();
    if len == 0 || len > MAX_SECONDS * rate {
        fail(format!(
            "{}: {len} samples; the speech firmware embeds 1 to {} ({MAX_SECONDS} s)",
            path.display(),
            MAX_SECONDS * rate
        ));
    }
    let bad = |e: hound::Error| -> ! { fail(format!("{}: corrupt samples ({e})", path.display())) };
    let mut code = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => {
            let samples: Vec<i16> = reader.into_samples::<i16>().collect::<Result<_, _>>().unwrap_or_else(|e| bad(e));
            let mut c = integers("RECORDING_PCM16", "i16", &samples, bytes);
            c += "pub static RECORDING: vaenmf_firmware_example::recording::Recording = vaenmf_firmware_example::recording::Recording::Pcm16(&RECORDING_PCM16);\n";
            c
        }
        (hound::SampleFormat::Float, 32) => {
            let samples: Vec<f32> = reader.into_samples::<f32>().collect::<Result<_, _>>().unwrap_or_else(|e| bad(e));
            let mut c = floats("RECORDING_F32", &samples, bytes);
            c += "pub static RECORDING: vaenmf_firmware_example::recording::Recording = vaenmf_firmware_example::recording::Recording::Float(&RECORDING_F32);\n";
            c
        }
        (hound::SampleFormat::Int, bits @ 8..=32) => {
            // As the trainer reads PCM: v / 2^(bits − 1) in f64, then f32.
            let full_scale = 2f64.powi(i32::from(bits) - 1);
            let samples: Vec<f32> = reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| (f64::from(v) / full_scale) as f32))
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| bad(e));
            let mut c = floats("RECORDING_F32", &samples, bytes);
            c += "pub static RECORDING: vaenmf_firmware_example::recording::Recording = vaenmf_firmware_example::recording::Recording::Float(&RECORDING_F32);\n";
            c
        }
        (format, bits) => fail(format!(
            "{}: unsupported sample format ({format:?}, {bits} bits); expected PCM 8/16/24/32-bit or 32-bit float",
            path.display()
        )),
    };
    let _ = writeln!(
        code,
        "pub const RECORDING_NAME: &str = {:?};",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    code
}

/// The speech binary's statics from `model` and `wav`; `out` is where a QEMU run writes its
/// samples (none: only their checksum is printed).
pub fn speech(model: &Path, wav: &Path, out: Option<&str>) -> Speech {
    let blob = read_model(model);
    let mut model_bytes = 0;
    let mut code = model_code(&blob, &mut model_bytes);
    let mut recording_bytes = 0;
    code += &recording_code(wav, blob.front_end.sample_rate, &mut recording_bytes);
    if out.is_some_and(|p| p.is_empty() || p.contains('\0')) {
        fail("VAENMF_SPEECH_OUT must be a non-empty path without NUL bytes".to_string());
    }
    let _ = writeln!(
        code,
        "/// Where the QEMU run writes the enhanced samples (NUL-terminated for semihosting).\npub const OUT_PATH: Option<&str> = {};",
        match out {
            Some(p) => format!("Some({:?})", format!("{p}\0")),
            None => "None".to_string(),
        }
    );
    Speech {
        code,
        model_bytes,
        recording_bytes,
    }
}
