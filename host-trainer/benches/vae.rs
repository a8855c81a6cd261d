//! VAE-NMF throughput, measured side by side in one run:
//! - training frames per second at the paper's size (10 → 400 → 400 → 2·4, batch 128, one
//!   sample, Adam step included) on both burn backends;
//! - single-frame encoder latency: the core (host build, weights in `ModelStorage`) against
//!   burn's forward at batch 1 on the same weights.
//!
//! `cargo bench -p vaenmf-trainer --bench vae` (or `cargo xtask bench`).

use std::hint::black_box;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::TensorData;
use vaenmf_core::gamma::Prng;
use vaenmf_core::ModelStorage;
use vaenmf_trainer::vae::model::VaeNmfConfig;
use vaenmf_trainer::vae::sampler::sample_gamma;
use vaenmf_trainer::vae::subnormal::without_subnormals;
use vaenmf_trainer::vae::training::{adam, Backend};

const M: usize = 10;
const H: usize = 400;
const R: usize = 4;
const BATCH: usize = 128;

fn random(rng: &mut Prng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.uniform() as f32).collect()
}

fn training_frames_per_second(backend: Backend, steps: usize) -> f64 {
    let device = backend.device(true);
    let mut rng = Prng::new(1);
    let arch = VaeNmfConfig::new(M, R).with_hidden1(H).with_hidden2(H);
    let mut model = arch.init(
        Tensor::from_data(TensorData::new(random(&mut rng, R * M), [R, M]), &device),
        &device,
    );
    let mut optim = adam(5e-4);
    let batches: Vec<Tensor<2>> = (0..8)
        .map(|_| Tensor::from_data(TensorData::new(random(&mut rng, BATCH * M), [BATCH, M]), &device))
        .collect();
    let mut step = |i: usize, model: VaeNmf| {
        let x = batches[i % batches.len()].clone();
        let (alpha, beta) = model.encode(x.clone(), 1e-3);
        let z = sample_gamma(alpha.clone(), beta.clone(), 1, &mut rng);
        let loss = model.loss(x, z, alpha, beta, 0.05, false, 1.0, 1000.0).objective;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        optim.step(1e-3, model, grads)
    };
    for i in 0..5 {
        model = step(i, model);
    }
    let start = Instant::now();
    for i in 0..steps {
        model = step(i, model);
    }
    // Make sure the last step has executed before stopping the clock.
    let _ = model.decoder.val().into_data();
    (steps * BATCH) as f64 / start.elapsed().as_secs_f64()
}

use vaenmf_trainer::vae::model::VaeNmf;

fn main() {
    for backend in [Backend::Flex, Backend::Ndarray] {
        // On the training thread pool, as `vaenmf train` runs.
        let fps = without_subnormals(|| training_frames_per_second(backend, 200));
        println!("training 10-400-400-8, batch {BATCH}, {backend:?}: {fps:.0} frames/s");
    }
    // Encoder latency, one frame, same weights.
    let device = Backend::Flex.device(false);
    let mut rng = Prng::new(2);
    let arch = VaeNmfConfig::new(M, R).with_hidden1(H).with_hidden2(H);
    let model = arch.init(
        Tensor::from_data(TensorData::new(random(&mut rng, R * M), [R, M]), &device),
        &device,
    );
    let blob = vaenmf_trainer::vae::to_blob(&model, &arch, 1.0, &[1.0; M]);
    let bytes = blob.to_bytes().expect("blob");
    let mut storage = Box::new(ModelStorage::<M, H, H, R>::new());
    let core = storage.decode(&bytes).expect("decode");
    let frames: Vec<[f32; M]> = (0..256)
        .map(|_| core::array::from_fn(|_| rng.uniform() as f32))
        .collect();
    let n = 20_000;
    let start = Instant::now();
    for f in frames.iter().cycle().take(n) {
        black_box(core.encode(black_box(f)));
    }
    let core_us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
    let tensors: Vec<Tensor<2>> = frames
        .iter()
        .map(|f| Tensor::from_data(TensorData::new(f.to_vec(), [1, M]), &device))
        .collect();
    let n_burn = 2_000;
    let start = Instant::now();
    for t in tensors.iter().cycle().take(n_burn) {
        let (a, b) = model.encode(t.clone(), 1e-3);
        black_box((a / b).into_data());
    }
    let burn_us = start.elapsed().as_secs_f64() * 1e6 / n_burn as f64;
    println!(
        "single-frame encoder: core {core_us:.1} µs, burn (flex, batch 1) {burn_us:.1} µs: core {:.1}x faster",
        burn_us / core_us
    );
}
