//! Gamma mathematics against independent references: published values (mpmath, 30
//! digits), closed forms, numerical integration, and sampler moments.

// Reference values are kept with every digit mpmath printed.
#![allow(clippy::excessive_precision)]
use vaenmf_core::gamma::{digamma, kl_gamma, kl_gamma_gradient, lgamma, marsaglia_tsang_h, trigamma, Prng};

/// (x, ψ(x), ln Γ(x)) computed with mpmath at 30 significant digits.
const REFERENCE: [(f64, f64, f64); 13] = [
    (0.001, -1000.5755719318103005, 6.9071788853838536825),
    (0.01, -100.5608854578686745, 4.5994798780420217225),
    (0.1, -10.423754940411076795, 2.2527126517342059599),
    (0.3, -3.502524222200132989, 1.0957979948180755217),
    (0.5, -1.9635100260214234794, 0.57236494292470008707),
    (1.0, -0.57721566490153286061, 0.0),
    (1.5, 0.036489973978576520559, -0.12078223763524522235),
    (2.0, 0.42278433509846713939, 0.0),
    (3.7, 1.1671535393615113859, 1.4280723266653879219),
    (10.0, 2.2517525890667211076, 12.801827480081469611),
    (25.5, 3.2189424728839197665, 56.389167643719946744),
    (100.0, 4.6001618527380874002, 359.13420536957539878),
    (1e6, 13.815510057964190771, 12815504.56914761166),
];

fn rel_err(got: f64, want: f64) -> f64 {
    if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    }
}

#[test]
fn digamma_matches_reference_values() {
    for (x, psi, _) in REFERENCE {
        let err = rel_err(digamma(x), psi);
        // The README states this bound; the worst point is x = 1.5, next to ψ's root (1.0e-12).
        assert!(
            err <= 2e-12,
            "psi({x}) = {} vs {psi}: rel err {err:e}",
            digamma(x)
        );
    }
}

#[test]
fn digamma_closed_forms_and_asymptotics() {
    let euler_gamma = 0.577_215_664_901_532_9;
    assert!((digamma(1.0) + euler_gamma).abs() < 1e-12);
    // ψ(1/2) = −γ − 2 ln 2.
    assert!((digamma(0.5) - (-euler_gamma - 2.0 * 2f64.ln())).abs() < 1e-12);
    // ψ(n + 1) = H_n − γ.
    let harmonic_20: f64 = (1..=20).map(|k| 1.0 / k as f64).sum();
    assert!((digamma(21.0) - (harmonic_20 - euler_gamma)).abs() < 1e-12);
    // Large x: ψ(x) = ln x − 1/(2x) − 1/(12x²) + O(x⁻⁴).
    for x in [1e3f64, 1e5, 1e8] {
        let asymptotic = x.ln() - 0.5 / x - 1.0 / (12.0 * x * x);
        assert!(rel_err(digamma(x), asymptotic) < 1e-14, "x = {x}");
    }
    // Reflection for negative non-integers (mpmath): ψ(−0.5), ψ(−2.3).
    assert!(rel_err(digamma(-0.5), 0.036489973978576520559) < 1e-10);
    assert!(rel_err(digamma(-2.3), 3.3173231575618201233) < 1e-10);
    assert!(digamma(0.0).is_nan() && digamma(-3.0).is_nan() && digamma(f64::NAN).is_nan());
}

#[test]
fn digamma_is_the_derivative_of_lgamma() {
    for x in [0.02, 0.7, 1.3, 4.0, 17.5, 300.0] {
        let h = 1e-5 * x;
        let fd = (lgamma(x + h) - lgamma(x - h)) / (2.0 * h);
        assert!(rel_err(digamma(x), fd) < 1e-7, "x = {x}");
    }
}

