//! A representative subset of the core's unit tests, run on the emulated Cortex-M4F so the
//! numerics are proven on the target's FPU, soft-float f64 and libm, not only on x86.
//! Prints one line per check and `selftest: <n> passed, <m> failed`; exits QEMU with failure
//! if any check fails (or on a panic).
#![no_std]
#![no_main]

use core::fmt::Write as _;

use cortex_m_rt::entry;
use vaenmf_core::gamma::{digamma, kl_gamma, kl_gamma_gradient, lgamma, trigamma, Prng};
use vaenmf_core::{reconstruct, NnlsSolver};
use vaenmf_firmware_example::finish;

#[allow(clippy::all, dead_code)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}
use model::*;

/// The raw blob, for the decoding checks of f32 models (a quantised model's weights are
/// already in flash as `static`s; a second copy would not fit a 256 KiB part).
#[cfg(not(vaenmf_quantized))]
static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/model.vnmf"));

struct Checks<W: core::fmt::Write> {
    out: W,
    passed: u32,
    failed: u32,
}

impl<W: core::fmt::Write> Checks<W> {
    fn check(&mut self, name: &str, ok: bool) {
        let _ = writeln!(self.out, "{} {name}", if ok { "ok  " } else { "FAIL" });
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}

fn rel(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        a.abs()
    } else {
        ((a - b) / b).abs()
    }
}

/// Checks of the embedded f32 (or NMF) model: blob decoding on the device, the panel order.
#[cfg(not(vaenmf_quantized))]
fn float_model_checks<W: core::fmt::Write>(c: &mut Checks<W>) {
    use vaenmf_core::{DenseLayer, ModelError, ModelStorage, SynergyTracker};
    // Model blob: decode the embedded blob, reject a truncation and a flipped bit.
    let mut storage = ModelStorage::<M, H1, H2, R>::new();
    let decoded = storage.decode(BLOB).is_ok();
    c.check("blob decodes", decoded);
    let mut storage2 = ModelStorage::<M, H1, H2, R>::new();
    c.check(
        "truncated blob rejected",
        matches!(
            storage2.decode(&BLOB[..BLOB.len() - 1]),
            Err(ModelError::Truncated { .. })
        ),
    );
    // Flip one bit in the middle: decode a copy when the blob fits the 16 KiB buffer (the
    // default model); a larger blob (paper-size: ~650 KiB, more than the RAM) is checked in
    // place, the decoder's checksum over the flash bytes with the flipped byte spliced in.
    let mid = BLOB.len() / 2;
    let mut copy = [0u8; 16 * 1024];
    match copy.get_mut(..BLOB.len()) {
        Some(buf) => {
            buf.copy_from_slice(BLOB);
            buf[mid] ^= 0x04;
            c.check(
                "flipped bit rejected by the checksum",
                matches!(storage2.decode(buf), Err(ModelError::Checksum { .. })),
            );
        }
        None => {
            use vaenmf_core::blob::{checksum, CHECKSUM_LEN};
            let body = BLOB.len() - CHECKSUM_LEN;
            let tail = &BLOB[body..];
            let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
            let flipped = [BLOB[mid] ^ 0x04];
            c.check(
                "checksum of the blob in flash = stored",
                checksum(&[&BLOB[..body]]) == stored,
            );
            c.check(
                "flipped bit changes the checksum (checked in place)",
                checksum(&[&BLOB[..mid], &flipped, &BLOB[mid + 1..body]]) != stored,
            );
        }
    }

    // The first encoder layer (build.rs emitted it in panel order) against a plain loop over
    // the weights by input and output, bit for bit; and the same storage as run-time decoding.
    let layer = DenseLayer {
        weights: &L1_W,
        bias: &L1_B,
    };
    let x: [f32; M] = core::array::from_fn(|i| 0.1 * i as f32);
    let mut y = [0.0f32; H1];
    layer.forward(&x, &mut y);
    let mut same = true;
    for (o, &yo) in y.iter().enumerate() {
        let mut acc = L1_B[o];
        for (i, &xi) in x.iter().enumerate() {
            acc += layer.weight(i, o).unwrap_or(f32::NAN) * xi;
        }
        same &= acc.to_bits() == yo.to_bits();
    }
    // The second layer too (every full panel through the FPU kernel), when its weights are
    // small enough to sit in flash twice (they are also in the blob above); the system tests
    // compare a paper-sized encoder's activations with the host's.
    if H1 * H2 <= 16 * 1024 {
        let layer2 = DenseLayer {
            weights: &L2_W,
            bias: &L2_B,
        };
        let x2: [f32; H1] = core::array::from_fn(|i| y[i] - 0.25 * (i % 5) as f32);
        let mut y2 = [0.0f32; H2];
        layer2.forward(&x2, &mut y2);
        for (o, &yo) in y2.iter().enumerate() {
            let mut acc = L2_B[o];
            for (i, &xi) in x2.iter().enumerate() {
                acc += layer2.weight(i, o).unwrap_or(f32::NAN) * xi;
            }
            same &= acc.to_bits() == yo.to_bits();
        }
    }
    c.check("dense layers = plain loop, bit for bit", same);
    if let Ok(model) = storage.decode(BLOB) {
        let decoded = model.encoder().map(|e| e.layer1.weights == &L1_W);
        c.check("build.rs panel order = decoder's", decoded.unwrap_or(H1 == 0));
    }

    if let Ok(model) = storage.decode(BLOB) {
        let mut tracker = SynergyTracker::<M, H1, H2, R, 8>::new(model);
        let mut frame = [0.3f32; M];
        frame[1] = f32::NAN;
        c.check(
            "NaN frame rejected",
            tracker.push(&frame).is_err() && tracker.frames() == 0,
        );
    }
}

