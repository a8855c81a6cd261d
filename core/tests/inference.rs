//! Encoder forward against a straightforward f64 reference, and the streaming tracker.

mod common;

use common::random_blob;
use vaenmf_core::gamma::Prng;
use vaenmf_core::{reconstruct, vaf, InputError, ModelBlob, ModelStorage, NnlsSolver, SynergyTracker};

const M: usize = 6;
// Panels of 8 outputs: H1 gives two full panels and a narrow one, H2 one full and one narrow.
const H1: usize = 20;
const H2: usize = 11;
const R: usize = 3;

/// The encoder written the obvious way, in f64, from the owned blob.
fn reference_posterior(blob: &ModelBlob, raw: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let enc = blob.encoder.as_ref().unwrap();
    let dense = |w: &[f32], b: &[f32], x: &[f64]| -> Vec<f64> {
        b.iter()
            .enumerate()
            .map(|(o, &bo)| {
                f64::from(bo)
                    + x.iter()
                        .enumerate()
                        .map(|(i, &xi)| f64::from(w[i * b.len() + o]) * xi)
                        .sum::<f64>()
            })
            .collect()
    };
    let relu = |v: Vec<f64>| v.into_iter().map(|x| x.max(0.0)).collect::<Vec<_>>();
    let softplus = |x: f64| (1.0 + x.exp()).ln();
    let x: Vec<f64> = raw
        .iter()
        .zip(&blob.input_offset)
        .zip(&blob.input_scale)
        .map(|((&v, &o), &s)| (f64::from(v) - f64::from(o)) * f64::from(s))
        .collect();
    let h1 = relu(dense(&enc.layer1_weights, &enc.layer1_bias, &x));
    let h2 = relu(dense(&enc.layer2_weights, &enc.layer2_bias, &h1));
    let floor = f64::from(blob.floor);
    let alpha = dense(&enc.alpha_head_weights, &enc.alpha_head_bias, &h2)
        .into_iter()
        .map(|a| softplus(a) + floor)
        .collect();
    let beta = dense(&enc.beta_head_weights, &enc.beta_head_bias, &h2)
        .into_iter()
        .map(|b| softplus(b) + floor)
        .collect();
    (alpha, beta)
}

#[test]
fn encoder_matches_reference_implementation() {
    let blob = random_blob(21, M, (H1, H2), R);
    let mut storage = ModelStorage::<M, H1, H2, R>::new();
    let model = storage.decode(&blob.to_bytes().unwrap()).unwrap();
    // `fast-math` swaps libm's exp/ln for micromath's approximations in the heads.
    let tol = if cfg!(feature = "fast-math") { 2e-3 } else { 1e-5 };
    let mut rng = Prng::new(3);
    for _ in 0..500 {
        let raw: [f32; M] = core::array::from_fn(|_| 3.0 * rng.uniform() as f32);
        let post = model.encode(&raw).unwrap();
        let (alpha, beta) = reference_posterior(&blob, &raw);
        for k in 0..R {
            let rel = |a: f32, b: f64| ((f64::from(a) - b) / b).abs();
            assert!(
                rel(post.alpha[k], alpha[k]) < tol,
                "alpha {} vs {}",
                post.alpha[k],
                alpha[k]
            );
            assert!(
                rel(post.beta[k], beta[k]) < tol,
                "beta {} vs {}",
                post.beta[k],
                beta[k]
            );
            assert!(rel(post.mean()[k], alpha[k] / beta[k]) < 2.0 * tol);
            assert!(rel(post.variance()[k], alpha[k] / (beta[k] * beta[k])) < 3.0 * tol);
        }
    }
}

#[test]
fn nmf_only_model_has_no_posterior() {
    let blob = random_blob(22, M, (0, 0), R);
    let mut storage = ModelStorage::<M, 0, 0, R>::new();
    let model = storage.decode(&blob.to_bytes().unwrap()).unwrap();
    assert!(model.encode(&[1.0; M]).is_none());
}

#[test]
fn tracker_rejects_bad_frames_without_changing_state() {
    let blob = random_blob(23, M, (H1, H2), R);
    let mut storage = ModelStorage::<M, H1, H2, R>::new();
    let model = storage.decode(&blob.to_bytes().unwrap()).unwrap();
    let mut tracker = SynergyTracker::<M, H1, H2, R, 8>::new(model);
    let mut rng = Prng::new(4);
    for _ in 0..5 {
        let frame: [f32; M] = core::array::from_fn(|_| rng.uniform() as f32);
        tracker.push(&frame).unwrap();
    }
    let (vaf_before, per_channel_before, frames_before) =
        (tracker.vaf(), tracker.vaf_per_channel(), tracker.frames());
    for (channel, bad) in [(0, f32::NAN), (4, f32::INFINITY), (5, f32::NEG_INFINITY)] {
        let mut frame = [0.5f32; M];
        frame[channel] = bad;
        assert_eq!(
            tracker.push(&frame).unwrap_err(),
            InputError::NonFinite {
                channel: channel as u32
            }
        );
    }
    assert_eq!(tracker.vaf(), vaf_before);
    assert_eq!(
        tracker.vaf_per_channel().map(f32::to_bits),
        per_channel_before.map(f32::to_bits)
    );
    assert_eq!(tracker.frames(), frames_before);
}

