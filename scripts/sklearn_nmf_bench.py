#!/usr/bin/env python3
"""Times scikit-learn's NMF (solver='mu', Frobenius, NNDSVDa) for the side-by-side benchmark.

Usage: sklearn_nmf_bench.py MATRIX.npy RANK ITERATIONS REPEATS
Prints one JSON line: {"seconds": median wall time of one fit, "min": ..., "max": ...,
"vaf": ..., "sklearn": version}.
The matrix is read as channels x frames (as data/gait120-sts/V_matrix.npy) and
factorised with frames as samples, like `vaenmf train --channels-in-rows`.
"""
import json
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.decomposition import NMF


def main():
    path, rank, iterations, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    x = np.ascontiguousarray(np.load(path).T.astype(np.float64))
    times = []
    vaf = None
    for _ in range(repeats):
        model = NMF(n_components=rank, solver="mu", beta_loss="frobenius", init="nndsvda",
                    max_iter=iterations, tol=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached by design
            start = time.perf_counter()
            w = model.fit_transform(x)
            elapsed = time.perf_counter() - start
        times.append(elapsed)
        xhat = w @ model.components_
        vaf = 1.0 - np.sum((x - xhat) ** 2) / np.sum(x ** 2)
    times.sort()
    print(json.dumps({"seconds": times[len(times) // 2], "min": times[0], "max": times[-1],
                      "vaf": float(vaf), "sklearn": sklearn.__version__}))


if __name__ == "__main__":
    main()
