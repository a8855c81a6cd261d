//! VAF definitions against hand-computed values.

use vaenmf_core::{r2_centred, vaf, vaf_per_channel, InputError, VafAccumulator};

#[test]
fn vaf_uses_data_energy_as_denominator() {
    // X = [1, 2; 3, 4] (frames in rows), X̂ = [1, 1; 3, 3]: error 1 + 1 = 2, energy 30.
    let x = [1.0, 2.0, 3.0, 4.0];
    let xhat = [1.0, 1.0, 3.0, 3.0];
    assert!((vaf(&x, &xhat).unwrap() - (1.0 - 2.0 / 30.0)).abs() < 1e-7);
    let mut per = [0.0; 2];
    vaf_per_channel(&x, &xhat, &mut per).unwrap();
    assert_eq!(per[0], 1.0);
    assert!((per[1] - (1.0 - 2.0 / 20.0)).abs() < 1e-7);
    // Centred: grand mean 2.5, deviations sum 5.
    assert!((r2_centred(&x, &xhat).unwrap() - (1.0 - 2.0 / 5.0)).abs() < 1e-7);
    // Scaling the reconstruction up never raises VAF above 1 (a bug of dividing by ‖X̂‖²).
    let big = [2.0, 4.0, 6.0, 8.0];
    assert!((vaf(&x, &big).unwrap() - 0.0).abs() < 1e-7);
}

#[test]
fn vaf_errors_are_explicit() {
    assert_eq!(
        vaf(&[1.0, 2.0], &[1.0]),
        Err(InputError::LengthMismatch {
            expected: 2,
            found: 1
        })
    );
    assert_eq!(vaf(&[0.0, 0.0], &[1.0, 1.0]), Err(InputError::ZeroEnergy));
    let mut per = [0.0; 2];
    assert!(vaf_per_channel(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], &mut per).is_err());
    vaf_per_channel(&[0.0, 2.0, 0.0, 3.0], &[0.0, 2.0, 0.0, 3.0], &mut per).unwrap();
    assert!(per[0].is_nan() && per[1] == 1.0);
}

#[test]
fn accumulator_add_remove_is_exact() {
    let mut acc = VafAccumulator::<2>::new();
    acc.add(&[1.0, 2.0], &[1.0, 1.0]);
    let one = acc;
    acc.add(&[3.0, 4.0], &[3.0, 3.0]);
    acc.remove(&[3.0, 4.0], &[3.0, 3.0]);
    assert_eq!(acc, one);
}
