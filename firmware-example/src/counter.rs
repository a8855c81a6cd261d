//! What a piece of code costs: executed instructions on QEMU, core cycles on boards.
//!
//! QEMU does not model cycles, but with `-icount shift=0` every instruction advances virtual
//! time by 1 ns and SysTick, clocked at 25 MHz on mps2-an386 (Cortex-M4F), ticks once every 40
//! instructions; on the micro:bit (Cortex-M0, thumbv6m builds) QEMU clocks it at 16 MHz, once
//! every 62.5 instructions. SysTick counts down from 2²⁴ − 1 and its interrupt counts wraps,
//! so instructions = ticks × 40 (or × 62.5), exact to one tick per measurement.
//!
//! On a board the DWT cycle counter (`CYCCNT`, 32 bits at the core clock) is read around the
//! code: real cycles, including flash wait states and interrupts taken meanwhile. It wraps
//! after 2³² cycles (43 s at 100 MHz); one measurement must be shorter.

/// What [`Counter`] counts, as it appears in the output's keys (`<UNIT>_per_frame`).
#[cfg(not(feature = "defmt-logging"))]
pub const UNIT: &str = "instructions";
/// What [`Counter`] counts, as it appears in the output's keys (`<UNIT>_per_frame`).
#[cfg(feature = "defmt-logging")]
pub const UNIT: &str = "cycles";

#[cfg(not(feature = "defmt-logging"))]
mod imp {
    use core::sync::atomic::{AtomicU32, Ordering};

    use cortex_m::peripheral::syst::SystClkSource;
    use cortex_m::peripheral::SYST;
    use cortex_m_rt::exception;

    /// Instructions per SysTick tick under `-icount shift=0`, as a fraction: 1 ns per
    /// instruction and a 25 MHz (mps2-an386) or 16 MHz (micro:bit) core clock.
    #[cfg(not(vaenmf_microbit))]
    pub const INSTRUCTIONS_PER_TICK: (u64, u64) = (40, 1);
    /// Instructions per SysTick tick under `-icount shift=0`, as a fraction: 1 ns per
    /// instruction and a 25 MHz (mps2-an386) or 16 MHz (micro:bit) core clock.
    #[cfg(vaenmf_microbit)]
    pub const INSTRUCTIONS_PER_TICK: (u64, u64) = (125, 2);
    const RELOAD: u32 = 0x00FF_FFFF;

    static WRAPS: AtomicU32 = AtomicU32::new(0);

    #[exception]
    fn SysTick() {
        // Only this handler writes WRAPS, so load + store is exact; Armv6-M has no atomic add.
        WRAPS.store(WRAPS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }

    /// Counts executed instructions with SysTick (see the module docs); owns the timer.
    pub struct Counter {
        _syst: SYST,
    }

    impl Counter {
        /// Starts SysTick from the core clock with the wrap interrupt enabled.
        pub fn start(core: cortex_m::Peripherals) -> Self {
            let mut syst = core.SYST;
            syst.set_clock_source(SystClkSource::Core);
            syst.set_reload(RELOAD);
            syst.clear_current();
            syst.enable_interrupt();
            syst.enable_counter();
            Self { _syst: syst }
        }

        /// Ticks since start: wraps × 2²⁴ + (reload − current). Read twice around the wrap
        /// counter so a wrap between the reads is not lost.
        fn ticks(&self) -> u64 {
            loop {
                let w1 = WRAPS.load(Ordering::Relaxed);
                let current = SYST::get_current();
                let w2 = WRAPS.load(Ordering::Relaxed);
                if w1 == w2 {
                    return u64::from(w1) * (u64::from(RELOAD) + 1) + u64::from(RELOAD - current);
                }
            }
        }

        /// Instructions `f` executes (to one tick: ±40, or ±63 on the micro:bit), and its
        /// result.
        pub fn measure<T>(&self, f: impl FnOnce() -> T) -> (u64, T) {
            let start = self.ticks();
            let out = f();
            let (num, den) = INSTRUCTIONS_PER_TICK;
            ((self.ticks() - start) * num / den, out)
        }
    }
}

#[cfg(feature = "defmt-logging")]
mod imp {
    use cortex_m::peripheral::DWT;

    /// Counts core cycles with the DWT cycle counter (see the module docs).
    pub struct Counter {
        _dwt: DWT,
    }

    impl Counter {
        /// Enables tracing and the cycle counter.
        pub fn start(core: cortex_m::Peripherals) -> Self {
            let (mut dcb, mut dwt) = (core.DCB, core.DWT);
            dcb.enable_trace();
            DWT::unlock();
            dwt.enable_cycle_counter();
            Self { _dwt: dwt }
        }

        /// Core cycles `f` takes (wrapping subtraction: exact below 2³² cycles), and its
        /// result.
        pub fn measure<T>(&self, f: impl FnOnce() -> T) -> (u64, T) {
            let start = DWT::cycle_count();
            let out = f();
            (u64::from(DWT::cycle_count().wrapping_sub(start)), out)
        }
    }
}

pub use imp::Counter;
