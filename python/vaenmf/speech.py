"""Speech enhancement with the project's enhancers, and the measures of
``vaenmf speech metrics``."""

import json

import numpy as np

from . import _native
from .models import Model


class Enhancer(Model):
    """A speech enhancer file (``vaenmf speech train`` or ``speech table --save-models``),
    as :func:`vaenmf.load` returns it."""

    @property
    def kind(self):
        return "speech-enhancer"

    @property
    def rate(self):
        """The sample rate the enhancer works at, Hz."""
        return _native.enhancer_rate(self._blob)

    def enhance(self, samples, rate, **options):
        """:func:`enhance` with this enhancer."""
        return enhance(self, samples, rate, **options)


def _mono(name, samples):
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError(f"{name} has shape {x.shape}: a mono recording (1-D array) is needed")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{name} has dtype {x.dtype}: samples must be numbers")
    x = np.ascontiguousarray(x, dtype=np.float32)
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(f"{name}: sample {bad[0]} is {x[bad[0]]} (samples must be finite)")
    return x


def _rate(rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or not 1 <= rate <= 384_000:
        raise ValueError(f"rate={rate!r} is invalid: must be an int sample rate between 1 and 384000 Hz")
    return int(rate)


def enhance(model, samples, rate, mode="default", updates_per_frame=50, gain_floor_db=None, resample=False):
    """The speech estimate of the mono recording ``samples`` (1-D, at ``rate`` Hz), as long
    as it, by a speech enhancer (a path or what :func:`vaenmf.load` returned).

    ``mode``: ``"default"`` (network methods streamed through the core's streaming enhancer,
    the multiplicative-update methods on the whole utterance), ``"stream"`` or ``"offline"``
    — as ``vaenmf speech enhance``. ``updates_per_frame`` (1 to 1000) when streaming a
    multiplicative-update method; ``gain_floor_db`` (−120 to 0) overrides the enhancer's
    gain floor. A rate other than the enhancer's is an error unless ``resample=True``.
    Returns float32."""
    if not isinstance(model, Enhancer):
        from .models import load

        loaded = load(model) if not isinstance(model, Model) else model
        if not isinstance(loaded, Enhancer):
            raise TypeError(f"{getattr(loaded, 'name', model)}: not a speech enhancer")
        model = loaded
    floor = None if gain_floor_db is None else float(gain_floor_db)
    return _native.enhance(
        model._blob,
        _mono("samples", samples),
        _rate(rate),
        str(mode),
        int(updates_per_frame),
        floor,
        bool(resample),
    )


def metrics(clean, noise, estimate, rate, permutation=False):
    """Every measure of the speech ``estimate`` against the ``clean`` speech and the
    ``noise`` added to it (1-D, same length, at ``rate`` Hz), as ``vaenmf speech metrics
    --report`` writes them: ``sdr``, ``sir``, ``sar`` (BSS-eval v3, dB), ``pesq_nb_raw``,
    ``pesq_nb_mos_lqo``, ``pesq_wb`` (None at 8 kHz), ``stoi``, ``estoi``, ``permuted``,
    ``bss_eval_assignment``, ``definitions``. ``permutation=True`` scores as mir_eval's
    default (estimates [estimate, mixture − estimate], best permutation)."""
    report = _native.metrics(
        _mono("clean", clean),
        _mono("noise", noise),
        _mono("estimate", estimate),
        _rate(rate),
        bool(permutation),
    )
    return json.loads(report)
