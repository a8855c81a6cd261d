//! Streaming synergy tracking on the host: build a small VAE-NMF-shaped model and an
//! NMF-only model, encode them to blobs, decode them into caller-provided storage, and track
//! synthetic envelope frames generated from known activations.
//!
//! `cargo run -p vaenmf-core --features std --example track`

use vaenmf_core::gamma::Prng;
use vaenmf_core::{reconstruct, Dims, ModelBlob, ModelStorage, SynergyTracker};

const M: usize = 8;
const R: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = Prng::new(42);
    // Synergies: nonnegative, unit-norm columns.
    let mut w = vec![0.0f32; M * R];
    for j in 0..R {
        let col: Vec<f32> = (0..M).map(|_| rng.gamma(1.0, 1.0, 1) as f32).collect();
        let norm = col.iter().map(|v| v * v).sum::<f32>().sqrt();
        for i in 0..M {
            w[i * R + j] = col[i] / norm;
        }
    }
    let blob = ModelBlob {
        dims: Dims {
            channels: M as u32,
            hidden1: 0,
            hidden2: 0,
            rank: R as u32,
        },
        alpha0: 1.0,
        floor: 1e-3,
        input_offset: vec![0.0; M],
        input_scale: vec![1.0; M],
        encoder: None,
        quantized: None,
        dictionary: w,
        channel_names: Vec::new(),
        front_end: None,
    };
    let bytes = blob.to_bytes()?;
    println!("NMF-only model blob: {} bytes, dims {:?}", bytes.len(), blob.dims);

    let mut storage = ModelStorage::<M, 0, 0, R>::new();
    let model = storage.decode(&bytes)?;
    let mut tracker = SynergyTracker::<M, 0, 0, R, 50>::new(model);
    let mut max_err = 0.0f32;
    for frame in 0..200 {
        let truth: [f32; R] = core::array::from_fn(|_| rng.gamma(2.0, 4.0, 1) as f32);
        let clean = reconstruct(model.dictionary(), &truth);
        let noisy: [f32; M] = core::array::from_fn(|k| clean[k] + 0.01 * rng.normal() as f32);
        let out = tracker.push(&noisy)?;
        for (z, t) in out.activations.iter().zip(&truth) {
            max_err = max_err.max((z - t).abs());
        }
        if frame % 40 == 0 {
            println!(
                "frame {frame:3}: true z {truth:.3?}  tracked z {:.3?}",
                out.activations
            );
        }
    }
    println!(
        "window VAF {:.4}, per channel {:.3?}, max |z − z_true| = {max_err:.4}",
        tracker.vaf()?,
        tracker.vaf_per_channel()
    );
    Ok(())
}
