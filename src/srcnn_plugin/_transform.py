"""``Upscaler``: a reusable, picklable SRCNN transform with ``rescale``'s conventions."""

from __future__ import annotations

from ._device import resolve_device
from ._engine import PRECISIONS
from ._options import Options
from ._rescale import COLOR_MODES, rescale_with
from ._validation import check_scale

__all__ = ["Upscaler"]

# rescale keywords about the image; the others are ``Options`` (how to compute).
_IMAGE_KEYWORDS = ("channel_axis", "preserve_range", "color_mode", "progress")
_OWN = ("model", "device", "precision")  # Upscaler's own arguments


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
        Bundled model name, family (``'acquisition'``, ``'paper'``) or
        weights file; default: the default family's model for the factor of
        the super-resolved plane, exactly as ``rescale`` chooses.
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

    # Everything rescale takes besides the arguments above.
    _OPTIONS = (*_IMAGE_KEYWORDS, *(n for n in Options.names() if n not in _OWN))

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

    def _bundled(self) -> bool:
        from .models.registry import FAMILIES, list_models

        spec = self._model_spec
        return spec is None or spec in FAMILIES or spec in list_models()

    def _load(self):
        """The loaded model: bundled ones by the rule ``rescale`` uses, files once."""
        from ._rescale import plane_factor
        from .models.registry import get_model, resolve_model

        return get_model(resolve_model(self._model_spec, plane_factor(self.scale)))

    @property
    def model_name(self) -> str:
        """Bundled model name or weights file path in use."""
        if self._bundled():
            from ._rescale import plane_factor
            from .models.registry import resolve_model

            return resolve_model(self._model_spec, plane_factor(self.scale))
        return str(self._model_spec)

    def __call__(self, image):
        """Upscale ``image`` (numpy or dask) like [rescale][srcnn_plugin.rescale]."""
        # Bundled models are chosen per call by rescale's own rule (from the
        # image's plane), so the Upscaler and rescale always agree.
        image_kw = {k: v for k, v in self.options.items() if k in _IMAGE_KEYWORDS}
        compute = {k: v for k, v in self.options.items() if k not in _IMAGE_KEYWORDS}
        options = Options(
            model=self._model_spec if self._bundled() else self._loaded,
            device=self.device,
            precision=self.precision,
            **compute,
        )
        return rescale_with(image, self.scale, options, **image_kw)

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
        state = self.__dict__.copy()
        state["device"] = str(self.device)
        # Bundled models travel by name; a user's weights travel with the object,
        # so workers without the file still work.
        state["_loaded"] = None if self._bundled() else self._loaded
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
