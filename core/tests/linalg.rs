//! W·z and NNLS against brute force (f64) on random small problems, degenerate
//! dictionaries included, and the KKT conditions at every NNLS solution.
// The brute-force references index matrices the way the formulas are written.
#![allow(clippy::needless_range_loop)]

use proptest::prelude::*;
use vaenmf_core::{reconstruct, NnlsSolver};

const M: usize = 7;
const R: usize = 4;

fn to_dictionary(v: &[f32]) -> [[f32; R]; M] {
    core::array::from_fn(|i| core::array::from_fn(|j| v[i * R + j]))
}

/// Exact NNLS by enumeration: for every support set, unconstrained least squares (normal
/// equations, Gaussian elimination with partial pivoting in f64); keep the best feasible
/// point. Exponential, but exact for R = 4.
fn brute_force_nnls(w: &[[f32; R]; M], x: &[f32; M]) -> f64 {
    let mut best = objective(w, x, &[0.0; R]);
    for mask in 1u32..(1 << R) {
        let idx: Vec<usize> = (0..R).filter(|j| mask & (1 << j) != 0).collect();
        let k = idx.len();
        let mut a = vec![vec![0.0f64; k + 1]; k];
        for (p, &jp) in idx.iter().enumerate() {
            for (q, &jq) in idx.iter().enumerate() {
                a[p][q] = (0..M).map(|i| f64::from(w[i][jp]) * f64::from(w[i][jq])).sum();
            }
            a[p][k] = (0..M).map(|i| f64::from(w[i][jp]) * f64::from(x[i])).sum();
        }
        let Some(sol) = gauss(a) else { continue };
        if sol.iter().any(|&s| s < 0.0) {
            continue;
        }
        let mut z = [0.0f64; R];
        for (p, &j) in idx.iter().enumerate() {
            z[j] = sol[p];
        }
        best = best.min(objective(w, x, &z));
    }
    best
}