/// (x, ψ′(x)) computed with mpmath (`polygamma(1, x)`) at 30 significant digits.
const TRIGAMMA: [(f64, f64); 10] = [
    (0.001, 1000001.64253319582734466950415),
    (0.1, 101.433299150792747704652039651),
    (0.5, 4.93480220054467930941724549994),
    (1.0, 1.64493406684822643647241516665),
    (2.5, 0.490357756100234864972801055494),
    (6.2, 0.174993349807062612049014542105),
    (25.5, 0.0399946696495629240365208630237),
    (100.0, 0.0100501666633335713952456684657),
    (-0.5, 8.93480220054467930941724549994),
    (-2.3, 14.7259121609612914880773464367),
];

#[test]
fn trigamma_matches_reference_values_and_differentiates_digamma() {
    for (x, want) in TRIGAMMA {
        assert!(
            rel_err(trigamma(x), want) < 1e-12,
            "x = {x}: {} vs {want}",
            trigamma(x)
        );
    }
    for x in [0.02, 0.7, 1.3, 4.0, 17.5, 300.0] {
        let h = 1e-5 * x;
        let fd = (digamma(x + h) - digamma(x - h)) / (2.0 * h);
        assert!(rel_err(trigamma(x), fd) < 1e-6, "x = {x}");
    }
    assert!(trigamma(0.0).is_nan() && trigamma(-3.0).is_nan() && trigamma(f64::NAN).is_nan());
}

#[test]
fn kl_gradient_matches_finite_differences() {
    for (a1, b1, a2, b2) in [(2.0, 3.0, 1.5, 1.0), (0.3, 0.2, 1.0, 1.0), (40.0, 7.0, 1.0, 1.0)] {
        let (da, db) = kl_gamma_gradient(a1, b1, a2, b2);
        let h = 1e-6;
        let fa = (kl_gamma(a1 + h * a1, b1, a2, b2) - kl_gamma(a1 - h * a1, b1, a2, b2)) / (2.0 * h * a1);
        let fb = (kl_gamma(a1, b1 + h * b1, a2, b2) - kl_gamma(a1, b1 - h * b1, a2, b2)) / (2.0 * h * b1);
        assert!(
            (da - fa).abs() < 1e-6 * (1.0 + fa.abs()),
            "∂α at {a1}, {b1}: {da} vs {fa}"
        );
        assert!(
            (db - fb).abs() < 1e-6 * (1.0 + fb.abs()),
            "∂β at {a1}, {b1}: {db} vs {fb}"
        );
    }
}

#[test]
fn lgamma_matches_reference_values() {
    for (x, _, lg) in REFERENCE {
        let err = if lg == 0.0 {
            lgamma(x).abs()
        } else {
            rel_err(lgamma(x), lg)
        };
        assert!(err <= 1e-12, "lgamma({x}) = {} vs {lg}", lgamma(x));
    }
}

