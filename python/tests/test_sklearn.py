"""scikit-learn's own estimator checks (`check_estimator`, every check its version has). The
checks that do not apply are listed here with the reason, and in the README."""

import warnings

import pytest
from sklearn.utils.estimator_checks import check_estimator

import vaenmf

#: Checks that do not apply, and why.
NOT_APPLICABLE = {
    "check_array_api_input": "the estimators compute in Rust on NumPy arrays; no array API "
    "support (scikit-learn skips the check unless SCIPY_ARRAY_API=1)",
}


@pytest.mark.parametrize(
    "estimator",
    [
        vaenmf.NMF(n_components=1, max_iter=100),
        vaenmf.VAENMF(n_components=1, hidden=(8, 8), epochs=3, validation=0.0),
    ],
    ids=["NMF", "VAENMF"],
)
def test_check_estimator(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    assert len(results) >= 40
    failed = {r["check_name"]: str(r["exception"]) for r in results if r["status"] == "failed"}
    assert failed == {}
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    assert skipped <= set(NOT_APPLICABLE)
