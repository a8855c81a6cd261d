//! The int8 × int16 dense kernel for x86-64 hosts: `PMADDWD`, eight 16-bit
//! multiply-accumulates per instruction (sixteen with AVX2), or `VPDPWSSD`, thirty-two with
//! the add included (AVX-512 VNNI). The only module of the crate allowed `unsafe` on x86-64,
//! as `quant::dsp` is on the Cortex-M4.
//!
//! LLVM does not turn the portable kernel's loops into `PMADDWD`, so the layer is written with
//! `core::arch` intrinsics. SSE2 is part of x86-64 and always used; AVX2 and AVX-512 (F, BW,
//! VNNI) are chosen at run time (CPUID and `XGETBV`, no `std` needed) and cached.
//!
//! Per group of 8 inputs and a pair of outputs the pair-ordered layout
//! ([`crate::quant::kernel::pair_position`]) holds 16 consecutive weight bytes, the pair's first
//! output's 8 then its second's, each 4 in the order `w₀ w₂ w₁ w₃`. The inputs are put in that
//! order once per call, so the AVX2 loop is, per group and pair: sign-
//! extend the 16 weights to int16 (`VPMOVSXBW`), multiply-add them with the group's inputs
//! broadcast to both halves (`VPMADDWD`), add to the pair's eight lanes (`VPADDD`) — four pairs
//! at a time, sharing the input load. The AVX-512 loop takes two groups at once: a pair's 32
//! bytes for groups 2j and 2j + 1 are consecutive, sign-extended to one 512-bit vector and
//! multiply-added into the pair's sixteen lanes by one `VPDPWSSD` against the two groups'
//! inputs (built once per call, `[g g | h h]`); an odd last group goes through the AVX2 step.
//! The lanes are summed at the end of the pair; tail inputs (`inputs mod 8`) and an unpaired
//! last output are done in Rust as in the portable kernel.
//!
//! Cost per call: `inputs · outputs / 16` multiply-adds of 16 lanes plus `inputs / 8`
//! shuffles (AVX2), or half as many of 32 lanes (AVX-512); measured by `cargo bench -p
//! vaenmf-core --bench inference`.
//!
//! Every product fits 23 bits and the pair sums of `PMADDWD` and `VPDPWSSD` cannot overflow
//! (no int8 weight is −128), and `i32` addition wrapping or not is associative and
//! commutative: the lanes hold the same integers as the portable kernel's sums in another
//! order, so the result is the same bit for bit. The core's tests compare every level with the
//! portable kernel.
//!
//! # Safety
//!
//! The loads read 16 or 32 bytes from `chunks_exact(16)` chunks of the weights and 16 bytes
//! from `[i16; 8]` arrays, unaligned (`MOVDQU`); the AVX2 and AVX-512 functions run only after
//! [`best_level`](crate::quant::x86::best_level) found the CPU and the OS to support them.
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128i, __m256i, _mm256_add_epi32, _mm256_broadcastsi128_si256, _mm256_cvtepi8_epi16, _mm256_hadd_epi32,
    _mm256_loadu_si256, _mm256_madd_epi16, _mm256_permutevar8x32_epi32, _mm256_setr_epi32,
    _mm256_setzero_si256, _mm256_storeu_si256, _mm512_castsi256_si512, _mm512_castsi512_si256,
    _mm512_cvtepi8_epi16, _mm512_dpwssd_epi32, _mm512_extracti64x4_epi64, _mm512_inserti64x4,
    _mm512_setzero_si512, _mm_add_epi32, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_madd_epi16,
    _mm_setzero_si128, _mm_shuffle_epi32, _mm_srai_epi16, _mm_unpackhi_epi8, _mm_unpacklo_epi8,
};
use core::sync::atomic::{AtomicU8, Ordering};

use super::kernel::{dot, requantize_relu, swapped_groups, tail_pair};
use super::{GROUP, MAX_GROUPS};

/// The instruction sets a kernel can use, each CPU that runs one running those before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// 128-bit `PMADDWD`, every x86-64 CPU.
    Sse2,
    /// 256-bit `VPMADDWD` (Haswell, Zen and later).
    Avx2,
    /// 512-bit `VPDPWSSD`, a multiply-add of 32 int16 pairs into 16 sums in one instruction
    /// (AVX-512 F, BW and VNNI: Ice Lake, Zen 4 and later).
    Avx512Vnni,
}

