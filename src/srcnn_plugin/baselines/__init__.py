"""Baselines made by our code, for comparing methods on the same footing.

[sparse_coding][srcnn_plugin.baselines.sparse_coding] is the conventional
method the SRCNN paper generalises (Yang et al., IEEE TIP 2010), with the
dictionaries shipped in the package (trained on T91 by
``srcnn-plugin train-sc``; see the model card). It follows ``rescale``'s
conventions: any dtype and range, channels, stacks, dask arrays, the same
output shape, dtype and clipping.
"""

from __future__ import annotations

import numpy as np

from ._sparse import (
    SparseDictionary,
    back_project,
    bundled_dictionaries,
    features,
    lasso,
    load_dictionary,
    reconstruct,
    super_resolve_plane,
    train_dictionary,
    training_pairs,
)

__all__ = [
    "sparse_coding",
    "SparseDictionary",
    "load_dictionary",
    "bundled_dictionaries",
    "train_dictionary",
    "training_pairs",
    "features",
    "lasso",
    "reconstruct",
    "back_project",
    "super_resolve_plane",
]


def sparse_coding(
    image,
    scale,
    *,
    channel_axis=None,
    preserve_range: bool = False,
    clip: bool = True,
    color_mode: str = "channels",
    dictionary=None,
    lam: float | None = None,
    overlap: int | None = None,
    iterations: int | None = None,
    progress=False,
):
    """Sparse-coding super-resolution with ``rescale``'s conventions.

    Parameters
    ----------
    image : ndarray or dask array
        As [rescale][srcnn_plugin.rescale]: 2-D, stacks, channels; any
        integer or float dtype.
    scale : float or sequence of float
        As ``rescale``; the last two growing axes form the plane that is
        super-resolved, other axes are resampled with a cubic spline.
    channel_axis, preserve_range, clip, color_mode
        As ``rescale``.
    dictionary : None, float, path or SparseDictionary
        ``None``: the bundled pair trained for the plane's factor (the
        largest trained factor not above it); a factor, a file written by
        ``srcnn-plugin train-sc``, or a loaded pair.
    lam, overlap, iterations : optional
        Coding settings (sparsity weight, patch overlap, back-projection
        steps); ``None`` keeps the dictionary's (0.1, 4, 20).
    progress : bool or callable
        As ``rescale`` (one step per plane).

    Returns
    -------
    ndarray or dask array
        Shaped, typed and clipped as ``rescale``'s result.

    Notes
    -----
    Each plane is processed whole (a plane must fit in memory; dask arrays
    are computed plane by plane, lazily). Intensities of each channel are
    mapped from its range onto 8-bit luminance, as ``rescale`` does for its
    models. Slow, as the method is: 3 to 7 minutes per output megapixel on
    one CPU core with SPAMS (``pip install 'srcnn-plugin[baselines]'``;
    Set5/Set14 at x2-x4, ``benchmarks/bench_methods.py``); without it
    scikit-learn solves the same lasso, much more slowly.

    Examples
    --------
    >>> from srcnn_plugin.baselines import sparse_coding
    >>> img = np.random.default_rng(0).random((12, 10))
    >>> out = sparse_coding(img, 2)
    >>> out.shape, out.dtype, bool(img.min() <= out.min() and out.max() <= img.max())
    ((24, 20), dtype('float64'), True)
    """
    from .._job import drain, rescale_steps
    from .._options import Options
    from .._plan import make_plan
    from .._rescale import _is_dask

    lazy = _is_dask(image)
    arr = image if lazy else np.asarray(image)
    plan = make_plan(
        arr.shape, arr.dtype, scale, channel_axis=channel_axis,
        preserve_range=preserve_range, color_mode=color_mode,
    )  # fmt: skip
    factor = 1.0
    if plan.plane is not None:
        p, q = plan.plane
        factor = max(plan.work_out[p] / plan.work_in[p], plan.work_out[q] / plan.work_in[q])
    d = load_dictionary(factor if dictionary is None else dictionary)
    d = d.with_settings(lam, overlap, iterations)
    # One tile per plane (back-projection couples every pixel of a plane), and one
    # plane per step (the smallest memory budget), so progress counts planes.
    options = Options(
        model=d, device="cpu", tile_size=max(plan.work_out[:-1]), memory_budget=1, clip=clip
    )
    if lazy:
        from .._dask import rescale_dask

        return rescale_dask(arr, plan, options)
    return drain(rescale_steps(arr, plan, options), progress)
