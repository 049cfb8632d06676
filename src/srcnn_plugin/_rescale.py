"""``rescale``: validate -> plan -> normalise -> tile -> model -> restore dtype.

The public function builds the computing [Options][srcnn_plugin._options.Options]
and calls [rescale_with][srcnn_plugin._rescale.rescale_with], the one entry
point every face uses: it makes a [RescalePlan][srcnn_plugin._plan.RescalePlan]
(``_plan``) and runs the tile loop of ``_job`` (numpy) or its lazy twin in
``_dask`` (dask arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._job import drain, rescale_steps
from ._options import Options
from ._plan import COLOR_MODES, RescalePlan, make_plan, plane_factor

__all__ = [
    "rescale",
    "rescale_with",
    "explain",
    "explain_with",
    "rescale_steps",
    "RescalePlan",
    "make_plan",
    "plane_factor",
    "COLOR_MODES",
]


def rescale(
    image,
    scale: float | Sequence[float],
    order: int | None = None,
    mode: str = "reflect",
    cval: float = 0.0,
    clip: bool = True,
    preserve_range: bool = False,
    anti_aliasing: bool | None = None,
    anti_aliasing_sigma=None,
    *,
    channel_axis: int | None = None,
    model=None,
    device=None,
    precision: str = "float32",
    tile_size: int | None = None,
    memory_budget: int | None = None,
    color_mode: str = "channels",
    progress: bool | Callable[[int, int], None] = False,
    symmetric: bool = True,
    noise="auto",
    psf_sigma: float | None = None,
    ensemble: int | None = None,
    adapt=None,
):
    """Upscale an image with SRCNN; a drop-in for ``skimage.transform.rescale``.

    The image is enlarged with MATLAB-compatible bicubic interpolation on
    scikit-image's pixel grid and refined by an SRCNN trained for the factor.
    Intensities are normalised per channel by their minimum and maximum before
    the network and restored exactly after it, so any range (12-bit in
    uint16, photon counts, negative values) is treated alike.

    Parameters
    ----------
    image : ndarray or dask array
        Input image, any number of spatial axes, optionally one channel axis.
        A dask array gives a lazy dask array (see Notes).
    scale : float or sequence of float
        Factor per spatial axis (the channel axis excluded), or one for all
        (a 0-d array or a one-element sequence counts as one for all).
        The output shape is ``max(round(scale * shape), 1)`` per axis, exactly
        as scikit-image's.
    order : int, optional
        ``None`` (default): super-resolution. An explicit spline order 0-5
        asks for scikit-image's interpolation and returns exactly
        ``skimage.transform.rescale``'s result with the same arguments (labels
        and masks want ``order=0``). Boolean images always get scikit-image's
        result (nearest neighbour), never a network's output.
    mode, cval : optional
        scikit-image's boundary handling, used as given with an explicit
        ``order``. Super-resolution extends the border by replication (and the
        spline-resampled axes by mirroring) whatever they say; a non-default
        value without ``order`` warns.
    clip : bool
        Clip each output channel to the input channel's range (scikit-image
        clips to the whole image's range).
    preserve_range : bool
        Keep the input's value range for integer images instead of scaling to
        [0, 1] (scikit-image's convention).
    anti_aliasing, anti_aliasing_sigma : optional
        scikit-image's Gaussian smoothing before shrinking, used as given with
        an explicit ``order``. Without it, shrinking axes are always
        anti-aliased as scikit-image's defaults do (a non-default value warns).
    channel_axis : int, optional
        Axis of channels; each channel is processed on its own (channels never
        mix) unless ``color_mode='ycbcr'``.

    Returns
    -------
    ndarray
        Float result: float32 for float16/float32 input, float64 otherwise.

    Other Parameters
    ----------------
    model : str or path, optional
        A bundled model name (see [list_models][srcnn_plugin.list_models]), a
        weights file, or a family: ``'acquisition'`` (noise-aware models
        trained on blurred, binned and noisy acquisitions) or ``'paper'``
        (trained on the paper's bicubic degradation of clean images; they
        reproduce its tables), ``'fast'`` (the 9-1-5 network trained as the
        acquisition family: 7x fewer operations per pixel than 9-5-5, 22x at
        exactly x2 where it computes on the low-resolution grid; for big
        data) or ``'paper-fast'`` (the paper's 9-1-5: bicubic of clean
        images, not told noise). By default the default family's model for the
        factor (see [pick_model_for_scale][srcnn_plugin.models.registry.pick_model_for_scale]).
    noise : 'auto', 'poisson', float, PoissonGaussian or sequence of them
        Standard deviation of the image's noise in its own units (per channel
        or one for all; 0 for a clean image), told to noise-aware models so
        they do not sharpen noise. ``'auto'`` (default) measures it per
        channel (see [estimate_noise][srcnn_plugin.degradations.estimate_noise]).
        ``'poisson'``, for photon-limited data (low-light fluorescence),
        measures how the noise grows with the intensity (shot noise, see
        [estimate_poisson_gaussian][srcnn_plugin.degradations.estimate_poisson_gaussian])
        and tells each pixel its own level: bright structures are then not
        sharpened into noise. It costs well-exposed images some sharpness
        (the scientific-data guide has the measurements). A
        [PoissonGaussian][srcnn_plugin.degradations.PoissonGaussian] (or one
        per channel) states the camera's gain, offset and read noise instead.
        Bundled models are told it times their calibration
        ([noise_gain][srcnn_plugin.models.registry.noise_gain]).
        Other models ignore ``'auto'`` and refuse a level or ``'poisson'``.
    psf_sigma : float, optional
        What you know of the optics: the Gaussian sigma, in *output* pixels,
        of blur to undo (see [psf_sigma][srcnn_plugin.degradations.psf_sigma]
        for a microscope's). 0 asks for pixel integration only (the same
        optics with smaller pixels). ``None`` (default) uses the model's
        default, chosen on validation data (see the model card). Only
        blur-aware models take it.
    device : {None, 'cpu', 'cuda', 'mps'}
        ``None`` picks CUDA, then MPS, then CPU.
    precision : {'float32', 'bfloat16', 'float16'}
        Arithmetic of the convolutions; ``float16`` is GPU only.
    tile_size : int, optional
        Side of the square output tiles. Tiles exist to bound memory: each is
        computed with a halo covering the network's receptive field, so the
        result does not depend on the tile size. Automatic by default.
    memory_budget : int, optional
        Bytes of working memory that set the automatic tile size (256 MiB on
        the CPU; a quarter of the free memory, at least 1 GiB, on CUDA; 1 GiB
        on MPS). On GPUs tiles shrink on out-of-memory errors.
    color_mode : {'channels', 'ycbcr'}
        ``'ycbcr'`` is the paper's path for RGB(A) photographs: SRCNN on Y of
        BT.601 YCbCr, bicubic Cb/Cr, and a resampled (not super-resolved)
        alpha channel.
    progress : bool or callable
        ``True`` shows a tqdm bar; a callable gets ``(done, total)`` per tile.
    symmetric : bool
        Average the network over a 180-degree rotation, so that it is exactly
        equivariant to point reflection and features keep their sub-pixel
        position (centroids within 0.02 input pixels in the tests). ``False``
        halves the network's cost.
    ensemble : {None, 1, 2, 8}
        Network passes averaged per tile, generalising ``symmetric`` (``None``:
        2 if ``symmetric`` else 1). 8 averages all rotations and mirrors: exactly
        equivariant to them, at 4 times the default cost (+0.05 to +0.10 dB
        over 2 on Set5 at x3 and x2 with the paper models:
        ``benchmarks/bench_ensemble.py``).
    adapt : bool, dict or AdaptSettings, optional
        Fine-tune the model on this image first (no ground truth needed; see
        [Upscaler.adapt][srcnn_plugin.Upscaler.adapt] and the adaptation
        guide): ``True`` with the default settings (up to 600 steps or 60 s),
        or a dict of [AdaptSettings][srcnn_plugin._adapt.AdaptSettings]
        fields, e.g. ``{"seconds": 30, "degradation": "binning"}``. The PSF
        is ``psf_sigma`` and the noise ``noise``. When adaptation does not
        improve held-out parts of the image, the model is used unadapted
        (with an ``AdaptationWarning``).

    Raises
    ------
    TypeError
        For complex or non-numeric images.
    ValueError
        For empty images, NaN or infinite values, bad scales, channel axes,
        models or devices.

    Notes
    -----
    * Axes with factor 1 are stack axes (Z, T, ...) processed plane by plane.
      The network works on the last two growing axes (a single growing axis is
      paired with the last other spatial axis). Further growing axes (Z in a
      ``ZYX`` volume with a scalar scale) are first resampled with
      scikit-image's order-3 spline; SRCNN then refines each YX plane.
    * Factors below 1 are not super-resolution: those axes are shrunk as
      ``skimage.transform.resize(..., order=3, anti_aliasing=True)`` does.
    * A 1-D signal is resampled with the bicubic kernel only.

    Examples
    --------
    >>> import numpy as np
    >>> from srcnn_plugin import rescale
    >>> img = np.random.default_rng(0).random((32, 48), dtype=np.float32)
    >>> rescale(img, 2).shape
    (64, 96)
    >>> rescale(img, (1, 2.5)).dtype
    dtype('float32')
    >>> rescale(np.zeros((3, 16, 16), np.uint16), 2, channel_axis=0).shape
    (3, 32, 32)
    """
    skimage_kw = dict(
        order=order,
        mode=mode,
        cval=cval,
        clip=clip,
        preserve_range=preserve_range,
        anti_aliasing=anti_aliasing,
        anti_aliasing_sigma=anti_aliasing_sigma,
        channel_axis=channel_axis,
    )
    if order is not None or np.dtype(getattr(image, "dtype", np.float64)) == np.bool_:
        return _skimage_rescale(image, scale, skimage_kw)
    _warn_unused_spline_options(mode, cval, anti_aliasing, anti_aliasing_sigma)
    options = Options(
        model=model,
        device=device,
        precision=precision,
        tile_size=tile_size,
        memory_budget=memory_budget,
        clip=clip,
        symmetric=symmetric,
        noise=noise,
        psf_sigma=psf_sigma,
        ensemble=ensemble,
        adapt=adapt,
    )
    image_kw = dict(channel_axis=channel_axis, preserve_range=preserve_range, color_mode=color_mode)
    return rescale_with(image, scale, options, progress=progress, **image_kw)


def _skimage_rescale(image, scale, kw):
    """scikit-image's result, exactly (dask arrays are computed and wrapped)."""
    from skimage.transform import rescale as sk_rescale

    if kw["order"] is not None and kw["order"] not in range(6):
        raise ValueError(f"order must be None (super-resolution) or 0-5, got {kw['order']!r}.")
    if _is_dask(image):
        import dask.array as da

        return da.from_array(sk_rescale(np.asarray(image), _scalar_scale(scale), **kw))
    return sk_rescale(np.asarray(image), _scalar_scale(scale), **kw)


