//! Errors to Python exceptions: the message is the one the `vaenmf` command prints after
//! `error: ` (the whole context chain on one line); the type is `OSError` when a file could not
//! be read or written, `ValueError` for everything else (bad values, shapes, model files).

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::PyErr;

/// `error` as the exception Python callers expect.
pub fn to_py(error: anyhow::Error) -> PyErr {
    let message = format!("{error:#}");
    if error.chain().any(|cause| cause.is::<std::io::Error>()) {
        PyOSError::new_err(message)
    } else {
        PyValueError::new_err(message)
    }
}

/// `Result` with the error as a Python exception.
pub trait OrPyErr<T> {
    /// Converts the error with [`to_py`].
    fn or_py(self) -> pyo3::PyResult<T>;
}

impl<T, E: Into<anyhow::Error>> OrPyErr<T> for Result<T, E> {
    fn or_py(self) -> pyo3::PyResult<T> {
        self.map_err(|e| to_py(e.into()))
    }
}
