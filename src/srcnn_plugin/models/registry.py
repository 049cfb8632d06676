"""Registry of the models bundled in the wheel.

``models/weights/registry.json`` lists each bundled weights file with its
SHA-256, architecture, trained scales and measured PSNR. Files are read
through ``importlib.resources`` so they work from an installed wheel, a zip
or an editable checkout, with no network access.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from importlib import resources

__all__ = [
    "list_models",
    "model_info",
    "default_model",
    "bundled_weights_path",
    "get_model",
    "pick_model_for_scale",
]

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _registry() -> dict:
    ref = resources.files("srcnn_plugin.models") / "weights" / "registry.json"
    return json.loads(ref.read_text(encoding="utf-8"))


def list_models() -> list[str]:
    """Names of the bundled models.

    Examples
    --------
    >>> "srcnn-9-5-5-x2" in list_models()
    True
    """
    return sorted(_registry()["models"])


def default_model() -> str:
    """Name of the model used when none is given."""
    return _registry()["default"]


def model_info(name: str) -> dict:
    """Registry entry (file, sha256, scales, architecture, metrics) of a bundled model.

    Raises
    ------
    ValueError
        For an unknown name, listing the bundled ones.
    """
    models = _registry()["models"]
    if name not in models:
        raise ValueError(
            f"Unknown model {name!r}; pass one of {list_models()} or the path of a "
            "weights file (.pt) written by srcnn-plugin train."
        )
    return dict(models[name])


def bundled_weights_path(name: str):
    """``importlib.resources`` Traversable of a bundled model's file."""
    return resources.files("srcnn_plugin.models") / "weights" / model_info(name)["file"]


@lru_cache(maxsize=16)
def _load_cached(key: str):
    from .weights import load_weights

    return load_weights(key)


def get_model(model=None):
    """Return [LoadedWeights][srcnn_plugin.models.weights.LoadedWeights] for ``model``.

    Parameters
    ----------
    model : None, str, path or LoadedWeights
        ``None`` for the default bundled model, a bundled name, the path of a
        weights file, or an already loaded model (returned as is).

    Notes
    -----
    Loaded models are cached (per name or absolute path) and shared; they are
    only used under ``torch.inference_mode`` and never modified.
    """
    from pathlib import Path

    from .weights import LoadedWeights

    if isinstance(model, LoadedWeights):
        return model
    if model is None:
        model = default_model()
    if not isinstance(model, (str, Path)):
        raise TypeError(
            f"model must be None, a bundled model name, or a weights file path; got "
            f"{type(model).__name__}."
        )
    key = str(model)
    if key not in list_models() and (Path(key).suffix or Path(key).exists()):
        key = str(Path(key).resolve())
    with _LOCK:
        return _load_cached(key)


def pick_model_for_scale(scale: float) -> str:
    """Name of the bundled model to use at factor ``scale``.

    The model trained for the largest factor not above ``scale`` is chosen
    (it sharpens less than one trained for a larger factor would, so it never
    over-sharpens); below every trained factor, the smallest one.

    Examples
    --------
    >>> pick_model_for_scale(3) in list_models()
    True
    """
    entries = [(float(s), name) for name in list_models() for s in model_info(name)["scales"]]
    below = [e for e in entries if e[0] <= scale + 1e-9]
    if below:
        return max(below, key=lambda e: (e[0], e[1] == default_model()))[1]
    return min(entries, key=lambda e: (e[0], e[1] != default_model()))[1]
