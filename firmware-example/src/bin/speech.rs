//! Enhances a noisy recording hop by hop on a Cortex-M4F (QEMU or a board) with the core's
//! streaming network enhancer — the code `vaenmf speech enhance --model … --stream` runs on the
//! host.
//!
//! The enhancer (`VAENMF_SPEECH_MODEL`, f32 or quantised) and the recording
//! (`VAENMF_SPEECH_WAV`) are `static` arrays in flash (`build.rs`). Each hop of `HOP` samples
//! goes through `NetworkEnhancer::process`; a hop the enhancer refuses (a NaN or ∞ sample, or
//! one past ±65536) is reported as `skip,<hop>,<reason>`, its output is silence and the stream
//! goes on. The output is aligned as the host's: the enhancer's delay dropped, as many samples
//! as the recording. On QEMU with `VAENMF_SPEECH_OUT` set, the samples are written there
//! through semihosting as a 32-bit float WAV, byte for byte the host's `-o OUT.wav`. Every run
//! prints `output samples=<n> crc32=<c>` (of the samples' little-endian bytes), `embedded
//! model_bytes=<b> recording_bytes=<r> recording=<file>` (the arrays in flash) and one summary:
//!
//! `summary hops=N skipped=K instructions_per_hop=MEAN max_instructions_per_hop=MAX
//! macs_per_hop=M stack_bytes=S static_ram_bytes=R latency_ms=L model=METHOD[-int8] board=B`
//!
//! (`cycles_per_hop` / `max_cycles_per_hop` from the DWT on a board; `stack_bytes` is the
//! high-water mark of the painted stack, boot included; `kernel_bench` measures the FFT).
#![no_std]
#![no_main]

use cortex_m_rt::entry;

#[entry]
fn main() -> ! {
    #[cfg(not(vaenmf_microbit))]
    enhance::run();
    #[cfg(vaenmf_microbit)]
    {
        use core::fmt::Write as _;
        let mut out = vaenmf_firmware_example::console::Console::open();
        let _ = writeln!(
            out,
            "speech: the speech enhancer runs on the Cortex-M4F (QEMU mps2-an386, the boards), not the micro:bit's Cortex-M0"
        );
        vaenmf_firmware_example::finish(false)
    }
}

#[cfg(not(vaenmf_microbit))]
mod enhance {
    use core::fmt::Write as _;
    use vaenmf_core::speech::{GainFloor, NetworkBuffers, NetworkEnhancer, Spectrum, StreamingStft};
    use vaenmf_core::Align4;
    use vaenmf_firmware_example::console::Console;
    use vaenmf_firmware_example::counter::{Counter, UNIT};
    use vaenmf_firmware_example::sys::stack;
    use vaenmf_firmware_example::{board, finish};

    #[allow(clippy::all, dead_code)]
    mod speech_model {
        include!(concat!(env!("OUT_DIR"), "/speech.rs"));
    }
    use speech_model::*;

    /// A duration in µs, displayed in ms with three decimals.
    struct Millis(u64);

