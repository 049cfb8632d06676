"""Which model serves a request, and loading it (cached).

The bundled models' index (names, families, files, checksums, metrics) is
``models/_bundled.py``, re-exported here; this module holds the model-choice
rule ([resolve_model][srcnn_plugin.models.registry.resolve_model]) and the
cache of loaded models ([get_model][srcnn_plugin.models.registry.get_model]).
"""

from __future__ import annotations

import threading
from functools import lru_cache

from ._bundled import (
    FAMILIES,
    ONE_AXIS_FAMILIES,
    bundled_weights_path,
    default_family,
    default_model,
    list_models,
    model_info,
)

__all__ = [
    "list_models",
    "model_info",
    "default_model",
    "bundled_weights_path",
    "get_model",
    "pick_model_for_scale",
    "FAMILIES",
    "ONE_AXIS_FAMILIES",
    "default_family",
    "resolve_model",
    "blur_default",
    "noise_gain",
    "trained_factor",
    "is_one_axis",
]

_LOCK = threading.Lock()


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
        weights file, or an already loaded model (returned as is, as is a
        model object with its own ``engine``, such as a
        [SparseDictionary][srcnn_plugin.baselines.SparseDictionary]).

    Notes
    -----
    Loaded models are cached (per name or absolute path) and shared; they are
    only used under ``torch.inference_mode`` and never modified.
    """
    from pathlib import Path

    from .weights import LoadedWeights

    if isinstance(model, LoadedWeights) or hasattr(model, "engine"):
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


def pick_model_for_scale(scale: float, family: str | None = None, grid: int | None = None) -> str:
    """Name of the bundled model to use at factor ``scale``: the one model-choice rule.

    The trained factor is the largest one not above ``scale`` (a model
    trained for a larger factor would over-sharpen); below every trained
    factor, the smallest one. Among the models trained for that factor, the
    ``family``'s is chosen, by default the
    [default family][srcnn_plugin.models.registry.default_family]'s, and the
    paper's where that family has none. Naming a ``family`` explicitly
    restricts the choice to it; one-axis families (``ONE_AXIS_FAMILIES``,
    the Z models of ``isotropic``) serve only requests that name them.
    A model on the low-resolution grid (its entry's ``stride``, see
    [SRCNNConfig][srcnn_plugin.models.srcnn.SRCNNConfig]) serves only a
    plane whose two axes both grow by exactly its factor (``grid``), and
    there it is chosen before its family's model on the output grid.

    Parameters
    ----------
    scale : float
        The factor of the super-resolved plane (the larger of its two axes').
    family : {None, 'paper', 'acquisition', 'fast', 'paper-fast', 'axial'}
        Restrict to one family (see ``FAMILIES``).
    grid : int, optional
        The integer factor by which both axes of the plane grow exactly
        (``None`` where they do not: a fractional or anisotropic factor).

    Examples
    --------
    >>> pick_model_for_scale(3, "paper")
    'srcnn-9-5-5-x3'
    >>> pick_model_for_scale(2.5, "paper")
    'srcnn-9-5-5-x2'
    >>> pick_model_for_scale(5), pick_model_for_scale(5, "axial")
    ('srcnn-acq-9-5-5-x4', 'srcnn-axial-9-5-5-x5')
    """
    if family is not None and family not in FAMILIES:
        raise ValueError(f"Unknown model family {family!r}; pass one of {FAMILIES}.")
    entries = [
        (float(s), name, model_info(name).get("family", "paper"), model_info(name).get("stride", 1))
        for name in list_models()
        for s in model_info(name)["scales"]
    ]
    entries = [e for e in entries if e[3] == 1 or e[3] == grid]
    if family is None:
        entries = [e for e in entries if e[2] not in ONE_AXIS_FAMILIES]
    else:
        entries = [e for e in entries if e[2] == family]
        if not entries:
            raise ValueError(f"No bundled model of family {family!r}; pass one of {FAMILIES}.")
    factor = trained_factor(scale, [e[0] for e in entries])
    preferred = family or default_family()
    at = [e for e in entries if e[0] == factor]
    return min(at, key=lambda e: (e[2] != preferred, e[2] != "paper", e[3] == 1, e[1]))[1]


def trained_factor(scale: float, factors) -> float:
    """The trained factor that serves ``scale``: the largest not above it, else the smallest.

    A method trained for a larger factor would over-sharpen; below every
    trained factor the smallest is the closest. Used for models and for the
    sparse-coding dictionaries alike.

    Examples
    --------
    >>> trained_factor(2.5, [2, 3, 4]), trained_factor(8, [2, 3, 4]), trained_factor(1.5, [2, 3])
    (2.0, 4.0, 2.0)
    """
    factors = [float(f) for f in factors]
    below = [f for f in factors if f <= scale + 1e-9]
    return max(below) if below else min(factors)


def resolve_model(model, factor: float, grid: int | None = None):
    """What ``model=`` means at a plane factor: a family or nothing picks a bundled model.

    ``None`` or a family name (``FAMILIES``) gives
    [pick_model_for_scale][srcnn_plugin.models.registry.pick_model_for_scale]
    at ``factor`` (and ``grid``, the exact integer factor of both plane
    axes, if any); a model name, weights path or loaded model is returned as
    is. Every face goes through this one rule, so all choose the same model.

    Examples
    --------
    >>> resolve_model("paper", 3)
    'srcnn-9-5-5-x3'
    >>> resolve_model("srcnn-9-5-5-x2", 4)
    'srcnn-9-5-5-x2'
    """
    if model is None or (isinstance(model, str) and model in FAMILIES):
        return pick_model_for_scale(factor, model, grid)
    return model


def blur_default(model) -> float:
    """PSF (input pixels) a blur-aware model is told when the user states none.

    A bundled model's ``blur_default`` (chosen on validation data, see the
    model card), by name or loaded; for another weights file or loaded model,
    the ``blur_default`` its metadata records (adapted models record the PSF
    they were adapted to), else 0 (pixel integration only).

    Examples
    --------
    >>> blur_default("srcnn-acq-9-5-5-x2")
    0.0
    """
    return _setting(model, "blur_default", 0.0)


def _setting(model, key: str, default: float) -> float:
    """A bundled model's registry setting (named or loaded), else its metadata's, else default."""
    info = _bundled_info(model)
    source = info if info is not None else get_model(model).metadata
    return float(source.get(key, default))


def _bundled_info(model) -> dict | None:
    """The registry entry of a bundled model, named or loaded; ``None`` for other models.

    A loaded model is bundled when its weights' checksum is a bundled file's
    (what ``Upscaler`` and ``get_model(name)`` hold): registry settings such
    as ``blur_default`` and ``noise_gain`` live in the registry, not in the
    weights file.
    """
    if isinstance(model, str) and model in list_models():
        return model_info(model)
    sha = getattr(get_model(model), "sha256", "")
    if sha:
        for name in list_models():
            info = model_info(name)
            if info.get("sha256") == sha:
                return info
    return None


def noise_gain(model) -> float:
    """Factor on the noise level a noise-aware model is told (measured or stated).

    The acquisition models were trained told the level
    [estimate_noise][srcnn_plugin.degradations.estimate_noise] measures on
    photographs, where texture inflates it; told the true level of a
    microscopy image they remove too little noise. A bundled model's
    ``noise_gain`` (chosen on validation data, see the model card) corrects
    this, by name or as a loaded model; other weights files (trained, or
    adapted: adaptation fine-tunes told the measured level) use their
    metadata's, else 1.

    Examples
    --------
    >>> noise_gain("srcnn-acq-9-5-5-x3")
    1.5
    >>> noise_gain("srcnn-9-5-5-x2")
    1.0
    """
    return _setting(model, "noise_gain", 1.0)


def is_one_axis(model) -> bool:
    """Whether ``model`` super-resolves one axis (the rows) only, as Z in ``isotropic``.

    Bundled models of a one-axis family (``ONE_AXIS_FAMILIES``); a weights
    file or loaded model whose metadata says so (``one_axis``: files trained
    on a one-axis degradation, and models adapted from one-axis ones).

    Examples
    --------
    >>> is_one_axis("srcnn-axial-9-5-5-x4"), is_one_axis("srcnn-acq-9-5-5-x4")
    (True, False)
    """
    if isinstance(model, str) and model in list_models():
        return model_info(model).get("family") in ONE_AXIS_FAMILIES
    loaded = get_model(model)
    meta = getattr(loaded, "metadata", None) or {}
    if "one_axis" in meta:
        return bool(meta["one_axis"])
    from ..degradations import as_mixture

    spec = meta.get("training", {}).get("config", {}).get("degradation")
    return bool(spec) and as_mixture(spec).one_axis
