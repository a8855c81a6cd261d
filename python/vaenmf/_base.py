"""What NMF and VAE-NMF share: data checks, the components in the data's units, the
reconstruction, VAF as ``score``, saving, scikit-learn's tags."""

import os

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from . import _native
from ._validation import check_rank, float32_c


class SynergyEstimator(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class: subclasses fit the model blob (``_set_blob``) and define
    ``_activations(X32)``.

    A blob holds the dictionary in the model's input units and the input scaling
    ``(x − offset) · scale`` a device applies to raw frames (a model from ``vaenmf train``
    has per-channel scales; one fitted here has offset 0 and scale 1). ``components_`` is the
    dictionary in the data's units, ``dictionary / scale``, so ``inverse_transform`` returns
    frames in the units of ``X``.
    """

    def _set_blob(self, blob, dtype):
        info = _native.blob_info(blob)
        self._blob = bytes(blob)
        self.model_kind_ = info["kind"]
        self.channel_names_ = list(info["channel_names"])
        self._dictionary = np.ascontiguousarray(info["dictionary"].T)  # rank × channels
        self._offset = np.asarray(info["input_offset"], dtype=np.float32)
        self._scale = np.asarray(info["input_scale"], dtype=np.float32)
        self.components_ = (self._dictionary / self._scale).astype(dtype)
        self.n_components_ = self.components_.shape[0]

    def _scaled(self, X32):
        """Frames in the model's input units, as the core computes them."""
        return np.ascontiguousarray((X32 - self._offset) * self._scale, dtype=np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _check_fit_data(self, X):
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=True)
        check_non_negative(X, f"{type(self).__name__} (input X)")
        check_rank(self.n_components, *X.shape)
        return X

    def _check_data(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X

    def _channel_names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return [f"ch{i + 1}" for i in range(self.n_features_in_)]
        return [str(n) for n in names]

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def transform(self, X):
        """Activations of the frames ``X`` (n_samples × n_features), n_samples ×
        n_components."""
        X = self._check_data(X)
        return self._activations(float32_c(X)).astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """The frames ``X @ components_`` that activations ``X`` (n_samples ×
        n_components) reconstruct."""
        check_is_fitted(self)
        Z = np.asarray(X)
        if Z.ndim != 2 or Z.shape[1] != self.components_.shape[0]:
            raise ValueError(
                f"X has shape {Z.shape}; activations of {self.components_.shape[0]} components "
                "are needed (n_samples × n_components)"
            )
        dtype = Z.dtype if Z.dtype in (np.float32, np.float64) else np.float64
        H = self.components_.astype(dtype, copy=False)
        return Z.astype(dtype, copy=False) @ H + self._offset.astype(dtype)

    def score(self, X, y=None):
        """Uncentred variance accounted for (VAF) of ``X`` by its reconstruction from
        ``transform(X)``: 1 − ‖X − X̂‖² / ‖X‖², the synergy literature's measure, in the
        model's input units (``X`` itself for a model fitted here) as ``vaenmf eval``
        reports it."""
        X = self._check_data(X)
        X32 = float32_c(X)
        return _native.vaf(self._scaled(X32), self._activations(X32), self._dictionary)

    def save(self, path):
        """Writes the model blob to ``path`` (atomically), with the channel names: the file
        ``vaenmf inspect``, ``vaenmf eval`` and the firmware read."""
        check_is_fitted(self)
        _native.write_model(os.fspath(path), self._blob)

    def describe(self, name="model"):
        """``vaenmf inspect``'s text for this model (``name``: what to call it)."""
        check_is_fitted(self)
        return _native.describe(name, self._blob)

    def to_bytes(self):
        """The model blob's bytes."""
        check_is_fitted(self)
        return bytes(self._blob)
