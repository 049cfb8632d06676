"""The noise level a noise-aware model is told: measured or given, per channel.

One number per (mixed) channel for the whole image, in the normalised units
the network sees, so every tile, plane and dask block gets the same value
(tiled == untiled). Measured with
[estimate_noise][srcnn_plugin.degradations.estimate_noise] on up to
``_MAX_PLANES`` evenly spaced planes of a stack (the median of their
estimates), each on a central crop of at most ``_MAX_PIXELS`` pixels.

``noise="poisson"`` (photon-limited data) measures, the same way, a variance
line ``(a, b)`` per channel with
[estimate_poisson_gaussian][srcnn_plugin.degradations.estimate_poisson_gaussian]:
the engine turns it into a per-pixel level from each tile's local intensity
(see [noise_map][srcnn_plugin.models.srcnn.noise_map]).
"""

from __future__ import annotations

import numpy as np

from ._dtype import any_fill, model_affine
from .degradations import estimate_noise, estimate_poisson_gaussian

__all__ = ["channel_noise", "image_levels"]

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


def channel_noise(x, plan, lo, span, noise, gain: float = 1.0, fill=None) -> np.ndarray:
    """Noise standard deviation per network channel, in the network's units.

    Parameters
    ----------
    x : ndarray or dask array
        The work-layout input (spatial axes, then channels) as the planes
        reach the network; only read to measure (``None`` for stated noise).
    plan : RescalePlan
        Gives the plane, stack axes and channel mix.
    lo, span : (K,) ndarray
        The (mixed) channels' normalisation (see ``_dtype.model_affine``).
    noise : 'auto', 'poisson', (C,) or (C, 2) ndarray
        From [check_noise][srcnn_plugin._validation.check_noise]: measure, or
        the standard deviation of each input channel in its own units, or its
        stated variance line ``(a, b)`` (``variance = a * intensity + b``).
    gain : float
        The model's calibration: the level is told times ``gain`` (see
        [noise_gain][srcnn_plugin.models.registry.noise_gain]).
    fill : (K, n) ndarray, optional
        Each channel's flat fill values (NaN: none); measured noise leaves
        out the fill and its fringe ([fill_mask][srcnn_plugin._dtype.fill_mask]).

    Returns
    -------
    (K,) ndarray, or (K, 2) for ``'poisson'`` and stated lines
        Levels, or variance lines ``(a, b)``: the level at a normalised
        intensity ``mu`` is ``sqrt(a mu + b)``.

    Examples
    --------
    >>> from srcnn_plugin._plan import make_plan
    >>> rng = np.random.default_rng(0)
    >>> img = 1000 + rng.normal(0, 40.0, (64, 64, 1))  # noise 40 in a range of 1000
    >>> plan = make_plan((64, 64), np.float64, 2)
    >>> sigma = channel_noise(img, plan, np.array([500.0]), np.array([1000.0]), "auto")
    >>> bool(abs(sigma[0] / (40 * 219 / 255 / 1000) - 1) < 0.1)
    True
    >>> shot = rng.poisson(np.linspace(50, 500, 64) * np.ones((64, 1)))[..., None]
    >>> a, b = channel_noise(shot, plan, np.array([0.0]), np.array([500.0]), "poisson")[0]
    >>> bool(abs(a / (219 / 255 / 500) - 1) < 0.2)  # 1 per photon, in network units
    True
    """
    scale, offset = model_affine(lo, span)
    if isinstance(noise, str):
        crops = _sample_planes(x, plan.plane, plan.stack_axes)
        if plan.mix is not None:
            crops = [c @ plan.mix.T for c in crops]
        measure = estimate_poisson_gaussian if noise == "poisson" else estimate_noise
        if fill is None or plan.mix is not None:  # mixed channels: no fill (photographs)
            fill = np.full((crops[0].shape[-1], 0), np.nan)
        fill = np.asarray(fill, np.float64)

        def level(plane, values):
            return measure(plane, ignore=any_fill(plane, values))

        raw = np.array([[level(c[..., k], fill[k]) for k in range(c.shape[-1])] for c in crops])
        sigma = np.median(raw, axis=0)
    else:
        sigma = np.asarray(noise, np.float64)
        if sigma.ndim == 2:
            _refuse_mixed_lines(plan)
        if plan.mix is not None:
            sigma = np.sqrt((plan.mix**2) @ sigma**2)
    if sigma.ndim == 1:
        return sigma * scale * gain
    return _network_lines(sigma, scale, offset) * gain**2


def image_levels(levels, lo, span, gain: float = 1.0) -> np.ndarray:
    """`channel_noise`'s levels (or variance lines) back in the image's units.

    The inverse of what ``channel_noise`` tells the network, the model's
    calibration ``gain`` divided out: what ``noise=`` states to get them.

    Examples
    --------
    >>> lo, span = np.array([500.0]), np.array([1000.0])
    >>> told = 40.0 * model_affine(lo, span)[0] * 1.25  # 40 units, as channel_noise tells it
    >>> image_levels(told, lo, span, 1.25).round(9)
    array([40.])
    >>> line = _network_lines(np.array([[2.0, 9.0]]), *model_affine(lo, span))
    >>> image_levels(line, lo, span).round(6)
    array([[2., 9.]])
    """
    scale, offset = model_affine(lo, span)
    levels = np.asarray(levels, np.float64)
    if levels.ndim == 1:
        return levels / (scale * gain)
    a_n, b_n = (levels / gain**2).T
    return np.stack([a_n / scale, (b_n + a_n * offset) / scale**2], axis=1)


def _refuse_mixed_lines(plan) -> None:
    """A stated camera (variance lines per input channel) cannot describe mixed channels."""
    if plan.mix is not None:
        raise ValueError(
            "A stated PoissonGaussian describes each input channel; with "
            "color_mode='ycbcr' the network sees a mix of them. Pass "
            "color_mode='channels', or noise='poisson' to measure the mixed channel."
        )


def _network_lines(lines, scale, offset) -> np.ndarray:
    """Variance lines ``(a, b)`` per channel, from image units to the network's.

    The network sees ``xn = scale x + offset`` (``_dtype.model_affine``) and
    noise ``scale sigma``, so ``var_n = scale a x + scale**2 b`` with
    ``x = (xn - offset) / scale``.

    Examples
    --------
    >>> _network_lines(np.array([[2.0, 9.0]]), np.array([0.5]), np.array([0.1]))
    array([[1.  , 2.15]])
    """
    lines = np.asarray(lines, np.float64)
    a = lines[:, 0] * scale
    return np.stack([a, lines[:, 1] * scale**2 - a * offset], axis=1)
