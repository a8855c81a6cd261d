//! Model blob: round trips, every truncation, every single-bit flip, each error variant.

mod common;

use common::random_blob;
use vaenmf_core::blob::{ENHANCER_FORMAT_VERSION, FORMAT_VERSION, MAGIC, PREAMBLE_LEN};
use vaenmf_core::{peek_header, Field, ModelBlob, ModelError, ModelStorage};

#[test]
fn owned_round_trip_is_exact() {
    for hidden in [(4, 5), (0, 0)] {
        let blob = random_blob(7, 3, hidden, 2);
        let bytes = blob.to_bytes().unwrap();
        assert_eq!(&bytes[..4], &MAGIC);
        assert_eq!(ModelBlob::from_bytes(&bytes).unwrap(), blob);
        assert_eq!(peek_header(&bytes).unwrap().dims, blob.dims);
    }
}

#[test]
fn storage_decode_matches_owned_arrays() {
    // Widths 20 and 11 and rank 10 are not multiples of the 8-output panel: every panel shape.
    let blob = random_blob(8, 3, (20, 11), 10);
    let bytes = blob.to_bytes().unwrap();
    let mut storage = ModelStorage::<3, 20, 11, 10>::new();
    let model = storage.decode(&bytes).unwrap();
    let enc = model.encoder().unwrap();
    let owned = blob.encoder.as_ref().unwrap();
    for (i, row) in owned.layer1_weights.chunks(20).enumerate() {
        for (o, &w) in row.iter().enumerate() {
            assert_eq!(enc.layer1.weight(i, o), Some(w), "layer1 ({i}, {o})");
        }
    }
    for (i, row) in owned.beta_head_weights.chunks(10).enumerate() {
        for (o, &w) in row.iter().enumerate() {
            assert_eq!(enc.beta_head.weight(i, o), Some(w), "beta head ({i}, {o})");
        }
    }
    assert_eq!(enc.layer1.weight(3, 0), None);
    assert_eq!(enc.layer1.weight(0, 20), None);
    // The owned blob's rearrangement (what a firmware build.rs emits) is the same storage.
    let packed = owned.to_panel_order(blob.dims);
    assert_eq!(enc.layer1.weights.as_flattened(), &packed.layer1_weights[..]);
    assert_eq!(enc.layer2.weights.as_flattened(), &packed.layer2_weights[..]);
    assert_eq!(
        enc.alpha_head.weights.as_flattened(),
        &packed.alpha_head_weights[..]
    );
    assert_eq!(
        enc.beta_head.weights.as_flattened(),
        &packed.beta_head_weights[..]
    );
    assert_eq!(enc.layer2.bias, &owned.layer2_bias[..]);
    assert_eq!(model.dictionary().as_flattened(), &blob.dictionary[..]);
    assert_eq!(model.alpha0(), blob.alpha0);
}

#[test]
fn storage_rejects_other_dimensions() {
    let bytes = random_blob(9, 3, (4, 5), 2).to_bytes().unwrap();
    let mut storage = ModelStorage::<3, 4, 6, 2>::new();
    assert_eq!(
        storage.decode(&bytes).unwrap_err(),
        ModelError::DimensionMismatch {
            field: Field::Hidden2,
            expected: 6,
            found: 5
        }
    );
    let mut nmf_storage = ModelStorage::<3, 0, 0, 2>::new();
    assert!(matches!(
        nmf_storage.decode(&bytes),
        Err(ModelError::DimensionMismatch {
            field: Field::Hidden1,
            ..
        })
    ));
}