/// The levels in order.
const LEVELS: [Level; 3] = [Level::Sse2, Level::Avx2, Level::Avx512Vnni];

/// 0: not yet detected; else `1 + ` the best level's index in [`LEVELS`].
static DETECTED: AtomicU8 = AtomicU8::new(0);

/// The best level this CPU and OS run (detected once).
pub fn best_level() -> Level {
    match DETECTED.load(Ordering::Relaxed) {
        0 => {
            let best = detect();
            DETECTED.store(1 + best as u8, Ordering::Relaxed);
            best
        }
        stored => LEVELS[usize::from(stored - 1).min(LEVELS.len() - 1)],
    }
}

/// Whether the CPU has AVX2 and the OS saves the YMM registers (detected once).
pub fn has_avx2() -> bool {
    best_level() != Level::Sse2
}

/// Whether `level` runs here.
fn runs(level: Level) -> bool {
    level <= best_level()
}

fn detect() -> Level {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    // CPUID exists on every x86-64 CPU (the intrinsics are `unsafe` before Rust 1.94).
    #[allow(unused_unsafe)]
    let (max_leaf, leaf1) = unsafe { (__cpuid(0).eax, __cpuid(1)) };
    let osxsave = leaf1.ecx & (1 << 27) != 0;
    let avx = leaf1.ecx & (1 << 28) != 0;
    if max_leaf < 7 || !osxsave || !avx {
        return Level::Sse2;
    }
    // SAFETY: OSXSAVE is set, so XGETBV is enabled.
    let xcr0 = unsafe { xcr0() };
    // The OS saves the SSE (bit 1) and AVX (bit 2) state.
    if xcr0 & 0b110 != 0b110 {
        return Level::Sse2;
    }
    #[allow(unused_unsafe)]
    let leaf7 = unsafe { __cpuid_count(7, 0) };
    if leaf7.ebx & (1 << 5) == 0 {
        return Level::Sse2;
    }
    // AVX-512 F (EBX 16), BW (EBX 30), VNNI (ECX 11), and the OS saving the opmask and
    // upper ZMM state (XCR0 bits 5–7).
    let avx512 = leaf7.ebx & (1 << 16) != 0 && leaf7.ebx & (1 << 30) != 0 && leaf7.ecx & (1 << 11) != 0;
    if avx512 && xcr0 & 0b1110_0000 == 0b1110_0000 {
        Level::Avx512Vnni
    } else {
        Level::Avx2
    }
}

#[target_feature(enable = "xsave")]
unsafe fn xcr0() -> u64 {
    core::arch::x86_64::_xgetbv(0)
}

/// The kernel's preconditions: exact lengths and at most [`MAX_GROUPS`] groups.
fn applies(weights: &[i8], bias: &[i32], x: &[i16], outputs: usize) -> bool {
    outputs > 0
        && x.len() / GROUP <= MAX_GROUPS
        && Some(weights.len()) == x.len().checked_mul(outputs)
        && bias.len() == outputs
}

/// `acc = bias + Wᵀ x` over pair-ordered `weights` at `level` (or the best level below it
/// that the CPU runs); `false` (nothing written) when the lengths do not match or the layer has
/// more than `GROUP · MAX_GROUPS + 7` inputs, and the caller should use the portable kernel.
pub fn dense_at(level: Level, weights: &[i8], bias: &[i32], x: &[i16], acc: &mut [i32]) -> bool {
    if !applies(weights, bias, x, acc.len()) {
        return false;
    }
    let mut groups = [[0i16; GROUP]; MAX_GROUPS];
    sums(level, weights, bias, x, swapped_groups(x, &mut groups), acc);
    true
}

