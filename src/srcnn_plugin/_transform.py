"""``Upscaler``: a reusable, picklable SRCNN transform with ``rescale``'s conventions."""

from __future__ import annotations

from ._device import resolve_device
from ._engine import PRECISIONS
from ._rescale import COLOR_MODES, rescale
from ._validation import check_scale

__all__ = ["Upscaler"]


class Upscaler:
    """Callable super-resolution transform, built once and applied to many arrays.

    It holds its loaded model, so repeated calls do not reload weights; it
    pickles (to dask workers or ``multiprocessing``) by model name, or with
    the weights themselves when they came from a file; ``to`` moves it to
    another device.

    Parameters
    ----------
    scale : float or sequence of float
        As in [rescale][srcnn_plugin.rescale].
    model : str or path, optional
        Bundled model name or weights file; default: the bundled model for
        the factor.
    device : {None, 'cpu', 'cuda', 'mps'}
        ``None`` picks the best available device.
    precision : {'float32', 'bfloat16', 'float16'}
        Arithmetic of the convolutions.
    **options
        Other [rescale][srcnn_plugin.rescale] keywords (``channel_axis``,
        ``preserve_range``, ``clip``, ``tile_size``, ``color_mode`` ...).

    Examples
    --------
    >>> import numpy as np, pickle
    >>> up = Upscaler(2, device="cpu")
    >>> up(np.zeros((8, 8), np.float32)).shape
    (16, 16)
    >>> pickle.loads(pickle.dumps(up)).scale
    2.0
    """

    _OPTIONS = (
        "channel_axis",
        "preserve_range",
        "clip",
        "tile_size",
        "memory_budget",
        "color_mode",
        "progress",
        "symmetric",
    )

    def __init__(self, scale, *, model=None, device=None, precision="float32", **options):
        unknown = set(options) - set(self._OPTIONS)
        if unknown:
            raise TypeError(
                f"Unknown option(s) {sorted(unknown)}; Upscaler accepts {list(self._OPTIONS)}."
            )
        if np_isscalar(scale):
            check_scale(scale, 1)
            self.scale = float(scale)
        else:
            self.scale = tuple(float(s) for s in scale)
            check_scale(self.scale, len(self.scale))
        if precision not in PRECISIONS:
            raise ValueError(f"Unknown precision {precision!r}; pass one of {PRECISIONS}.")
        if options.get("color_mode", "channels") not in COLOR_MODES:
            raise ValueError(f"Unknown color_mode; pass one of {COLOR_MODES}.")
        self.precision = precision
        self.options = options
        self.device = resolve_device(device)
        self._model_spec = model
        self._loaded = self._load()

    def _load(self):
        from ._rescale import pick_model_for_scale_spec
        from .models.registry import get_model

        return get_model(pick_model_for_scale_spec(self._model_spec, self.scale))

    @property
    def model_name(self) -> str:
        """Bundled model name or weights file path in use."""
        from .models.registry import list_models

        spec = self._model_spec
        if spec is None or spec in list_models():
            from ._rescale import pick_model_for_scale_spec

            return pick_model_for_scale_spec(spec, self.scale)
        return str(spec)

    def __call__(self, image):
        """Upscale ``image`` (numpy or dask) like [rescale][srcnn_plugin.rescale]."""
        return rescale(
            image,
            self.scale,
            model=self._loaded,
            device=self.device,
            precision=self.precision,
            **self.options,
        )

    def to(self, device) -> Upscaler:
        """Move to another device (in place) and return ``self``."""
        self.device = resolve_device(device)
        return self

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return (
            f"Upscaler(scale={self.scale!r}, model={self.model_name!r}, "
            f"device={str(self.device)!r}, precision={self.precision!r}{opts})"
        )

    def __getstate__(self):
        from .models.registry import list_models

        state = self.__dict__.copy()
        state["device"] = str(self.device)
        bundled = self._model_spec is None or self._model_spec in list_models()
        # Bundled models travel by name; a user's weights travel with the object,
        # so workers without the file still work.
        state["_loaded"] = None if bundled else self._loaded
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        try:
            self.device = resolve_device(state["device"])
        except ValueError:
            self.device = resolve_device("cpu")
        if self._loaded is None:
            self._loaded = self._load()


def np_isscalar(x) -> bool:
    """True for a real number (not a sequence)."""
    import numbers

    return isinstance(x, numbers.Real) and not isinstance(x, bool)
