//! Multiplicative-update NMF by dense matrix products, for the large ranks of spectrogram
//! dictionaries (40 per source, up to hundreds) where [`crate::nmf`]'s rank-unrolled kernels
//! stop paying off. The same updates as [`super`] (Lee–Seung Frobenius and generalised
//! KL, scikit-learn's L1 convention, unit-norm columns under a penalty), in the speech
//! layout: `X ≈ W H` with `X` bins × frames, `W` bins × r, `H` r × frames. With
//! `learn_w = false` the dictionary stays fixed and only `H` is fitted (supervised
//! separation).
//!
//! The frames are split into one block per thread; each block updates its own `H` columns
//! and returns its share of the `W` statistics, which are summed in block order, so results
//! do not depend on scheduling. The large products go through `nmf::product` (packed
//! AVX-512 / AVX2 kernels: their bits depend on the CPU's instruction set, not on the run).

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::loss::NmfLoss;
use super::product::mul;

const EPS: f32 = 1e-12;
/// Values below this become zero (see `nmf::TINY`: subnormals are slow, and a zero stays zero).
const TINY: f32 = 1e-30;

/// How to run the updates.
#[derive(Debug, Clone, Copy)]
pub struct MuSettings {
    /// Divergence.
    pub loss: NmfLoss,
    /// L1 weight on `H` per frame entry (already multiplied by the channel count, as in
    /// [`crate::nmf::NmfConfig::sparsity`]).
    pub lambda: f32,
    /// Maximum iterations.
    pub iterations: usize,
    /// Relative decrease over 10 iterations below which to stop (0: run all).
    pub tol: f64,
    /// Update `W` too (dictionary learning) or keep it fixed (separation).
    pub learn_w: bool,
}

/// What every block needs of the current dictionary, derived once per change of `W` (once
/// per run when `W` is fixed) instead of once per block and iteration.
struct Dictionary {
    /// `Wᵀ`, r × bins.
    wt: DMatrix<f32>,
    /// `W`, bins × r.
    w: DMatrix<f32>,
    /// `WᵀW`, r × r (Frobenius).
    gram: DMatrix<f32>,
    /// `max(Σ_b W[b, k] + λ, ε)` per atom (KL).
    kl_denominator: Vec<f32>,
}

impl Dictionary {
    fn new(wt: DMatrix<f32>, lambda: f32) -> Self {
        Self {
            w: wt.transpose(),
            gram: &wt * wt.transpose(),
            kl_denominator: wt.row_iter().map(|row| (row.sum() + lambda).max(EPS)).collect(),
            wt,
        }
    }
}

/// A block of frames: its data in both layouts and its activations.
struct Block {
    x: DMatrix<f32>,
    xt: DMatrix<f32>,
    h: DMatrix<f32>,
    /// `WᵀX`, kept while `W` is fixed (Frobenius separation).
    wtx: Option<DMatrix<f32>>,
}

/// What one block contributes to an iteration.
struct Partial {
    /// `H Xᵀ` (Frobenius) or `H Qᵀ` (KL), r × bins: the transposed `W` numerator.
    numerator: DMatrix<f32>,
    /// `H Hᵀ` (Frobenius, r × r) or the row sums of `H` (KL, r × 1).
    gram: DMatrix<f32>,
    /// Data term of the objective (new `H`, old `W`), when asked.
    objective: f64,
}

/// Splits `x` (bins × frames) and `h` (r × frames) into `blocks` column blocks.
fn split(x: &DMatrix<f32>, h: &DMatrix<f32>, blocks: usize) -> Vec<Block> {
    let n = x.ncols();
    let size = n.div_ceil(blocks.max(1)).max(1);
    (0..n)
        .step_by(size)
        .map(|start| {
            let len = size.min(n - start);
            let xb = x.columns(start, len).into_owned();
            Block {
                xt: xb.transpose(),
                x: xb,
                h: h.columns(start, len).into_owned(),
                wtx: None,
            }
        })
        .collect()
}

fn flush_tiny(v: f32) -> f32 {
    if v > TINY {
        v
    } else {
        0.0
    }
}