/// `acc = bias + Wᵀ x` for lengths [`applies`] accepted, `groups` from [`swapped_groups`].
fn sums(level: Level, weights: &[i8], bias: &[i32], x: &[i16], groups: &[[i16; GROUP]], acc: &mut [i32]) {
    let pairs = acc.len() / 2;
    let body = &weights[..pairs * 2 * x.len()];
    if level == Level::Avx512Vnni && runs(level) {
        // SAFETY: AVX-512 F, BW and VNNI were detected.
        unsafe { pairs_avx512(body, x, groups, bias, acc) };
    } else if level != Level::Sse2 && runs(Level::Avx2) {
        // SAFETY: AVX2 was detected.
        unsafe { pairs_avx2(body, x, groups, bias, acc) };
    } else {
        // SAFETY: SSE2 is part of x86-64.
        unsafe { pairs_sse2(body, x, groups, bias, acc) };
    }
    let outputs = acc.len();
    if outputs % 2 == 1 {
        acc[outputs - 1] = dot(bias[outputs - 1], &weights[(outputs - 1) * x.len()..], x);
    }
}

/// [`dense_at`] at the best level.
pub fn dense(weights: &[i8], bias: &[i32], x: &[i16], acc: &mut [i32]) -> bool {
    dense_at(best_level(), weights, bias, x, acc)
}

/// `out = relu(requantize(bias + Wᵀ x))` at the best level, in blocks of 64 outputs (the
/// sums stay on the stack); `false` as for [`dense_at`] or when `multiplier` has another
/// length than `out`.
pub fn dense_relu(weights: &[i8], bias: &[i32], multiplier: &[i32], x: &[i16], out: &mut [i16]) -> bool {
    if multiplier.len() != out.len() || !applies(weights, bias, x, out.len()) {
        return false;
    }
    let level = best_level();
    let mut groups = [[0i16; GROUP]; MAX_GROUPS];
    let groups = swapped_groups(x, &mut groups);
    let mut acc = [0i32; 64];
    let inputs = x.len();
    for (k, (out, multiplier)) in out
        .chunks_mut(acc.len())
        .zip(multiplier.chunks(acc.len()))
        .enumerate()
    {
        let first = k * acc.len();
        let n = out.len();
        let (w, b) = (
            &weights[first * inputs..(first + n) * inputs],
            &bias[first..first + n],
        );
        sums(level, w, b, x, groups, &mut acc[..n]);
        for ((o, &a), &m) in out.iter_mut().zip(&acc[..n]).zip(multiplier) {
            *o = requantize_relu(a, m);
        }
    }
    true
}

/// The 8 inputs of a group as a vector.
#[inline(always)]
fn load_group(g: &[i16; GROUP]) -> __m128i {
    // SAFETY: 16 readable bytes; MOVDQU has no alignment requirement.
    unsafe { _mm_loadu_si128(g.as_ptr().cast()) }
}

/// 16 weight bytes as a vector.
#[inline(always)]
fn load_weights(w: &[i8; 16]) -> __m128i {
    // SAFETY: as in `load_group`.
    unsafe { _mm_loadu_si128(w.as_ptr().cast()) }
}

/// 8 sums as a vector.
#[inline(always)]
fn load8(v: &[i32; 8]) -> __m256i {
    // SAFETY: 32 readable bytes, unaligned load; the caller has AVX (`MOVDQU` with a VEX
    // prefix is the same load).
    unsafe { _mm256_loadu_si256(v.as_ptr().cast()) }
}

/// A vector of 8 sums written to `out`.
#[inline(always)]
fn store8(out: &mut [i32; 8], v: __m256i) {
    // SAFETY: 32 writable bytes, unaligned store.
    unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), v) }
}

/// A pair block's grouped weights, 16 bytes (both outputs) per group.
#[inline(always)]
fn grouped_chunks(block: &[i8], grouped: usize) -> &[[i8; 16]] {
    block[..grouped].as_chunks::<16>().0
}

/// The sum of four i32 lanes (wrapping).
#[inline(always)]
fn sum4(v: __m128i) -> i32 {
    // SAFETY: SSE2 is part of x86-64.
    unsafe {
        let v = _mm_add_epi32(v, _mm_shuffle_epi32::<0b01_00_11_10>(v));
        let v = _mm_add_epi32(v, _mm_shuffle_epi32::<0b10_11_00_01>(v));
        _mm_cvtsi128_si32(v)
    }
}

