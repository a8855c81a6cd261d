//! The encoder's dense kernel against a naive dot-product loop, on the embedded model's
//! second layer (`H1 × H2` weights in flash), both measured in this run with the SysTick
//! instruction counter. Prints
//! `kernel layer=<H1>x<H2> naive_instructions_per_mac=<a> panel_instructions_per_mac=<b> speedup=<a/b>`.
#![no_std]
#![no_main]

use core::fmt::Write as _;

use cortex_m_rt::entry;
use cortex_m_semihosting::hio;
use vaenmf_core::DenseLayer;
use vaenmf_firmware_example::{finish, InstructionCounter};

#[allow(clippy::all, dead_code)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}
use model::*;

/// The textbook loop: one dot product per output over a contiguous row of `H1` weights (the
/// layer's storage read as `H2` rows; only the cost matters here).
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

#[inline(never)]
fn panel(layer: &DenseLayer<'_, H1, H2>, x: &[f32; H1], out: &mut [f32; H2]) {
    layer.forward(x, out);
}

#[entry]
fn main() -> ! {
    let mut out = hio::hstdout().unwrap_or_else(|_| panic!("no semihosting console"));
    let peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| panic!("peripherals taken"));
    let counter = InstructionCounter::start(peripherals.SYST);
    if !HAS_ENCODER {
        let _ = writeln!(out, "kernel: the embedded model has no encoder");
        finish(false)
    }
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
        "kernel layer={H1}x{H2} naive_instructions_per_mac={a:.3} panel_instructions_per_mac={b:.3} speedup={:.2} (checksums {checksum_naive:e} {checksum_panel:e})",
        a / b
    );
    finish(true)
}
