"""OpenCV-style interface, shaped like ``cv2.dnn_superres.DnnSuperResImpl``.

Code written for OpenCV's module works by changing the import and the model
name::

    from srcnn_plugin.opencv import DnnSuperResImpl   # was: cv2.dnn_superres
    sr = DnnSuperResImpl.create()
    sr.readModel("my_srcnn.pt")      # optional: bundled weights otherwise
    sr.setModel("srcnn", 3)
    result = sr.upsample(img)        # HWC, BGR, dtype kept

OpenCV conventions are kept (HWC layout, BGR(A) channel order, output dtype =
input dtype with saturation for integers) and extended: 16-bit, float32 and
4-channel images are accepted (OpenCV's module refuses them); an alpha
channel is resampled, not super-resolved; 3-channel images take the Y path
(SRCNN on luminance, bicubic chroma) like OpenCV's module. When cv2 is
installed, its DNN constants are used and every error raised here is also a
``cv2.error`` (so OpenCV code's ``except cv2.error`` works).

Low-resolution images made by OpenCV's usual shrink
(``cv2.resize(..., INTER_LINEAR)`` or ``INTER_NEAREST``, no anti-aliasing)
alias fine detail; the paper's models (``model='paper'``) were trained on
anti-aliased bicubic shrinks and do poorly on them (Set5 x3 about 26 dB,
below bicubic). The default models were trained on camera-like
acquisitions; see ``srcnn_plugin.degradations.subsample`` to make such test
images and ``srcnn-plugin evaluate --degradation subsample`` to score them.
"""

from __future__ import annotations

import numpy as np

from ._color import auto_color_mode
from ._dtype import restore_dtype
from ._options import Options
from ._rescale import explain_with, rescale_with

__all__ = [
    "DnnSuperResImpl",
    "DnnSuperResImpl_create",
    "resize",
    "ALGORITHMS",
    "SuperResError",
    "SuperResTypeError",
    "SuperResStateError",
]

#: ``setModel`` algorithms and the model family each runs (``None``: the default
#: rule, as ``rescale`` chooses); ``"srcnn-fast"`` is the 9-1-5 network.
_FAMILY_OF = {"srcnn": None, "srcnn-fast": "fast"}
ALGORITHMS = tuple(_FAMILY_OF)

# cv2.dnn constants (same values as OpenCV's), used when cv2 is absent.
_BACKEND_DEFAULT, _BACKEND_OPENCV, _BACKEND_CUDA = 0, 3, 5
_TARGET_CPU, _TARGET_OPENCL, _TARGET_OPENCL_FP16, _TARGET_CUDA, _TARGET_CUDA_FP16 = 0, 1, 2, 6, 7


def _cv2_error() -> tuple:
    import importlib.util

    if importlib.util.find_spec("cv2") is None:
        return ()
    import cv2

    return (cv2.error,)


class SuperResError(ValueError, *_cv2_error()):
    """A refused value: a ``ValueError``, and a ``cv2.error`` when cv2 is installed."""


class SuperResTypeError(TypeError, *_cv2_error()):
    """A refused image type: a ``TypeError`` (and a ``cv2.error``)."""


class SuperResStateError(RuntimeError, *_cv2_error()):
    """A call out of order: a ``RuntimeError`` (and a ``cv2.error``)."""


def _cv2_constants():
    try:
        import cv2  # noqa: F401
    except ImportError:
        return None
    return cv2.dnn


def _check_image(img) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype.kind not in "uif" or img.dtype == np.bool_:
        raise SuperResTypeError(
            f"upsample() needs an 8/16-bit integer or float image, got dtype {img.dtype}."
        )
    if img.size == 0:
        raise SuperResError(f"The image is empty (shape {img.shape}); pass a non-empty image.")
    if img.ndim == 3 and img.shape[2] == 1:
        return img
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise SuperResError(
            f"upsample() takes an HxW grey image or an HxWxC image with 1, 3 (BGR) or 4 (BGRA) "
            f"channels, got shape {img.shape}; split other channel counts and upsample each."
        )
    return img


