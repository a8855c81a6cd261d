//! What the firmware's binaries share, for every place they run.
//!
//! # Layers
//!
//! - [`board`]: where the firmware runs, chosen at build time — QEMU (no board feature: the
//!   emulated Cortex-M4F on mps2-an386, or, for thumbv6m builds, the Cortex-M0 of the
//!   micro:bit) or a development board (`board-nrf52840`, `board-stm32f411`): memory map
//!   (`build.rs`), clocks, name.
//! - [`console`]: line output — semihosting on QEMU, `defmt` over RTT on boards (semihosting
//!   without a debugger stops a real core). Lines have the same text on both.
//! - [`counter`]: cost of a piece of code — instructions on QEMU (SysTick under
//!   `-icount shift=0`), core cycles on boards (the DWT cycle counter).
//! - [`frames`]: [`FrameSource`](frames::FrameSource), where EMG envelope frames come from —
//!   the recorded table in flash, or (STM32F411) timer-triggered ADC sampling through the
//!   envelope stage.
//! - [`recording`]: the `speech` binary's noisy recording in flash; [`wav`]: the header of
//!   the float WAV it writes.
//! - [`sys`]: the `unsafe` code — a host file through semihosting (QEMU), the painted stack.
//!
//! # Invariants
//!
//! - A panic never hangs silently: on QEMU it prints and exits with failure; on boards
//!   panic-probe logs it over RTT and, under `probe-rs run`, ends the run with failure.
//! - [`finish`] ends a run: the QEMU exit code, or on a board a breakpoint that `probe-rs run`
//!   turns into its exit (without a debugger attached the core just sleeps).
#![no_std]

pub mod board;
pub mod console;
pub mod counter;
pub mod frames;
pub mod recording;
pub mod sys;
pub mod wav;

#[cfg(feature = "defmt-logging")]
use {defmt_rtt as _, panic_probe as _};

/// Ends the run with success or failure (see the crate's invariants).
pub fn finish(success: bool) -> ! {
    #[cfg(not(feature = "defmt-logging"))]
    cortex_m_semihosting::debug::exit(if success {
        cortex_m_semihosting::debug::EXIT_SUCCESS
    } else {
        cortex_m_semihosting::debug::EXIT_FAILURE
    });
    #[cfg(feature = "defmt-logging")]
    if cortex_m::peripheral::DCB::is_debugger_attached() {
        if success {
            // probe-rs run ends on a breakpoint with success.
            cortex_m::asm::bkpt();
        } else {
            // panic-probe's way to report failure to probe-rs run.
            defmt::panic!("run failed");
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}

/// Whether `model` is the kind build.rs embedded: quantised (`cfg(vaenmf_quantized)`, with
/// an f32 first layer or f32 heads under `cfg(vaenmf_float_first_layer)` /
/// `cfg(vaenmf_float_heads)`), f32 encoder (`has_encoder`) or NMF only. Always true, the model
/// being built from those statics; checked before each frame so the compiler sees the kind
/// and leaves the other kinds' estimators out of flash (f32 encoder, int8 or hybrid layers,
/// NNLS): −7.6 KiB for the int8 paper-size model, −16 KiB for the f32 one.
pub fn is_embedded_kind<const M: usize, const H1: usize, const H2: usize, const R: usize>(
    model: &vaenmf_core::Model<'_, M, H1, H2, R>,
    has_encoder: bool,
) -> bool {
    use vaenmf_core::quant::{FirstLayer, QuantHeads};
    match (model.encoder(), model.quantized()) {
        (None, Some(q)) if cfg!(vaenmf_quantized) => {
            matches!(q.layer1, FirstLayer::Float { .. }) == cfg!(vaenmf_float_first_layer)
                && matches!(q.heads, QuantHeads::Float { .. }) == cfg!(vaenmf_float_heads)
        }
        (encoder, None) if !cfg!(vaenmf_quantized) => encoder.is_some() == has_encoder,
        _ => false,
    }
}

#[cfg(not(feature = "defmt-logging"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write as _;
    if let Ok(mut err) = cortex_m_semihosting::hio::hstderr() {
        let _ = writeln!(err, "panic: {info}");
    }
    finish(false)
}
