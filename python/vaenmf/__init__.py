"""vaenmf: muscle synergies and speech enhancement with VAE-NMF.

scikit-learn estimators (:class:`NMF`, :class:`VAENMF`) and helpers over the project's Rust
code: a model fitted here is the same blob the ``vaenmf`` command and the firmware read.
"""

from . import speech
from ._native import __version__
from .decomposition import NMF, VAENMF
from .models import Model, load, quantize
from .signal import envelope, vaf

__all__ = [
    "NMF",
    "VAENMF",
    "Model",
    "envelope",
    "load",
    "quantize",
    "speech",
    "vaf",
    "__version__",
]
