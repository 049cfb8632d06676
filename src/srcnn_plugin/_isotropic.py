"""Isotropic reconstruction of anisotropic volumes (Z sampled coarser than Y and X).

Self-supervised, as CARE's isotropic reconstruction (Weigert et al., MICCAI
2017) but without a training set: the lateral (YX) planes of the volume are
sharp, so recording them once more along one axis the way Z was recorded
([axial][srcnn_plugin.degradations.axial]: Gaussian axial blur, then
sections every ``z_factor`` pixels) gives pairs for a one-axis
super-resolution model: the bundled one-axis (``'axial'`` family) model for
the factor, trained the same way on T91/BSD200 and told the axial PSF,
fine-tuned by ``_adapt.fine_tune`` (augmentation keeps the degraded axis
vertical). That model then super-resolves Z in the ZX planes (a ``rescale`` by
``(z_factor, 1, 1)``) and in the ZY planes (the same on the volume with Y and
X swapped); the two results are averaged. Both passes are ordinary
``rescale_with`` calls: tiled with exact seams, bounded memory, dask in ->
lazy dask out.
"""

from __future__ import annotations

import math
import time

import numpy as np

__all__ = [
    "isotropic",
    "isotropic_steps",
    "axial_pair",
    "adapt_axial",
    "starting_model",
    "axial_blur",
]


def axial_pair(plane: np.ndarray, factor: float, sigma: float, noise, rng):
    """``(target, input, noise)``: a lateral plane, its rows recorded as Z, enlarged back.

    Rows are blurred and sectioned by
    [axial][srcnn_plugin.degradations.axial], topped up with Gaussian noise to
    ``noise`` (the plane's own level, or its variance line: see
    ``_adapt.pair_from_son``) and enlarged along the rows only with
    MATLAB bicubic, as ``rescale(..., (factor, 1))`` enlarges.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t, x, n = axial_pair(rng.random((42, 30)), 4, 2.0, 0.0, rng)
    >>> t.shape, x.shape
    ((40, 30), (40, 30))
    """
    from ._adapt import pair_from_son
    from .degradations import axial

    if float(factor).is_integer():
        plane = plane[: plane.shape[0] - plane.shape[0] % int(factor)]
    return pair_from_son(plane, axial(plane, factor, sigma, axis=0), noise, rng)


def starting_model(model, z_factor: float):
    """The model ``isotropic`` starts from: ``model=`` at ``z_factor``, axial by default.

    ``None`` picks the bundled one-axis (``'axial'``) model for the factor;
    a family, name, weights file or loaded model is resolved as ``rescale``
    resolves it (``registry.resolve_model``).

    Examples
    --------
    >>> starting_model(None, 4), starting_model(None, 3.5), starting_model("acquisition", 4)
    ('srcnn-axial-9-5-5-x4', 'srcnn-axial-9-5-5-x3', 'srcnn-acq-9-5-5-x4')
    """
    from .models.registry import resolve_model

    return resolve_model("axial" if model is None else model, z_factor)


def axial_blur(model, z_factor: float, axial_sigma: float) -> float | None:
    """The PSF condition (input pixels) the Z model is told; ``None`` for other models.

    A one-axis blur-aware model is told the axial PSF, ``axial_sigma /
    z_factor`` input sections; an isotropic blur-aware model 0 (its
    condition is an isotropic PSF, which Z does not have).
    """
    from .models.registry import get_model, is_one_axis

    if not get_model(model).config.blur_aware:
        return None
    return float(axial_sigma) / z_factor if is_one_axis(model) else 0.0