    impl core::fmt::Display for Millis {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
        }
    }

    /// CRC-32 (ISO-HDLC, as zlib's) of the output samples' bytes, for comparing a board's output
    /// with the host's.
    struct Crc32(u32);

    impl Crc32 {
        fn update(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 ^= u32::from(b);
                for _ in 0..8 {
                    self.0 = if self.0 & 1 == 1 {
                        (self.0 >> 1) ^ 0xEDB8_8320
                    } else {
                        self.0 >> 1
                    };
                }
            }
        }
    }

    /// Where the enhanced samples go besides the checksum: a host file on QEMU.
    struct Output {
        #[cfg(not(feature = "defmt-logging"))]
        file: Option<vaenmf_firmware_example::sys::host_file::HostFile>,
        crc: Crc32,
        samples: usize,
    }

    impl Output {
        fn open(samples: usize) -> Self {
            #[cfg(not(feature = "defmt-logging"))]
            let file = OUT_PATH.map(|path| {
                let mut f = vaenmf_firmware_example::sys::host_file::HostFile::create(path)
                    .unwrap_or_else(|| panic!("cannot create {}", path.trim_end_matches('\0')));
                let header =
                    vaenmf_firmware_example::wav::float_header(FRONT_END.sample_rate, samples as u32);
                f.write_all(&header)
                    .unwrap_or_else(|_| panic!("cannot write the WAV header"));
                f
            });
            #[cfg(feature = "defmt-logging")]
            let _ = samples;
            Self {
                #[cfg(not(feature = "defmt-logging"))]
                file,
                crc: Crc32(!0),
                samples: 0,
            }
        }

        /// Closes the file (`finish` never returns, so nothing would drop it).
        fn close(self) {
            #[cfg(not(feature = "defmt-logging"))]
            drop(self.file);
        }

        fn write(&mut self, samples: &[f32]) {
            for s in samples {
                let bytes = s.to_le_bytes();
                self.crc.update(&bytes);
                #[cfg(not(feature = "defmt-logging"))]
                if let Some(f) = self.file.as_mut() {
                    f.write_all(&bytes)
                        .unwrap_or_else(|_| panic!("cannot write the output"));
                }
            }
            self.samples += samples.len();
        }
    }

    /// Enhances the recording and reports (see the crate docs).
    pub fn run() -> ! {
        let painted = stack::paint();
        board::init();
        let mut out = Console::open();
        let peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| panic!("peripherals taken"));
        let counter = Counter::start(peripherals);

        let buffers = NetworkBuffers {
            stft: cortex_m::singleton!(: StreamingStft<HOP> = StreamingStft::ZEROED).unwrap_or_else(|| panic!("taken")),
            frames: cortex_m::singleton!(: [f32; FRAMES_LEN] = [0.0; FRAMES_LEN]).unwrap_or_else(|| panic!("taken")),
            spectra: cortex_m::singleton!(: [Spectrum; SPECTRA_LEN] = [Spectrum { re: [0.0; _], im: [0.0; _] }; SPECTRA_LEN])
                .unwrap_or_else(|| panic!("taken")),
            work: cortex_m::singleton!(: [f32; WORK_LEN] = [0.0; WORK_LEN]).unwrap_or_else(|| panic!("taken")),
            int: &mut cortex_m::singleton!(: Align4<[i16; INT_LEN]> = Align4([0; INT_LEN]))
                .unwrap_or_else(|| panic!("taken"))
                .0,
            acc: cortex_m::singleton!(: [i32; ACC_LEN] = [0; ACC_LEN]).unwrap_or_else(|| panic!("taken")),
        };
        // Validated on the host by build.rs; checked again here as the device must. Borrowed in
        // place, never moved: the enhancer holds 16 KiB of STFT state, and a move out of the
        // `Result` would put a second copy on the stack.
        let mut checked = NetworkEnhancer::<HOP>::new_checked(&FRONT_END, network(), buffers);
        let enhancer = match &mut checked {
            Ok(e) => e,
            Err(e) => panic!("enhancer rejected: {e}"),
        };
        enhancer.set_gain_floor(GainFloor::new_checked(GAIN_FLOOR).unwrap_or_else(|e| panic!("{e}")));

        // The host's alignment: `delay` samples of zeros after the recording, the first `delay`
        // output samples dropped.
        let (len, delay) = (RECORDING.len(), enhancer.delay());
        let hops = (len + delay).div_ceil(HOP);
        let mut output = Output::open(len);
        let (mut busy, mut worst, mut skipped) = (0u64, 0u64, 0usize);
        let mut input = [0.0f32; HOP];
        let mut enhanced = [0.0f32; HOP];
        for t in 0..hops {
            for (i, v) in input.iter_mut().enumerate() {
                let at = t * HOP + i;
                *v = if at < len { RECORDING.sample(at) } else { 0.0 };
            }
            let (cost, result) = counter.measure(|| enhancer.process(&input, &mut enhanced));
            busy += cost;
            worst = worst.max(cost);
            if let Err(e) = result {
                // The enhancer's state is untouched: this hop's output is silence.
                skipped += 1;
                enhanced = [0.0; HOP];
                let _ = writeln!(out, "skip,{t},{e}");
            }
            // Output samples t·HOP … of the stream, less the delay, up to the recording's length.
            let first = (t * HOP).max(delay);
            let last = ((t + 1) * HOP).min(len + delay);
            if first < last {
                output.write(&enhanced[first - t * HOP..last - t * HOP]);
            }
        }
        let _ = writeln!(
            out,
            "output samples={} crc32={:08x}",
            output.samples, !output.crc.0
        );
        let _ = writeln!(
            out,
            "embedded model_bytes={MODEL_BYTES} recording_bytes={RECORDING_BYTES} recording={RECORDING_NAME}"
        );
        output.close();
        let stack_bytes = painted.high_water_bytes();
        let static_ram = stack::static_ram_bytes();
        // In µs, printed as ms with three decimals by integer arithmetic: float formatting
        // would cost 15 KiB of flash.
        let latency_us = (LATENCY_SAMPLES as u64 * 1_000_000).div_ceil(u64::from(FRONT_END.sample_rate));
        let latency_ms = Millis(latency_us);
        let _ = writeln!(
            out,
            "summary hops={hops} skipped={skipped} {UNIT}_per_hop={} max_{UNIT}_per_hop={worst} macs_per_hop={MACS_PER_HOP} stack_bytes={stack_bytes} static_ram_bytes={static_ram} latency_ms={latency_ms} model={METHOD}{} board={}",
            busy / hops.max(1) as u64,
            if INT8 { "-int8" } else { "" },
            board::NAME
        );
        finish(true)
    }
}
