//! The VAE-NMF model: an MLP encoder with Gamma-posterior heads and a one-layer,
//! bias-free, nonnegative linear decoder (the synergies).

use anyhow::Result;
use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, softplus};
use burn::tensor::TensorData;

use super::sampler::to_vec;

/// Architecture hyper-parameters (saved next to the weights in checkpoints and reports).
#[derive(Config, Debug)]
pub struct VaeNmfConfig {
    /// EMG channels `m`.
    pub channels: usize,
    /// Synergies `r`.
    pub rank: usize,
    /// First hidden width.
    #[config(default = 400)]
    pub hidden1: usize,
    /// Second hidden width.
    #[config(default = 400)]
    pub hidden2: usize,
    /// Floor added to the heads' softplus so α, β > 0.
    #[config(default = 1e-3)]
    pub floor: f64,
}

/// Encoder and decoder.
#[derive(Module, Debug)]
pub struct VaeNmf {
    /// m → h1.
    pub layer1: Linear,
    /// h1 → h2.
    pub layer2: Linear,
    /// h2 → r, Gamma shape (before softplus).
    pub alpha_head: Linear,
    /// h2 → r, Gamma rate (before softplus).
    pub beta_head: Linear,
    /// Decoder weights `Wᵀ`, `[r, m]`: a frame's reconstruction is `z · Wᵀ`.
    pub decoder: Param<Tensor<2>>,
}

impl VaeNmfConfig {
    /// A model with burn's default initialisation for the encoder and `decoder` (`[r, m]`)
    /// for the synergies.
    pub fn init(&self, decoder: Tensor<2>, device: &Device) -> VaeNmf {
        VaeNmf {
            layer1: LinearConfig::new(self.channels, self.hidden1).init(device),
            layer2: LinearConfig::new(self.hidden1, self.hidden2).init(device),
            alpha_head: LinearConfig::new(self.hidden2, self.rank).init(device),
            beta_head: LinearConfig::new(self.hidden2, self.rank).init(device),
            decoder: Param::from_tensor(decoder),
        }
    }
}

/// The terms of the loss for one batch.
pub struct LossTerms {
    /// What to differentiate: equal to `total` in value up to a constant, with the exact
    /// gradient (see [`kl_surrogate`]).
    pub objective: Tensor<1>,
    /// Everything: reconstruction + KL (per frame, batch mean) + penalty.
    pub total: Tensor<1>,
    /// −E_q[ln p(x|z)] per frame (batch mean, up to the constant).
    pub reconstruction: Tensor<1>,
    /// KL(q‖p) per frame (batch mean).
    pub kl: Tensor<1>,
    /// (γ/2) Σ min(w, 0)².
    pub penalty: Tensor<1>,
}

impl VaeNmf {
    /// Posterior parameters (α, β), each `[batch, r]`, for scaled frames `x` (`[batch, m]`).
    pub fn encode(&self, x: Tensor<2>, floor: f64) -> (Tensor<2>, Tensor<2>) {
        let h = relu(self.layer1.forward(x));
        let h = relu(self.layer2.forward(h));
        let alpha = softplus(self.alpha_head.forward(h.clone()), 1.0).add_scalar(floor);
        let beta = softplus(self.beta_head.forward(h), 1.0).add_scalar(floor);
        (alpha, beta)
    }

    /// Reconstruction `z · Wᵀ` (`[batch, m]`).
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        z.matmul(self.decoder.val())
    }

    /// The negative ELBO plus the nonnegativity penalty. `z` is a reparameterised sample of
    /// the posterior (see `sampler`); the likelihood is Gaussian with standard deviation
    /// `sigma` (or Poisson / generalised KL when `poisson`), summed over channels and averaged
    /// over the batch, as is the KL to the Gamma(α₀, 1) prior; the penalty is added once per
    /// step.
    #[allow(clippy::too_many_arguments)]
    pub fn loss(
        &self,
        x: Tensor<2>,
        z: Tensor<2>,
        alpha: Tensor<2>,
        beta: Tensor<2>,
        sigma: f64,
        poisson: bool,
        alpha0: f64,
        gamma: f64,
    ) -> Result<LossTerms> {
        let xhat = self.decode(z);
        let reconstruction = if poisson {
            // Generalised KL divergence D(x‖x̂) = Σ x ln(x/x̂) − x + x̂; the x ln x terms do not
            // depend on the parameters, so −x ln x̂ + x̂ is what is optimised.
            let xhat = xhat.clamp_min(1e-6);
            (xhat.clone() - x * xhat.log()).sum_dim(1).mean()
        } else {
            (x - xhat)
                .square()
                .sum_dim(1)
                .mean()
                .div_scalar(2.0 * sigma * sigma)
        };
        let (kl, kl_surrogate) = kl_surrogate(alpha, beta, alpha0)?;
        let negative = self.decoder.val().clamp_max(0.0);
        let penalty = negative.square().sum().mul_scalar(gamma / 2.0);
        Ok(LossTerms {
            objective: reconstruction.clone() + kl_surrogate + penalty.clone(),
            total: reconstruction.clone() + kl.clone() + penalty.clone(),
            reconstruction,
            kl,
            penalty,
        })
    }
}

/// KL(q‖p) per frame (batch mean) as a value, and a surrogate with the same gradient.
///
/// The closed form composed from tensor ops (`special::kl_gamma_to_prior`) costs ~60 small
/// element-wise ops forward and as many backward, a sizeable share of a training step. Here
/// the KL and its partial derivatives are computed in f64 by the core (`kl_gamma`,
/// `kl_gamma_gradient`, with trigamma) on the detached α, β, and the surrogate
/// `mean_n Σ_k (g_α α + g_β β)` with constant `g` carries exactly that gradient into autodiff.
pub fn kl_surrogate(alpha: Tensor<2>, beta: Tensor<2>, alpha0: f64) -> Result<(Tensor<1>, Tensor<1>)> {
    let dims = alpha.dims();
    let device = alpha.device();
    let (a, b) = (to_vec(alpha.clone().detach())?, to_vec(beta.clone().detach())?);
    let mut total = 0.0;
    let (mut ga, mut gb) = (Vec::with_capacity(a.len()), Vec::with_capacity(a.len()));
    for (&ai, &bi) in a.iter().zip(&b) {
        let (ai, bi) = (f64::from(ai), f64::from(bi));
        total += vaenmf_core::gamma::kl_gamma(ai, bi, alpha0, 1.0);
        let (da, db) = vaenmf_core::gamma::kl_gamma_gradient(ai, bi, alpha0, 1.0);
        ga.push(da as f32);
        gb.push(db as f32);
    }
    let frames = dims[0].max(1) as f64;
    let kl = Tensor::<1>::from_data(TensorData::new(vec![(total / frames) as f32], [1]), &device);
    let ga = Tensor::<2>::from_data(TensorData::new(ga, dims), &device);
    let gb = Tensor::<2>::from_data(TensorData::new(gb, dims), &device);
    let surrogate = (alpha * ga + beta * gb).sum_dim(1).mean();
    Ok((kl, surrogate))
}
