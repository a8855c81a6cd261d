"""Array and parameter checks shared by the estimators and helpers."""

import numbers

import numpy as np
from sklearn.utils import check_random_state

#: Largest seed the Rust side takes (u64); scikit-learn's own draws stay below 2**31.
_SEED_LIMIT = 2**64


def float32_c(X):
    """X as a C-ordered float32 array (the native module's input)."""
    return np.ascontiguousarray(X, dtype=np.float32)


def seed_of(random_state):
    """A u64 seed from scikit-learn's ``random_state`` conventions: an int is the seed
    itself (as ``vaenmf train --seed`` takes it), ``None`` or a ``RandomState`` draw one."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if not 0 <= int(random_state) < _SEED_LIMIT:
            raise ValueError(
                f"random_state={random_state}: an int seed must be between 0 and {_SEED_LIMIT - 1}"
            )
        return int(random_state)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def check_int(name, value, low, high):
    """``value`` is an int in ``low ..= high``, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name}={value!r} is invalid: must be an int between {low} and {high}")
    return int(value)


def check_choice(name, value, choices):
    """``value`` is one of ``choices``, else a ValueError naming ``name``."""
    if value not in choices:
        raise ValueError(f"{name}={value!r} is invalid: must be one of {', '.join(map(repr, choices))}")
    return value


def check_rank(n_components, n_samples, n_features):
    """The trainer's rule: 1 <= n_components < min(n_samples, n_features)."""
    limit = min(n_samples, n_features)
    if not n_components < limit:
        raise ValueError(
            f"n_components={n_components} must be smaller than min(n_samples={n_samples}, "
            f"n_features={n_features}) = {limit}"
        )
