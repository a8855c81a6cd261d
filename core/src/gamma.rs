//! Gamma-distribution mathematics in `f64`: log-gamma, digamma, the KL divergence between
//! Gammas, and a seedable Marsaglia–Tsang sampler with shape augmentation.
//!
//! Parameterisation throughout: shape α, **rate** β, density
//! `p(z) = β^α z^(α−1) e^(−βz) / Γ(α)`.

/// `ln Γ(x)` (libm's `lgamma`; `ln |Γ(x)|` for negative non-integers).
pub fn lgamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// Poles of ψ and ψ′ (0, −1, −2, …), NaN and −∞: where both return NaN.
fn is_pole(x: f64) -> bool {
    x.is_nan() || x == f64::NEG_INFINITY || (x <= 0.0 && x == libm::floor(x))
}

/// The recurrence of ψ and ψ′: raises `x > 0` to at least `to` in unit steps and returns the
/// new argument and `Σ term(xₖ)` over the arguments passed.
fn recur_up(mut x: f64, to: f64, term: impl Fn(f64) -> f64) -> (f64, f64) {
    let mut sum = 0.0;
    while x < to {
        sum += term(x);
        x += 1.0;
    }
    (x, sum)
}

/// Digamma ψ(x) = d/dx ln Γ(x).
///
/// For `x < 6` the recurrence ψ(x) = ψ(x + 1) − 1/x shifts the argument up, then the
/// asymptotic series `ln x − 1/(2x) − Σ B₂ₖ / (2k x²ᵏ)` (to x⁻¹⁴) is used; negative
/// non-integers go through the reflection ψ(1 − x) − ψ(x) = π cot(πx). Relative error is
/// below 1e-12 for x ≥ 1e-3 against published values (see the tests). Poles (0, −1, …) and
/// NaN give NaN.
pub fn digamma(x: f64) -> f64 {
    if is_pole(x) {
        return f64::NAN;
    }
    if x <= 0.0 {
        let pi = core::f64::consts::PI;
        return digamma(1.0 - x) - pi / libm::tan(pi * x);
    }
    let (x, shift) = recur_up(x, 6.0, |x| 1.0 / x);
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Bernoulli terms B₂ₖ/(2k): 1/12, −1/120, 1/252, −1/240, 1/132, −691/32760, 1/12.
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2
                        * (1.0 / 252.0
                            - inv2
                                * (1.0 / 240.0
                                    - inv2 * (1.0 / 132.0 - inv2 * (691.0 / 32760.0 - inv2 / 12.0))))));
    libm::log(x) - 0.5 * inv - series - shift
}

/// Trigamma ψ′(x) = d/dx ψ(x).
///
/// For `x < 10` the recurrence ψ′(x) = ψ′(x + 1) + 1/x² shifts the argument up, then the
/// asymptotic series `1/x + 1/(2x²) + Σ B₂ₖ / x²ᵏ⁺¹` (to x⁻¹⁵); negative non-integers go
/// through the reflection ψ′(1 − x) + ψ′(x) = π² / sin²(πx). Poles and NaN give NaN.
pub fn trigamma(x: f64) -> f64 {
    if is_pole(x) {
        return f64::NAN;
    }
    if x <= 0.0 {
        let pi = core::f64::consts::PI;
        let s = libm::sin(pi * x);
        return pi * pi / (s * s) - trigamma(1.0 - x);
    }
    let (x, shift) = recur_up(x, 10.0, |x| 1.0 / (x * x));
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Bernoulli numbers B₂ₖ: 1/6, −1/30, 1/42, −1/30, 5/66, −691/2730, 7/6.
    let series = inv2
        * inv
        * (1.0 / 6.0
            - inv2
                * (1.0 / 30.0
                    - inv2
                        * (1.0 / 42.0
                            - inv2
                                * (1.0 / 30.0
                                    - inv2 * (5.0 / 66.0 - inv2 * (691.0 / 2730.0 - inv2 * 7.0 / 6.0))))));
    inv + 0.5 * inv2 + series + shift
}