def _upsample_bgr(img, scale, options: Options) -> np.ndarray:
    img = _check_image(img)
    n_ch = 1 if img.ndim == 2 else img.shape[2]
    color = auto_color_mode(n_ch, rgb=True)  # OpenCV images with 3 or 4 channels are BGR(A)
    if color == "ycbcr":
        order = [2, 1, 0] + ([3] if n_ch == 4 else [])
        out = rescale_with(img[..., order], scale, options, channel_axis=-1,
                           preserve_range=True, color_mode=color)[..., order]  # fmt: skip
    else:
        # (H, W, 1) comes back as (H, W), as cv2 returns it.
        out = rescale_with(img.reshape(img.shape[:2]), scale, options, preserve_range=True)
    return restore_dtype(out, img.dtype)


def _explain_bgr(img, scale, options: Options) -> dict:
    """[explain][srcnn_plugin.explain] of the call ``_upsample_bgr`` makes (RGB order inside)."""
    img = _check_image(img)
    n_ch = 1 if img.ndim == 2 else img.shape[2]
    color = auto_color_mode(n_ch, rgb=True)
    if color == "ycbcr":
        order = [2, 1, 0] + ([3] if n_ch == 4 else [])
        return explain_with(img[..., order], scale, options, channel_axis=-1, color_mode=color)
    return explain_with(img.reshape(img.shape[:2]), scale, options)


