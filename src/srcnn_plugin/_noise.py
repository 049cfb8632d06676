"""The noise level a noise-aware model is told: measured or given, per channel.

One number per (mixed) channel for the whole image, in the normalised units
the network sees, so every tile, plane and dask block gets the same value
(tiled == untiled). Measured with
[estimate_noise][srcnn_plugin.degradations.estimate_noise] on up to
``_MAX_PLANES`` evenly spaced planes of a stack (the median of their
estimates), each on a central crop of at most ``_MAX_PIXELS`` pixels.
"""

from __future__ import annotations

import numpy as np

from ._dtype import model_affine
from .degradations import estimate_noise

__all__ = ["channel_noise"]

_MAX_PLANES = 5
_MAX_PIXELS = 2**20


def _sample_planes(x, plane, stack_axes):
    """Up to ``_MAX_PLANES`` ``(P, Q, C)`` crops of the work-layout array ``x``."""
    p, q = plane
    n_stack = [x.shape[a] for a in stack_axes]
    total = int(np.prod(n_stack)) if n_stack else 1
    picks = np.unique(np.linspace(0, total - 1, min(total, _MAX_PLANES)).round().astype(int))
    side = int(np.sqrt(_MAX_PIXELS))
    rows = slice(max((x.shape[p] - side) // 2, 0), max((x.shape[p] - side) // 2, 0) + side)
    cols = slice(max((x.shape[q] - side) // 2, 0), max((x.shape[q] - side) // 2, 0) + side)
    out = []
    for flat in picks:
        pos = np.unravel_index(flat, n_stack) if n_stack else ()
        index = [slice(None)] * x.ndim
        for a, i in zip(stack_axes, pos):
            index[a] = int(i)
        index[p], index[q] = rows, cols
        out.append(np.asarray(x[tuple(index)], np.float64))  # (P, Q, C); dask computes
    return out


def channel_noise(x, plan, lo, span, noise) -> np.ndarray:
    """Noise standard deviation per network channel, in the network's units.

    Parameters
    ----------
    x : ndarray or dask array
        The work-layout input (spatial axes, then channels) as the planes
        reach the network.
    plan : RescalePlan
        Gives the plane, stack axes and channel mix.
    lo, span : (K,) ndarray
        The (mixed) channels' normalisation (see ``_dtype.model_affine``).
    noise : 'auto' or (C,) ndarray
        From [check_noise][srcnn_plugin._validation.check_noise]: measure, or
        the standard deviation of each input channel in its own units.

    Returns
    -------
    (K,) ndarray

    Examples
    --------
    >>> from srcnn_plugin._plan import make_plan
    >>> rng = np.random.default_rng(0)
    >>> img = 1000 + rng.normal(0, 40.0, (64, 64, 1))  # noise 40 in a range of 1000
    >>> plan = make_plan((64, 64), np.float64, 2)
    >>> sigma = channel_noise(img, plan, np.array([500.0]), np.array([1000.0]), "auto")
    >>> bool(abs(sigma[0] / (40 * 219 / 255 / 1000) - 1) < 0.1)
    True
    """
    gain, _ = model_affine(lo, span)
    if isinstance(noise, str):
        crops = _sample_planes(x, plan.plane, plan.stack_axes)
        if plan.mix is not None:
            crops = [c @ plan.mix.T for c in crops]
        raw = np.array([[estimate_noise(c[..., k]) for k in range(c.shape[-1])] for c in crops])
        sigma = np.median(raw, axis=0)
    else:
        sigma = np.asarray(noise, np.float64)
        if plan.mix is not None:
            sigma = np.sqrt((plan.mix**2) @ sigma**2)
    return sigma * gain