/// KL(Gamma(α₁, β₁) ‖ Gamma(α₂, β₂)), rates β:
/// `(α₁−α₂)ψ(α₁) − ln Γ(α₁) + ln Γ(α₂) + α₂(ln β₁ − ln β₂) + α₁(β₂ − β₁)/β₁`.
///
/// (The paper's eq. 8 prints the last term inverted; DESIGN.md has the derivation check.)
pub fn kl_gamma(alpha1: f64, beta1: f64, alpha2: f64, beta2: f64) -> f64 {
    (alpha1 - alpha2) * digamma(alpha1) - lgamma(alpha1)
        + lgamma(alpha2)
        + alpha2 * (libm::log(beta1) - libm::log(beta2))
        + alpha1 * (beta2 - beta1) / beta1
}

/// Gradient of [`kl_gamma`] with respect to the first distribution's shape and rate:
/// `∂/∂α₁ = (α₁ − α₂) ψ′(α₁) + (β₂ − β₁)/β₁`, `∂/∂β₁ = α₂/β₁ − α₁β₂/β₁²`.
pub fn kl_gamma_gradient(alpha1: f64, beta1: f64, alpha2: f64, beta2: f64) -> (f64, f64) {
    (
        (alpha1 - alpha2) * trigamma(alpha1) + (beta2 - beta1) / beta1,
        alpha2 / beta1 - alpha1 * beta2 / (beta1 * beta1),
    )
}

/// The Marsaglia–Tsang transform `h(ε, α) = (α − 1/3)(1 + ε/√(9α − 3))³` for α ≥ 1: a
/// standard normal ε accepted by the sampler maps to a Gamma(α, 1) draw. It is the
/// reparameterisation of the paper's eq. 7 (Naesseth et al. 2017).
pub fn marsaglia_tsang_h(eps: f64, alpha: f64) -> f64 {
    let d = alpha - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    let v = 1.0 + c * eps;
    d * v * v * v
}

/// A small, fast, seedable PRNG (xoshiro256++ seeded through SplitMix64). Not for
/// cryptography; the same seed gives the same stream on every target.
#[derive(Debug, Clone)]
pub struct Prng {
    s: [u64; 4],
}

impl Prng {
    /// Seeds the generator; every seed (including 0) gives a valid, distinct stream.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }

    /// The generator's state, to save and continue the stream later with
    /// [`Prng::from_state`] (e.g. a training checkpoint).
    pub const fn state(&self) -> [u64; 4] {
        self.s
    }

    /// Continues a stream from a saved [`Prng::state`]; `None` for the all-zero state, which
    /// xoshiro256++ never reaches and cannot leave.
    pub fn from_state(s: [u64; 4]) -> Option<Self> {
        (s != [0; 4]).then_some(Self { s })
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on the open interval (0, 1): never 0, so `ln u` is finite.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller; one of the pair is used).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
    }

    /// One Gamma(α, β) draw (shape α, rate β), Marsaglia–Tsang.
    ///
    /// For α < 1 the shape is augmented: draw Gamma(α + B, 1) with `B = boost` (at least
    /// 1 is used) and multiply by ∏_{i<B} u_i^{1/(α+i)}, computed in log space so tiny
    /// shapes do not underflow to exactly zero prematurely. Returns NaN for α ≤ 0, β ≤ 0 or
    /// non-finite parameters.
    pub fn gamma(&mut self, alpha: f64, beta: f64, boost: u32) -> f64 {
        if !(alpha.is_finite() && beta.is_finite() && alpha > 0.0 && beta > 0.0) {
            return f64::NAN;
        }
        let boost = if alpha < 1.0 { boost.max(1) } else { 0 };
        let shape = alpha + f64::from(boost);
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / libm::sqrt(9.0 * d);
        let z = loop {
            let eps = self.normal();
            let v = 1.0 + c * eps;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let ln_u = libm::log(self.uniform());
            if ln_u < 0.5 * eps * eps + d - d * v + d * libm::log(v) {
                break d * v;
            }
        };
        let mut log_boost = 0.0;
        for i in 0..boost {
            log_boost += libm::log(self.uniform()) / (alpha + f64::from(i));
        }
        z * libm::exp(log_boost) / beta
    }
}
