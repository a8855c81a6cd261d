//! The integer arithmetic of the quantised encoder: the weight layout, the portable dense
//! kernel, requantisation and the float ↔ int16 conversions at the encoder's edges.
//!
//! Every function here is exact integer arithmetic (or IEEE single precision at the edges,
//! without fused multiply-add), and the decoder's accumulator bound guarantees that no sum
//! overflows `i32`: any kernel that adds the same products, in any order, gives the same
//! integers. That is what lets the Cortex-M4 DSP kernel (`quant::dsp`) and this portable one
//! be bit-identical.

use super::{ACTIVATION_MAX, GROUP};

/// Storage position of the weight from input `i` to output `o` in an int8 layer with
/// `inputs × outputs` weights in **pair order**.
///
/// Outputs go in pairs `(2p, 2p + 1)`, each pair a block of `2 · inputs` bytes starting at
/// `2p · inputs`. Inside a block, inputs go in groups of [`GROUP`] (8): per group, 8 bytes for
/// the pair's first output, then 8 for its second; inside each 4 bytes the middle two are
/// swapped (`w₀ w₂ w₁ w₃`), so that `SXTB16` of a word gives `(w₀, w₁)` and `SXTB16 …, ROR #8`
/// gives `(w₂, w₃)`, the halves `SMLAD` multiplies with two int16 inputs loaded as one word.
/// The `inputs mod 8` inputs after the last group follow in input order, two bytes each (the
/// first output's weight, then the second's), so that a word holds `a₀ b₀ a₁ b₁` and
/// `SXTB16` gives `(a₀, a₁)`, `SXTB16 …, ROR #8` gives `(b₀, b₁)`. A last unpaired output (odd
/// `outputs`) stores its weights in input order.
pub const fn pair_position(inputs: usize, outputs: usize, i: usize, o: usize) -> usize {
    let base = (o - o % 2).saturating_mul(inputs);
    if o.is_multiple_of(2) && o.saturating_add(1) == outputs {
        return base.saturating_add(i);
    }
    let side = o % 2;
    let grouped = inputs - inputs % GROUP;
    if i < grouped {
        let (g, k) = (i / GROUP, i % GROUP);
        let swapped = k - k % 4 + [0, 2, 1, 3][k % 4];
        base.saturating_add(g * 2 * GROUP + side * GROUP + swapped)
    } else {
        base.saturating_add(2 * grouped + 2 * (i - grouped) + side)
    }
}

/// Rearranges input-major int8 weights (`input_major[i · outputs + o]`, the blob's order)
/// into `pair_ordered`. Positions outside either slice are skipped (callers check lengths).
pub fn to_pair_order(inputs: usize, outputs: usize, input_major: &[i8], pair_ordered: &mut [i8]) {
    if outputs == 0 {
        return;
    }
    for (k, &w) in input_major.iter().enumerate() {
        if let Some(dst) = pair_ordered.get_mut(pair_position(inputs, outputs, k / outputs, k % outputs)) {
            *dst = w;
        }
    }
}

/// Dot product of `weights` with `x`, both in the same order, summed into `acc`.
#[inline(always)]
pub(super) fn dot(acc: i32, weights: &[i8], x: &[i16]) -> i32 {
    weights
        .iter()
        .zip(x)
        .fold(acc, |a, (&w, &v)| a.wrapping_add(i32::from(w) * i32::from(v)))
}

/// Adds a group's products for both outputs of a pair: `wa`, `wb` are their 8 weights, `xs`
/// the group's inputs in the weights' swapped order (see [`pair_position`]). Each input is
/// loaded once for both outputs, and the two sums stay in registers (on a Cortex-M0, which
/// runs this kernel, two accumulators and the pointers fit its eight low registers).
#[inline(always)]
fn group_pair(a: i32, b: i32, wa: &[i8; GROUP], wb: &[i8; GROUP], xs: &[i16; GROUP]) -> (i32, i32) {
    let (mut a, mut b) = (a, b);
    for k in 0..GROUP {
        let v = i32::from(xs[k]);
        a = a.wrapping_add(i32::from(wa[k]) * v);
        b = b.wrapping_add(i32::from(wb[k]) * v);
    }
    (a, b)
}

/// The full groups of `x` (at most `MAX_GROUPS`) with each 4 inputs in the weights' order
/// `x₀ x₂ x₁ x₃` ([`pair_position`]), written to `buffer`.
pub(super) fn swapped_groups<'g>(
    x: &[i16],
    buffer: &'g mut [[i16; GROUP]; super::MAX_GROUPS],
) -> &'g [[i16; GROUP]] {
    let (full, _) = x.as_chunks::<GROUP>();
    let n = full.len().min(super::MAX_GROUPS);
    for (g, s) in full.iter().zip(buffer.iter_mut()) {
        *s = [g[0], g[2], g[1], g[3], g[4], g[6], g[5], g[7]];
    }
    &buffer[..n]
}

/// A pair's sums plus the products of the tail inputs (`inputs mod 8`), whose weights come
/// two bytes per input, `a₀ b₀ a₁ b₁ …`.
#[inline(always)]
pub(super) fn tail_pair(a: i32, b: i32, tails: &[i8], x_tail: &[i16]) -> (i32, i32) {
    let (mut a, mut b) = (a, b);
    for (w, &v) in tails.chunks_exact(2).zip(x_tail) {
        a = a.wrapping_add(i32::from(w[0]) * i32::from(v));
        b = b.wrapping_add(i32::from(w[1]) * i32::from(v));
    }
    (a, b)
}

