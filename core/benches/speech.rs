//! Host cost of the streaming speech enhancer, one core: time per hop and the real-time
//! factor (hop duration / time per hop) of the STFT alone (unit gain), of the NMF enhancer
//! at the paper's sizes (257 bins, 40 speech + 40 noise atoms) for a few updates per frame,
//! and of the network enhancers: the paper-size VAE-NMF activation network (±1 frame of 257
//! bins → 3 × 500 → 80, then the dictionaries) and the mask DNN (→ 2 × 257), plus smaller
//! networks, and the floor under the paper-size network: reading its weights once per hop.
//!
//! `cargo bench -p vaenmf-core --bench speech`

use std::hint::black_box;
use std::time::Instant;

use vaenmf_core::front_end::Window;
use vaenmf_core::gamma::Prng;
use vaenmf_core::speech::quantized_network::{calibrate, quantize};
use vaenmf_core::speech::{
    ActivationLoss, EnhancerBlob, EnhancerMethod, NetworkEnhancer, NmfEnhancer, NmfGainSettings,
    OwnedNetworkBuffers, RandomEnhancerSizes, Spectrum, StreamingStft, BINS, FFT_SIZE,
};
use vaenmf_core::FrontEnd;

const HOP: usize = 128;
const RATE: f64 = 16_000.0;
const ATOMS: usize = 80;
const HOPS: usize = 2000;

/// Best of 5 runs over `HOPS` hops: seconds per hop.
fn per_hop(mut hop: impl FnMut(&[f32; HOP], &mut [f32; HOP])) -> f64 {
    let mut rng = Prng::new(3);
    let input: Vec<[f32; HOP]> = (0..64)
        .map(|_| core::array::from_fn(|_| (rng.uniform() as f32 - 0.5) * 0.2))
        .collect();
    let mut out = [0.0f32; HOP];
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for t in 0..HOPS {
                hop(black_box(&input[t % input.len()]), &mut out);
                black_box(&out);
            }
            start.elapsed().as_secs_f64() / HOPS as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn report(name: &str, seconds: f64) {
    let budget = HOP as f64 / RATE;
    println!(
        "{name:44} {:8.2} µs/hop  {:7.0}× real time",
        seconds * 1e6,
        budget / seconds
    );
}

fn main() {
    println!("streaming enhancer, {FFT_SIZE}-point FFT, hop {HOP} at 16 kHz ({BINS} bins), one core");
    let mut stft = StreamingStft::<HOP>::new(Window::Hamming);
    let mut spec = Spectrum::default();
    report(
        "STFT + inverse (unit gain)",
        per_hop(|x, y| {
            stft.analyse(x, &mut spec).unwrap();
            stft.synthesise(&spec, y);
        }),
    );
    let mut rng = Prng::new(7);
    let w: Vec<f32> = (0..BINS * ATOMS).map(|_| rng.uniform() as f32).collect();
    let front_end = FrontEnd {
        sample_rate: RATE as u32,
        fft_size: FFT_SIZE as u32,
        hop: HOP as u32,
        window: Window::Hamming,
        magnitude_exponent: 1.0,
    };
    for (loss, name) in [
        (ActivationLoss::Frobenius, "Euclidean"),
        (ActivationLoss::KullbackLeibler, "KL"),
    ] {
        for updates in [5, 20, 50] {
            let settings = NmfGainSettings {
                loss,
                updates_per_frame: updates,
                lambda: 0.0,
                gain_exponent: 2.0,
            };
            let mut enhancer =
                Box::new(NmfEnhancer::<HOP, ATOMS>::new_checked(&front_end, &w, 40, settings).unwrap());
            report(
                &format!("NMF 40+40 atoms, {name}, {updates} updates/frame"),
                per_hop(|x, y| enhancer.process(x, y).unwrap()),
            );
        }
    }
    for (method, hidden, context, name) in [
        (
            EnhancerMethod::VaeNmf,
            &[500u32, 500, 500][..],
            (1, 1),
            "VAE-NMF net 771→500×3→80 (paper)",
        ),
        (
            EnhancerMethod::Dnn,
            &[500, 500, 500][..],
            (1, 1),
            "mask DNN 771→500×3→514 (paper)",
        ),
        (
            EnhancerMethod::VaeNmf,
            &[128, 128][..],
            (1, 1),
            "VAE-NMF net 771→128→128→80",
        ),
        (
            EnhancerMethod::VaeNmf,
            &[128, 128][..],
            (1, 0),
            "VAE-NMF net 514→128→128→80, causal",
        ),
    ] {
        let sizes = RandomEnhancerSizes {
            ranks: (40, 40),
            hidden,
            context,
        };
        let blob = EnhancerBlob::random(method, front_end, sizes, 11);
        report(
            &format!("{name}, {:.2} M MAC", blob.macs_per_frame(0) as f64 / 1e6),
            streamed(&blob),
        );
        // The same network quantised (int8 weights, int16 activations; calibrated on random
        // standardised frames: the cost does not depend on the values).
        report("  the same, int8", streamed(&quantized(&blob)));
        if hidden[0] == 500 && method == EnhancerMethod::VaeNmf {
            // The floor of any f32 kernel: every weight read once per hop, nothing else done.
            let net = blob.network.as_ref().unwrap();
            let weights: Vec<&[f32]> = net.layers.iter().map(|l| l.weights.as_slice()).collect();
            report(
                "  its weights read once (memory floor)",
                per_hop(|_, y| y[0] = weights.iter().map(|w| lane_sum(w)).sum()),
            );
        }
    }
}

/// Seconds per hop of `blob`'s streaming network enhancer.
fn streamed(blob: &EnhancerBlob) -> f64 {
    let layers = blob.layer_views();
    let net = blob.network_gain(&layers).unwrap();
    let mut buffers = OwnedNetworkBuffers::for_network(&net);
    let mut enhancer =
        Box::new(NetworkEnhancer::<HOP>::new_checked(&blob.front_end, net, buffers.borrow()).unwrap());
    per_hop(|x, y| enhancer.process(x, y).unwrap())
}

/// `blob` with its network quantised on 50 random standardised frames.
fn quantized(blob: &EnhancerBlob) -> EnhancerBlob {
    let width = blob.network.as_ref().unwrap().width(blob.bins()) as usize;
    let mut rng = Prng::new(3);
    let frames: Vec<f32> = (0..width * 50)
        .map(|_| 4.0 * rng.uniform() as f32 - 2.0)
        .collect();
    let ranges = calibrate(blob, &frames).unwrap();
    quantize(blob, &ranges).unwrap()
}

/// Sum of `v` in 64 interleaved lanes: vectorised, and enough independent sums that the
/// adds' latency does not bound it before the memory does.
fn lane_sum(v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 64];
    for chunk in v.chunks_exact(64) {
        for (l, &x) in lanes.iter_mut().zip(chunk) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + v.chunks_exact(64).remainder().iter().sum::<f32>()
}
