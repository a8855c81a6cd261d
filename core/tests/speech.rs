//! The streaming speech enhancer: the FFT pair against a direct DFT in f64, the streaming
//! STFT's perfect reconstruction, bad samples (error, state untouched), and the NMF gain on
//! signals whose answer is known.

use vaenmf_core::front_end::Window;
use vaenmf_core::gamma::Prng;
use vaenmf_core::speech::{
    ActivationLoss, GainFloor, NmfEnhancer, NmfGainSettings, RealFft, Spectrum, StreamingStft, BINS,
    FFT_SIZE, MAX_ABS_SAMPLE,
};
use vaenmf_core::{Field, FrontEnd, InputError, ModelError};

fn noise(seed: u64, len: usize, level: f32) -> Vec<f32> {
    let mut rng = Prng::new(seed);
    (0..len)
        .map(|_| level * (2.0 * rng.uniform() as f32 - 1.0))
        .collect()
}

#[test]
fn fft_pair_matches_a_direct_dft() {
    let x = noise(1, FFT_SIZE, 1.0);
    let mut fft = RealFft::new();
    let mut buf: [f32; FFT_SIZE] = x.clone().try_into().unwrap();
    let mut spec = Spectrum::default();
    fft.forward(&mut buf, &mut spec);
    let mut worst = 0.0f64;
    for k in 0..BINS {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (n, &v) in x.iter().enumerate() {
            let a = -2.0 * std::f64::consts::PI * (k * n) as f64 / FFT_SIZE as f64;
            re += f64::from(v) * a.cos();
            im += f64::from(v) * a.sin();
        }
        worst = worst
            .max((f64::from(spec.re[k]) - re).abs())
            .max((f64::from(spec.im[k]) - im).abs());
    }
    // |X| is ~√512 ≈ 23 here; f32 rounding over 9 radix-2 stages.
    assert!(worst < 1e-4, "forward: worst deviation {worst}");

    // A Hermitian spectrum with arbitrary bins: the inverse against the direct sum.
    let values = noise(2, 2 * BINS, 1.0);
    let mut spec = Spectrum::default();
    spec.re.copy_from_slice(&values[..BINS]);
    spec.im.copy_from_slice(&values[BINS..]);
    spec.im[0] = 0.0;
    spec.im[BINS - 1] = 0.0;
    let mut y = [0.0f32; FFT_SIZE];
    fft.inverse(&spec, &mut y);
    let mut worst = 0.0f64;
    for (n, &yn) in y.iter().enumerate() {
        let mut sum =
            f64::from(spec.re[0]) + f64::from(spec.re[BINS - 1]) * if n % 2 == 0 { 1.0 } else { -1.0 };
        for k in 1..BINS - 1 {
            let a = 2.0 * std::f64::consts::PI * (k * n) as f64 / FFT_SIZE as f64;
            sum += 2.0 * (f64::from(spec.re[k]) * a.cos() - f64::from(spec.im[k]) * a.sin());
        }
        worst = worst.max((f64::from(yn) - sum / FFT_SIZE as f64).abs());
    }
    assert!(worst < 1e-6, "inverse: worst deviation {worst}");
}

/// Unit gain: the output is the input `FFT_SIZE − HOP` samples late, for both windows and
/// both hops the core accepts at 512 points.
fn reconstructs<const HOP: usize>(window: Window) {
    let x = noise(3, 40 * HOP, 0.5);
    let mut stft = StreamingStft::<HOP>::new(window);
    let mut spec = Spectrum::default();
    let mut y = Vec::new();
    for hop in x.chunks_exact(HOP) {
        let mut out = [0.0; HOP];
        stft.analyse(hop.try_into().unwrap(), &mut spec).unwrap();
        stft.synthesise(&spec, &mut out);
        y.extend_from_slice(&out);
    }
    let delay = StreamingStft::<HOP>::delay();
    assert_eq!(delay, FFT_SIZE - HOP);
    let worst = x[..x.len() - delay]
        .iter()
        .zip(&y[delay..])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 2e-6, "{window:?}, hop {HOP}: worst deviation {worst}");
    // Before the first sample arrives in full: the zeros of the stream at rest.
    assert!(y[..delay].iter().all(|v| v.abs() < 1e-6));
}

