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
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "spike_free_minmax",
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


#: A channel's range ignores its spikes when they stick out by more than this share of it.
SPIKE_TOLERANCE = 0.1


#: A pixel is a spike when its neighbours carry less than 1 - this of its height.
SPIKE_ISOLATION = 0.9


def spike_free_minmax(planes: np.ndarray) -> tuple[float, float]:
    """Min and max of ``planes`` (``(..., P, Q)``) without isolated single-pixel spikes.

    A pixel ``x`` is a spike (hot, or dead for the min) when it stands out
    from even its brightest 8-neighbour ``n_max`` by more than
    ``SPIKE_ISOLATION`` of its height over its darkest ``n_min``:
    ``x - n_max > 0.9 (x - n_min)``. Spikes count as ``n_max``. A point
    source, whose neighbours share its light (an optics-limited spot gives
    them more than a tenth of its height), and any structure of two or more
    touching pixels count whole. Neighbours beyond the border do not exist.

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
    """
    a = np.asarray(planes)
    if a.shape[-1] < 2 or a.shape[-2] < 2:
        return float(a.min()), float(a.max())
    a = a.astype(work_dtype(a.dtype), copy=False)  # exact, and signed: -a is the mirror
    return -_spike_free_max(-a), _spike_free_max(a)


def _spike_free_max(a: np.ndarray) -> float:
    """The max of ``a`` with its isolated spikes counted as their brightest neighbour.

    Without filtering the whole array: the smaller value of two touching
    pixels is a lower bound ``low`` that the result reaches (whether or not
    either is a spike), so only pixels above ``low`` (a few, the strict local
    maxima at the top) are examined.
    """
    low = max(
        float(np.minimum(a[..., :, :-1], a[..., :, 1:]).max()),
        float(np.minimum(a[..., :-1, :], a[..., 1:, :]).max()),
    )
    idx = np.nonzero(a > low)
    if not idx[0].size:
        return low
    *lead, r, c = idx
    h, w = a.shape[-2:]
    top = np.full(r.shape, -np.inf)
    bottom = np.full(r.shape, np.inf)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                rr, cc = r + dy, c + dx
                ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
                vals = a[(*lead, rr.clip(0, h - 1), cc.clip(0, w - 1))]
                top = np.maximum(top, np.where(ok, vals, -np.inf))
                bottom = np.minimum(bottom, np.where(ok, vals, np.inf))
    x = a[idx]
    spike = (x - top) > SPIKE_ISOLATION * (x - bottom)
    return max(low, float(np.where(spike, top, x).max()))


def network_range(lo0, hi0, lo_free, hi_free, tol: float = SPIKE_TOLERANCE):
    """Each channel's range for the network: ``(lo_free, hi_free)`` where spikes stick out.

    A side of a channel takes the spike-free value (see
    [spike_free_minmax][srcnn_plugin._dtype.spike_free_minmax]) when the
    full range goes beyond it by more than ``tol`` of the spike-free range;
    otherwise the full range, so images without such spikes are normalised
    as before. A hot pixel at 10x the range otherwise squeezes everything
    else into a tenth of the contrast the network was trained on (on
    microscopy-dev with a PSF, binning and 1 % noise at x2, scored away from
    the pixel: +0.15 dB over a cubic spline instead of +0.98;
    ``benchmarks/bench_acquisitions.py --hot-pixels 1``).

    Examples
    --------
    >>> network_range([0.0], [4000.0], [0.0], [100.0])  # a hot pixel: its range ignored
    (array([0.]), array([100.]))
    >>> network_range([0.0], [105.0], [0.0], [100.0])  # a bright noise peak: kept
    (array([0.]), array([105.]))
    """
    lo0, hi0 = np.asarray(lo0, np.float64), np.asarray(hi0, np.float64)
    lo_free, hi_free = np.asarray(lo_free, np.float64), np.asarray(hi_free, np.float64)
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
