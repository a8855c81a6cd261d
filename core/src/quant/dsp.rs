//! The int8 × int16 dense kernel for Armv7E-M (Cortex-M4/M7): `SMLAD`, two 16-bit
//! multiply-accumulates per instruction; and, with the FPU (`cfg(vaenmf_fpu)`), [`sqrt`] as
//! one `VSQRT.F32`. The only module of the crate allowed `unsafe`.
//!
//! Stable Rust has no DSP intrinsics (`core::arch::arm`'s are unstable, rust-lang/rust#117237),
//! so the whole layer is one `global_asm!` function. Per group of 8 inputs and a pair of
//! outputs it issues one `LDM` of 8 int16 inputs, one `LDM` of the pair's 16 weights, 8
//! `SXTB16` and 8 `SMLAD`: 18 instructions for 16 multiply-accumulates, unrolled eight groups
//! deep; tail inputs go two at a time. The weights are stored so that no other unpacking is
//! needed ([`super::kernel::pair_position`]). Hidden layers requantise in the same pass
//! (`SMMULR`, `USAT #15`); an unpaired last output is done in Rust. A hidden layer of one group
//! (8 to 15 inputs, an EMG encoder's first layer) keeps the group's inputs in registers for all
//! the pairs and its bias pointer in a register: 44 instructions per pair of a 10-input layer
//! instead of about 55.
//!
//! # Safety
//!
//! Both functions need `counts` from [`counts`] for the same slices, and `out` with room for
//! `2 · pairs` values. Then they read, per pair, `2 · inputs` weight bytes —
//! `pairs · 2 · inputs ≤ weights.len()` in all — with every `LDM`/`LDR` at a multiple of 4 from
//! an aligned start (a pair block is `2 · inputs` bytes, `inputs` even); the `inputs` int16
//! values of the aligned `x`; two biases (and multipliers) per pair from 4-byte-aligned i32
//! slices of `outputs` values; and write only `out`'s `2 · pairs` values. They save and restore
//! r4–r11 and lr, restore sp, and touch no other memory.
//!
//! Integer sums are exact and cannot overflow (the decoder's accumulator bound), so the result
//! equals the portable kernel's bit for bit; the firmware's self-test runs both on random
//! layers under QEMU, and the system tests compare the device's activations with the host's.
#![allow(unsafe_code)]

use core::arch::global_asm;

use super::kernel::{dot, requantize_relu};
use super::GROUP;

/// What the assembly reads besides its three pointers (offsets fixed by the assembly).
#[repr(C)]
struct Counts {
    /// Output pairs.
    pairs: u32,
    /// Full groups of 8 inputs, divided by 8 (the unrolled loop's trips).
    octets: u32,
    /// Full groups modulo 8.
    singles: u32,
    /// Tail inputs (`inputs mod 8`, even) divided by 2.
    tail_pairs: u32,
    /// One bias per output.
    bias: *const i32,
    /// Requantisation multipliers, one per output (read by the ReLU variant only).
    multiplier: *const i32,
}

