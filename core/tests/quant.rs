//! The quantised encoder: layout, integer kernel and requantisation against independent
//! references; the typed (const-generic) path against the run-time-sized one, bit for bit; the
//! quantiser's accuracy on a model it calibrated; the blob format 4 (round trip, every
//! truncation and bit flip, each invalid field).

mod common;

use common::random_blob;
use vaenmf_core::blob::FORMAT_VERSION;
use vaenmf_core::gamma::Prng;
use vaenmf_core::quant::calibrate::{calibrate, quantize, Variant};
use vaenmf_core::quant::kernel::{dense_portable, pair_position, requantize, to_pair_order};
use vaenmf_core::quant::owned::{FirstLayerArrays, HeadsArrays, QuantizedStorage};
use vaenmf_core::{Field, ModelBlob, ModelError, ModelStorage};

#[test]
fn pair_order_is_a_permutation() {
    for (inputs, outputs) in [(10, 400), (400, 4), (17, 5), (8, 2), (3, 1), (16, 3), (1, 1)] {
        let mut seen = vec![false; inputs * outputs];
        for i in 0..inputs {
            for o in 0..outputs {
                let p = pair_position(inputs, outputs, i, o);
                assert!(p < seen.len(), "({inputs}, {outputs}) input {i} output {o} → {p}");
                assert!(!seen[p], "({inputs}, {outputs}) position {p} used twice");
                seen[p] = true;
            }
        }
    }
    // The documented byte order inside a word: w₀ w₂ w₁ w₃ of the pair's first output.
    let word: Vec<usize> = (0..4).map(|i| pair_position(16, 2, i, 0)).collect();
    assert_eq!(word, [0, 2, 1, 3]);
    assert_eq!(pair_position(16, 2, 0, 1), 8);
    assert_eq!(pair_position(16, 2, 8, 0), 16);
    // Tail inputs after the groups: a₀ b₀ a₁ b₁.
    let tail: Vec<usize> = [(8, 0), (8, 1), (9, 0), (9, 1)]
        .iter()
        .map(|&(i, o)| pair_position(10, 2, i, o))
        .collect();
    assert_eq!(tail, [16, 17, 18, 19]);
}

/// The portable kernel on pair-ordered weights against a plain loop over input-major ones.
#[test]
fn portable_kernel_matches_a_plain_dot_product() {
    let mut rng = Prng::new(3);
    for (inputs, outputs) in [(10, 400), (400, 4), (17, 5), (8, 2), (3, 1), (24, 7), (513, 3)] {
        let w: Vec<i8> = (0..inputs * outputs)
            .map(|_| (rng.uniform() * 255.0 - 127.0) as i8)
            .collect();
        let bias: Vec<i32> = (0..outputs).map(|_| (rng.uniform() * 2e6 - 1e6) as i32).collect();
        let x: Vec<i16> = (0..inputs)
            .map(|_| (rng.uniform() * 65534.0 - 32767.0) as i16)
            .collect();
        let mut packed = vec![0i8; w.len()];
        to_pair_order(inputs, outputs, &w, &mut packed);
        let mut acc = vec![0i32; outputs];
        dense_portable(&packed, &bias, &x, &mut acc);
        for o in 0..outputs {
            let expected: i64 = i64::from(bias[o])
                + (0..inputs)
                    .map(|i| i64::from(w[i * outputs + o]) * i64::from(x[i]))
                    .sum::<i64>();
            assert_eq!(i64::from(acc[o]), expected, "({inputs}, {outputs}) output {o}");
        }
    }
}

