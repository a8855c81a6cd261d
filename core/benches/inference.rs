//! Host throughput of the core's kernels: the paper-sized encoder (10 → 400 → 400 → 2·4)
//! and NNLS (m = 10, r = 4). Prints time per frame and multiply-accumulates per ns.
//!
//! `cargo bench -p vaenmf-core --bench inference`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use vaenmf_core::gamma::Prng;
use vaenmf_core::{reconstruct, Dims, ModelBlob, ModelStorage, NnlsSolver};

const M: usize = 10;
const H: usize = 400;
const R: usize = 4;

fn paper_blob() -> ModelBlob {
    ModelBlob::random(
        Dims {
            channels: M as u32,
            hidden1: H as u32,
            hidden2: H as u32,
            rank: R as u32,
        },
        1,
    )
}

fn bench(c: &mut Criterion) {
    let blob = paper_blob();
    let macs = blob.dims.encoder_macs();
    let bytes = blob.to_bytes().unwrap();
    let mut storage = Box::new(ModelStorage::<M, H, H, R>::new());
    let model = storage.decode(&bytes).unwrap();
    let mut rng = Prng::new(2);
    let frames: Vec<[f32; M]> = (0..256)
        .map(|_| core::array::from_fn(|_| rng.uniform() as f32))
        .collect();

    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("encoder_10_400_400_8", |b| {
        b.iter(|| {
            i = (i + 1) % frames.len();
            black_box(model.encode(black_box(&frames[i])))
        })
    });
    let solver = NnlsSolver::new(model.dictionary());
    let targets: Vec<[f32; M]> = (0..256)
        .map(|_| {
            let z: [f32; R] = core::array::from_fn(|_| rng.uniform() as f32);
            let x = reconstruct(model.dictionary(), &z);
            core::array::from_fn(|k| x[k] + 0.05 * rng.normal() as f32)
        })
        .collect();
    group.bench_function("nnls_m10_r4", |b| {
        b.iter(|| {
            i = (i + 1) % targets.len();
            black_box(solver.solve(black_box(&targets[i])))
        })
    });
    group.finish();

    // A plain summary line with MACs per ns, from a fixed-count timed loop.
    let n = 2000;
    let start = std::time::Instant::now();
    for f in frames.iter().cycle().take(n) {
        black_box(model.encode(black_box(f)));
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!(
        "encoder 10-400-400-8: {ns:.0} ns/frame, {macs} MACs/frame, {:.2} MACs/ns",
        macs as f64 / ns
    );
    let start = std::time::Instant::now();
    for x in targets.iter().cycle().take(20 * n) {
        black_box(solver.solve(black_box(x)).ok());
    }
    let ns = start.elapsed().as_nanos() as f64 / (20 * n) as f64;
    println!("nnls m=10 r=4: {ns:.0} ns/frame");
}

criterion_group!(benches, bench);
criterion_main!(benches);
