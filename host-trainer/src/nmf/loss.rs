//! The divergences NMF minimises, shared by the rank-unrolled kernels ([`super`]) and the
//! dense-product ones ([`super::gemm`]).

/// Divergence minimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NmfLoss {
    /// ½‖X − Z Wᵀ‖²_F.
    Frobenius,
    /// Generalised KL divergence D(X ‖ Z Wᵀ).
    KullbackLeibler,
}

impl crate::choice::Choice for NmfLoss {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        ("euclidean", "½‖X − WH‖², the Frobenius norm", NmfLoss::Frobenius),
        (
            "kl",
            "generalised Kullback–Leibler divergence",
            NmfLoss::KullbackLeibler,
        ),
    ];
}
