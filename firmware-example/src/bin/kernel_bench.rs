//! The encoder's dense kernel against a naive dot-product loop, on the embedded model's
//! second layer (`H1 × H2` weights in flash), both measured in this run with the counter
//! (instructions on QEMU; on a board, cycles, and `cycles` replaces `instructions` in the
//! keys). Prints
//! `kernel layer=<H1>x<H2> naive_instructions_per_mac=<a> panel_instructions_per_mac=<b> speedup=<a/b>`
//! for an f32 model, and for a quantised one
//! `kernel int8 layer=<H1>x<H2> naive_instructions_per_mac=<a> pair_instructions_per_mac=<b> speedup=<a/b>`
//! (the pair kernel is the `SMLAD` one on a Cortex-M4, the portable one on a Cortex-M0).
//! Then (Cortex-M4F only) the speech enhancer's 512-point real FFT and its inverse on one frame:
//! `fft size=512 forward_instructions=<f> inverse_instructions=<i> pair_instructions=<f+i>`
//! (the mean of 4 runs each), and the stages of the embedded speech enhancer's hop on one
//! frame (`speech stages network=<the layers> gain=<softplus, dictionary, Wiener gain or the
//! mask> compress=<257 log1p> magnitudes=<257 square roots> standardise=<width>` in
//! instructions; for an f32 network `network` is the layers and the gain together), which
//! with the FFT pair make up most of `speech`'s cost per hop.
#![no_std]
#![no_main]

use core::fmt::Write as _;

use cortex_m_rt::entry;
#[cfg(not(vaenmf_quantized))]
use vaenmf_core::DenseLayer;
use vaenmf_firmware_example::console::Console;
use vaenmf_firmware_example::counter::{Counter, UNIT};
use vaenmf_firmware_example::finish;

#[allow(clippy::all, dead_code)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}
use model::*;

#[cfg(not(vaenmf_microbit))]
#[allow(clippy::all, dead_code)]
mod speech_model {
    include!(concat!(env!("OUT_DIR"), "/speech.rs"));
}

/// The textbook int8 loop: one dot product per output over a contiguous row of `H1` weights.
#[cfg(vaenmf_quantized)]
#[inline(never)]
fn naive_int8(weights: &[i8], bias: &[i32], x: &[i16], out: &mut [i32]) {
    for ((o, row), &b) in out.iter_mut().zip(weights.chunks_exact(x.len().max(1))).zip(bias) {
        let mut acc = b;
        for (&w, &xi) in row.iter().zip(x) {
            acc = acc.wrapping_add(i32::from(w) * i32::from(xi));
        }
        *o = acc;
    }
}

#[cfg(vaenmf_quantized)]
#[inline(never)]
fn pair(
    layer: &vaenmf_core::QuantLayer<'_, H1, H2>,
    x: &vaenmf_core::Align4<[i16; H1]>,
    out: &mut [i32; H2],
) {
    layer.accumulate(x, out);
}

/// The int8 kernels on the quantised model's second layer.
#[cfg(vaenmf_quantized)]
fn bench(out: &mut impl core::fmt::Write, counter: &Counter) {
    let layer = vaenmf_core::QuantLayer {
        weights: &Q2_W.0,
        bias: &Q2_B,
    };
    let x = vaenmf_core::Align4(core::array::from_fn(|i| ((i % 7) * 1000) as i16));
    let mut y = [0i32; H2];
    let macs = (H1 * H2) as u64;
    let repeats = 4;
    let (naive_instructions, ()) = counter.measure(|| {
        for _ in 0..repeats {
            naive_int8(Q2_W.0.as_flattened(), &Q2_B, &x.0, &mut y);
        }
    });
    let checksum_naive: i64 = y.iter().map(|&v| i64::from(v)).sum();
    let (pair_instructions, ()) = counter.measure(|| {
        for _ in 0..repeats {
            pair(&layer, &x, &mut y);
        }
    });
    let checksum_pair: i64 = y.iter().map(|&v| i64::from(v)).sum();
    let per_mac = |i: u64| i as f32 / (repeats * macs) as f32;
    let (a, b) = (per_mac(naive_instructions), per_mac(pair_instructions));
    let _ = writeln!(
        out,
        "kernel int8 layer={H1}x{H2} naive_{UNIT}_per_mac={a:.3} pair_{UNIT}_per_mac={b:.3} speedup={:.2} (checksums {checksum_naive} {checksum_pair})",
        a / b
    );
    // Where a frame's instructions go: the second layer with its requantisation, the whole
    // encoder (scaled frame in, α and β out).
    if let Some(encoder) = quantized() {
        let mut h2 = vaenmf_core::Align4([0i16; H2]);
        let (layer2, ()) = counter.measure(|| encoder.layer2.forward(&x, &mut h2));
        let frame = [0.5f32; M];
        let (whole, posterior) = counter.measure(|| encoder.encode_scaled(&frame, FLOOR));
        let _ = writeln!(
            out,
            "breakdown int8 {UNIT} layer2_forward={layer2} encode_scaled={whole} macs={} (alpha0 {:e})",
            vaenmf_core::Dims {
                channels: M as u32,
                hidden1: H1 as u32,
                hidden2: H2 as u32,
                rank: R as u32
            }
            .encoder_macs(),
            posterior.alpha[0]
        );
    }
}