def adapt_axial(x, z_factor: float, axial_sigma: float, options, settings):
    """Generator: the one-axis model for ``x`` (work layout ``(..., Z, Y, X, C)``).

    Yields ``(step, steps)``; returns an ``AdaptResult`` (the starting model
    when the guard keeps it).
    """
    from ._adapt import _noise_spec, _planes, fine_tune, plane_noise
    from .models.registry import get_model

    t_start = time.perf_counter()
    n_sp = x.ndim - 1
    lateral = (1.0,) * (n_sp - 2) + (2.0, 2.0)  # YX planes of every Z (and T ...)
    planes, _, shape, _ = _planes(x, lateral, -1, "channels", options.noise)
    if not planes:
        raise ValueError("The volume is constant; isotropic reconstruction needs detail.")
    model_name = starting_model(options.model, z_factor)
    base = get_model(model_name)
    rng = np.random.default_rng([settings.seed, 17])
    pairs = []
    for plane, level in planes:
        level = plane_noise(plane, level)
        # Both lateral axes teach the model: Y as rows, and X as rows (transposed).
        for p in (plane, plane.T):
            if p.shape[0] >= 2 * z_factor and p.shape[1] > 1:
                pairs.append(axial_pair(np.ascontiguousarray(p), z_factor, axial_sigma, level, rng))
    report = {
        "kind": "anisotropic (Z)",
        "base_model": model_name if isinstance(model_name, str) else base.source,
        "factor": float(z_factor),
        "degradation": f"axial sigma={axial_sigma:g}+sections every {z_factor:g}",
        "axial_sigma": float(axial_sigma),
        "noise": _noise_spec(options.noise),
        "source_shapes": [list(shape)],
    }
    blur = axial_blur(model_name, z_factor, axial_sigma)
    return (
        yield from fine_tune(
            base, pairs, blur, settings, options.device, t_start, report, one_axis=True
        )
    )


def isotropic(
    volume,
    z_factor: float,
    *,
    axial_sigma: float | None = None,
    channel_axis: int | None = None,
    adapt=True,
    preserve_range: bool = False,
    progress=False,
    **options,
):
    """Make an anisotropic volume isotropic: super-resolve Z by ``z_factor``.

    Parameters
    ----------
    volume : ndarray or dask array
        ``(..., Z, Y, X)`` with an optional channel axis: the last three
        spatial axes are Z, Y and X; leading ones (T, ...) are stacks.
        A dask array gives a lazy dask array.
    z_factor : float
        Z spacing divided by the lateral pixel size (> 1); the output has
        ``round(z_factor * Z)`` sections.
    axial_sigma : float, optional
        Gaussian sigma of the axial PSF in *lateral* pixels (the blur along Z
        beyond the lateral one); default ``z_factor / 2``.
    channel_axis : int, optional
        As in ``rescale``; channels are processed separately.
    adapt : bool, dict or AdaptSettings
        Learn the one-axis model from the volume's own lateral planes (the
        default; ``True`` or a dict of
        [AdaptSettings][srcnn_plugin._adapt.AdaptSettings] fields, e.g.
        ``{"seconds": 120}``). ``False`` uses the bundled one-axis model for
        the factor unadapted (told ``axial_sigma``), on ZX and ZY planes.
    preserve_range : bool
        As in ``rescale`` (the dtype and range rules are ``rescale``'s).
    progress : bool or callable
        ``True`` shows tqdm bars; a callable gets ``(done, total)``.
    **options
        ``rescale``'s computing options: ``model`` (the starting model;
        default: the ``'axial'`` family's for the factor, see
        [starting_model][srcnn_plugin._isotropic.starting_model]), ``device``,
        ``precision``, ``tile_size``, ``memory_budget``, ``clip``,
        ``symmetric``, ``ensemble`` (1 or 2: one-axis models take no
        transposing passes), ``noise``.

    Returns
    -------
    ndarray or dask array
        ``round(z_factor * Z)`` sections, Y and X unchanged; float as ``rescale``.

    Notes
    -----
    The result is the mean of the ZX-plane and ZY-plane reconstructions. The
    model report is attached to nothing; use
    [adapt_axial][srcnn_plugin._isotropic.adapt_axial] to keep the model.

    Examples
    --------
    >>> import numpy as np
    >>> vol = np.random.default_rng(0).random((8, 32, 32)).astype(np.float32)
    >>> isotropic(vol, 2, adapt=False).shape
    (16, 32, 32)
    """
    from ._job import drain

    steps = isotropic_steps(
        volume, z_factor, axial_sigma=axial_sigma, channel_axis=channel_axis, adapt=adapt,
        preserve_range=preserve_range, **options,
    )  # fmt: skip
    return drain(steps, progress)