#[test]
fn streaming_stft_reconstructs_its_input_one_window_late() {
    reconstructs::<128>(Window::Hamming);
    reconstructs::<128>(Window::Hann);
    reconstructs::<256>(Window::Hamming);
    reconstructs::<64>(Window::Hann);
}

const HOP: usize = 128;
const RATE: f32 = 16_000.0;

fn front_end() -> FrontEnd {
    FrontEnd {
        sample_rate: RATE as u32,
        fft_size: FFT_SIZE as u32,
        hop: HOP as u32,
        window: Window::Hamming,
        magnitude_exponent: 1.0,
    }
}

fn settings(loss: ActivationLoss, updates: u32) -> NmfGainSettings {
    NmfGainSettings {
        loss,
        updates_per_frame: updates,
        lambda: 0.0,
        gain_exponent: 2.0,
    }
}

/// Two speech atoms on the bins below 2 kHz, two noise atoms above 3 kHz (column-major).
fn band_dictionary() -> Vec<f32> {
    let hz = |b: usize| b as f32 * RATE / FFT_SIZE as f32;
    let mut w = vec![0.0f32; BINS * 4];
    for b in 0..BINS {
        let f = hz(b);
        if f < 2000.0 {
            w[b] = 1.0;
            w[BINS + b] = if b % 2 == 0 { 1.0 } else { 0.5 };
        }
        if f > 3000.0 {
            w[2 * BINS + b] = 1.0;
            w[3 * BINS + b] = if b % 2 == 0 { 0.5 } else { 1.0 };
        }
    }
    w
}

fn tone(freq: f32, len: usize, amplitude: f32) -> Vec<f32> {
    (0..len)
        .map(|n| amplitude * (2.0 * std::f32::consts::PI * freq * n as f32 / RATE).sin())
        .collect()
}

/// A 500 Hz tone (in the speech dictionary's band) and it plus a 5 kHz tone (the noise's).
fn tones_in_tones(len: usize) -> (Vec<f32>, Vec<f32>) {
    let speech = tone(500.0, len, 0.3);
    let noisy = speech
        .iter()
        .zip(tone(5000.0, len, 0.3))
        .map(|(s, n)| s + n)
        .collect();
    (speech, noisy)
}

fn run(enhancer: &mut NmfEnhancer<'_, HOP, 4>, x: &[f32]) -> Vec<f32> {
    let mut y = Vec::with_capacity(x.len());
    for hop in x.chunks_exact(HOP) {
        let mut out = [0.0; HOP];
        enhancer.process(hop.try_into().unwrap(), &mut out).unwrap();
        y.extend_from_slice(&out);
    }
    y
}

/// SDR in dB of `estimate` against `reference` (plain energy ratio, aligned).
fn sdr(reference: &[f32], estimate: &[f32]) -> f64 {
    let (mut s, mut e) = (0.0f64, 0.0f64);
    for (&r, &y) in reference.iter().zip(estimate) {
        s += f64::from(r) * f64::from(r);
        e += (f64::from(r) - f64::from(y)).powi(2);
    }
    10.0 * (s / e).log10()
}

