"""dtype and intensity rules (scikit-image's), and the model's normalisation.

* Output dtype: float32 in -> float32, float64 -> float64, float16 -> float32,
  integers -> float64 (``output_dtype``).
* Integers are scaled to [0, 1] ([-1, 1] for signed) as ``img_as_float`` does,
  unless ``preserve_range=True`` (``value_affine``).
* The network sees each channel mapped affinely from its own minimum and
  maximum onto ``MODEL_RANGE``, the luminance range it was trained on; the map
  is inverted exactly on the output (see ``TileJob`` in ``_rescale``), so
  ``rescale(a * x + b) == a * rescale(x) + b`` for ``a > 0`` and a 12-bit image in
  uint16 gets the same result as the same image in [0, 1].
* NaN in a float image is "no data": the network sees it filled
  (``fill_no_data``) and the output is NaN where the input was.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "fill_no_data",
    "data_range",
    "NO_DATA_REACH",
    "spike_free_minmax",
    "fill_mask",
    "fill_values",
    "flat_values",
    "any_fill",
    "mask_union",
    "FILL_BLOCK",
    "FILL_MARGIN",
    "FILL_REACH",
    "network_range",
    "SPIKE_TOLERANCE",
    "SPIKE_ISOLATION",
    "restore_dtype",
    "output_dtype",
    "work_dtype",
    "value_affine",
    "model_affine",
    "MODEL_RANGE",
]

#: Range the bundled models were trained on (8-bit BT.601 Y: 16..235, / 255).
MODEL_RANGE = (16.0 / 255.0, 235.0 / 255.0)


def model_affine(lo, span):
    """``(gain, offset)`` with ``gain * x + offset`` mapping ``[lo, lo + span]`` onto `MODEL_RANGE`.

    How a channel is presented to the network, at inference (``rescale``)
    and when training on data that is not 8-bit (``training.data.read_planes``).

    Examples
    --------
    >>> gain, offset = model_affine(0.0, 4095.0)  # a 12-bit channel
    >>> round(float(offset * 255), 6), round(float((gain * 4095 + offset) * 255), 6)
    (16.0, 235.0)
    """
    gain = (MODEL_RANGE[1] - MODEL_RANGE[0]) / np.asarray(span, np.float64)
    return gain, MODEL_RANGE[0] - np.asarray(lo, np.float64) * gain


#: How far (pixels, in the plane) ``fill_no_data`` continues the data into NaN.
NO_DATA_REACH = 4


def fill_no_data(x: np.ndarray, axes, lo) -> np.ndarray:
    """``x`` with its NaN ("no data") filled, for the network.

    ``x`` is a float image in work layout (``(..., C)``), ``axes`` the two
    axes of its planes (or every spatial axis), ``lo`` each channel's
    minimum over its data. Layer by layer, up to `NO_DATA_REACH` layers
    deep, each NaN pixel next to data (in its plane, 3 x 3) takes the mean of
    those neighbours, so holes and edges continue the data as the image's
    border does and no output pixel next to a hole is pulled towards an
    arbitrary value. NaN deeper than that takes its channel's minimum: a
    flat fill, which the range and the noise leave out as they leave out a
    zero fill. Each pixel depends on its `NO_DATA_REACH` neighbourhood only,
    so blocks overlapping by that much give the same result (it fills bands
    of rows so, to bound its memory). A copy.

    Examples
    --------
    >>> x = np.array([[1.0, np.nan, 3.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]]).T
    >>> fill_no_data(x[None], (0, 1), [1.0])[0, :, 0].tolist()
    [1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 1.0, 1.0]
    """
    out = np.array(x)
    a, n, r = axes[0], x.shape[axes[0]], NO_DATA_REACH
    for start in range(0, n, _FILL_BAND):  # bands of rows: the work memory stays small
        stop = min(start + _FILL_BAND, n)
        lo_i, hi_i = max(start - r, 0), min(stop + r, n)
        src = x[(slice(None),) * a + (slice(lo_i, hi_i),)]
        if np.isnan(src).any():
            band = _fill_band(src, axes, lo)[
                (slice(None),) * a + (slice(start - lo_i, stop - lo_i),)
            ]
            out[(slice(None),) * a + (slice(start, stop),)] = band
    return out


#: Rows of the first plane axis that ``fill_no_data`` fills at a time (with the reach around).
_FILL_BAND = 256


def _fill_band(x: np.ndarray, axes, lo) -> np.ndarray:
    """`fill_no_data` of one band (or a whole image), in its own dtype."""
    from scipy import ndimage as ndi

    out = np.array(x, dtype=np.result_type(x.dtype, np.float32))
    nan = np.isnan(out)
    size = [1] * out.ndim
    for a in axes:
        size[a] = 3
    box = np.ones(size)
    for _ in range(NO_DATA_REACH):
        if not nan.any():
            break
        total = ndi.correlate(np.where(nan, 0.0, out).astype(np.float64), box, mode="constant")
        count = ndi.correlate((~nan).astype(np.float64), box, mode="constant")
        edge = nan & (count > 0)
        out[edge] = total[edge] / count[edge]
        nan &= ~edge
    if nan.any():
        out[nan] = np.broadcast_to(np.asarray(lo, out.dtype), out.shape)[nan]
    return out.astype(x.dtype, copy=False)


def data_range(x: np.ndarray, nan=None) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's minimum and maximum over its data (NaN left out), ``x`` channel-last.

    A channel without any data gets 0 and 0 (a constant channel). ``nan`` is
    ``np.isnan(x)`` where the caller has it already.

    Examples
    --------
    >>> data_range(np.array([[[1.0, np.nan]], [[np.nan, np.nan]], [[3.0, np.nan]]]))
    (array([1., 0.]), array([3., 0.]))
    """
    have = ~(np.isnan(x) if nan is None else nan).all(axis=tuple(range(x.ndim - 1)))
    lo = np.array([np.nanmin(x[..., c]) if h else 0.0 for c, h in enumerate(have)], np.float64)
    hi = np.array([np.nanmax(x[..., c]) if h else 0.0 for c, h in enumerate(have)], np.float64)
    return lo, hi


