//! Discriminative NMF (Weninger, Le Roux, Hershey, Watanabe, Interspeech 2014): the
//! activations `H = [Hˢ; Hⁿ]` of a mixture come from the *analysis* bases `W = [Wˢ Wⁿ]`
//! (ordinary supervised NMF), and the speech estimate is built with separate
//! *reconstruction* bases `W̄ = [W̄ˢ W̄ⁿ]`, trained on training mixtures so that the
//! Wiener-filtered estimate is close to the clean speech.
//!
//! # The objective and its gradient
//!
//! With `M` the mixture magnitude, `S` the clean speech magnitude (bins × frames), `Λˢ = W̄ˢHˢ`,
//! `Λⁿ = W̄ⁿHⁿ`, the gain `G = (Λˢ)ᵖ / ((Λˢ)ᵖ + (Λⁿ)ᵖ)` and the estimate `Ŝ = G ⊙ M`:
//!
//! - Euclidean (β = 2): `D = ½ Σ (Ŝ − S)²`, `∂D/∂Ŝ = Ŝ − S`;
//! - generalised KL (β = 1): `D = Σ S ln(S/Ŝ) − S + Ŝ`, `∂D/∂Ŝ = 1 − S/Ŝ`.
//!
//! `∂G/∂Λˢ = p G (1 − G) / Λˢ` and `∂G/∂Λⁿ = −p G (1 − G) / Λⁿ`. Writing
//! `∂D/∂Ŝ ⊙ M ⊙ p G (1 − G) = R⁺ − R⁻` with both parts nonnegative —
//! Euclidean: `R⁺ = Ŝ ⊙ M ⊙ pG(1−G)`, `R⁻ = S ⊙ M ⊙ pG(1−G)`;
//! KL: `R⁺ = M ⊙ pG(1−G)`, `R⁻ = (S/Ŝ) ⊙ M ⊙ pG(1−G)` —
//!
//! ```text
//! ∇W̄ˢ D =  (R⁺/Λˢ − R⁻/Λˢ) Hˢᵀ
//! ∇W̄ⁿ D = −(R⁺/Λⁿ − R⁻/Λⁿ) Hⁿᵀ
//! ```
//!
//! and the multiplicative updates divide the negative part of each gradient by its positive
//! part (the usual heuristic; a fixed point is a stationary point):
//!
//! ```text
//! W̄ˢ ← W̄ˢ ⊙ [(R⁻/Λˢ) Hˢᵀ] / [(R⁺/Λˢ) Hˢᵀ]
//! W̄ⁿ ← W̄ⁿ ⊙ [(R⁺/Λⁿ) Hⁿᵀ] / [(R⁻/Λⁿ) Hⁿᵀ]
//! ```
//!
//! The updates do not guarantee a decrease, so training keeps the bases with the lowest
//! objective seen. `tests/trainer/speech_methods.rs` checks [`gradient`] against central finite
//! differences of [`objective`].

use nalgebra::{DMatrix, RealField};
use serde::Serialize;

use crate::nmf::NmfLoss;
use crate::params::{self, Checked, ParamError};

/// Settings of the reconstruction-bases training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DnmfConfig {
    /// Divergence between the clean speech and the estimate.
    pub loss: NmfLoss,
    /// Multiplicative updates of `W̄`.
    pub iterations: usize,
    /// Gain exponent `p`.
    pub gain_exponent: f32,
}

/// Settings that passed [`DnmfConfig::check`].
pub type DnmfParams = Checked<DnmfConfig>;

impl DnmfConfig {
    /// At least one iteration and a positive, finite gain exponent.
    pub fn check(self) -> Result<DnmfParams, ParamError> {
        params::within("dnmf-iterations", self.iterations, 1, params::limits::ITERATIONS)?;
        params::positive("gain-exponent", f64::from(self.gain_exponent))?;
        Ok(Checked::new_unchecked(self))
    }
}

/// One training problem: activations from the analysis bases, the mixtures and the clean
/// speech, all with frames as columns.
pub struct Problem<'a, T: RealField + Copy> {
    /// `[Hˢ; Hⁿ]`, r × frames.
    pub h: &'a DMatrix<T>,
    /// Speech atoms: the first `speech_rank` rows of `h`, columns of `W̄`.
    pub speech_rank: usize,
    /// Mixture magnitude `M`, bins × frames.
    pub mixture: &'a DMatrix<T>,
    /// Clean speech magnitude `S`, bins × frames.
    pub speech: &'a DMatrix<T>,
    /// Divergence.
    pub loss: NmfLoss,
    /// Gain exponent `p`.
    pub p: T,
}

fn eps<T: RealField + Copy>() -> T {
    nalgebra::convert(1e-12)
}

/// `(Λˢ, Λⁿ)` for bases `wbar`.
fn parts<T: RealField + Copy>(wbar: &DMatrix<T>, pr: &Problem<T>) -> (DMatrix<T>, DMatrix<T>) {
    let (rs, r) = (pr.speech_rank, wbar.ncols());
    let ls = wbar.columns(0, rs) * pr.h.rows(0, rs);
    let ln = wbar.columns(rs, r - rs) * pr.h.rows(rs, r - rs);
    (ls, ln)
}

