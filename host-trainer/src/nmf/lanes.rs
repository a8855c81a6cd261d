//! Eight f32 lanes — eight frames processed together — with element-wise IEEE arithmetic.
//!
//! Plain arrays with per-lane loops rather than a SIMD crate's types: LLVM turns the loops
//! into whatever vectors the function is compiled for, so the same source runs as two SSE
//! registers in the baseline x86-64 build and as one AVX register in the passes compiled with
//! `#[target_feature(enable = "avx")]` (`super::frobenius_pass`). Every operation is one IEEE
//! rounding per lane (no fused multiply-add), so both give the same bits.

use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Sub, SubAssign};

/// Lanes per block.
pub(super) const LANES: usize = 8;

/// Eight f32 values, one per frame of a block.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(32))]
pub(super) struct Lanes([f32; LANES]);

impl Lanes {
    pub(super) const ZERO: Self = Self([0.0; LANES]);

    /// `v` in every lane.
    #[inline(always)]
    pub(super) fn splat(v: f32) -> Self {
        Self([v; LANES])
    }

    /// The lanes.
    #[inline(always)]
    pub(super) fn as_array(&self) -> &[f32; LANES] {
        &self.0
    }

    /// Per lane `if self > other { self } else { other }` (`MAXPS`'s rule, also for NaN).
    #[inline(always)]
    pub(super) fn max(self, other: Self) -> Self {
        Self(std::array::from_fn(|l| {
            if self.0[l] > other.0[l] {
                self.0[l]
            } else {
                other.0[l]
            }
        }))
    }

    /// Per lane the value where it exceeds `tiny`, else +0.
    #[inline(always)]
    pub(super) fn zero_unless_above(self, tiny: f32) -> Self {
        Self(self.0.map(|v| if v > tiny { v } else { 0.0 }))
    }
}

impl From<[f32; LANES]> for Lanes {
    #[inline(always)]
    fn from(v: [f32; LANES]) -> Self {
        Self(v)
    }
}

macro_rules! lanewise {
    ($trait:ident, $method:ident, $assign:ident, $assign_method:ident, $op:tt) => {
        impl $trait for Lanes {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                Self(std::array::from_fn(|l| self.0[l] $op rhs.0[l]))
            }
        }
        impl $assign for Lanes {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: Self) {
                *self = *self $op rhs;
            }
        }
    };
}

lanewise!(Add, add, AddAssign, add_assign, +);
lanewise!(Sub, sub, SubAssign, sub_assign, -);
lanewise!(Mul, mul, MulAssign, mul_assign, *);

impl Div for Lanes {
    type Output = Self;
    #[inline(always)]
    fn div(self, rhs: Self) -> Self {
        Self(std::array::from_fn(|l| self.0[l] / rhs.0[l]))
    }
}