global_asm!(
    ".syntax unified",
    ".thumb",
    ".macro vaenmf_s8_group",
    // r1: inputs, r0: weights; r4-r7: 8 int16 inputs; r8-r9 output a's and r10-r11 output
    // b's 8 weights; r2, r3: the two accumulators; r12: scratch.
    "ldm r1!, {{r4-r7}}",
    "vaenmf_s8_group_held",
    ".endm",
    // The same on inputs already in r4-r7.
    ".macro vaenmf_s8_group_held",
    "ldm r0!, {{r8-r11}}",
    "sxtb16 r12, r8",
    "smlad r2, r12, r4, r2",
    "sxtb16 r8, r8, ror #8",
    "smlad r2, r8, r5, r2",
    "sxtb16 r12, r9",
    "smlad r2, r12, r6, r2",
    "sxtb16 r9, r9, ror #8",
    "smlad r2, r9, r7, r2",
    "sxtb16 r12, r10",
    "smlad r3, r12, r4, r3",
    "sxtb16 r10, r10, ror #8",
    "smlad r3, r10, r5, r3",
    "sxtb16 r12, r11",
    "smlad r3, r12, r6, r3",
    "sxtb16 r11, r11, ror #8",
    "smlad r3, r11, r7, r3",
    ".endm",
    // The prologue of both functions: r0 = weights, r1 = inputs, r2 = out, r3 = &Counts;
    // `\shift` is log2 of the bytes one pair writes (2 for two i16, 3 for two i32).
    // Frame: [sp] inputs, [sp+4] out, [sp+8] end of out, [sp+12] octets, [sp+16] singles,
    // [sp+20] tail pairs, [sp+24] bias, [sp+28] multipliers.
    ".macro vaenmf_s8_prologue shift",
    "push {{r4-r11, lr}}",
    "sub sp, sp, #32",
    "ldm r3, {{r4-r9}}",
    "add r4, r2, r4, lsl #\\shift",
    "mov r12, sp",
    "stm r12, {{r1, r2, r4-r9}}",
    ".endm",
    // One pair's sums, bias included, into r2 (first output) and r3 (second). The short loops'
    // counts are tested in r4 (`CBZ` takes low registers and jumps ≤ 126 bytes; r4 is free
    // between groups) and run in lr.
    ".macro vaenmf_s8_pair_sums",
    "ldr r1, [sp]",
    "ldr r12, [sp, #24]",
    "ldm r12!, {{r2, r3}}",
    "str r12, [sp, #24]",
    "ldr lr, [sp, #12]",
    "cmp lr, #0",
    "beq 3f",
    "2:",
    "vaenmf_s8_group",
    "vaenmf_s8_group",
    "vaenmf_s8_group",
    "vaenmf_s8_group",
    "vaenmf_s8_group",
    "vaenmf_s8_group",
    "vaenmf_s8_group",
    "vaenmf_s8_group",
    "subs lr, lr, #1",
    "bne 2b",
    "3:",
    "ldr r4, [sp, #16]",
    "cbz r4, 5f",
    "mov lr, r4",
    "4:",
    "vaenmf_s8_group",
    "subs lr, lr, #1",
    "bne 4b",
    "5:",
    "ldr r4, [sp, #20]",
    "cbz r4, 7f",
    "mov lr, r4",
    // Tail: two inputs per step, the word `a₀ b₀ a₁ b₁`.
    "6:",
    "ldr r4, [r1], #4",
    "ldr r8, [r0], #4",
    "sxtb16 r12, r8",
    "smlad r2, r12, r4, r2",
    "sxtb16 r8, r8, ror #8",
    "smlad r3, r8, r4, r3",
    "subs lr, lr, #1",
    "bne 6b",
    "7:",
    ".endm",
    // A pair's sums in r2, r3 requantised (`SMMULR` by the two multipliers the pointer at
    // `[sp + mul]` reads into registers `ra`, `rb`), clamped to 0..=32767 (`USAT`), stored at the
    // out pointer `[sp + 4]`; then back to `1:` unless out reached its end `[sp + 8]`.
    ".macro vaenmf_s8_relu_store mul, ra, rb",
    "ldr r12, [sp, #\\mul]",
    "ldm r12!, {{\\ra, \\rb}}",
    "str r12, [sp, #\\mul]",
    "smmulr r2, r2, \\ra",
    "smmulr r3, r3, \\rb",
    "usat r2, #15, r2",
    "usat r3, #15, r3",
    "ldr r12, [sp, #4]",
    "strh r2, [r12], #2",
    "strh r3, [r12], #2",
    "str r12, [sp, #4]",
    "ldr lr, [sp, #8]",
    "cmp r12, lr",
    "bne 1b",
    ".endm",
    // Hidden layers: requantise, round(acc · m / 2³²), then ReLU and saturation to 0..=32767.
    ".section .text.vaenmf_s8_pairs_relu,\"ax\",%progbits",
    ".global vaenmf_s8_pairs_relu",
    ".type vaenmf_s8_pairs_relu,%function",
    ".p2align 2",
    ".thumb_func",
    "vaenmf_s8_pairs_relu:",
    "vaenmf_s8_prologue 2",
    "1:",
    "vaenmf_s8_pair_sums",
    "vaenmf_s8_relu_store 28, r4, r5",
    "add sp, sp, #32",
    "pop {{r4-r11, pc}}",
    ".size vaenmf_s8_pairs_relu, . - vaenmf_s8_pairs_relu",
    // Heads: the i32 sums.
    ".section .text.vaenmf_s8_pairs_sums,\"ax\",%progbits",
    ".global vaenmf_s8_pairs_sums",
    ".type vaenmf_s8_pairs_sums,%function",
    ".p2align 2",
    ".thumb_func",
    "vaenmf_s8_pairs_sums:",
    "vaenmf_s8_prologue 3",
    "1:",
    "vaenmf_s8_pair_sums",
    "ldr r12, [sp, #4]",
    "stm r12!, {{r2, r3}}",
    "str r12, [sp, #4]",
    "ldr lr, [sp, #8]",
    "cmp r12, lr",
    "bne 1b",
    "add sp, sp, #32",
    "pop {{r4-r11, pc}}",
    ".size vaenmf_s8_pairs_sums, . - vaenmf_s8_pairs_sums",
    // Hidden layers with one group of inputs (8 to 15, even; an EMG encoder's first layer):
    // the group's inputs stay in r4-r7 for every pair and the bias pointer in r1.
    // Frame: [sp] tail inputs, [sp+4] out, [sp+8] end of out, [sp+12] tail pairs,
    // [sp+16] multipliers.
    ".section .text.vaenmf_s8_pairs_relu_one_group,\"ax\",%progbits",
    ".global vaenmf_s8_pairs_relu_one_group",
    ".type vaenmf_s8_pairs_relu_one_group,%function",
    ".p2align 2",
    ".thumb_func",
    "vaenmf_s8_pairs_relu_one_group:",
    "push {{r4-r11, lr}}",
    "sub sp, sp, #24",
    "ldm r3, {{r4-r9}}",
    "add r4, r2, r4, lsl #2",
    "add r10, r1, #16",
    "str r10, [sp]",
    "str r2, [sp, #4]",
    "str r4, [sp, #8]",
    "str r7, [sp, #12]",
    "str r9, [sp, #16]",
    "ldm r1, {{r4-r7}}",
    "mov r1, r8",
    "1:",
    "ldm r1!, {{r2, r3}}",
    "vaenmf_s8_group_held",
    "ldr lr, [sp, #12]",
    "cmp lr, #0",
    "beq 3f",
    "ldr r12, [sp]",
    // Tail: two inputs per step, the word `a₀ b₀ a₁ b₁`.
    "2:",
    "ldr r9, [r12], #4",
    "ldr r8, [r0], #4",
    "sxtb16 r10, r8",
    "smlad r2, r10, r9, r2",
    "sxtb16 r8, r8, ror #8",
    "smlad r3, r8, r9, r3",
    "subs lr, lr, #1",
    "bne 2b",
    "3:",
    "vaenmf_s8_relu_store 16, r8, r9",
    "add sp, sp, #24",
    "pop {{r4-r11, pc}}",
    ".size vaenmf_s8_pairs_relu_one_group, . - vaenmf_s8_pairs_relu_one_group",
    ".text",
);

