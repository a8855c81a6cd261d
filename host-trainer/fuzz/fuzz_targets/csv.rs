//! CSV files as `vaenmf train --data X.csv` loads them, with the channel names of the header:
//! an error or a valid matrix, never a panic or a hang. `cargo xtask fuzz csv [SECONDS]`.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vaenmf_trainer::data::load::channel_names;

fuzz_target!(|bytes: &[u8]| {
    let path = common::as_file(bytes, "csv");
    for (opts, m) in common::load_both_orientations(&path) {
        if let Ok(Some(names)) = channel_names(&path, &opts, m.channels) {
            assert_eq!(names.len(), m.channels);
        }
    }
});