def _scalar_scale(scale):
    """skimage accepts what we accept; pass 0-d arrays and 1-sequences as numbers."""
    arr = np.asarray(scale, dtype=np.float64)
    if arr.ndim == 0 or arr.size == 1:
        return float(arr.reshape(-1)[0])
    return tuple(arr.tolist())


def _warn_unused_spline_options(mode, cval, anti_aliasing, anti_aliasing_sigma) -> None:
    given = [
        name
        for name, value, default in (
            ("mode", mode, "reflect"),
            ("cval", cval, 0),
            ("anti_aliasing", anti_aliasing, None),
            ("anti_aliasing_sigma", anti_aliasing_sigma, None),
        )
        if not (value is default or value == default)
    ]
    if given:
        import warnings

        verb, them = ("apply", "them") if len(given) > 1 else ("applies", "it")
        warnings.warn(
            f"{', '.join(given)} only {verb} to scikit-image's spline interpolation; "
            f"super-resolution ignores {them}. Pass order=0..5 for scikit-image's result "
            f"with {them}, or leave {them} unset.",
            UserWarning,
            stacklevel=3,
        )


def rescale_with(
    image,
    scale,
    options: Options,
    *,
    channel_axis=None,
    preserve_range=False,
    color_mode="channels",
    progress=False,
    record: dict | None = None,
):
    """[rescale][srcnn_plugin.rescale] with its computing options as one object.

    The single entry point of the engine: ``rescale`` and every face call it.
    A ``record`` dict is filled with what the network is told (the record of
    [explain][srcnn_plugin.explain], of the adapted model with ``adapt``),
    from the run's own statistics.
    """
    lazy = _is_dask(image)
    arr = image if lazy else np.asarray(image)
    if options.adapt:
        from ._adapt import adapt_options

        options = adapt_options(
            arr, scale, options, channel_axis=channel_axis, color_mode=color_mode
        )
    plan = make_plan(
        arr.shape,
        arr.dtype,
        scale,
        channel_axis=channel_axis,
        preserve_range=preserve_range,
        color_mode=color_mode,
    )
    if lazy:
        from ._dask import rescale_dask

        return rescale_dask(arr, plan, options, record=record)
    return drain(rescale_steps(arr, plan, options, record=record), progress)