/// The x86-64 kernels, SSE2, AVX2 and AVX-512 VNNI (each where this CPU has it, else the
/// best level below), and the dispatching `quant::dense` / `dense_relu`, against the portable
/// kernel bit for bit: full-scale weights and inputs, tails of every length, odd outputs, one
/// to four pairs (AVX2 and AVX-512 take pairs four at a time), odd numbers of groups (AVX-512
/// takes them two at a time), the widest layer the kernel takes; and `false` beyond it.
#[cfg(target_arch = "x86_64")]
#[test]
fn x86_kernels_equal_the_portable_kernel() {
    use vaenmf_core::quant::kernel::requantize_relu;
    use vaenmf_core::quant::x86::{dense_at, has_avx2, Level};
    use vaenmf_core::quant::{dense, dense_relu, GROUP, MAX_GROUPS};
    println!(
        "AVX2: {}, best: {:?}",
        has_avx2(),
        vaenmf_core::quant::x86::best_level()
    );
    let mut rng = Prng::new(41);
    let widest = GROUP * MAX_GROUPS + GROUP - 1;
    let shapes = [
        (10, 400),
        (400, 400),
        (400, 4),
        (17, 5),
        (8, 2),
        (8, 4),
        (3, 1),
        (1, 7),
        (24, 7),
        (31, 6),
        // An odd number of groups (≥ 3) in four-pair blocks: AVX-512 takes groups two at a time.
        (40, 9),
        (29, 16),
        (514, 128),
        (widest, 3),
    ];
    for (inputs, outputs) in shapes {
        for extreme in [false, true] {
            let w: Vec<i8> = (0..inputs * outputs)
                .map(|_| {
                    if extreme {
                        -127
                    } else {
                        (rng.uniform() * 255.0 - 127.0) as i8
                    }
                })
                .collect();
            let bias: Vec<i32> = (0..outputs).map(|_| (rng.uniform() * 2e6 - 1e6) as i32).collect();
            let multiplier: Vec<i32> = (0..outputs).map(|_| (rng.uniform() * 2e9) as i32 + 1).collect();
            let x: Vec<i16> = (0..inputs)
                .map(|_| {
                    if extreme {
                        -32767
                    } else {
                        (rng.uniform() * 65534.0 - 32767.0) as i16
                    }
                })
                .collect();
            let mut packed = vec![0i8; w.len()];
            to_pair_order(inputs, outputs, &w, &mut packed);
            let mut want = vec![0i32; outputs];
            dense_portable(&packed, &bias, &x, &mut want);
            for level in [Level::Sse2, Level::Avx2, Level::Avx512Vnni] {
                let mut got = vec![i32::MIN; outputs];
                assert!(dense_at(level, &packed, &bias, &x, &mut got));
                assert_eq!(got, want, "{level:?} ({inputs}, {outputs}) extreme {extreme}");
            }
            let mut got = vec![i32::MIN; outputs];
            dense(&packed, &bias, &x, &mut got);
            assert_eq!(got, want, "dense ({inputs}, {outputs})");
            let mut relu = vec![-1i16; outputs];
            dense_relu(&packed, &bias, &multiplier, &x, &mut relu);
            let want_relu: Vec<i16> = want
                .iter()
                .zip(&multiplier)
                .map(|(&a, &m)| requantize_relu(a, m))
                .collect();
            assert_eq!(relu, want_relu, "dense_relu ({inputs}, {outputs})");
        }
    }
    // Wider than the input buffer, or lengths that do not match: left to the portable kernel.
    let x = vec![1i16; widest + 1];
    let mut acc = [0i32; 2];
    assert!(!dense_at(
        Level::Sse2,
        &vec![1i8; 2 * x.len()],
        &[0, 0],
        &x,
        &mut acc
    ));
    assert!(!dense_at(Level::Sse2, &[1i8; 15], &[0, 0], &[1i16; 8], &mut acc));
    assert!(!dense_at(Level::Sse2, &[1i8; 16], &[0], &[1i16; 8], &mut acc));
}

