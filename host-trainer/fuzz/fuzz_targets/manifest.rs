//! The noisy-set manifest (`manifest.csv`) as `vaenmf speech eval` parses it: an error or rows
//! with finite SNRs, never a panic or a hang. `cargo xtask fuzz manifest [SECONDS]`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vaenmf_trainer::speech::front_end::manifest::parse_manifest;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(rows) = parse_manifest(bytes, Path::new("manifest.csv"), Path::new("set")) {
        assert!(rows.iter().all(|r| r.snr_db.is_finite()));
    }
});
