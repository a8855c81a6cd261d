//! Shared helpers for the core's integration tests.
#![allow(dead_code)]

use vaenmf_core::gamma::Prng;
use vaenmf_core::{Dims, EncoderArrays, ModelBlob};

/// Uniform values in [lo, hi) from the crate's own PRNG (deterministic per seed).
pub fn uniform_vec(rng: &mut Prng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| lo + (hi - lo) * rng.uniform() as f32).collect()
}

/// A valid blob with random weights; `hidden = (0, 0)` gives an NMF-only model.
pub fn random_blob(seed: u64, m: usize, hidden: (usize, usize), r: usize) -> ModelBlob {
    let mut rng = Prng::new(seed);
    let (h1, h2) = hidden;
    let encoder = (h1 > 0).then(|| EncoderArrays {
        layer1_weights: uniform_vec(&mut rng, h1 * m, -0.5, 0.5),
        layer1_bias: uniform_vec(&mut rng, h1, -0.1, 0.1),
        layer2_weights: uniform_vec(&mut rng, h2 * h1, -0.3, 0.3),
        layer2_bias: uniform_vec(&mut rng, h2, -0.1, 0.1),
        alpha_head_weights: uniform_vec(&mut rng, r * h2, -0.3, 0.3),
        alpha_head_bias: uniform_vec(&mut rng, r, -0.1, 0.1),
        beta_head_weights: uniform_vec(&mut rng, r * h2, -0.3, 0.3),
        beta_head_bias: uniform_vec(&mut rng, r, -0.1, 0.1),
    });
    ModelBlob {
        dims: Dims {
            channels: m as u32,
            hidden1: h1 as u32,
            hidden2: h2 as u32,
            rank: r as u32,
        },
        alpha0: 1.0,
        floor: 1e-3,
        input_offset: vec![0.0; m],
        input_scale: uniform_vec(&mut rng, m, 0.5, 2.0),
        encoder,
        dictionary: uniform_vec(&mut rng, m * r, 0.0, 1.0),
    }
}