/// `requantize` against exact rational arithmetic: round(acc·m/2³²), ties up (what
/// `SMMULR` computes), including the extremes.
#[test]
fn requantize_matches_exact_rounding() {
    let reference = |acc: i32, m: i32| -> i64 {
        let p = i128::from(acc) * i128::from(m);
        ((p + (1 << 31)).div_euclid(1 << 32)) as i64
    };
    let mut rng = Prng::new(9);
    let edges = [i32::MIN + 1, i32::MAX, 0, 1, -1, 1 << 30, -(1 << 30)];
    for &acc in &edges {
        for &m in &[1, i32::MAX, 1 << 30] {
            assert_eq!(i64::from(requantize(acc, m)), reference(acc, m), "{acc} {m}");
        }
    }
    for _ in 0..100_000 {
        let acc = (rng.uniform() * 4.29e9 - 2.147e9) as i32;
        let m = (rng.uniform() * 2.147e9).max(1.0) as i32;
        assert_eq!(i64::from(requantize(acc, m)), reference(acc, m), "{acc} {m}");
    }
}

/// A random f32 model with frames that exercise it, quantised by the crate's calibrator.
fn quantized_pair(seed: u64, variant: Variant) -> (ModelBlob, ModelBlob, Vec<f32>) {
    let f32_blob = random_blob(seed, 10, (40, 32), 4);
    let mut rng = Prng::new(seed + 7);
    let frames: Vec<f32> = (0..10 * 300).map(|_| rng.uniform() as f32 * 2.0).collect();
    let ranges = calibrate(&f32_blob, &frames).unwrap();
    assert_eq!(ranges.frames, 300);
    let q = quantize(&f32_blob, &ranges, variant).unwrap();
    (f32_blob, q, frames)
}

/// The typed model (pair-ordered weights, the kernel a device runs) against the run-time-sized
/// one (input-major loops): the same bits for every frame, both variants. And the quantised
/// activations close to the f32 ones on the calibration distribution.
#[test]
fn typed_and_dynamic_quantized_encoders_agree_bit_for_bit() {
    for variant in [Variant::FullInt8, Variant::Hybrid] {
        let (f32_blob, q, frames) = quantized_pair(21, variant);
        assert_eq!(
            q.quantized.as_ref().unwrap().is_hybrid(),
            variant == Variant::Hybrid
        );
        let storage = QuantizedStorage::<10, 40, 32, 4>::from_blob(&q).unwrap();
        let model = storage.model().unwrap();
        let (mut worst, mut x) = (0.0f32, [0.0f32; 10]);
        for raw in frames.chunks(10) {
            let raw: [f32; 10] = raw.try_into().unwrap();
            let typed = model.encode(&raw).unwrap();
            q.scale_input(&raw, &mut x).unwrap();
            let dynamic = q.encode_scaled(&x).unwrap().unwrap();
            for k in 0..4 {
                assert_eq!(
                    typed.alpha[k].to_bits(),
                    dynamic.alpha[k].to_bits(),
                    "{variant:?}"
                );
                assert_eq!(typed.beta[k].to_bits(), dynamic.beta[k].to_bits(), "{variant:?}");
            }
            let exact = f32_blob.posterior_mean(&x).unwrap().unwrap();
            let approx = typed.mean();
            let norm = exact.iter().map(|v| v * v).sum::<f32>().sqrt();
            let err = exact
                .iter()
                .zip(&approx)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                .sqrt();
            worst = worst.max(err / norm);
        }
        assert!(
            worst < 0.02,
            "{variant:?}: worst relative activation error {worst}"
        );
    }
}

#[test]
fn quantized_blobs_round_trip_and_shrink() {
    for variant in [Variant::FullInt8, Variant::Hybrid] {
        let (f32_blob, q, _) = quantized_pair(22, variant);
        let bytes = q.to_bytes().unwrap();
        assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), FORMAT_VERSION);
        assert_eq!(ModelBlob::from_bytes(&bytes).unwrap(), q);
        assert!(q.has_encoder() && q.encoder.is_none());
        let full = f32_blob.to_bytes().unwrap().len();
        // The hybrid keeps the first layer and the heads in f32: a smaller saving.
        let limit = if variant == Variant::Hybrid {
            full * 3 / 4
        } else {
            full / 2
        };
        assert!(
            bytes.len() < limit,
            "{variant:?}: {} vs f32 {full} bytes",
            bytes.len()
        );
        // ModelStorage holds f32 encoders only and says so.
        assert_eq!(
            ModelStorage::<10, 40, 32, 4>::new().decode(&bytes).unwrap_err(),
            ModelError::QuantizedEncoder
        );
    }
}