/// Checks of the embedded quantised model: the tracker built on the `static`s rejects a NaN
/// frame and tracks a finite one.
#[cfg(vaenmf_quantized)]
fn quantized_model_checks<W: core::fmt::Write>(c: &mut Checks<W>) {
    use vaenmf_core::{Model, SynergyTracker};
    let Ok(model) = Model::new_checked(parts()) else {
        c.check("quantised model validates", false);
        return;
    };
    let mut tracker = SynergyTracker::<M, H1, H2, R, 8>::new(model);
    let mut frame = [0.3f32; M];
    frame[1] = f32::NAN;
    c.check(
        "NaN frame rejected",
        tracker.push(&frame).is_err() && tracker.frames() == 0,
    );
    let tracked = tracker.push(&[0.3f32; M]);
    c.check(
        "finite frame tracked",
        tracked.is_ok_and(|t| t.activations.iter().all(|z| z.is_finite() && *z > 0.0)),
    );
}

/// Random int8 layers: the pair-ordered kernels (the `SMLAD` ones on a Cortex-M4) against the
/// portable kernel and a plain input-major loop, bit for bit, accumulators and requantised
/// ReLU outputs, for shapes with and without tails and groups, odd outputs, an odd input count
/// and a misaligned copy (both of which the `SMLAD` kernel must decline).
fn integer_kernel_checks<W: core::fmt::Write>(c: &mut Checks<W>) {
    use vaenmf_core::quant::kernel::{dense_portable, to_pair_order};
    use vaenmf_core::{Align4, QuantLayer};
    const MAX_IN: usize = 64;
    const MAX_OUT: usize = 5;
    let mut rng = Prng::new(77);
    let mut all_equal = true;
    #[allow(unused_mut)] // Written only where there is a DSP kernel.
    let mut dsp_ran = true;
    for &(inputs, outputs) in &[
        (40usize, 4usize),
        (18, 5),
        (64, 2),
        (8, 3),
        (10, 4),
        (6, 2),
        (9, 2),
        (14, 5),
        (12, 4),
        (16, 2),
    ] {
        let mut plain = [0i8; MAX_IN * MAX_OUT];
        let mut packed = Align4([0i8; MAX_IN * MAX_OUT + 4]);
        let mut x = Align4([0i16; MAX_IN]);
        let mut bias = [0i32; MAX_OUT];
        let mut multiplier = [0i32; MAX_OUT];
        for w in plain.iter_mut().take(inputs * outputs) {
            *w = (rng.uniform() * 254.0 - 127.0) as i8;
        }
        for v in x.0.iter_mut().take(inputs) {
            *v = (rng.uniform() * 65534.0 - 32767.0) as i16;
        }
        for (b, m) in bias.iter_mut().zip(&mut multiplier).take(outputs) {
            *b = (rng.uniform() * 2e6 - 1e6) as i32;
            *m = (rng.uniform() * 2e6) as i32 + 1;
        }
        let n = inputs * outputs;
        to_pair_order(inputs, outputs, &plain[..n], &mut packed.0[..n]);
        let mut portable = [0i32; MAX_OUT];
        dense_portable(
            &packed.0[..n],
            &bias[..outputs],
            &x.0[..inputs],
            &mut portable[..outputs],
        );
        for o in 0..outputs {
            let mut acc = bias[o];
            for i in 0..inputs {
                acc = acc.wrapping_add(i32::from(plain[i * outputs + o]) * i32::from(x.0[i]));
            }
            all_equal &= acc == portable[o];
        }
        #[cfg(not(vaenmf_microbit))]
        {
            use vaenmf_core::quant::kernel::requantize_relu;
            use vaenmf_core::quant::{dsp_dense, dsp_dense_relu};
            let (w, b, xs) = (&packed.0[..n], &bias[..outputs], &x.0[..inputs]);
            let mut dsp = [0i32; MAX_OUT];
            let mut relu = [0i16; MAX_OUT];
            let ran = dsp_dense(w, b, xs, &mut dsp[..outputs])
                && dsp_dense_relu(w, b, &multiplier[..outputs], xs, &mut relu[..outputs]);
            if inputs % 2 == 1 {
                dsp_ran &= !ran;
            } else {
                dsp_ran &= ran;
                all_equal &= dsp[..outputs] == portable[..outputs];
                for o in 0..outputs {
                    all_equal &= relu[o] == requantize_relu(portable[o], multiplier[o]);
                }
                // One byte off: the DSP kernel declines.
                let mut shifted = Align4([0i8; MAX_IN * MAX_OUT + 4]);
                shifted.0[1..n + 1].copy_from_slice(w);
                let mut out = [0i32; MAX_OUT];
                dsp_ran &= !dsp_dense(&shifted.0[1..n + 1], b, xs, &mut out[..outputs]);
            }
        }
        // The typed layer (what the encoder calls) on the 40 × 4 shape.
        if (inputs, outputs) == (40, 4) {
            let mut weights = Align4([[0i8; 4]; 40]);
            weights.0.as_flattened_mut().copy_from_slice(&packed.0[..n]);
            let b: [i32; 4] = core::array::from_fn(|o| bias[o]);
            let xs: Align4<[i16; 40]> = Align4(core::array::from_fn(|i| x.0[i]));
            let layer = QuantLayer {
                weights: &weights.0,
                bias: &b,
            };
            let mut acc = [0i32; 4];
            layer.accumulate(&xs, &mut acc);
            all_equal &= acc[..] == portable[..4];
        }
    }
    c.check(
        "int8 kernels = plain loop, bit for bit (random layers)",
        all_equal,
    );
    #[cfg(not(vaenmf_microbit))]
    c.check(
        "SMLAD kernels ran on aligned even layers, declined odd and misaligned ones",
        dsp_ran,
    );
    let _ = dsp_ran;
}

