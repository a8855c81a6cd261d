//! Envelope preprocessing: the Butterworth designs against SciPy's published responses, and
//! the pipeline on signals with known envelopes.

use sci_rs::signal::filter::design::FilterBandType;
use vaenmf_trainer::data::envelope::{butterworth, envelope, EnvelopeConfig};
use vaenmf_trainer::data::EmgMatrix;

/// Complex response of cascaded second-order sections at `f` Hz.
fn response(sos: &[sci_rs::signal::filter::design::Sos<f64>], f: f64, fs: f64) -> (f64, f64) {
    let w = 2.0 * std::f64::consts::PI * f / fs;
    let (mut re, mut im) = (1.0, 0.0);
    for s in sos {
        // z⁻¹ = e^{−jw}
        let eval = |c: [f64; 3]| {
            (
                c[0] + c[1] * w.cos() + c[2] * (2.0 * w).cos(),
                -c[1] * w.sin() - c[2] * (2.0 * w).sin(),
            )
        };
        let (nr, ni) = eval(s.b);
        let (dr, di) = eval(s.a);
        let d2 = dr * dr + di * di;
        let (qr, qi) = ((nr * dr + ni * di) / d2, (ni * dr - nr * di) / d2);
        (re, im) = (re * qr - im * qi, re * qi + im * qr);
    }
    (re, im)
}

/// Filter order, edges (Hz), band type, sampling rate, and (f, Re H, Im H) points.
type Case = (usize, Vec<f64>, FilterBandType, f64, Vec<(f64, f64, f64)>);

/// `scipy.signal.sosfreqz(scipy.signal.butter(..., output='sos'), worN=f, fs=fs)`, SciPy
/// 1.17.1: (frequency, real, imaginary).
#[test]
// SciPy's printed values, kept as printed (some are ±1/√2 to 15 digits).
#[allow(clippy::approx_constant)]
fn butterworth_matches_scipy() {
    let cases: [Case; 3] = [
        (
            4,
            vec![4.0],
            FilterBandType::Lowpass,
            100.0,
            vec![
                (0.5, 0.9474440151924219, -0.31992152303427884),
                (2.0, 0.21389725507670812, -0.974924600254243),
                (4.0, -0.707106781186547, 0.0),
                (10.0, 0.011573582802578981, 0.019696884469976795),
                (30.0, 6.893168988412576e-05, 1.687769904661206e-05),
            ],
        ),
        (
            2,
            vec![20.0, 450.0],
            FilterBandType::Bandpass,
            2000.0,
            vec![
                (5.0, -0.054642336319927695, 0.01979780894232248),
                (20.0, 0.0, 0.7071067811865589),
                (100.0, 0.9998185565123184, 0.01904786454762887),
                (450.0, 0.0, -0.7071067811865477),
                (900.0, -0.016706021036090313, -0.0031336962558995442),
            ],
        ),
        (
            4,
            vec![20.0],
            FilterBandType::Highpass,
            500.0,
            vec![
                (5.0, 0.0030350883641106284, -0.00233535405196557),
                (20.0, -0.7071067811865477, 0.0),
                (60.0, 0.662703667443982, 0.7488100131326837),
                (200.0, 0.9942504068983338, 0.10708000921945789),
            ],
        ),
    ];
    for (order, wn, band, fs, expected) in cases {
        let sos = butterworth(order, wn.clone(), band, fs).unwrap();
        for (f, re, im) in expected {
            let (gr, gi) = response(&sos, f, fs);
            assert!(
                (gr - re).abs() < 1e-9 && (gi - im).abs() < 1e-9,
                "{band:?} {wn:?} at {f} Hz: ({gr}, {gi}) vs ({re}, {im})"
            );
        }
    }
}

fn raw_matrix(channels: Vec<Vec<f32>>) -> EmgMatrix {
    let frames = channels[0].len();
    let m = channels.len();
    let mut data = vec![0.0; frames * m];
    for (c, ch) in channels.iter().enumerate() {
        for (f, &v) in ch.iter().enumerate() {
            data[f * m + c] = v;
        }
    }
    EmgMatrix::new(frames, m, data).unwrap()
}

/// A 100 Hz carrier amplitude-modulated by a slow (0.5 Hz) envelope: the pipeline recovers
/// the modulation (times the rectified sine's mean), with no delay (zero phase).
#[test]
fn envelope_recovers_slow_modulation_without_delay() {
    let fs = 1000.0;
    let n = 8000;
    let amp = |t: f64| 1.0 + 0.8 * (2.0 * std::f64::consts::PI * 0.5 * t).sin();
    let raw: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            (amp(t) * (2.0 * std::f64::consts::PI * 100.0 * t).sin() + 0.3) as f32
        })
        .collect();
    let (env, log) = envelope(&raw_matrix(vec![raw]), &EnvelopeConfig::new(fs).check().unwrap()).unwrap();
    assert!(log.skipped.is_empty());
    assert_eq!(env.frames, n);
    // The mean of a rectified unit sine sampled 10 times per period (2/π in continuous time).
    let rectified_mean = (0..10)
        .map(|k| (2.0 * std::f64::consts::PI * k as f64 / 10.0).sin().abs())
        .sum::<f64>()
        / 10.0;
    let expected = |i: usize| rectified_mean * amp(i as f64 / fs);
    // Away from the edges (the short odd-extension padding leaves transients near them) the
    // envelope follows the modulation within 1 %.
    for i in (2000..6000).step_by(97) {
        let got = f64::from(env.data[i]);
        assert!(
            (got - expected(i)).abs() < 0.01 * expected(i),
            "sample {i}: {got} vs {}",
            expected(i)
        );
    }
    // Zero phase: the envelope's maximum is where the modulation's is (t = 0.5 s + k·2 s).
    let peak = (1500..3500)
        .max_by(|&a, &b| env.data[a].total_cmp(&env.data[b]))
        .unwrap();
    assert!((peak as i64 - 2500).abs() <= 10, "peak at {peak}");
}

#[test]
fn band_edges_above_nyquist_are_skipped_and_reported() {
    let fs = 200.0; // Nyquist 100 Hz: the 450 Hz edge is impossible.
    let raw: Vec<f32> = (0..2000).map(|i| ((i as f32) * 0.7).sin()).collect();
    let (_, log) = envelope(
        &raw_matrix(vec![raw.clone()]),
        &EnvelopeConfig::new(fs).check().unwrap(),
    )
    .unwrap();
    assert_eq!(log.skipped.len(), 1);
    assert!(log.skipped[0].contains("450"), "{:?}", log.skipped);
    assert!(log.applied.iter().any(|s| s.starts_with("high-pass 20")));
    let mut cfg = EnvelopeConfig::new(30.0); // Nyquist 15 Hz: no band-pass at all.
    cfg.decimate = 2;
    let (env, log) = envelope(&raw_matrix(vec![raw]), &cfg.check().unwrap()).unwrap();
    assert!(log.skipped[0].contains("both edges"));
    assert_eq!(env.frames, 1000);
}
