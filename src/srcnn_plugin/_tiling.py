"""Tiles with a receptive-field halo, so tiled results equal untiled ones.

An output plane of shape ``(H, W)`` is cut into tiles. For each output tile the
network needs the bicubic image ``halo`` pixels beyond it; the bicubic image in
turn needs a few low-resolution pixels around that (the cubic kernel's
support). [plan_tile][srcnn_plugin._tiling.plan_tile] works out both ranges and
the small dense matrices that compute the bicubic tile from its source slab,
so each output pixel sees exactly the data it would see in a whole-image run.
At the true image border the bicubic image is padded by replication, in tiles
as in whole images.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._imresize import band_matrix, banded_weights

__all__ = [
    "AxisResampler",
    "TilePlan",
    "plan_tile",
    "tile_bounds",
    "axis_resampler",
    "nearest_source",
]


def nearest_source(in_len: int, out_len: int) -> np.ndarray:
    """For each output pixel of an axis, the input pixel whose area holds its centre.

    The pixel-centre convention of scikit-image's ``rescale``: output pixel
    ``o`` is centred at input coordinate ``(o + 0.5) * in_len / out_len - 0.5``.

    Examples
    --------
    >>> nearest_source(3, 6).tolist(), nearest_source(4, 2).tolist()
    ([0, 0, 1, 1, 2, 2], [1, 3])
    """
    o = (np.arange(out_len) + 0.5) * (in_len / out_len)
    return np.minimum(o.astype(np.intp), in_len - 1)


@dataclass(frozen=True)
class AxisResampler:
    """Bicubic (MATLAB, no anti-aliasing) resampling of one axis, in band form."""

    in_len: int
    out_len: int
    idx: np.ndarray
    w: np.ndarray

    def source_range(self, o0: int, o1: int) -> tuple[int, int]:
        """Input range ``[c0, c1)`` that output rows ``[o0, o1)`` read."""
        sub = self.idx[o0:o1]
        return int(sub.min()), int(sub.max()) + 1

    def matrix(self, o0: int, o1: int, c0: int, c1: int) -> np.ndarray:
        """float32 ``(o1 - o0, c1 - c0)`` matrix mapping inputs to outputs."""
        return band_matrix(self.idx[o0:o1], self.w[o0:o1], c0, c1, np.float32)


@lru_cache(maxsize=64)
def axis_resampler(in_len: int, out_len: int) -> AxisResampler:
    """Resampler from ``in_len`` to ``out_len`` samples on skimage's pixel grid.

    Output pixel ``i`` samples input coordinate ``(i + 0.5) * in/out - 0.5``,
    which is both MATLAB's and scikit-image's convention.

    Examples
    --------
    >>> r = axis_resampler(4, 8)
    >>> r.matrix(0, 8, *r.source_range(0, 8)).shape
    (8, 4)
    """
    if in_len == out_len:
        idx = np.arange(in_len)[:, None]
        w = np.ones((in_len, 1))
    else:
        idx, w = banded_weights(in_len, out_len, out_len / in_len, False)
    return AxisResampler(in_len, out_len, idx, w)


def tile_bounds(length: int, tile: int) -> list[tuple[int, int]]:
    """Split ``[0, length)`` into consecutive ranges of at most ``tile``.

    Examples
    --------
    >>> tile_bounds(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    """
    tile = max(int(tile), 1)
    return [(s, min(s + tile, length)) for s in range(0, length, tile)]


@dataclass(frozen=True)
class TilePlan:
    """Everything needed to compute one output tile.

    Attributes
    ----------
    out : (y0, y1, x0, x1)
        Output pixels written by this tile.
    src : (r0, r1, c0, c1)
        Low-resolution slab read.
    pad : (top, bottom, left, right)
        Replication padding of the bicubic tile at the image border.
    my, mx : ndarray
        Bicubic matrices: ``bic = my @ slab @ mx.T``.
    """

    out: tuple[int, int, int, int]
    src: tuple[int, int, int, int]
    pad: tuple[int, int, int, int]
    my: np.ndarray
    mx: np.ndarray


def _axis_plan(r: AxisResampler, o0: int, o1: int, halo: int):
    e0, e1 = max(o0 - halo, 0), min(o1 + halo, r.out_len)
    c0, c1 = r.source_range(e0, e1)
    pad = (e0 - (o0 - halo), (o1 + halo) - e1)
    return (c0, c1), pad, r.matrix(e0, e1, c0, c1)


def plan_tile(
    ry: AxisResampler, rx: AxisResampler, out: tuple[int, int, int, int], halo: int
) -> TilePlan:
    """Plan output tile ``out = (y0, y1, x0, x1)`` for a network with ``halo``.

    Examples
    --------
    >>> ry, rx = axis_resampler(10, 20), axis_resampler(10, 20)
    >>> p = plan_tile(ry, rx, (0, 8, 8, 16), halo=8)
    >>> p.pad, p.my.shape
    ((8, 0, 0, 4), (16, 10))
    """
    y0, y1, x0, x1 = out
    (r0, r1), pady, my = _axis_plan(ry, y0, y1, halo)
    (c0, c1), padx, mx = _axis_plan(rx, x0, x1, halo)
    return TilePlan(out, (r0, r1, c0, c1), (*pady, *padx), my, mx)
