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
use crate::params::{self, Checked, ParamError};

pub mod gemm;
mod lanes;
mod loss;
mod product;

use lanes::{Lanes, LANES};

pub use loss::NmfLoss;

/// Initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
    /// value, is below `tol` (scikit-learn's rule, but on the objective itself: scikit-learn
    /// compares the square root of twice it, whose relative decrease is about half as large,
    /// so at the same `tol` it stops earlier); 0 runs all iterations.
    pub tol: f64,
    /// Runs; the first uses `init`, the others random starts. The lowest objective wins.
    pub restarts: usize,
    /// Seed of the random starts.
    pub seed: u64,
}

/// Settings that passed [`NmfConfig::check`].
pub type NmfParams = Checked<NmfConfig>;

/// Largest number of EMG synergies: the core's NNLS (used for refits and on the device) has
/// the rank as a const generic, instantiated for 1 ..= 16. The EMG commands enforce it.
pub const MAX_RANK: usize = 16;

/// Largest rank [`fit`] takes (spectrogram dictionaries: 40 per source, up to hundreds).
pub const MAX_DICTIONARY_RANK: usize = 1024;

/// Ranks up to this run on the rank-unrolled, frame-vectorised kernels below; larger ones on
/// dense matrix products ([`crate::nmf_gemm`]).
const UNROLLED_RANKS: usize = 16;

