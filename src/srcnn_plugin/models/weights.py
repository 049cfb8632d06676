"""Weights files: a metadata-rich, code-free format with a checksum.

A weights file is a ``torch.save`` of a plain dict (tensors, strings, numbers,
lists) and is only ever read with ``torch.load(weights_only=True)``, so
opening a file never executes code from it. Keys:

``format``            ``"srcnn-plugin/weights"``
``format_version``    ``1``
``config``            the [SRCNNConfig][srcnn_plugin.models.srcnn.SRCNNConfig] as a dict
``scales``            the upscaling factors the model was trained for
``normalization``     the intensity convention of inputs and outputs
``code_version``      ``srcnn_plugin.__version__`` that wrote it
``metadata``          free-form: training data, command, metrics
``state_dict``        the tensors

Bundled files are additionally checked against the SHA-256 recorded in the
registry, so a truncated or tampered file is refused with its name.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "LoadedWeights",
    "save_weights",
    "save_loaded",
    "load_weights",
    "sha256_of",
    "WeightsError",
]

FORMAT = "srcnn-plugin/weights"
FORMAT_VERSION = 1
NORMALIZATION = (
    "single-channel luminance in [0, 1] (8-bit Y / 255); the model refines a bicubic "
    "upsampling and predicts the residual when config.residual is true"
)


class WeightsError(ValueError):
    """A weights file is missing, unreadable, corrupt or of the wrong kind."""


@dataclass
class LoadedWeights:
    """A model loaded from a weights file, with its metadata."""

    model: object
    config: object
    scales: tuple[float, ...]
    metadata: dict = field(default_factory=dict)
    source: str = ""
    sha256: str = ""


def sha256_of(data_or_path) -> str:
    """SHA-256 hex digest of bytes or of a file's contents.

    Examples
    --------
    >>> sha256_of(b"")[:12]
    'e3b0c44298fc'
    """
    if isinstance(data_or_path, (bytes, bytearray)):
        return hashlib.sha256(data_or_path).hexdigest()
    return hashlib.sha256(Path(data_or_path).read_bytes()).hexdigest()


def save_weights(model, path, *, scales, metadata: dict | None = None) -> str:
    """Write ``model`` to ``path`` atomically and return the file's SHA-256.

    Parameters
    ----------
    model : SRCNN
        The network (moved to CPU for saving).
    path : path
        Destination; written to a temporary file first, then renamed.
    scales : sequence of float
        Factors the model was trained for.
    metadata : dict, optional
        Training data, command, metrics, ...

    Returns
    -------
    str
        SHA-256 of the written file.
    """
    import torch

    from .. import __version__

    path = Path(path)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "scales": [float(s) for s in scales],
        "normalization": NORMALIZATION,
        "code_version": __version__,
        "metadata": metadata or {},
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return sha256_of(path)


def save_loaded(loaded: LoadedWeights, path, *, overwrite: bool = False) -> Path:
    """Write a loaded (e.g. adapted) model with its scales and metadata to ``path``.

    An existing file is refused unless ``overwrite``; a folder always is.

    Raises
    ------
    FileExistsError, IsADirectoryError
        Saying what to pass instead.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; pass a file path such as model.pt.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it, or another path.")
    metadata = dict(loaded.metadata)
    metadata.setdefault("saved_from", loaded.source)
    save_weights(loaded.model, path, scales=loaded.scales, metadata=metadata)
    return path


def _read_bytes(source) -> tuple[bytes, str]:
    if hasattr(source, "read_bytes") and not isinstance(source, (str, os.PathLike)):
        # importlib.resources Traversable
        return source.read_bytes(), str(source)
    p = Path(source)
    if not p.is_file():
        raise FileNotFoundError(
            f"Weights file not found: {p}. Pass the path of a file written by "
            "srcnn-plugin train (model.pt), or a bundled model name from "
            "srcnn_plugin.list_models()."
        )
    return p.read_bytes(), str(p)


def load_weights(
    source, *, expected_sha256: str | None = None, map_location="cpu"
) -> LoadedWeights:
    """Load a weights file safely (``weights_only=True``) into an SRCNN.

    Parameters
    ----------
    source : path, importlib Traversable, or bundled model name
        The file, or a name from [list_models][srcnn_plugin.models.registry.list_models].
    expected_sha256 : str, optional
        Refuse the file unless its SHA-256 matches (bundled models always check).
    map_location : str or torch.device
        Where the tensors are loaded.

    Returns
    -------
    LoadedWeights
        The model in eval mode plus its config, scales and metadata.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    WeightsError
        The file is truncated, corrupt, tampered with, or not a weights file.
    """
    import io

    import torch

    from ._bundled import bundled_weights_path, list_models, model_info
    from .srcnn import SRCNN, SRCNNConfig

    if isinstance(source, str) and (
        source in list_models() or (not Path(source).suffix and not Path(source).exists())
    ):
        info = model_info(source)
        expected_sha256 = info["sha256"]
        source = bundled_weights_path(source)
    data, name = _read_bytes(source)
    digest = sha256_of(data)
    if expected_sha256 is not None and digest != expected_sha256:
        raise WeightsError(
            f"Weights file {name} failed its checksum (SHA-256 {digest[:12]}..., expected "
            f"{expected_sha256[:12]}...): it is truncated, corrupt or was modified. "
            "Reinstall srcnn-plugin to restore the bundled weights."
        )
    try:
        payload = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for bad archives
        raise WeightsError(
            f"Cannot read weights file {name}: it is truncated, corrupt or not a "
            f"srcnn-plugin weights file ({type(exc).__name__}: {str(exc)[:200]})."
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise WeightsError(
            f"{name} is not a srcnn-plugin weights file (no format marker {FORMAT!r}); "
            "pass a model.pt written by srcnn-plugin train or save_weights()."
        )
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise WeightsError(
            f"{name} uses weights format {payload['format_version']}, newer than this "
            f"srcnn-plugin supports ({FORMAT_VERSION}); upgrade srcnn-plugin."
        )
    try:
        config = SRCNNConfig(**payload["config"])
        model = SRCNN(config)
        model.load_state_dict(payload["state_dict"], strict=True)
    except (TypeError, KeyError, RuntimeError, ValueError) as exc:
        raise WeightsError(
            f"Weights file {name} does not match the SRCNN architecture it declares: {exc}"
        ) from exc
    model.eval()
    return LoadedWeights(
        model=model,
        config=config,
        scales=tuple(float(s) for s in payload.get("scales", ())),
        metadata=dict(payload.get("metadata", {})),
        source=name,
        sha256=digest,
    )