fn gauss(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let k = a.len();
    for col in 0..k {
        let piv = (col..k).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        for row in 0..k {
            if row != col {
                let f = a[row][col] / a[col][col];
                for c in col..=k {
                    a[row][c] -= f * a[col][c];
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i]).collect())
}

fn objective(w: &[[f32; R]; M], x: &[f32; M], z: &[f64; R]) -> f64 {
    (0..M)
        .map(|i| {
            let r = (0..R).map(|j| f64::from(w[i][j]) * z[j]).sum::<f64>() - f64::from(x[i]);
            r * r
        })
        .sum()
}

/// KKT for min ½‖Wz − x‖², z ≥ 0: gradient g = Wᵀ(x − Wz) ≤ tol everywhere and |g_j| ≤ tol
/// where z_j > 0.
fn assert_kkt(w: &[[f32; R]; M], x: &[f32; M], z: &[f32; R]) {
    let scale = (0..R)
        .map(|j| (0..M).map(|i| f64::from(w[i][j]).powi(2)).sum::<f64>().sqrt())
        .fold(0.0, f64::max)
        * x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
    let tol = 1e-3 * scale.max(1e-30);
    for j in 0..R {
        assert!(z[j] >= 0.0);
        let g: f64 = (0..M)
            .map(|i| {
                let r = f64::from(x[i]) - (0..R).map(|k| f64::from(w[i][k]) * f64::from(z[k])).sum::<f64>();
                f64::from(w[i][j]) * r
            })
            .sum();
        assert!(g <= tol, "gradient {g} > {tol} at {j}");
        if z[j] > 0.0 {
            assert!(g.abs() <= tol, "|gradient| {g} > {tol} at active {j}");
        }
    }
}

fn check_problem(w: &[[f32; R]; M], x: &[f32; M]) {
    let sol = NnlsSolver::new(w).solve(x).unwrap();
    assert!(sol.converged);
    let z64: [f64; R] = core::array::from_fn(|j| f64::from(sol.z[j]));
    let got = objective(w, x, &z64);
    let best = brute_force_nnls(w, x);
    let energy: f64 = x.iter().map(|&v| f64::from(v).powi(2)).sum();
    assert!(
        got <= best + 1e-4 * energy + 1e-12,
        "objective {got} vs brute force {best}"
    );
    assert_kkt(w, x, &sol.z);
}

fn dictionary_strategy() -> impl Strategy<Value = Vec<f32>> {
    proptest::collection::vec(0.0f32..1.0, M * R)
}

fn signal_strategy() -> impl Strategy<Value = Vec<f32>> {
    proptest::collection::vec(-0.5f32..2.0, M)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn reconstruction_matches_brute_force(w in dictionary_strategy(), z in proptest::collection::vec(0.0f32..3.0, R)) {
        let w = to_dictionary(&w);
        let z: [f32; R] = z.try_into().unwrap();
        let xhat = reconstruct(&w, &z);
        for i in 0..M {
            let want: f64 = (0..R).map(|j| f64::from(w[i][j]) * f64::from(z[j])).sum();
            prop_assert!((f64::from(xhat[i]) - want).abs() <= 1e-5 * (1.0 + want.abs()));
        }
    }

    #[test]
    fn nnls_is_optimal_on_random_problems(w in dictionary_strategy(), x in signal_strategy()) {
        check_problem(&to_dictionary(&w), &x.try_into().unwrap());
    }

    #[test]
    fn nnls_handles_a_zero_column(w in dictionary_strategy(), x in signal_strategy(), col in 0..R) {
        let mut w = to_dictionary(&w);
        for row in &mut w { row[col] = 0.0; }
        let x: [f32; M] = x.try_into().unwrap();
        check_problem(&w, &x);
        prop_assert_eq!(NnlsSolver::new(&w).solve(&x).unwrap().z[col], 0.0);
    }

    #[test]
    fn nnls_handles_duplicate_columns(w in dictionary_strategy(), x in signal_strategy(), a in 0..R, b in 0..R) {
        let mut w = to_dictionary(&w);
        for row in &mut w { row[b] = row[a]; }
        check_problem(&w, &x.try_into().unwrap());
    }

    #[test]
    fn nnls_recovers_exact_nonnegative_combinations(w in dictionary_strategy(), z in proptest::collection::vec(0.1f32..2.0, R)) {
        let w = to_dictionary(&w);
        let z: [f32; R] = z.try_into().unwrap();
        let x = reconstruct(&w, &z);
        check_problem(&w, &x);
    }
}

#[test]
fn nnls_rejects_non_finite_input_by_channel() {
    let w = [[1.0f32; R]; M];
    let mut x = [0.5f32; M];
    x[3] = f32::NAN;
    assert_eq!(
        NnlsSolver::new(&w).solve(&x).unwrap_err(),
        vaenmf_core::InputError::NonFinite { channel: 3 }
    );
}

#[test]
fn nnls_of_zero_signal_and_zero_dictionary_is_zero() {
    let w = [[0.0f32; R]; M];
    let sol = NnlsSolver::new(&w).solve(&[1.0; M]).unwrap();
    assert_eq!(sol.z, [0.0; R]);
    let w = [[0.5f32; R]; M];
    assert_eq!(NnlsSolver::new(&w).solve(&[0.0; M]).unwrap().z, [0.0; R]);
}

#[test]
fn nnls_serves_any_channel_count_and_checks_lengths() {
    // One solver type per rank; the channel count comes from the dictionary slice.
    let w: Vec<[f32; 2]> = vec![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
    let solver = NnlsSolver::new(&w);
    assert_eq!(solver.channels(), 3);
    let sol = solver.solve(&[1.0, 2.0, 3.0]).unwrap();
    assert!((sol.z[0] - 1.0).abs() < 1e-5 && (sol.z[1] - 2.0).abs() < 1e-5);
    assert_eq!(
        solver.solve(&[1.0, 2.0]).unwrap_err(),
        vaenmf_core::InputError::LengthMismatch {
            expected: 3,
            found: 2
        }
    );
}