/// The speech front end's magnitudes (`VSQRT.F32` on a Cortex-M4F) equal libm's correctly
/// rounded `sqrtf` bit for bit: zeros, subnormals, every binade, ∞ and NaN.
fn sqrt_checks<W: core::fmt::Write>(c: &mut Checks<W>) {
    use vaenmf_core::speech::{magnitudes, Spectrum, BINS};
    let mut spectrum = Spectrum::default();
    let mut same = true;
    let mut seed = 0x9E37_79B9u32;
    for round in 0..64 {
        for k in 0..BINS {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            // re² + im² over every binade: exponents from −75 (subnormal squares) to +63.
            let e = (seed % 139) as i32 - 75;
            spectrum.re[k] = libm::ldexpf((seed >> 8) as f32 / 16_777_216.0, e);
            spectrum.im[k] = if k % 3 == 0 { 0.0 } else { spectrum.re[k] * 0.75 };
        }
        if round == 0 {
            spectrum.re[..6].copy_from_slice(&[0.0, -0.0, f32::MIN_POSITIVE, 1e-45, f32::INFINITY, f32::NAN]);
        }
        let mut m = [0.0f32; BINS];
        magnitudes(&spectrum, 1.0, &mut m);
        for ((&got, &re), &im) in m.iter().zip(&spectrum.re).zip(&spectrum.im) {
            let want = libm::sqrtf(re * re + im * im);
            same &= got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
        }
    }
    c.check("front-end sqrt = libm sqrtf, bit for bit", same);
}

