"""vaenmf.NMF against scikit-learn's NMF on real EMG, and its own contract."""

import pickle

import numpy as np
import pytest
from sklearn.decomposition import NMF as SkNMF

import vaenmf


def sk_vaf(X, W, H):
    return 1.0 - np.sum((X - W @ H) ** 2) / np.sum(X**2)


@pytest.mark.parametrize("loss, beta_loss", [("frobenius", "frobenius"), ("kl", "kullback-leibler")])
def test_vaf_matches_scikit_learn_on_gait120(gait, loss, beta_loss):
    # The same settings on both sides: rank 4, NNDSVDa, multiplicative updates, 500 of
    # them, scikit-learn's stopping rule.
    X, _ = gait
    ours = vaenmf.NMF(4, loss=loss, init="nndsvda", max_iter=500, tol=1e-4, random_state=0)
    Z = ours.fit_transform(X)
    sk = SkNMF(4, init="nndsvda", solver="mu", beta_loss=beta_loss, max_iter=500, tol=1e-4, random_state=0)
    W = sk.fit_transform(X)
    ours_vaf = vaenmf.vaf(X, Z, ours.components_)
    theirs_vaf = sk_vaf(X, W, sk.components_)
    assert abs(ours_vaf - theirs_vaf) < 0.002, (ours_vaf, theirs_vaf)
    assert ours_vaf > 0.85
    assert ours.components_.shape == (4, 12)
    assert Z.shape == (9900, 4)
    assert np.all(ours.components_ >= 0) and np.all(Z >= 0)
    # score is the VAF of transform's NNLS activations: at least the fit's own.
    assert ours.score(X) == pytest.approx(vaenmf.vaf(X, ours.transform(X), ours.components_), abs=1e-6)
    assert ours.score(X) >= ours_vaf - 1e-6


def test_vaf_is_the_closed_form(gait):
    X, _ = gait
    rng = np.random.default_rng(1)
    W = rng.random((X.shape[0], 3))
    H = rng.random((3, X.shape[1]))
    assert vaenmf.vaf(X, W, H) == pytest.approx(sk_vaf(X, W, H), abs=1e-5)
    assert vaenmf.vaf(X, W * 0, H) == pytest.approx(0.0, abs=1e-7)


def test_transform_is_the_nnls_solution(gait):
    X, _ = gait
    est = vaenmf.NMF(3, max_iter=100, random_state=0).fit(X[:2000])
    Z = est.transform(X[2000:2100])
    H = est.components_.astype(np.float64)
    # KKT conditions of min ‖x − zH‖² subject to z ≥ 0: gradient ≥ 0, zero where z > 0.
    grad = (Z @ H - X[2000:2100]) @ H.T
    scale = np.abs(X[2000:2100]).max() * np.abs(H).sum()
    assert np.all(grad > -1e-4 * scale)
    assert np.all(np.abs(grad[Z > 1e-6]) < 1e-4 * scale)


def test_same_random_state_same_model_and_restarts(gait):
    X, _ = gait
    a = vaenmf.NMF(4, init="random", random_state=3, max_iter=50).fit(X)
    b = vaenmf.NMF(4, init="random", random_state=3, max_iter=50).fit(X)
    c = vaenmf.NMF(4, init="random", random_state=4, max_iter=50).fit(X)
    assert np.array_equal(a.components_, b.components_)
    assert not np.array_equal(a.components_, c.components_)


def test_save_load_same_transform_bits(gait, tmp_path):
    X, names = gait
    import pandas as pd

    df = pd.DataFrame(X, columns=names)
    est = vaenmf.NMF(4, max_iter=100, random_state=0).fit(df)
    assert est.channel_names_ == names
    path = tmp_path / "m.vnmf"
    est.save(path)
    loaded = vaenmf.load(path)
    assert isinstance(loaded, vaenmf.NMF)
    assert loaded.channel_names_ == names
    assert loaded.model_kind_ == "nmf"
    assert np.array_equal(loaded.transform(X[:500]), est.transform(df.iloc[:500]))
    # And through pickle.
    again = pickle.loads(pickle.dumps(est))
    assert np.array_equal(again.transform(df.iloc[:500]), est.transform(df.iloc[:500]))


def test_dtypes_and_layouts(gait):
    X, _ = gait
    est = vaenmf.NMF(3, max_iter=50, random_state=0).fit(X[:1000])
    z64 = est.transform(X[:200])
    z32 = est.transform(X[:200].astype(np.float32))
    zf = est.transform(np.asfortranarray(X[:200]))
    assert z64.dtype == np.float64 and z32.dtype == np.float32
    assert np.array_equal(z64, zf)
    assert np.array_equal(z64.astype(np.float32), z32)


def test_inverse_transform_reconstructs(gait):
    X, _ = gait
    est = vaenmf.NMF(4, max_iter=300, random_state=0).fit(X)
    Xhat = est.inverse_transform(est.transform(X))
    assert Xhat.shape == X.shape
    assert 1 - np.sum((X - Xhat) ** 2) / np.sum(X**2) == pytest.approx(est.score(X), abs=1e-5)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_components": 0}, "n_components=0 is invalid: must be an int between 1 and 16"),
        ({"n_components": 17}, "n_components=17 is invalid"),
        ({"max_iter": 0}, "max_iter=0 is invalid"),
        ({"tol": -1.0}, "tol=-1.0 is invalid"),
        ({"loss": "itakura-saito"}, "loss='itakura-saito' is invalid: must be one of"),
        ({"init": "nndsvdar"}, "init='nndsvdar' is invalid"),
        ({"random_state": -1}, "random_state=-1"),
    ],
)
def test_bad_parameters_raise_value_error(gait, params, message):
    X, _ = gait
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        vaenmf.NMF(**params).fit(X[:100])


def test_bad_data_raises_value_error(gait):
    X, _ = gait
    bad = X[:100].copy()
    bad[5, 2] = -1.0
    with pytest.raises(ValueError, match="Negative values"):
        vaenmf.NMF(2).fit(bad)
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        vaenmf.NMF(2).fit(bad)
    with pytest.raises(
        ValueError, match=r"n_components=4 must be smaller than min\(n_samples=3, n_features=12\)"
    ):
        vaenmf.NMF(4).fit(X[:3])
    est = vaenmf.NMF(2, max_iter=20).fit(X[:100])
    with pytest.raises(ValueError, match="12 features"):
        est.transform(X[:10, :5])
    with pytest.raises(ValueError, match="activations of 2 components"):
        est.inverse_transform(np.ones((3, 5)))


def test_load_refuses_a_damaged_file_naming_it(gait, tmp_path):
    X, _ = gait
    path = tmp_path / "m.vnmf"
    vaenmf.NMF(2, max_iter=20).fit(X[:100]).save(path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    bad = tmp_path / "bad.vnmf"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="bad.vnmf"):
        vaenmf.load(bad)
    with pytest.raises(OSError, match="missing.vnmf: cannot read"):
        vaenmf.load(tmp_path / "missing.vnmf")


def test_verbose_prints_progress(gait, capsys):
    X, _ = gait
    vaenmf.NMF(2, max_iter=20, tol=0, verbose=1).fit(X[:500])
    out = capsys.readouterr().out
    assert "NMF run 1: iteration 20 of 20" in out
