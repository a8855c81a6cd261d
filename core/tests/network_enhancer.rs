//! The streaming network enhancer: each hop's gain equals the offline per-frame computation
//! on the same frames (context stacked with the edge frame repeated, look-ahead waited for),
//! bad samples are refused with the state untouched, and every size is checked.

use vaenmf_core::front_end::Window;
use vaenmf_core::gamma::Prng;
use vaenmf_core::speech::quantized_network::{calibrate, quantize};
use vaenmf_core::speech::{
    magnitudes, BufferLengths, EnhancerBlob, EnhancerMethod, NetworkBuffers, NetworkEnhancer, NetworkLayers,
    OwnedGainScratch, OwnedNetworkBuffers, RandomEnhancerSizes, Spectrum, StreamingStft, BINS, FFT_SIZE,
};
use vaenmf_core::{Field, FrontEnd, InputError, ModelError};

const HOP: usize = 128;

fn front_end() -> FrontEnd {
    FrontEnd {
        sample_rate: 16_000,
        fft_size: FFT_SIZE as u32,
        hop: HOP as u32,
        window: Window::Hamming,
        magnitude_exponent: 1.0,
    }
}

fn blob(method: EnhancerMethod, context: (u32, u32)) -> EnhancerBlob {
    let sizes = RandomEnhancerSizes {
        ranks: (5, 3),
        hidden: &[16],
        context,
    };
    EnhancerBlob::random(method, front_end(), sizes, 7)
}

fn signal(seed: u64, hops: usize) -> Vec<[f32; HOP]> {
    let mut rng = Prng::new(seed);
    (0..hops)
        .map(|t| {
            core::array::from_fn(|i| {
                ((t * HOP + i) as f32 * 0.05).sin() * 0.5 + 0.3 * (rng.uniform() as f32 - 0.5)
            })
        })
        .collect()
}

/// `blob` quantised on random standardised frames.
fn quantized(blob: &EnhancerBlob) -> EnhancerBlob {
    let width = blob.network.as_ref().unwrap().width(blob.bins()) as usize;
    let mut rng = Prng::new(5);
    let frames: Vec<f32> = (0..width * 20)
        .map(|_| 4.0 * rng.uniform() as f32 - 2.0)
        .collect();
    let ranges = calibrate(blob, &frames).unwrap();
    quantize(blob, &ranges).unwrap()
}

/// Runs the stream and returns each hop's output and the gain it applied.
fn stream(blob: &EnhancerBlob, hops: &[[f32; HOP]]) -> Vec<([f32; HOP], [f32; BINS])> {
    let layers = blob.layer_views();
    let net = blob.network_gain(&layers).unwrap();
    let mut buffers = OwnedNetworkBuffers::for_network(&net);
    let mut enhancer = NetworkEnhancer::<HOP>::new_checked(&front_end(), net, buffers.borrow()).unwrap();
    enhancer.set_gain_floor(blob.floor().unwrap());
    hops.iter()
        .map(|hop| {
            let mut out = [0.0; HOP];
            enhancer.process(hop, &mut out).unwrap();
            (out, *enhancer.bin_gain())
        })
        .collect()
}

#[test]
fn each_hop_gain_is_the_offline_frame_gain() {
    for (method, context, int8) in [
        (EnhancerMethod::VaeNmf, (2, 1), false),
        (EnhancerMethod::Dnn, (1, 2), false),
        (EnhancerMethod::NmfDictNet, (0, 0), false),
        (EnhancerMethod::VaeNmf, (1, 1), true),
        (EnhancerMethod::Dnn, (0, 0), true),
    ] {
        let mut blob = blob(method, context);
        if int8 {
            blob = quantized(&blob);
        }
        let hops = signal(1, 40);
        let streamed = stream(&blob, &hops);
        // The same frames offline: the streaming STFT's spectra, compressed, every frame's
        // context stacked with the first frame repeated before it.
        let layers = blob.layer_views();
        let net = blob.network_gain(&layers).unwrap();
        let f = net.features;
        let mut stft = StreamingStft::<HOP>::new(Window::Hamming);
        let mut compressed = vec![0.0f32; hops.len() * BINS];
        for (hop, out) in hops.iter().zip(compressed.chunks_exact_mut(BINS)) {
            let mut spectrum = Spectrum::default();
            stft.analyse(hop, &mut spectrum).unwrap();
            let mut mag = [0.0; BINS];
            magnitudes(&spectrum, 1.0, &mut mag);
            f.compress(&mag, out);
        }
        let after = context.1 as usize;
        let mut input = vec![0.0; f.width()];
        let mut scratch = OwnedGainScratch::for_network(&net);
        for (t, (_, gain)) in streamed.iter().enumerate() {
            if t < after {
                assert!(
                    gain.iter().all(|&g| g == 0.0),
                    "{}: hop {t} before the look-ahead",
                    method.name()
                );
                continue;
            }
            let c = t - after;
            f.stack(&compressed, hops.len(), c, &mut input);
            let mut expected = [0.0; BINS];
            net.gain(&input, &mut scratch.borrow(), &mut expected);
            assert!(
                gain.iter()
                    .zip(&expected)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{}: frame {c}",
                method.name()
            );
            assert!(gain.iter().all(|g| (0.0..=1.0).contains(g)));
        }
    }
}