impl NmfConfig {
    /// Checks every setting once: rank 1 ..= [`MAX_DICTIONARY_RANK`], at least one
    /// iteration and one run, a finite tolerance and sparsity ≥ 0.
    pub fn check(self) -> Result<NmfParams, ParamError> {
        if !(1..=MAX_DICTIONARY_RANK).contains(&self.rank) {
            return Err(ParamError::new(
                "rank",
                self.rank,
                format!("between 1 and {MAX_DICTIONARY_RANK}"),
            ));
        }
        params::within("iterations", self.iterations, 1, params::limits::ITERATIONS)?;
        params::within("restarts", self.restarts, 1, params::limits::RESTARTS)?;
        params::nonnegative("tol", self.tol)?;
        params::nonnegative("sparsity", f64::from(self.sparsity))?;
        Ok(Checked::new_unchecked(self))
    }
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
pub fn fit(x: &EmgMatrix, cfg: &NmfParams, mut progress: impl FnMut(usize, usize)) -> Result<NmfFit> {
    let (n, m, r) = (x.frames, x.channels, cfg.rank);
    if r >= m.min(n) {
        bail!(
            "rank {r} must be smaller than min(channels, frames) = {}",
            m.min(n)
        );
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
    for run in 0..cfg.restarts {
        let init = if run == 0 { cfg.init } else { NmfInit::Random };
        let (mut w, mut z) = initialize(x, r, init, cfg.seed.wrapping_add(run as u64));
        let (iterations, objective) = if r <= UNROLLED_RANKS {
            run_mu(x, &mut w, &mut z, cfg, |it| progress(run, it))
        } else {
            run_gemm(x, &mut w, &mut z, cfg, |it| progress(run, it))
        };
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
            (
                u.iter().map(|a| a.abs()).collect(),
                v.iter().map(|a| a.abs()).collect(),
                sigma,
            )
        } else {
            let (up, un) = (
                norm(&mut u.iter().map(|a| a.max(0.0))),
                norm(&mut u.iter().map(|a| (-a).max(0.0))),
            );
            let (vp, vn) = (
                norm(&mut v.iter().map(|a| a.max(0.0))),
                norm(&mut v.iter().map(|a| (-a).max(0.0))),
            );
            let (positive, scale) = if up * vp > un * vn {
                (true, up * vp)
            } else {
                (false, un * vn)
            };
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

/// [`crate::nmf_gemm`] on the same layouts as [`run_mu`]: `x` frames × m is `X` (m × frames,
/// column-major), `w` m × r row-major is `Wᵀ` column-major, `z` frames × r is `H` column-major.
fn run_gemm(
    x: &EmgMatrix,
    w: &mut [f32],
    z: &mut [f32],
    cfg: &NmfConfig,
    progress: impl FnMut(usize),
) -> (usize, f64) {
    let (m, n, r) = (x.channels, x.frames, cfg.rank);
    let xm = nalgebra::DMatrix::from_column_slice(m, n, &x.data);
    let mut wm = nalgebra::DMatrix::from_row_slice(m, r, w);
    let mut hm = nalgebra::DMatrix::from_column_slice(r, n, z);
    let settings = gemm::MuSettings {
        loss: cfg.loss,
        lambda: cfg.sparsity * m as f32,
        iterations: cfg.iterations,
        tol: cfg.tol,
        learn_w: true,
    };
    let out = gemm::run(&xm, &mut wm, &mut hm, &settings, progress);
    w.copy_from_slice(wm.transpose().as_slice());
    z.copy_from_slice(hm.as_slice());
    out
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

// Frames processed together, one per SIMD lane: per-frame work is tiny (m·r MACs), so
// vectorising across frames is what keeps the units busy (see `lanes`).
/// Blocks between flushes of the f32 lane sums into f64 totals.
const FLUSH_BLOCKS: usize = 64;

/// One run of multiplicative updates in a lane-blocked layout: block `b` holds frames
/// `8b..8b+8`; `x[b·m + c]` is channel `c` of those frames and `z[b·R + k]` synergy `k`'s
/// activations. The last block is padded with zero frames (x = 0 keeps z = 0, and zero
/// frames add nothing to any sum or objective).
struct MuRun<'a, const R: usize> {
    m: usize,
    x: Vec<Lanes>,
    z: Vec<Lanes>,
    w: &'a mut [f32],
    z_out: &'a mut [f32],
    cfg: &'a NmfConfig,
}

#[inline(always)]
fn sum_f64(l: &Lanes) -> f64 {
    l.as_array().iter().map(|&v| f64::from(v)).sum()
}

/// Lane-blocked copy of frame-major `values` with `width` values per frame.
fn to_lanes(values: &[f32], width: usize, frames: usize) -> Vec<Lanes> {
    let blocks = frames.div_ceil(LANES);
    let mut out = vec![[0.0f32; LANES]; blocks * width];
    for (f, vf) in values.chunks_exact(width).take(frames).enumerate() {
        let (b, l) = (f / LANES, f % LANES);
        for (c, &v) in vf.iter().enumerate() {
            out[b * width + c][l] = v;
        }
    }
    out.into_iter().map(Lanes::from).collect()
}

impl<'a, const R: usize> MuRun<'a, R> {
    fn new(x: &EmgMatrix, w: &'a mut [f32], z: &'a mut [f32], cfg: &'a NmfConfig) -> Self {
        Self {
            m: x.channels,
            x: to_lanes(&x.data, x.channels, x.frames),
            z: to_lanes(z, R, x.frames),
            w,
            z_out: z,
            cfg,
        }
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
        if !objective.is_finite() {
            objective = self.objective();
        }
        // Back to frame-major activations.
        for (f, zf) in self.z_out.chunks_exact_mut(R).enumerate() {
            let (b, l) = (f / LANES, f % LANES);
            for (k, v) in zf.iter_mut().enumerate() {
                *v = self.z[b * R + k].as_array()[l];
            }
        }
        (done, objective)
    }

    fn w_rows(&self) -> Vec<[f32; R]> {
        self.w.as_chunks::<R>().0.to_vec()
    }

    fn l1(&self) -> f64 {
        self.z.iter().map(sum_f64).sum()
    }

    /// One Frobenius iteration (Z with the old W, then W with the new Z). Returns the
    /// objective (new Z, old W) when `want_objective`, else NaN.
    fn frobenius_step(&mut self, want_objective: bool) -> f64 {
        let m = self.m;
        let w = self.w_rows();
        let mut g = [[0.0f32; R]; R];
        for row in &w {
            for a in 0..R {
                for b in 0..R {
                    g[a][b] += row[a] * row[b];
                }
            }
        }
        let lambda = self.cfg.sparsity * m as f32;
        // The frames are split in two halves summed on two threads (rayon's pool); the
        // per-block arithmetic is identical, so results do not depend on the split.
        let half = (self.z.len() / R).div_ceil(2);
        let (z_lo, z_hi) = self.z.split_at_mut(half * R);
        let (x_lo, x_hi) = self.x.split_at(half * m);
        let step = FrobeniusStep {
            m,
            w: &w,
            g: &g,
            lambda,
            want_objective,
        };
        let (lo, hi) = rayon::join(
            || frobenius_pass::<R>(x_lo, z_lo, step),
            || frobenius_pass::<R>(x_hi, z_hi, step),
        );
        let err = lo.err + hi.err;
        let ztz: [[f64; R]; R] =
            core::array::from_fn(|k| core::array::from_fn(|j| lo.ztz[k][j] + hi.ztz[k][j]));
        let xtz: Vec<[f64; R]> = lo
            .xtz
            .iter()
            .zip(&hi.xtz)
            .map(|(p, q)| core::array::from_fn(|k| p[k] + q[k]))
            .collect();
        // W ← W ⊙ XᵀZ / (W ZᵀZ).
        for (i, row) in self.w.chunks_exact_mut(R).enumerate() {
            let mut wz = [0.0f64; R];
            for k in 0..R {
                for l in 0..R {
                    wz[k] += f64::from(row[l]) * ztz[l][k];
                }
            }
            for k in 0..R {
                row[k] = flush_tiny_scalar(f64::from(row[k]) * xtz[i][k] / wz[k].max(f64::from(EPS)));
            }
        }
        if self.cfg.sparsity > 0.0 {
            self.normalize_columns();
        }
        if want_objective {
            0.5 * err + f64::from(lambda) * self.l1()
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
        for (i, zk) in self.z.iter_mut().enumerate() {
            *zk *= Lanes::splat(norms[i % R]);
        }
    }

    /// Per lane: `ratio = x / (W z)` for every channel; with `divergence`, returns
    /// D(x ‖ Wz) summed over the lanes (else 0).
    fn kl_ratio(xs: &[Lanes], w: &[[f32; R]], zs: &[Lanes; R], ratio: &mut [Lanes], divergence: bool) -> f64 {
        let eps = Lanes::splat(EPS);
        let mut d = 0.0f64;
        for ((xc, wc), q) in xs.iter().zip(w).zip(ratio.iter_mut()) {
            let mut xh = Lanes::ZERO;
            for k in 0..R {
                xh += Lanes::splat(wc[k]) * zs[k];
            }
            let h = xh.max(eps);
            *q = *xc / h;
            if divergence {
                for ((&x, &h), &q) in xc.as_array().iter().zip(h.as_array()).zip(q.as_array()) {
                    // Padding lanes have x = 0 and z = 0: they add EPS, negligible.
                    d += if x > 0.0 {
                        f64::from(x) * f64::from(q).ln() - f64::from(x) + f64::from(h)
                    } else {
                        f64::from(h)
                    };
                }
            }
        }
        d
    }

    /// One KL iteration. Returns the divergence (new Z, old W) when asked, else NaN.
    fn kl_step(&mut self, want_objective: bool) -> f64 {
        let m = self.m;
        let w = self.w_rows();
        let lambda = self.cfg.sparsity * m as f32;
        let mut den = [0.0f32; R];
        for row in &w {
            for k in 0..R {
                den[k] += row[k];
            }
        }
        let den = den.map(|d| Lanes::splat((d + lambda).max(EPS)));
        let mut num = vec![[0.0f64; R]; m];
        let mut zsum = [[0.0f64; R]; 1];
        let mut num_lanes = vec![[Lanes::ZERO; R]; m];
        let mut zsum_lanes = [[Lanes::ZERO; R]; 1];
        let mut div = 0.0f64;
        let mut ratio = vec![Lanes::ZERO; m];
        let blocks = self.z.len() / R;
        for b in 0..blocks {
            let xs = &self.x[b * m..(b + 1) * m];
            let zb = &mut self.z[b * R..(b + 1) * R];
            let mut zs: [Lanes; R] = core::array::from_fn(|k| zb[k]);
            Self::kl_ratio(xs, &w, &zs, &mut ratio, false);
            let mut a = [Lanes::ZERO; R];
            for (q, wc) in ratio.iter().zip(&w) {
                for k in 0..R {
                    a[k] += Lanes::splat(wc[k]) * *q;
                }
            }
            for k in 0..R {
                zs[k] = flush_tiny(zs[k] * a[k] / den[k]);
                zb[k] = zs[k];
            }
            // Statistics for the W update, with the new z.
            div += Self::kl_ratio(xs, &w, &zs, &mut ratio, want_objective);
            accumulate_outer(&ratio, &zs, &mut num_lanes);
            for k in 0..R {
                zsum_lanes[0][k] += zs[k];
            }
            if (b + 1) % FLUSH_BLOCKS == 0 || b + 1 == blocks {
                flush(&mut num, &mut num_lanes);
                flush(&mut zsum, &mut zsum_lanes);
            }
        }
        for (i, row) in self.w.chunks_exact_mut(R).enumerate() {
            for k in 0..R {
                row[k] = flush_tiny_scalar(f64::from(row[k]) * num[i][k] / zsum[0][k].max(f64::from(EPS)));
            }
        }
        if self.cfg.sparsity > 0.0 {
            self.normalize_columns();
        }
        if want_objective {
            div + f64::from(lambda) * self.l1()
        } else {
            f64::NAN
        }
    }

    /// Objective from scratch (used when the last iteration did not compute it).
    fn objective(&self) -> f64 {
        let w = self.w_rows();
        let m = self.m;
        let lambda = f64::from(self.cfg.sparsity * m as f32);
        let mut ratio = vec![Lanes::ZERO; m];
        let mut data = 0.0;
        for (xs, zb) in self.x.chunks_exact(m).zip(self.z.chunks_exact(R)) {
            let zs: [Lanes; R] = core::array::from_fn(|k| zb[k]);
            data += match self.cfg.loss {
                NmfLoss::Frobenius => xs
                    .iter()
                    .zip(&w)
                    .map(|(xc, wc)| {
                        let mut r = *xc;
                        for k in 0..R {
                            r -= Lanes::splat(wc[k]) * zs[k];
                        }
                        0.5 * sum_f64(&(r * r))
                    })
                    .sum::<f64>(),
                NmfLoss::KullbackLeibler => Self::kl_ratio(xs, &w, &zs, &mut ratio, true),
            };
        }
        data + lambda * self.l1()
    }
}

/// Sums one half of the frames contributes to a Frobenius iteration.
struct FrobeniusPartial<const R: usize> {
    xtz: Vec<[f64; R]>,
    ztz: [[f64; R]; R],
    err: f64,
}

/// What a Frobenius pass reads besides the frames and activations.
#[derive(Clone, Copy)]
struct FrobeniusStep<'a, const R: usize> {
    /// Channels.
    m: usize,
    /// `W`, one row of `R` per channel.
    w: &'a [[f32; R]],
    /// `WᵀW`.
    g: &'a [[f32; R]; R],
    /// L1 weight.
    lambda: f32,
    /// Whether to compute the objective.
    want_objective: bool,
}

/// The Z update and the W statistics over a run of blocks (see `MuRun::frobenius_step`):
/// compiled for AVX as well, and run so where the CPU has it (the same bits: see `lanes`).
fn frobenius_pass<const R: usize>(
    x: &[Lanes],
    z: &mut [Lanes],
    step: FrobeniusStep<'_, R>,
) -> FrobeniusPartial<R> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX, the only thing `frobenius_pass_avx` adds to the caller's.
        return unsafe { frobenius_pass_avx(x, z, step) };
    }
    frobenius_pass_body(x, z, step)
}

/// [`frobenius_pass_body`] with 256-bit vectors.
///
/// # Safety
///
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn frobenius_pass_avx<const R: usize>(
    x: &[Lanes],
    z: &mut [Lanes],
    step: FrobeniusStep<'_, R>,
) -> FrobeniusPartial<R> {
    frobenius_pass_body(x, z, step)
}

#[inline(always)]
fn frobenius_pass_body<const R: usize>(
    x: &[Lanes],
    z: &mut [Lanes],
    step: FrobeniusStep<'_, R>,
) -> FrobeniusPartial<R> {
    let FrobeniusStep {
        m,
        w,
        g,
        lambda,
        want_objective,
    } = step;
    let eps = Lanes::splat(EPS);
    let mut xtz = vec![[0.0f64; R]; m];
    let mut ztz = [[0.0f64; R]; R];
    let mut xtz_lanes = vec![[Lanes::ZERO; R]; m];
    let mut ztz_lanes = [[Lanes::ZERO; R]; R];
    let mut err = 0.0f64;
    let blocks = z.len() / R;
    for (b, (xs, zb)) in x.chunks_exact(m).zip(z.chunks_exact_mut(R)).enumerate() {
        // a = Wᵀx, lane by lane.
        let mut a = [Lanes::ZERO; R];
        for (xc, wc) in xs.iter().zip(w) {
            for k in 0..R {
                a[k] += Lanes::splat(wc[k]) * *xc;
            }
        }
        // z ← z ⊙ a / (G z + λ).
        let mut gz = [Lanes::splat(lambda); R];
        for k in 0..R {
            for j in 0..R {
                gz[k] += Lanes::splat(g[k][j]) * zb[j];
            }
        }
        let mut zs = [Lanes::ZERO; R];
        for k in 0..R {
            zs[k] = flush_tiny(zb[k] * a[k] / gz[k].max(eps));
            zb[k] = zs[k];
        }
        if want_objective {
            // ‖x − Wz‖² = xᵀx − 2 zᵀa + zᵀGz, per lane.
            let mut e = Lanes::ZERO;
            for xc in xs {
                e += *xc * *xc;
            }
            for k in 0..R {
                let mut gzk = Lanes::ZERO;
                for j in 0..R {
                    gzk += Lanes::splat(g[k][j]) * zs[j];
                }
                e += zs[k] * (gzk - a[k] - a[k]);
            }
            err += sum_f64(&e);
        }
        accumulate_outer(xs, &zs, &mut xtz_lanes);
        for k in 0..R {
            for j in 0..R {
                ztz_lanes[k][j] += zs[k] * zs[j];
            }
        }
        if (b + 1) % FLUSH_BLOCKS == 0 || b + 1 == blocks {
            flush(&mut xtz, &mut xtz_lanes);
            flush(&mut ztz, &mut ztz_lanes);
        }
    }
    FrobeniusPartial { xtz, ztz, err }
}

/// Values multiplicative updates drive towards zero would otherwise decay into subnormal
/// floats, which run orders of magnitude slower on x86; below this they are zero (a zero
/// stays zero under multiplicative updates, as it would in exact arithmetic once it got
/// this small).
const TINY: f32 = 1e-30;

#[inline(always)]
fn flush_tiny(v: Lanes) -> Lanes {
    v.zero_unless_above(TINY)
}

fn flush_tiny_scalar(v: f64) -> f32 {
    if v > f64::from(TINY) {
        v as f32
    } else {
        0.0
    }
}

/// `acc[c][k] += v[c] · z[k]`, lane by lane.
#[inline(always)]
fn accumulate_outer<const R: usize>(v: &[Lanes], z: &[Lanes; R], acc: &mut [[Lanes; R]]) {
    for (vc, row) in v.iter().zip(acc.iter_mut()) {
        for (a, zk) in row.iter_mut().zip(z) {
            *a += *vc * *zk;
        }
    }
}

/// Adds f32 lane sums into f64 totals and clears them (keeps long sums accurate).
#[inline(always)]
fn flush<const R: usize>(total: &mut [[f64; R]], lanes: &mut [[Lanes; R]]) {
    for (t, row) in total.iter_mut().zip(lanes.iter_mut()) {
        for k in 0..R {
            t[k] += sum_f64(&row[k]);
            row[k] = Lanes::ZERO;
        }
    }
}

impl crate::choice::Choice for NmfInit {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        (
            "nndsvd",
            "nonnegative double SVD; zeros stay zero",
            NmfInit::Nndsvd,
        ),
        (
            "nndsvda",
            "NNDSVD with zeros replaced by the data mean",
            NmfInit::Nndsvda,
        ),
        ("random", "scaled absolute Gaussian values", NmfInit::Random),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX build of the Frobenius pass gives the baseline (SSE2) build's bits: activations,
    /// `XᵀZ`, `ZᵀZ` and the objective, on random blocks with zeros, a sparsity term and
    /// values that the update drives below the flush threshold.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx_frobenius_pass_equals_the_baseline_bit_for_bit() {
        if !std::arch::is_x86_feature_detected!("avx") {
            eprintln!("no AVX on this CPU: nothing to compare");
            return;
        }
        const R: usize = 4;
        let (m, blocks) = (12, 37);
        let mut rng = Prng::new(5);
        let mut value = |zero_every: usize, i: usize| {
            let v = rng.uniform() as f32 * 3.0;
            if i.is_multiple_of(zero_every) {
                0.0
            } else {
                v
            }
        };
        let x: Vec<Lanes> = (0..blocks * m)
            .map(|i| Lanes::from(std::array::from_fn(|l| value(7, i * 8 + l))))
            .collect();
        let mut z: Vec<Lanes> = (0..blocks * R)
            .map(|i| Lanes::from(std::array::from_fn(|l| value(11, i * 8 + l) * 1e-3)))
            .collect();
        z[5] = Lanes::splat(1e-29);
        let w: Vec<[f32; R]> = (0..m)
            .map(|c| std::array::from_fn(|k| value(5, c * R + k)))
            .collect();
        let mut g = [[0.0f32; R]; R];
        for row in &w {
            for a in 0..R {
                for b in 0..R {
                    g[a][b] += row[a] * row[b];
                }
            }
        }
        for (lambda, objective) in [(0.0, true), (0.3, false)] {
            let mut z_base = z.clone();
            let step = FrobeniusStep {
                m,
                w: &w,
                g: &g,
                lambda,
                want_objective: objective,
            };
            let base = frobenius_pass_body(&x, &mut z_base, step);
            let mut z_avx = z.clone();
            // SAFETY: AVX was detected above.
            let avx = unsafe { frobenius_pass_avx(&x, &mut z_avx, step) };
            let bits =
                |z: &[Lanes]| -> Vec<u32> { z.iter().flat_map(|l| l.as_array().map(f32::to_bits)).collect() };
            assert_eq!(bits(&z_base), bits(&z_avx), "activations, λ = {lambda}");
            assert_ne!(bits(&z_base), bits(&z), "the pass changed nothing");
            let f64_bits = |v: &[[f64; R]]| -> Vec<u64> { v.iter().flatten().map(|v| v.to_bits()).collect() };
            assert_eq!(f64_bits(&base.xtz), f64_bits(&avx.xtz), "XᵀZ");
            assert_eq!(f64_bits(&base.ztz), f64_bits(&avx.ztz), "ZᵀZ");
            assert_eq!(base.err.to_bits(), avx.err.to_bits(), "objective");
        }
    }
}