/// Keeps nalgebra's products (matrixmultiply) on the calling thread: the trainer's parallel
/// work (these updates' blocks, BSS-eval's projections) already occupies one rayon thread per
/// core, and matrixmultiply's own threads inside them fight them for the cores (measured when
/// these updates still used nalgebra: rank 40 on 257 × 10 000 frames, 0.65 s instead of
/// 0.84 s for 60 updates, the same bits). It sets `MATMUL_NUM_THREADS=1` unless the user set
/// it; call it at start-up, before other threads exist (`vaenmf` does, first thing).
pub fn single_threaded_products() {
    if std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        std::env::set_var("MATMUL_NUM_THREADS", "1");
    }
}

/// Runs multiplicative updates on `w` (bins × r) and `h` (r × frames) for `x` (bins ×
/// frames, finite, nonnegative). Returns (iterations run, final objective).
pub fn run(
    x: &DMatrix<f32>,
    w: &mut DMatrix<f32>,
    h: &mut DMatrix<f32>,
    settings: &MuSettings,
    mut progress: impl FnMut(usize),
) -> (usize, f64) {
    let mut dict = Dictionary::new(w.transpose(), settings.lambda);
    let mut blocks = split(x, h, rayon::current_num_threads());
    let mut initial = None;
    let mut previous = f64::INFINITY;
    let mut objective = f64::NAN;
    let mut done = 0;
    for it in 1..=settings.iterations {
        let check = it % 10 == 0 || it == settings.iterations;
        let current = &dict;
        let partials: Vec<Partial> = blocks
            .par_iter_mut()
            .map(|b| match settings.loss {
                NmfLoss::Frobenius => frobenius_block(b, current, settings, check),
                NmfLoss::KullbackLeibler => kl_block(b, current, settings, check),
            })
            .collect();
        let mut parts = partials.into_iter();
        let first = parts.next().expect("at least one block");
        let (mut numerator, mut gram, mut data) = (first.numerator, first.gram, first.objective);
        for p in parts {
            if settings.learn_w {
                numerator += p.numerator;
                gram += p.gram;
            }
            data += p.objective;
        }
        if settings.learn_w {
            let mut wt = std::mem::replace(&mut dict.wt, DMatrix::zeros(0, 0));
            update_w(&mut wt, &numerator, &gram, settings.loss);
            if settings.lambda > 0.0 {
                normalize_rows(&mut wt, &mut blocks);
            }
            dict = Dictionary::new(wt, settings.lambda);
        }
        done = it;
        progress(it);
        if check {
            let l1: f64 = blocks
                .iter()
                .map(|b| b.h.iter().map(|&v| f64::from(v)).sum::<f64>())
                .sum();
            objective = data + f64::from(settings.lambda) * l1;
            let init = *initial.get_or_insert(objective);
            if settings.tol > 0.0 && (previous - objective) / init < settings.tol {
                break;
            }
            previous = objective;
        }
    }
    *w = dict.w;
    let mut col = 0;
    for b in &blocks {
        h.columns_mut(col, b.h.ncols()).copy_from(&b.h);
        col += b.h.ncols();
    }
    (done, objective)
}

/// Frobenius: `H ← H ⊙ WᵀX / (WᵀW H + λ)`, then `H Xᵀ` and `H Hᵀ` with the new `H` (only
/// when `W` is learned).
fn frobenius_block(b: &mut Block, dict: &Dictionary, s: &MuSettings, want_objective: bool) -> Partial {
    let a = match b.wtx.take() {
        Some(a) => a,
        None => mul(&dict.wt, &b.x),
    };
    let g = &dict.gram;
    let gh = mul(g, &b.h);
    b.h.zip_zip_apply(&a, &gh, |h, a, gh| {
        *h = flush_tiny(*h * a / (gh + s.lambda).max(EPS));
    });
    let mut objective = 0.0;
    if want_objective {
        // ½‖X − WH‖² = ½(‖X‖² − 2⟨WᵀX, H⟩ + ⟨WᵀW H, H⟩).
        let gh = mul(g, &b.h);
        let xx: f64 = b.x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        let ah: f64 = a
            .iter()
            .zip(b.h.iter())
            .map(|(&a, &h)| f64::from(a) * f64::from(h))
            .sum();
        let hgh: f64 = gh
            .iter()
            .zip(b.h.iter())
            .map(|(&g, &h)| f64::from(g) * f64::from(h))
            .sum();
        objective = 0.5 * (xx - 2.0 * ah + hgh);
    }
    if !s.learn_w {
        b.wtx = Some(a);
        return Partial {
            numerator: DMatrix::zeros(0, 0),
            gram: DMatrix::zeros(0, 0),
            objective,
        };
    }
    Partial {
        numerator: mul(&b.h, &b.xt),
        gram: &b.h * b.h.transpose(),
        objective,
    }
}

