//! What the firmware's binaries share: a panic handler that reports and ends QEMU with a
//! failure code (never hangs), the way to stop when done, and the instruction counter.
//!
//! Cost: QEMU does not model cycles, but with `-icount shift=0` every instruction advances
//! virtual time by 1 ns and SysTick, clocked at 25 MHz on mps2-an386, ticks once every 40
//! instructions. SysTick counts down from 2²⁴ − 1 and its interrupt counts wraps, so
//! instructions = ticks × 40 (exact to ±40 per measurement).
#![no_std]

use core::fmt::Write as _;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;
use cortex_m_semihosting::{debug, hio};

/// Instructions per SysTick tick under `-icount shift=0` at 25 MHz.
pub const INSTRUCTIONS_PER_TICK: u64 = 40;
const RELOAD: u32 = 0x00FF_FFFF;

static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// Counts executed instructions with SysTick (see the crate docs); owns the timer.
pub struct InstructionCounter {
    _syst: SYST,
}

impl InstructionCounter {
    /// Starts SysTick from the core clock with the wrap interrupt enabled.
    pub fn start(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Self { _syst: syst }
    }

    /// Ticks since start: wraps × 2²⁴ + (reload − current). Read twice around the wrap
    /// counter so a wrap between the reads is not lost.
    pub fn ticks(&self) -> u64 {
        loop {
            let w1 = WRAPS.load(Ordering::Relaxed);
            let current = SYST::get_current();
            let w2 = WRAPS.load(Ordering::Relaxed);
            if w1 == w2 {
                return u64::from(w1) * (u64::from(RELOAD) + 1) + u64::from(RELOAD - current);
            }
        }
    }

    /// Instructions `f` executes (to ±40), and its result.
    pub fn measure<T>(&self, f: impl FnOnce() -> T) -> (u64, T) {
        let start = self.ticks();
        let out = f();
        ((self.ticks() - start) * INSTRUCTIONS_PER_TICK, out)
    }
}

/// Ends the QEMU session with success or failure; on hardware without a debugger, sleeps.
pub fn finish(success: bool) -> ! {
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    if let Ok(mut err) = hio::hstderr() {
        let _ = writeln!(err, "panic: {info}");
    }
    finish(false)
}
