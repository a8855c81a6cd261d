//! VAE-NMF throughput, measured side by side in one run:
//! - training frames per second at the paper's size (10 → 400 → 400 → 2·4, batch 128, one
//!   sample, Adam step included) on both burn backends;
//! - the same step in PyTorch (`vae_pytorch.py`, default and fused Adam) when a Python with
//!   `torch` is found (`VAENMF_TORCH_PYTHON`, else `python3`); otherwise says it was not
//!   measured;
//! - single-frame encoder latency: the core (host build, weights in `ModelStorage`) against
//!   burn's forward at batch 1 on the same weights.
//!
//! `cargo bench -p vaenmf-trainer --bench vae` (or `cargo xtask bench`).

use std::hint::black_box;
use std::process::Command;
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

// As the `vaenmf` binary: burn allocates a fresh buffer for every tensor op.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        let z = sample_gamma(alpha.clone(), beta.clone(), 1, &mut rng).unwrap();
        let loss = model
            .loss(x, z, alpha, beta, 0.05, false, 1.0, 1000.0)
            .unwrap()
            .objective;
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

/// PyTorch's frames per second for the same step, or why there is none.
fn pytorch_frames_per_second(steps: usize, fused: bool) -> Result<f64, String> {
    let python = std::env::var("VAENMF_TORCH_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/vae_pytorch.py");
    let mut cmd = Command::new(&python);
    cmd.arg(script).arg(steps.to_string());
    if fused {
        cmd.arg("fused");
    }
    let out = cmd.output().map_err(|e| format!("{python}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .filter(|_| out.status.success())
        .ok_or_else(|| {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("no output");
            format!(
                "{python} could not run {script}: {last} (set VAENMF_TORCH_PYTHON to a Python with torch)"
            )
        })
}

/// Median, lowest and highest of `values`.
fn median_range(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

fn main() {
    let steps = 400;
    // Rounds of all four sides in turn, so that load on the shared machine falls on each.
    let rounds = 5;
    let sides = [
        "burn Flex",
        "burn Ndarray",
        "PyTorch (default Adam)",
        "PyTorch (fused Adam)",
    ];
    let mut fps: [Vec<f64>; 4] = Default::default();
    let mut torch_missing: Option<String> = None;
    for _ in 0..rounds {
        for (i, backend) in [Backend::Flex, Backend::Ndarray].into_iter().enumerate() {
            // On the training thread pool, as `vaenmf train` runs.
            fps[i].push(without_subnormals(|| training_frames_per_second(backend, steps)));
        }
        if torch_missing.is_none() {
            for (i, fused) in [(2, false), (3, true)] {
                match pytorch_frames_per_second(steps, fused) {
                    Ok(v) => fps[i].push(v),
                    Err(why) => torch_missing = Some(why),
                }
            }
        }
    }
    println!("training 10-400-400-8, batch {BATCH}, {steps} steps, median of {rounds} interleaved rounds [lowest–highest]:");
    for (side, values) in sides.iter().zip(&fps) {
        if !values.is_empty() {
            let (median, low, high) = median_range(values);
            println!("  {side:24} {median:7.0} frames/s [{low:.0}–{high:.0}]");
        }
    }
    match torch_missing {
        Some(why) => println!("PyTorch not measured: {why}"),
        None => {
            for torch in [2, 3] {
                for burn in [0, 1] {
                    // Per round, so that each ratio compares runs made under the same load.
                    let per_round: Vec<f64> = fps[burn].iter().zip(&fps[torch]).map(|(b, t)| b / t).collect();
                    let (median, low, high) = median_range(&per_round);
                    println!(
                        "  {} / {}: {median:.2}x [{low:.2}–{high:.2}]",
                        sides[burn], sides[torch]
                    );
                }
            }
        }
    }
    // Encoder latency, one frame, same weights.
    let device = Backend::Flex.device(false);
    let mut rng = Prng::new(2);
    let arch = VaeNmfConfig::new(M, R).with_hidden1(H).with_hidden2(H);
    let model = arch.init(
        Tensor::from_data(TensorData::new(random(&mut rng, R * M), [R, M]), &device),
        &device,
    );
    let blob = vaenmf_trainer::vae::to_blob(&model, &arch, 1.0, &[1.0; M]).unwrap();
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
    let floor_us = weight_read_floor_us(H * (M + H + 2 * R));
    println!(
        "single-frame floor: reading the {} KiB of weights once from cache takes {floor_us:.1} µs; \
         core = {:.1}x that floor, burn / floor = {:.1}x (the most any single-frame encoder can \
         be faster than burn here)",
        H * (M + H + 2 * R) * 4 / 1024,
        core_us / floor_us,
        burn_us / floor_us
    );
}

/// The time to stream `n` f32 weights from cache once: a lower bound for any encoder that
/// reads every weight per frame. Summed in 64 independent lanes, with AVX2 where the CPU has
/// it, so that the adds keep up with the loads and the figure is the cache's bandwidth.
fn weight_read_floor_us(n: usize) -> f64 {
    #[inline(always)]
    fn sum(w: &[f32]) -> f32 {
        let mut acc = [0.0f32; 64];
        for c in w.chunks_exact(64) {
            for (a, x) in acc.iter_mut().zip(c) {
                *a += x;
            }
        }
        acc.iter().sum::<f32>()
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn sum_avx2(w: &[f32]) -> f32 {
        sum(w)
    }
    let run = |w: &[f32]| {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { sum_avx2(w) };
        }
        sum(w)
    };
    let weights: Vec<f32> = (0..n).map(|i| (i % 7) as f32).collect();
    for _ in 0..100 {
        black_box(run(black_box(&weights)));
    }
    let reps = 20_000;
    let start = Instant::now();
    for _ in 0..reps {
        black_box(run(black_box(&weights)));
    }
    start.elapsed().as_secs_f64() * 1e6 / reps as f64
}