#[test]
fn every_truncation_and_bit_flip_of_a_quantized_blob_is_rejected() {
    let (_, q, _) = quantized_pair(23, Variant::FullInt8);
    let bytes = q.to_bytes().unwrap();
    for len in 0..bytes.len() {
        let err = ModelBlob::from_bytes(&bytes[..len]).unwrap_err();
        assert!(
            matches!(err, ModelError::Truncated { .. }),
            "length {len}: {err:?}"
        );
    }
    for bit in 0..bytes.len() * 8 {
        let mut bad = bytes.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(ModelBlob::from_bytes(&bad).is_err(), "bit {bit} accepted");
    }
}

fn first(b: &mut ModelBlob) -> &mut vaenmf_core::quant::owned::HiddenArrays {
    match &mut b.quantized.as_mut().unwrap().layer1 {
        FirstLayerArrays::Int8 { layer, .. } => layer,
        FirstLayerArrays::Float { .. } => unreachable!(),
    }
}

/// Each invalid quantised field is refused at encode time, with the field named.
#[test]
fn invalid_quantized_fields_are_named() {
    let (_, q, _) = quantized_pair(24, Variant::FullInt8);
    let check = |edit: &dyn Fn(&mut ModelBlob), expected: ModelError| {
        let mut bad = q.clone();
        edit(&mut bad);
        assert_eq!(bad.to_bytes().unwrap_err(), expected);
        assert!(!expected.to_string().is_empty());
    };
    let range = |field| ModelError::OutOfRange { field, index: 0 };
    check(&|b| first(b).weights[0] = -128, range(Field::Layer1Weights));
    check(&|b| first(b).multiplier[0] = 0, range(Field::Layer1Multiplier));
    check(
        &|b| b.quantized.as_mut().unwrap().layer2.bias[0] = i32::MAX,
        ModelError::AccumulatorRange {
            field: Field::Layer2Bias,
        },
    );
    check(
        &|b| {
            b.quantized.as_mut().unwrap().layer2.multiplier.pop();
        },
        ModelError::DimensionMismatch {
            field: Field::Layer2Multiplier,
            expected: 32,
            found: 31,
        },
    );
    check(
        &|b| {
            if let FirstLayerArrays::Int8 { input_step, .. } = &mut b.quantized.as_mut().unwrap().layer1 {
                *input_step = f32::NAN;
            }
        },
        range(Field::InputStep),
    );
    check(
        &|b| {
            if let HeadsArrays::Int8 { beta, .. } = &mut b.quantized.as_mut().unwrap().heads {
                beta.output_scale[0] = 0.0;
            }
        },
        range(Field::BetaHeadScale),
    );
    // Both encoders at once, or a quantised one without hidden layers.
    let (f32_blob, _, _) = quantized_pair(24, Variant::FullInt8);
    check(
        &|b| b.encoder = f32_blob.encoder.clone(),
        ModelError::EncoderPresence { present: true },
    );
}

/// An unknown encoding byte, and a quantised encoding on an NMF-only model, are refused on
/// decode even with a valid checksum.
#[test]
fn checksummed_but_invalid_encoding_is_rejected() {
    let fix = |bytes: &mut Vec<u8>| {
        let body = bytes.len() - 4;
        let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
    };
    // Header of one-byte dimensions: 4 varints + 2 f32 = 12 bytes after the 10-byte preamble.
    let mut bytes = random_blob(25, 3, (4, 5), 2).to_bytes().unwrap();
    bytes[22] = 2;
    fix(&mut bytes);
    assert_eq!(
        ModelBlob::from_bytes(&bytes).unwrap_err(),
        ModelError::OutOfRange {
            field: Field::Encoding,
            index: 0
        }
    );
    let mut nmf = random_blob(25, 3, (0, 0), 2).to_bytes().unwrap();
    nmf[22] = 1;
    fix(&mut nmf);
    assert_eq!(
        ModelBlob::from_bytes(&nmf).unwrap_err(),
        ModelError::EncoderPresence { present: true }
    );
}

