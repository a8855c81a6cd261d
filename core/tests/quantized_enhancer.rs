//! Quantised enhancer networks: the int8 forward pass is exactly the integer arithmetic of
//! its definition, its gains follow the f32 network's, the file round-trips and every broken
//! part is named.

use vaenmf_core::blob::PREAMBLE_LEN;
use vaenmf_core::front_end::Window;
use vaenmf_core::gamma::Prng;
use vaenmf_core::quant::calibrate::QuantizeError;
use vaenmf_core::quant::kernel::pair_position;
use vaenmf_core::speech::quant_network::padded;
use vaenmf_core::speech::quantized_network::{calibrate, first_input_max, quantize};
use vaenmf_core::speech::{
    EnhancerBlob, EnhancerMethod, NetworkLayers, OwnedGainScratch, QuantizedNetwork, RandomEnhancerSizes,
    BINS, FFT_SIZE,
};
use vaenmf_core::{Field, FrontEnd, ModelError};

fn front_end() -> FrontEnd {
    FrontEnd {
        sample_rate: 16_000,
        fft_size: FFT_SIZE as u32,
        hop: 128,
        window: Window::Hamming,
        magnitude_exponent: 1.0,
    }
}

fn random(method: EnhancerMethod, hidden: &[u32], seed: u64) -> EnhancerBlob {
    let sizes = RandomEnhancerSizes {
        ranks: (6, 4),
        hidden,
        context: (1, 1),
    };
    EnhancerBlob::random(method, front_end(), sizes, seed)
}

/// Standardised-looking inputs: roughly unit normal, a few larger values.
fn inputs(width: usize, frames: usize, seed: u64) -> Vec<f32> {
    let mut rng = Prng::new(seed);
    (0..width * frames)
        .map(|_| {
            let u = rng.uniform() as f32;
            let v = rng.uniform() as f32;
            (u - 0.5) * 3.0 + if v > 0.99 { 4.0 } else { 0.0 }
        })
        .collect()
}

fn quantized(blob: &EnhancerBlob, calibration: &[f32]) -> EnhancerBlob {
    let ranges = calibrate(blob, calibration).unwrap();
    quantize(blob, &ranges).unwrap()
}

fn width(blob: &EnhancerBlob) -> usize {
    blob.network.as_ref().unwrap().width(blob.bins()) as usize
}

/// The network's last-layer outputs straight from the definitions, in i64: inputs rounded
/// half away from zero and clamped to ±input_max, `acc = bias + Σ w·x` with each weight read
/// through its pair-order position, `round(acc · m / 2³²)` clamped to 0 ..= 32767 between
/// layers, `acc · scale` at the end.
fn reference(q: &QuantizedNetwork, x: &[f32]) -> Vec<f32> {
    let max = f64::from(q.input_max);
    let inverse = 1.0 / q.input_step;
    let mut h: Vec<i64> = x
        .iter()
        .map(|&v| (f64::from(v * inverse)).round().clamp(-max, max) as i64)
        .collect();
    let last = q.layers.len() - 1;
    for (k, l) in q.layers.iter().enumerate() {
        let (inputs, outputs) = (padded(l.inputs as usize), l.outputs as usize);
        h.resize(inputs, 0);
        let acc: Vec<i64> = (0..outputs)
            .map(|o| {
                i64::from(l.bias[o])
                    + (0..inputs)
                        .map(|i| i64::from(l.weights[pair_position(inputs, outputs, i, o)]) * h[i])
                        .sum::<i64>()
            })
            .collect();
        if k == last {
            return acc
                .iter()
                .zip(&l.output_scale)
                .map(|(&a, &s)| a as f32 * s)
                .collect();
        }
        h = acc
            .iter()
            .zip(&l.multiplier)
            .map(|(&a, &m)| ((i128::from(a) * i128::from(m) + (1 << 31)) >> 32).clamp(0, 32767) as i64)
            .collect();
    }
    unreachable!("a network has a last layer")
}

#[test]
fn the_int8_network_is_the_integer_arithmetic_of_its_definition() {
    for (method, hidden) in [
        (EnhancerMethod::VaeNmf, &[24u32, 10][..]),
        (EnhancerMethod::Dnn, &[17][..]),
    ] {
        let blob = random(method, hidden, 3);
        let w = width(&blob);
        let q = quantized(&blob, &inputs(w, 40, 1));
        let net = q.quantized.as_ref().unwrap();
        let views = net.layer_views();
        let view = net.view(&views);
        let (int, outputs) = (view.int_len(w), view.outputs());
        let (mut ints, mut acc, mut out) = (vec![0i16; int], vec![0i32; outputs], vec![0f32; outputs]);
        let mut test = inputs(w, 8, 2);
        // A frame far beyond the calibration's range: its inputs clamp.
        test[..w].iter_mut().for_each(|v| *v *= 4.0);
        for x in test.chunks_exact(w) {
            assert_eq!(view.forward(x, &mut ints, &mut acc, &mut out), outputs);
            let expected = reference(net, x);
            assert!(
                out.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{}",
                method.name()
            );
        }
        // A scratch too short gives zeros, not a panic.
        assert_eq!(
            view.forward(&test[..w], &mut ints[..int - 1], &mut acc, &mut out),
            0
        );
    }
}

