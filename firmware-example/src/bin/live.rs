//! Live tracking on the STM32F411E-DISCO: ADC1 samples the model's `M` channels at
//! `ENVELOPE_FS_HZ` (TIM2), the envelope stage turns them into frames every
//! `ENVELOPE_DECIMATE` samples, and the tracker runs on each frame.
//!
//! Prints `z,<frame>,<z1>,...,<zr>` per frame (as the recorded run does) and, every
//! [`REPORT_EVERY`] frames, `summary frames=<n> skipped=<k> lost=<l> vaf=<v> window=<w>
//! cycles_per_frame=<c> budget_cycles=<b> macs_per_frame=<m> board=stm32f411e-disco`:
//! measured DWT cycles per tracker push against the cycles one frame period allows. It runs
//! until the probe is detached.
//!
//! The frames fed to the tracker must be scaled like the model's training data: train on
//! envelopes computed with `vaenmf train --envelope --causal-envelope --fs <ENVELOPE_FS_HZ>
//! --decimate <ENVELOPE_DECIMATE>` from raw EMG recorded in volts.
#![no_std]
#![no_main]

use core::fmt::Write as _;
use cortex_m_rt::entry;
use vaenmf_core::envelope::EnvelopeStage;
use vaenmf_core::{Model, SynergyTracker};
use vaenmf_firmware_example::board::stm32f411::{self, AdcFrames};
use vaenmf_firmware_example::console::{write_activations, Console};
use vaenmf_firmware_example::counter::Counter;
use vaenmf_firmware_example::frames::FrameSource;
use vaenmf_firmware_example::is_embedded_kind;

// The recorded frames are not played here.
#[allow(clippy::all, dead_code)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}
use model::*;
mod envelope {
    include!(concat!(env!("OUT_DIR"), "/envelope.rs"));
}
use envelope::*;

/// Frames between two `summary` lines (and the VAF window).
const REPORT_EVERY: usize = 100;

#[entry]
fn main() -> ! {
    let peripherals_left = stm32f411::init();
    let mut out = Console::open();
    let peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| panic!("peripherals taken"));
    let counter = Counter::start(peripherals);

    let model = Model::new_checked(parts()).unwrap_or_else(|e| panic!("model rejected: {e}"));
    let mut tracker = SynergyTracker::<M, H1, H2, R, REPORT_EVERY>::new(model);
    let stage = EnvelopeStage::<M, ENVELOPE_BAND_SECTIONS, ENVELOPE_LOWPASS_SECTIONS>::new_checked(
        ENVELOPE_BAND,
        ENVELOPE_LOWPASS,
        ENVELOPE_DECIMATE,
    )
    .unwrap_or_else(|e| panic!("envelope stage rejected: {e}"));
    let mut source = AdcFrames::start(peripherals_left, ENVELOPE_FS_HZ, stage)
        .unwrap_or_else(|e| panic!("ADC source: {e}"));
    let budget = u64::from(stm32f411::CLOCK_HZ / ENVELOPE_FS_HZ * ENVELOPE_DECIMATE);
    let macs = if HAS_ENCODER { ENCODER_MACS } else { (M * R) as u64 };

    // The frame index is a u64: a usize (32 bits here) would wrap after 497 days at 100 frames/s.
    let (mut f, mut busy, mut tracked, mut skipped, mut lost) = (0u64, 0u64, 0usize, 0usize, 0u32);
    loop {
        match source.next_frame() {
            None => panic!("the ADC source ended"),
            Some(Err(vaenmf_firmware_example::board::stm32f411::AdcError::Overrun(n))) => {
                lost += n;
                let _ = writeln!(out, "lost,{f},{n}");
                continue;
            }
            Some(Err(e)) => panic!("ADC source: {e}"),
            Some(Ok(frame)) => {
                if !is_embedded_kind(tracker.model(), HAS_ENCODER) {
                    panic!("the tracker's model is not the kind build.rs embedded");
                }
                let (cycles, result) = counter.measure(|| tracker.push(&frame));
                busy += cycles;
                match result {
                    Ok(t) => {
                        tracked += 1;
                        write_activations(&mut out, f, &t.activations);
                    }
                    Err(e) => {
                        skipped += 1;
                        let _ = writeln!(out, "skip,{f},{e}");
                    }
                }
            }
        }
        f += 1;
        if f.is_multiple_of(REPORT_EVERY as u64) {
            let vaf = tracker.vaf().unwrap_or(f32::NAN);
            let per_frame = busy / REPORT_EVERY as u64;
            let _ = writeln!(
                out,
                "summary frames={tracked} skipped={skipped} lost={lost} vaf={} window={REPORT_EVERY} cycles_per_frame={per_frame} budget_cycles={budget} macs_per_frame={macs} board={}",
                ryu::Buffer::new().format(vaf),
                stm32f411::NAME
            );
            (busy, tracked, skipped, lost) = (0, 0, 0, 0);
        }
    }
}