/// One pair's sums from its block of `2 · inputs` weight bytes, bias included.
#[inline(always)]
fn pair_sums_sse2(block: &[i8], x_tail: &[i16], groups: &[[i16; GROUP]], bias: (i32, i32)) -> (i32, i32) {
    let (body, tails) = block.split_at(groups.len() * 2 * GROUP);
    let (chunks, _) = body.as_chunks::<16>();
    // SAFETY: SSE2 is part of x86-64.
    let (va, vb) = unsafe {
        let (mut va, mut vb) = (_mm_setzero_si128(), _mm_setzero_si128());
        for (w, g) in chunks.iter().zip(groups) {
            let w = load_weights(w);
            let xv = load_group(g);
            // Each byte doubled into a 16-bit lane, shifted back down with its sign.
            let wa = _mm_srai_epi16::<8>(_mm_unpacklo_epi8(w, w));
            let wb = _mm_srai_epi16::<8>(_mm_unpackhi_epi8(w, w));
            va = _mm_add_epi32(va, _mm_madd_epi16(wa, xv));
            vb = _mm_add_epi32(vb, _mm_madd_epi16(wb, xv));
        }
        (va, vb)
    };
    let a = bias.0.wrapping_add(sum4(va));
    let b = bias.1.wrapping_add(sum4(vb));
    tail_pair(a, b, tails, x_tail)
}

/// Every pair's sums with 128-bit `PMADDWD`.
///
/// # Safety
///
/// None beyond SSE2, which every x86-64 CPU has (the attribute states it for the intrinsics).
#[target_feature(enable = "sse2")]
unsafe fn pairs_sse2(body: &[i8], x: &[i16], groups: &[[i16; GROUP]], bias: &[i32], acc: &mut [i32]) {
    let block = 2 * x.len();
    let x_tail = &x[groups.len() * GROUP..];
    for ((w, b), out) in body
        .chunks_exact(block)
        .zip(bias.chunks_exact(2))
        .zip(acc.chunks_exact_mut(2))
    {
        (out[0], out[1]) = pair_sums_sse2(w, x_tail, groups, (b[0], b[1]));
    }
}

/// Every pair's sums with 256-bit `VPMADDWD`, four pairs at a time (one input load for
/// 64 multiply-accumulates); the last 0–3 pairs with SSE2.
///
/// # Safety
///
/// The CPU must support AVX2 ([`has_avx2`]).
#[target_feature(enable = "avx2")]
unsafe fn pairs_avx2(body: &[i8], x: &[i16], groups: &[[i16; GROUP]], bias: &[i32], acc: &mut [i32]) {
    four_pair_blocks(body, x, groups, bias, acc, |w| {
        let mut v = [_mm256_setzero_si256(); 4];
        for (k, g) in groups.iter().enumerate() {
            v = madd_group(v, w, k, load_group(g));
        }
        v
    });
}

/// Every pair's sums with 512-bit `VPDPWSSD`, four pairs and two groups at a time (128
/// multiply-accumulates per input load; an odd last group with AVX2); the last 0–3 pairs
/// with SSE2.
///
/// # Safety
///
/// The CPU must support AVX-512 F, BW and VNNI (`best_level`), and with them AVX2.
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vnni")]
unsafe fn pairs_avx512(body: &[i8], x: &[i16], groups: &[[i16; GROUP]], bias: &[i32], acc: &mut [i32]) {
    // Two groups' inputs per vector, each in both halves of its 256 bits: `[g g | h h]`,
    // built once per call.
    let mut inputs = [_mm512_setzero_si512(); MAX_GROUPS / 2];
    let (two_groups, odd) = groups.as_chunks::<2>();
    for (v, [g, h]) in inputs.iter_mut().zip(two_groups) {
        let low = _mm256_broadcastsi128_si256(load_group(g));
        *v = _mm512_inserti64x4::<1>(
            _mm512_castsi256_si512(low),
            _mm256_broadcastsi128_si256(load_group(h)),
        );
    }
    let inputs = &inputs[..two_groups.len()];
    four_pair_blocks(body, x, groups, bias, acc, |w| {
        let mut v = [_mm512_setzero_si512(); 4];
        for (j, xv) in inputs.iter().enumerate() {
            for (v, w) in v.iter_mut().zip(w) {
                // The pair's weights of groups 2j and 2j + 1: 32 consecutive bytes.
                let w = load32(&w[2 * j..2 * j + 2]);
                *v = _mm512_dpwssd_epi32(*v, _mm512_cvtepi8_epi16(w), *xv);
            }
        }
        // Group 2j's lanes are the low half, 2j + 1's the high half: add them.
        let mut halves =
            v.map(|v| _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v)));
        if let [g] = odd {
            halves = madd_group(halves, w, groups.len() - 1, load_group(g));
        }
        halves
    });
}

