"""Fit time of vaenmf.NMF against scikit-learn's NMF on the same data in the same process:
the bundled Gait120 envelopes (9900 frames × 12 muscles), rank 4, 500 multiplicative updates
(tol=0: both run every update), NNDSVDa; and a larger synthetic set. Prints medians of
interleaved repeats, the ratio, and both VAFs.

    cargo xtask bench python          (builds the optimised extension into target/python-venv)
    python python/benchmarks/nmf_vs_sklearn.py   (with vaenmf installed)
"""

import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.decomposition import NMF as SkNMF

import vaenmf

ROOT = Path(__file__).resolve().parents[2]


def vaf(X, W, H):
    return 1.0 - np.sum((X - W @ H) ** 2) / np.sum(X**2)


def timed(fit, X):
    start = time.perf_counter()
    result = fit(X)
    return time.perf_counter() - start, result


def compare(title, X, rank, iterations, repeats):
    ours_t, theirs_t = [], []
    for _ in range(repeats):
        ours = vaenmf.NMF(rank, init="nndsvda", max_iter=iterations, tol=0.0, random_state=0)
        t, Z = timed(ours.fit_transform, X)
        ours_t.append(t)
        sk = SkNMF(rank, init="nndsvda", solver="mu", max_iter=iterations, tol=0.0, random_state=0)
        t, W = timed(sk.fit_transform, X)
        theirs_t.append(t)
    a, b = np.median(ours_t), np.median(theirs_t)
    print(f"{title}: {X.shape[0]} frames × {X.shape[1]} channels, rank {rank}, {iterations} updates")
    for name, times, fit in [
        ("vaenmf.NMF ", ours_t, vaf(X, Z, ours.components_)),
        ("sklearn NMF", theirs_t, vaf(X, W, sk.components_)),
    ]:
        spread = f"{min(times):.4f}–{max(times):.4f}"
        print(f"  {name}  {np.median(times):.4f} s  (spread {spread}), VAF {fit:.4f}")
    print(f"  ratio {b / a:.1f}× (scikit-learn time / vaenmf time; medians of {repeats})")


def main():
    print(f"vaenmf {vaenmf.__version__}, scikit-learn {sklearn.__version__}, NumPy {np.__version__}")
    X = np.ascontiguousarray(np.load(ROOT / "data/gait120-sts/V_matrix.npy").T)
    compare("Gait120", X, 4, 500, 15)
    rng = np.random.default_rng(0)
    big = rng.random((50_000, 64)) @ rng.random((64, 64))
    compare("synthetic", big, 16, 200, 3)


if __name__ == "__main__":
    main()
