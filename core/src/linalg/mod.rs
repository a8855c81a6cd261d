//! `W·z` reconstruction and nonnegative least squares for a fixed dictionary; the run-time
//! sized dense layer (`dense`, crate-internal).

mod dense;

pub(crate) use dense::dense;

use nalgebra::{Cholesky, SMatrix, SMatrixView, SVector};

use crate::error::{len_u32, InputError};

/// A row-major `M × R` dictionary read as the column-major `R × M` matrix `Wᵀ` (no copy,
/// contiguous layout).
fn transposed<const M: usize, const R: usize>(w: &[[f32; R]; M]) -> SMatrixView<'_, f32, R, M> {
    SMatrixView::from_slice(w.as_flattened())
}

/// Reconstruction `x̂ = W z` for a dictionary stored one row per channel.
pub fn reconstruct<const M: usize, const R: usize>(w: &[[f32; R]; M], z: &[f32; R]) -> [f32; M] {
    let xhat = transposed(w).tr_mul(&SVector::<f32, R>::from_column_slice(z));
    xhat.into()
}

/// Outcome of one NNLS solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NnlsSolution<const R: usize> {
    /// The nonnegative activations.
    pub z: [f32; R],
    /// Outer (active-set) iterations used.
    pub iterations: u32,
    /// False when the iteration bound was reached before the KKT conditions held; `z` is
    /// then the best feasible point found.
    pub converged: bool,
}

/// Lawson–Hanson active-set NNLS, `min ‖W z − x‖² s.t. z ≥ 0`, for one fixed dictionary.
///
/// The rank `R` is a const generic (the passive-set algebra is fixed-size); the number of
/// channels is the dictionary's length, so hosts can serve any channel count from one
/// instantiation per rank. Precomputes `WᵀW` once; each solve costs `O(M·R)` for `Wᵀx` plus at most `3R` outer
/// iterations of an `R × R` Cholesky solve on the passive set (masked to a fixed size, so
/// nothing is allocated). Deterministic: ties go to the lowest index. A column that makes the
/// passive system singular (zero or duplicate columns) is kept out of the passive set.
#[derive(Debug, Clone)]
pub struct NnlsSolver<'a, const R: usize> {
    dictionary: &'a [[f32; R]],
    gram: SMatrix<f32, R, R>,
    /// Largest column norm of `W`, for the optimality tolerance.
    max_column_norm: f32,
}

impl<'a, const R: usize> NnlsSolver<'a, R> {
    /// Prepares the solver for dictionary `w` (one row of `R` weights per channel).
    pub fn new(w: &'a [[f32; R]]) -> Self {
        let mut gram = SMatrix::<f32, R, R>::zeros();
        for row in w {
            let v = SVector::<f32, R>::from_column_slice(row);
            gram += v * v.transpose();
        }
        let max_column_norm = (0..R).map(|j| libm::sqrtf(gram[(j, j)])).fold(0.0f32, f32::max);
        Self {
            dictionary: w,
            gram,
            max_column_norm,
        }
    }

    /// Number of channels of the dictionary.
    pub fn channels(&self) -> usize {
        self.dictionary.len()
    }

    /// Solves for one frame of [`channels`](Self::channels) values. Errors on a length
    /// mismatch or a non-finite input value (naming its channel).
    pub fn solve(&self, x: &[f32]) -> Result<NnlsSolution<R>, InputError> {
        if x.len() != self.dictionary.len() {
            return Err(InputError::LengthMismatch {
                expected: len_u32(self.dictionary.len()),
                found: len_u32(x.len()),
            });
        }
        if let Some(channel) = x.iter().position(|v| !v.is_finite()) {
            return Err(InputError::NonFinite {
                channel: len_u32(channel),
            });
        }
        let mut c = SVector::<f32, R>::zeros();
        for (row, &xi) in self.dictionary.iter().zip(x) {
            c += SVector::<f32, R>::from_column_slice(row) * xi;
        }
        let x_norm = libm::sqrtf(x.iter().map(|v| v * v).sum::<f32>());
        // Gradient entries are a_jᵀ(x − Wz); their rounding error scales with ‖a_j‖·‖x‖.
        let tol = 64.0 * f32::EPSILON * (R as f32) * self.max_column_norm * x_norm;

        let mut passive = [false; R];
        let mut excluded = [false; R];
        let mut z = SVector::<f32, R>::zeros();
        let mut iterations = 0u32;
        let max_iterations = 3 * R as u32;
        loop {
            let w = c - self.gram * z;
            let candidate = (0..R)
                .filter(|&j| !passive[j] && !excluded[j] && w[j] > tol)
                .fold(None, |best: Option<usize>, j| match best {
                    Some(b) if w[b] >= w[j] => Some(b),
                    _ => Some(j),
                });
            let Some(t) = candidate else {
                return Ok(self.finish(z, iterations, true));
            };
            if iterations >= max_iterations {
                return Ok(self.finish(z, iterations, false));
            }
            iterations += 1;
            passive[t] = true;
            // Inner loop: each pass removes at least one index from the passive set.
            for _ in 0..=R {
                let Some(s) = self.solve_passive(&passive, &c) else {
                    // Column t is (numerically) dependent on the passive set: keep it out.
                    passive[t] = false;
                    excluded[t] = true;
                    z[t] = 0.0;
                    break;
                };
                if (0..R).all(|j| !passive[j] || s[j] > 0.0) {
                    z = s;
                    break;
                }
                // Step from z towards s until the first passive variable hits zero.
                let mut step = 1.0f32;
                for j in 0..R {
                    if passive[j] && s[j] <= 0.0 {
                        let denom = z[j] - s[j];
                        if denom > 0.0 {
                            step = step.min(z[j] / denom);
                        } else {
                            step = 0.0;
                        }
                    }
                }
                z += (s - z) * step;
                for j in 0..R {
                    if passive[j] && (z[j] <= 0.0 || (s[j] <= 0.0 && z[j] <= f32::EPSILON * z.amax())) {
                        passive[j] = false;
                        z[j] = 0.0;
                    }
                }
            }
        }
    }

    /// Least squares restricted to the passive set: `G_PP s_P = c_P`, `s` zero elsewhere.
    /// Masking non-passive rows and columns to the identity keeps the system `R × R`.
    fn solve_passive(&self, passive: &[bool; R], c: &SVector<f32, R>) -> Option<SVector<f32, R>> {
        let mut a = self.gram;
        let mut b = *c;
        for j in 0..R {
            if !passive[j] {
                a.row_mut(j).fill(0.0);
                a.column_mut(j).fill(0.0);
                a[(j, j)] = 1.0;
                b[j] = 0.0;
            }
        }
        let chol = Cholesky::new(a)?;
        // A pivot tiny relative to its diagonal means a dependent column: the solve would
        // amplify rounding into huge opposite-signed coefficients.
        let l = chol.l_dirty();
        for j in 0..R {
            if passive[j] && l[(j, j)] * l[(j, j)] <= 1e-5 * a[(j, j)] {
                return None;
            }
        }
        Some(chol.solve(&b))
    }

    fn finish(&self, z: SVector<f32, R>, iterations: u32, converged: bool) -> NnlsSolution<R> {
        NnlsSolution {
            z: core::array::from_fn(|j| z[j].max(0.0)),
            iterations,
            converged,
        }
    }
}