#: A channel's range ignores its spikes when they stick out by more than this share of it.
SPIKE_TOLERANCE = 0.1


#: A pixel is a spike when its neighbours carry less than 1 - this of its height.
SPIKE_ISOLATION = 0.9


#: A flat fill (see `fill_mask`) holds whole blocks of this side at one value.
FILL_BLOCK = 5

#: Pixels this close to a flat fill are left out with it: its fringe, also where the
#: 5 x 5 blocks miss a pixel of a slanted edge.
FILL_MARGIN = 2

#: How far (in pixels) a pixel's fill mask depends on its neighbours.
FILL_REACH = FILL_BLOCK - 1 + FILL_MARGIN


def fill_mask(planes: np.ndarray, value) -> np.ndarray | None:
    """Pixels of ``planes`` (``(..., P, Q)``) at or near a flat fill at exactly ``value``.

    A fill is the constant that registration, deskewing or stitching writes
    where there is no data (zero-filled borders, light-sheet wedges): a
    region in which whole ``FILL_BLOCK`` x ``FILL_BLOCK`` blocks equal
    ``value`` exactly. The mask is those blocks grown by ``FILL_MARGIN``
    pixels, so it also covers the fringe that an interpolating registration
    leaves between fill and data. Pixels beyond the border count as fill
    (a fill along the border is found to its edge). ``None`` when there is
    no such block (or ``value`` is NaN): noisy data, even dark photon counts with many zeros, does
    not form one (a 5 x 5 block of zeros is a chance of 3e-8 where half the
    pixels are 0).

    Examples
    --------
    >>> a = np.full((8, 12), 100.0); a[:, :4] = 0.0; a[3, 9] = 0.0  # a fill and a dark pixel
    >>> fill_mask(a, 0.0).sum(axis=1)  # columns 0-3, grown by two: 0-5, not column 9
    array([6, 6, 6, 6, 6, 6, 6, 6])
    >>> print(fill_mask(a, 100.0 + 1))
    None
    """
    from scipy import ndimage as ndi

    a = np.asarray(planes)
    stored = _stored(value, a.dtype)
    if stored is None:
        return None  # the type cannot hold this value: no pixel has it
    flat = a == stored  # in the array's own type (no float64 copy of an integer band)
    if np.count_nonzero(flat) < FILL_BLOCK**2:
        return None
    core = _runs(flat, -1)  # a 5 x 5 erosion, one axis at a time (bool ANDs)
    if not core.any():
        return None
    core = _runs(core, -2)
    if not core.any():
        return None
    grow = (1,) * (a.ndim - 2) + (2 * FILL_MARGIN + FILL_BLOCK,) * 2  # the blocks, the margin
    return ndi.maximum_filter(core.view(np.uint8), size=grow, mode="constant", cval=0).view(bool)