/// `X / max(WH, ε)`, and the KL divergence D(X ‖ WH) when asked.
fn kl_ratio(x: &DMatrix<f32>, w: &DMatrix<f32>, h: &DMatrix<f32>, want: bool) -> (DMatrix<f32>, f64) {
    let mut q = mul(w, h);
    let mut d = 0.0f64;
    q.zip_apply(x, |wh, x| {
        let hat = wh.max(EPS);
        if want {
            d += if x > 0.0 {
                f64::from(x) * (f64::from(x) / f64::from(hat)).ln() - f64::from(x) + f64::from(hat)
            } else {
                f64::from(hat)
            };
        }
        *wh = x / hat;
    });
    (q, d)
}

/// KL: `H ← H ⊙ Wᵀ(X / WH) / (Wᵀ1 + λ)`, then `H (X / WH)ᵀ` and the row sums of `H`.
fn kl_block(b: &mut Block, dict: &Dictionary, s: &MuSettings, want_objective: bool) -> Partial {
    let (w, den) = (&dict.w, &dict.kl_denominator);
    let (q, _) = kl_ratio(&b.x, w, &b.h, false);
    let num = mul(&dict.wt, &q);
    for (mut col, ncol) in b.h.column_iter_mut().zip(num.column_iter()) {
        for k in 0..col.len() {
            col[k] = flush_tiny(col[k] * ncol[k] / den[k]);
        }
    }
    if !s.learn_w {
        let objective = if want_objective {
            kl_ratio(&b.x, w, &b.h, true).1
        } else {
            0.0
        };
        return Partial {
            numerator: DMatrix::zeros(0, 0),
            gram: DMatrix::zeros(0, 0),
            objective,
        };
    }
    let (q, objective) = kl_ratio(&b.x, w, &b.h, want_objective);
    let sums = DMatrix::from_iterator(b.h.nrows(), 1, b.h.row_iter().map(|r| r.sum()));
    Partial {
        numerator: &b.h * q.transpose(),
        gram: sums,
        objective,
    }
}

/// `Wᵀ ← Wᵀ ⊙ numerator / denominator` (Frobenius: `(HHᵀ) Wᵀ`; KL: the row sums of `H`).
fn update_w(wt: &mut DMatrix<f32>, numerator: &DMatrix<f32>, gram: &DMatrix<f32>, loss: NmfLoss) {
    match loss {
        NmfLoss::Frobenius => {
            let den = gram * &*wt;
            wt.zip_zip_apply(numerator, &den, |w, n, d| *w = flush_tiny(*w * n / d.max(EPS)));
        }
        NmfLoss::KullbackLeibler => {
            for (k, mut row) in wt.row_iter_mut().enumerate() {
                let d = gram[k].max(EPS);
                for (w, &n) in row.iter_mut().zip(numerator.row(k).iter()) {
                    *w = flush_tiny(*w * n / d);
                }
            }
        }
    }
}

/// Unit-norm dictionary columns (rows of `Wᵀ`), activations rescaled so `WH` is unchanged.
fn normalize_rows(wt: &mut DMatrix<f32>, blocks: &mut [Block]) {
    for (k, mut row) in wt.row_iter_mut().enumerate() {
        let norm = row.norm();
        if norm > 0.0 {
            row /= norm;
            for b in blocks.iter_mut() {
                b.h.row_mut(k).scale_mut(norm);
            }
        }
    }
}
