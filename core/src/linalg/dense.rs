//! The run-time-sized dense layer `out = b + Wᵀx`: weights input-major (`w[i·outputs + o]`,
//! burn's `Linear` layout), each output summed in input order with a separate multiply and
//! add — the order of the typed panel kernels, so every path and every target gives the
//! same bits.
//!
//! The loop runs over the inputs, adding each weight row to all the sums: the weights are
//! read once, in storage order. Holding a block of sums in registers across all the inputs
//! instead (as the typed panel kernel does on its panel layout) reads this layout with a
//! stride of one row: measured 3× slower once the weights left the L2 cache (a 771 × 500
//! layer, 8 copies, x86-64), 2× faster while they fit.
//!
//! Cost per call: `inputs · outputs` multiply-adds.

/// `out[o] = b[o] + Σᵢ w[i·outputs + o] · x[i]` for `o < min(out.len(), bias.len())`,
/// `outputs = bias.len()`, over the inputs that have a whole row of weights.
pub(crate) fn dense(inputs: &[f32], weights: &[f32], bias: &[f32], out: &mut [f32]) {
    let outputs = bias.len().max(1);
    for (o, &b) in out.iter_mut().zip(bias) {
        *o = b;
    }
    for (&xi, row) in inputs.iter().zip(weights.chunks_exact(outputs)) {
        for (acc, &w) in out.iter_mut().zip(row) {
            *acc += w * xi;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input-order sums, one output at a time: the definition the kernel must match bit for
    /// bit.
    fn reference(inputs: &[f32], weights: &[f32], bias: &[f32]) -> [f32; 80] {
        let outputs = bias.len();
        let mut out = [0.0; 80];
        for (o, slot) in out.iter_mut().enumerate().take(outputs) {
            let mut acc = bias[o];
            for (i, &x) in inputs.iter().enumerate() {
                acc += weights[i * outputs + o] * x;
            }
            *slot = acc;
        }
        out
    }

    #[test]
    fn sums_in_input_order_bit_for_bit() {
        let mut seed = 0x1234_5678u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            // Values in ±2⁻¹⁰ … ±2¹⁰: a sum's value depends on the order of its terms.
            libm::ldexpf((seed >> 8) as f32 / 16_777_216.0 - 0.5, (seed % 21) as i32 - 10)
        };
        for (inputs, outputs) in [(37, 80), (5, 33), (9, 64), (13, 31), (3, 1)] {
            let x: [f32; 40] = core::array::from_fn(|_| next());
            let w: [f32; 40 * 80] = core::array::from_fn(|_| next());
            let b: [f32; 80] = core::array::from_fn(|_| next());
            let (x, w, b) = (&x[..inputs], &w[..inputs * outputs], &b[..outputs]);
            let mut out = [f32::NAN; 80];
            dense(x, w, b, &mut out[..outputs]);
            let want = reference(x, w, b);
            for o in 0..outputs {
                assert_eq!(
                    out[o].to_bits(),
                    want[o].to_bits(),
                    "output {o} of {inputs}×{outputs}"
                );
            }
        }
    }
}
