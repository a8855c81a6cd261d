"""The estimators: :class:`NMF` (multiplicative updates, NNLS for new data) and
:class:`VAENMF` (the paper's variational autoencoder with Gamma latents)."""

import json

import numpy as np

from . import _native
from ._base import SynergyEstimator
from ._validation import check_choice, check_int, float32_c, seed_of

#: Loss names scikit-learn uses (``beta_loss``) and ours, to the trainer's names.
_LOSSES = {"frobenius": "euclidean", "kl": "kl", "kullback-leibler": "kl"}
#: Initialisations (None: NNDSVDa, the trainer's default for multiplicative updates).
_INITS = {None: "nndsvda", "nndsvd": "nndsvd", "nndsvda": "nndsvda", "random": "random"}
#: Upper bounds the command line applies too.
_MAX_ITER = 1_000_000
_MAX_RESTARTS = 1_000
_MAX_EPOCHS = 100_000
_MAX_BATCH = 65_536
_MAX_WIDTH = 8_192


def _finite(name, value, low, high=np.inf, low_open=False):
    """A float in [low, high] (or (low, high] when ``low_open``), else a ValueError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is invalid: must be a number") from None
    ok = np.isfinite(v) and (v > low if low_open else v >= low) and v <= high
    if not ok:
        bound = f"> {low}" if low_open else f">= {low}"
        upper = "" if high == np.inf else f" and <= {high}"
        raise ValueError(f"{name}={value!r} is invalid: must be a finite number {bound}{upper}")
    return v


class NMF(SynergyEstimator):
    """Nonnegative matrix factorisation ``X ≈ W H`` of frames ``X`` (n_samples × n_features),
    by the trainer's Lee–Seung multiplicative updates.

    Parameters
    ----------
    n_components : int, default=4
        Synergies (rank), 1 to 16 and below ``min(n_samples, n_features)`` — the core's NNLS,
        which computes ``transform`` here and on a device, is built for up to 16.
    loss : {"frobenius", "kl"}, default="frobenius"
        Squared Frobenius norm or generalised Kullback–Leibler divergence.
    init : {"nndsvda", "nndsvd", "random"} or None, default=None (NNDSVDa)
    max_iter : int, default=200
        Multiplicative updates (per restart).
    tol : float, default=1e-4
        Stop when the objective's decrease over 10 updates, relative to its first value, is
        below ``tol``; 0 runs all ``max_iter`` updates. scikit-learn applies the rule to the
        square root of twice the objective, which falls about half as fast: at the same
        ``tol`` it stops earlier (on Gait120 at 1e-4: 140 updates against 210 here, the same
        VAF to 0.0001).
    sparsity : float, default=0.0
        L1 penalty on the activations in scikit-learn's convention (``alpha_W`` with
        ``l1_ratio=1``); with a penalty, the components are kept at unit norm.
    restarts : int, default=1
        Runs; the first starts from ``init``, the others at random; the lowest objective wins.
    random_state : int, RandomState or None, default=None
        Seed of the random starts (an int is used as the seed itself).
    verbose : int, default=0
        Print progress (every tenth of ``max_iter``).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The synergies (scikit-learn's ``H``).
    n_components_, n_iter_, reconstruction_err_, n_features_in_, feature_names_in_

    ``fit_transform`` returns the fit's own activations; ``transform`` the nonnegative
    least-squares activations for ``components_`` (the core's solver: what a device computes
    for an NMF model, whatever the loss it was fitted with).
    """

    def __init__(
        self,
        n_components=4,
        *,
        loss="frobenius",
        init=None,
        max_iter=200,
        tol=1e-4,
        sparsity=0.0,
        restarts=1,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.loss = loss
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.sparsity = sparsity
        self.restarts = restarts
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        check_int("n_components", self.n_components, 1, _native.MAX_RANK)
        check_choice("loss", self.loss, list(_LOSSES))
        check_choice("init", self.init, list(_INITS))
        check_int("max_iter", self.max_iter, 1, _MAX_ITER)
        check_int("restarts", self.restarts, 1, _MAX_RESTARTS)
        _finite("tol", self.tol, 0.0)
        _finite("sparsity", self.sparsity, 0.0)

    def fit(self, X, y=None):
        """Learns ``components_`` from ``X`` (n_samples × n_features, nonnegative)."""
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Learns ``components_`` and returns the fit's own activations of ``X`` (those the
        multiplicative updates reached, as scikit-learn's ``NMF.fit_transform``)."""
        X, Z = self._fit(X)
        return Z.astype(X.dtype, copy=False)

    def _fit(self, X):
        self._check_params()
        X = self._check_fit_data(X)
        components, Z, n_iter, objective = _native.nmf_fit(
            float32_c(X),
            self.n_components,
            _LOSSES[self.loss],
            _INITS[self.init],
            self.max_iter,
            float(self.tol),
            float(self.sparsity),
            self.restarts,
            seed_of(self.random_state),
            bool(self.verbose),
        )
        self._set_blob(_native.nmf_blob(components, self._channel_names()), X.dtype)
        self.n_iter_ = int(n_iter)
        # scikit-learn's reconstruction_err_: the Frobenius norm ‖X − WH‖, or the divergence.
        self.reconstruction_err_ = (
            float(np.sqrt(2 * objective)) if self.loss == "frobenius" else float(objective)
        )
        return X, Z

    def _activations(self, X32):
        return _native.nnls_transform(self._scaled(X32), self._dictionary)


class VAENMF(SynergyEstimator):
    """The paper's VAE-NMF: an encoder network gives each frame a Gamma posterior over
    ``n_components`` nonnegative activations, decoded by a nonnegative dictionary
    (``components_``). Trained with burn on the CPU.

    Parameters
    ----------
    n_components : int, default=4
        Synergies, 1 to 16 and below ``min(n_samples, n_features)``.
    hidden : (int, int), default=(400, 400)
        Widths of the encoder's two hidden layers (1 to 8192).
    epochs : int, default=100
    lr : float, default=1e-3
        Adam's learning rate.
    batch_size : int, default=128
    alpha0 : float, default=1.0
        Shape of the Gamma prior.
    sigma : float or None, default=None
        Standard deviation of the Gaussian likelihood; None estimates it from a quick NMF.
    likelihood : {"gaussian", "poisson"}, default="gaussian"
    gamma : float, default=1000.0
        Weight of the penalty on negative dictionary entries.
    nonneg : {"penalty", "project"}, default="penalty"
    weight_decay : float, default=5e-4
    validation : float, default=0.1
        Fraction of the frames held out for early stopping (0: none).
    patience : int, default=15
        Epochs without improvement before stopping.
    backend : {"flex", "ndarray"}, default="flex"
    random_state : int, RandomState or None, default=None
        Seed of the initialisation, the data order and the sampling: the same int and data
        give the same model on the same machine.
    verbose : int, default=0
        Print each epoch's losses.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    posterior_ : (alpha, beta) of the training frames, each n_samples × n_components — the
        Gamma posterior's shape and rate (its mean ``alpha / beta`` is ``transform``'s
        output; its variance ``alpha / beta**2``).
    history_ : list of dict, one per epoch (loss, reconstruction, kl, penalty, validation)
    sigma_, n_iter_ (epochs run), stopped_, n_features_in_, feature_names_in_

    ``transform`` is the encoder's posterior mean computed by the core — bit for bit what
    the firmware computes with this model's blob.
    """

    def __init__(
        self,
        n_components=4,
        *,
        hidden=(400, 400),
        epochs=100,
        lr=1e-3,
        batch_size=128,
        alpha0=1.0,
        sigma=None,
        likelihood="gaussian",
        boost=1,
        gamma=1000.0,
        nonneg="penalty",
        decoder_steps="adam",
        weight_decay=5e-4,
        validation=0.1,
        patience=15,
        backend="flex",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.alpha0 = alpha0
        self.sigma = sigma
        self.likelihood = likelihood
        self.boost = boost
        self.gamma = gamma
        self.nonneg = nonneg
        self.decoder_steps = decoder_steps
        self.weight_decay = weight_decay
        self.validation = validation
        self.patience = patience
        self.backend = backend
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        check_int("n_components", self.n_components, 1, _native.MAX_RANK)
        try:
            h1, h2 = self.hidden
        except (TypeError, ValueError):
            raise ValueError(f"hidden={self.hidden!r} is invalid: must be two layer widths") from None
        check_int("hidden[0]", h1, 1, _MAX_WIDTH)
        check_int("hidden[1]", h2, 1, _MAX_WIDTH)
        check_int("epochs", self.epochs, 1, _MAX_EPOCHS)
        check_int("batch_size", self.batch_size, 1, _MAX_BATCH)
        check_int("boost", self.boost, 1, 2**32 - 1)
        check_int("patience", self.patience, 0, _MAX_EPOCHS)
        _finite("lr", self.lr, 0.0, low_open=True)
        _finite("alpha0", self.alpha0, 0.0, low_open=True)
        if self.sigma is not None:
            _finite("sigma", self.sigma, 0.0, low_open=True)
        _finite("gamma", self.gamma, 0.0)
        _finite("weight_decay", self.weight_decay, 0.0)
        _finite("validation", self.validation, 0.0, 0.5)
        check_choice("likelihood", self.likelihood, ["gaussian", "poisson"])
        check_choice("nonneg", self.nonneg, ["penalty", "project"])
        check_choice("decoder_steps", self.decoder_steps, ["adam", "sign"])
        check_choice("backend", self.backend, ["flex", "ndarray"])
        return int(h1), int(h2)

    def fit(self, X, y=None):
        """Trains the encoder and the dictionary on ``X`` (n_samples × n_features,
        nonnegative)."""
        hidden = self._check_params()
        X = self._check_fit_data(X)
        X32 = float32_c(X)
        blob, details = _native.vae_fit(
            X32,
            self.n_components,
            hidden,
            float(self.alpha0),
            None if self.sigma is None else float(self.sigma),
            self.likelihood,
            int(self.boost),
            float(self.gamma),
            self.nonneg,
            self.decoder_steps,
            float(self.lr),
            float(self.weight_decay),
            int(self.batch_size),
            int(self.epochs),
            float(self.validation),
            int(self.patience),
            seed_of(self.random_state),
            self.backend,
            self._channel_names(),
            bool(self.verbose),
        )
        details = json.loads(details)
        self._set_blob(blob, X.dtype)
        self.history_ = details["history"]
        self.sigma_ = details["sigma"]
        self.n_iter_ = details["epochs_run"]
        self.stopped_ = details["stopped"]
        alpha, beta = _native.posterior(blob, X32)
        self.posterior_ = (alpha.astype(X.dtype, copy=False), beta.astype(X.dtype, copy=False))
        return self

    def fit_transform(self, X, y=None):
        """Trains on ``X`` and returns its posterior means (``transform(X)``, from the
        posterior ``fit`` already computed)."""
        self.fit(X)
        alpha, beta = self.posterior_
        # Back to the float32 the core computed in (exact), divided as ``transform`` does.
        mean = alpha.astype(np.float32) / beta.astype(np.float32)
        return mean.astype(alpha.dtype, copy=False)

    def _activations(self, X32):
        alpha, beta = _native.posterior(self._blob, X32)
        return alpha / beta

    def posterior(self, X):
        """The Gamma posterior ``(alpha, beta)`` of each frame of ``X``, n_samples ×
        n_components each: shape and rate (mean ``alpha / beta``, variance
        ``alpha / beta**2``)."""
        X = self._check_data(X)
        alpha, beta = _native.posterior(self._blob, float32_c(X))
        return alpha.astype(X.dtype, copy=False), beta.astype(X.dtype, copy=False)