/// The textbook loop: one dot product per output over a contiguous row of `H1` weights (the
/// layer's storage read as `H2` rows; only the cost matters here).
#[cfg(not(vaenmf_quantized))]
#[inline(never)]
fn naive(weights: &[f32], bias: &[f32], x: &[f32], out: &mut [f32]) {
    for ((o, row), &b) in out.iter_mut().zip(weights.chunks_exact(x.len().max(1))).zip(bias) {
        let mut acc = b;
        for (&w, &xi) in row.iter().zip(x) {
            acc += w * xi;
        }
        *o = acc;
    }
}

#[cfg(not(vaenmf_quantized))]
#[inline(never)]
fn panel(layer: &DenseLayer<'_, H1, H2>, x: &[f32; H1], out: &mut [f32; H2]) {
    layer.forward(x, out);
}

/// The f32 kernels on the model's second layer.
#[cfg(not(vaenmf_quantized))]
fn bench(out: &mut impl core::fmt::Write, counter: &Counter) {
    let layer = DenseLayer {
        weights: &L2_W,
        bias: &L2_B,
    };
    let x: [f32; H1] = core::array::from_fn(|i| (i % 7) as f32 * 0.125);
    let mut y = [0.0f32; H2];
    let macs = (H1 * H2) as u64;
    let repeats = 4;
    let (naive_instructions, ()) = counter.measure(|| {
        for _ in 0..repeats {
            naive(L2_W.as_flattened(), &L2_B, &x, &mut y);
        }
    });
    let checksum_naive: f32 = y.iter().sum();
    let (panel_instructions, ()) = counter.measure(|| {
        for _ in 0..repeats {
            panel(&layer, &x, &mut y);
        }
    });
    let checksum_panel: f32 = y.iter().sum();
    let per_mac = |i: u64| i as f32 / (repeats * macs) as f32;
    let (a, b) = (per_mac(naive_instructions), per_mac(panel_instructions));
    let _ = writeln!(
        out,
        "kernel layer={H1}x{H2} naive_{UNIT}_per_mac={a:.3} panel_{UNIT}_per_mac={b:.3} speedup={:.2} (checksums {checksum_naive:e} {checksum_panel:e})",
        a / b
    );
}

/// The 512-point real FFT pair of the speech enhancer, on a two-tone frame (not on the
/// micro:bit: its 16 KiB of RAM do not hold the FFT's 8 KiB beside the model's buffers, and the
/// speech enhancer does not run there).
#[cfg(not(vaenmf_microbit))]
fn fft(out: &mut impl core::fmt::Write, counter: &Counter) {
    use vaenmf_core::speech::{RealFft, Spectrum, FFT_SIZE};
    let fft = cortex_m::singleton!(: RealFft = RealFft::ZEROED).unwrap_or_else(|| panic!("fft taken"));
    fft.compute_twiddles();
    let frame =
        cortex_m::singleton!(: [f32; FFT_SIZE] = [0.0; FFT_SIZE]).unwrap_or_else(|| panic!("frame taken"));
    let spectrum = cortex_m::singleton!(: Spectrum = Spectrum { re: [0.0; _], im: [0.0; _] })
        .unwrap_or_else(|| panic!("spectrum taken"));
    let repeats = 4;
    let (mut forward, mut inverse) = (0, 0);
    for _ in 0..repeats {
        for (i, v) in frame.iter_mut().enumerate() {
            *v = libm::sinf(i as f32 * 0.11) + 0.5 * libm::sinf(i as f32 * 0.53);
        }
        forward += counter.measure(|| fft.forward(frame, spectrum)).0;
        inverse += counter.measure(|| fft.inverse(spectrum, frame)).0;
    }
    let (f, i) = (forward / repeats, inverse / repeats);
    let _ = writeln!(
        out,
        "fft size={FFT_SIZE} forward_{UNIT}={f} inverse_{UNIT}={i} pair_{UNIT}={} (sample 3 back: {:e})",
        f + i,
        frame[3]
    );
}

