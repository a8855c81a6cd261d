//! Where the firmware runs — a board chosen by its cargo feature, or QEMU's machine by target —
//! with its memory map and its part's flash.

use std::env;

use super::fail;

/// Where the firmware runs: its memory map and its part's limits.
pub struct Place {
    /// The cargo feature, or "" for QEMU.
    pub feature: &'static str,
    /// What the user reads in errors.
    pub name: &'static str,
    pub memory: &'static str,
    pub flash_kib: usize,
}

pub const PLACES: [Place; 4] = [
    Place {
        feature: "board-nrf52840",
        name: "nRF52840-DK (nRF52840)",
        memory: "memory-nrf52840.x",
        flash_kib: 1024,
    },
    Place {
        feature: "board-stm32f411",
        name: "STM32F411E-DISCO (STM32F411VE)",
        memory: "memory-stm32f411.x",
        flash_kib: 512,
    },
    Place {
        feature: "",
        name: "QEMU mps2-an386 (Cortex-M4F, 1 MiB budget)",
        memory: "memory-mps2.x",
        flash_kib: 1024,
    },
    Place {
        feature: "",
        name: "QEMU micro:bit (nRF51822)",
        memory: "memory-microbit.x",
        flash_kib: 256,
    },
];

/// The place this build is for: at most one board feature; without one, QEMU by target.
pub fn select(microbit: bool) -> &'static Place {
    let boards: Vec<&Place> = PLACES
        .iter()
        .filter(|p| !p.feature.is_empty())
        .filter(|p| {
            env::var_os(format!(
                "CARGO_FEATURE_{}",
                p.feature.to_uppercase().replace('-', "_")
            ))
            .is_some()
        })
        .collect();
    match boards.as_slice() {
        [] if microbit => &PLACES[3],
        [] => &PLACES[2],
        [board] if microbit => fail(format!(
            "{} is a Cortex-M4F board: build it for thumbv7em-none-eabihf, not thumbv6m",
            board.feature
        )),
        [board] => board,
        _ => fail(format!(
            "features {} are all board features: choose one",
            boards.iter().map(|b| b.feature).collect::<Vec<_>>().join(", ")
        )),
    }
}
