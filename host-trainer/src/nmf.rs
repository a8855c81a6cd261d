//! NMF baselines: Lee–Seung multiplicative updates for the Frobenius norm and the
//! generalised Kullback–Leibler divergence, an L1-sparse variant, and NNDSVD / NNDSVDa /
//! random initialisation.
//!
//! Notation: `X` is frames × channels here (the file layout), factorised as `X ≈ Z Wᵀ` with
//! activations `Z` (frames × r) and synergies `W` (channels × r) — the paper's `X ≈ W z` per
//! frame. Each iteration is one fused pass over the frames: update `z_f` from the current
//! `W`, then accumulate the statistics the `W` update needs (`XᵀZ`, `ZᵀZ`, or the KL ratio
//! terms) with the new `z_f`. That is exactly the alternating update (Z with old W, then W
//! with new Z) with the data read once per iteration. The rank is a const generic inside the
//! kernels (dispatched at run time) so the per-frame loops are fully unrolled.

use anyhow::{bail, Result};
use nalgebra::{DMatrix, SymmetricEigen};
use vaenmf_core::gamma::Prng;

use crate::data::EmgMatrix;

/// Divergence minimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NmfLoss {
    /// ½‖X − Z Wᵀ‖²_F.
    Frobenius,
    /// Generalised KL divergence D(X ‖ Z Wᵀ).
    KullbackLeibler,
}

/// Initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NmfInit {
    /// Nonnegative double SVD (Boutsidis & Gallopoulos 2008); zeros stay zero.
    Nndsvd,
    /// NNDSVD with zeros replaced by the data mean (better for multiplicative updates).
    Nndsvda,
    /// Scaled absolute Gaussian values.
    Random,
}

/// NMF settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NmfConfig {
    /// Number of synergies.
    pub rank: usize,
    /// Divergence.
    pub loss: NmfLoss,
    /// L1 penalty on activations, in scikit-learn's convention (`alpha_H` with
    /// `l1_ratio = 1`: the penalty is `sparsity × channels × Σ z`). With a penalty, synergy
    /// columns are renormalised to unit norm after every update so the penalty cannot be
    /// evaded by scaling `W` up and `Z` down (Hoyer 2004). 0 disables both.
    pub sparsity: f32,
    /// Initialisation of the first run.
    pub init: NmfInit,
    /// Maximum iterations per run.
    pub iterations: usize,
    /// Stop when the objective's decrease over 10 iterations, relative to its initial
    /// value, is below `tol` (scikit-learn's rule); 0 runs all iterations.
    pub tol: f64,
    /// Runs; the first uses `init`, the others random starts. The lowest objective wins.
    pub restarts: usize,
    /// Seed of the random starts.
    pub seed: u64,
}

/// A factorisation.
#[derive(Debug, Clone)]
pub struct NmfFit {
    /// Synergies, channels × r, row-major.
    pub w: Vec<f32>,
    /// Activations, frames × r, frame-major.
    pub z: Vec<f32>,
    /// Iterations of the winning run.
    pub iterations: usize,
    /// Final objective of the winning run.
    pub objective: f64,
    /// Objectives of all runs, in order.
    pub run_objectives: Vec<f64>,
}

const EPS: f32 = 1e-12;

/// Fits NMF to nonnegative `x`.
pub fn fit(x: &EmgMatrix, cfg: &NmfConfig, mut progress: impl FnMut(usize, usize)) -> Result<NmfFit> {
    let (n, m, r) = (x.frames, x.channels, cfg.rank);
    if r == 0 || r > 16 {
        bail!("rank must be between 1 and 16, got {r}");
    }
    if r >= m.min(n) {
        bail!("rank {r} must be smaller than min(channels, frames) = {}", m.min(n));
    }
    if let Some(i) = x.data.iter().position(|&v| v < 0.0 || !v.is_finite()) {
        bail!(
            "NMF needs finite nonnegative data; frame {}, channel {} is {}",
            i / m + 1,
            i % m + 1,
            x.data[i]
        );
    }
    let mut best: Option<NmfFit> = None;
    let mut objectives = Vec::new();
    for run in 0..cfg.restarts.max(1) {
        let init = if run == 0 { cfg.init } else { NmfInit::Random };
        let (mut w, mut z) = initialize(x, r, init, cfg.seed.wrapping_add(run as u64));
        let (iterations, objective) = run_mu(x, &mut w, &mut z, cfg, |it| progress(run, it));
        objectives.push(objective);
        if best.as_ref().is_none_or(|b| objective < b.objective) {
            best = Some(NmfFit {
                w,
                z,
                iterations,
                objective,
                run_objectives: Vec::new(),
            });
        }
    }
    let mut best = best.expect("at least one run");
    best.run_objectives = objectives;
    Ok(best)
}

