//! Coverage-guided fuzzing of the blob decoders: `cargo +nightly fuzz run blob_decode`
//! from `core/`. Any panic is a bug; a successful decode of a current-version blob must
//! re-encode to the same bytes, and one of an older version to a blob that decodes equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vaenmf_core::blob::FORMAT_VERSION;
use vaenmf_core::{ModelBlob, ModelStorage};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(blob) = ModelBlob::from_bytes(bytes) {
        let again = blob.to_bytes().expect("decoded blob re-encodes");
        if bytes[4..6] == FORMAT_VERSION.to_le_bytes() {
            assert_eq!(again, bytes);
        } else {
            assert_eq!(ModelBlob::from_bytes(&again).expect("re-encoded blob decodes"), blob);
        }
    }
    let mut storage = ModelStorage::<4, 8, 8, 2>::new();
    let _ = storage.decode(bytes);
});