/// ∫ q ln(q/p) dz by composite Simpson in u = ln z (handles the z → 0 behaviour of small
/// shapes), over a range wide enough for the densities used here.
fn kl_numerical(a1: f64, b1: f64, a2: f64, b2: f64) -> f64 {
    let log_pdf = |a: f64, b: f64, z: f64| a * b.ln() + (a - 1.0) * z.ln() - b * z - lgamma(a);
    let (lo, hi, n) = (-120.0f64, 6.0f64, 400_000usize);
    let h = (hi - lo) / n as f64;
    let f = |u: f64| {
        let z = u.exp();
        let lq = log_pdf(a1, b1, z);
        lq.exp() * (lq - log_pdf(a2, b2, z)) * z
    };
    let mut sum = f(lo) + f(hi);
    for i in 1..n {
        sum += f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

#[test]
fn kl_matches_design_value_and_numerical_integration() {
    // DESIGN.md: α₁=2, β₁=3, α₂=1.5, β₂=1 → 0.405195 (mpmath: 0.405195029582819551).
    let kl = kl_gamma(2.0, 3.0, 1.5, 1.0);
    assert!((kl - 0.405_195_029_582_819_55).abs() < 1e-12, "{kl}");
    for (a1, b1, a2, b2) in [
        (2.0, 3.0, 1.5, 1.0),
        (0.4, 0.7, 1.0, 1.0),
        (5.0, 2.0, 0.8, 1.3),
        (30.0, 12.0, 1.0, 1.0),
    ] {
        let closed = kl_gamma(a1, b1, a2, b2);
        let numerical = kl_numerical(a1, b1, a2, b2);
        assert!(
            (closed - numerical).abs() < 1e-8,
            "({a1},{b1}‖{a2},{b2}): {closed} vs {numerical}"
        );
    }
}

#[test]
fn kl_of_a_distribution_with_itself_is_zero() {
    for (a, b) in [(0.01, 0.5), (1.0, 1.0), (3.3, 0.2), (500.0, 40.0)] {
        assert!(kl_gamma(a, b, a, b).abs() < 1e-12);
    }
}

#[test]
fn sampler_moments_within_four_standard_errors() {
    const N: usize = 100_000;
    let mut rng = Prng::new(2024);
    for alpha in [0.3, 1.0, 5.0, 40.0] {
        for beta in [0.5, 2.0] {
            let draws: Vec<f64> = (0..N).map(|_| rng.gamma(alpha, beta, 1)).collect();
            let n = N as f64;
            let mean = draws.iter().sum::<f64>() / n;
            let var = draws.iter().map(|z| (z - mean) * (z - mean)).sum::<f64>() / (n - 1.0);
            let true_mean = alpha / beta;
            let true_var = alpha / (beta * beta);
            // SE of the mean: σ/√n. SE of the sample variance: σ²·√((2 + 6/α)/n), since a
            // Gamma's excess kurtosis is 6/α.
            let se_mean = (true_var / n).sqrt();
            let se_var = true_var * ((2.0 + 6.0 / alpha) / n).sqrt();
            assert!(draws.iter().all(|&z| z > 0.0 && z.is_finite()));
            assert!(
                (mean - true_mean).abs() < 4.0 * se_mean,
                "α={alpha} β={beta}: mean {mean} vs {true_mean}"
            );
            assert!(
                (var - true_var).abs() < 4.0 * se_var,
                "α={alpha} β={beta}: var {var} vs {true_var}"
            );
        }
    }
}

#[test]
fn larger_boost_gives_the_same_distribution() {
    let mut rng = Prng::new(5);
    let (alpha, n) = (0.2, 100_000);
    let mean = (0..n).map(|_| rng.gamma(alpha, 1.0, 4)).sum::<f64>() / n as f64;
    assert!((mean - alpha).abs() < 4.0 * (alpha / n as f64).sqrt(), "{mean}");
}

#[test]
fn sampler_is_deterministic_and_rejects_bad_parameters() {
    let a: Vec<f64> = {
        let mut r = Prng::new(9);
        (0..10).map(|_| r.gamma(2.5, 1.0, 1)).collect()
    };
    let b: Vec<f64> = {
        let mut r = Prng::new(9);
        (0..10).map(|_| r.gamma(2.5, 1.0, 1)).collect()
    };
    assert_eq!(a, b);
    let mut r = Prng::new(1);
    assert!(r.gamma(0.0, 1.0, 1).is_nan());
    assert!(r.gamma(1.0, -1.0, 1).is_nan());
    assert!(r.gamma(f64::INFINITY, 1.0, 1).is_nan());
}

#[test]
fn marsaglia_tsang_h_has_the_right_mean_under_acceptance() {
    // h(0, α) = α − 1/3, and ∂h/∂ε at 0 is 3(α − 1/3)c = √(α − 1/3): checked by finite difference.
    for alpha in [1.0, 2.5, 40.0] {
        let d = alpha - 1.0 / 3.0;
        assert!((marsaglia_tsang_h(0.0, alpha) - d).abs() < 1e-12);
        let fd = (marsaglia_tsang_h(1e-6, alpha) - marsaglia_tsang_h(-1e-6, alpha)) / 2e-6;
        assert!((fd - d.sqrt()).abs() < 1e-6);
    }
}