def _runs(flat: np.ndarray, axis: int) -> np.ndarray:
    """Centres of ``FILL_BLOCK`` true pixels in a row along ``axis`` (beyond the border: true)."""
    r = FILL_BLOCK // 2
    pad = [(0, 0)] * flat.ndim
    pad[axis] = (r, r)
    p = np.pad(flat, pad, constant_values=True)
    n = flat.shape[axis]

    def shifted(k):
        index = [slice(None)] * flat.ndim
        index[axis] = slice(k, k + n)
        return p[tuple(index)]

    out = shifted(0).copy()
    for k in range(1, FILL_BLOCK):
        out &= shifted(k)
    return out


def _stored(value, dtype):
    """``value`` as a ``dtype`` scalar, or ``None`` when ``dtype`` cannot hold it exactly."""
    value = float(value)
    if not np.isfinite(value):
        return None
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        ok = value.is_integer() and info.min <= value <= info.max
        return dtype.type(int(value)) if ok else None
    if dtype.kind == "f":
        v = dtype.type(value)
        return v if float(v) == value else None
    return value


def fill_values(lo, hi) -> np.ndarray:
    """The values a flat fill may have in each channel: ``(C, 2)``, NaN for none.

    A channel's minimum ``lo`` (a zero fill below data with a camera
    offset), and zero where it lies inside the range (a zero fill in data
    whose noise goes below zero, e.g. after background subtraction).

    Examples
    --------
    >>> fill_values([100.0, -3.0], [900.0, 50.0])
    array([[100.,  nan],
           [ -3.,   0.]])
    """
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    return np.stack([lo, np.where((lo < 0) & (hi >= 0), 0.0, np.nan)], axis=-1)


def flat_values(lo, hi) -> np.ndarray:
    """`fill_values`, and a third column: each channel's maximum (saturation), ``(C, 3)``.

    A saturated plateau is flat too: it carries no noise to measure and its
    interior should stay exactly at the maximum, but it is data and stays in
    the range (``_plan._spike_free_range(..., keep=(2,))``). NaN for a
    constant channel.

    Examples
    --------
    >>> flat_values([100.0], [4095.0])
    array([[ 100.,   nan, 4095.]])
    """
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    return np.concatenate([fill_values(lo, hi), np.where(hi > lo, hi, np.nan)[:, None]], axis=1)


def any_fill(planes: np.ndarray, values) -> np.ndarray | None:
    """The union of `fill_mask` over ``values`` (NaN has no fill), ``None`` for none.

    Examples
    --------
    >>> a = np.full((8, 12), 5.0); a[:, :5] = 0.0
    >>> int(any_fill(a, [-1.0, 0.0, np.nan]).sum(axis=1)[0])  # the 5 columns, two more
    7
    >>> print(any_fill(a, [np.nan]))
    None
    """
    return mask_union(fill_mask(planes, v) for v in values)


def mask_union(masks) -> np.ndarray | None:
    """The union of boolean masks, ``None`` entries skipped; ``None`` when none is left."""
    masks = [m for m in masks if m is not None]
    return np.logical_or.reduce(masks) if masks else None


