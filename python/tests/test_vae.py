"""vaenmf.VAENMF: shapes, determinism, the posterior, files, quantisation."""

import numpy as np
import pytest

import vaenmf

# Small and quick: the contract, not the paper's accuracy (the trainer's tests and the demo
# cover that).
SMALL = dict(hidden=(32, 32), epochs=100, validation=0.0)


@pytest.fixture(scope="module")
def fitted(gait):
    X, names = gait
    est = vaenmf.VAENMF(4, random_state=7, **SMALL).fit(X[:3000])
    return est, X


def test_shapes_and_attributes(fitted):
    est, X = fitted
    Z = est.transform(X[3000:3500])
    assert Z.shape == (500, 4) and Z.dtype == np.float64
    assert np.all(Z > 0)
    assert est.components_.shape == (4, 12)
    assert np.all(est.components_ >= 0)
    alpha, beta = est.posterior_
    assert alpha.shape == beta.shape == (3000, 4)
    assert np.all(alpha > 0) and np.all(beta > 0)
    assert len(est.history_) == est.n_iter_ == 100
    assert {"loss", "reconstruction", "kl", "penalty"} <= set(est.history_[0])
    assert est.model_kind_ == "vae-nmf"
    # transform is the posterior mean, computed in float32 as the core does.
    a, b = est.posterior(X[3000:3500].astype(np.float32))
    assert a.dtype == np.float32
    assert np.array_equal(Z, (a / b).astype(np.float64))
    assert 0.5 < est.score(X[3000:]) <= 1.0


def test_same_random_state_same_model(gait, fitted):
    est, X = fitted
    again = vaenmf.VAENMF(4, random_state=7, **SMALL).fit(X[:3000])
    other = vaenmf.VAENMF(4, random_state=8, **SMALL).fit(X[:3000])
    assert again.to_bytes() == est.to_bytes()
    assert np.array_equal(again.transform(X[3000:3100]), est.transform(X[3000:3100]))
    assert not np.array_equal(other.components_, est.components_)


def test_fit_transform_equals_fit_then_transform(fitted):
    est, X = fitted
    refit = vaenmf.VAENMF(4, random_state=7, **SMALL)
    assert np.array_equal(refit.fit_transform(X[:3000]), est.transform(X[:3000]))


def test_save_load_same_transform_bits(fitted, tmp_path):
    est, X = fitted
    path = tmp_path / "vae.vnmf"
    est.save(path)
    loaded = vaenmf.load(path)
    assert isinstance(loaded, vaenmf.VAENMF)
    assert loaded.get_params()["hidden"] == (32, 32)
    assert np.array_equal(loaded.transform(X[3000:4000]), est.transform(X[3000:4000]))
    alpha, beta = loaded.posterior(X[3000:3010])
    assert np.array_equal(alpha, est.posterior(X[3000:3010])[0])


def test_quantize_and_reload(fitted, tmp_path):
    est, X = fitted
    q = vaenmf.quantize(est, X[:3000])
    assert q.model_kind_ == "vae-nmf-int8"
    acc = q.quantization_
    assert acc["frames"] == 3000
    assert 0 < acc["relative_error"] < 0.05
    Zq, Z = q.transform(X[3000:3500]), est.transform(X[3000:3500])
    assert not np.array_equal(Zq, Z)
    assert np.max(np.abs(Zq - Z)) < 0.1 * np.max(np.abs(Z))
    path = tmp_path / "int8.vnmf"
    q.save(path)
    loaded = vaenmf.load(path)
    assert loaded.model_kind_ == "vae-nmf-int8"
    assert np.array_equal(loaded.transform(X[3000:3500]), Zq)
    hybrid = vaenmf.quantize(est, X[:3000], hybrid=True)
    assert hybrid.model_kind_ == "vae-nmf-hybrid"
    with pytest.raises(ValueError, match="already quantised"):
        vaenmf.quantize(q, X[:100])
    with pytest.raises(TypeError, match="quantize needs a fitted VAENMF"):
        vaenmf.quantize(vaenmf.NMF(2).fit(X[:200]), X[:100])


def test_bad_parameters(gait):
    X, _ = gait
    for params, message in [
        ({"hidden": (0, 4)}, r"hidden\[0\]=0 is invalid"),
        ({"hidden": 4}, "hidden=4 is invalid"),
        ({"lr": 0}, "lr=0 is invalid: must be a finite number > 0"),
        ({"validation": 0.7}, "validation=0.7 is invalid"),
        ({"backend": "cuda"}, "backend='cuda' is invalid"),
        ({"epochs": 10**6}, "epochs=1000000 is invalid"),
    ]:
        with pytest.raises(ValueError, match=message):
            vaenmf.VAENMF(2, **params).fit(X[:100])


def test_verbose_prints_epochs(gait, capsys):
    X, _ = gait
    vaenmf.VAENMF(2, hidden=(8, 8), epochs=3, validation=0.0, random_state=0, verbose=1).fit(X[:300])
    out = capsys.readouterr().out
    assert "epoch 3 of 3: loss" in out