def explain(
    image,
    scale: float | Sequence[float],
    *,
    channel_axis: int | None = None,
    color_mode: str = "channels",
    **options,
) -> dict:
    """What [rescale][srcnn_plugin.rescale] would tell the network, without running it.

    The automatic settings made visible: the model the choice rule picks,
    the range each channel is normalised over (isolated hot or dead pixels
    and flat zero fill left out where they stick out), the fill found, the
    noise measured with ``noise='auto'`` (or ``'poisson'``) and the PSF.
    Only the statistics are computed (a dask array's are computed now).
    Pass a channel's measured ``noise`` back to ``rescale`` (``noise=...``)
    to process a series of images with one level.

    Parameters
    ----------
    image, scale, channel_axis, color_mode
        As for [rescale][srcnn_plugin.rescale].
    **options
        ``rescale``'s computing options (``model``, ``device``,
        ``precision``, ``tile_size``, ``noise``, ``psf_sigma``, ``ensemble``,
        ...; see [Options][srcnn_plugin._options.Options]).

    Returns
    -------
    dict
        ``super_resolved`` (False when no plane grows; nothing else then),
        ``model``, ``factor``, ``device``, ``precision``, ``passes``,
        ``tile``, ``psf_sigma`` (output pixels; ``None`` for models that
        take none), ``color_mode`` and ``channels``: per channel
        ``refined``, ``range``, ``full_range``, ``fill`` (values),
        ``saturated`` (a flat plateau at the maximum) and
        ``noise`` (a standard deviation, or ``[a, b]`` of
        ``variance = a * intensity + b``), all in the image's stored units.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> img = (1000 + rng.normal(0, 20, (64, 64))).astype(np.uint16)
    >>> img[:, :20] = 0  # a zero-filled border, as registration leaves it
    >>> info = explain(img, 2)
    >>> info["model"], info["channels"][0]["fill"]
    ('srcnn-acq-9-5-5-x2', [0.0])
    >>> info["channels"][0]["range"][0] > 900, round(info["channels"][0]["noise"] / 20, 1)
    (True, 1.0)
    """
    opts = Options.from_kwargs(options)
    return explain_with(image, scale, opts, channel_axis=channel_axis, color_mode=color_mode)


def explain_with(image, scale, options: Options, *, channel_axis=None, color_mode="channels"):
    """[explain][srcnn_plugin.explain] with the computing options as one object (every face)."""
    from ._job import describe, prepare_numpy

    if options.adapt:
        raise ValueError(
            "explain does not adapt: leave adapt unset, or adapt first (Upscaler(...).adapt"
            "(image)) and call that Upscaler's explain."
        )
    lazy = _is_dask(image)
    arr = image if lazy else np.asarray(image)
    plan = make_plan(arr.shape, arr.dtype, scale, channel_axis=channel_axis, color_mode=color_mode)
    if plan.plane is None:
        return describe(None, plan)
    if lazy:
        from ._dask import prepare_dask

        return describe(prepare_dask(arr, plan, options)[1], plan)
    return describe(prepare_numpy(arr, plan, options)[3], plan)


def _is_dask(obj) -> bool:
    return type(obj).__module__.startswith("dask.") and hasattr(obj, "chunks")
