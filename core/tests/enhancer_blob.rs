//! The speech enhancer file (blob format 6): exact round trips for every method, format 5
//! still read (no gain floor), every truncation and single bit flip rejected, the two blob
//! kinds refusing each other, each invalid part named on encode and on decode, and the
//! network's gain against an f64 reference computed here.

use vaenmf_core::blob::{peek_header, ENHANCER_FORMAT_VERSION, PREAMBLE_LEN};
use vaenmf_core::front_end::Window;
use vaenmf_core::speech::{EnhancerBlob, EnhancerMethod, OwnedGainScratch, RandomEnhancerSizes};
use vaenmf_core::{Dims, Field, FrontEnd, ModelBlob, ModelError};

const METHODS: [EnhancerMethod; 7] = [
    EnhancerMethod::Nmf,
    EnhancerMethod::Dnmf,
    EnhancerMethod::Dnn,
    EnhancerMethod::VaeNmf,
    EnhancerMethod::NmfDictNet,
    EnhancerMethod::VaeDictMu,
    EnhancerMethod::VaeNmfE2e,
];

/// 9 bins: small enough to flip every bit.
fn front_end() -> FrontEnd {
    FrontEnd {
        sample_rate: 8000,
        fft_size: 16,
        hop: 4,
        window: Window::Hann,
        magnitude_exponent: 1.0,
    }
}

fn random(method: EnhancerMethod, seed: u64) -> EnhancerBlob {
    let sizes = RandomEnhancerSizes {
        ranks: (3, 2),
        hidden: &[6],
        context: (1, 1),
    };
    EnhancerBlob::random(method, front_end(), sizes, seed)
}

/// Recomputes the preamble's length and the CRC after an edit of the payload.
fn reseal(bytes: &mut [u8]) {
    let payload = (bytes.len() - PREAMBLE_LEN - 4) as u32;
    bytes[6..10].copy_from_slice(&payload.to_le_bytes());
    let body = bytes.len() - 4;
    let crc = vaenmf_core::blob::checksum(&[&bytes[..body]]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn every_method_round_trips_exactly() {
    for (i, method) in METHODS.into_iter().enumerate() {
        let mut blob = random(method, i as u64);
        blob.gain_floor = 0.05 * i as f32;
        let bytes = blob.to_bytes().unwrap();
        assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), ENHANCER_FORMAT_VERSION);
        assert_eq!(
            EnhancerBlob::from_bytes(&bytes).unwrap(),
            blob,
            "{}",
            method.name()
        );
        assert_eq!(method.has_network(), blob.network.is_some());
        assert_eq!(method.has_fit(), blob.fit.is_some());
    }
}

/// A format-5 file (the struct without the floor after it) reads as the same enhancer with
/// no floor, a format-6 file (the struct and the floor) with no quantised network; the same
/// payloads declared as a newer format lack their tail.
#[test]
fn formats_5_and_6_are_read_with_no_gain_floor_and_no_quantised_network() {
    let mut blob = random(EnhancerMethod::VaeNmf, 4);
    blob.gain_floor = 0.25;
    let v7 = blob.to_bytes().unwrap();
    let older = |version: u16, floor: bool| {
        let mut bytes = v7[..PREAMBLE_LEN].to_vec();
        bytes[4..6].copy_from_slice(&version.to_le_bytes());
        bytes = postcard::to_extend(&blob, bytes).unwrap();
        if floor {
            bytes = postcard::to_extend(&blob.gain_floor, bytes).unwrap();
        }
        bytes.extend_from_slice(&[0; 4]);
        reseal(&mut bytes);
        bytes
    };
    let (v5, v6) = (older(5, false), older(6, true));
    assert_eq!(v5.len(), v6.len() - 4, "the floor is the f32 after the struct");
    assert_eq!(
        v6.len(),
        v7.len() - 1,
        "no quantised network is one byte after it"
    );
    let read = EnhancerBlob::from_bytes(&v5).unwrap();
    assert_eq!(read.gain_floor, 0.0);
    assert_eq!(
        EnhancerBlob {
            gain_floor: 0.25,
            ..read
        },
        blob
    );
    assert_eq!(EnhancerBlob::from_bytes(&v6).unwrap(), blob);
    for (bytes, newer) in [(&v5, 6u16), (&v6, ENHANCER_FORMAT_VERSION)] {
        let mut short = bytes.clone();
        short[4..6].copy_from_slice(&newer.to_le_bytes());
        reseal(&mut short);
        assert_eq!(
            EnhancerBlob::from_bytes(&short).unwrap_err(),
            ModelError::Malformed
        );
    }
}

