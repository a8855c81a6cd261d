//! Coverage-guided fuzzing of the blob decoders: `cargo +nightly fuzz run blob_decode`
//! from `core/`. Any panic is a bug; a successful decode must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vaenmf_core::{ModelBlob, ModelStorage};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(blob) = ModelBlob::from_bytes(bytes) {
        assert_eq!(blob.to_bytes().expect("decoded blob re-encodes"), bytes);
    }
    let mut storage = ModelStorage::<4, 8, 8, 2>::new();
    let _ = storage.decode(bytes);
});