/// A unit whose weights training drove to (almost) zero but whose bias it kept — a constant
/// feature — must keep its bias: its weight scale is raised so the bias fits the accumulator,
/// instead of the bias being clipped (which silenced such units in the first version).
#[test]
fn a_unit_with_vanishing_weights_keeps_its_bias() {
    // The unit is in the 400-input second layer, where the accumulator leaves a bias the least
    // room; the heads read it with weight 0.5.
    let mut f32_blob = random_blob(26, 10, (400, 8), 4);
    {
        let enc = f32_blob.encoder.as_mut().unwrap();
        for i in 0..400 {
            enc.layer2_weights[i * 8] = 1e-9;
        }
        enc.layer2_bias[0] = 2.0;
        for k in 0..4 {
            enc.alpha_head_weights[k] = 0.5;
            enc.beta_head_weights[k] = -0.5;
        }
    }
    let mut rng = Prng::new(27);
    let frames: Vec<f32> = (0..10 * 300).map(|_| rng.uniform() as f32 * 2.0).collect();
    let ranges = calibrate(&f32_blob, &frames).unwrap();
    let q = quantize(&f32_blob, &ranges, Variant::FullInt8).unwrap();
    let (mut err, mut norm, mut x) = (0.0f64, 0.0f64, [0.0f32; 10]);
    for raw in frames.chunks(10) {
        q.scale_input(raw, &mut x).unwrap();
        let exact = f32_blob.posterior_mean(&x).unwrap().unwrap();
        let approx = q.posterior_mean(&x).unwrap().unwrap();
        for (a, b) in exact.iter().zip(&approx) {
            err += f64::from(a - b).powi(2);
            norm += f64::from(*a).powi(2);
        }
    }
    let relative = (err / norm).sqrt();
    assert!(relative < 0.02, "activation error {relative}");
    let layer2 = &q.quantized.as_ref().unwrap().layer2;
    assert!(
        layer2.multiplier.iter().all(|&m| m >= 1 << 16),
        "{:?}",
        layer2.multiplier
    );
}

/// The hand-rounded input quantisation of the speech networks gives `round(v · inverse)`
/// (half away from zero, as `roundf`) clamped to ±max, for ties, near-ties, the clamp, NaN and
/// a sweep of values.
#[test]
fn quantize_within_is_roundf_then_clamp() {
    use vaenmf_core::quant::kernel::quantize_within;
    let reference = |v: f32, inverse: f32, max: i16| {
        let m = f32::from(max);
        (v * inverse).round().clamp(-m, m) as i16
    };
    let mut values = vec![
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        -2.5,
        0.499_999_97,
        -0.499_999_97,
        0.500_000_06,
        32766.5,
        -32766.5,
        19712.5,
        19713.5,
        1e9,
        -1e9,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
    ];
    let mut rng = Prng::new(17);
    values.extend((0..100_000).map(|_| (rng.uniform() as f32 - 0.5) * 80_000.0));
    values.extend((0..100_000).map(|k| k as f32 * 0.25 - 12_500.0));
    for max in [32767, 19713, 100, 1] {
        for &v in &values {
            for inverse in [1.0, 0.37, 3.0] {
                assert_eq!(
                    quantize_within(v, inverse, max),
                    reference(v, inverse, max),
                    "{v} × {inverse}, max {max}"
                );
            }
        }
        assert_eq!(quantize_within(f32::NAN, 1.0, max), 0);
    }
}
