//! ln Γ and ψ as tensor operations. burn 0.22 has neither, so they are composed from
//! existing element-wise ops — a recurrence shift by six, then the asymptotic series — and
//! autodiff differentiates the composition. Training uses the cheaper
//! [`kl_surrogate`](super::model::kl_surrogate) (same value and gradient, computed by the
//! core); these compositions are the differentiable reference the tests check it against.

use burn::prelude::*;

/// Shift applied before the asymptotic series: for x > 0, x + 6 ≥ 6 where the truncated
/// series is accurate to ~1e-10 (f64) and below f32 resolution.
const SHIFT: usize = 6;

/// `ln Γ(x)` for x > 0: ln Γ(x) = ln Γ(x + 6) − ln(x (x+1) … (x+5)), then Stirling's series
/// `(y − ½) ln y − y + ½ ln 2π + 1/(12y) − 1/(360y³) + 1/(1260y⁵)`.
pub fn lgamma<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let mut product = x.clone();
    for k in 1..SHIFT {
        product = product * x.clone().add_scalar(k as f64);
    }
    let y = x.add_scalar(SHIFT as f64);
    let inv = y.clone().recip();
    let inv2 = inv.clone().square();
    let series = inv.clone().mul_scalar(1.0 / 12.0) - inv.clone() * inv2.clone().mul_scalar(1.0 / 360.0)
        + inv * inv2.clone() * inv2.mul_scalar(1.0 / 1260.0);
    let stirling = y.clone().sub_scalar(0.5) * y.clone().log() - y
        + series.add_scalar(0.5 * (2.0 * std::f64::consts::PI).ln());
    stirling - product.log()
}

/// ψ(x) for x > 0: ψ(x) = ψ(x + 6) − Σ_{k<6} 1/(x + k), then
/// `ln y − 1/(2y) − 1/(12y²) + 1/(120y⁴) − 1/(252y⁶)`.
pub fn digamma<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let mut shift = x.clone().recip();
    for k in 1..SHIFT {
        shift = shift + x.clone().add_scalar(k as f64).recip();
    }
    let y = x.add_scalar(SHIFT as f64);
    let inv = y.clone().recip();
    let inv2 = inv.clone().square();
    let series = inv2.clone().mul_scalar(1.0 / 12.0) - inv2.clone().square().mul_scalar(1.0 / 120.0)
        + inv2.clone().square() * inv2.mul_scalar(1.0 / 252.0);
    y.log() - inv.mul_scalar(0.5) - series - shift
}

/// KL(Gamma(α, β) ‖ Gamma(α₀, 1)) element-wise (rates; DESIGN.md's corrected eq. 8).
pub fn kl_gamma_to_prior<const D: usize>(alpha: Tensor<D>, beta: Tensor<D>, alpha0: f64) -> Tensor<D> {
    let lgamma_alpha0 = vaenmf_core::gamma::lgamma(alpha0);
    alpha.clone().sub_scalar(alpha0) * digamma(alpha.clone()) - lgamma(alpha.clone())
        + beta.clone().log().mul_scalar(alpha0)
        + alpha * (beta.clone().neg().add_scalar(1.0) / beta)
        + lgamma_alpha0
}
