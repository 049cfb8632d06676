"""The engine's options: one object every face builds once and passes down.

``rescale``'s keywords that do not describe the image (its channel axis,
range and colour) but how to compute: which model, where, at what
precision, in what tiles, and the noise the model is told. Faces
(``Upscaler``, the CLI, the OpenCV face, the napari widget) build an
[Options][srcnn_plugin._options.Options] from their own inputs and hand it to
the engine unchanged, so a new option reaches every face by being added here
(the CLI and the napari widget still need a control for it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

__all__ = ["Options", "ENSEMBLES"]

#: Allowed self-ensembles: 1 pass, 2 (point-symmetric), 8 (all rotations and mirrors).
ENSEMBLES = (1, 2, 8)


@dataclass(frozen=True)
class Options:
    """How ``rescale`` computes (see [rescale][srcnn_plugin.rescale] for each field).

    Examples
    --------
    >>> Options(tile_size=128).kwargs()["tile_size"]
    128
    >>> Options.from_kwargs({"clip": False, "colour": 1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: Unknown option(s) ['colour']; pass any of ['model', 'device', ...].
    >>> Options(symmetric=False).passes, Options(ensemble=8).passes
    (1, 8)
    """

    model: object = None
    device: object = None
    precision: str = "float32"
    tile_size: int | None = None
    memory_budget: int | None = None
    clip: bool = True
    symmetric: bool = True
    ensemble: int | None = None
    noise: object = "auto"
    psf_sigma: float | None = None
    adapt: object = None

    @classmethod
    def names(cls) -> list[str]:
        """The option names, in order."""
        return [f.name for f in fields(cls)]

    @classmethod
    def from_kwargs(cls, kwargs: dict) -> Options:
        """Options from keyword arguments; unknown names raise ``TypeError``."""
        unknown = sorted(set(kwargs) - set(cls.names()))
        if unknown:
            names = ", ".join(repr(n) for n in cls.names())
            raise TypeError(f"Unknown option(s) {unknown}; pass any of [{names}].")
        return cls(**kwargs)

    def kwargs(self) -> dict:
        """The options as ``rescale`` keywords."""
        return {name: getattr(self, name) for name in self.names()}

    @property
    def passes(self) -> int:
        """Network passes per tile: ``ensemble``, or 2 (``symmetric``) or 1."""
        if self.ensemble is None:
            return 2 if self.symmetric else 1
        if self.ensemble not in ENSEMBLES or isinstance(self.ensemble, bool):
            raise ValueError(
                f"ensemble must be one of {ENSEMBLES} (network passes), got {self.ensemble!r}."
            )
        return int(self.ensemble)

    def replace(self, **changes) -> Options:
        """A copy with some options changed."""
        return replace(self, **changes)
