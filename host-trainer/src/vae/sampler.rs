//! Reparameterised Gamma sampling (paper eq. 7; Naesseth et al. 2017).
//!
//! For each element, with `a = α + B` (`B = boost ≥ 1`): draw `z̃ ~ Gamma(a, 1)` exactly with
//! the core's Marsaglia–Tsang sampler on the *detached* shape, invert
//! `h(ε, a) = (a − ⅓)(1 + ε/√(9a − 3))³` to get the accepted `ε`, then push `ε` back through
//! `h` with the differentiable `a`. The boost multiplies by `∏_{i<B} u_i^{1/(α+i)}`, computed
//! as `exp(Σ ln u_i / (α + i))` so small shapes do not underflow, and the rate divides.
//! Acceptance is treated as independent of α (the small correction term of Naesseth et al.
//! is dropped), which is standard practice and makes the gradient slightly biased.

use burn::prelude::*;
use burn::tensor::TensorData;
use vaenmf_core::gamma::Prng;

/// A reparameterised draw `z ~ Gamma(α, β)` (`[batch, r]`), differentiable in α and β.
pub fn sample_gamma(alpha: Tensor<2>, beta: Tensor<2>, boost: u32, rng: &mut Prng) -> Tensor<2> {
    let boost = boost.max(1);
    let dims = alpha.dims();
    let device = alpha.device();
    let shapes: Vec<f32> = to_vec(alpha.clone().detach());
    let mut eps = Vec::with_capacity(shapes.len());
    let mut log_u: Vec<Vec<f32>> = vec![Vec::with_capacity(shapes.len()); boost as usize];
    for &s in &shapes {
        let a = f64::from(s) + f64::from(boost);
        let z = rng.gamma(a, 1.0, 0);
        let d = a - 1.0 / 3.0;
        eps.push((((z / d).cbrt() - 1.0) * (9.0 * a - 3.0).sqrt()) as f32);
        for lu in &mut log_u {
            lu.push(rng.uniform().ln() as f32);
        }
    }
    let eps = Tensor::<2>::from_data(TensorData::new(eps, dims), &device);
    let a = alpha.clone().add_scalar(f64::from(boost));
    let d = a.clone().sub_scalar(1.0 / 3.0);
    let c = (d.clone().mul_scalar(9.0)).sqrt().recip();
    let v = (eps * c).add_scalar(1.0);
    let z_boosted = d * v.clone() * v.clone() * v;
    let mut log_factor = Tensor::<2>::zeros(dims, &device);
    for (i, lu) in log_u.into_iter().enumerate() {
        let lu = Tensor::<2>::from_data(TensorData::new(lu, dims), &device);
        log_factor = log_factor + lu / alpha.clone().add_scalar(i as f64);
    }
    z_boosted * log_factor.exp() / beta
}

/// A tensor's values as `f32`.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    let data = t.into_data();
    match data.as_slice::<f32>() {
        Ok(s) => s.to_vec(),
        Err(_) => data
            .convert::<f32>()
            .as_slice::<f32>()
            .map(<[f32]>::to_vec)
            .unwrap_or_default(),
    }
}
