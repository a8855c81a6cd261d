//! Line output: semihosting on QEMU, `defmt` over RTT on boards, the same text on both.
//!
//! [`Console`] is a `core::fmt::Write`. On QEMU text goes straight to the host's stdout; on a
//! board it is gathered into a line and sent as one `defmt` record (`{=str}`) at each newline,
//! so `probe-rs run` prints the `z,…` and `summary …` lines exactly as QEMU does. A line
//! longer than [`LINE_CAPACITY`] bytes is sent in pieces.

/// Longest line sent as one record on boards.
pub const LINE_CAPACITY: usize = 256;

/// Where the firmware's lines go.
pub struct Console {
    #[cfg(not(feature = "defmt-logging"))]
    out: cortex_m_semihosting::hio::HostStream,
    #[cfg(feature = "defmt-logging")]
    line: heapless::String<LINE_CAPACITY>,
}

impl Console {
    /// Opens the console (on QEMU, the semihosting stdout; a failure there is a panic, which
    /// QEMU reports on stderr).
    pub fn open() -> Self {
        #[cfg(not(feature = "defmt-logging"))]
        {
            let out =
                cortex_m_semihosting::hio::hstdout().unwrap_or_else(|_| panic!("no semihosting console"));
            Self { out }
        }
        #[cfg(feature = "defmt-logging")]
        Self {
            line: heapless::String::new(),
        }
    }

    #[cfg(feature = "defmt-logging")]
    fn send(&mut self) {
        defmt::println!("{=str}", self.line.as_str());
        self.line.clear();
    }
}

/// Writes one tracked frame's line, `z,<frame>,<z1>,...,<zr>`: each activation in the
/// shortest decimal that reads back as the same f32 (the QEMU tests compare them bit for bit).
pub fn write_activations(out: &mut impl core::fmt::Write, frame: u64, activations: &[f32]) {
    let _ = write!(out, "z,{frame}");
    let mut digits = ryu::Buffer::new();
    for &z in activations {
        let _ = write!(out, ",{}", digits.format(z));
    }
    let _ = writeln!(out);
}

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        #[cfg(not(feature = "defmt-logging"))]
        return self.out.write_str(s);
        #[cfg(feature = "defmt-logging")]
        {
            for c in s.chars() {
                if c == '\n' {
                    self.send();
                } else if self.line.push(c).is_err() {
                    self.send();
                    let _ = self.line.push(c);
                }
            }
            Ok(())
        }
    }
}