def isotropic_steps(
    volume,
    z_factor: float,
    *,
    axial_sigma: float | None = None,
    channel_axis: int | None = None,
    adapt=True,
    preserve_range: bool = False,
    **options,
):
    """Generator doing the work of [isotropic][srcnn_plugin.isotropic].

    Yields ``(done, total)`` in hundredths of each phase (adaptation, ZX
    planes, ZY planes); the result is its return value. Closing it cancels
    between two steps or tiles (the napari worker does).
    """
    from ._adapt import AdaptSettings
    from ._options import Options
    from ._rescale import _is_dask
    from ._validation import check_channel_axis, check_image_dtype, check_shape
    from .models.registry import is_one_axis

    lazy = _is_dask(volume)
    arr = volume if lazy else np.asarray(volume)
    check_image_dtype(arr.dtype)
    check_shape(arr.shape)
    ch = check_channel_axis(channel_axis, arr.ndim)
    n_sp = arr.ndim - (ch is not None)
    if n_sp < 3:
        raise ValueError(
            f"isotropic needs a volume with Z, Y and X axes, got {n_sp} spatial axes (shape "
            f"{arr.shape}); for a 2-D image use rescale(image, (z_factor, 1))."
        )
    if isinstance(z_factor, bool) or not (np.isscalar(z_factor) and z_factor > 1):
        raise ValueError(
            f"z_factor must be a number > 1 (Z spacing / lateral pixel size), got {z_factor!r}."
        )
    z_factor = float(z_factor)
    axial_sigma = z_factor / 2 if axial_sigma is None else float(axial_sigma)
    if not (math.isfinite(axial_sigma) and axial_sigma >= 0):
        raise ValueError(f"axial_sigma must be >= 0 (lateral pixels), got {axial_sigma!r}.")
    opts = Options.from_kwargs({**options, "psf_sigma": None})
    if opts.passes == 8:
        raise ValueError(
            "isotropic takes ensemble=1 or 2 (the default): the Z model super-resolves one "
            "axis, and the 8-pass ensemble would transpose it."
        )
    # Work layout (..., Z, Y, X, C); np.moveaxis keeps a dask array lazy.
    x = np.moveaxis(arr, ch, -1) if ch is not None else arr[..., None]
    settings = AdaptSettings.from_value(adapt)
    phases = 3 if settings is not None else 2
    start = starting_model(opts.model, z_factor)
    # Unadapted, a one-axis starting model is told the axial PSF (psf_sigma is in
    # output sections; axial_sigma 0 included); an adapted one records it as its
    # blur_default. Other models keep their own default.
    told = is_one_axis(start) and axial_blur(start, z_factor, axial_sigma) is not None
    opts = opts.replace(model=start, psf_sigma=axial_sigma if told else None)
    if settings is not None:
        # When the guard keeps the starting model, fine_tune has warned.
        result = yield from _phase(adapt_axial(x, z_factor, axial_sigma, opts, settings), 0, phases)
        if result.report["adapted"]:
            opts = opts.replace(model=result.loaded, psf_sigma=None)
    scale = (1.0,) * (n_sp - 3) + (z_factor, 1.0, 1.0)
    zx = yield from _phase(_plane_pass(x, scale, opts, preserve_range), phases - 2, phases)
    zy = yield from _phase(_plane_pass(_swap(x), scale, opts, preserve_range), phases - 1, phases)
    zy = _swap(zy)
    if lazy:
        out = (zx + zy) / 2
    else:
        out = zx
        out += zy
        out *= 0.5
    return out[..., 0] if ch is None else np.moveaxis(out, -1, ch)


def _phase(steps, k: int, phases: int):
    """Run one phase generator, yielding its progress as hundredths of all ``phases``."""
    while True:
        try:
            done, total = next(steps)
        except StopIteration as stop:
            return stop.value
        yield (100 * k + (100 * done) // max(total, 1), 100 * phases)


def _plane_pass(x, scale, opts, preserve_range):
    """Generator: ``rescale`` of the work-layout ``x`` by ``scale`` (lazily for dask)."""
    from ._rescale import _is_dask, make_plan, rescale_steps, rescale_with

    if _is_dask(x):
        out = rescale_with(x, scale, opts, channel_axis=-1, preserve_range=preserve_range)
        yield (1, 1)
        return out
    plan = make_plan(x.shape, x.dtype, scale, channel_axis=-1, preserve_range=preserve_range)
    return (yield from rescale_steps(x, plan, opts))


def _swap(x):
    """Swap Y and X of a work-layout array ``(..., Z, Y, X, C)``."""
    return x.swapaxes(-3, -2)
