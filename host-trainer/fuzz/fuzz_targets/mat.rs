//! MATLAB v5 files as `vaenmf train --data X.mat` (matfile) and `--ninapro` load them: an error
//! or a valid matrix, never a panic or a hang. `cargo xtask fuzz mat [SECONDS]`.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vaenmf_trainer::data::load::{load, LoadOptions};
use vaenmf_trainer::data::ninapro::load_ninapro;

fuzz_target!(|bytes: &[u8]| {
    common::caught_panics_are_errors();
    let path = common::as_file(bytes, "mat");
    if let Ok(m) = load(&path, &LoadOptions::default()) {
        common::assert_valid(&m);
    }
    let opts = LoadOptions {
        channels_in_rows: false,
        vars: vec!["emg".into(), "x".into()],
    };
    let _ = load(&path, &opts);
    if let Ok(split) = load_ninapro(&path, None) {
        common::assert_valid(&split.train);
        common::assert_valid(&split.test);
    }
});