def spike_free_minmax(planes: np.ndarray, exclude=None) -> tuple[float, float]:
    """Min and max of ``planes`` (``(..., P, Q)``) without isolated single-pixel spikes.

    A pixel ``x`` is a spike (hot, or dead for the min) when it stands out
    from even its brightest 8-neighbour ``n_max`` by more than
    ``SPIKE_ISOLATION`` of its height over its darkest ``n_min``:
    ``x - n_max > 0.9 (x - n_min)``. Spikes count as ``n_max``. A point
    source, whose neighbours share its light (an optics-limited spot gives
    them more than a tenth of its height), and any structure of two or more
    touching pixels count whole. Neighbours beyond the border do not exist,
    nor do pixels in ``exclude`` (a boolean mask, e.g. a
    [fill_mask][srcnn_plugin._dtype.fill_mask]); with every pixel excluded
    the result is ``(inf, -inf)``.

    Examples
    --------
    >>> a = np.zeros((5, 6)); a[0, 0] = 50.0  # a hot pixel in a corner
    >>> spike_free_minmax(a)
    (0.0, 0.0)
    >>> a[2, 3], a[2, 4] = 1.0, 0.2  # a spot sharing a fifth of its light counts
    >>> spike_free_minmax(a)
    (0.0, 1.0)
    >>> b = np.full((4, 4), 5, np.uint16); b[1, 2] = 900; b[2, 0] = 0  # hot and dead
    >>> spike_free_minmax(b)
    (5.0, 5.0)
    >>> c = np.full((6, 6), 7.0); c[:, :2] = 0.0  # a zero fill, left out
    >>> spike_free_minmax(c, exclude=c == 0)
    (7.0, 7.0)
    """
    a = np.asarray(planes)
    if exclude is not None and not np.any(exclude):
        exclude = None
    if exclude is None and (a.shape[-1] < 2 or a.shape[-2] < 2):
        return float(a.min()), float(a.max())
    if exclude is not None:  # floats, to hold the excluded pixels' infinities
        a = a.astype(work_dtype(a.dtype), copy=False)
    return _spike_free_extreme(a, exclude, high=False), _spike_free_extreme(a, exclude, high=True)


def _spike_free_extreme(a: np.ndarray, exclude, high: bool) -> float:
    """The max (``high``) or min of ``a``, isolated spikes counted as their strongest neighbour.

    Without filtering the whole array: the weaker value of two touching
    pixels is a bound ``low`` that the result reaches (whether or not either
    is a spike), so only pixels beyond ``low`` (a few, the strict local
    extremes) are examined. The array stays in its own type (no float copy
    of an integer image); the spike test runs in float64 on those few pixels.
    Excluded pixels are ``-inf`` for the max (``+inf`` for the min) and the
    opposite as a weakest neighbour: they neither count nor neighbour.
    """
    best, worst = (np.maximum, np.minimum) if high else (np.minimum, np.maximum)
    far = -np.inf if high else np.inf  # never counts
    seen = under = a
    if exclude is not None:
        seen = np.where(exclude, far, a)
        under = np.where(exclude, -far, a)
    low = far
    for p0, p1 in (
        (seen[..., :, :-1], seen[..., :, 1:]),
        (seen[..., :-1, :], seen[..., 1:, :]),
    ):
        if p0.size:
            pair = worst(p0, p1)
            low = float(best(low, float(pair.max() if high else pair.min())))
    bound = a.dtype.type(low) if np.isfinite(low) and a.dtype.kind in "ui" else low
    idx = np.nonzero(seen > bound if high else seen < bound)
    if not idx[0].size:
        return low
    *lead, r, c = idx
    h, w = a.shape[-2:]
    top = np.full(r.shape, far)
    bottom = np.full(r.shape, -far)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                rr, cc = r + dy, c + dx
                ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
                at = (*lead, rr.clip(0, h - 1), cc.clip(0, w - 1))
                top = best(top, np.where(ok, seen[at], far))
                bottom = worst(bottom, np.where(ok, under[at], -far))
    x = seen[idx].astype(np.float64)
    with np.errstate(invalid="ignore"):  # no neighbours: inf - inf
        if high:
            spike = (x - top) > SPIKE_ISOLATION * (x - bottom)
        else:
            spike = (top - x) > SPIKE_ISOLATION * (bottom - x)
    counted = np.where(spike, top, x)
    return float(best(low, counted.max() if high else counted.min()))


