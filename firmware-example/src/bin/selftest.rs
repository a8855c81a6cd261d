//! A representative subset of the core's unit tests, run on the emulated Cortex-M4F so the
//! numerics are proven on the target's FPU, soft-float f64 and libm, not only on x86.
//! Prints one line per check and `selftest: <n> passed, <m> failed`; exits QEMU with failure
//! if any check fails (or on a panic).
#![no_std]
#![no_main]

use core::fmt::Write as _;

use cortex_m_rt::entry;
use cortex_m_semihosting::hio;
use vaenmf_core::gamma::{digamma, kl_gamma, kl_gamma_gradient, lgamma, trigamma, Prng};
use vaenmf_core::{reconstruct, DenseLayer, ModelError, ModelStorage, NnlsSolver, SynergyTracker};
use vaenmf_firmware_example::finish;

#[allow(clippy::all, dead_code)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}
use model::*;

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

#[entry]
fn main() -> ! {
    let out = hio::hstdout().unwrap_or_else(|_| panic!("no semihosting console"));
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
    // Flip one bit in the middle of a copy (blobs up to 16 KiB: the default model).
    let mut copy = [0u8; 16 * 1024];
    if let Some(buf) = copy.get_mut(..BLOB.len()) {
        buf.copy_from_slice(BLOB);
        buf[BLOB.len() / 2] ^= 0x04;
        c.check(
            "flipped bit rejected by the checksum",
            matches!(storage2.decode(buf), Err(ModelError::Checksum { .. })),
        );
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
    c.check("dense layer = plain loop, bit for bit", same);
    if let Ok(model) = storage.decode(BLOB) {
        let decoded = model.encoder().map(|e| e.layer1.weights == &L1_W);
        c.check("build.rs panel order = decoder's", decoded.unwrap_or(H1 == 0));
    }

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
    if let Ok(model) = storage.decode(BLOB) {
        let mut tracker = SynergyTracker::<M, H1, H2, R, 8>::new(model);
        let mut frame = [0.3f32; M];
        frame[1] = f32::NAN;
        c.check(
            "NaN frame rejected",
            tracker.push(&frame).is_err() && tracker.frames() == 0,
        );
    }

    let (passed, failed) = (c.passed, c.failed);
    let _ = writeln!(c.out, "selftest: {passed} passed, {failed} failed");
    finish(failed == 0)
}