#[test]
fn every_truncation_is_rejected() {
    for hidden in [(4, 5), (0, 0)] {
        let bytes = random_blob(10, 3, hidden, 2).to_bytes().unwrap();
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            let err = ModelBlob::from_bytes(cut).unwrap_err();
            assert!(
                matches!(err, ModelError::Truncated { .. }),
                "length {len}: {err:?}"
            );
            let mut storage = ModelStorage::<3, 4, 5, 2>::new();
            assert!(storage.decode(cut).is_err());
        }
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let bytes = random_blob(11, 3, (4, 5), 2).to_bytes().unwrap();
    let mut storage = ModelStorage::<3, 4, 5, 2>::new();
    for bit in 0..bytes.len() * 8 {
        let mut bad = bytes.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = ModelBlob::from_bytes(&bad).unwrap_err();
        let byte = bit / 8;
        // The most specific error for where the flip landed.
        match byte {
            0..=3 => assert!(matches!(err, ModelError::BadMagic { .. }), "bit {bit}: {err:?}"),
            4..=5 => {
                // A flip to another readable version is caught by the checksum instead.
                let version = u16::from_le_bytes([bad[4], bad[5]]);
                if (vaenmf_core::blob::OLDEST_READABLE_VERSION..=ENHANCER_FORMAT_VERSION).contains(&version) {
                    assert!(matches!(err, ModelError::Checksum { .. }), "bit {bit}: {err:?}");
                } else {
                    assert!(
                        matches!(err, ModelError::UnsupportedVersion { .. }),
                        "bit {bit}: {err:?}"
                    );
                }
            }
            6..=9 => assert!(
                matches!(
                    err,
                    ModelError::Truncated { .. } | ModelError::TrailingBytes { .. }
                ),
                "bit {bit}: {err:?}"
            ),
            _ => assert!(matches!(err, ModelError::Checksum { .. }), "bit {bit}: {err:?}"),
        }
        assert_eq!(storage.decode(&bad).unwrap_err(), err);
        // Messages are printable for every error.
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn trailing_bytes_and_version_are_reported() {
    let mut bytes = random_blob(12, 3, (0, 0), 2).to_bytes().unwrap();
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0, 0, 0]);
    assert_eq!(
        ModelBlob::from_bytes(&longer).unwrap_err(),
        ModelError::TrailingBytes { count: 3 }
    );
    bytes[4..6].copy_from_slice(&(ENHANCER_FORMAT_VERSION + 1).to_le_bytes());
    assert_eq!(
        ModelBlob::from_bytes(&bytes).unwrap_err(),
        ModelError::UnsupportedVersion {
            found: ENHANCER_FORMAT_VERSION + 1,
            supported: ENHANCER_FORMAT_VERSION
        }
    );
    assert_eq!(
        ModelBlob::from_bytes(b"PK\x03\x04rest").unwrap_err(),
        ModelError::BadMagic {
            found: *b"PK\x03\x04"
        }
    );
}

#[test]
fn invalid_values_are_refused_at_encode_time() {
    let good = random_blob(13, 3, (4, 5), 2);

    let mut nan_w = good.clone();
    nan_w.dictionary[3] = f32::NAN;
    assert_eq!(
        nan_w.to_bytes().unwrap_err(),
        ModelError::NonFinite {
            field: Field::Dictionary,
            index: 3
        }
    );

    let mut neg_w = good.clone();
    neg_w.dictionary[5] = -1e-6; // row 2, column 1 of a 3 × 2 dictionary
    assert_eq!(
        neg_w.to_bytes().unwrap_err(),
        ModelError::NegativeDictionary {
            channel: 2,
            synergy: 1
        }
    );

    let mut inf_layer = good.clone();
    inf_layer.encoder.as_mut().unwrap().layer2_weights[7] = f32::INFINITY;
    assert_eq!(
        inf_layer.to_bytes().unwrap_err(),
        ModelError::NonFinite {
            field: Field::Layer2Weights,
            index: 7
        }
    );

    let mut zero_scale = good.clone();
    zero_scale.input_scale[1] = 0.0;
    assert_eq!(
        zero_scale.to_bytes().unwrap_err(),
        ModelError::OutOfRange {
            field: Field::InputScale,
            index: 1
        }
    );

    let mut short = good.clone();
    short.encoder.as_mut().unwrap().alpha_head_bias.pop();
    assert_eq!(
        short.to_bytes().unwrap_err(),
        ModelError::DimensionMismatch {
            field: Field::AlphaHeadBias,
            expected: 2,
            found: 1
        }
    );

    let mut no_encoder = good.clone();
    no_encoder.encoder = None;
    assert_eq!(
        no_encoder.to_bytes().unwrap_err(),
        ModelError::EncoderPresence { present: false }
    );

    let mut bad_alpha0 = good;
    bad_alpha0.alpha0 = 0.0;
    assert!(matches!(
        bad_alpha0.to_bytes().unwrap_err(),
        ModelError::OutOfRange {
            field: Field::Alpha0,
            ..
        }
    ));
}

