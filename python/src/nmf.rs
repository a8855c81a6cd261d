//! NMF: fit by the trainer's multiplicative updates, held-out activations by the core's NNLS
//! (what a device computes for an NMF model).

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray2};
use pyo3::prelude::*;
use vaenmf_trainer::choice::Choice;
use vaenmf_trainer::nmf::{self, NmfConfig, NmfInit, NmfLoss};
use vaenmf_trainer::params::ParamError;

use crate::arrays::{matrix, synergies, to_numpy, Matrix};
use crate::errors::OrPyErr;
use crate::interrupt;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(nmf_fit, m)?)?;
    m.add_function(wrap_pyfunction!(nnls_transform, m)?)?;
    Ok(())
}

/// The variant of `T` called `name`, or an error naming `parameter` and the names allowed.
pub fn choose<T: Choice>(parameter: &'static str, name: &str) -> PyResult<T> {
    T::from_name(name)
        .ok_or_else(|| {
            let names: Vec<&str> = T::CHOICES.iter().map(|c| c.0).collect();
            ParamError::new(parameter, name, format!("one of {}", names.join(", ")))
        })
        .or_py()
}

/// Fits `x ≈ z · components` (frames × channels). Returns `(components, z, iterations,
/// objective)`: components `n_components × channels` (scikit-learn's layout), `z` frames ×
/// `n_components`.
#[pyfunction]
#[pyo3(signature = (x, n_components, loss, init, max_iter, tol, sparsity, restarts, seed, verbose))]
#[allow(clippy::too_many_arguments)]
fn nmf_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    n_components: usize,
    loss: &str,
    init: &str,
    max_iter: usize,
    tol: f64,
    sparsity: f32,
    restarts: usize,
    seed: u64,
    verbose: bool,
) -> PyResult<(Matrix<'py>, Matrix<'py>, usize, f64)> {
    let x = matrix(&x)?;
    let params = NmfConfig {
        rank: n_components,
        loss: choose::<NmfLoss>("loss", loss)?,
        sparsity,
        init: choose::<NmfInit>("init", init)?,
        iterations: max_iter,
        tol,
        restarts,
        seed,
    }
    .check()
    .or_py()?;
    let every = (max_iter / 10).max(1);
    let fit = interrupt::run(py, verbose, |reporter| {
        nmf::fit(&x, &params, |run, it| {
            if it % every == 0 {
                reporter.say(format!("NMF run {}: iteration {it} of {max_iter}", run + 1));
            }
            reporter.checkpoint();
        })
    })?;
    let r = n_components;
    // W is channels × r; scikit-learn's layout is its transpose (a Fortran-ordered view).
    let components = Array2::from_shape_vec((x.channels, r), fit.w)
        .or_py()?
        .reversed_axes()
        .into_pyarray(py);
    Ok((
        components,
        to_numpy(py, x.frames, r, fit.z)?,
        fit.iterations,
        fit.objective,
    ))
}

/// Nonnegative least-squares activations (frames × r) of `x` for `components` (r ×
/// channels), by the core's solver.
#[pyfunction]
fn nnls_transform<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    components: PyReadonlyArray2<'py, f32>,
) -> PyResult<Matrix<'py>> {
    let x = matrix(&x)?;
    let synergies = synergies(&components);
    let z = py.detach(|| synergies.nnls_activations(&x)).or_py()?;
    to_numpy(py, x.frames, synergies.rank, z)
}
