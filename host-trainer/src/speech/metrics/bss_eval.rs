//! BSS-eval v3 source-to-distortion, -interference and -artefact ratios (Vincent, Gribonval &
//! Févotte 2006) with the semantics of `mir_eval.separation.bss_eval_sources`: each estimate
//! is decomposed by least-squares projection onto 512-tap time-invariant filters of its
//! reference (the allowed distortion) and of all references (the interference), and the
//! permutation of estimates with the best mean SIR is chosen.
//!
//! With `P_j(e)` the projection of an estimate `e` onto reference `j`'s delayed copies and
//! `P(e)` onto every reference's:
//! `SDR = ‖P_j e‖² / ‖e − P_j e‖²`, `SIR = ‖P_j e‖² / ‖P e − P_j e‖²`,
//! `SAR = ‖P e‖² / ‖e − P e‖²` (in dB).
//!
//! mir_eval builds and solves one dense system per (estimate, reference) pair. The Gram
//! matrices depend only on the references and, ordered by lag, are block-Toeplitz: here they
//! are solved by the block Levinson recursion ([`super::levinson`], `O(L² m³)` instead of
//! `O((Lm)³)`, its residual checked, with a dense Cholesky as the fallback) for all estimates
//! at once, with every correlation computed once by FFT.

use std::sync::{Arc, LazyLock, Mutex};

use anyhow::{bail, Result};
use nalgebra::DVector;
use rayon::prelude::*;
use realfft::num_complex::Complex64;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use serde::Serialize;

use super::levinson::BlockToeplitz;

/// Length of the distortion filters (mir_eval's, from BSS Eval v3).
pub const FILTER_LEN: usize = 512;

/// The three ratios of one estimate against its reference, dB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratios {
    /// Source-to-distortion ratio.
    pub sdr: f64,
    /// Source-to-interference ratio.
    pub sir: f64,
    /// Source-to-artefacts ratio.
    pub sar: f64,
}

/// `bss_eval_sources`' result: per reference, the ratios of the estimate assigned to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BssEval {
    /// Ratios per reference, in reference order.
    pub sources: Vec<Ratios>,
    /// `permutation[i]` is the estimate assigned to reference `i`.
    pub permutation: Vec<usize>,
}

fn db(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (num / den).log10()
    }
}

/// Transforms of one length, planned once.
struct Fft {
    n: usize,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
}

/// One planner for the process: it keeps every length's plan (twiddle tables cost as much as
/// a transform), and scoring calls come with the same few lengths again and again.
static PLANNER: LazyLock<Mutex<RealFftPlanner<f64>>> = LazyLock::new(|| Mutex::new(RealFftPlanner::new()));

impl Fft {
    fn new(n: usize) -> Self {
        // A poisoned lock still holds a valid planner (planning does not leave it half-done).
        let mut planner = PLANNER.lock().unwrap_or_else(|e| e.into_inner());
        Self {
            n,
            forward: planner.plan_fft_forward(n),
            inverse: planner.plan_fft_inverse(n),
        }
    }

    fn forward(&self, x: &[f64]) -> Vec<Complex64> {
        let mut buf = vec![0.0; self.n];
        buf[..x.len()].copy_from_slice(x);
        let mut out = self.forward.make_output_vec();
        // Lengths match the plan: cannot fail.
        let _ = self.forward.process(&mut buf, &mut out);
        out
    }

    fn inverse(&self, spectrum: &[Complex64]) -> Vec<f64> {
        let mut input = spectrum.to_vec();
        input[0].im = 0.0;
        let last = input.len() - 1;
        input[last].im = 0.0;
        let mut out = self.inverse.make_output_vec();
        let _ = self.inverse.process(&mut input, &mut out);
        let scale = 1.0 / self.n as f64;
        out.iter_mut().for_each(|v| *v *= scale);
        out
    }

    /// `c[k] = Σ_t a[t + k] b[t]` for every lag `k` (negative lags at `n + k`).
    fn correlation(&self, a: &[Complex64], b: &[Complex64]) -> Vec<f64> {
        let product: Vec<Complex64> = a.iter().zip(b).map(|(x, y)| x * y.conj()).collect();
        self.inverse(&product)
    }
}