extern "C" {
    /// For each of `counts.pairs` output pairs: bias plus the pair's sums over every input,
    /// requantised with `counts.multiplier` and clamped, two i16 to `out`.
    fn vaenmf_s8_pairs_relu(weights: *const i8, inputs: *const i16, out: *mut i16, counts: *const Counts);
    /// [`vaenmf_s8_pairs_relu`] for a layer of one group (`counts.octets == 0`,
    /// `counts.singles == 1`): the group's inputs are loaded once for all pairs.
    fn vaenmf_s8_pairs_relu_one_group(
        weights: *const i8,
        inputs: *const i16,
        out: *mut i16,
        counts: *const Counts,
    );
    /// The same without requantisation: two i32 sums per pair to `out`.
    fn vaenmf_s8_pairs_sums(weights: *const i8, inputs: *const i16, out: *mut i32, counts: *const Counts);
}

/// The kernel's preconditions for these lengths and addresses, as its counts.
fn counts(weights: &[i8], bias: &[i32], x: &[i16], outputs: usize, multiplier: *const i32) -> Option<Counts> {
    let inputs = x.len();
    let groups = inputs / GROUP;
    let pairs = outputs / 2;
    let aligned = (weights.as_ptr() as usize).is_multiple_of(4) && (x.as_ptr() as usize).is_multiple_of(4);
    let ok = pairs > 0
        && inputs > 0
        && inputs.is_multiple_of(2)
        && aligned
        && Some(weights.len()) == inputs.checked_mul(outputs)
        && bias.len() == outputs;
    ok.then(|| Counts {
        pairs: pairs as u32,
        octets: (groups / 8) as u32,
        singles: (groups % 8) as u32,
        tail_pairs: ((inputs - groups * GROUP) / 2) as u32,
        bias: bias.as_ptr(),
        multiplier,
    })
}

// `float vaenmf_vsqrt(float)`: the hard-float ABI passes and returns it in s0.
#[cfg(vaenmf_fpu)]
global_asm!(
    ".syntax unified",
    ".thumb",
    ".fpu fpv4-sp-d16",
    ".section .text.vaenmf_vsqrt,\"ax\",%progbits",
    ".global vaenmf_vsqrt",
    ".type vaenmf_vsqrt,%function",
    ".thumb_func",
    "vaenmf_vsqrt:",
    "vsqrt.f32 s0, s0",
    "bx lr",
    ".size vaenmf_vsqrt, . - vaenmf_vsqrt",
);

