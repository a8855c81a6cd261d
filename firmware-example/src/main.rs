//! Tracks muscle synergies frame by frame on a Cortex-M4F (or, built for thumbv6m, a Cortex-M0)
//! with `vaenmf-core`.
//!
//! The model and a recorded EMG sequence are `static` arrays in flash (see `build.rs`). For
//! each frame the firmware runs `SynergyTracker::push` and prints
//! `z,<frame>,<z1>,...,<zr>`; a frame the tracker rejects (a non-finite sample: a dropped or
//! saturated ADC reading) is reported as `skip,<frame>,<reason>` and the run goes on, as a
//! prosthesis must. At the end
//! `summary frames=<n> skipped=<k> vaf=<v> window=<w> instructions_per_frame=<i> macs_per_frame=<m>`
//! (`frames` counts the tracked frames; `vaf` is over the last `w` frames).
//!
//! Instructions are counted with SysTick under `-icount shift=0` ([`InstructionCounter`]).
#![no_std]
#![no_main]

use core::fmt::Write as _;
use cortex_m_rt::entry;
use cortex_m_semihosting::hio;
use vaenmf_core::{Model, ModelParts, SynergyTracker};
use vaenmf_firmware_example::{finish, InstructionCounter};

#[allow(clippy::all)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}
use model::*;

/// Frames in the running-VAF window (memory: 2·M floats per frame): the whole embedded
/// sequence, so the summary's VAF is the sequence's global VAF — except on the micro:bit,
/// whose 16 KiB of RAM hold the last 32 frames.
const WINDOW: usize = if cfg!(vaenmf_microbit) && N_FRAMES > 32 {
    32
} else {
    N_FRAMES
};
fn model() -> Model<'static, M, H1, H2, R> {
    // Validated on the host by build.rs with the same routine as `new_checked`; checking again
    // here costs one pass over flash at boot and keeps the device honest about its inputs.
    Model::new_checked(ModelParts {
        input_offset: &INPUT_OFFSET,
        input_scale: &INPUT_SCALE,
        alpha0: ALPHA0,
        floor: FLOOR,
        encoder: encoder(),
        quantized: quantized(),
        dictionary: &DICTIONARY,
    })
    .unwrap_or_else(|e| panic!("model rejected: {e}"))
}

#[entry]
fn main() -> ! {
    let mut out = hio::hstdout().unwrap_or_else(|_| panic!("no semihosting console"));
    let peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| panic!("peripherals taken"));
    let counter = InstructionCounter::start(peripherals.SYST);

    let model = model();
    let mut tracker = SynergyTracker::<M, H1, H2, R, WINDOW>::new(model);
    let mut busy = 0u64;
    let mut skipped = 0usize;
    for (f, frame) in FRAMES.iter().enumerate() {
        let (instructions, result) = counter.measure(|| tracker.push(frame));
        busy += instructions;
        match result {
            Ok(tracked) => {
                let _ = write!(out, "z,{f}");
                for z in tracked.activations {
                    let _ = write!(out, ",{z:e}");
                }
                let _ = writeln!(out);
            }
            // The tracker left its state untouched: log the frame and go on.
            Err(e) => {
                skipped += 1;
                let _ = writeln!(out, "skip,{f},{e}");
            }
        }
    }
    let vaf = tracker.vaf().unwrap_or(f32::NAN);
    let tracked = N_FRAMES - skipped;
    let instructions = busy / N_FRAMES as u64;
    let macs = if HAS_ENCODER { ENCODER_MACS } else { (M * R) as u64 };
    let _ = writeln!(
        out,
        "summary frames={tracked} skipped={skipped} vaf={vaf:e} window={WINDOW} instructions_per_frame={instructions} macs_per_frame={macs}"
    );
    finish(true)
}