/// A 500 Hz tone (the speech dictionary's band) in a 5 kHz tone (the noise's): the enhancer
/// keeps the first and removes the second, for both losses. Swapping the dictionaries' roles
/// (speech rank = the noise atoms) must fail it.
#[test]
fn nmf_enhancer_keeps_the_speech_band_and_removes_the_noise_band() {
    let len = 200 * HOP;
    let (speech, noisy) = tones_in_tones(len);
    let w = band_dictionary();
    let delay = NmfEnhancer::<HOP, 4>::delay();
    let skip = 8 * HOP; // the first frames see the zeros before the signal
    for loss in [ActivationLoss::Frobenius, ActivationLoss::KullbackLeibler] {
        let mut enhancer =
            NmfEnhancer::<HOP, 4>::new_checked(&front_end(), &w, 2, settings(loss, 20)).unwrap();
        let y = run(&mut enhancer, &noisy);
        let input_sdr = sdr(&speech[skip..len - delay], &noisy[skip..len - delay]);
        let output_sdr = sdr(&speech[skip..len - delay], &y[skip + delay..]);
        assert!(input_sdr.abs() < 0.5, "{input_sdr}");
        assert!(
            output_sdr > 20.0,
            "{loss:?}: SDR {output_sdr:.1} dB from {input_sdr:.1} dB"
        );
        assert!(enhancer.bin_gain().iter().all(|g| (0.0..=1.0).contains(g)));
    }
    // The wrong way round: atoms 0–1 are called noise, 2–3 speech (rank 2 either way, so
    // permute the columns).
    let swapped: Vec<f32> = [2, 3, 0, 1]
        .iter()
        .flat_map(|&k| w[k * BINS..(k + 1) * BINS].to_vec())
        .collect();
    let mut enhancer = NmfEnhancer::<HOP, 4>::new_checked(
        &front_end(),
        &swapped,
        2,
        settings(ActivationLoss::Frobenius, 20),
    )
    .unwrap();
    let y = run(&mut enhancer, &noisy);
    assert!(sdr(&speech[skip..len - delay], &y[skip + delay..]) < 0.0);
}

/// A floor of −20 dB lets a tenth of the noise band through: the output is the speech plus
/// 0.1 × the noise, which plain removal is not.
#[test]
fn a_gain_floor_lets_that_much_noise_through() {
    let len = 200 * HOP;
    let (speech, noisy) = tones_in_tones(len);
    let noise: Vec<f32> = noisy.iter().zip(&speech).map(|(x, s)| x - s).collect();
    let w = band_dictionary();
    let delay = NmfEnhancer::<HOP, 4>::delay();
    let skip = 8 * HOP;
    let floor = GainFloor::new_checked(0.1).unwrap();
    let mut enhancer =
        NmfEnhancer::<HOP, 4>::new_checked(&front_end(), &w, 2, settings(ActivationLoss::Frobenius, 20))
            .unwrap();
    enhancer.set_gain_floor(floor);
    let y = run(&mut enhancer, &noisy);
    assert!(enhancer.bin_gain().iter().all(|&g| (0.1..=1.0).contains(&g)));
    let leak: Vec<f32> = speech.iter().zip(&noise).map(|(s, n)| s + 0.1 * n).collect();
    let window = skip..len - delay;
    let out = &y[skip + delay..];
    assert!(
        sdr(&leak[window.clone()], out) > 20.0,
        "{}",
        sdr(&leak[window.clone()], out)
    );
    assert!(sdr(&speech[window], out) < 25.0);
    for bad in [-0.1, 1.5, f32::NAN] {
        assert_eq!(
            GainFloor::new_checked(bad).unwrap_err(),
            ModelError::OutOfRange {
                field: Field::GainFloor,
                index: 0
            }
        );
    }
}

/// Room for more atoms than the dictionary has changes nothing: the same bits.
#[test]
fn capacity_beyond_the_rank_gives_the_same_bits() {
    let w = band_dictionary();
    let x = noise(12, 40 * HOP, 0.5);
    for loss in [ActivationLoss::Frobenius, ActivationLoss::KullbackLeibler] {
        let exact = run(
            &mut NmfEnhancer::<HOP, 4>::new_checked(&front_end(), &w, 2, settings(loss, 7)).unwrap(),
            &x,
        );
        let mut roomy = NmfEnhancer::<HOP, 16>::new_checked(&front_end(), &w, 2, settings(loss, 7)).unwrap();
        let mut y = Vec::new();
        for hop in x.chunks_exact(HOP) {
            let mut out = [0.0; HOP];
            roomy.process(hop.try_into().unwrap(), &mut out).unwrap();
            y.extend_from_slice(&out);
        }
        assert_eq!(roomy.activations().len(), 4);
        assert!(
            exact.iter().zip(&y).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{loss:?}"
        );
    }
}

