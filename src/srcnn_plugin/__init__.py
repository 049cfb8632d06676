"""srcnn_plugin: SRCNN super-resolution for scientific images.

Importing the package is cheap: torch, napari and Qt are imported only by the
functions that need them.
"""

from ._adapt import AdaptationWarning, AdaptSettings
from ._isotropic import isotropic
from ._rescale import explain, rescale
from ._transform import Upscaler
from .models.registry import list_models, model_info

__version__ = "0.1.0"

__all__ = [
    "rescale",
    "explain",
    "Upscaler",
    "isotropic",
    "AdaptSettings",
    "AdaptationWarning",
    "list_models",
    "model_info",
    "load_weights",
    "__version__",
]


def __getattr__(name):
    # Names whose modules import torch at the top are resolved on first use.
    if name == "load_weights":
        from .models.weights import load_weights

        return load_weights
    raise AttributeError(f"module 'srcnn_plugin' has no attribute {name!r}")
