"""Model files: load any blob the project writes, save, quantise."""

import os

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from . import _native
from ._validation import float32_c


class Model:
    """A model file's contents that no estimator represents (a spectrogram dictionary from
    ``vaenmf speech dict``): its bytes, kind and description."""

    def __init__(self, blob, name="model"):
        self._blob = bytes(blob)
        self.name = name

    @property
    def kind(self):
        return _native.blob_info(self._blob)["kind"]

    def describe(self):
        """``vaenmf inspect``'s text."""
        return _native.describe(self.name, self._blob)

    def save(self, path):
        """Writes the file (atomically)."""
        _native.write_model(os.fspath(path), self._blob)

    def to_bytes(self):
        return self._blob

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, kind={self.kind!r})"


def load(path):
    """Reads any model file the project writes and returns what it holds: a fitted
    :class:`~vaenmf.NMF` (NMF models), a fitted :class:`~vaenmf.VAENMF` (VAE-NMF models, f32
    or quantised), a :class:`~vaenmf.speech.Enhancer` (speech enhancers) or a :class:`Model`.
    The file is checked by the core's decoder (format, version, checksum, every value); a bad
    file raises ``ValueError``, an unreadable one ``OSError``, both naming it."""
    from .decomposition import NMF, VAENMF
    from .speech import Enhancer

    name = os.fspath(path)
    blob, is_speech = _native.read_model(name)
    if is_speech:
        return Enhancer(blob, name)
    info = _native.blob_info(blob)
    if info["kind"] == "nmf":
        est = NMF(n_components=info["rank"])
    elif info["kind"].startswith("vae-nmf"):
        est = VAENMF(n_components=info["rank"], hidden=tuple(info["hidden"]), alpha0=info["alpha0"])
    else:
        return Model(blob, name)
    est._set_blob(blob, np.float64)
    est.n_features_in_ = info["channels"]
    return est


def quantize(estimator, X_calibration, hybrid=False):
    """The int8 version of a fitted :class:`~vaenmf.VAENMF`'s encoder (int16 activations;
    ``hybrid=True`` keeps the first layer and the heads in f32), calibrated on raw frames
    ``X_calibration`` (n_samples × n_features, as the device receives them). Returns a new
    fitted ``VAENMF`` whose ``transform`` is the quantised encoder's (the firmware's int8
    path, bit for bit) and whose ``quantization_`` holds its accuracy against the f32 model on
    the calibration frames, as ``vaenmf quantize`` reports it."""
    from .decomposition import VAENMF

    if not isinstance(estimator, VAENMF):
        raise TypeError(f"quantize needs a fitted VAENMF, not {type(estimator).__name__}")
    check_is_fitted(estimator)
    X = check_array(X_calibration, dtype=[np.float64, np.float32])
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X_calibration has {X.shape[1]} features, but the model takes {estimator.n_features_in_}"
        )
    blob, accuracy = _native.quantize(estimator._blob, float32_c(X), bool(hybrid))
    quantized = VAENMF(**estimator.get_params())
    quantized._set_blob(blob, estimator.components_.dtype)
    quantized.n_features_in_ = estimator.n_features_in_
    if hasattr(estimator, "feature_names_in_"):
        quantized.feature_names_in_ = estimator.feature_names_in_
    quantized.quantization_ = dict(accuracy)
    return quantized