/// Initial (W, Z).
pub fn initialize(x: &EmgMatrix, r: usize, init: NmfInit, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let (n, m) = (x.frames, x.channels);
    let mean = x.data.iter().map(|&v| f64::from(v)).sum::<f64>() / x.data.len() as f64;
    if init == NmfInit::Random {
        let mut rng = Prng::new(seed);
        let scale = (mean / r as f64).sqrt();
        let w = (0..m * r).map(|_| (scale * rng.normal().abs()) as f32).collect();
        let z = (0..n * r).map(|_| (scale * rng.normal().abs()) as f32).collect();
        return (w, z);
    }
    // SVD of X (n × m) through the eigendecomposition of XᵀX (m × m, m small):
    // right singular vectors v_k, σ_k = √λ_k, left u_k = X v_k / σ_k.
    let mut gram = DMatrix::<f64>::zeros(m, m);
    for f in x.frames_iter() {
        for i in 0..m {
            for j in 0..=i {
                gram[(i, j)] += f64::from(f[i]) * f64::from(f[j]);
            }
        }
    }
    for i in 0..m {
        for j in 0..i {
            gram[(j, i)] = gram[(i, j)];
        }
    }
    let eig = SymmetricEigen::new(gram);
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let mut w = vec![0.0f64; m * r];
    let mut z = vec![0.0f64; n * r];
    for (k, &idx) in order.iter().take(r).enumerate() {
        let sigma = eig.eigenvalues[idx].max(0.0).sqrt();
        let v: Vec<f64> = (0..m).map(|i| eig.eigenvectors[(i, idx)]).collect();
        let u: Vec<f64> = if sigma > 0.0 {
            x.frames_iter()
                .map(|f| f.iter().zip(&v).map(|(&a, &b)| f64::from(a) * b).sum::<f64>() / sigma)
                .collect()
        } else {
            vec![0.0; n]
        };
        let norm = |it: &mut dyn Iterator<Item = f64>| it.map(|a| a * a).sum::<f64>().sqrt();
        let (uu, vv, s): (Vec<f64>, Vec<f64>, f64) = if k == 0 {
            (u.iter().map(|a| a.abs()).collect(), v.iter().map(|a| a.abs()).collect(), sigma)
        } else {
            let (up, un) = (norm(&mut u.iter().map(|a| a.max(0.0))), norm(&mut u.iter().map(|a| (-a).max(0.0))));
            let (vp, vn) = (norm(&mut v.iter().map(|a| a.max(0.0))), norm(&mut v.iter().map(|a| (-a).max(0.0))));
            let (positive, scale) = if up * vp > un * vn { (true, up * vp) } else { (false, un * vn) };
            let pick = |vec: &[f64], nrm: f64| -> Vec<f64> {
                vec.iter()
                    .map(|&a| {
                        let part = if positive { a.max(0.0) } else { (-a).max(0.0) };
                        if nrm > 0.0 {
                            part / nrm
                        } else {
                            0.0
                        }
                    })
                    .collect()
            };
            let (un_, vn_) = if positive { (up, vp) } else { (un, vn) };
            (pick(&u, un_), pick(&v, vn_), sigma * scale)
        };
        let lambda = s.sqrt();
        for f in 0..n {
            z[f * r + k] = lambda * uu[f];
        }
        for i in 0..m {
            w[i * r + k] = lambda * vv[i];
        }
    }
    let fill = if init == NmfInit::Nndsvda { mean } else { 0.0 };
    let finish = |v: Vec<f64>| -> Vec<f32> {
        v.into_iter()
            .map(|a| if a < 1e-6 { fill as f32 } else { a as f32 })
            .collect()
    };
    (finish(w), finish(z))
}

