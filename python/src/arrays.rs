//! NumPy arrays in and out. The Python layer hands over float32 arrays that passed
//! scikit-learn's checks; these functions copy them into the trainer's frame-major
//! [`EmgMatrix`] in logical order (any memory layout) and return results as new arrays.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use vaenmf_trainer::data::EmgMatrix;
use vaenmf_trainer::eval::Synergies;

use crate::errors::OrPyErr;

/// A new float32 matrix handed to Python.
pub type Matrix<'py> = Bound<'py, PyArray2<f32>>;

/// `x` (frames × channels) as an [`EmgMatrix`].
pub fn matrix(x: &PyReadonlyArray2<'_, f32>) -> PyResult<EmgMatrix> {
    let view = x.as_array();
    let (frames, channels) = view.dim();
    EmgMatrix::new(frames, channels, view.iter().copied().collect()).or_py()
}

/// Synergies (channels × rank, the trainer's layout) from `components` (rank × channels,
/// scikit-learn's).
pub fn synergies(components: &PyReadonlyArray2<'_, f32>) -> Synergies {
    let h = components.as_array();
    let (rank, channels) = h.dim();
    Synergies {
        channels,
        rank,
        w: h.t().iter().copied().collect(),
    }
}

/// `v` as a vector.
pub fn vector(v: &PyReadonlyArray1<'_, f32>) -> Vec<f32> {
    v.as_array().iter().copied().collect()
}

/// `data` (row-major, `rows × cols`) as a new array.
pub fn to_numpy<'py>(py: Python<'py>, rows: usize, cols: usize, data: Vec<f32>) -> PyResult<Matrix<'py>> {
    Ok(Array2::from_shape_vec((rows, cols), data)
        .or_py()?
        .into_pyarray(py))
}

/// `data` as a new 1-D array.
pub fn to_numpy1(py: Python<'_>, data: Vec<f32>) -> Bound<'_, PyArray1<f32>> {
    data.into_pyarray(py)
}