/// Dense fallback for `G c = d`, `G` symmetric positive semidefinite: Cholesky, or least
/// squares when `G` is singular (a silent reference, say), as mir_eval falls back to.
fn dense_solve(g: nalgebra::DMatrix<f64>, rhs: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let rhs: Vec<DVector<f64>> = rhs.iter().map(|d| DVector::from_column_slice(d)).collect();
    let solutions: Vec<DVector<f64>> = match g.clone().cholesky() {
        Some(c) => rhs.iter().map(|d| c.solve(d)).collect(),
        None => {
            let svd = g.svd(true, true);
            rhs.iter()
                .map(|d| svd.solve(d, 1e-12).unwrap_or_else(|_| DVector::zeros(d.len())))
                .collect()
        }
    };
    solutions.into_iter().map(|c| c.as_slice().to_vec()).collect()
}

/// Solves `T c = d` for every right-hand side: block Levinson, checked by its residual, with
/// the dense solver when the recursion breaks down or loses accuracy.
fn solve_gram(t: &BlockToeplitz, rhs: &[Vec<f64>]) -> Vec<Vec<f64>> {
    if let Some(xs) = t.solve(rhs) {
        // One product T·x per right-hand side, each as costly as a quarter of the solve: on
        // whichever threads are free.
        let accurate = xs.par_iter().zip(rhs).all(|(x, d)| {
            let back = t.mul(x);
            let err = back
                .iter()
                .zip(d)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
            let norm = d.iter().map(|v| v * v).sum::<f64>().sqrt();
            err <= 1e-9 * norm.max(f64::MIN_POSITIVE)
        });
        if accurate {
            return xs;
        }
    }
    dense_solve(t.dense(), rhs)
}

/// Checks lengths and values; returns the common length.
fn check_signals(references: &[&[f32]], estimates: &[&[f32]]) -> Result<usize> {
    if references.is_empty() || references.len() != estimates.len() {
        bail!(
            "{} references and {} estimates: give one estimate per reference",
            references.len(),
            estimates.len()
        );
    }
    let len = references[0].len();
    for (what, set) in [("reference", references), ("estimate", estimates)] {
        for (i, s) in set.iter().enumerate() {
            if s.len() != len {
                bail!(
                    "{what} {} has {} samples and reference 1 has {len}: all signals must be the same length",
                    i + 1,
                    s.len()
                );
            }
            if let Some(t) = s.iter().position(|v| !v.is_finite()) {
                bail!("{what} {}: sample {t} is {}", i + 1, s[t]);
            }
        }
    }
    if len == 0 {
        bail!("the signals are empty");
    }
    for (i, r) in references.iter().enumerate() {
        if r.iter().all(|&v| v == 0.0) {
            bail!(
                "reference {} is silent (all zeros): its ratios are undefined",
                i + 1
            );
        }
    }
    Ok(len)
}

/// `bss_eval_sources(references, estimates)` with mir_eval's defaults (permutation search
/// over the estimates by mean SIR).
pub fn bss_eval_sources(references: &[&[f32]], estimates: &[&[f32]]) -> Result<BssEval> {
    check_signals(references, estimates)?;
    Ok(References::new(references)?.score(estimates))
}

/// A set of references prepared for scoring: their spectra and lagged cross-correlations,
/// from which the Gram matrices of the projections are block-Toeplitz.
pub struct References {
    fft: Fft,
    spectra: Vec<Vec<Complex64>>,
    /// `correlations[i][j][k] = Σ_t s_i[t + k] s_j[t]` (lag `k` circular), for `i ≤ j`.
    correlations: Vec<Vec<Vec<f64>>>,
}

