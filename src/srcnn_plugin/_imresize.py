"""MATLAB-compatible bicubic ``imresize``.

This is the resampler the SRCNN paper used to make low-resolution images and
to upsample them again, so PSNR figures computed with it are comparable to the
paper's table. It reproduces MATLAB's ``imresize(..., 'bicubic')``: the cubic
convolution kernel with ``a = -0.5``, an anti-aliasing (widened) kernel when
shrinking, symmetric (half-sample mirror) boundary handling, and output size
``ceil(scale * size)``.

Pixel centres follow MATLAB and scikit-image: output pixel ``i`` (0-based)
samples input coordinate ``(i + 0.5) / scale - 0.5``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

__all__ = ["imresize", "cubic", "resize_weights", "banded_weights", "band_matrix"]


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with ``a = -0.5`` (MATLAB's ``cubic``).

    Parameters
    ----------
    x : ndarray
        Distances in input pixels.

    Returns
    -------
    ndarray
        Kernel weights, zero outside ``|x| < 2``.

    Examples
    --------
    >>> cubic(np.array([0.0, 1.0, 2.0])).tolist()
    [1.0, 0.0, 0.0]
    """
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    inner = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    outer = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return inner + outer


@lru_cache(maxsize=256)
def banded_weights(in_len: int, out_len: int, scale: float, antialias: bool = True):
    """Per-output-pixel input indices and weights of MATLAB's bicubic.

    Parameters
    ----------
    in_len, out_len : int
        Axis lengths.
    scale : float
        Scale factor as MATLAB receives it.
    antialias : bool
        Widen the kernel when shrinking.

    Returns
    -------
    idx : (out_len, taps) int64 ndarray
        Input indices (already mirrored into ``[0, in_len)``).
    w : (out_len, taps) float64 ndarray
        Weights; each row sums to one.

    Examples
    --------
    >>> idx, w = banded_weights(5, 10, 2.0)
    >>> idx.shape == w.shape, bool(np.allclose(w.sum(1), 1))
    (True, True)
    """
    kernel_width = 4.0
    if scale < 1 and antialias:
        kernel_width = kernel_width / scale

        def kernel(d):
            return scale * cubic(scale * d)
    else:
        kernel = cubic
    # 1-based coordinates as in MATLAB's contributions().
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = int(math.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    w = kernel(u[:, None] - idx)
    w = w / w.sum(axis=1, keepdims=True)
    # Symmetric boundary: mirror indices back into [0, in_len).
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    idx = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    keep = np.any(w != 0, axis=0)
    idx, w = idx[:, keep], w[:, keep]
    idx.setflags(write=False)
    w.setflags(write=False)
    return idx, w


def band_matrix(idx: np.ndarray, w: np.ndarray, in_lo: int, in_hi: int, dtype=np.float64):
    """Dense matrix of the rows ``idx``/``w`` restricted to inputs ``[in_lo, in_hi)``.

    Mirrored indices that land on the same input accumulate, as in MATLAB.
    """
    rows = idx.shape[0]
    mat = np.zeros((rows, in_hi - in_lo), dtype=np.float64)
    np.add.at(mat, (np.repeat(np.arange(rows), idx.shape[1]), (idx - in_lo).ravel()), w.ravel())
    return mat.astype(dtype, copy=False)


@lru_cache(maxsize=64)
def _weights_cached(in_len: int, out_len: int, scale: float, antialias: bool):
    idx, w = banded_weights(in_len, out_len, scale, antialias)
    mat = band_matrix(idx, w, 0, in_len)
    mat.setflags(write=False)
    return mat


def resize_weights(
    in_len: int, out_len: int, scale: float | None = None, antialias: bool = True
) -> np.ndarray:
    """Return the ``(out_len, in_len)`` matrix that resizes one axis.

    Parameters
    ----------
    in_len, out_len : int
        Input and output lengths of the axis.
    scale : float, optional
        Scale factor; defaults to ``out_len / in_len``. MATLAB uses the
        factor given by the caller, which matters when ``out_len`` was
        rounded.
    antialias : bool, optional
        Widen the kernel when shrinking (MATLAB's default).

    Returns
    -------
    (out_len, in_len) ndarray
        Each row sums to one.

    Examples
    --------
    >>> w = resize_weights(4, 8)
    >>> w.shape, np.allclose(w.sum(axis=1), 1)
    ((8, 4), True)
    """
    if scale is None:
        scale = out_len / in_len
    return _weights_cached(int(in_len), int(out_len), float(scale), bool(antialias))


def _resize_axis(arr: np.ndarray, axis: int, mat: np.ndarray) -> np.ndarray:
    moved = np.moveaxis(arr, axis, -1)
    out = moved @ mat.T.astype(arr.dtype, copy=False)
    return np.moveaxis(out, -1, axis)


def imresize(
    image: np.ndarray,
    scale: float | Sequence[float] | None = None,
    output_shape: Sequence[int] | None = None,
    *,
    antialias: bool = True,
) -> np.ndarray:
    """Resize the first two axes of ``image`` like MATLAB's bicubic ``imresize``.

    Parameters
    ----------
    image : (M, N[, ...]) ndarray
        Image; trailing axes (channels) are carried along.
    scale : float or (float, float), optional
        Scale factor(s) for the first two axes. The output size is
        ``ceil(scale * size)`` as in MATLAB.
    output_shape : (int, int), optional
        Output size of the first two axes; then the scale is
        ``output_shape / shape`` per axis.
    antialias : bool, optional
        Anti-aliasing kernel when shrinking (MATLAB's default ``True``).

    Returns
    -------
    ndarray
        Float result (float32 stays float32, anything else becomes float64),
        not rounded or clipped.

    Examples
    --------
    >>> img = np.full((6, 8), 0.25)
    >>> out = imresize(img, 1 / 2)
    >>> out.shape, bool(np.allclose(out, 0.25))
    ((3, 4), True)
    >>> imresize(img, 3).shape
    (18, 24)
    """
    arr = np.asarray(image)
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    arr = arr.astype(dtype, copy=False)
    if (scale is None) == (output_shape is None):
        raise ValueError("Pass exactly one of `scale` or `output_shape`.")
    in_shape = arr.shape[:2]
    if scale is not None:
        scales = (scale, scale) if np.isscalar(scale) else tuple(scale)
        if len(scales) != 2:
            raise ValueError("Pass one scale, or one per axis for the first two axes.")
        out_shape = tuple(int(math.ceil(s * n - 1e-9)) for s, n in zip(scales, in_shape))
    else:
        out_shape = tuple(int(n) for n in output_shape)
        scales = tuple(o / n for o, n in zip(out_shape, in_shape))
    # MATLAB resizes along the axis with the smallest scale first.
    order = sorted(range(2), key=lambda k: scales[k])
    out = arr
    for k in order:
        if out_shape[k] == in_shape[k] and scales[k] == 1:
            continue
        mat = resize_weights(in_shape[k], out_shape[k], scales[k], antialias)
        out = _resize_axis(out, k, mat)
    return out