/// A blob whose checksum is valid but whose contents are not (as a buggy or hostile writer
/// could produce) is still caught by the value checks on decode.
#[test]
fn checksummed_but_invalid_values_are_rejected_on_decode() {
    let mut blob = random_blob(14, 3, (0, 0), 2);
    blob.channel_names.clear();
    blob.front_end = None;
    let mut bytes = blob.to_bytes().unwrap();
    // The dictionary is the last array: its final value sits just before the empty name list
    // and the empty front end (one byte each) and the CRC.
    let at = bytes.len() - 10;
    bytes[at..at + 4].copy_from_slice(&(-1.0f32).to_le_bytes());
    let body_len = bytes.len() - 4;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes[..body_len]);
    bytes[body_len..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        ModelBlob::from_bytes(&bytes).unwrap_err(),
        ModelError::NegativeDictionary {
            channel: 2,
            synergy: 1
        }
    );
    let mut storage = ModelStorage::<3, 0, 0, 2>::new();
    assert_eq!(
        storage.decode(&bytes).unwrap_err(),
        ModelError::NegativeDictionary {
            channel: 2,
            synergy: 1
        }
    );
}

/// The decoder's checksum over a blob in pieces equals the one over the whole: what the
/// firmware's self-test relies on to check a flipped bit in place.
#[test]
fn checksum_over_parts_equals_checksum_over_the_whole() {
    use vaenmf_core::blob::{checksum, CHECKSUM_LEN};
    let bytes = random_blob(17, 3, (4, 5), 2).to_bytes().unwrap();
    let body = &bytes[..bytes.len() - CHECKSUM_LEN];
    let stored = u32::from_le_bytes(bytes[body.len()..].try_into().unwrap());
    assert_eq!(checksum(&[body]), stored);
    assert_eq!(checksum(&[&body[..7], &body[7..8], &body[8..]]), stored);
    let flipped = [body[8] ^ 1];
    assert_ne!(checksum(&[&body[..8], &flipped, &body[9..]]), stored);
}

mod fuzz {
    //! Property-based fuzzing of both decoders (the cargo-fuzz target in `core/fuzz` does
    //! the same coverage-guided, on a nightly toolchain). Random bytes, and mutations of a
    //! valid blob with the checksum recomputed so mutations reach the payload parser.
    use super::*;
    use proptest::prelude::*;

    fn fix_crc(bytes: &mut [u8]) {
        if bytes.len() >= 14 {
            let body = bytes.len() - 4;
            let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes[..body]);
            bytes[body..].copy_from_slice(&crc.to_le_bytes());
        }
    }

    /// An over-long varint (the channel count 3 written as `0x83 0x00`) decodes to the same
    /// blob, which re-encodes to other, shorter bytes: decode → encode is not the identity on
    /// bytes, only on blobs.
    #[test]
    fn an_over_long_varint_decodes_equal_and_re_encodes_canonically() {
        let blob = random_blob(16, 3, (4, 5), 2);
        let bytes = blob.to_bytes().unwrap();
        assert_eq!(
            bytes[PREAMBLE_LEN], 3,
            "the payload starts with the channel count"
        );
        let mut long = bytes[..PREAMBLE_LEN].to_vec();
        long.extend_from_slice(&[0x83, 0x00]);
        long.extend_from_slice(&bytes[PREAMBLE_LEN + 1..]);
        let payload = (long.len() - PREAMBLE_LEN - 4) as u32;
        long[6..10].copy_from_slice(&payload.to_le_bytes());
        fix_crc(&mut long);
        let decoded = ModelBlob::from_bytes(&long).unwrap();
        assert_eq!(decoded, blob);
        let again = decoded.to_bytes().unwrap();
        assert_ne!(again, long);
        assert_eq!(again, bytes);
        assert_eq!(ModelBlob::from_bytes(&again).unwrap(), decoded);
    }

    fn decode_both(bytes: &[u8]) {
        let owned = ModelBlob::from_bytes(bytes);
        let mut storage = ModelStorage::<3, 4, 5, 2>::new();
        let stored = storage.decode(bytes).map(|m| m.dims());
        if let Ok(blob) = &owned {
            blob.validate().unwrap();
            // Whatever decodes re-encodes to a blob that decodes equal (the bytes may differ:
            // postcard reads over-long varints, the encoder writes the shortest).
            assert_eq!(&ModelBlob::from_bytes(&blob.to_bytes().unwrap()).unwrap(), blob);
        }
        if let Ok(dims) = stored {
            assert_eq!(owned.unwrap().dims, dims);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            decode_both(&bytes);
        }

        #[test]
        fn mutated_blobs_with_valid_checksum_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            hidden in prop_oneof![Just((4usize, 5usize)), Just((0, 0))],
        ) {
            let mut bytes = random_blob(15, 3, hidden, 2).to_bytes().unwrap();
            for (at, value) in edits {
                let i = 10 + at.index(bytes.len() - 14);
                bytes[i] = value;
            }
            fix_crc(&mut bytes);
            decode_both(&bytes);
        }
    }
}

