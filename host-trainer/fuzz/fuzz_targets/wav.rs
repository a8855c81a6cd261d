//! WAV files as `vaenmf speech …` reads them (hound, then mono mixing, the finite check and,
//! when the rate differs, rubato resampling to 16 kHz): an error or samples, never a panic or
//! a hang. `cargo xtask fuzz wav [SECONDS]`.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vaenmf_trainer::speech::front_end::audio::read_at_rate;

fuzz_target!(|bytes: &[u8]| {
    common::caught_panics_are_errors();
    let path = common::as_file(bytes, "wav");
    if let Ok((samples, _)) = read_at_rate(&path, 16_000, true) {
        assert!(samples.iter().all(|v| v.is_finite()));
    }
});
