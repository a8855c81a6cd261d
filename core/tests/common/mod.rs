//! Shared helpers for the core's integration tests.
#![allow(dead_code)]

use vaenmf_core::front_end::Window;
use vaenmf_core::gamma::Prng;
use vaenmf_core::{Dims, FrontEnd, ModelBlob};

/// Uniform values in [lo, hi) from the crate's own PRNG (deterministic per seed).
pub fn uniform_vec(rng: &mut Prng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| lo + (hi - lo) * rng.uniform() as f32).collect()
}

/// A valid blob with random weights, per-channel scales, channel names and, when `m` is odd,
/// a front end (`m = fft_size / 2 + 1`); `hidden = (0, 0)` gives an NMF-only model.
pub fn random_blob(seed: u64, m: usize, hidden: (usize, usize), r: usize) -> ModelBlob {
    let dims = Dims {
        channels: m as u32,
        hidden1: hidden.0 as u32,
        hidden2: hidden.1 as u32,
        rank: r as u32,
    };
    let mut blob = ModelBlob::random(dims, seed);
    blob.input_scale = uniform_vec(&mut Prng::new(seed + 1000), m, 0.5, 2.0);
    // Names exercise format version 2's last section in every blob test.
    blob.channel_names = (0..m).map(|c| format!("muscle {c}")).collect();
    // And format version 3's front end.
    if m % 2 == 1 && m > 1 {
        blob.front_end = Some(FrontEnd {
            sample_rate: 16_000,
            fft_size: 2 * (m as u32 - 1),
            hop: (m as u32 - 1).max(1),
            window: Window::Hamming,
            magnitude_exponent: 1.0,
        });
    }
    blob
}