#[test]
fn tracker_clamps_negative_inputs() {
    let blob = random_blob(24, M, (H1, H2), R);
    let mut storage = ModelStorage::<M, H1, H2, R>::new();
    let model = storage.decode(&blob.to_bytes().unwrap()).unwrap();
    let mut tracker = SynergyTracker::<M, H1, H2, R, 4>::new(model);
    let mut frame = [0.3f32; M];
    let clamped_out = {
        frame[2] = 0.0;
        tracker.push(&frame).unwrap()
    };
    frame[2] = -0.7;
    let negative_out = tracker.push(&frame).unwrap();
    assert_eq!(negative_out.activations, clamped_out.activations);
    assert_eq!(negative_out.input[2], 0.0);
}

#[test]
fn perfect_reconstruction_has_vaf_one_with_nnls() {
    let blob = random_blob(25, M, (0, 0), R);
    let mut storage = ModelStorage::<M, 0, 0, R>::new();
    let model = storage.decode(&blob.to_bytes().unwrap()).unwrap();
    let mut tracker = SynergyTracker::<M, 0, 0, R, 16>::new(model);
    let mut rng = Prng::new(6);
    for _ in 0..40 {
        // Frames inside the dictionary's cone, in scaled units, mapped back to raw units.
        let z: [f32; R] = core::array::from_fn(|_| 0.1 + rng.uniform() as f32);
        let scaled = reconstruct(model.dictionary(), &z);
        let raw: [f32; M] = core::array::from_fn(|k| scaled[k] / blob.input_scale[k]);
        let out = tracker.push(&raw).unwrap();
        assert!(out.variance.is_none());
    }
    let v = tracker.vaf().unwrap();
    assert!((v - 1.0).abs() < 1e-5, "{v}");
    assert!(tracker.vaf_per_channel().iter().all(|&c| (c - 1.0).abs() < 1e-4));
}

#[test]
fn windowed_vaf_equals_batch_vaf_of_the_last_frames() {
    const WINDOW: usize = 10;
    let blob = random_blob(26, M, (H1, H2), R);
    let mut storage = ModelStorage::<M, H1, H2, R>::new();
    let model = storage.decode(&blob.to_bytes().unwrap()).unwrap();
    let mut tracker = SynergyTracker::<M, H1, H2, R, WINDOW>::new(model);
    let mut rng = Prng::new(7);
    let (mut xs, mut xhats) = (Vec::new(), Vec::new());
    for _ in 0..37 {
        let frame: [f32; M] = core::array::from_fn(|_| rng.uniform() as f32);
        let out = tracker.push(&frame).unwrap();
        assert!(out.variance.is_some());
        xs.extend_from_slice(&out.input);
        xhats.extend_from_slice(&out.reconstruction);
    }
    let start = xs.len() - WINDOW * M;
    let batch = vaf(&xs[start..], &xhats[start..]).unwrap();
    assert!((tracker.vaf().unwrap() - batch).abs() < 1e-6);
    let mut per_channel = [0.0f32; M];
    vaenmf_core::vaf_per_channel(&xs[start..], &xhats[start..], &mut per_channel).unwrap();
    for (a, b) in tracker.vaf_per_channel().iter().zip(per_channel) {
        assert!((a - b).abs() < 1e-6);
    }
    tracker.reset();
    assert_eq!(tracker.vaf(), Err(InputError::ZeroEnergy));
}

#[test]
fn tracker_nnls_path_agrees_with_the_solver() {
    let blob = random_blob(27, M, (0, 0), R);
    let mut storage = ModelStorage::<M, 0, 0, R>::new();
    let model = storage.decode(&blob.to_bytes().unwrap()).unwrap();
    let solver = NnlsSolver::new(model.dictionary());
    let mut tracker = SynergyTracker::<M, 0, 0, R, 4>::new(model);
    let frame = [0.2, 0.9, 0.1, 0.4, 0.0, 0.7];
    let out = tracker.push(&frame).unwrap();
    assert_eq!(
        out.activations,
        solver.solve(&model.scale_input(&frame)).unwrap().z
    );
}

#[test]
fn dense_layer_sums_in_input_order_bit_for_bit() {
    use vaenmf_core::model::to_panel_order;
    use vaenmf_core::DenseLayer;
    // 13 inputs, 43 outputs: five full panels of 8 (on hosts a group of four, then one) and a
    // narrow one of 3.
    let mut rng = Prng::new(5);
    let input_major = common::uniform_vec(&mut rng, 13 * 43, -1.0, 1.0);
    let bias: [f32; 43] = core::array::from_fn(|_| rng.uniform() as f32 - 0.5);
    let x: [f32; 13] = core::array::from_fn(|_| 2.0 * rng.uniform() as f32);
    let mut weights = [[0.0f32; 43]; 13];
    to_panel_order(13, 43, &input_major, weights.as_flattened_mut());
    let layer = DenseLayer {
        weights: &weights,
        bias: &bias,
    };
    let mut out = [0.0f32; 43];
    layer.forward(&x, &mut out);
    for (o, &got) in out.iter().enumerate() {
        let mut expected = bias[o];
        for (i, &xi) in x.iter().enumerate() {
            expected += input_major[i * 43 + o] * xi;
            assert_eq!(layer.weight(i, o), Some(input_major[i * 43 + o]));
        }
        assert_eq!(
            got.to_bits(),
            expected.to_bits(),
            "output {o}: {got} vs {expected}"
        );
    }

    // No inputs: the output is the bias (and nothing panics).
    let empty = DenseLayer::<0, 43> {
        weights: &[],
        bias: &bias,
    };
    let mut out = [0.0f32; 43];
    empty.forward(&[], &mut out);
    assert_eq!(out, bias);
}