/// After seconds of silence (every activation driven to zero) the enhancer still follows the
/// signal: the warm start's floor.
#[test]
fn nmf_enhancer_recovers_after_silence() {
    let w = band_dictionary();
    let mut enhancer =
        NmfEnhancer::<HOP, 4>::new_checked(&front_end(), &w, 2, settings(ActivationLoss::Frobenius, 10))
            .unwrap();
    let silence = vec![0.0f32; 100 * HOP];
    let y = run(&mut enhancer, &silence);
    assert!(y.iter().all(|&v| v == 0.0));
    assert!(enhancer.activations().iter().all(|&h| h == 0.0));
    let len = 100 * HOP;
    let speech = tone(500.0, len, 0.3);
    let y = run(&mut enhancer, &speech);
    let delay = NmfEnhancer::<HOP, 4>::delay();
    let skip = 8 * HOP;
    let out = sdr(&speech[skip..len - delay], &y[skip + delay..]);
    assert!(out > 20.0, "SDR after silence {out:.1} dB");
}

/// A NaN, an ∞ or a sample past the bound: an error naming the sample, and the stream goes on
/// exactly as if that hop had never been offered.
#[test]
fn bad_samples_are_errors_and_change_no_state() {
    let w = band_dictionary();
    let x = noise(9, 30 * HOP, 0.5);
    let make = || {
        NmfEnhancer::<HOP, 4>::new_checked(&front_end(), &w, 2, settings(ActivationLoss::Frobenius, 5))
            .unwrap()
    };
    let clean_run = run(&mut make(), &x);
    for (bad, expected) in [
        (f32::NAN, InputError::NonFinite { channel: 7 }),
        (f32::INFINITY, InputError::NonFinite { channel: 7 }),
        (MAX_ABS_SAMPLE * 1.5, InputError::SampleRange { index: 7 }),
    ] {
        let mut enhancer = make();
        let mut y = run(&mut enhancer, &x[..10 * HOP]);
        let mut hop = [0.1f32; HOP];
        hop[7] = bad;
        let mut out = [1.0f32; HOP];
        assert_eq!(enhancer.process(&hop, &mut out), Err(expected));
        y.extend(run(&mut enhancer, &x[10 * HOP..]));
        assert_eq!(y, clean_run, "{bad}");
    }
}

/// Silence, full-scale and the largest accepted samples, and a dictionary of tiny entries:
/// the output stays finite and every gain in [0, 1].
#[test]
fn extreme_inputs_give_finite_output() {
    let mut tiny = band_dictionary();
    for v in &mut tiny {
        *v *= 1e-30;
    }
    let w = band_dictionary();
    for dictionary in [&w, &tiny] {
        for loss in [ActivationLoss::Frobenius, ActivationLoss::KullbackLeibler] {
            let mut enhancer =
                NmfEnhancer::<HOP, 4>::new_checked(&front_end(), dictionary, 2, settings(loss, 10)).unwrap();
            for level in [0.0, 1.0, MAX_ABS_SAMPLE] {
                let x: Vec<f32> = noise(4, 20 * HOP, 1.0)
                    .iter()
                    .map(|v| v.signum() * level)
                    .collect();
                let y = run(&mut enhancer, &x);
                assert!(y.iter().all(|v| v.is_finite()), "{loss:?}, level {level}");
                assert!(enhancer.bin_gain().iter().all(|g| (0.0..=1.0).contains(g)));
                assert!(enhancer.activations().iter().all(|h| h.is_finite() && *h >= 0.0));
            }
        }
    }
}

