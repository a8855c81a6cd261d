//! `vaenmf._native`: the extension module behind the `vaenmf` Python package.
//!
//! Layers: the Python package (`python/vaenmf`) validates arrays and parameters the
//! scikit-learn way and holds the estimators; this module only converts arrays and calls the
//! trainer library ([`vaenmf_trainer`]) and the core ([`vaenmf_core`]) — no second
//! implementation of anything. Invariants:
//! - every error the `vaenmf` command would print reaches Python as a `ValueError` (an
//!   `OSError` when a file could not be read or written) with the same message (`errors`);
//! - long fits run without the GIL, print their progress through Python's `print`, and stop
//!   at the next iteration or epoch on Ctrl-C (`interrupt`);
//! - models cross the boundary as the core's blob bytes, so a model fitted in Python is the
//!   file `vaenmf inspect` and the firmware's `build.rs` read (`model`).

use pyo3::prelude::*;

mod arrays;
mod errors;
mod interrupt;
mod model;
mod nmf;
mod signal;
mod speech;
mod vae;

// As in the `vaenmf` binary: burn allocates a buffer per tensor operation, which mimalloc
// reuses (training ~9 % faster).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Before any worker thread exists, as the binary does (see the function's docs).
    vaenmf_trainer::nmf::gemm::single_threaded_products();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    nmf::register(m)?;
    vae::register(m)?;
    model::register(m)?;
    signal::register(m)?;
    speech::register(m)?;
    Ok(())
}