impl References {
    /// Prepares `references` (equal lengths, finite, none silent; at most 6).
    pub fn new(references: &[&[f32]]) -> Result<Self> {
        let len = check_signals(references, references)?;
        let k = references.len();
        if k > 6 {
            bail!("{k} sources: the permutation search is limited to 6");
        }
        let fft = Fft::new(smooth_size(len + FILTER_LEN - 1));
        let spectra: Vec<Vec<Complex64>> = references.iter().map(|s| fft.forward(&to_f64(s))).collect();
        let correlations = (0..k)
            .map(|i| {
                (0..k)
                    .map(|j| {
                        if j >= i {
                            fft.correlation(&spectra[i], &spectra[j])
                        } else {
                            Vec::new()
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(Self {
            fft,
            spectra,
            correlations,
        })
    }

    /// `Σ_t s_i[t + lag] s_j[t]`.
    fn lagged(&self, i: usize, j: usize, lag: isize) -> f64 {
        let n = self.fft.n as isize;
        if i <= j {
            self.correlations[i][j][lag.rem_euclid(n) as usize]
        } else {
            self.correlations[j][i][(-lag).rem_euclid(n) as usize]
        }
    }

    /// The Gram matrix of the delayed copies of `sources`, rows `(a, i)` at `a·m + i`:
    /// `⟨s_i[· − a], s_j[· − b]⟩ = r_ij[b − a]`.
    fn gram(&self, sources: &[usize]) -> BlockToeplitz {
        BlockToeplitz::new(sources.len(), FILTER_LEN, |i, j, k| {
            self.lagged(sources[i], sources[j], k)
        })
    }

    /// `‖P e‖²` for every estimate `e` (given by its correlations with each reference), with
    /// `P` the projection onto the delayed copies of `sources`: `cᵀd` for the filter
    /// coefficients `c` that solve `G c = d` (then `‖Σ_i c_i ∗ s_i‖² = cᵀGc = cᵀd`), so no
    /// projected signal is ever formed.
    fn projected_energy(&self, sources: &[usize], correlations: &[Vec<Vec<f64>>]) -> Vec<f64> {
        let (m, n) = (sources.len(), self.fft.n);
        // D[(a, i)] = Σ_t s_i[t − a] e[t] = r_ie[−a].
        let rhs: Vec<Vec<f64>> = correlations
            .iter()
            .map(|r| {
                (0..FILTER_LEN * m)
                    .map(|row| r[sources[row % m]][(n - row / m) % n])
                    .collect()
            })
            .collect();
        solve_gram(&self.gram(sources), &rhs)
            .iter()
            .zip(&rhs)
            .map(|(c, d)| c.iter().zip(d).map(|(x, y)| x * y).sum())
            .collect()
    }

    /// `ratios[e][i]`: estimate `e` against reference `i`, for any number of estimates (each
    /// checked by the caller to be of the references' length and finite). With the nested
    /// projections `P_i e` (onto reference `i`) and `P e` (onto all), orthogonality gives
    /// `‖e − P_i e‖² = ‖e‖² − ‖P_i e‖²`, `‖P e − P_i e‖² = ‖P e‖² − ‖P_i e‖²` and
    /// `‖e − P e‖² = ‖e‖² − ‖P e‖²`.
    fn ratios(&self, estimates: &[&[f32]]) -> Vec<Vec<Ratios>> {
        let k = self.spectra.len();
        let correlations: Vec<Vec<Vec<f64>>> = estimates
            .par_iter()
            .map(|e| {
                let spectrum = self.fft.forward(&to_f64(e));
                self.spectra
                    .iter()
                    .map(|s| self.fft.correlation(s, &spectrum))
                    .collect()
            })
            .collect();
        let all: Vec<usize> = (0..k).collect();
        // The projection onto all references and those onto each are independent solves: on
        // as many threads as there are (mir_eval's and fast_bss_eval's BLAS use them too).
        let (p_all, p_single) = rayon::join(
            || self.projected_energy(&all, &correlations),
            || {
                (0..k)
                    .into_par_iter()
                    .map(|i| self.projected_energy(&[i], &correlations))
                    .collect::<Vec<Vec<f64>>>()
            },
        );
        // Differences of energies below the rounding of the larger one are zero.
        let gap = |big: f64, small: f64| {
            let d = big - small;
            if d <= big * 1e-15 {
                0.0
            } else {
                d
            }
        };
        estimates
            .iter()
            .enumerate()
            .map(|(e, est)| {
                let total = est.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>();
                (0..k)
                    .map(|i| {
                        let target = p_single[i][e];
                        Ratios {
                            sdr: db(target, gap(total, target)),
                            sir: db(target, gap(p_all[e], target)),
                            sar: db(p_all[e], gap(total, p_all[e])),
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// mir_eval's result for one estimate per reference: the permutation with the best mean
    /// SIR (the first, as numpy's argmax, on ties).
    fn score(&self, estimates: &[&[f32]]) -> BssEval {
        choose_permutation(&self.ratios(estimates))
    }
}

fn choose_permutation(ratios: &[Vec<Ratios>]) -> BssEval {
    let k = ratios.len();
    let mut best: Option<(f64, Vec<usize>)> = None;
    for perm in permutations(k) {
        let mean = perm
            .iter()
            .enumerate()
            .map(|(i, &e)| ratios[e][i].sir)
            .sum::<f64>()
            / k as f64;
        if best.as_ref().is_none_or(|(b, _)| mean > *b) {
            best = Some((mean, perm));
        }
    }
    let (_, permutation) = best.expect("k ≥ 1 has a permutation");
    BssEval {
        sources: permutation
            .iter()
            .enumerate()
            .map(|(i, &e)| ratios[e][i])
            .collect(),
        permutation,
    }
}

/// The smallest even 2·3·5-smooth length ≥ `n` (fast FFT sizes; no wrap-around for the
/// lags that matter).
fn smooth_size(n: usize) -> usize {
    (n.max(2)..)
        .find(|&k| {
            let mut r = k;
            for p in [2, 3, 5] {
                while r.is_multiple_of(p) {
                    r /= p;
                }
            }
            r == 1 && k.is_multiple_of(2)
        })
        .unwrap_or(n.next_power_of_two())
}

fn to_f64(s: &[f32]) -> Vec<f64> {
    s.iter().map(|&v| f64::from(v)).collect()
}

/// Permutations of `0..k` in lexicographic order (as `itertools.permutations`).
fn permutations(k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for first in 0..k {
        for rest in permutations(k - 1) {
            let mut p = vec![first];
            p.extend(rest.into_iter().map(|v| if v >= first { v + 1 } else { v }));
            out.push(p);
        }
    }
    out
}

/// How a speech estimate is matched to the references `[speech, noise]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assignment {
    /// The estimate is the speech estimate by construction: its ratios against the speech
    /// reference, interference measured against `[speech, noise]` (mir_eval's
    /// `bss_eval_sources(…, compute_permutation=False)`; the second estimate does not enter
    /// the first one's decomposition).
    #[default]
    Fixed,
    /// mir_eval's default: estimates `[ŝ, mixture − ŝ]`, the permutation with the best mean
    /// SIR. When `ŝ` is (nearly) the mixture, the residual is rounding noise and may be
    /// chosen as the speech estimate: the "speech" ratios are then the residual's.
    Permutation,
}

impl Assignment {
    /// What the report says of it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Fixed => "estimate scored as the speech estimate against references [speech, noise], no permutation search (mir_eval compute_permutation=False)",
            Self::Permutation => "estimates [estimate, mixture − estimate] against references [speech, noise], permutation with the best mean SIR (mir_eval's default)",
        }
    }
}

/// The speech-enhancement ratios of `estimate` against references `[speech, noise]`, matched
/// by `assignment`. Returns the speech source's ratios and whether the permutation search
/// swapped the estimates (then the "speech" ratios are those of `mixture − ŝ`, as mir_eval
/// reports them; never with [`Assignment::Fixed`]).
pub fn speech_ratios(
    speech: &[f32],
    noise: &[f32],
    estimate: &[f32],
    assignment: Assignment,
) -> Result<(Ratios, bool)> {
    Ok(speech_ratios_many(speech, noise, &[estimate], assignment)?[0])
}

/// [`speech_ratios`] of several estimates of the same mixture (the references' Gram matrices
/// are factorised once).
pub fn speech_ratios_many(
    speech: &[f32],
    noise: &[f32],
    estimates: &[&[f32]],
    assignment: Assignment,
) -> Result<Vec<(Ratios, bool)>> {
    for e in estimates {
        if speech.len() != noise.len() || speech.len() != e.len() {
            bail!(
                "lengths differ: reference {} samples, noise {}, estimate {}",
                speech.len(),
                noise.len(),
                e.len()
            );
        }
    }
    let references = References::new(&[speech, noise])?;
    if assignment == Assignment::Fixed {
        for (i, e) in estimates.iter().enumerate() {
            check_signals(&[speech], &[e])?;
            if e.iter().all(|&v| v == 0.0) {
                bail!(
                    "estimate {} is silent (all zeros): its BSS-eval ratios are undefined",
                    i + 1
                );
            }
        }
        return Ok(references
            .ratios(estimates)
            .into_iter()
            .map(|r| (r[0], false))
            .collect());
    }
    let residuals: Vec<Vec<f32>> = estimates
        .iter()
        .map(|estimate| {
            speech
                .iter()
                .zip(noise)
                .zip(estimate.iter())
                .map(|((s, n), e)| s + n - e)
                .collect()
        })
        .collect();
    let mut all: Vec<&[f32]> = Vec::with_capacity(2 * estimates.len());
    for (e, r) in estimates.iter().zip(&residuals) {
        check_signals(&[speech, noise], &[e, r])?;
        all.extend([*e, r.as_slice()]);
    }
    let ratios = references.ratios(&all);
    Ok(ratios
        .chunks(2)
        .map(|pair| {
            let result = choose_permutation(pair);
            (result.sources[0], result.permutation[0] != 0)
        })
        .collect())
}
