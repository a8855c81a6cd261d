//! Where the firmware runs, chosen at build time by a cargo feature (at most one; `build.rs`
//! refuses two). Each module sets up the clocks and says what it is; `build.rs` gives the
//! linker the matching memory map (`memory-*.x`).

#[cfg(feature = "board-nrf52840")]
mod nrf52840;
#[cfg(feature = "board-nrf52840")]
pub use nrf52840::*;

#[cfg(feature = "board-stm32f411")]
pub mod stm32f411;
#[cfg(feature = "board-stm32f411")]
pub use stm32f411::{init, CLOCK_HZ, NAME};

#[cfg(not(any(feature = "board-nrf52840", feature = "board-stm32f411")))]
mod qemu {
    /// The emulated machine.
    #[cfg(not(vaenmf_microbit))]
    pub const NAME: &str = "qemu-mps2-an386";
    /// The emulated machine.
    #[cfg(vaenmf_microbit)]
    pub const NAME: &str = "qemu-microbit";
    /// The core clock QEMU models for SysTick (25 MHz on mps2-an386, 16 MHz on the micro:bit).
    pub const CLOCK_HZ: u32 = if cfg!(vaenmf_microbit) {
        16_000_000
    } else {
        25_000_000
    };

    /// Nothing to set up on QEMU.
    pub fn init() {}
}
#[cfg(not(any(feature = "board-nrf52840", feature = "board-stm32f411")))]
pub use qemu::*;
