//! Tracks muscle synergies frame by frame on a Cortex-M4F with `vaenmf-core`.
//!
//! The model and a recorded EMG sequence are `static` arrays in flash (see `build.rs`). For
//! each frame the firmware runs `SynergyTracker::push` and prints
//! `z,<frame>,<z1>,...,<zr>`; at the end
//! `summary frames=<n> vaf=<global> instructions_per_frame=<i> macs_per_frame=<m>`.
//!
//! Cost: QEMU does not model cycles, but with `-icount shift=0` every instruction advances
//! virtual time by 1 ns and SysTick, clocked at 25 MHz on mps2-an386, ticks once every 40
//! instructions. SysTick counts down from 2²⁴ − 1 and its interrupt counts wraps, so
//! instructions = ticks × 40 (exact to ±40 per measurement).
#![no_std]
#![no_main]

use core::fmt::Write as _;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::{entry, exception};
use cortex_m_semihosting::hio;
use vaenmf_core::{DenseLayer, EncoderWeights, Model, ModelParts, SynergyTracker};
use vaenmf_firmware_example::finish;

#[allow(clippy::all)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}
use model::*;

/// Frames in the running-VAF window: the whole embedded sequence, so the summary's VAF is
/// the sequence's global VAF (memory: 2·M floats per frame).
const WINDOW: usize = N_FRAMES;
/// Instructions per SysTick tick under `-icount shift=0` at 25 MHz.
const INSTRUCTIONS_PER_TICK: u64 = 40;
const RELOAD: u32 = 0x00FF_FFFF;

static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// Ticks since start: wraps × 2²⁴ + (reload − current). Read twice around the wrap counter
/// so a wrap between the reads is not lost.
fn ticks() -> u64 {
    loop {
        let w1 = WRAPS.load(Ordering::Relaxed);
        let current = SYST::get_current();
        let w2 = WRAPS.load(Ordering::Relaxed);
        if w1 == w2 {
            return u64::from(w1) * (u64::from(RELOAD) + 1) + u64::from(RELOAD - current);
        }
    }
}

fn model() -> Model<'static, M, H1, H2, R> {
    let encoder = HAS_ENCODER.then_some(EncoderWeights {
        layer1: DenseLayer {
            weights: &L1_W,
            bias: &L1_B,
        },
        layer2: DenseLayer {
            weights: &L2_W,
            bias: &L2_B,
        },
        alpha_head: DenseLayer {
            weights: &ALPHA_W,
            bias: &ALPHA_B,
        },
        beta_head: DenseLayer {
            weights: &BETA_W,
            bias: &BETA_B,
        },
    });
    // Validated on the host by build.rs with the same routine as `new_checked`; checking again
    // here costs one pass over flash at boot and keeps the device honest about its inputs.
    Model::new_checked(ModelParts {
        input_offset: &INPUT_OFFSET,
        input_scale: &INPUT_SCALE,
        alpha0: ALPHA0,
        floor: FLOOR,
        encoder,
        dictionary: &DICTIONARY,
    })
    .unwrap_or_else(|e| panic!("model rejected: {e}"))
}

#[entry]
fn main() -> ! {
    let mut out = hio::hstdout().unwrap_or_else(|_| panic!("no semihosting console"));
    let peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| panic!("peripherals taken"));
    let mut syst = peripherals.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();

    let model = model();
    let mut tracker = SynergyTracker::<M, H1, H2, R, WINDOW>::new(model);
    let mut busy_ticks = 0u64;
    for (f, frame) in FRAMES.iter().enumerate() {
        let start = ticks();
        let result = tracker.push(frame);
        busy_ticks += ticks() - start;
        match result {
            Ok(tracked) => {
                let _ = write!(out, "z,{f}");
                for z in tracked.activations {
                    let _ = write!(out, ",{z:e}");
                }
                let _ = writeln!(out);
            }
            Err(e) => panic!("frame {f}: {e}"),
        }
    }
    let vaf = tracker.vaf().unwrap_or(f32::NAN);
    let instructions = busy_ticks * INSTRUCTIONS_PER_TICK / N_FRAMES as u64;
    let macs = if HAS_ENCODER { ENCODER_MACS } else { (M * R) as u64 };
    let _ = writeln!(
        out,
        "summary frames={N_FRAMES} vaf={vaf:e} instructions_per_frame={instructions} macs_per_frame={macs}"
    );
    finish(true)
}
