"""Signal helpers: EMG envelopes and VAF, computed by the project's Rust code."""

import numpy as np
from sklearn.utils.validation import check_array

from . import _native
from ._validation import float32_c


def envelope(raw, fs, band=(20.0, 450.0), lowpass=4.0, decimate=1, causal=False, order=4):
    """Linear envelopes of raw EMG ``raw`` (n_samples × n_channels) sampled at ``fs`` Hz:
    mean removed, Butterworth band-pass ``band`` (Hz), full-wave rectified, low-passed at
    ``lowpass`` Hz, every ``decimate``-th sample kept — zero-phase, or with ``causal=True``
    forward only from the filters' steady state (the envelope the device computes, with no
    mean removal). The same code as ``vaenmf train --envelope``. Band edges at or above the
    Nyquist frequency are skipped with a warning. Returns float32, n_samples/decimate ×
    n_channels."""
    import warnings

    X = check_array(raw, dtype=[np.float64, np.float32], ensure_min_samples=1)
    try:
        lo, hi = band
    except (TypeError, ValueError):
        raise ValueError(f"band={band!r} is invalid: must be (low, high) in Hz") from None
    env, skipped = _native.envelope(
        float32_c(X),
        float(fs),
        (float(lo), float(hi)),
        float(lowpass),
        int(order),
        int(decimate),
        bool(causal),
    )
    for note in skipped:
        warnings.warn(f"envelope: {note}", stacklevel=2)
    return env


def vaf(X, W, H):
    """Uncentred variance accounted for of ``X`` (n_samples × n_features) by ``W @ H``
    (activations n_samples × r, components r × n_features): 1 − ‖X − WH‖² / ‖X‖², by the
    core's sums (as the reports and the device compute it)."""
    X = check_array(X, dtype=[np.float64, np.float32])
    W = check_array(W, dtype=[np.float64, np.float32])
    H = check_array(H, dtype=[np.float64, np.float32])
    if W.shape[0] != X.shape[0] or H.shape[1] != X.shape[1] or W.shape[1] != H.shape[0]:
        raise ValueError(
            f"shapes do not match: X {X.shape}, W {W.shape}, H {H.shape} (X ≈ W @ H needs "
            "W n_samples × r and H r × n_features)"
        )
    return _native.vaf(float32_c(X), float32_c(W), float32_c(H))
