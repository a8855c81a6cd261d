//! Solving symmetric block-Toeplitz systems by the block Levinson recursion (Whittle 1963,
//! Akaike 1973): `O(L² m³)` for `L` blocks of `m × m` instead of the `O((Lm)³)` of a dense
//! factorisation. BSS-eval's Gram matrices are of this kind once their rows are ordered by
//! lag, then source: `T[(a,i),(b,j)] = R(b − a)[i][j]` with `R(−k) = R(k)ᵀ`.
//!
//! The recursion keeps, for the leading `n` blocks, the forward and backward solutions
//! `T_n f = [I 0 … 0]ᵀ`, `T_n b = [0 … 0 I]ᵀ` and the solution of the system itself, and
//! extends all three by one block per step. It breaks down only when a leading block minor is
//! singular; the caller then falls back to a dense solver.

/// A block-Toeplitz matrix of `len × len` blocks of `m × m`, `T[a][b] = R(b − a)`.
pub struct BlockToeplitz {
    m: usize,
    len: usize,
    /// `R(k)` for `k = −(len − 1) … len − 1`, row-major `m × m` each.
    blocks: Vec<f64>,
}

/// Inverse by Gauss–Jordan with partial pivoting; `None` when (numerically) singular.
fn inverse(m: usize, a: &[f64]) -> Option<Vec<f64>> {
    let mut w = a.to_vec();
    let mut inv = vec![0.0; m * m];
    for i in 0..m {
        inv[i * m + i] = 1.0;
    }
    let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    for c in 0..m {
        let p = (c..m).max_by(|&x, &y| w[x * m + c].abs().total_cmp(&w[y * m + c].abs()))?;
        if w[p * m + c].abs() <= scale * 1e-14 || !w[p * m + c].is_finite() {
            return None;
        }
        for j in 0..m {
            w.swap(c * m + j, p * m + j);
            inv.swap(c * m + j, p * m + j);
        }
        let d = w[c * m + c];
        for j in 0..m {
            w[c * m + j] /= d;
            inv[c * m + j] /= d;
        }
        for r in 0..m {
            if r != c {
                let f = w[r * m + c];
                if f != 0.0 {
                    for j in 0..m {
                        w[r * m + j] -= f * w[c * m + j];
                        inv[r * m + j] -= f * inv[c * m + j];
                    }
                }
            }
        }
    }
    Some(inv)
}

impl BlockToeplitz {
    /// `R(k)[i][j] = lag(i, j, k)` for `|k| < len`.
    pub fn new(m: usize, len: usize, lag: impl Fn(usize, usize, isize) -> f64) -> Self {
        let mut blocks = Vec::with_capacity((2 * len - 1) * m * m);
        for k in -(len as isize - 1)..len as isize {
            for i in 0..m {
                for j in 0..m {
                    blocks.push(lag(i, j, k));
                }
            }
        }
        Self { m, len, blocks }
    }

    /// Block size `m`.
    pub fn block_size(&self) -> usize {
        self.m
    }

