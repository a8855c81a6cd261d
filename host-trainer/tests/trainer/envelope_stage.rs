//! The firmware's envelope stage (`vaenmf_core::envelope`, f32, one sample at a time) against
//! the trainer's causal envelope (sci-rs `sosfilt` in f64 over the whole recording), with the
//! same Butterworth designs, on the same raw signal.

use sci_rs::signal::filter::design::Sos;
use vaenmf_core::envelope::{EnvelopeStage, Section};
use vaenmf_core::gamma::Prng;
use vaenmf_trainer::data::envelope::{design, envelope, EnvelopeConfig};
use vaenmf_trainer::data::EmgMatrix;

const CHANNELS: usize = 8;
const FS: f64 = 1000.0;
const DECIMATE: usize = 10;

/// Surface-EMG-like raw signal: an ADC's DC offset, mains hum, and white noise whose amplitude
/// follows gait-like bursts (a different phase per channel).
fn raw_emg(seconds: usize) -> EmgMatrix {
    let n = seconds * FS as usize;
    let mut rng = Prng::new(7);
    let mut data = Vec::with_capacity(n * CHANNELS);
    for i in 0..n {
        let t = i as f64 / FS;
        for c in 0..CHANNELS {
            let phase = c as f64 / CHANNELS as f64;
            let burst = (2.0 * std::f64::consts::PI * (t + phase)).sin().max(0.0).powi(2);
            let hum = 0.02 * (2.0 * std::f64::consts::PI * 50.0 * t).sin();
            let x = 1.65 + 0.1 * c as f64 + hum + (0.01 + 0.3 * burst) * rng.normal();
            data.push(x as f32);
        }
    }
    EmgMatrix::new(n, CHANNELS, data).unwrap()
}

/// Largest |a − b| over two equally long series.
fn worst_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max)
}

fn sections<const N: usize>(sos: &[Sos<f64>]) -> [Section; N] {
    assert_eq!(sos.len(), N, "section count of the design");
    std::array::from_fn(|i| Section {
        b: sos[i].b.map(|v| v as f32),
        a: [sos[i].a[1] as f32, sos[i].a[2] as f32],
    })
}

#[test]
fn firmware_stage_matches_the_trainers_causal_envelope() {
    let raw = raw_emg(20);
    let cfg = EnvelopeConfig {
        decimate: DECIMATE,
        causal: true,
        ..EnvelopeConfig::new(FS)
    }
    .check()
    .unwrap();
    let (trainer, _) = envelope(&raw, &cfg).unwrap();
    let filters = design(&cfg).unwrap();
    let band = sections::<4>(filters.band.as_deref().expect("20–450 Hz fits under 500 Hz"));
    let low = sections::<2>(&filters.lowpass);
    let mut stage = EnvelopeStage::<CHANNELS, 4, 2>::new_checked(band, low, DECIMATE as u32).unwrap();

    let mut device = Vec::new();
    for sample in raw.frames_iter() {
        let sample: [f32; CHANNELS] = sample.try_into().unwrap();
        if let Some(frame) = stage.push(&sample).unwrap() {
            device.extend(frame);
        }
    }
    assert_eq!(
        device.len(),
        trainer.data.len(),
        "same frames kept by the decimation"
    );
    let peak = trainer.data.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
    let worst = worst_difference(&device, &trainer.data);
    println!(
        "device vs trainer (causal): worst |difference| {worst:.3e}, {:.3e} of the peak {peak:.4}",
        worst / peak
    );
    // Stated tolerance: 1e-3 of the envelope's peak, ten times below the int8 encoder's error.
    // What is left is the f32 rounding of the 4 Hz low-pass's coefficients: its DC gain
    // divides by 1 + a₁ + a₂ ≈ 6e-4, so a coefficient's last bit moves the gain by ~1e-4.
    assert!(
        worst / peak < 1e-3,
        "worst difference {worst} against peak {peak}"
    );
    assert!(peak > 0.05, "the bursts must show in the envelope (peak {peak})");

    // For scale: the zero-phase envelope (the trainer's default) is another signal (no delay).
    let (zero_phase, _) = envelope(
        &raw,
        &EnvelopeConfig {
            causal: false,
            ..*cfg
        }
        .check()
        .unwrap(),
    )
    .unwrap();
    let differ = worst_difference(&device, &zero_phase.data);
    println!(
        "device vs trainer (zero-phase): worst |difference| {:.3e} of the peak",
        differ / peak
    );
    assert!(differ > 100.0 * worst);
}