#[entry]
fn main() -> ! {
    vaenmf_firmware_example::board::init();
    let out = vaenmf_firmware_example::console::Console::open();
    let mut c = Checks {
        out,
        passed: 0,
        failed: 0,
    };

    // Gamma mathematics (f64, soft-float on this core), against mpmath values.
    c.check(
        "digamma(1) = -γ",
        rel(digamma(1.0), -0.577_215_664_901_532_9) < 1e-12,
    );
    c.check(
        "digamma(0.5)",
        rel(digamma(0.5), -1.963_510_026_021_423_5) < 1e-12,
    );
    c.check(
        "digamma(0.001)",
        rel(digamma(0.001), -1_000.575_571_931_810_3) < 1e-12,
    );
    c.check(
        "digamma(25.5)",
        rel(digamma(25.5), 3.218_942_472_883_919_8) < 1e-12,
    );
    c.check("lgamma(3.7)", rel(lgamma(3.7), 1.428_072_326_665_388) < 1e-12);
    c.check(
        "trigamma(0.1)",
        rel(trigamma(0.1), 101.433_299_150_792_75) < 1e-12,
    );
    let (d_alpha, _) = kl_gamma_gradient(2.0, 3.0, 1.5, 1.0);
    let h = 1e-6;
    let fd = (kl_gamma(2.0 + h, 3.0, 1.5, 1.0) - kl_gamma(2.0 - h, 3.0, 1.5, 1.0)) / (2.0 * h);
    c.check("KL gradient = finite difference", (d_alpha - fd).abs() < 1e-6);
    c.check(
        "KL(2,3 || 1.5,1) = 0.405195",
        (kl_gamma(2.0, 3.0, 1.5, 1.0) - 0.405_195_029_582_819_55).abs() < 1e-12,
    );
    c.check("KL(p || p) = 0", kl_gamma(3.3, 0.2, 3.3, 0.2).abs() < 1e-12);
    let mut rng = Prng::new(2024);
    let n = 20_000;
    let (alpha, beta) = (5.0, 2.0);
    let mut sum = 0.0;
    for _ in 0..n {
        sum += rng.gamma(alpha, beta, 1);
    }
    let se = libm::sqrt(alpha / (beta * beta) / n as f64);
    c.check(
        "sampler mean within 4 SE",
        (sum / n as f64 - alpha / beta).abs() < 4.0 * se,
    );

    // NNLS recovers an exact nonnegative combination; tracker VAF of a perfect fit is 1.
    let z_true: [f32; R] = core::array::from_fn(|k| 0.2 + 0.3 * k as f32);
    let target = reconstruct(&DICTIONARY, &z_true);
    let solved = NnlsSolver::new(&DICTIONARY).solve(&target);
    let recovered = match solved {
        Ok(s) => {
            s.converged
                && s.z
                    .iter()
                    .zip(&z_true)
                    .all(|(a, b)| (a - b).abs() < 1e-3 * (1.0 + b))
        }
        Err(_) => false,
    };
    c.check("NNLS recovers exact activations", recovered);
    #[cfg(not(vaenmf_quantized))]
    float_model_checks(&mut c);
    #[cfg(vaenmf_quantized)]
    quantized_model_checks(&mut c);
    integer_kernel_checks(&mut c);
    sqrt_checks(&mut c);

    let (passed, failed) = (c.passed, c.failed);
    let _ = writeln!(c.out, "selftest: {passed} passed, {failed} failed");
    finish(failed == 0)
}
