"""Lazy ``rescale`` of dask arrays, equal to the numpy result.

The output's in-plane chunks are exactly the tiles the numpy path uses; each
output block is computed from a slice of the input holding that tile's source
slab (the bicubic support plus the network's halo, which is what
``map_overlap`` would provide, without its constraint that the overlap be
smaller than every chunk). Each block runs the very same tile computation as
the numpy path, so the computed array equals ``rescale(numpy_array)`` exactly.
Blocks carry only picklable state (the model is named, not shipped), so the
graph runs on a ``dask.distributed`` cluster.

The per-channel minimum and maximum (normalisation and clipping) are computed
up front: one pass over the data, before the lazy array is returned (a second
one, for the data's range, where there is NaN: no data, filled blockwise with
the overlap the fill needs, and NaN again in the output).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._dtype import work_dtype as work_type
from ._job import describe, drain, no_data, prepare_job, rescale_steps
from ._options import Options
from ._plan import RescalePlan, _plane_order, _pre_resample
from ._tiling import axis_resampler, nearest_source, plan_tile, tile_bounds
from ._validation import check_finite_range

__all__ = ["rescale_dask"]


def _work_view(x, ch):
    import dask.array as da

    return da.moveaxis(x, ch, -1) if ch is not None else x[..., None]


def _minmax(xw, mix):
    import dask

    axes = tuple(range(xw.ndim - 1))
    if mix is not None:
        xw = xw.astype(np.float64) @ mix.T
    lo, hi = dask.compute(xw.min(axis=axes), xw.max(axis=axes))
    return np.asarray(lo, np.float64), np.asarray(hi, np.float64)


def _spike_free_range(xw, plan, fills=None, keep=()):
    """``_plan._spike_free_range`` of a dask array: blocks see their in-plane neighbours.

    Two ``map_overlap`` passes: the fill masks (``_dtype.fill_mask``, each
    block with the fill's reach beyond it, trimmed), then the range, each
    block with one more pixel on either side.
    """
    import dask.array as da

    from ._dtype import FILL_REACH, fill_mask, spike_free_minmax

    p, q = plan.plane
    axes = tuple(range(xw.ndim - 1))
    c = xw.ndim - 1
    xw = xw.rechunk({c: -1})
    n = xw.shape[c]
    fills = np.full((n, 0), np.nan) if fills is None else np.asarray(fills, np.float64)
    k = fills.shape[1]
    excluding = np.uint8(sum(1 << i for i in range(k) if i not in keep))

    def planes(a):  # (C, stack..., P, Q) view
        return np.moveaxis(a, (c, p, q), (0, -2, -1))

    def masks(a):  # bit i: in the fill at candidate i (the mask keeps the array's shape)
        out = np.zeros(a.shape, np.uint8)
        for j, pl in enumerate(planes(a)):
            for i, value in enumerate(fills[j]):
                m = fill_mask(pl, value)  # None for NaN
                if m is not None:
                    planes(out)[j] |= m.view(np.uint8) << i
        return out

    def block(a, m):
        # Per block: (-min, max, found) of each channel, as a (1, ..., 1, (2 + k) C)
        # array. The overlap gives the block's border pixels their neighbours (none
        # beyond the array); pixels of the overlap count no higher (and no lower)
        # than in their own block, so they change nothing.
        out = m & excluding  # the candidates whose fill leaves the range
        both = [spike_free_minmax(pl, exclude=mk > 0) for pl, mk in zip(planes(a), planes(out))]
        lo, hi = np.array(both, np.float64).reshape(-1, 2).T
        bits = planes(m).reshape(n, -1)
        found = [((bits >> i) & 1).any(axis=1) for i in range(k)]
        found = np.stack(found, axis=1).ravel() if k else np.zeros(0)
        return np.concatenate([-lo, hi, found]).reshape((1,) * c + (-1,))

    if k:
        # An axis no longer than the reach is one block and needs no overlap.
        short = {a: -1 for a in (p, q) if xw.shape[a] <= FILL_REACH}
        xw = xw.rechunk(short) if short else xw
        depth = {a: 0 if a in short else FILL_REACH for a in (p, q)}
        mask = xw.map_overlap(masks, depth=depth, boundary="none", trim=True, dtype=np.uint8)
        # map_overlap merges blocks smaller than the reach into their neighbours; the
        # range pass below needs the image and the mask in the same blocks.
        xw = xw.rechunk(mask.chunks)
    else:
        mask = da.zeros(xw.shape, np.uint8, chunks=xw.chunks)
    chunks = tuple((1,) * len(xw.chunks[a]) for a in axes) + (((2 + k) * n,),)
    out = da.map_overlap(
        block,
        xw,
        mask,
        depth={p: 1, q: 1},
        boundary="none",
        trim=False,
        chunks=chunks,
        dtype=np.float64,
    )
    out = np.asarray(out.max(axis=axes).compute(), np.float64)
    return -out[:n], out[n : 2 * n], out[2 * n :].reshape(n, k) > 0


def _pre_resample_lazy(xw, plan):
    if not plan.pre_axes:
        return xw
    # The 1-D resampling needs each pre axis whole; other axes are untouched.
    xw = xw.rechunk({a: -1 for a in plan.pre_axes})
    chunks = list(xw.chunks)
    for a in plan.pre_axes:
        chunks[a] = (plan.work_out[a],)
    return xw.map_blocks(_pre_resample, plan, chunks=tuple(chunks), dtype=work_type(xw.dtype))


def _block(xblk, job, tp):
    """Compute tile ``tp`` of every plane in a block holding its source slab."""
    plan = job.plan
    p, q = plan.plane
    order = _plane_order(plan)
    engine = job.engine()
    y0, y1, x0, x1 = tp.out
    xs = xblk.transpose(order)
    out_shape = list(xblk.shape)
    out_shape[p], out_shape[q] = y1 - y0, x1 - x0
    out = np.empty(out_shape, plan.out_dtype)
    os_ = out.transpose(order)
    n_stack = len(plan.stack_axes)
    planes = list(np.ndindex(*xs.shape[:n_stack])) if n_stack else [()]
    for group in job.groups(planes):
        job.run(engine, xs, os_, group, tp, src_origin=tp.src[::2], out_origin=(y0, x0))
    return out


def prepare_dask(image, plan: RescalePlan, options: Options):
    """``(xw, job, nan)``: the lazy work-layout input, its `TileJob` (statistics
    computed) and the lazy NaN mask (``None`` without NaN)."""
    import dask
    import dask.array as da

    xw = _work_view(image, plan.channel_axis)
    lo0, hi0 = _minmax(xw, None)
    nan = None
    if np.isnan(lo0).any() or np.isnan(hi0).any():  # no data: the range of the data
        nan = da.isnan(xw)
        axes = tuple(range(xw.ndim - 1))
        with warnings.catch_warnings():  # "All-NaN slice": a channel without data, 0 below
            warnings.simplefilter("ignore", RuntimeWarning)
            lo0, hi0, share = dask.compute(
                da.nanmin(xw, axis=axes), da.nanmax(xw, axis=axes), nan.mean(axis=axes)
            )
        lo0 = np.nan_to_num(np.asarray(lo0, np.float64))
        hi0 = np.nan_to_num(np.asarray(hi0, np.float64))
        xw, lo0, hi0, nan = no_data(xw, plan, lo0, hi0, nan=nan)
    check_finite_range(lo0, hi0)
    xw = _pre_resample_lazy(xw, plan)
    job = prepare_job(plan, xw, lo0, hi0, _minmax, options, _spike_free_range)
    if nan is not None:
        job.no_data = tuple(float(v) for v in share)
    return xw, job, nan


def rescale_dask(image, plan: RescalePlan, options: Options, record: dict | None = None):
    """Lazy [rescale][srcnn_plugin.rescale] of a dask array (see the module notes).

    ``plan`` is ``rescale_with``'s (made from the array's shape and dtype);
    ``record`` as in ``rescale_steps``.
    """
    import dask.array as da

    if plan.plane is None:
        out = drain(rescale_steps(np.asarray(image), plan, options, record=record))
        return da.from_array(out, chunks=image.chunksize)
    xw, job, nan = prepare_dask(image, plan, options)
    if record is not None:
        record.update(describe(job, plan))
    p, q = plan.plane
    halo = job.engine().halo
    ry = axis_resampler(xw.shape[p], plan.work_out[p])
    rx = axis_resampler(xw.shape[q], plan.work_out[q])
    c_axis = xw.ndim - 1
    rows = []
    for y0, y1 in tile_bounds(plan.work_out[p], job.tile):
        row = []
        for x0, x1 in tile_bounds(plan.work_out[q], job.tile):
            # Each output tile is one block computed from its own source slab,
            # exactly as the numpy path computes that tile.
            tp = plan_tile(ry, rx, (y0, y1, x0, x1), halo)
            r0, r1, c0, c1 = tp.src
            index = [slice(None)] * xw.ndim
            index[p], index[q] = slice(r0, r1), slice(c0, c1)
            piece = xw[tuple(index)].rechunk({p: -1, q: -1, c_axis: -1})
            chunks = list(piece.chunks)
            chunks[p], chunks[q] = (y1 - y0,), (x1 - x0,)
            row.append(
                piece.map_blocks(
                    _block,
                    job,
                    tp,
                    chunks=tuple(chunks),
                    dtype=plan.out_dtype,
                    meta=np.empty((0,) * xw.ndim, plan.out_dtype),
                )
            )
        rows.append(da.concatenate(row, axis=q))
    out = da.concatenate(rows, axis=p)
    if nan is not None:  # restore_no_data, lazily
        for a, (n, m) in enumerate(zip(plan.work_in[:-1], plan.work_out[:-1])):
            nan = da.take(nan, nearest_source(n, m), axis=a)
        out = da.where(nan, np.asarray(np.nan, out.dtype), out)
    if plan.channel_axis is not None:
        return da.moveaxis(out, -1, plan.channel_axis)
    return out[..., 0]
