"""``rescale``: validate -> plan -> normalise -> tile -> model -> restore dtype.

The public function only works out a [RescalePlan][srcnn_plugin._rescale.RescalePlan]
(output shape, which axes are super-resolved, dtype rules) and hands the work
to a generator that walks the tiles, so the same loop drives the plain call,
progress bars, the napari worker (which cancels between tiles) and dask blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ._dtype import model_affine, output_dtype, value_affine
from ._dtype import work_dtype as work_type
from ._spline import spline_resample_axis
from ._tiling import axis_resampler, plan_tile, tile_bounds
from ._validation import (
    check_channel_axis,
    check_finite_range,
    check_image_dtype,
    check_scale,
    check_shape,
)

__all__ = ["rescale", "rescale_steps", "RescalePlan", "make_plan", "COLOR_MODES"]

COLOR_MODES = ("channels", "ycbcr")
# Largest automatic tile side. On the CPU, 256 is fastest (the activations of a
# tile stay in cache; benchmarks/bench_speed.py sweeps it); on GPUs larger
# tiles mean fewer transfers.
_MAX_AUTO_TILE = {"cpu": 256, "cuda": 512, "mps": 512}
_DEFAULT_BUDGET = 256 * 2**20
_BYTES_PER_PIXEL = 4 * (64 + 32 + 8)
# BT.601 luma/chroma rows (MATLAB rgb2ycbcr without offsets; offsets cancel
# in the per-channel normalisation).
_YCC = (
    np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]])
    / 255.0
)


@dataclass(frozen=True)
class RescalePlan:
    """What ``rescale`` will do to an array of a given shape and dtype.

    Shapes here are in the *work layout*: spatial axes in their order, then
    one channel axis (length 1 when the image has none).
    """

    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    channel_axis: int | None
    scales: tuple[float, ...]
    work_in: tuple[int, ...]
    work_out: tuple[int, ...]
    pre_axes: tuple[int, ...]
    plane: tuple[int, int] | None
    mix: np.ndarray | None
    sr_channels: tuple[bool, ...]
    out_dtype: np.dtype
    affine: tuple[float, float]

    @property
    def stack_axes(self) -> tuple[int, ...]:
        """Work-layout spatial axes processed plane by plane."""
        n = len(self.work_in) - 1
        skip = set(self.plane or ())
        return tuple(a for a in range(n) if a not in skip)


def make_plan(
    shape, dtype, scale, *, channel_axis=None, preserve_range=False, color_mode="channels"
) -> RescalePlan:
    """Validate the arguments for an array and plan the work.

    Examples
    --------
    >>> p = make_plan((10, 20), np.uint8, 2)
    >>> p.out_shape, p.plane, p.out_dtype
    ((20, 40), (0, 1), dtype('float64'))
    >>> make_plan((5, 10, 20), np.float32, (1, 2, 2)).plane
    (1, 2)
    """
    check_image_dtype(dtype)
    dtype = np.dtype(dtype).newbyteorder("=")
    check_shape(shape)
    ndim = len(shape)
    ch = check_channel_axis(channel_axis, ndim)
    spatial = [n for i, n in enumerate(shape) if i != ch]
    scales = check_scale(scale, len(spatial))
    out_spatial = [max(int(np.round(s * n)), 1) for s, n in zip(scales, spatial)]
    n_ch = shape[ch] if ch is not None else 1
    out_shape = list(out_spatial)
    if ch is not None:
        out_shape.insert(ch, n_ch)
    if color_mode not in COLOR_MODES:
        raise ValueError(f"Unknown color_mode {color_mode!r}; pass one of {COLOR_MODES}.")
    mix, sr = None, (True,) * n_ch
    if color_mode == "ycbcr":
        if ch is None or n_ch not in (3, 4):
            raise ValueError(
                "color_mode='ycbcr' needs an RGB or RGBA image: pass channel_axis pointing "
                f"at an axis of length 3 or 4 (got channel_axis={channel_axis}, "
                f"{n_ch} channel(s)), or use color_mode='channels'."
            )
        mix = np.eye(n_ch)
        mix[:3, :3] = _YCC
        sr = (True, False, False) + ((False,) if n_ch == 4 else ())
    # Axes growing: the last two form the super-resolved plane; a single
    # growing axis is paired with the last other spatial axis.
    up = [a for a, (i, o) in enumerate(zip(spatial, out_spatial)) if o > i]
    if len(spatial) < 2 or not up:
        plane = None
    elif len(up) >= 2:
        plane = (up[-2], up[-1])
    else:
        other = [a for a in range(len(spatial)) if a != up[0]][-1]
        plane = tuple(sorted((up[0], other)))
    pre = tuple(
        a
        for a, (i, o) in enumerate(zip(spatial, out_spatial))
        if o != i and (plane is None or a not in plane)
    )
    return RescalePlan(
        in_shape=tuple(shape),
        out_shape=tuple(out_shape),
        channel_axis=ch,
        scales=scales,
        work_in=(*spatial, n_ch),
        work_out=(*out_spatial, n_ch),
        pre_axes=pre,
        plane=plane,
        mix=mix,
        sr_channels=sr,
        out_dtype=output_dtype(dtype),
        affine=value_affine(dtype, preserve_range),
    )


def _to_work(image: np.ndarray, ch: int | None) -> np.ndarray:
    """View with spatial axes first and one channel axis last."""
    return np.moveaxis(image, ch, -1) if ch is not None else image[..., None]


def _pre_resample(x: np.ndarray, plan: RescalePlan) -> np.ndarray:
    """Resample the axes outside the plane (shrinking, or growing a third axis).

    Each such axis gets scikit-image's ``resize(order=3, mode='reflect')``
    (anti-aliased when shrinking), done one axis at a time (see
    [spline_resample_axis][srcnn_plugin._spline.spline_resample_axis]), so a
    volume is never worse than ``skimage.transform.rescale(..., order=3)``
    along it.
    """
    if not plan.pre_axes:
        return x
    x = np.asarray(x, work_type(x.dtype))
    for a in plan.pre_axes:
        x = spline_resample_axis(x, a, plan.work_out[a])
    return x


def _mixed_minmax(x: np.ndarray, mix: np.ndarray | None, rows: int = 256):
    """Per-channel min and max of ``x`` (work layout) after the channel mix."""
    n_ch = x.shape[-1]
    k = mix.shape[0] if mix is not None else n_ch
    lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
    flat = x.reshape(-1, n_ch) if x.flags.c_contiguous else None
    if flat is not None and mix is None:
        with np.errstate(invalid="ignore"):
            return flat.min(axis=0).astype(np.float64), flat.max(axis=0).astype(np.float64)
    for start in range(0, x.shape[0], rows):
        blk = np.asarray(x[start : start + rows], dtype=np.float64).reshape(-1, n_ch)
        if mix is not None:
            blk = blk @ mix.T
        lo = np.minimum(lo, blk.min(axis=0))
        hi = np.maximum(hi, blk.max(axis=0))
    return lo, hi


def _tile_side(budget: int, batch: int, halo: int, device_type: str = "cpu") -> int:
    side = int(math.sqrt(max(budget // (_BYTES_PER_PIXEL * max(batch, 1)), 1))) - 2 * halo
    return int(min(max(side, 32), _MAX_AUTO_TILE.get(device_type, 512)))


@dataclass
class TileJob:
    """Everything a tile needs besides its pixels; picklable (for dask workers).

    ``lo``/``span`` normalise the (mixed) channels, ``active`` marks channels
    the network refines (others are resampled only), ``lo0``/``hi0`` are the
    input channels' range for clipping.
    """

    plan: RescalePlan
    lo: np.ndarray
    span: np.ndarray
    active: tuple[bool, ...]
    lo0: np.ndarray
    hi0: np.ndarray
    clip: bool
    work_dtype: type
    model: object
    device: object
    precision: str
    tile: int
    plane_batch: int = 1
    symmetric: bool = True

    def groups(self, planes: list) -> list[list]:
        """Planes in batches of ``plane_batch`` (small planes share one forward pass)."""
        return [planes[i : i + self.plane_batch] for i in range(0, len(planes), self.plane_batch)]

    def engine(self):
        """The [Engine][srcnn_plugin._engine.Engine] (models are cached per process)."""
        from ._engine import Engine
        from .models.registry import get_model

        return Engine(get_model(self.model), self.device, self.precision, self.symmetric)

    def run(self, engine, xs, os_, group, tp, src_origin=(0, 0), out_origin=(0, 0)):
        """Compute tile ``tp`` for the planes ``group`` of ``xs`` into ``os_``.

        ``xs``/``os_`` are ``(stack..., C, P, Q)`` views; the origins shift
        global tile coordinates into them (non-zero for dask blocks).
        """
        plan, wd = self.plan, self.work_dtype
        r0, r1, c0, c1 = tp.src
        r0, r1, c0, c1 = (
            r0 - src_origin[0],
            r1 - src_origin[0],
            c0 - src_origin[1],
            c1 - src_origin[1],
        )
        y0, y1, x0, x1 = tp.out
        slabs = np.stack([np.asarray(xs[i][:, r0:r1, c0:c1], dtype=wd) for i in group])
        if plan.mix is not None:
            slabs = np.einsum("kc,bchw->bkhw", plan.mix.astype(wd), slabs)
        shape4 = (1, -1, 1, 1)
        # Each channel's [lo, hi] is mapped onto the luminance range the model
        # was trained on (8-bit Y: [16, 235] / 255), and mapped back below.
        gain, offset = model_affine(self.lo, self.span)
        slabs = slabs * gain.astype(wd).reshape(shape4) + offset.astype(wd).reshape(shape4)
        n_b, n_c = slabs.shape[:2]
        res = np.empty((n_b, n_c, y1 - y0, x1 - x0), np.float64)
        for flag in (True, False):
            cs = [c for c in range(n_c) if self.active[c] == flag]
            if cs:
                batch = slabs[:, cs].reshape(-1, *slabs.shape[2:]).astype(np.float32)
                y = engine.run(batch, tp, sr=flag)
                res[:, cs] = y.reshape(n_b, len(cs), *y.shape[1:])
        res = (res - offset.reshape(shape4)) / gain.reshape(shape4)
        if plan.mix is not None:
            res = np.einsum("kc,bchw->bkhw", np.linalg.inv(plan.mix), res)
        if self.clip:
            res = np.clip(res, self.lo0.reshape(shape4), self.hi0.reshape(shape4))
        a, b = plan.affine
        if (a, b) != (1.0, 0.0):
            res = res * a + b
        y0, y1, x0, x1 = (
            y0 - out_origin[0],
            y1 - out_origin[0],
            x0 - out_origin[1],
            x1 - out_origin[1],
        )
        for k, i in enumerate(group):
            os_[i][:, y0:y1, x0:x1] = res[k]


def _plane_order(plan: RescalePlan) -> tuple[int, ...]:
    """Work-layout axis order ``(stack..., C, P, Q)``."""
    p, q = plan.plane
    return (*plan.stack_axes, len(plan.work_in) - 1, p, q)


def _resolve_model(model, plan: RescalePlan, x_shape) -> object:
    if model is not None:
        return model
    p, q = plan.plane
    scale = max(plan.work_out[p] / x_shape[p], plan.work_out[q] / x_shape[q])
    return pick_model_for_scale_spec(None, scale)


def pick_model_for_scale_spec(model, scale) -> object:
    """``model`` itself, or the bundled model for the largest factor in ``scale``."""
    from .models.registry import pick_model_for_scale

    if model is not None:
        return model
    factors = [scale] if np.isscalar(scale) else list(scale)
    return pick_model_for_scale(max(factors))


def prepare_job(
    plan, x, lo0, hi0, minmax, *, model, device, precision, tile_size, memory_budget, clip,
    symmetric=True,
) -> TileJob:  # fmt: skip
    """Settle statistics, model, device and tile size for a plan (numpy and dask alike).

    ``x`` is the work-layout array (numpy or dask), ``lo0``/``hi0`` its
    per-channel range and ``minmax(x, mix)`` computes the range of the mixed
    channels (only called for ``color_mode='ycbcr'``).
    """
    from ._device import resolve_device
    from ._engine import _check_precision
    from .models.registry import get_model

    check_finite_range(lo0, hi0)
    lo, hi = (lo0, hi0) if plan.mix is None else minmax(x, plan.mix)
    work_dtype = work_type(x.dtype)
    model = _resolve_model(model, plan, x.shape)
    loaded = get_model(model)
    dev = resolve_device(device)
    precision = _check_precision(precision, dev)
    n_sr = sum(plan.sr_channels)
    budget = memory_budget or (_DEFAULT_BUDGET if dev.type == "cpu" else 2**30)
    if tile_size is not None and (int(tile_size) != tile_size or tile_size < 1):
        raise ValueError(f"tile_size must be a positive integer or None, got {tile_size!r}.")
    tile = int(tile_size) if tile_size else _tile_side(budget, n_sr, loaded.config.halo, dev.type)
    span = np.where(hi > lo, hi - lo, 1.0)
    # Constant channels are resampled only (the network would add its bias).
    active = tuple(bool(f and h > lw) for f, h, lw in zip(plan.sr_channels, hi, lo))
    p, q = plan.plane
    tile_px = min(tile, plan.work_out[p]) * min(tile, plan.work_out[q])
    plane_batch = int(min(64, max(1, budget // (_BYTES_PER_PIXEL * tile_px * max(n_sr, 1)))))
    return TileJob(
        plan,
        lo,
        span,
        active,
        lo0,
        hi0,
        clip,
        work_dtype,
        model,
        dev,
        precision,
        tile,
        plane_batch,
        bool(symmetric),
    )


def rescale_steps(
    image: np.ndarray,
    plan: RescalePlan,
    *,
    model=None,
    device=None,
    precision="float32",
    tile_size=None,
    memory_budget=None,
    clip=True,
    out: np.ndarray | None = None,
    symmetric: bool = True,
) -> Iterator[tuple[int, int]]:
    """Generator doing the work of ``rescale``; yields ``(done, total)`` per tile.

    The result is the generator's return value (``StopIteration.value``).
    Closing the generator early cancels the work between two tiles.
    """
    from ._engine import is_out_of_memory

    x = _to_work(np.asarray(image), plan.channel_axis)
    lo0, hi0 = _mixed_minmax(x, None)
    check_finite_range(lo0, hi0)
    x = _pre_resample(x, plan)
    if out is None:
        out = np.empty(plan.out_shape, plan.out_dtype)
    out_w = _to_work(out, plan.channel_axis)
    if plan.plane is None:
        _fill_without_plane(x, out_w, plan, lo0, hi0, clip)
        yield (1, 1)
        return out
    job = prepare_job(
        plan, x, lo0, hi0, _mixed_minmax, model=model, device=device, precision=precision,
        tile_size=tile_size, memory_budget=memory_budget, clip=clip, symmetric=symmetric,
    )  # fmt: skip
    engine = job.engine()
    order = _plane_order(plan)
    xs, os_ = x.transpose(order), out_w.transpose(order)
    n_stack = len(plan.stack_axes)
    planes = list(np.ndindex(*xs.shape[:n_stack])) if n_stack else [()]
    p, q = plan.plane
    ry = axis_resampler(x.shape[p], plan.work_out[p])
    rx = axis_resampler(x.shape[q], plan.work_out[q])
    tile = job.tile
    while True:
        try:
            tiles = tile_boxes(plan.work_out[p], plan.work_out[q], tile)
            groups = job.groups(planes)
            total, done = len(tiles) * len(groups), 0
            for t in tiles:
                tp = plan_tile(ry, rx, t, engine.halo)
                for group in groups:
                    job.run(engine, xs, os_, group, tp)
                    done += 1
                    yield (done, total)
            return out
        except Exception as exc:
            # Only device out-of-memory is retried: fewer planes per pass, then
            # smaller tiles (results do not depend on either).
            if (
                engine.device.type == "cpu"
                or not is_out_of_memory(exc)
                or (tile <= 32 and job.plane_batch == 1)
            ):
                raise
            import torch

            if engine.device.type == "cuda":
                torch.cuda.empty_cache()
            if job.plane_batch > 1:
                job.plane_batch //= 2
            else:
                tile //= 2


def tile_boxes(height: int, width: int, tile: int) -> list[tuple[int, int, int, int]]:
    """Output tiles ``(y0, y1, x0, x1)`` of a plane, row by row.

    Examples
    --------
    >>> tile_boxes(3, 5, 4)
    [(0, 3, 0, 4), (0, 3, 4, 5)]
    """
    return [
        (y0, y1, x0, x1)
        for y0, y1 in tile_bounds(height, tile)
        for x0, x1 in tile_bounds(width, tile)
    ]


def _fill_without_plane(x, out_w, plan, lo0, hi0, clip):
    """No plane to super-resolve (1-D signal, or no axis grows)."""
    res = x
    if len(plan.work_in) == 2 and plan.work_out[0] != x.shape[0]:
        r = axis_resampler(x.shape[0], plan.work_out[0])
        res = np.einsum("ok,okc->oc", r.w, np.asarray(x, np.float64)[r.idx])
    res = np.asarray(res, np.float64)
    if clip:
        res = np.clip(res, lo0, hi0)
    a, b = plan.affine
    out_w[...] = res * a + b


def rescale(
    image,
    scale: float | Sequence[float],
    *,
    channel_axis: int | None = None,
    preserve_range: bool = False,
    clip: bool = True,
    model=None,
    device=None,
    precision: str = "float32",
    tile_size: int | None = None,
    memory_budget: int | None = None,
    color_mode: str = "channels",
    progress: bool | Callable[[int, int], None] = False,
    symmetric: bool = True,
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
        Factor per spatial axis (the channel axis excluded), or one for all.
        The output shape is ``max(round(scale * shape), 1)`` per axis, exactly
        as scikit-image's.
    channel_axis : int, optional
        Axis of channels; each channel is processed on its own (channels never
        mix) unless ``color_mode='ycbcr'``.
    preserve_range : bool
        Keep the input's value range for integer images instead of scaling to
        [0, 1] (scikit-image's convention).
    clip : bool
        Clip each output channel to the input channel's range.

    Returns
    -------
    ndarray
        Float result: float32 for float16/float32 input, float64 otherwise.

    Other Parameters
    ----------------
    model : str or path, optional
        A bundled model name (see [list_models][srcnn_plugin.list_models]) or
        a weights file; by default the bundled model closest to the factor.
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
        the CPU, 1 GiB on GPUs). On GPUs tiles shrink on out-of-memory errors.
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

    Raises
    ------
    TypeError
        For boolean, complex or non-numeric images.
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
    if _is_dask(image):
        from ._dask import rescale_dask

        return rescale_dask(
            image,
            scale,
            channel_axis=channel_axis,
            preserve_range=preserve_range,
            clip=clip,
            model=model,
            device=device,
            precision=precision,
            tile_size=tile_size,
            memory_budget=memory_budget,
            color_mode=color_mode,
            symmetric=symmetric,
        )
    arr = np.asarray(image)
    plan = make_plan(
        arr.shape,
        arr.dtype,
        scale,
        channel_axis=channel_axis,
        preserve_range=preserve_range,
        color_mode=color_mode,
    )
    steps = rescale_steps(
        arr,
        plan,
        model=model,
        device=device,
        precision=precision,
        tile_size=tile_size,
        memory_budget=memory_budget,
        clip=clip,
        symmetric=symmetric,
    )
    return _drain(steps, progress)


def _is_dask(obj) -> bool:
    return type(obj).__module__.startswith("dask.") and hasattr(obj, "chunks")


def _drain(steps, progress):
    bar = None
    try:
        while True:
            done, total = next(steps)
            if callable(progress):
                progress(done, total)
            elif progress:
                if bar is None:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=total, desc="srcnn", unit="tile")
                bar.update(done - bar.n)
    except StopIteration as stop:
        return stop.value
    finally:
        if bar is not None:
            bar.close()