#[test]
fn bad_dictionaries_settings_and_front_ends_are_refused_with_the_field() {
    let w = band_dictionary();
    let ok = settings(ActivationLoss::Frobenius, 10);
    let new = |fe: &FrontEnd, w: &[f32], rank: usize, s: NmfGainSettings| {
        NmfEnhancer::<HOP, 4>::new_checked(fe, w, rank, s).err()
    };
    assert_eq!(
        new(&front_end(), &w[1..], 2, ok),
        Some(ModelError::DimensionMismatch {
            field: Field::Dictionary,
            expected: (4 * BINS) as u32,
            found: (4 * BINS - 1) as u32
        })
    );
    let mut negative = w.clone();
    negative[BINS + 3] = -1.0;
    assert_eq!(
        new(&front_end(), &negative, 2, ok),
        Some(ModelError::NegativeDictionary {
            channel: 3,
            synergy: 1
        })
    );
    let mut nan = w.clone();
    nan[5] = f32::NAN;
    assert_eq!(
        new(&front_end(), &nan, 2, ok),
        Some(ModelError::NonFinite {
            field: Field::Dictionary,
            index: 5
        })
    );
    let range = |field, index| Some(ModelError::OutOfRange { field, index });
    let five: Vec<f32> = w.iter().chain(&w[..BINS]).copied().collect();
    assert_eq!(new(&front_end(), &five, 2, ok), range(Field::Rank, 5));
    assert_eq!(new(&front_end(), &w, 0, ok), range(Field::SpeechRank, 0));
    assert_eq!(new(&front_end(), &w, 4, ok), range(Field::SpeechRank, 4));
    for updates in [0, 1001] {
        let s = NmfGainSettings {
            updates_per_frame: updates,
            ..ok
        };
        assert_eq!(
            new(&front_end(), &w, 2, s),
            range(Field::UpdatesPerFrame, updates)
        );
    }
    let s = NmfGainSettings { lambda: -1.0, ..ok };
    assert_eq!(new(&front_end(), &w, 2, s), range(Field::Sparsity, 0));
    let s = NmfGainSettings {
        gain_exponent: f32::INFINITY,
        ..ok
    };
    assert_eq!(new(&front_end(), &w, 2, s), range(Field::GainExponent, 0));
    let fe = FrontEnd {
        hop: 256,
        ..front_end()
    };
    assert_eq!(
        new(&fe, &w, 2, ok),
        Some(ModelError::DimensionMismatch {
            field: Field::Hop,
            expected: 128,
            found: 256
        })
    );
    let fe = FrontEnd {
        fft_size: 1024,
        ..front_end()
    };
    assert!(matches!(
        new(&fe, &w, 2, ok),
        Some(ModelError::DimensionMismatch {
            field: Field::FftSize,
            ..
        })
    ));
}

/// DNMF's reconstruction bases: the activations are fitted with `W`, the gain reconstructs
/// with `W̄`. `W̄ = W` gives the same bits as none; a `W̄` whose speech and noise atoms are
/// swapped keeps the noise band instead; bad bases are refused and change nothing.
#[test]
fn reconstruction_bases_shape_the_gain() {
    let len = 120 * HOP;
    let (speech, noisy) = tones_in_tones(len);
    let w = band_dictionary();
    let swapped: Vec<f32> = [2, 3, 0, 1]
        .iter()
        .flat_map(|&k| w[k * BINS..(k + 1) * BINS].to_vec())
        .collect();
    let s = settings(ActivationLoss::Frobenius, 10);
    let make = || NmfEnhancer::<HOP, 4>::new_checked(&front_end(), &w, 2, s).unwrap();
    let plain = run(&mut make(), &noisy);
    let mut same = make();
    same.set_reconstruction(&w).unwrap();
    assert!(run(&mut same, &noisy)
        .iter()
        .zip(&plain)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    let mut other = make();
    other.set_reconstruction(&swapped).unwrap();
    let delay = NmfEnhancer::<HOP, 4>::delay();
    let skip = 8 * HOP;
    let kept = sdr(
        &speech[skip..len - delay],
        &run(&mut other, &noisy)[skip + delay..],
    );
    assert!(
        kept < 0.0,
        "the swapped reconstruction still kept the speech: {kept:.1} dB"
    );
    let mut bad = w.clone();
    bad[BINS + 3] = -1.0;
    let mut e = make();
    assert_eq!(
        e.set_reconstruction(&bad),
        Err(ModelError::NegativeDictionary {
            channel: 3,
            synergy: 1
        })
    );
    assert!(matches!(
        e.set_reconstruction(&w[BINS..]),
        Err(ModelError::DimensionMismatch {
            field: Field::ReconstructionDictionary,
            ..
        })
    ));
    assert!(run(&mut e, &noisy)
        .iter()
        .zip(&plain)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}
