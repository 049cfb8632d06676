"""``Upscaler``: a reusable, picklable SRCNN transform with ``rescale``'s conventions."""

from __future__ import annotations

from ._device import resolve_device
from ._engine import PRECISIONS
from ._options import Options
from ._rescale import COLOR_MODES, explain_with, rescale_with
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
        Bundled model name, family (``'acquisition'``, ``'paper'``, ``'fast'``,
        ``'paper-fast'``) or
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
        #: Report of the adaptation that made this Upscaler (``None`` if none).
        self.adaptation = None

    def _bundled(self) -> bool:
        from .models.registry import FAMILIES, list_models

        spec = self._model_spec
        return spec is None or spec in FAMILIES or spec in list_models()

    def _load(self):
        """The loaded model: bundled ones by the rule ``rescale`` uses, files once."""
        from ._plan import plane_factor, plane_grid
        from .models.registry import get_model, resolve_model

        spec = resolve_model(self._model_spec, plane_factor(self.scale), plane_grid(self.scale))
        return get_model(spec)

    @property
    def model_name(self) -> str:
        """Bundled model name, weights file path, or ``'adapted:<model>'`` in use."""
        from .models.weights import LoadedWeights

        if isinstance(self._model_spec, LoadedWeights):
            return self._model_spec.source
        if self._bundled():
            from ._plan import plane_factor, plane_grid
            from .models.registry import resolve_model

            return resolve_model(self._model_spec, plane_factor(self.scale), plane_grid(self.scale))
        return str(self._model_spec)

    def __call__(self, image):
        """Upscale ``image`` (numpy or dask) like [rescale][srcnn_plugin.rescale]."""
        # Bundled models are chosen per call by rescale's own rule (from the
        # image's plane), so the Upscaler and rescale always agree.
        image_kw = {k: v for k, v in self.options.items() if k in _IMAGE_KEYWORDS}
        return rescale_with(image, self.scale, self._compute_options(), **image_kw)

    def explain(self, image) -> dict:
        """What calling this Upscaler on ``image`` would tell the network.

        See [explain][srcnn_plugin.explain]: the model chosen, each channel's
        range, fill and measured noise, without running the network.
        """
        keys = ("channel_axis", "color_mode")  # the record is in stored units either way
        image_kw = {k: v for k, v in self.options.items() if k in keys}
        return explain_with(image, self.scale, self._compute_options(), **image_kw)

    def _compute_options(self, **changes) -> Options:
        """The engine's ``Options`` of this Upscaler (its model, device, precision, ...)."""
        compute = {k: v for k, v in self.options.items() if k not in _IMAGE_KEYWORDS}
        return Options(
            model=self._model_spec if self._bundled() else self._loaded,
            device=self.device,
            precision=self.precision,
            **{**compute, **changes},
        )

    def adapt(
        self,
        images,
        *,
        psf_sigma=None,
        noise=None,
        degradation: str = "binning",
        seconds: float = 60.0,
        steps: int = 600,
        seed: int = 0,
        progress=False,
        **settings,
    ) -> Upscaler:
        """A new Upscaler whose model is fine-tuned on ``images`` (no ground truth needed).

        The images themselves, recorded once more the way they were acquired
        (``psf_sigma``, ``degradation``, their own noise), give training
        pairs for a short fine-tune of this Upscaler's model (internal
        learning, ZSSR-style; see the adaptation guide and
        [srcnn_plugin._adapt][srcnn_plugin._adapt]). ``self`` is unchanged.

        Parameters
        ----------
        images : array or sequence of arrays
            numpy or dask, with this Upscaler's ``channel_axis`` and
            ``color_mode``; stacks contribute up to 8 planes per channel.
        psf_sigma : float, optional
            Gaussian PSF sigma in output pixels, as for ``rescale``; ``None``:
            this Upscaler's ``psf_sigma``, else the model's default (pixel
            integration only for the acquisition models). The adapted model
            keeps it (``blur_default`` in its metadata).
        noise : 'auto' or float, optional
            The images' noise, as for ``rescale``; ``None``: this Upscaler's
            ``noise`` (``'auto'`` by default: measured). Shot noise
            (``'poisson'``, a ``PoissonGaussian``) is not adapted to: the
            training pairs are topped up with Gaussian noise.
        degradation : {'binning', 'bicubic', 'subsample'}
            How the images were sampled (``'binning'``: a camera).
        seconds : float
            Wall-time budget (60 s gives the documented gains on 2 CPU cores
            for images of up to 256 x 256 pixels).
        steps : int
            Most optimiser steps; a run that ends by steps (or by early
            stopping) is deterministic for a ``seed``.
        seed : int
            Seed of the patches and of the noise added to the training pairs.
        progress : bool or callable
            ``True`` shows a tqdm bar; a callable gets ``(step, steps)``.
        **settings
            Other [AdaptSettings][srcnn_plugin._adapt.AdaptSettings] fields
            (``lr``, ``batch``, ``patch``, ``holdout``, ``patience`` ...).

        Returns
        -------
        Upscaler
            With the adapted model (``model_name`` ``'adapted:<model>'``) and
            ``adaptation``, a report (steps, held-out PSNR before and after,
            ``adapted``). When adaptation does not improve the held-out part
            of the images, the model is the original one and an
            ``AdaptationWarning`` says so.

        Examples
        --------
        >>> import numpy as np
        >>> img = np.random.default_rng(0).random((48, 48)).astype(np.float32)
        >>> up = Upscaler(2, device="cpu").adapt(img, steps=2, every=1)
        >>> up.adaptation["steps"], up.model_name.startswith(("adapted:", "srcnn"))
        (2, True)
        """
        import copy

        from ._adapt import AdaptSettings, adapt_steps
        from ._job import drain

        if psf_sigma is None:
            psf_sigma = self.options.get("psf_sigma")
        if noise is None:
            noise = self.options.get("noise", "auto")
        adapt = AdaptSettings.from_value(
            dict(degradation=degradation, seconds=seconds, steps=steps, seed=seed, **settings)
        )
        options = self._compute_options(psf_sigma=psf_sigma, noise=noise)
        result = drain(
            adapt_steps(
                images,
                self.scale,
                options,
                adapt,
                channel_axis=self.options.get("channel_axis"),
                color_mode=self.options.get("color_mode", "channels"),
            ),
            progress,
        )
        new = copy.copy(self)
        new.options = dict(self.options)
        new.adaptation = result.report
        if result.report["adapted"]:
            # The adapted model records its PSF; a stated one would repeat it.
            new.options.pop("psf_sigma", None)
            new._model_spec = new._loaded = result.loaded
        elif psf_sigma is not None:
            new.options["psf_sigma"] = psf_sigma
        return new

    def save(self, path, *, overwrite: bool = False):
        """Write this Upscaler's model to a weights file (e.g. after ``adapt``).

        The file records the model's scales and metadata (an adapted model's
        report: degradation, PSF, settings, source image shapes; never the
        images). Reuse it with ``Upscaler.load(path)``, ``rescale(...,
        model=path)`` or ``srcnn-plugin upscale --model path``.

        Parameters
        ----------
        path : path
            Destination file (``.pt``).
        overwrite : bool
            Replace an existing file; without it an existing file is refused.

        Returns
        -------
        pathlib.Path
        """
        from .models.weights import save_loaded

        return save_loaded(self._loaded, path, overwrite=overwrite)

    @classmethod
    def load(cls, path, scale=None, **kwargs) -> Upscaler:
        """An Upscaler with the model of a weights file (``save``'s or ``train``'s).

        ``scale`` defaults to the factor the model was trained or adapted for;
        other keywords are the constructor's.

        Examples
        --------
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> path = Upscaler(3, device="cpu").save(os.path.join(d, "m.pt"))
        >>> Upscaler.load(path, device="cpu").scale
        3.0
        """
        from .models.registry import get_model

        loaded = get_model(str(path))
        if scale is None:
            if not loaded.scales:
                raise ValueError(f"{path} records no scale; pass scale=.")
            scale = loaded.scales[0]
        return cls(scale, model=str(path), **kwargs)

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
        self.__dict__.setdefault("adaptation", None)
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
