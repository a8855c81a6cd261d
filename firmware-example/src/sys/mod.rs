//! The firmware's `unsafe` code for QEMU and the boards alike (a board's interrupt set-up has
//! its own, in `board`): what has no safe API.
//!
//! - [`host_file`] (QEMU): a file on the host through semihosting's `SYS_OPEN` / `SYS_WRITE`
//!   (`cortex-m-semihosting` opens only the console safely).
//! - [`stack`]: the stack's high-water mark, by painting the unused stack at boot.
#![allow(unsafe_code)]

#[cfg(not(feature = "defmt-logging"))]
pub mod host_file;
pub mod stack;