/// Gains of the int8 network against the f32 one on frames like the calibration's: close,
/// and not equal (the quantisation is really used).
#[test]
fn int8_gains_follow_the_f32_gains() {
    for method in [EnhancerMethod::VaeNmf, EnhancerMethod::Dnn] {
        let blob = random(method, &[32, 32], 5);
        let w = width(&blob);
        let q = quantized(&blob, &inputs(w, 200, 6));
        let (fv, qv) = (blob.layer_views(), q.layer_views());
        let (f, g) = (blob.network_gain(&fv).unwrap(), q.network_gain(&qv).unwrap());
        assert!(matches!(g.layers, NetworkLayers::Int8(_)));
        assert_eq!(
            g.layers.macs(),
            (padded(w) * 32 + 32 * 32 + 32 * g.layers.outputs()) as u64
        );
        let (mut fs, mut gs) = (
            OwnedGainScratch::for_network(&f),
            OwnedGainScratch::for_network(&g),
        );
        let (mut worst, mut sum, mut n, mut differ) = (0.0f32, 0.0f32, 0, false);
        for x in inputs(w, 50, 7).chunks_exact(w) {
            let (mut a, mut b) = ([0.0; BINS], [0.0; BINS]);
            f.gain(x, &mut fs.borrow(), &mut a);
            g.gain(x, &mut gs.borrow(), &mut b);
            for (a, b) in a.iter().zip(&b) {
                worst = worst.max((a - b).abs());
                sum += (a - b).abs();
                n += 1;
                differ |= a != b;
            }
        }
        let mean = sum / n as f32;
        assert!(differ, "{}", method.name());
        assert!(
            mean < 0.01 && worst < 0.1,
            "{}: mean {mean}, worst {worst}",
            method.name()
        );
    }
}

#[test]
fn the_first_layer_input_range_keeps_the_accumulators_in_range() {
    // 771 inputs padded to 772: full-scale int16 inputs could overflow i32.
    let m = first_input_max(772);
    assert!(u64::from(m) * 127 * 772 <= i32::MAX as u64 / 8 * 7 && m < 32767);
    assert_eq!(first_input_max(128), 32767);
    let blob = random(EnhancerMethod::VaeNmf, &[12], 8);
    let calibration = inputs(width(&blob), 30, 9);
    let ranges = calibrate(&blob, &calibration).unwrap();
    let largest = calibration.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert_eq!((ranges.input, ranges.frames), (largest, 30));
    let q = quantize(&blob, &ranges).unwrap();
    assert_eq!(q.quantized.as_ref().unwrap().input_max, m);
}

#[test]
fn a_quantised_enhancer_round_trips_and_every_broken_part_is_named() {
    let blob = random(EnhancerMethod::NmfDictNet, &[10], 11);
    let q = quantized(&blob, &inputs(width(&blob), 20, 12));
    assert!(q.network.as_ref().unwrap().layers.is_empty());
    let bytes = q.to_bytes().unwrap();
    assert_eq!(EnhancerBlob::from_bytes(&bytes).unwrap(), q);
    for cut in PREAMBLE_LEN..bytes.len() {
        assert!(EnhancerBlob::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    type Edit = fn(&mut EnhancerBlob);
    let edits: Vec<(Edit, ModelError)> = vec![
        (
            |b| b.quantized.as_mut().unwrap().layers[0].weights[5] = -128,
            ModelError::OutOfRange {
                field: Field::QuantizedWeights,
                index: 5,
            },
        ),
        (
            |b| b.quantized.as_mut().unwrap().layers[0].multiplier[2] = 0,
            ModelError::OutOfRange {
                field: Field::QuantizedMultiplier,
                index: 2,
            },
        ),
        (
            |b| b.quantized.as_mut().unwrap().layers[1].output_scale[0] = f32::NAN,
            ModelError::OutOfRange {
                field: Field::QuantizedScale,
                index: 0,
            },
        ),
        (
            |b| b.quantized.as_mut().unwrap().input_max = 32767,
            ModelError::AccumulatorRange {
                field: Field::QuantizedBias,
            },
        ),
        (
            |b| b.quantized.as_mut().unwrap().input_step = 0.0,
            ModelError::OutOfRange {
                field: Field::InputStep,
                index: 0,
            },
        ),
        (
            |b| {
                b.quantized.as_mut().unwrap().layers[1].weights.pop();
            },
            ModelError::DimensionMismatch {
                field: Field::QuantizedWeights,
                expected: 100,
                found: 99,
            },
        ),
        (
            |b| {
                b.network.as_mut().unwrap().layers = random(EnhancerMethod::NmfDictNet, &[10], 1)
                    .network
                    .unwrap()
                    .layers
            },
            ModelError::OutOfRange {
                field: Field::Layers,
                index: 2,
            },
        ),
    ];
    for (edit, expected) in edits {
        let mut broken = q.clone();
        edit(&mut broken);
        assert_eq!(broken.to_bytes().unwrap_err(), expected);
    }
    // Nothing to quantise: a quantised enhancer, or one without a network.
    let ranges = calibrate(&blob, &inputs(width(&blob), 2, 1)).unwrap();
    assert_eq!(quantize(&q, &ranges).unwrap_err(), QuantizeError::NoNetwork);
    let nmf = random(EnhancerMethod::Nmf, &[], 1);
    assert_eq!(calibrate(&nmf, &[0.0; 10]).unwrap_err(), QuantizeError::NoNetwork);
}