/// The gain `(Λˢ)ᵖ / ((Λˢ)ᵖ + (Λⁿ)ᵖ)` of one bin (0 where both are 0, as in
/// [`super::separate`]).
pub fn gain<T: RealField + Copy>(ls: T, ln: T, p: T) -> T {
    let (a, b) = (ls.max(T::zero()).powf(p), ln.max(T::zero()).powf(p));
    if a + b > T::zero() {
        a / (a + b)
    } else {
        T::zero()
    }
}

fn divergence<T: RealField + Copy>(loss: NmfLoss, estimate: T, target: T) -> T {
    match loss {
        NmfLoss::Frobenius => (estimate - target).powi(2) * nalgebra::convert(0.5),
        NmfLoss::KullbackLeibler => {
            let e = estimate.max(eps());
            let log_term = if target > T::zero() {
                target * (target / e).ln()
            } else {
                T::zero()
            };
            log_term - target + e
        }
    }
}

/// The objective `D(S | G(W̄) ⊙ M)` summed over bins and frames. Each term in `T`, the sum in
/// f64: over millions of terms an f32 sum drifts by more than the steps [`train`] compares.
pub fn objective<T: RealField + Copy>(wbar: &DMatrix<T>, pr: &Problem<T>) -> f64
where
    f64: From<T>,
{
    let (ls, ln) = parts(wbar, pr);
    let mut total = 0.0f64;
    for i in 0..ls.len() {
        let estimate = gain(ls[i], ln[i], pr.p) * pr.mixture[i];
        total += f64::from(divergence(pr.loss, estimate, pr.speech[i]));
    }
    total
}

/// The positive and negative parts `(P, N)` of `∇W̄ D = P − N` (module docs).
pub fn gradient_parts<T: RealField + Copy>(wbar: &DMatrix<T>, pr: &Problem<T>) -> (DMatrix<T>, DMatrix<T>) {
    let (ls, ln) = parts(wbar, pr);
    let (bins, frames) = ls.shape();
    let mut plus_s = DMatrix::zeros(bins, frames);
    let mut minus_s = DMatrix::zeros(bins, frames);
    let mut plus_n = DMatrix::zeros(bins, frames);
    let mut minus_n = DMatrix::zeros(bins, frames);
    for i in 0..ls.len() {
        let g = gain(ls[i], ln[i], pr.p);
        let m = pr.mixture[i];
        let common = pr.p * g * (T::one() - g) * m;
        let estimate = g * m;
        let (r_plus, r_minus) = match pr.loss {
            NmfLoss::Frobenius => (estimate * common, pr.speech[i] * common),
            NmfLoss::KullbackLeibler => (common, pr.speech[i] / estimate.max(eps()) * common),
        };
        let (ls_i, ln_i) = (ls[i].max(eps()), ln[i].max(eps()));
        plus_s[i] = r_plus / ls_i;
        minus_s[i] = r_minus / ls_i;
        // The noise gradient has the opposite sign: its positive part comes from R⁻.
        plus_n[i] = r_minus / ln_i;
        minus_n[i] = r_plus / ln_i;
    }
    let (rs, r) = (pr.speech_rank, wbar.ncols());
    let hs_t = pr.h.rows(0, rs).transpose();
    let hn_t = pr.h.rows(rs, r - rs).transpose();
    let mut positive = DMatrix::zeros(bins, r);
    let mut negative = DMatrix::zeros(bins, r);
    positive.columns_mut(0, rs).copy_from(&(&plus_s * &hs_t));
    negative.columns_mut(0, rs).copy_from(&(&minus_s * &hs_t));
    positive.columns_mut(rs, r - rs).copy_from(&(&plus_n * &hn_t));
    negative.columns_mut(rs, r - rs).copy_from(&(&minus_n * &hn_t));
    (positive, negative)
}

/// `∇W̄ D`.
pub fn gradient<T: RealField + Copy>(wbar: &DMatrix<T>, pr: &Problem<T>) -> DMatrix<T> {
    let (p, n) = gradient_parts(wbar, pr);
    p - n
}

/// What [`train`] returns.
pub struct Trained<T: RealField + Copy> {
    /// The reconstruction bases with the lowest objective seen.
    pub wbar: DMatrix<T>,
    /// Objective before the first update and after each.
    pub objectives: Vec<f64>,
}

/// Trains the reconstruction bases from `w` (the analysis bases, bins × r).
pub fn train<T: RealField + Copy>(
    w: &DMatrix<T>,
    pr: &Problem<T>,
    iterations: usize,
    mut progress: impl FnMut(usize),
) -> Trained<T>
where
    f64: From<T>,
{
    let mut wbar = w.clone();
    let first = objective(&wbar, pr);
    let mut objectives = vec![first];
    let mut best = (first, wbar.clone());
    for it in 1..=iterations {
        let (positive, negative) = gradient_parts(&wbar, pr);
        for ((v, &num), &den) in wbar.iter_mut().zip(negative.iter()).zip(positive.iter()) {
            *v *= num / den.max(eps());
        }
        let obj = objective(&wbar, pr);
        objectives.push(obj);
        if obj < best.0 {
            best = (obj, wbar.clone());
        }
        progress(it);
    }
    Trained {
        wbar: best.1,
        objectives,
    }
}
