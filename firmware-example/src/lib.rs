//! What the firmware's binaries share: a panic handler that reports and ends QEMU with a
//! failure code (never hangs), and the way to stop when done.
#![no_std]

use core::fmt::Write as _;

use cortex_m_semihosting::{debug, hio};

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