#[test]
fn every_truncation_and_every_bit_flip_is_rejected() {
    for method in [EnhancerMethod::Dnmf, EnhancerMethod::VaeNmf] {
        let bytes = random(method, 3).to_bytes().unwrap();
        for cut in 0..bytes.len() {
            assert!(EnhancerBlob::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for bit in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let err = EnhancerBlob::from_bytes(&bad).unwrap_err();
            assert!(!err.to_string().is_empty());
        }
    }
}

#[test]
fn models_and_enhancers_refuse_each_other() {
    let enhancer = random(EnhancerMethod::Nmf, 1).to_bytes().unwrap();
    let expected = ModelError::BlobKind { enhancer: true };
    assert_eq!(ModelBlob::from_bytes(&enhancer).unwrap_err(), expected);
    assert_eq!(peek_header(&enhancer).unwrap_err(), expected);
    let model = ModelBlob::random(
        Dims {
            channels: 9,
            hidden1: 0,
            hidden2: 0,
            rank: 2,
        },
        1,
    )
    .to_bytes()
    .unwrap();
    assert_eq!(
        EnhancerBlob::from_bytes(&model).unwrap_err(),
        ModelError::BlobKind { enhancer: false }
    );
    assert!(ModelError::BlobKind { enhancer: true }
        .to_string()
        .contains("speech enhancer"));
}

/// Each invalid part is refused with its field, when encoding and when decoding a blob
/// whose checksum is right.
#[test]
fn invalid_parts_are_named_on_encode_and_on_decode() {
    type Edit = fn(&mut EnhancerBlob);
    let cases: [(EnhancerMethod, Edit, ModelError); 12] = [
        (
            EnhancerMethod::Nmf,
            |b| b.analysis[11] = -1.0,
            ModelError::NegativeDictionary {
                channel: 2,
                synergy: 1,
            },
        ),
        (
            EnhancerMethod::Dnmf,
            |b| b.reconstruction[0] = f32::NAN,
            ModelError::NonFinite {
                field: Field::ReconstructionDictionary,
                index: 0,
            },
        ),
        (
            EnhancerMethod::Nmf,
            |b| b.speech_rank = 0,
            ModelError::OutOfRange {
                field: Field::SpeechRank,
                index: 0,
            },
        ),
        (
            EnhancerMethod::Dnn,
            |b| b.fit = random(EnhancerMethod::Nmf, 0).fit,
            ModelError::PartPresence {
                field: Field::Iterations,
                present: true,
            },
        ),
        (
            EnhancerMethod::VaeNmf,
            |b| b.network = None,
            ModelError::PartPresence {
                field: Field::Network,
                present: false,
            },
        ),
        (
            EnhancerMethod::VaeNmf,
            |b| b.network.as_mut().unwrap().std[4] = 0.0,
            ModelError::OutOfRange {
                field: Field::FeatureStd,
                index: 4,
            },
        ),
        (
            EnhancerMethod::NmfDictNet,
            |b| b.network.as_mut().unwrap().layers[1].weights[2] = f32::INFINITY,
            // Layer 0 holds 27 × 6 weights before it.
            ModelError::NonFinite {
                field: Field::LayerWeights,
                index: 27 * 6 + 2,
            },
        ),
        (
            EnhancerMethod::Dnn,
            |b| b.network.as_mut().unwrap().context_after = 33,
            ModelError::OutOfRange {
                field: Field::Context,
                index: 1,
            },
        ),
        (
            EnhancerMethod::VaeNmf,
            |b| {
                b.network
                    .as_mut()
                    .unwrap()
                    .output_scale
                    .pop()
                    .map(drop)
                    .unwrap_or(())
            },
            ModelError::DimensionMismatch {
                field: Field::OutputScale,
                expected: 5,
                found: 4,
            },
        ),
        (
            EnhancerMethod::Nmf,
            |b| b.gain_exponent = 0.0,
            ModelError::OutOfRange {
                field: Field::GainExponent,
                index: 0,
            },
        ),
        (
            EnhancerMethod::Dnn,
            |b| b.gain_floor = 1.5,
            ModelError::OutOfRange {
                field: Field::GainFloor,
                index: 0,
            },
        ),
        (
            EnhancerMethod::VaeNmf,
            |b| b.gain_floor = f32::NAN,
            ModelError::OutOfRange {
                field: Field::GainFloor,
                index: 0,
            },
        ),
    ];
    for (method, edit, expected) in cases {
        let mut blob = random(method, 9);
        let good = blob.to_bytes().unwrap();
        edit(&mut blob);
        assert_eq!(blob.to_bytes().unwrap_err(), expected, "{}", method.name());
        // The same blob written without validation: the decoder finds the same error.
        let mut bytes = good[..PREAMBLE_LEN].to_vec();
        bytes = postcard::to_extend(&blob, bytes).unwrap();
        bytes = postcard::to_extend(&blob.gain_floor, bytes).unwrap();
        bytes = postcard::to_extend(&blob.quantized, bytes).unwrap();
        bytes.extend_from_slice(&[0; 4]);
        reseal(&mut bytes);
        assert_eq!(EnhancerBlob::from_bytes(&bytes).unwrap_err(), expected);
        assert!(!expected.to_string().is_empty());
    }
}

fn softplus(x: f64) -> f64 {
    x.exp().ln_1p()
}

/// The network in f64, straight from the definitions: features, ReLU layers, the output.
fn reference_gain(blob: &EnhancerBlob, frames: &[Vec<f32>], t: usize) -> Vec<f64> {
    let net = blob.network.as_ref().unwrap();
    let bins = blob.bins() as usize;
    let (before, after) = (net.context_before as usize, net.context_after as usize);
    let mut x = Vec::new();
    for offset in 0..=before + after {
        let s = (t + offset).saturating_sub(before).min(frames.len() - 1);
        x.extend(
            frames[s]
                .iter()
                .map(|&v| (f64::from(v) / f64::from(net.reference)).ln_1p()),
        );
    }
    for (i, v) in x.iter_mut().enumerate() {
        *v = (*v - f64::from(net.mean[i])) / f64::from(net.std[i]);
    }
    for (l, layer) in net.layers.iter().enumerate() {
        let outputs = layer.outputs as usize;
        let mut y: Vec<f64> = layer.bias.iter().map(|&b| f64::from(b)).collect();
        for (i, &xi) in x.iter().enumerate() {
            for (o, yo) in y.iter_mut().enumerate() {
                *yo += f64::from(layer.weights[i * outputs + o]) * xi;
            }
        }
        if l + 1 < net.layers.len() {
            y.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        x = y;
    }
    if blob.method == EnhancerMethod::Dnn {
        return (0..bins)
            .map(|k| {
                let (s, n) = (softplus(x[k]), softplus(x[bins + k]));
                s / (s + n)
            })
            .collect();
    }
    let h: Vec<f64> = x
        .iter()
        .zip(&net.output_scale)
        .map(|(&v, &c)| softplus(v) * f64::from(c))
        .collect();
    let rs = blob.speech_rank as usize;
    (0..bins)
        .map(|k| {
            let part = |range: std::ops::Range<usize>| -> f64 {
                range.map(|j| f64::from(blob.analysis[j * bins + k]) * h[j]).sum()
            };
            let (s, n) = (part(0..rs), part(rs..h.len()));
            let p = f64::from(blob.gain_exponent);
            s.powf(p) / (s.powf(p) + n.powf(p))
        })
        .collect()
}

#[test]
fn network_gain_matches_an_f64_reference() {
    let frames: Vec<Vec<f32>> = (0..4)
        .map(|t| {
            (0..9)
                .map(|k| ((t * 9 + k) as f32 * 0.37).sin().abs() * 3.0)
                .collect()
        })
        .collect();
    // `fast-math` swaps libm's exp/ln in the softplus for micromath's approximations.
    let tolerance = if cfg!(feature = "fast-math") { 2e-3 } else { 1e-5 };
    for method in [EnhancerMethod::Dnn, EnhancerMethod::VaeNmf] {
        let mut blob = random(method, 5);
        blob.network.as_mut().unwrap().reference = 0.7;
        blob.validate().unwrap();
        let layers = blob.layer_views();
        let net = blob.network_gain(&layers).unwrap();
        let f = net.features;
        let mut compressed = vec![0.0; frames.len() * 9];
        for (frame, out) in frames.iter().zip(compressed.chunks_exact_mut(9)) {
            f.compress(frame, out);
        }
        let mut scratch = OwnedGainScratch::for_network(&net);
        let mut input = vec![0.0; f.width()];
        let mut gain = vec![0.0; 9];
        for t in 0..frames.len() {
            f.stack(&compressed, frames.len(), t, &mut input);
            net.gain(&input, &mut scratch.borrow(), &mut gain);
            let reference = reference_gain(&blob, &frames, t);
            for (k, (&g, &r)) in gain.iter().zip(&reference).enumerate() {
                assert!((0.0..=1.0).contains(&g));
                assert!(
                    (f64::from(g) - r).abs() < tolerance,
                    "{} frame {t} bin {k}: {g} vs {r}",
                    method.name()
                );
            }
        }
    }
}