/// `acc[o] = bias[o] + Σᵢ w(i, o) · x[i]` over the full groups and the tails, portable.
///
/// `weights` holds `x.len() × acc.len()` weights in pair order; mismatched lengths leave
/// values unwritten rather than panic (the typed layers make them match).
pub fn dense_portable(weights: &[i8], bias: &[i32], x: &[i16], acc: &mut [i32]) {
    let inputs = x.len();
    let outputs = acc.len();
    let grouped = inputs - inputs % GROUP;
    // The group inputs in the weights' swapped order, once for all outputs.
    let mut swapped = [[0i16; GROUP]; super::MAX_GROUPS];
    let swapped = swapped_groups(x, &mut swapped);
    let x_tail = x.get(grouped..).unwrap_or(&[]);
    let pairs = outputs / 2;
    let block = 2 * inputs;
    for (p, (pair, chunk)) in weights
        .chunks_exact(block.max(1))
        .zip(acc.chunks_exact_mut(2))
        .take(pairs)
        .enumerate()
    {
        let (body, tails) = pair.split_at(2 * grouped);
        let mut a = bias.get(2 * p).copied().unwrap_or(0);
        let mut b = bias.get(2 * p + 1).copied().unwrap_or(0);
        let (blocks, _) = body.as_chunks::<{ 2 * GROUP }>();
        for (w, xs) in blocks.iter().zip(swapped) {
            let (wa, wb) = w.split_at(GROUP);
            if let (Ok(wa), Ok(wb)) = (<&[i8; GROUP]>::try_from(wa), <&[i8; GROUP]>::try_from(wb)) {
                (a, b) = group_pair(a, b, wa, wb, xs);
            }
        }
        (a, b) = tail_pair(a, b, tails, x_tail);
        chunk[0] = a;
        chunk[1] = b;
    }
    if outputs % 2 == 1 {
        let start = pairs * block;
        if let (Some(w), Some(last), Some(&b)) = (
            weights.get(start..start + inputs),
            acc.last_mut(),
            bias.get(outputs - 1),
        ) {
            *last = dot(b, w, x);
        }
    }
}

/// `round(acc · multiplier / 2³²)`, ties up: what `SMMULR` computes. The factor
/// `multiplier / 2³²` is below ½ and its relative precision is `½ / multiplier` (the
/// quantiser's multipliers are ≥ 2¹⁶ unless a layer's scales are extreme).
#[inline(always)]
pub fn requantize(acc: i32, multiplier: i32) -> i32 {
    ((i64::from(acc) * i64::from(multiplier) + (1i64 << 31)) >> 32) as i32
}

/// Requantised ReLU activation: `requantize`, then clamped to `0 ..= ACTIVATION_MAX` (one
/// `USAT #15`).
#[inline(always)]
pub fn requantize_relu(acc: i32, multiplier: i32) -> i16 {
    requantize(acc, multiplier).clamp(0, ACTIVATION_MAX) as i16
}

/// An f32 activation in units of `1 / inverse_step`, rounded half away from zero and clamped
/// to `±ACTIVATION_MAX`. NaN becomes 0 (the tracker rejects non-finite frames before this).
#[inline(always)]
pub fn quantize(value: f32, inverse_step: f32) -> i16 {
    let scaled = libm::roundf(value * inverse_step);
    let max = ACTIVATION_MAX as f32;
    // `as` saturates and maps NaN to 0; the clamp keeps −32768 out.
    scaled.clamp(-max, max) as i16
}

/// [`quantize`] clamped to `±max` instead (`max ≤ ACTIVATION_MAX`): the inputs of a layer
/// too wide for full-scale int16 inputs under the accumulator bound.
#[inline(always)]
pub fn quantize_within(value: f32, inverse_step: f32, max: i16) -> i16 {
    // Clamped first, then rounded half away from zero by hand: the integer part by
    // truncation, the fraction `s − trunc(s)` exact in f32 (|s| ≤ 32767). The same integer as
    // `roundf(s).clamp(−max, max)` for every input (NaN → 0), at a fraction of `roundf`'s
    // instructions on a Cortex-M4.
    let limit = f32::from(max);
    let s = value * inverse_step;
    // Compared by hand, not `f32::clamp`: its panic path would pull float printing into
    // firmware (and `max`/`min` cost more on a Cortex-M4). NaN fails every comparison: 0.
    let s = if s >= -limit && s <= limit {
        s
    } else if s > limit {
        limit
    } else if s < -limit {
        -limit
    } else {
        0.0
    };
    let whole = s as i32;
    let fraction = s - whole as f32;
    let rounded = if fraction >= 0.5 {
        whole + 1
    } else if fraction <= -0.5 {
        whole - 1
    } else {
        whole
    };
    rounded.clamp(-i32::from(max), i32::from(max)) as i16
}

/// Nonnegative f32 activation (after ReLU) in units of `1 / inverse_step`: `⌊v / step + ½⌋`
/// clamped to `ACTIVATION_MAX`; negatives and NaN become 0.
#[inline(always)]
pub fn quantize_relu(value: f32, inverse_step: f32) -> i16 {
    let scaled = value * inverse_step + 0.5;
    let max = ACTIVATION_MAX as f32;
    scaled.clamp(0.0, max) as i16
}
