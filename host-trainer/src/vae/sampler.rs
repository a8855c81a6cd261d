//! Reparameterised Gamma sampling (paper eq. 7; Naesseth et al. 2017).
//!
//! For each element, with `a = α + B` (`B = boost ≥ 1`): draw `z̃ ~ Gamma(a, 1)` exactly with
//! the core's Marsaglia–Tsang sampler on the *detached* shape, invert
//! `h(ε, a) = (a − ⅓)(1 + ε/√(9a − 3))³` to get the accepted `ε`, then push `ε` back through
//! `h` as a function of α. The boost multiplies by `∏_{i<B} u_i^{1/(α+i)}`, computed as
//! `exp(Σ ln u_i / (α + i))` so small shapes do not underflow, and the rate divides.
//! Acceptance is treated as independent of α (the small correction term of Naesseth et al.
//! is dropped), which is standard practice and makes the gradient slightly biased.
//!
//! The transform and its two partial derivatives are computed per element in f64
//! ([`reparameterise`]) and handed to autodiff as `z + g_α (α − ᾱ) + g_β (β − β̄)` with ᾱ, β̄
//! the detached values: the value is `z`, the gradient is exactly `(g_α, g_β)`, in five
//! tensor operations instead of the transform's twenty (a training step is made of many small
//! operations; see `kl_surrogate` in `model` for the same device).

use anyhow::Result;
use burn::prelude::*;
use burn::tensor::TensorData;
use vaenmf_core::gamma::Prng;

/// A reparameterised sample and its derivatives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reparameterised {
    /// `z = h(ε, α + B) · exp(Σ ln u_i / (α + i)) / β`.
    pub z: f64,
    /// ∂z/∂α at fixed noise.
    pub dz_dalpha: f64,
    /// ∂z/∂β at fixed noise.
    pub dz_dbeta: f64,
}

/// The transform from noise (`eps`, and `log_u[i] = ln u_i` for the boost) to `z` for
/// `Gamma(α, β)` with boost `log_u.len()`, and its partial derivatives.
pub fn reparameterise(alpha: f64, beta: f64, eps: f64, log_u: &[f64]) -> Reparameterised {
    let d = alpha + log_u.len() as f64 - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    let v = 1.0 + eps * c;
    let z_boosted = d * v * v * v;
    // d(z_boosted)/dα, with dc/dα = −c / (2d).
    let dzb = v * v * v - 1.5 * eps * c * v * v;
    let (mut log_factor, mut dlog_factor) = (0.0, 0.0);
    for (i, lu) in log_u.iter().enumerate() {
        let s = alpha + i as f64;
        log_factor += lu / s;
        dlog_factor -= lu / (s * s);
    }
    let factor = log_factor.exp();
    let z = z_boosted * factor / beta;
    Reparameterised {
        z,
        dz_dalpha: (dzb + z_boosted * dlog_factor) * factor / beta,
        dz_dbeta: -z / beta,
    }
}

/// A reparameterised draw `z ~ Gamma(α, β)` (`[batch, r]`), differentiable in α and β.
pub fn sample_gamma(alpha: Tensor<2>, beta: Tensor<2>, boost: u32, rng: &mut Prng) -> Result<Tensor<2>> {
    let boost = boost.max(1) as usize;
    let dims = alpha.dims();
    let device = alpha.device();
    let (alpha_now, beta_now) = (alpha.clone().detach(), beta.clone().detach());
    let (shapes, rates) = (to_vec(alpha_now.clone())?, to_vec(beta_now.clone())?);
    let (mut z, mut ga, mut gb) = (Vec::with_capacity(shapes.len()), Vec::new(), Vec::new());
    let mut log_u = vec![0.0; boost];
    for (&s, &r) in shapes.iter().zip(&rates) {
        let a = f64::from(s) + boost as f64;
        let draw = rng.gamma(a, 1.0, 0);
        let d = a - 1.0 / 3.0;
        let eps = ((draw / d).cbrt() - 1.0) * (9.0 * d).sqrt();
        for lu in &mut log_u {
            *lu = rng.uniform().ln();
        }
        let sample = reparameterise(f64::from(s), f64::from(r), eps, &log_u);
        z.push(sample.z as f32);
        ga.push(sample.dz_dalpha as f32);
        gb.push(sample.dz_dbeta as f32);
    }
    let tensor = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, dims), &device);
    Ok(tensor(z) + (alpha - alpha_now) * tensor(ga) + (beta - beta_now) * tensor(gb))
}

/// A tensor's values as `f32`; a failed conversion is an error, never an empty vector.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    // `convert` is a no-op for f32 data; `try_into_vec` takes the buffer without a copy when
    // it can.
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("cannot read a tensor's values as f32: {e:?}"))
}
