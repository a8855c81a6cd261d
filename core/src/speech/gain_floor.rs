//! The gain floor: the smallest gain an enhancer applies, so that no bin of the input is
//! attenuated by more than `−20·log₁₀(floor)` dB whatever the model estimates.
//!
//! A floor trades noise reduction for fewer artefacts: where the model mistakes speech for
//! noise (babble, a speaker or a level it was not trained on) the speech loses at most that
//! much. A floor of 0 leaves every gain as it is, bit for bit.

use crate::error::{Field, ModelError};

/// A gain floor in [0, 1], checked once.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GainFloor(f32);

impl GainFloor {
    /// No floor: every gain as the model computes it.
    pub const NONE: Self = Self(0.0);

    /// A floor of `floor` (linear amplitude, finite, 0 ..= 1); otherwise
    /// [`ModelError::OutOfRange`] naming [`Field::GainFloor`].
    pub fn new_checked(floor: f32) -> Result<Self, ModelError> {
        if floor.is_finite() && (0.0..=1.0).contains(&floor) {
            Ok(Self(floor))
        } else {
            Err(ModelError::OutOfRange {
                field: Field::GainFloor,
                index: 0,
            })
        }
    }

    /// The floor, linear.
    pub const fn value(self) -> f32 {
        self.0
    }

    /// Raises every gain below the floor to it (nothing at all for [`Self::NONE`]).
    pub fn apply(self, gain: &mut [f32]) {
        if self.0 > 0.0 {
            for g in gain {
                *g = g.max(self.0);
            }
        }
    }
}