/// The speech enhancer's stages on one frame (a mid-level spectrum, standardised features of
/// 0.3): their costs do not depend much on the values.
#[cfg(not(vaenmf_microbit))]
fn speech_stages(out: &mut impl core::fmt::Write, counter: &Counter) {
    use speech_model::*;
    use vaenmf_core::speech::{magnitudes, GainScratch, NetworkLayers, Spectrum, BINS};
    use vaenmf_core::Align4;
    let net = network();
    let width = net.features.width();
    let taken = || -> ! { panic!("speech buffers taken") };
    let x = cortex_m::singleton!(: [f32; WORK_LEN] = [0.3; WORK_LEN]).unwrap_or_else(|| taken());
    let int =
        cortex_m::singleton!(: Align4<[i16; INT_LEN]> = Align4([0; INT_LEN])).unwrap_or_else(|| taken());
    let acc = cortex_m::singleton!(: [i32; ACC_LEN] = [0; ACC_LEN]).unwrap_or_else(|| taken());
    let spectrum =
        cortex_m::singleton!(: Spectrum = Spectrum { re: [0.0; _], im: [0.0; _] }).unwrap_or_else(|| taken());
    let frame = cortex_m::singleton!(: [f32; BINS] = [0.0; BINS]).unwrap_or_else(|| taken());
    for (k, (re, im)) in spectrum.re.iter_mut().zip(&mut spectrum.im).enumerate() {
        (*re, *im) = (0.01 * k as f32, 0.3);
    }
    let (input, float) = x.split_at_mut(width);
    let (standardise, ()) = counter.measure(|| net.features.standardise(input));
    input.fill(0.3);
    let mut gain = [0.0f32; BINS];
    let (total, ()) = counter.measure(|| {
        let mut scratch = GainScratch {
            float: &mut *float,
            int: &mut int.0,
            acc: &mut *acc,
        };
        net.gain(input, &mut scratch, &mut gain)
    });
    let (layers, ()) = counter.measure(|| match net.layers {
        NetworkLayers::Int8(q) => {
            q.forward(input, &mut int.0, acc, float);
        }
        NetworkLayers::Float(_) => {}
    });
    let (magnitude, ()) = counter.measure(|| magnitudes(spectrum, FRONT_END.magnitude_exponent, frame));
    let mut compressed = [0.0f32; BINS];
    let (compress, ()) = counter.measure(|| net.features.compress(frame, &mut compressed));
    let model = if INT8 { "-int8" } else { "" };
    let stages = if INT8 {
        (layers, total - layers)
    } else {
        (total, 0)
    };
    let _ = writeln!(
        out,
        "speech stages network={} gain={} compress={compress} magnitudes={magnitude} standardise={standardise} model={METHOD}{model} (gain[10] {:e}; f32 networks: network counts the gain too)",
        stages.0, stages.1, gain[10]
    );
}

#[entry]
fn main() -> ! {
    vaenmf_firmware_example::board::init();
    let mut out = Console::open();
    let peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| panic!("peripherals taken"));
    let counter = Counter::start(peripherals);
    if !HAS_ENCODER {
        let _ = writeln!(out, "kernel: the embedded model has no encoder");
        finish(false)
    }
    bench(&mut out, &counter);
    #[cfg(not(vaenmf_microbit))]
    {
        fft(&mut out, &counter);
        speech_stages(&mut out, &counter);
    }
    finish(true)
}
