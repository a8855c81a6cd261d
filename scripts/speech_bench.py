#!/usr/bin/env python3
"""Python side of `cargo bench -p vaenmf-trainer --bench speech`: times the reference tools on
the files the Rust side wrote to DIR, and prints one JSON line.

  bss:  mir_eval.separation.bss_eval_sources and fast_bss_eval.bss_eval_sources (NumPy) on
        references [clean, noise] and estimates [estimate, mixture - estimate] (3 s, 16 kHz)
  pesq: PyPI pesq (the ITU-T P.862 C code), wideband and narrowband at 16 kHz
  stoi: pystoi STOI
  nmf:  scikit-learn NMF(40, solver='mu', init='random', max_iter=200, tol=0) on the
        frames x 257 float32 magnitude matrix in frames.npy

Each tool is optional: a missing package gives null for its entries.
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import scipy.io.wavfile as wavfile

warnings.simplefilter("ignore")


def best(f, repeats):
    t = float("inf")
    out = None
    for _ in range(repeats):
        s = time.perf_counter()
        out = f()
        t = min(t, time.perf_counter() - s)
    return t, out


def median(f, repeats):
    """(median, min, max) wall time of `repeats` calls, and the last result."""
    times, out = [], None
    for _ in range(repeats):
        s = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - s)
    times.sort()
    return (times[len(times) // 2], times[0], times[-1]), out


def main():
    d = sys.argv[1]
    read = lambda n: wavfile.read(os.path.join(d, n))[1].astype(np.float64)
    clean, noise, est = read("clean.wav"), read("noise.wav"), read("estimate.wav")
    refs = np.vstack([clean, noise])
    ests = np.vstack([est, clean + noise - est])
    out = {}
    try:
        import mir_eval
        (t, lo, hi), r = median(lambda: mir_eval.separation.bss_eval_sources(refs, ests), 5)
        out["mir_eval"] = {"seconds": t, "min": lo, "max": hi, "sdr": float(r[0][0]),
                           "version": mir_eval.__version__}
    except ImportError:
        out["mir_eval"] = None
    try:
        import fast_bss_eval
        (t, lo, hi), r = median(
            lambda: fast_bss_eval.bss_eval_sources(refs, ests, compute_permutation=True), 5)
        out["fast_bss_eval"] = {"seconds": t, "min": lo, "max": hi, "sdr": float(r[0][0])}
    except ImportError:
        out["fast_bss_eval"] = None
    try:
        from pesq import pesq
        t, v = best(lambda: pesq(16000, clean, est, "wb"), 5)
        t8, v8 = best(lambda: pesq(16000, clean, est, "nb"), 5)
        out["pesq"] = {"wb_seconds": t, "wb": v, "nb_seconds": t8, "nb": v8}
    except ImportError:
        out["pesq"] = None
    try:
        from pystoi import stoi
        t, v = best(lambda: stoi(clean, est, 16000), 5)
        out["pystoi"] = {"seconds": t, "stoi": v}
    except ImportError:
        out["pystoi"] = None
    try:
        import sklearn
        from sklearn.decomposition import NMF
        x = np.load(os.path.join(d, "frames.npy"))

        def fit():
            m = NMF(40, solver="mu", init="random", max_iter=200, tol=0.0, random_state=0)
            w = m.fit_transform(x)
            return m.reconstruction_err_
        t, err = best(fit, 2)
        out["sklearn"] = {"seconds": t, "version": sklearn.__version__, "frobenius": float(err)}
    except ImportError:
        out["sklearn"] = None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
