"""The plan: what ``rescale`` will do to an array of a given shape and dtype.

Validation of the request, output shape, which two axes form the
super-resolved plane, the colour mix and the dtype rules
([make_plan][srcnn_plugin._plan.make_plan]); and the array views and
statistics every later step shares (work layout, pre-resampling of the axes
outside the plane, channel ranges). Nothing here touches the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._color import YCC_ROWS
from ._dtype import output_dtype, value_affine
from ._dtype import work_dtype as work_type
from ._spline import spline_resample_axis
from ._validation import check_channel_axis, check_image_dtype, check_scale, check_shape

__all__ = ["RescalePlan", "make_plan", "plane_factor", "plane_grid", "COLOR_MODES"]

COLOR_MODES = ("channels", "ycbcr")


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
        mix[:3, :3] = YCC_ROWS
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


def _spike_free_range(
    x: np.ndarray, plan: RescalePlan, fills=None, rows: int = 256, keep=()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel range of ``x`` (work layout) without spikes and fill, and where fill is.

    Returns ``(lo, hi, found)``: the min and max without isolated
    single-pixel spikes (``_dtype.spike_free_minmax``) and without the flat
    fill at any of each channel's candidate values ``fills`` (``(C, n)``,
    NaN for none, see ``_dtype.fill_values`` and ``_dtype.fill_mask``);
    ``found`` (``(C, n)``) marks the candidates that form a fill. The
    columns in ``keep`` (saturation, ``_dtype.flat_values``) are only found:
    their flat regions stay in the range.
    Plane by plane, in bands of ``rows`` rows that each read one more row on
    either side (and the fill's reach beyond that, for its mask), so the
    extra memory is a few bands and memory-mapped inputs are read band by
    band. The result does not depend on the bands: a pixel of the extra
    rows, short of a neighbour, never counts more than it does in its own
    band, and its fill mask is the whole plane's.
    """
    from ._dtype import FILL_REACH, fill_mask, spike_free_minmax

    xs = x.transpose(_plane_order(plan))
    n_stack = len(plan.stack_axes)
    n_ch, height = xs.shape[n_stack], xs.shape[-2]
    lo, hi = np.full(n_ch, np.inf), np.full(n_ch, -np.inf)
    fills = np.full((n_ch, 0), np.nan) if fills is None else np.asarray(fills, np.float64)
    found = np.zeros(fills.shape, bool)
    reach = FILL_REACH  # rows a mask of the band's rows depends on, beyond them
    for pos in np.ndindex(*xs.shape[:n_stack]):
        for c in range(n_ch):
            plane = xs[pos + (c,)]
            for r in range(0, height, rows):
                b0, b1 = max(r - 1, 0), min(r + rows + 1, height)
                m0 = max(b0 - reach, 0)
                big = plane[m0 : b1 + reach] if fills.shape[1] else plane[b0:b1]
                mask = None
                for k, value in enumerate(fills[c]):
                    m = fill_mask(big, value)  # None for NaN
                    if m is not None and m[b0 - m0 : b1 - m0].any():  # the band's own rows
                        m = m[b0 - m0 : b1 - m0]
                        found[c, k] = True
                        if k not in keep:
                            mask = m if mask is None else mask | m
                a, b = spike_free_minmax(plane[b0:b1], exclude=mask)
                lo[c], hi[c] = min(lo[c], a), max(hi[c], b)
    return lo, hi, found


def _plane_order(plan: RescalePlan) -> tuple[int, ...]:
    """Work-layout axis order ``(stack..., C, P, Q)``."""
    p, q = plan.plane
    return (*plan.stack_axes, len(plan.work_in) - 1, p, q)


def plane_factor(scales) -> float:
    """The factor of the plane ``rescale`` super-resolves for these per-axis scales.

    As in [make_plan][srcnn_plugin._plan.make_plan] (the last two growing
    axes form the plane), for images large enough that every factor above 1
    grows its axis; used where no image is at hand yet (``Upscaler``).

    Examples
    --------
    >>> plane_factor((4, 2, 2)), plane_factor(3.0), plane_factor((1, 2.5))
    (2.0, 3.0, 2.5)
    """
    factors = [float(scales)] if np.isscalar(scales) else [float(s) for s in scales]
    up = [f for f in factors if f > 1]
    if len(factors) < 2 or not up:
        return max(factors)
    return max(up[-2:])


def plane_grid(scales) -> int | None:
    """The integer factor by which both plane axes grow exactly, for these scales, or ``None``.

    What a model on the low-resolution grid serves; as
    [plane_factor][srcnn_plugin._plan.plane_factor], for images large enough
    that every factor above 1 grows its axis (``Upscaler``).

    Examples
    --------
    >>> plane_grid(2), plane_grid((1, 3, 3)), plane_grid((2, 3))
    (2, 3, None)
    >>> plane_grid(2.5), plane_grid((4, 1))
    (None, None)
    """
    factors = [float(scales)] * 2 if np.isscalar(scales) else [float(s) for s in scales]
    up = [f for f in factors if f > 1]
    if len(factors) < 2 or len(up) < 2:
        return None
    fp, fq = up[-2:]
    return int(fp) if fp == fq and fp.is_integer() else None
