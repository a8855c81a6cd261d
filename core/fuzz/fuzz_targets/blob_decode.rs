//! Coverage-guided fuzzing of the blob decoders: `cargo xtask fuzz [SECONDS]` from the
//! workspace root (or `cargo +nightly fuzz run blob_decode` from `core/`). Any panic is a bug.
//!
//! Each input is decoded twice: as given, and with its length field and CRC-32 rewritten to
//! match, so that mutations reach the payload parser (f32 arrays, names, front end and the
//! format-4 quantised encoder, the speech enhancer of formats 5–7) instead of stopping at the
//! checksum. A successful decode must
//! re-encode to a blob that decodes equal (bytes may differ: postcard accepts over-long
//! varints, the encoder writes the shortest).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vaenmf_core::blob::{CHECKSUM_LEN, PREAMBLE_LEN};
use vaenmf_core::speech::EnhancerBlob;
use vaenmf_core::{ModelBlob, ModelStorage};

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fn decode(bytes: &[u8]) {
    if let Ok(blob) = ModelBlob::from_bytes(bytes) {
        let again = blob.to_bytes().expect("decoded blob re-encodes");
        assert_eq!(ModelBlob::from_bytes(&again).expect("re-encoded blob decodes"), blob);
    }
    if let Ok(enhancer) = EnhancerBlob::from_bytes(bytes) {
        let again = enhancer.to_bytes().expect("decoded enhancer re-encodes");
        assert_eq!(EnhancerBlob::from_bytes(&again).expect("re-encoded enhancer decodes"), enhancer);
    }
    let mut storage = ModelStorage::<4, 8, 8, 2>::new();
    let _ = storage.decode(bytes);
}

fuzz_target!(|bytes: &[u8]| {
    decode(bytes);
    if bytes.len() >= PREAMBLE_LEN + CHECKSUM_LEN {
        let mut fixed = bytes.to_vec();
        let payload = (fixed.len() - PREAMBLE_LEN - CHECKSUM_LEN) as u32;
        fixed[6..10].copy_from_slice(&payload.to_le_bytes());
        let body = fixed.len() - CHECKSUM_LEN;
        let crc = CRC32.checksum(&fixed[..body]);
        fixed[body..].copy_from_slice(&crc.to_le_bytes());
        decode(&fixed);
    }
});