def network_range(lo0, hi0, lo_free, hi_free, tol: float = SPIKE_TOLERANCE):
    """Each channel's range for the network: ``(lo_free, hi_free)`` where spikes stick out.

    A side of a channel takes the spike-free value (see
    [spike_free_minmax][srcnn_plugin._dtype.spike_free_minmax], which also
    leaves out a flat fill, [fill_mask][srcnn_plugin._dtype.fill_mask]) when
    the full range goes beyond it by more than ``tol`` of the spike-free
    range; otherwise the full range, so images without such spikes are
    normalised as before. A hot pixel at 10x the range otherwise squeezes
    everything else into a tenth of the contrast the network was trained on
    (on microscopy-dev with a PSF, binning and 1 % noise at x2, scored away
    from the pixel: +0.15 dB over a cubic spline instead of +0.98;
    ``benchmarks/bench_acquisitions.py --hot-pixels 1``); so does a zero
    fill below data with a camera offset. Where nothing is left
    (``lo_free > hi_free``) the full range is kept.

    Examples
    --------
    >>> network_range([0.0], [4000.0], [0.0], [100.0])  # a hot pixel: its range ignored
    (array([0.]), array([100.]))
    >>> network_range([0.0], [105.0], [0.0], [100.0])  # a bright noise peak: kept
    (array([0.]), array([105.]))
    """
    lo0, hi0 = np.asarray(lo0, np.float64), np.asarray(hi0, np.float64)
    lo_free, hi_free = np.asarray(lo_free, np.float64), np.asarray(hi_free, np.float64)
    none = lo_free > hi_free  # nothing left (all fill): the full range
    lo_free, hi_free = np.where(none, lo0, lo_free), np.where(none, hi0, hi_free)
    margin = tol * (hi_free - lo_free)
    lo = np.where(lo_free - lo0 > margin, lo_free, lo0)
    hi = np.where(hi0 - hi_free > margin, hi_free, hi0)
    return lo, hi


def output_dtype(dtype) -> np.dtype:
    """Floating dtype of the result for an input dtype.

    Examples
    --------
    >>> output_dtype(np.float16), output_dtype(np.uint8), output_dtype(np.float32)
    (dtype('float32'), dtype('float64'), dtype('float32'))
    """
    dtype = np.dtype(dtype).newbyteorder("=")
    if dtype == np.float32 or dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def value_affine(dtype, preserve_range: bool) -> tuple[float, float]:
    """``(a, b)`` such that ``a * stored + b`` is the value scikit-image works with.

    Integers map as ``img_as_float`` maps them ([0, 1], signed: [-1, 1]) unless
    ``preserve_range``; floats are kept.

    Examples
    --------
    >>> value_affine(np.uint8, False) == (1 / 255, 0.0)
    True
    >>> value_affine(np.uint16, True)
    (1.0, 0.0)
    """
    dtype = np.dtype(dtype)
    if preserve_range or not np.issubdtype(dtype, np.integer):
        return 1.0, 0.0
    from skimage.util import img_as_float

    f = img_as_float(np.array([0, 1], dtype=dtype)).astype(np.float64)
    return float(f[1] - f[0]), float(f[0])


def work_dtype(dtype) -> type:
    """Float type for arithmetic on stored values without losing precision.

    float32 holds every uint8/uint16/int16/float16/float32 value exactly;
    wider types work in float64. Byte order does not matter.

    Examples
    --------
    >>> work_dtype(np.uint16), work_dtype(np.dtype(">f8")), work_dtype(np.int32)
    (<class 'numpy.float32'>, <class 'numpy.float64'>, <class 'numpy.float64'>)
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "f" and dtype.itemsize <= 4:
        return np.float32
    if dtype.kind in "iu" and dtype.itemsize <= 2:
        return np.float32
    return np.float64


def restore_dtype(out, dtype):
    """``rescale``'s float result (with ``preserve_range=True``) in the caller's ``dtype``.

    The one rule every face uses to hand back the input's type: integers are
    rounded half to even and saturated to the type's range, floats (float16
    included) are cast. Works on numpy and dask arrays.

    Examples
    --------
    >>> restore_dtype(np.array([-3.0, 2.5, 300.0]), np.uint8)
    array([  0,   2, 255], dtype=uint8)
    >>> restore_dtype(np.array([0.5], np.float32), np.float16).dtype
    dtype('float16')
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    return out.astype(dtype)