#[cfg(vaenmf_fpu)]
extern "C" {
    fn vaenmf_vsqrt(x: f32) -> f32;
}

/// `√x` by the FPU's `VSQRT.F32`: IEEE-754 square root, correctly rounded — the bits of
/// `libm::sqrtf` (and of the host's `sqrtss`) for every input, in three instructions with the
/// call instead of libm's ~60.
#[cfg(vaenmf_fpu)]
#[inline(always)]
pub fn sqrt(x: f32) -> f32 {
    // SAFETY: `cfg(vaenmf_fpu)` is set for `thumbv7em-none-eabihf` only, whose cores all have
    // the FPU the hard-float ABI needs; the function reads s0, writes s0 and returns.
    unsafe { vaenmf_vsqrt(x) }
}

// `vaenmf_f32_panels(weights, x, out, &F32Counts)`: f32 dense panels of 8 outputs (the
// encoder's panel order, `DenseLayer`). Per panel the 8 sums start at the bias (s0-s7); per
// input one `VLDM` of the panel's 8 weights (s16-s23) and 8 `VMLA.F32` with the input, in
// input order; the inputs come 8 at a time by one `VLDM` (s8-s15). `VMLA.F32` rounds the
// product, then the sum (it is not fused): the bits of `acc += w * x`.
#[cfg(vaenmf_fpu)]
global_asm!(
    ".syntax unified",
    ".thumb",
    ".fpu fpv4-sp-d16",
    ".macro vaenmf_f32_row x",
    "vldmia r0!, {{s16-s23}}",
    "vmla.f32 s0, s16, \\x",
    "vmla.f32 s1, s17, \\x",
    "vmla.f32 s2, s18, \\x",
    "vmla.f32 s3, s19, \\x",
    "vmla.f32 s4, s20, \\x",
    "vmla.f32 s5, s21, \\x",
    "vmla.f32 s6, s22, \\x",
    "vmla.f32 s7, s23, \\x",
    ".endm",
    ".section .text.vaenmf_f32_panels,\"ax\",%progbits",
    ".global vaenmf_f32_panels",
    ".type vaenmf_f32_panels,%function",
    ".p2align 2",
    ".thumb_func",
    "vaenmf_f32_panels:",
    "push {{r4-r8, lr}}",
    "vpush {{d8-d15}}",
    // r4 panels, r5 octets of inputs, r6 the other inputs, r7 bias.
    "ldm r3, {{r4-r7}}",
    "1:",
    "vldmia r7!, {{s0-s7}}",
    "mov r8, r1",
    "movs r3, r5",
    "beq 3f",
    "2:",
    "vldmia r8!, {{s8-s15}}",
    "vaenmf_f32_row s8",
    "vaenmf_f32_row s9",
    "vaenmf_f32_row s10",
    "vaenmf_f32_row s11",
    "vaenmf_f32_row s12",
    "vaenmf_f32_row s13",
    "vaenmf_f32_row s14",
    "vaenmf_f32_row s15",
    "subs r3, r3, #1",
    "bne 2b",
    "3:",
    "movs r3, r6",
    "beq 5f",
    "4:",
    "vldmia r8!, {{s8}}",
    "vaenmf_f32_row s8",
    "subs r3, r3, #1",
    "bne 4b",
    "5:",
    "vstmia r2!, {{s0-s7}}",
    "subs r4, r4, #1",
    "bne 1b",
    "vpop {{d8-d15}}",
    "pop {{r4-r8, pc}}",
    ".size vaenmf_f32_panels, . - vaenmf_f32_panels",
);

/// What the f32 panel kernel reads besides its three pointers (offsets fixed by the assembly).
#[cfg(vaenmf_fpu)]
#[repr(C)]
struct F32Counts {
    /// Panels of 8 outputs (≥ 1).
    panels: u32,
    /// Inputs divided by 8.
    octets: u32,
    /// Inputs modulo 8.
    rest: u32,
    /// 8 biases per panel.
    bias: *const f32,
}

#[cfg(vaenmf_fpu)]
extern "C" {
    /// For each of `counts.panels` panels: its 8 sums, bias first, then every input's products
    /// in input order; 8 f32 to `out`.
    fn vaenmf_f32_panels(weights: *const f32, x: *const f32, out: *mut f32, counts: *const F32Counts);
}

