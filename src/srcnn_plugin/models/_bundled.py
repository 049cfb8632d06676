"""The bundled models' index (``models/weights/registry.json``), read without torch.

Names, families, files, checksums and metrics of the bundled models, read
through ``importlib.resources`` so they work from an installed wheel, a zip or
an editable checkout, with no network access. Both ``models.weights`` (to
load a model by name) and ``models.registry`` (to choose one) read it here,
so neither imports the other's module at import time.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

__all__ = [
    "FAMILIES",
    "ONE_AXIS_FAMILIES",
    "list_models",
    "model_info",
    "default_model",
    "default_family",
    "bundled_weights_path",
]

#: Model families: ``model=`` accepts these names to choose within one family.
FAMILIES = ("paper", "acquisition", "fast", "paper-fast", "axial")

#: Families of one-axis models (they super-resolve the rows of a plane only, as
#: Z in ``isotropic``); a request that names no family never gets one.
ONE_AXIS_FAMILIES = ("axial",)


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


def default_family() -> str:
    """Family whose model serves a factor when no model is named (see ``pick_model_for_scale``)."""
    return _registry().get("default_family", "paper")


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