/// With a floor every gain is the unfloored gain raised to the floor, bit for bit; the
/// output changes only where a gain was below it.
#[test]
fn a_gain_floor_raises_every_lower_gain_to_it() {
    let mut blob = blob(EnhancerMethod::VaeNmf, (1, 1));
    let hops = signal(3, 30);
    let free = stream(&blob, &hops);
    blob.gain_floor = 0.3;
    let floored = stream(&blob, &hops);
    let mut raised = 0;
    for (t, ((_, g0), (_, g1))) in free.iter().zip(&floored).enumerate().skip(1) {
        for (a, b) in g0.iter().zip(g1) {
            assert_eq!(b.to_bits(), a.max(0.3).to_bits(), "hop {t}");
            raised += usize::from(*a < 0.3);
        }
    }
    assert!(raised > 0, "the test signal must have gains below the floor");
    assert_ne!(free.last().unwrap().0, floored.last().unwrap().0);
}

#[test]
fn a_bad_sample_is_refused_and_the_stream_goes_on_untouched() {
    let blob = blob(EnhancerMethod::VaeNmf, (1, 1));
    let hops = signal(2, 20);
    let layers = blob.layer_views();
    let net = blob.network_gain(&layers).unwrap();
    let mut buffers = OwnedNetworkBuffers::for_network(&net);
    let mut enhancer = NetworkEnhancer::<HOP>::new_checked(&front_end(), net, buffers.borrow()).unwrap();
    assert_eq!(enhancer.delay(), FFT_SIZE - HOP + HOP);
    assert_eq!(enhancer.latency(), FFT_SIZE + HOP);
    let mut outputs = Vec::new();
    for (t, hop) in hops.iter().enumerate() {
        if t == 7 {
            for (bad, expected) in [
                (f32::NAN, InputError::NonFinite { channel: 3 }),
                (f32::INFINITY, InputError::NonFinite { channel: 3 }),
                (1e6, InputError::SampleRange { index: 3 }),
            ] {
                let mut broken = *hop;
                broken[3] = bad;
                let mut out = [9.0; HOP];
                assert_eq!(enhancer.process(&broken, &mut out), Err(expected));
            }
        }
        let mut out = [0.0; HOP];
        enhancer.process(hop, &mut out).unwrap();
        outputs.push(out);
    }
    let clean: Vec<[f32; HOP]> = stream(&blob, &hops).into_iter().map(|(o, _)| o).collect();
    assert!(outputs
        .iter()
        .flatten()
        .zip(clean.iter().flatten())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    // Reset: the stream starts over.
    enhancer.reset();
    let mut out = [0.0; HOP];
    enhancer.process(&hops[0], &mut out).unwrap();
    assert!(out.iter().zip(&clean[0]).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn sizes_are_checked() {
    let blob = blob(EnhancerMethod::Dnn, (1, 1));
    let layers = blob.layer_views();
    let net = blob.network_gain(&layers).unwrap();
    let n = BufferLengths::of(&net);
    assert_eq!((n.frames, n.spectra, n.int, n.acc), (3 * BINS, 2, 0, 0));
    let work = n.work;
    let (mut f, mut s, mut w) = (
        vec![0.0; n.frames],
        vec![Spectrum::default(); n.spectra],
        vec![0.0; work - 1],
    );
    let mut stft = StreamingStft::ZEROED;
    let short = NetworkBuffers {
        stft: &mut stft,
        frames: &mut f,
        spectra: &mut s,
        work: &mut w,
        int: &mut [],
        acc: &mut [],
    };
    assert_eq!(
        NetworkEnhancer::<HOP>::new_checked(&front_end(), net, short).unwrap_err(),
        ModelError::DimensionMismatch {
            field: Field::Buffer,
            expected: work as u32,
            found: work as u32 - 1
        }
    );
    let mut buffers = OwnedNetworkBuffers::for_network(&net);
    let mut buffers_64 = OwnedNetworkBuffers::<64>::for_network(&net);
    assert!(matches!(
        NetworkEnhancer::<64>::new_checked(&front_end(), net, buffers_64.borrow()).unwrap_err(),
        ModelError::DimensionMismatch {
            field: Field::Hop,
            ..
        }
    ));
    let mut broken = net;
    broken.features.mean = &net.features.mean[1..];
    assert!(matches!(
        NetworkEnhancer::<HOP>::new_checked(&front_end(), broken, buffers.borrow()).unwrap_err(),
        ModelError::DimensionMismatch {
            field: Field::FeatureMean,
            ..
        }
    ));
    let mut broken = net;
    let NetworkLayers::Float(all) = net.layers else {
        panic!("an f32 network")
    };
    broken.layers = NetworkLayers::Float(&all[..1]);
    assert!(matches!(
        NetworkEnhancer::<HOP>::new_checked(&front_end(), broken, buffers.borrow()).unwrap_err(),
        ModelError::DimensionMismatch {
            field: Field::Layers,
            ..
        }
    ));
}