/// Four pairs' lanes plus their products with group `k` (`xv`, 8 inputs) by `VPMADDWD`.
#[inline(always)]
fn madd_group(mut v: [__m256i; 4], w: [&[[i8; 16]]; 4], k: usize, xv: __m128i) -> [__m256i; 4] {
    // SAFETY: the callers run with AVX2 enabled and detected.
    unsafe {
        let xv = _mm256_broadcastsi128_si256(xv);
        for (v, w) in v.iter_mut().zip(w) {
            *v = _mm256_add_epi32(
                *v,
                _mm256_madd_epi16(_mm256_cvtepi8_epi16(load_weights(&w[k])), xv),
            );
        }
    }
    v
}

/// 32 weight bytes (two groups of a pair) as a vector.
#[inline(always)]
fn load32(w: &[[i8; 16]]) -> __m256i {
    debug_assert_eq!(w.len(), 2);
    // SAFETY: `w` is two 16-byte chunks, 32 readable bytes; unaligned load; the caller has
    // AVX.
    unsafe { _mm256_loadu_si256(w.as_ptr().cast()) }
}

/// The pairs of `body` four at a time: `lanes` gives the four pairs' eight lanes each
/// (`[first output's 4 | second's 4]`) from their grouped weights, which are summed, put in
/// output order and biased; tail inputs and the last 0–3 pairs as the SSE2 kernel does.
#[inline(always)]
fn four_pair_blocks(
    body: &[i8],
    x: &[i16],
    groups: &[[i16; GROUP]],
    bias: &[i32],
    acc: &mut [i32],
    lanes: impl Fn([&[[i8; 16]]; 4]) -> [__m256i; 4],
) {
    let block = 2 * x.len();
    let grouped = groups.len() * 2 * GROUP;
    let x_tail = &x[groups.len() * GROUP..];
    let mut blocks = body.chunks_exact(4 * block);
    let (bias8, bias_rest) = bias.as_chunks::<8>();
    let (acc8, acc_rest) = acc.as_chunks_mut::<8>();
    for ((w, b), out) in (&mut blocks).zip(bias8).zip(acc8.iter_mut()) {
        let (w01, w23) = w.split_at(2 * block);
        let (w01, w23) = (w01.split_at(block), w23.split_at(block));
        let pairs = [w01.0, w01.1, w23.0, w23.1];
        let v = lanes(pairs.map(|p| grouped_chunks(p, grouped)));
        // SAFETY: the callers run with AVX2 enabled and detected.
        unsafe {
            // Lane sums of the four pairs, `[o₀ o₂ o₄ o₆ | o₁ o₃ o₅ o₇]` (a pair's first
            // output's lanes are the low half), put in output order and biased, all at once.
            let h = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
            let h = _mm256_permutevar8x32_epi32(h, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            store8(out, _mm256_add_epi32(h, load8(b)));
        }
        if !x_tail.is_empty() {
            for (w, out) in pairs.iter().zip(out.chunks_exact_mut(2)) {
                (out[0], out[1]) = tail_pair(out[0], out[1], &w[grouped..], x_tail);
            }
        }
    }
    let rest = blocks.remainder().chunks_exact(block);
    for ((w, b), out) in rest
        .zip(bias_rest.chunks_exact(2))
        .zip(acc_rest.chunks_exact_mut(2))
    {
        (out[0], out[1]) = pair_sums_sse2(w, x_tail, groups, (b[0], b[1]));
    }
}