    /// Number of blocks per row `len`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the matrix has no blocks.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn block(&self, k: isize) -> &[f64] {
        let mm = self.m * self.m;
        let at = (k + self.len as isize - 1) as usize * mm;
        &self.blocks[at..at + mm]
    }

    /// The matrix written out, row `(a, i)` at `a·m + i`.
    pub fn dense(&self) -> nalgebra::DMatrix<f64> {
        let (m, l) = (self.m, self.len);
        nalgebra::DMatrix::from_fn(l * m, l * m, |r, c| {
            self.block(c as isize / m as isize - r as isize / m as isize)[(r % m) * m + c % m]
        })
    }

    /// `T·x` for `x` laid out as the rows, `O(L² m²)`.
    pub fn mul(&self, x: &[f64]) -> Vec<f64> {
        match self.m {
            1 => self.mul_fixed::<1>(x),
            2 => self.mul_fixed::<2>(x),
            3 => self.mul_fixed::<3>(x),
            4 => self.mul_fixed::<4>(x),
            _ => self.mul_any(x),
        }
    }

    fn mul_fixed<const M: usize>(&self, x: &[f64]) -> Vec<f64> {
        let l = self.len;
        let mut out = vec![0.0; l * M];
        for (a, o) in out.chunks_exact_mut(M).enumerate() {
            // Row a needs R(b − a) for b = 0 … l − 1: the blocks from index l − 1 − a on.
            let start = (l - 1 - a) * M * M;
            let blocks = &self.blocks[start..start + l * M * M];
            for (r, xb) in blocks.chunks_exact(M * M).zip(x.chunks_exact(M)) {
                for i in 0..M {
                    for j in 0..M {
                        o[i] += r[i * M + j] * xb[j];
                    }
                }
            }
        }
        out
    }

    fn mul_any(&self, x: &[f64]) -> Vec<f64> {
        let (m, l) = (self.m, self.len);
        let mut out = vec![0.0; l * m];
        for a in 0..l {
            for b in 0..l {
                let r = self.block(b as isize - a as isize);
                for i in 0..m {
                    out[a * m + i] += (0..m).map(|j| r[i * m + j] * x[b * m + j]).sum::<f64>();
                }
            }
        }
        out
    }

    /// Solves `T x = d` for every right-hand side (rows laid out `a·m + i`); `None` when the
    /// recursion breaks down (a singular leading block minor). Block sizes 1 to 6 run on
    /// fixed-size blocks (the inner products unrolled); larger ones are not supported.
    pub fn solve(&self, rhs: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
        match self.m {
            1 => self.solve_fixed::<1>(rhs),
            2 => self.solve_fixed::<2>(rhs),
            3 => self.solve_fixed::<3>(rhs),
            4 => self.solve_fixed::<4>(rhs),
            5 => self.solve_fixed::<5>(rhs),
            6 => self.solve_fixed::<6>(rhs),
            _ => None,
        }
    }

    fn solve_fixed<const M: usize>(&self, rhs: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
        type Block<const M: usize> = [[f64; M]; M];
        let l = self.len;
        if l == 0 || rhs.iter().any(|d| d.len() != l * M) {
            return None;
        }
        let blocks: Vec<Block<M>> = self
            .blocks
            .chunks_exact(M * M)
            .map(|c| core::array::from_fn(|i| core::array::from_fn(|j| c[i * M + j])))
            .collect();
        // R(k) for k = −(l − 1) … l − 1.
        let r = |k: isize| &blocks[(k + l as isize - 1) as usize];
        let mul = |a: &Block<M>, b: &Block<M>| -> Block<M> {
            core::array::from_fn(|i| core::array::from_fn(|j| (0..M).map(|k| a[i][k] * b[k][j]).sum()))
        };
        let add_mul = |acc: &mut Block<M>, a: &Block<M>, b: &Block<M>| {
            for i in 0..M {
                for j in 0..M {
                    acc[i][j] += (0..M).map(|k| a[i][k] * b[k][j]).sum::<f64>();
                }
            }
        };
        let inv = |a: &Block<M>| -> Option<Block<M>> {
            let flat: Vec<f64> = a.iter().flatten().copied().collect();
            let v = inverse(M, &flat)?;
            Some(core::array::from_fn(|i| core::array::from_fn(|j| v[i * M + j])))
        };
        let identity: Block<M> =
            core::array::from_fn(|i| core::array::from_fn(|j| if i == j { 1.0 } else { 0.0 }));
        let minus = |a: &Block<M>, b: &Block<M>| -> Block<M> {
            core::array::from_fn(|i| core::array::from_fn(|j| a[i][j] - b[i][j]))
        };
        let r0_inv = inv(r(0))?;
        let mut f: Vec<Block<M>> = vec![r0_inv];
        let mut b: Vec<Block<M>> = vec![r0_inv];
        let mut xs: Vec<Vec<[f64; M]>> = rhs
            .iter()
            .map(|d| {
                vec![core::array::from_fn(|i| {
                    (0..M).map(|j| r0_inv[i][j] * d[j]).sum()
                })]
            })
            .collect();
        let (mut f_new, mut b_new): (Vec<Block<M>>, Vec<Block<M>>) = (Vec::new(), Vec::new());
        for n in 1..l {
            // ε_f = Σ R(a − n) f_a (row n of T_{n+1}); ε_b = Σ R(a + 1) b_a (row 0).
            // R(a − n) for a = 0 … n − 1 is blocks[l − 1 − n ..], R(a + 1) blocks[l ..]: slices
            // walked in step, without an index check per block.
            let (behind, ahead) = (&blocks[l - 1 - n..l - 1], &blocks[l..l + n]);
            let mut ef = [[0.0; M]; M];
            let mut eb = [[0.0; M]; M];
            for (((rf, fa), rb), ba) in behind.iter().zip(&f).zip(ahead).zip(&b) {
                add_mul(&mut ef, rf, fa);
                add_mul(&mut eb, rb, ba);
            }
            // α = (I − ε_b ε_f)⁻¹, β = −ε_f α; δ = (I − ε_f ε_b)⁻¹, γ = −ε_b δ.
            let alpha = inv(&minus(&identity, &mul(&eb, &ef)))?;
            let delta = inv(&minus(&identity, &mul(&ef, &eb)))?;
            let beta = minus(&[[0.0; M]; M], &mul(&ef, &alpha));
            let gamma = minus(&[[0.0; M]; M], &mul(&eb, &delta));
            // f' = [f; 0] α + [0; b] β, b' = [f; 0] γ + [0; b] δ.
            f_new.clear();
            b_new.clear();
            for a in 0..=n {
                let (mut fa, mut ba) = ([[0.0; M]; M], [[0.0; M]; M]);
                if a < n {
                    add_mul(&mut fa, &f[a], &alpha);
                    add_mul(&mut ba, &f[a], &gamma);
                }
                if a > 0 {
                    add_mul(&mut fa, &b[a - 1], &beta);
                    add_mul(&mut ba, &b[a - 1], &delta);
                }
                f_new.push(fa);
                b_new.push(ba);
            }
            std::mem::swap(&mut f, &mut f_new);
            std::mem::swap(&mut b, &mut b_new);
            // x' = [x; 0] + b' (d_n − ε_x), ε_x = Σ R(a − n) x_a.
            for (x, d) in xs.iter_mut().zip(rhs) {
                let mut v: [f64; M] = core::array::from_fn(|i| d[n * M + i]);
                for (ra, xa) in behind.iter().zip(x.iter()) {
                    for i in 0..M {
                        v[i] -= (0..M).map(|j| ra[i][j] * xa[j]).sum::<f64>();
                    }
                }
                x.push([0.0; M]);
                for (xa, ba) in x.iter_mut().zip(&b) {
                    for i in 0..M {
                        xa[i] += (0..M).map(|j| ba[i][j] * v[j]).sum::<f64>();
                    }
                }
            }
        }
        // A non-finite f or b stops the next step (the block inverse refuses a non-finite
        // pivot) and reaches the solutions through b' (nothing here maps ∞ or NaN back to a
        // finite value), so one check of the solutions here replaces a scan of f and b per
        // step; the caller's residual check judges the rest.
        if !xs.iter().flatten().flatten().all(|v| v.is_finite()) {
            return None;
        }
        Some(
            xs.into_iter()
                .map(|x| x.into_iter().flatten().collect())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a dense solve, on the Gram matrix of delayed copies of random signals.
    #[test]
    fn matches_a_dense_solve() {
        let mut rng = vaenmf_core::gamma::Prng::new(5);
        for m in [1, 2, 3] {
            let n = 400;
            let sig: Vec<Vec<f64>> = (0..m).map(|_| (0..n).map(|_| rng.normal()).collect()).collect();
            let l = 24;
            // R(k)[i][j] = Σ_t s_i[t + k] s_j[t].
            let t = BlockToeplitz::new(m, l, |i, j, k| {
                (0..n)
                    .filter_map(|u| {
                        let v = u as isize + k;
                        (0..n as isize)
                            .contains(&v)
                            .then(|| sig[i][v as usize] * sig[j][u])
                    })
                    .sum()
            });
            let d: Vec<f64> = (0..l * m).map(|_| rng.normal()).collect();
            let x = t.solve(std::slice::from_ref(&d)).expect("SPD system")[0].clone();
            let dense = t
                .dense()
                .lu()
                .solve(&nalgebra::DVector::from_vec(d.clone()))
                .unwrap();
            let err = x
                .iter()
                .zip(dense.iter())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let scale = dense.iter().fold(0.0f64, |s, v| s.max(v.abs()));
            assert!(err < 1e-9 * scale, "m = {m}: max error {err:e} (scale {scale:e})");
            let back = t.mul(&x);
            let res = back
                .iter()
                .zip(&d)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(res < 1e-9, "m = {m}: residual {res:e}");
        }
    }
}