class DnnSuperResImpl:
    """SRCNN with the ``cv2.dnn_superres.DnnSuperResImpl`` interface.

    Examples
    --------
    >>> import numpy as np
    >>> sr = DnnSuperResImpl.create()
    >>> sr.setModel("srcnn", 2)
    >>> sr.upsample(np.zeros((10, 12, 3), np.uint8)).shape
    (20, 24, 3)
    >>> sr.getAlgorithm(), sr.getScale()
    ('srcnn', 2)
    """

    def __init__(self, algo: str | None = None, scale: int | None = None):
        self._weights = None
        self._algo = None
        self._scale = None
        self._device = "cpu"
        self._precision = "float32"
        self._backend, self._target = _BACKEND_DEFAULT, _TARGET_CPU
        if algo is not None:
            self.setModel(algo, scale)

    @staticmethod
    def create() -> DnnSuperResImpl:
        """A new instance (OpenCV's factory)."""
        return DnnSuperResImpl()

    def readModel(self, path) -> None:  # noqa: N802 - OpenCV's name
        """Load a weights file written by ``srcnn-plugin train`` (``.pt``).

        OpenCV's ``.pb`` files (ESPCN, FSRCNN, ...) are TensorFlow graphs and
        cannot be read; train or use an SRCNN weights file instead.
        """
        from .models.registry import get_model

        if str(path).lower().endswith(".pb"):
            raise SuperResError(
                f"{path} is an OpenCV/TensorFlow .pb model; srcnn_plugin reads SRCNN weights "
                "(.pt) written by srcnn-plugin train, or uses its bundled weights when you "
                "skip readModel()."
            )
        self._weights = get_model(str(path))

    def setModel(self, algo: str, scale) -> None:  # noqa: N802
        """Choose the algorithm (``"srcnn"``, or ``"srcnn-fast"`` for the 9-1-5
        network) and the upscaling factor."""
        from .models.registry import ONE_AXIS_FAMILIES, list_models, model_info

        name = str(algo).lower()
        if name not in ALGORITHMS:
            raise SuperResError(
                f"Unknown algorithm {algo!r}: srcnn_plugin provides {list(ALGORITHMS)}; "
                "replace 'edsr', 'espcn', 'fsrcnn' or 'lapsrn' by 'srcnn'."
            )
        if (
            isinstance(scale, bool)
            or not isinstance(scale, (int, float, np.number))
            or not scale >= 1
        ):
            raise SuperResError(f"scale must be a number >= 1, got {scale!r}.")
        if self._weights is not None:
            trained = self._weights.scales
            where = f"the weights read from {self._weights.source}"
        else:
            trained = tuple(
                s
                for n in list_models()
                if model_info(n).get("family") not in ONE_AXIS_FAMILIES
                for s in model_info(n)["scales"]
            )
            where = "the bundled weights"
        if trained and float(scale) not in [float(s) for s in trained]:
            raise SuperResError(
                f"No weights for scale {scale} in {where} (trained for "
                f"{sorted(set(float(s) for s in trained))}); call readModel() with weights "
                f"trained for x{scale}, pick one of those scales, or use "
                "srcnn_plugin.rescale() for arbitrary factors."
            )
        self._algo, self._scale = name, scale

    def setPreferableBackend(self, backend: int) -> None:  # noqa: N802
        """Accept OpenCV's ``DNN_BACKEND_*``: CUDA selects the GPU, others the CPU.

        A refused value (e.g. CUDA without a GPU) leaves the settings unchanged.
        """
        self._apply(int(backend), self._target)

    def setPreferableTarget(self, target: int) -> None:  # noqa: N802
        """Accept OpenCV's ``DNN_TARGET_*``: CUDA/CUDA_FP16 map to a torch CUDA device.

        A refused value leaves the settings unchanged.
        """
        self._apply(self._backend, int(target))

    def _apply(self, backend: int, target: int) -> None:
        """Validate a backend/target pair, then store it (nothing is stored on error)."""
        from ._device import resolve_device

        dnn = _cv2_constants()
        t_cuda = getattr(dnn, "DNN_TARGET_CUDA", _TARGET_CUDA) if dnn else _TARGET_CUDA
        t_fp16 = (
            getattr(dnn, "DNN_TARGET_CUDA_FP16", _TARGET_CUDA_FP16) if dnn else _TARGET_CUDA_FP16
        )
        b_cuda = getattr(dnn, "DNN_BACKEND_CUDA", _BACKEND_CUDA) if dnn else _BACKEND_CUDA
        wants_cuda = target in (t_cuda, t_fp16) or backend == b_cuda
        try:
            device = str(resolve_device("cuda" if wants_cuda else "cpu"))
        except ValueError as exc:
            raise SuperResError(str(exc)) from None
        self._backend, self._target = backend, target
        self._device = device
        self._precision = "float16" if target == t_fp16 else "float32"

    def getScale(self):  # noqa: N802
        """The factor set by ``setModel`` (0 before, as cv2 returns)."""
        return 0 if self._scale is None else self._scale

    def getAlgorithm(self) -> str:  # noqa: N802
        """The algorithm set by ``setModel`` (``''`` before, as cv2 returns)."""
        return self._algo or ""

    def upsample(self, img, result=None) -> np.ndarray:
        """Upscale an HxW or HxWxC (BGR/BGRA) image; the dtype is kept.

        ``result`` (OpenCV's output-array form) is filled and returned when
        given; it must have the result's shape and dtype.

        Raises
        ------
        SuperResStateError
            If ``setModel`` was not called first.
        SuperResError, SuperResTypeError
            For a refused image or ``result``.
        """
        if self._algo is None:
            raise SuperResStateError(
                "upsample() called before setModel(); call sr.setModel('srcnn', scale) first."
            )
        return _into(_upsample_bgr(img, self._scale, self._options()), result)

    def explain(self, img) -> dict:
        """What ``upsample(img)`` would tell the network (see [explain][srcnn_plugin.explain]).

        Not part of OpenCV's interface: the model chosen, each channel's
        range, fill and measured noise, without running the network.
        """
        if self._algo is None:
            raise SuperResStateError(
                "explain() called before setModel(); call sr.setModel('srcnn', scale) first."
            )
        return _explain_bgr(img, self._scale, self._options())

    def _options(self) -> Options:
        model = self._weights if self._weights is not None else _FAMILY_OF[self._algo]
        return Options(model=model, device=self._device, precision=self._precision)

    def upsampleMultioutput(self, img, imgs_new, scale_factors, node_names):  # noqa: N802
        """Not available: SRCNN has a single output."""
        raise NotImplementedError(
            "SRCNN has one output; call upsample() once per scale with setModel()."
        )


