//! nRF52840-DK (nRF52840: Cortex-M4F, 64 MHz, 1 MiB flash, 256 KiB RAM).

use nrf52840_hal::clocks::Clocks;
use nrf52840_hal::pac;

/// The board, as the `summary` line names it.
pub const NAME: &str = "nrf52840-dk";
/// Core clock once [`init`] ran.
pub const CLOCK_HZ: u32 = 64_000_000;

/// Starts the external 32 MHz crystal (HFXO): the core runs at 64 MHz from it, with the
/// accuracy a timer-triggered sampler needs.
pub fn init() {
    let device = pac::Peripherals::take().unwrap_or_else(|| panic!("nRF52840 peripherals taken"));
    // The clock stays configured when the handle is dropped.
    let _clocks = Clocks::new(device.CLOCK).enable_ext_hfosc();
}
