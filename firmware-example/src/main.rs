//! Tracks muscle synergies frame by frame on a Cortex-M4F (QEMU or a board) or, built for
//! thumbv6m, a Cortex-M0 (QEMU), with `vaenmf-core`.
//!
//! The model and a recorded EMG envelope sequence are `static` arrays in flash (see
//! `build.rs`), played through [`RecordedFrames`]. For each frame the firmware runs
//! `SynergyTracker::push` and prints `z,<frame>,<z1>,...,<zr>`; a frame the tracker rejects (a
//! non-finite sample: a dropped or saturated ADC reading) is reported as
//! `skip,<frame>,<reason>` and the run goes on, as a prosthesis must. At the end
//! `summary frames=<n> skipped=<k> vaf=<v> window=<w> <unit>_per_frame=<i> macs_per_frame=<m> board=<b>`
//! (`frames` counts the tracked frames; `vaf` is over the last `w` frames; `<unit>` is
//! `instructions` on QEMU, measured `cycles` on a board — see `counter`).
#![no_std]
#![no_main]

use core::fmt::Write as _;
use cortex_m_rt::entry;
use vaenmf_core::{Model, SynergyTracker};
use vaenmf_firmware_example::console::{write_activations, Console};
use vaenmf_firmware_example::counter::{Counter, UNIT};
use vaenmf_firmware_example::frames::{FrameSource, RecordedFrames};
use vaenmf_firmware_example::{board, finish, is_embedded_kind};

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

#[entry]
fn main() -> ! {
    board::init();
    let mut out = Console::open();
    let peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| panic!("peripherals taken"));
    let counter = Counter::start(peripherals);

    // Validated on the host by build.rs with the same routine as `new_checked`; checking again
    // here costs one pass over flash at boot and keeps the device honest about its inputs.
    let model = Model::new_checked(parts()).unwrap_or_else(|e| panic!("model rejected: {e}"));
    let mut tracker = SynergyTracker::<M, H1, H2, R, WINDOW>::new(model);
    let mut source = RecordedFrames::new(&FRAMES);
    let (mut busy, mut frames, mut skipped) = (0u64, 0usize, 0usize);
    while let Some(Ok(frame)) = source.next_frame() {
        let f = frames;
        frames += 1;
        if !is_embedded_kind(tracker.model(), HAS_ENCODER) {
            panic!("the tracker's model is not the kind build.rs embedded");
        }
        let (cost, result) = counter.measure(|| tracker.push(&frame));
        busy += cost;
        match result {
            Ok(tracked) => write_activations(&mut out, f as u64, &tracked.activations),
            // The tracker left its state untouched: log the frame and go on.
            Err(e) => {
                skipped += 1;
                let _ = writeln!(out, "skip,{f},{e}");
            }
        }
    }
    let vaf = tracker.vaf().unwrap_or(f32::NAN);
    let tracked = frames - skipped;
    let per_frame = busy / frames.max(1) as u64;
    let macs = if HAS_ENCODER { ENCODER_MACS } else { (M * R) as u64 };
    let _ = writeln!(
        out,
        "summary frames={tracked} skipped={skipped} vaf={} window={WINDOW} {UNIT}_per_frame={per_frame} macs_per_frame={macs} board={}",
        ryu::Buffer::new().format(vaf),
        board::NAME
    );
    finish(true)
}
