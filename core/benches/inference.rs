//! Host throughput of the core's kernels: the paper-sized encoder (10 → 400 → 400 → 2·4) in
//! f32, int8 and hybrid, and NNLS (m = 10, r = 4). Prints time per frame, multiply-accumulates
//! per ns, and the f32 / int8 single-frame latency ratio measured in the same run (median of 15
//! interleaved repetitions, with the spread).
//!
//! `cargo bench -p vaenmf-core --bench inference`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use vaenmf_core::gamma::Prng;
use vaenmf_core::quant::calibrate::{calibrate, quantize, Variant};
use vaenmf_core::quant::owned::QuantizedStorage;
use vaenmf_core::{reconstruct, Dims, Model, ModelBlob, ModelStorage, NnlsSolver};

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

    let calibration: Vec<f32> = frames.iter().flatten().copied().collect();
    let ranges = calibrate(&blob, &calibration).unwrap();
    let int8_blob = quantize(&blob, &ranges, Variant::FullInt8).unwrap();
    let hybrid_blob = quantize(&blob, &ranges, Variant::Hybrid).unwrap();
    let int8_storage = QuantizedStorage::<M, H, H, R>::from_blob(&int8_blob).unwrap();
    let hybrid_storage = QuantizedStorage::<M, H, H, R>::from_blob(&hybrid_blob).unwrap();
    let int8 = int8_storage.model().unwrap();
    let hybrid = hybrid_storage.model().unwrap();

    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("encoder_10_400_400_8", |b| {
        b.iter(|| {
            i = (i + 1) % frames.len();
            black_box(model.encode(black_box(&frames[i])))
        })
    });
    for (name, m) in [
        ("encoder_int8_10_400_400_8", &int8),
        ("encoder_hybrid_10_400_400_8", &hybrid),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % frames.len();
                black_box(m.encode(black_box(&frames[i])))
            })
        });
    }
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

    // Plain summary lines with MACs per ns, from fixed-count timed loops, f32, int8 and hybrid
    // interleaved in short runs (a shared machine's state changes within tens of ms), 15
    // times: the median of each, its spread (min–max), and the ratio of the medians.
    let n = 500;
    let time = |m: &Model<'_, M, H, H, R>| {
        let start = std::time::Instant::now();
        for f in frames.iter().cycle().take(n) {
            black_box(m.encode(black_box(f)));
        }
        start.elapsed().as_nanos() as f64 / n as f64
    };
    let mut runs = [[0.0f64; 15]; 3];
    for r in 0..15 {
        for (times, m) in runs.iter_mut().zip([&model, &int8, &hybrid]) {
            times[r] = time(m);
        }
    }
    let mut median = [0.0; 3];
    for ((name, times), med) in ["f32", "int8", "hybrid"].iter().zip(&mut runs).zip(&mut median) {
        times.sort_by(f64::total_cmp);
        *med = times[7];
        println!(
            "encoder 10-400-400-8 {name}: {:.0} ns/frame (median of 15, {:.0}–{:.0}), {macs} MACs/frame, {:.2} MACs/ns",
            *med,
            times[0],
            times[14],
            macs as f64 / *med
        );
    }
    println!(
        "single-frame latency f32 / int8: {:.2}× (f32 / hybrid {:.2}×), medians",
        median[0] / median[1],
        median[0] / median[2]
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