/// Multiplicative updates; returns (iterations, final objective).
fn run_mu(
    x: &EmgMatrix,
    w: &mut [f32],
    z: &mut [f32],
    cfg: &NmfConfig,
    progress: impl FnMut(usize),
) -> (usize, f64) {
    macro_rules! dispatch {
        ($($r:literal)*) => {
            match cfg.rank {
                $($r => MuRun::<$r>::new(x, w, z, cfg).run(progress),)*
                _ => unreachable!("rank checked in fit()"),
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

struct MuRun<'a, const R: usize> {
    x: &'a EmgMatrix,
    w: &'a mut [f32],
    z: &'a mut [[f32; R]],
    cfg: &'a NmfConfig,
}

impl<'a, const R: usize> MuRun<'a, R> {
    fn new(x: &'a EmgMatrix, w: &'a mut [f32], z: &'a mut [f32], cfg: &'a NmfConfig) -> Self {
        let (chunks, _) = z.as_chunks_mut::<R>();
        Self { x, w, z: chunks, cfg }
    }

    fn run(mut self, mut progress: impl FnMut(usize)) -> (usize, f64) {
        let mut initial = None;
        let mut previous = f64::INFINITY;
        let mut done = 0;
        let mut objective = f64::NAN;
        for it in 1..=self.cfg.iterations {
            let check = it % 10 == 0 || it == self.cfg.iterations;
            objective = match self.cfg.loss {
                NmfLoss::Frobenius => self.frobenius_step(check),
                NmfLoss::KullbackLeibler => self.kl_step(check),
            };
            done = it;
            progress(it);
            if check {
                let init = *initial.get_or_insert(objective);
                if self.cfg.tol > 0.0 && (previous - objective) / init < self.cfg.tol {
                    break;
                }
                previous = objective;
            }
        }
        if !objective.is_finite() || done % 10 != 0 {
            objective = self.objective();
        }
        (done, objective)
    }

    fn w_rows(&self) -> Vec<[f32; R]> {
        self.w.as_chunks::<R>().0.to_vec()
    }

    /// One Frobenius iteration. Returns the objective (with the new Z and the old W) when
    /// `want_objective`, else NaN.
    fn frobenius_step(&mut self, want_objective: bool) -> f64 {
        let m = self.x.channels;
        let w = self.w_rows();
        // G = WᵀW (+ λ on the diagonal's right-hand side below).
        let mut g = [[0.0f32; R]; R];
        for row in &w {
            for a in 0..R {
                for b in 0..R {
                    g[a][b] += row[a] * row[b];
                }
            }
        }
        let lambda = self.cfg.sparsity * m as f32;
        let mut xtz = vec![[0.0f64; R]; m];
        let mut ztz = [[0.0f64; R]; R];
        let mut xtz_block = vec![[0.0f32; R]; m];
        let mut ztz_block = [[0.0f32; R]; R];
        let mut err = 0.0f64;
        const BLOCK: usize = 256;
        for (frames, zs) in self.x.data.chunks(BLOCK * m).zip(self.z.chunks_mut(BLOCK)) {
            for (xf, zf) in frames.chunks_exact(m).zip(zs.iter_mut()) {
                // a = Wᵀx.
                let mut a = [0.0f32; R];
                for (&xi, wi) in xf.iter().zip(&w) {
                    for k in 0..R {
                        a[k] += wi[k] * xi;
                    }
                }
                // z ← z ⊙ a / (G z + λ).
                let mut gz = [0.0f32; R];
                for k in 0..R {
                    for l in 0..R {
                        gz[k] += g[k][l] * zf[l];
                    }
                }
                for k in 0..R {
                    zf[k] *= a[k] / (gz[k] + lambda).max(EPS);
                }
                if want_objective {
                    // ‖x − Wz‖² = xᵀx − 2 zᵀa + zᵀGz.
                    let xx: f32 = xf.iter().map(|v| v * v).sum();
                    let mut zgz = 0.0f32;
                    let mut za = 0.0f32;
                    for k in 0..R {
                        za += zf[k] * a[k];
                        for l in 0..R {
                            zgz += zf[k] * g[k][l] * zf[l];
                        }
                    }
                    err += f64::from(xx - 2.0 * za + zgz);
                }
                for (&xi, acc) in xf.iter().zip(xtz_block.iter_mut()) {
                    for k in 0..R {
                        acc[k] += xi * zf[k];
                    }
                }
                for k in 0..R {
                    for l in 0..R {
                        ztz_block[k][l] += zf[k] * zf[l];
                    }
                }
            }
            flush(&mut xtz, &mut xtz_block);
            flush(&mut ztz, &mut ztz_block);
        }
        // W ← W ⊙ XᵀZ / (W ZᵀZ).
        for (i, row) in self.w.chunks_exact_mut(R).enumerate() {
            let mut wz = [0.0f64; R];
            for k in 0..R {
                for l in 0..R {
                    wz[k] += f64::from(row[l]) * ztz[l][k];
                }
            }
            for k in 0..R {
                row[k] = (f64::from(row[k]) * xtz[i][k] / wz[k].max(f64::from(EPS))) as f32;
            }
        }
        if self.cfg.sparsity > 0.0 {
            self.normalize_columns();
        }
        if want_objective {
            let l1: f64 = self.z.iter().flatten().map(|&v| f64::from(v)).sum();
            0.5 * err + f64::from(lambda) * l1
        } else {
            f64::NAN
        }
    }

    /// Unit-norm synergy columns, activations rescaled so Z Wᵀ is unchanged.
    fn normalize_columns(&mut self) {
        let mut norms = [0.0f32; R];
        for row in self.w.chunks_exact(R) {
            for k in 0..R {
                norms[k] += row[k] * row[k];
            }
        }
        let norms = norms.map(|s| if s > 0.0 { s.sqrt() } else { 1.0 });
        for row in self.w.chunks_exact_mut(R) {
            for k in 0..R {
                row[k] /= norms[k];
            }
        }
        for zf in self.z.iter_mut() {
            for k in 0..R {
                zf[k] *= norms[k];
            }
        }
    }

    /// One KL iteration. Returns the divergence (new Z, old W) when asked, else NaN.
    fn kl_step(&mut self, want_objective: bool) -> f64 {
        let m = self.x.channels;
        let w = self.w_rows();
        let mut colsum = [0.0f32; R];
        for row in &w {
            for k in 0..R {
                colsum[k] += row[k];
            }
        }
        let lambda = self.cfg.sparsity * m as f32;
        let mut num = vec![[0.0f64; R]; m];
        let mut zsum = [0.0f64; R];
        let mut num_block = vec![[0.0f32; R]; m];
        let mut zsum_block = [[0.0f32; R]; 1];
        let mut div = 0.0f64;
        let mut ratio = vec![0.0f32; m];
        const BLOCK: usize = 256;
        for (frames, zs) in self.x.data.chunks(BLOCK * m).zip(self.z.chunks_mut(BLOCK)) {
            for (xf, zf) in frames.chunks_exact(m).zip(zs.iter_mut()) {
                kl_ratio(xf, &w, zf, &mut ratio);
                let mut a = [0.0f32; R];
                for (&q, wi) in ratio.iter().zip(&w) {
                    for k in 0..R {
                        a[k] += wi[k] * q;
                    }
                }
                for k in 0..R {
                    zf[k] *= a[k] / (colsum[k] + lambda).max(EPS);
                }
                // Statistics for the W update with the new z.
                let d = kl_ratio(xf, &w, zf, &mut ratio);
                if want_objective {
                    div += d;
                }
                for (&q, acc) in ratio.iter().zip(num_block.iter_mut()) {
                    for k in 0..R {
                        acc[k] += q * zf[k];
                    }
                }
                for k in 0..R {
                    zsum_block[0][k] += zf[k];
                }
            }
            flush(&mut num, &mut num_block);
            flush(std::slice::from_mut(&mut zsum), &mut zsum_block);
        }
        for (i, row) in self.w.chunks_exact_mut(R).enumerate() {
            for k in 0..R {
                row[k] = (f64::from(row[k]) * num[i][k] / zsum[k].max(f64::from(EPS))) as f32;
            }
        }
        if self.cfg.sparsity > 0.0 {
            self.normalize_columns();
        }
        if want_objective {
            let l1: f64 = self.z.iter().flatten().map(|&v| f64::from(v)).sum();
            div + f64::from(lambda) * l1
        } else {
            f64::NAN
        }
    }

    /// Objective from scratch (used when the last iteration did not compute it).
    fn objective(&self) -> f64 {
        let w = self.w_rows();
        let m = self.x.channels;
        let mut ratio = vec![0.0f32; m];
        let lambda = f64::from(self.cfg.sparsity * m as f32);
        let l1: f64 = self.z.iter().flatten().map(|&v| f64::from(v)).sum();
        let data: f64 = self
            .x
            .frames_iter()
            .zip(self.z.iter())
            .map(|(xf, zf)| match self.cfg.loss {
                NmfLoss::Frobenius => {
                    0.5 * xf
                        .iter()
                        .zip(&w)
                        .map(|(&xi, wi)| {
                            let e = f64::from(xi) - (0..R).map(|k| f64::from(wi[k] * zf[k])).sum::<f64>();
                            e * e
                        })
                        .sum::<f64>()
                }
                NmfLoss::KullbackLeibler => kl_ratio(xf, &w, zf, &mut ratio),
            })
            .sum();
        data + lambda * l1
    }
}

/// For one frame: ratio x / (W z) into `ratio`, and returns D(x ‖ Wz).
fn kl_ratio<const R: usize>(xf: &[f32], w: &[[f32; R]], zf: &[f32; R], ratio: &mut [f32]) -> f64 {
    let mut d = 0.0f64;
    for ((&xi, wi), q) in xf.iter().zip(w).zip(ratio.iter_mut()) {
        let mut xh = 0.0f32;
        for k in 0..R {
            xh += wi[k] * zf[k];
        }
        let xh = xh.max(EPS);
        *q = xi / xh;
        d += if xi > 0.0 {
            f64::from(xi) * f64::from(*q).ln() - f64::from(xi) + f64::from(xh)
        } else {
            f64::from(xh)
        };
    }
    d
}

/// Adds f32 block sums into f64 totals and clears the block (keeps long sums accurate).
fn flush<const R: usize>(total: &mut [[f64; R]], block: &mut [[f32; R]]) {
    for (t, b) in total.iter_mut().zip(block.iter_mut()) {
        for k in 0..R {
            t[k] += f64::from(b[k]);
            b[k] = 0.0;
        }
    }
}
