//! NumPy `.npy` files as `vaenmf train --data X.npy` loads them (npyz), both orientations: an
//! error or a valid matrix (finite, frames × channels), never a panic or a hang.
//! `cargo xtask fuzz npy [SECONDS]`.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    common::load_both_orientations(&common::as_file(bytes, "npy"));
});