/// Format version 1 (no channel names, no front end) still decodes: the firmware example's committed
/// models were written by version 1.
#[test]
fn version_1_blobs_still_decode() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware-example/model");
    for (name, hidden) in [("nmf.vnmf", (0, 0)), ("default.vnmf", (32, 32))] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(
            u16::from_le_bytes([bytes[4], bytes[5]]),
            1,
            "{name} is a version-1 blob"
        );
        let blob = ModelBlob::from_bytes(&bytes).unwrap();
        assert!(blob.channel_names.is_empty());
        assert_eq!((blob.dims.hidden1, blob.dims.hidden2), hidden);
        // Written again it becomes the current version and reads back equal.
        let again = blob.to_bytes().unwrap();
        assert_eq!(u16::from_le_bytes([again[4], again[5]]), FORMAT_VERSION);
        assert_eq!(ModelBlob::from_bytes(&again).unwrap(), blob);
    }
    let bytes = std::fs::read(dir.join("nmf.vnmf")).unwrap();
    assert!(ModelStorage::<12, 0, 0, 4>::new().decode(&bytes).is_ok());
}

#[test]
fn channel_names_round_trip_and_are_checked() {
    let blob = random_blob(14, 3, (4, 5), 2);
    assert_eq!(blob.channel_names, ["muscle 0", "muscle 1", "muscle 2"]);
    let bytes = blob.to_bytes().unwrap();
    assert_eq!(
        ModelBlob::from_bytes(&bytes).unwrap().channel_names,
        blob.channel_names
    );
    assert!(ModelStorage::<3, 4, 5, 2>::new().decode(&bytes).is_ok());

    let mut unnamed = blob.clone();
    unnamed.channel_names.clear();
    let decoded = ModelBlob::from_bytes(&unnamed.to_bytes().unwrap()).unwrap();
    assert!(decoded.channel_names.is_empty());

    let mut short = blob.clone();
    short.channel_names.pop();
    assert_eq!(
        short.to_bytes().unwrap_err(),
        ModelError::DimensionMismatch {
            field: vaenmf_core::Field::ChannelNames,
            expected: 3,
            found: 2
        }
    );
    for bad in [
        "",
        "tab\there",
        &"x".repeat(vaenmf_core::blob::MAX_CHANNEL_NAME_LEN + 1),
    ] {
        let mut named = blob.clone();
        named.channel_names[1] = bad.to_string();
        assert_eq!(
            named.to_bytes().unwrap_err(),
            ModelError::InvalidChannelName { channel: 1 },
            "{bad:?}"
        );
    }
    // Multi-byte UTF-8 up to the byte limit is fine.
    let mut unicode = blob.clone();
    unicode.channel_names[0] = "μ".repeat(vaenmf_core::blob::MAX_CHANNEL_NAME_LEN / 2);
    assert_eq!(
        ModelBlob::from_bytes(&unicode.to_bytes().unwrap()).unwrap(),
        unicode
    );
}

/// A checksummed blob with a control character in a name is rejected by both decoders.
#[test]
fn checksummed_but_invalid_names_are_rejected_on_decode() {
    let mut blob = random_blob(15, 3, (0, 0), 2);
    blob.front_end = None;
    let mut bytes = blob.to_bytes().unwrap();
    // The last name's last byte sits just before the (empty) front end and the CRC.
    let at = bytes.len() - 6;
    assert_eq!(bytes[at], b'2');
    bytes[at] = 0x07;
    let body_len = bytes.len() - 4;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes[..body_len]);
    bytes[body_len..].copy_from_slice(&crc.to_le_bytes());
    let expected = ModelError::InvalidChannelName { channel: 2 };
    assert_eq!(ModelBlob::from_bytes(&bytes).unwrap_err(), expected);
    assert_eq!(
        ModelStorage::<3, 0, 0, 2>::new().decode(&bytes).unwrap_err(),
        expected
    );
}

