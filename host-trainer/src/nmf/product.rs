//! Dense f32 products for [`super::gemm`]'s updates, by the `gemm` crate: packed AVX-512,
//! AVX2/FMA or SSE kernels chosen at run time for the CPU. On one thread (the updates already
//! run a block of frames per thread), so a product's bits depend only on the inputs and the
//! CPU's instruction set: the same on every run on one machine.
//!
//! Why not nalgebra's `*` (matrixmultiply): its AVX2 kernel re-packs both operands at every
//! call and has no AVX-512 path. On a Zen 5 core, `Wᵀ X` and `H Xᵀ` at rank 40 on 257 × 5 000
//! ran at 20 G multiply-adds per second there and 78–84 G here (measured side by side).

use nalgebra::DMatrix;

/// `a · b`.
pub fn mul(a: &DMatrix<f32>, b: &DMatrix<f32>) -> DMatrix<f32> {
    assert_eq!(
        a.ncols(),
        b.nrows(),
        "product of {}×{} by {}×{}",
        a.nrows(),
        a.ncols(),
        b.nrows(),
        b.ncols()
    );
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let mut c = DMatrix::<f32>::zeros(m, n);
    if m == 0 || n == 0 || k == 0 {
        return c;
    }
    let stride = |rows: usize| isize::try_from(rows).expect("a matrix's rows fit isize");
    // SAFETY: column-major storage (element (i, j) at `i + j · rows`, column stride = rows,
    // row stride 1) of exactly m × n, m × k and k × n elements, as the dimensions passed; `c`
    // is written only (`read_dst = false`) and does not alias the operands.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            stride(m),
            1,
            false,
            a.as_ptr(),
            stride(m),
            1,
            b.as_ptr(),
            stride(k),
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the definition in f64 within the rounding bound of any summation order, on
    /// shapes with every kernel edge (1, tails of the register blocks, and the updates' shapes).
    #[test]
    fn products_equal_the_definition() {
        let mut rng = vaenmf_core::gamma::Prng::new(7);
        let mut next = || rng.uniform() as f32 - 0.5;
        for (m, k, n) in [
            (1, 1, 1),
            (40, 257, 333),
            (257, 40, 17),
            (3, 5, 2),
            (33, 1, 49),
            (40, 40, 1000),
        ] {
            let a = DMatrix::from_fn(m, k, |_, _| next());
            let b = DMatrix::from_fn(k, n, |_, _| next());
            let c = mul(&a, &b);
            for i in 0..m {
                for j in 0..n {
                    let terms = (0..k).map(|t| f64::from(a[(i, t)]) * f64::from(b[(t, j)]));
                    let want: f64 = terms.clone().sum();
                    // Any summation order in f32 (with or without fused multiply-adds) stays
                    // within k·ε·Σ|aᵢₜ bₜⱼ| of the exact sum.
                    let bound = k as f64 * f64::from(f32::EPSILON) * terms.map(f64::abs).sum::<f64>();
                    assert!(
                        (f64::from(c[(i, j)]) - want).abs() <= bound,
                        "({m}, {k}, {n}) at ({i}, {j}): {} vs {want}",
                        c[(i, j)]
                    );
                }
            }
        }
        assert_eq!(mul(&DMatrix::zeros(0, 3), &DMatrix::zeros(3, 2)).shape(), (0, 2));
    }
}