/// `out = bias + Wᵀ x` over whole panels of 8 outputs with `VLDM` + `VMLA.F32` (`weights`:
/// `panels × inputs × 8` in panel order, as `DenseLayer`'s full panels); `false` (nothing
/// written) when the lengths do not match or there is no panel or input. The same bits as the
/// portable panel loop: each output summed from its bias in input order, products and sums
/// rounded separately. Cost per call: `panels · (9 · inputs + inputs / 8 + ~10)` instructions.
#[cfg(vaenmf_fpu)]
pub fn dense_panels_f32(weights: &[f32], x: &[f32], bias: &[[f32; 8]], out: &mut [[f32; 8]]) -> bool {
    let panels = bias.len();
    let ok = panels > 0
        && !x.is_empty()
        && out.len() == panels
        && Some(weights.len()) == panels.checked_mul(8).and_then(|n| n.checked_mul(x.len()));
    if !ok {
        return false;
    }
    let counts = F32Counts {
        panels: panels as u32,
        octets: (x.len() / 8) as u32,
        rest: (x.len() % 8) as u32,
        bias: bias.as_ptr().cast(),
    };
    // SAFETY: the kernel reads `panels · 8 · inputs` weights, `inputs` values of `x` per panel
    // and `panels · 8` biases, and writes `panels · 8` values of `out`: the lengths checked
    // above; f32 slices are 4-byte aligned, as `VLDM`/`VSTM` need. It saves and restores
    // r4-r8, lr and s16-s31 (callee-saved), and uses s0-s15 and r0-r3, r12 as the ABI allows;
    // the FPU is there (`cfg(vaenmf_fpu)`: hard-float targets only).
    unsafe { vaenmf_f32_panels(weights.as_ptr(), x.as_ptr(), out.as_mut_ptr().cast(), &counts) };
    true
}

/// The unpaired last output's accumulator (odd `outputs`), in Rust.
fn last_output(weights: &[i8], bias: &[i32], x: &[i16], outputs: usize) -> i32 {
    dot(bias[outputs - 1], &weights[(outputs - 1) * x.len()..], x)
}

/// `acc = bias + Wᵀ x` with the `SMLAD` kernel, pair-ordered `weights`; `false` (nothing
/// written) when the kernel's preconditions do not hold — fewer than 2 outputs, an odd number
/// of inputs, weights or inputs not 4-byte aligned, or lengths that do not match — and the
/// caller should use the portable kernel.
pub fn dense(weights: &[i8], bias: &[i32], x: &[i16], acc: &mut [i32]) -> bool {
    let Some(counts) = counts(weights, bias, x, acc.len(), core::ptr::null()) else {
        return false;
    };
    // SAFETY: `counts` comes from `counts` for these slices and `acc` holds `outputs ≥
    // 2 · pairs` i32: the contract in the module's SAFETY section.
    unsafe { vaenmf_s8_pairs_sums(weights.as_ptr(), x.as_ptr(), acc.as_mut_ptr(), &counts) };
    if acc.len() % 2 == 1 {
        let n = acc.len();
        acc[n - 1] = last_output(weights, bias, x, n);
    }
    true
}

/// `out = relu(requantize(bias + Wᵀ x))` with the `SMLAD` kernel (requantisation fused:
/// `SMMULR` + `USAT`); `false` as for [`dense`], or when `multiplier` has the wrong length.
pub fn dense_relu(weights: &[i8], bias: &[i32], multiplier: &[i32], x: &[i16], out: &mut [i16]) -> bool {
    if multiplier.len() != out.len() {
        return false;
    }
    let Some(counts) = counts(weights, bias, x, out.len(), multiplier.as_ptr()) else {
        return false;
    };
    // SAFETY: as in `dense`; `out` holds `outputs ≥ 2 · pairs` i16 and `multiplier` as many
    // i32 (checked above). The one-group kernel reads the same memory (the group's inputs once).
    unsafe {
        if counts.octets == 0 && counts.singles == 1 {
            vaenmf_s8_pairs_relu_one_group(weights.as_ptr(), x.as_ptr(), out.as_mut_ptr(), &counts);
        } else {
            vaenmf_s8_pairs_relu(weights.as_ptr(), x.as_ptr(), out.as_mut_ptr(), &counts);
        }
    }
    if out.len() % 2 == 1 {
        let n = out.len();
        out[n - 1] = requantize_relu(last_output(weights, bias, x, n), multiplier[n - 1]);
    }
    true
}