/// Rewrites a current-version f32 blob with one-byte dimensions as format version 3 (the
/// same bytes without the encoding byte after the 12-byte header).
fn as_version_3(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.truncate(bytes.len() - 4);
    assert_eq!(bytes.remove(22), 0, "the encoding byte says f32");
    bytes[4..6].copy_from_slice(&3u16.to_le_bytes());
    let payload = (bytes.len() - 10) as u32;
    bytes[6..10].copy_from_slice(&payload.to_le_bytes());
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// Rewrites a current-version blob without a front end as format version 2 (version 3's
/// bytes without the trailing `None`), with its length and CRC fixed.
fn as_version_2(bytes: Vec<u8>) -> Vec<u8> {
    let mut bytes = as_version_3(bytes);
    bytes.truncate(bytes.len() - 4);
    assert_eq!(bytes.pop(), Some(0), "the front end section is `None`");
    bytes[4..6].copy_from_slice(&2u16.to_le_bytes());
    let payload = (bytes.len() - 10) as u32;
    bytes[6..10].copy_from_slice(&payload.to_le_bytes());
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

#[test]
fn version_2_blobs_still_decode() {
    for hidden in [(4, 5), (0, 0)] {
        let mut blob = random_blob(16, 3, hidden, 2);
        blob.front_end = None;
        let v2 = as_version_2(blob.to_bytes().unwrap());
        assert_eq!(ModelBlob::from_bytes(&v2).unwrap(), blob);
        assert!(ModelStorage::<3, 4, 5, 2>::new().decode(&v2).is_ok() || hidden == (0, 0));
        assert!(ModelStorage::<3, 0, 0, 2>::new().decode(&v2).is_ok() || hidden != (0, 0));
        // A version-2 blob carrying the version-3 section has trailing payload: malformed.
        let mut longer = as_version_3(blob.to_bytes().unwrap());
        longer[4..6].copy_from_slice(&2u16.to_le_bytes());
        let body = longer.len() - 4;
        let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&longer[..body]);
        longer[body..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(ModelBlob::from_bytes(&longer).unwrap_err(), ModelError::Malformed);
    }
}

#[test]
fn front_end_round_trips_and_is_checked() {
    let blob = random_blob(17, 5, (4, 5), 2);
    let front_end = blob.front_end.expect("odd channel counts get a front end");
    assert_eq!(front_end.bins(), 5);
    let bytes = blob.to_bytes().unwrap();
    assert_eq!(ModelBlob::from_bytes(&bytes).unwrap().front_end, Some(front_end));
    assert!(ModelStorage::<5, 4, 5, 2>::new().decode(&bytes).is_ok());

    type Edit = fn(&mut vaenmf_core::FrontEnd);
    let cases: [(Edit, ModelError); 7] = [
        (|f| f.sample_rate = 0, out_of_range(Field::SampleRate)),
        (|f| f.fft_size = 9, out_of_range(Field::FftSize)),
        (|f| f.fft_size = 0, out_of_range(Field::FftSize)),
        (|f| f.hop = 0, out_of_range(Field::Hop)),
        (|f| f.hop = 9, out_of_range(Field::Hop)),
        (
            |f| f.magnitude_exponent = f32::NAN,
            out_of_range(Field::MagnitudeExponent),
        ),
        (
            |f| f.fft_size = 16,
            ModelError::DimensionMismatch {
                field: Field::FftSize,
                expected: 5,
                found: 9,
            },
        ),
    ];
    for (i, (edit, expected)) in cases.into_iter().enumerate() {
        let mut bad = blob.clone();
        edit(bad.front_end.as_mut().unwrap());
        assert_eq!(bad.to_bytes().unwrap_err(), expected, "case {i}");
    }
}

/// A checksummed blob whose front end is invalid is rejected by both decoders.
#[test]
fn checksummed_but_invalid_front_end_is_rejected_on_decode() {
    let blob = random_blob(18, 3, (0, 0), 2);
    let mut bytes = blob.to_bytes().unwrap();
    // The front end ends with the exponent (f32 LE, 4 bytes) just before the CRC.
    let at = bytes.len() - 8;
    assert_eq!(&bytes[at..at + 4], &1.0f32.to_le_bytes());
    bytes[at..at + 4].copy_from_slice(&(-1.0f32).to_le_bytes());
    let body_len = bytes.len() - 4;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes[..body_len]);
    bytes[body_len..].copy_from_slice(&crc.to_le_bytes());
    let expected = out_of_range(Field::MagnitudeExponent);
    assert_eq!(ModelBlob::from_bytes(&bytes).unwrap_err(), expected);
    assert_eq!(
        ModelStorage::<3, 0, 0, 2>::new().decode(&bytes).unwrap_err(),
        expected
    );
}

fn out_of_range(field: Field) -> ModelError {
    ModelError::OutOfRange { field, index: 0 }
}