def _into(out: np.ndarray, result) -> np.ndarray:
    """``out``, or ``result`` filled with it (OpenCV's output-array convention)."""
    if result is None:
        return out
    if (
        not isinstance(result, np.ndarray)
        or result.shape != out.shape
        or (result.dtype != out.dtype)
    ):
        raise SuperResError(
            f"The output array must be a {out.dtype} array of shape {out.shape}, got "
            f"{getattr(result, 'dtype', type(result).__name__)} {getattr(result, 'shape', '')}; "
            "pass None to get a new array."
        )
    result[...] = out
    return result


def resize(
    src,
    dsize=None,
    dst=None,
    fx=None,
    fy=None,
    interpolation=None,
    *,
    model=None,
    device=None,
    **options,
):
    """``cv2.resize``-style SRCNN upscaling (BGR, HWC, dtype kept).

    The signature is ``cv2.resize``'s (``src, dsize, dst, fx, fy,
    interpolation``), positionally too; ``interpolation`` is accepted for
    compatibility and does not change the result (always SRCNN; use
    ``cv2.resize`` itself for OpenCV's interpolations).

    Parameters
    ----------
    src : (H, W[, C]) ndarray
        Grey, BGR or BGRA image.
    dsize : (width, height), optional
        Output size; wins over ``fx``/``fy`` when given (as in OpenCV).
    dst : ndarray, optional
        Filled with the result and returned (shape and dtype must match).
    fx, fy : float, optional
        Factors along x (width) and y (height); ``fy`` defaults to ``fx``.
    interpolation : int, optional
        Ignored (see above).
    model, device, **options
        ``rescale``'s computing options (``noise``, ``psf_sigma``, ``ensemble``,
        ``precision``, ...; see [Options][srcnn_plugin._options.Options]).

    Returns
    -------
    ndarray
        ``(height, width[, C])`` with ``src``'s dtype.

    Examples
    --------
    >>> import numpy as np
    >>> resize(np.zeros((10, 20), np.uint16), (50, 30)).shape
    (30, 50)
    >>> resize(np.zeros((10, 20, 3), np.uint8), fx=2).shape
    (20, 40, 3)
    """
    src = _check_image(src)
    h, w = src.shape[:2]
    if dsize is not None and tuple(dsize) != (0, 0):
        if len(dsize) != 2 or min(dsize) < 1:
            raise SuperResError(f"dsize must be (width, height) with positive sizes, got {dsize}.")
        out_w, out_h = int(dsize[0]), int(dsize[1])
        scale = (out_h / h, out_w / w)
    else:
        if fx is None:
            raise SuperResError("Pass dsize=(width, height) or fx (and optionally fy).")
        fy = fx if fy is None else fy
        if not (fx > 0 and fy > 0):
            raise SuperResError(f"fx and fy must be > 0, got fx={fx}, fy={fy}.")
        scale = (round(h * fy) / h, round(w * fx) / w)
    opts = Options.from_kwargs({"model": model, "device": device, **options})
    return _into(_upsample_bgr(src, scale, opts), dst)


def DnnSuperResImpl_create() -> DnnSuperResImpl:  # noqa: N802 - OpenCV's name
    """A new [DnnSuperResImpl][srcnn_plugin.opencv.DnnSuperResImpl] (OpenCV's factory)."""
    return DnnSuperResImpl()
