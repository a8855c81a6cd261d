//! Elementary functions: libm by default, micromath's approximations with `fast-math`; the
//! FPU's square root where there is one.

/// `ln(1 + eˣ)` without overflow for large `x`.
#[cfg(not(feature = "fast-math"))]
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + libm::log1pf(libm::expf(-x.abs()))
}

/// `ln(1 + eˣ)` without overflow for large `x` (micromath approximations, ~1e-3 relative).
#[cfg(feature = "fast-math")]
pub fn softplus(x: f32) -> f32 {
    // Called through the trait so `std`'s inherent methods are not picked instead.
    use micromath::F32Ext;
    x.max(0.0) + F32Ext::ln(1.0 + F32Ext::exp(-x.abs()))
}

/// `√x`, correctly rounded: the FPU's `VSQRT.F32` on a Cortex-M4F/M7F, `libm::sqrtf`
/// elsewhere — the same bits everywhere (IEEE-754 requires the square root rounded
/// correctly).
#[inline(always)]
pub fn sqrt(x: f32) -> f32 {
    #[cfg(vaenmf_fpu)]
    return crate::quant::fpu_sqrt(x);
    #[cfg(not(vaenmf_fpu))]
    libm::sqrtf(x)
}
