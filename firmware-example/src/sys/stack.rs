//! The stack's high-water mark: at boot every word between the end of the static data
//! (`_stack_end`, cortex-m-rt) and a little below the current stack pointer is painted with a
//! pattern; later the lowest word that no longer holds it is the deepest the stack has been.
//! Interrupts taken meanwhile count too, as they should.

use core::ptr::{addr_of, read_volatile, write_volatile};

/// The paint (unlikely as a stack value: not a valid RAM address, not a small number).
const PAINT: u32 = 0xC5AC_CE55;
/// Words left unpainted below the stack pointer: the painting function's own frame.
const MARGIN_WORDS: usize = 64;

extern "C" {
    /// Lowest address the stack may grow to (cortex-m-rt's linker script).
    static _stack_end: u32;
    /// The initial stack pointer, the top of the stack.
    static _stack_start: u32;
    /// Start of `.data` (the first RAM of the statics).
    static __sdata: u32;
    /// End of `.uninit` (after `.bss`: the last RAM of the statics).
    static __euninit: u32;
}

/// RAM the statics take (`.data`, `.bss`, `.uninit`).
pub fn static_ram_bytes() -> usize {
    // The addresses of linker symbols, never read as values.
    addr_of!(__euninit) as usize - addr_of!(__sdata) as usize
}

/// The painted region, from [`paint`].
pub struct PaintedStack {
    bottom: usize,
    top: usize,
}

/// Paints the unused stack. Call once, early, from a shallow frame.
pub fn paint() -> PaintedStack {
    let (bottom, top) = (addr_of!(_stack_end) as usize, addr_of!(_stack_start) as usize);
    let sp = cortex_m::register::msp::read() as usize;
    let end = sp.saturating_sub(4 * MARGIN_WORDS) & !3;
    let mut at = bottom;
    while at < end {
        // SAFETY: `at` is word-aligned, between the end of the statics and below the live
        // stack (less the margin): RAM that nothing uses yet.
        unsafe { write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
    PaintedStack { bottom, top }
}

impl PaintedStack {
    /// Bytes of stack used at the deepest so far: from the top down to the lowest word that
    /// lost its paint.
    pub fn high_water_bytes(&self) -> usize {
        let mut at = self.bottom;
        // SAFETY: word-aligned reads of the stack region, which is RAM.
        while at < self.top && unsafe { read_volatile(at as *const u32) } == PAINT {
            at += 4;
        }
        self.top - at
    }

    /// Bytes the stack may take in all (RAM above the statics).
    pub fn capacity_bytes(&self) -> usize {
        self.top - self.bottom
    }
}
