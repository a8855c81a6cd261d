//! The streaming envelope stage against closed forms (the comparison with the trainer's
//! envelope, an independent sci-rs implementation, is in
//! `host-trainer/tests/trainer/envelope_stage.rs`).

use vaenmf_core::envelope::{EnvelopeError, EnvelopeStage, Section};

/// A resonator `1 / (1 − 2r cos θ z⁻¹ + r² z⁻²)`: impulse response `rⁿ sin((n+1)θ) / sin θ`.
fn resonator(r: f64, theta: f64) -> Section {
    Section {
        b: [1.0, 0.0, 0.0],
        a: [(-2.0 * r * theta.cos()) as f32, (r * r) as f32],
    }
}

#[test]
fn impulse_response_matches_the_closed_form() {
    let (r, theta) = (0.95f64, 0.3f64);
    let mut stage = EnvelopeStage::<1, 0, 1>::new_checked([], [resonator(r, theta)], 1).unwrap();
    // The first sample (0) starts the stage at rest; the impulse follows.
    assert_eq!(stage.push(&[0.0]).unwrap(), Some([0.0]));
    let mut worst = 0.0f64;
    for n in 0..200 {
        let x = if n == 0 { 1.0 } else { 0.0 };
        let y = stage.push(&[x]).unwrap().unwrap()[0] as f64;
        let exact = r.powi(n) * ((n + 1) as f64 * theta).sin() / theta.sin();
        worst = worst.max((y - exact).abs());
    }
    assert!(worst < 1e-5, "worst impulse-response error {worst}");
}

#[test]
fn a_constant_input_is_steady_from_the_first_sample() {
    // DC gain of the section: (0.2 + 0.1 + 0.05) / (1 − 0.5 + 0.1) = 0.35 / 0.6.
    let section = Section {
        b: [0.2, 0.1, 0.05],
        a: [-0.5, 0.1],
    };
    let gain = 0.35f32 / 0.6;
    let mut stage = EnvelopeStage::<2, 1, 1>::new_checked([section], [section], 1).unwrap();
    for _ in 0..50 {
        let frame = stage.push(&[3.0, -2.0]).unwrap().unwrap();
        // Through the band section, rectified, through the low-pass section.
        assert!((frame[0] - 3.0 * gain * gain).abs() < 1e-5, "{frame:?}");
        assert!((frame[1] - 2.0 * gain * gain).abs() < 1e-5, "{frame:?}");
    }
}

#[test]
fn frames_come_out_at_multiples_of_decimate() {
    let pass = Section {
        b: [1.0, 0.0, 0.0],
        a: [0.0, 0.0],
    };
    let mut stage = EnvelopeStage::<1, 0, 1>::new_checked([], [pass], 4).unwrap();
    let kept: Vec<usize> = (0..13)
        .filter(|&n| stage.push(&[n as f32]).unwrap().is_some())
        .collect();
    assert_eq!(kept, [0, 4, 8, 12]);
}

#[test]
fn bad_coefficients_and_samples_are_refused() {
    let stable = resonator(0.9, 0.2);
    let on_circle = resonator(1.0, 0.2);
    let mut nan = stable;
    nan.b[1] = f32::NAN;
    assert_eq!(
        EnvelopeStage::<1, 2, 1>::new_checked([stable, on_circle], [stable], 1).unwrap_err(),
        EnvelopeError::UnstableBandSection(1)
    );
    assert_eq!(
        EnvelopeStage::<1, 1, 1>::new_checked([stable], [nan], 1).unwrap_err(),
        EnvelopeError::UnstableLowpassSection(0)
    );
    assert_eq!(
        EnvelopeStage::<1, 1, 1>::new_checked([stable], [stable], 0).unwrap_err(),
        EnvelopeError::ZeroDecimation
    );

    // A refused sample leaves the state as it was: the stage goes on as if it never came.
    let mut with_gap = EnvelopeStage::<2, 1, 1>::new_checked([stable], [stable], 1).unwrap();
    let mut without = with_gap.clone();
    for n in 0..20 {
        let x = [(n as f32 * 0.7).sin(), (n as f32 * 0.3).cos()];
        if n == 10 {
            assert_eq!(
                with_gap.push(&[1.0, f32::NAN]).unwrap_err(),
                EnvelopeError::NonFiniteSample(1)
            );
        }
        assert_eq!(with_gap.push(&x).unwrap(), without.push(&x).unwrap());
    }
}
