"""The tile job: model, device, statistics and tile size for a plan, and the tile loop.

[prepare_job][srcnn_plugin._job.prepare_job] settles everything a tile needs
(normalisation, noise levels, the model by the one choice rule, device,
precision, tile size) into a picklable [TileJob][srcnn_plugin._job.TileJob];
[rescale_steps][srcnn_plugin._job.rescale_steps] walks the tiles (one
generator drives plain calls, progress bars, the napari worker and, through
``_dask``, dask blocks).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ._dtype import (
    MODEL_RANGE,
    NO_DATA_REACH,
    data_range,
    fill_no_data,
    flat_values,
    model_affine,
    network_range,
)
from ._dtype import work_dtype as work_type
from ._options import Options
from ._plan import (
    RescalePlan,
    _mixed_minmax,
    _plane_order,
    _pre_resample,
    _spike_free_range,
    _to_work,
    plane_grid,
)
from ._tiling import axis_resampler, nearest_source, plan_tile, tile_bounds
from ._validation import check_finite_range, check_no_data_color, check_noise, check_psf_sigma

__all__ = [
    "TileJob",
    "prepare_job",
    "prepare_numpy",
    "no_data",
    "restore_no_data",
    "describe",
    "describe_line",
    "rescale_steps",
    "tile_boxes",
    "drain",
]

# Largest automatic tile side. On the CPU, 256 is fastest for networks on the
# output grid (the activations of a tile stay in cache; benchmarks/bench_speed.py
# sweeps it); a network on the low-resolution grid gets the side whose
# activations are as many (_cpu_cap). On GPUs larger tiles mean fewer launches
# and copies (the budget, _device.memory_budget, sets the side below the cap).
_MAX_AUTO_TILE = {"cpu": 256, "cuda": 4096, "mps": 512}


def _bytes_per_pixel(config) -> float:
    """Working bytes per output pixel: the hidden layers (on the network's grid) and 8 maps."""
    s2 = getattr(config, "stride", 1) ** 2
    return 4 * ((getattr(config, "n1", 64) + getattr(config, "n2", 32)) / s2 + 8)


def _cpu_cap(config) -> int:
    """The CPU tile side whose activations match a 256 tile's on the output grid.

    Rounded down to a multiple of 256 (at x2 the exact side, 402, sits on
    the sweep's cliff: 384 and 256 measure alike, 448 is 20 % slower); 256
    for networks on the output grid.

    Examples
    --------
    >>> from srcnn_plugin.models.srcnn import SRCNNConfig
    >>> [_cpu_cap(SRCNNConfig(f2=1, stride=s)) for s in (1, 2, 3, 4)]
    [256, 256, 768, 1024]
    """
    base = _MAX_AUTO_TILE["cpu"]
    if getattr(config, "stride", 1) == 1:
        return base
    from .models.srcnn import SRCNNConfig, cpu_activations

    side = base * math.sqrt(cpu_activations(SRCNNConfig()) / cpu_activations(config))
    return base * max(1, int(side // base))


def _tile_side(budget: int, batch: int, config, device_type: str = "cpu") -> int:
    """The automatic output tile side for ``batch`` channels within ``budget`` bytes."""
    per_tile = budget // (_bytes_per_pixel(config) * max(batch, 1))
    side = int(math.sqrt(max(per_tile, 1))) - 2 * config.halo
    cap = _cpu_cap(config) if device_type == "cpu" else _MAX_AUTO_TILE.get(device_type, 512)
    return int(min(max(side, 32), cap))


@dataclass
class TileJob:
    """Everything a tile needs besides its pixels; picklable (for dask workers).

    ``lo``/``span`` normalise the (mixed) channels, ``active`` marks channels
    the network refines (others are resampled only), ``lo0``/``hi0`` are the
    input channels' range for clipping; ``noise`` is each (mixed) channel's
    noise level in the network's units, for noise-aware models (``(K,)``),
    or its variance line for signal-dependent noise (``(K, 2)``, see
    ``_noise.channel_noise``); ``blur`` the
    PSF sigma to undo in input pixels, for blur-aware models; ``narrowed``
    marks channels normalised over their range without spikes or fill
    (``_dtype.network_range``): their values beyond it (the spikes) reach the
    output through the bicubic step only, not the network. ``fills`` lists
    ``(channel, value)`` for each flat region found (``_dtype.fill_mask``: a
    fill, or a saturated plateau at the maximum): output pixels whose bicubic
    taps are all in it get exactly its value. ``no_data`` is each channel's
    share of NaN (reported only: the NaN are filled before, see `no_data`).
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
    passes: int = 2
    noise: np.ndarray | None = None
    blur: float | None = None
    narrowed: tuple[bool, ...] = ()
    fills: tuple[tuple[int, float], ...] = ()
    hi: np.ndarray | None = None  # the top of the range (lo + span, except constant channels)
    no_data: tuple[float, ...] = ()  # each channel's share of NaN pixels (none: empty)

    def groups(self, planes: list) -> list[list]:
        """Planes in batches of ``plane_batch`` (small planes share one forward pass)."""
        return [planes[i : i + self.plane_batch] for i in range(0, len(planes), self.plane_batch)]

    def engine(self):
        """The [Engine][srcnn_plugin._engine.Engine] (models are cached per process).

        A model object with its own ``engine`` (the sparse-coding baseline)
        makes it; it is called the same way.
        """
        from ._engine import Engine
        from .models.registry import get_model

        loaded = get_model(self.model)
        if hasattr(loaded, "engine"):
            return loaded.engine(self.device, self.precision, self.passes)
        return Engine(loaded, self.device, self.precision, passes=self.passes)

    def run(self, engine, xs, os_, group, tp, src_origin=(0, 0), out_origin=(0, 0)):
        """Compute tile ``tp`` for the planes ``group`` of ``xs`` into ``os_``.

        ``xs``/``os_`` are ``(stack..., C, P, Q)`` views; the origins shift
        global tile coordinates into them (non-zero for dask blocks).

        Only the low-resolution slabs are gathered on the host: normalising,
        the network, restoring the range and the cast to the output's type
        run on the engine's device, and the tile comes back in one copy (on
        a GPU the host does no per-pixel work).
        """
        import torch

        plan = self.plan
        r0, r1, c0, c1 = tp.src
        r0, r1, c0, c1 = (
            r0 - src_origin[0],
            r1 - src_origin[0],
            c0 - src_origin[1],
            c1 - src_origin[1],
        )
        y0, y1, x0, x1 = tp.out
        dev = getattr(engine, "device", None) or torch.device("cpu")
        # Float64 where the device has it (MPS does not): the range is restored
        # in the precision of the caller's values.
        acc = torch.float32 if dev.type == "mps" else torch.float64
        wd = torch.float32 if self.work_dtype == np.float32 else acc
        slabs = np.stack([np.asarray(xs[i][:, r0:r1, c0:c1], dtype=self.work_dtype) for i in group])
        s = torch.from_numpy(slabs).to(wd).to(dev)  # cast on the host (MPS: no float64)

        def col(values, dtype):  # a (1, C, 1, 1) tensor of per-channel values
            return torch.as_tensor(np.asarray(values), dtype=dtype, device=dev).reshape(1, -1, 1, 1)

        fill = self._fill_interior(s, tp) if self.fills else None
        if plan.mix is not None:
            s = torch.einsum("kc,bchw->bkhw", torch.as_tensor(plan.mix, dtype=wd, device=dev), s)
        # Each channel's [lo, hi] is mapped onto the luminance range the model
        # was trained on (8-bit Y: [16, 235] / 255), and mapped back below.
        gain, offset = model_affine(self.lo, self.span)
        s = s * col(gain, wd) + col(offset, wd)
        n_b, n_c = s.shape[:2]
        res = torch.empty((n_b, n_c, y1 - y0, x1 - x0), dtype=acc, device=dev)
        for flag in (True, False):
            cs = [c for c in range(n_c) if self.active[c] == flag]
            if cs:
                batch = s[:, cs].reshape(-1, *s.shape[2:]).float()
                noise = None if self.noise is None else np.concatenate([self.noise[cs]] * n_b)
                excess = None
                if flag and self.narrowed and any(self.narrowed[c] for c in cs):
                    batch, excess = self._split_spikes(batch, cs, n_b)
                y = engine.run(batch, tp, sr=flag, noise=noise, blur=self.blur)
                y = torch.as_tensor(y, device=dev)  # engines of NumPy baselines give arrays
                if excess is not None:
                    y = y + torch.as_tensor(engine.run(excess, tp, sr=False), device=dev)
                res[:, cs] = y.reshape(n_b, len(cs), *y.shape[1:]).to(acc)
        res = (res - col(offset, acc)) / col(gain, acc)
        if plan.mix is not None:
            inv = torch.as_tensor(np.linalg.inv(plan.mix), dtype=acc, device=dev)
            res = torch.einsum("kc,bchw->bkhw", inv, res)
        if fill is not None:  # no data there: exactly the fill
            for (c, value), inside in zip(self.fills, fill):
                res[:, c] = torch.where(inside, value, res[:, c])
        if self.clip:
            res = torch.clamp(res, col(self.lo0, acc), col(self.hi0, acc))
        a, b = plan.affine
        if (a, b) != (1.0, 0.0):
            res = res * a + b
        y0, y1, x0, x1 = (
            y0 - out_origin[0],
            y1 - out_origin[0],
            x0 - out_origin[1],
            x1 - out_origin[1],
        )
        # The output's type on the device, then straight into the caller's array.
        res = res.to(getattr(torch, np.dtype(os_[group[0]].dtype).name))
        for k, i in enumerate(group):
            torch.from_numpy(os_[i][:, y0:y1, x0:x1]).copy_(res[k])

    def _fill_interior(self, slab, tp):
        """For each of ``fills``, the output pixels of ``tp`` with only that fill under them.

        ``slab`` is the tile's ``(B, C, h, w)`` low-resolution slab as read;
        each mask (``(B, H, W)``) marks output pixels whose bicubic taps
        (every one of them, along both axes) are at the fill's value.
        """
        import torch

        p, q = self.plan.plane
        ry = axis_resampler(self.plan.work_in[p], self.plan.work_out[p])
        rx = axis_resampler(self.plan.work_in[q], self.plan.work_out[q])
        (y0, y1, x0, x1), (r0, _, c0, _) = tp.out, tp.src
        iy = torch.as_tensor(ry.idx[y0:y1] - r0, device=slab.device)  # (H, taps)
        ix = torch.as_tensor(rx.idx[x0:x1] - c0, device=slab.device)  # (W, taps)
        out = []
        for c, value in self.fills:
            flat = slab[:, c] == value  # exact: the slab holds the stored values
            rows = flat[:, iy].all(dim=2)  # (B, H, w)
            out.append(rows[..., ix].all(dim=-1))
        return out

    def _split_spikes(self, batch, cs, n_b):
        """``(inside, excess)``: narrowed channels clamped to the model's range, and the rest.

        ``batch`` holds ``n_b`` groups of the channels ``cs``; channels that are
        not narrowed pass whole (their excess is 0).
        """
        import torch

        inf = float("inf")
        bounds = [MODEL_RANGE if self.narrowed[c] else (-inf, inf) for c in cs] * n_b
        lo, hi = torch.tensor(bounds, dtype=batch.dtype, device=batch.device).T[..., None, None]
        inside = torch.clamp(batch, lo, hi)
        return inside, batch - inside


def _plane_factors(plan: RescalePlan, x_shape=None) -> tuple[float, float]:
    """The factors of the plane's two axes (input ``x_shape``, else the plan's)."""
    p, q = plan.plane
    x_shape = plan.work_in if x_shape is None else x_shape
    return plan.work_out[p] / x_shape[p], plan.work_out[q] / x_shape[q]


def _plane_factor(plan: RescalePlan, x_shape=None) -> float:
    """The factor of the plane: its larger axis factor."""
    return max(_plane_factors(plan, x_shape))


def _plane_grid(plan: RescalePlan, x_shape=None) -> int | None:
    """The integer factor by which both plane axes grow exactly, else ``None``.

    What a model on the low-resolution grid serves (``SRCNNConfig.stride``).
    """
    return plane_grid(_plane_factors(plan, x_shape))


def _resolve_model(model, plan: RescalePlan, x_shape) -> object:
    """The model for the plan's plane factor (the one rule: ``registry.resolve_model``)."""
    from .models.registry import resolve_model

    return resolve_model(model, _plane_factor(plan, x_shape), _plane_grid(plan, x_shape))


def _check_grid(model, loaded, plan: RescalePlan, x_shape) -> None:
    """Refuse a model on the low-resolution grid for a plane it does not serve."""
    stride = loaded.config.stride
    if stride == 1 or _plane_grid(plan, x_shape) == stride:
        return
    fp, fq = _plane_factors(plan, x_shape)
    name = model if isinstance(model, str) else "given"
    raise ValueError(
        f"Model {name!r} computes on the x{stride} low-resolution grid: it serves a plane "
        f"whose two axes both grow by exactly {stride} (this one grows by {fp:g} and "
        f"{fq:g}); pass scale={stride}, or a family (model='fast', or None) to let the "
        "factor choose."
    )


def on_grid(tile: int, stride: int) -> int:
    """``tile`` rounded down to a multiple of ``stride`` (at least one).

    A model on the low-resolution grid takes tiles of whole blocks.

    Examples
    --------
    >>> on_grid(256, 3), on_grid(2, 4), on_grid(100, 1)
    (255, 4, 100)
    """
    return max(stride, int(tile) - int(tile) % stride)


def _check_one_axis(model, plan: RescalePlan, x_shape, passes: int) -> None:
    """Refuse a one-axis (Z) model for a plane it would not serve right.

    A one-axis model (``registry.is_one_axis``) super-resolves the rows of
    the plane only: the plane's first axis must grow and its second must
    not, and the 8-pass ensemble (which transposes) is not allowed.
    """
    from .models.registry import is_one_axis

    if not is_one_axis(model):
        return
    fp, fq = _plane_factors(plan, x_shape)
    if not (fp > 1 and fq == 1):
        raise ValueError(
            f"Model {model if isinstance(model, str) else 'given'!r} is a one-axis (Z) model: "
            "it super-resolves one axis, the first of the plane, and not the other; pass a "
            "scale that grows only that axis, e.g. (4, 1, 1) for Z of a ZYX volume, use "
            "srcnn_plugin.isotropic, or choose a 2-D model (model=None)."
        )
    if passes == 8:
        raise ValueError(
            "A one-axis (Z) model takes ensemble=1 or 2: the 8-pass ensemble transposes "
            "the plane, which would super-resolve the wrong axis."
        )


def _blur(psf_sigma, model, loaded, plan: RescalePlan, x_shape) -> float | None:
    """The PSF (input pixels) a blur-aware model is told; ``None`` for other models.

    ``psf_sigma`` is in output pixels; ``None`` takes the model's default
    ([blur_default][srcnn_plugin.models.registry.blur_default]).
    """
    psf_sigma = check_psf_sigma(psf_sigma)
    if not loaded.config.blur_aware:
        if psf_sigma:
            raise ValueError(
                f"Model {model!r} does not take a PSF; leave psf_sigma=None, or use a "
                "blur-aware model (model='acquisition')."
            )
        return None
    if psf_sigma is None:
        from .models.registry import blur_default

        return blur_default(model)
    return float(psf_sigma) / _plane_factor(plan, x_shape)


def prepare_job(plan, x, lo0, hi0, minmax, options: Options, spike_free=None) -> TileJob:
    """Settle statistics, model, device and tile size for a plan (numpy and dask alike).

    ``x`` is the work-layout array (numpy or dask), ``lo0``/``hi0`` its
    per-channel range and ``minmax(x, mix)`` computes the range of the mixed
    channels (only called for ``color_mode='ycbcr'``); ``spike_free(x, plan,
    candidates, keep=)`` the range without single-pixel spikes and flat fill
    at the candidates (``_dtype.flat_values``), and which candidates form
    flat regions (``_plan._spike_free_range`` by default). The
    network's normalisation takes that range where the rest sticks out
    (``_dtype.network_range``; not for ``'ycbcr'``, which is for photographs),
    and the noise is measured away from the fill. ``options.noise`` is
    checked by [check_noise][srcnn_plugin._validation.check_noise]; it is
    measured (or converted) only for noise-aware models.
    """
    from ._device import memory_budget as device_budget
    from ._device import resolve_device
    from ._engine import _check_precision
    from ._noise import channel_noise
    from .models.registry import get_model

    check_finite_range(lo0, hi0)
    tile_size, memory_budget = options.tile_size, options.memory_budget
    fill = np.full((len(lo0), 1), np.nan)  # each channel's fill values (NaN: none)
    if plan.mix is None:
        candidates = flat_values(lo0, hi0)  # fill at the minimum or zero; saturation (kept)
        spike_free = spike_free or _spike_free_range
        lo_free, hi_free, found = spike_free(x, plan, candidates, keep=(2,))
        lo, hi = network_range(lo0, hi0, lo_free, hi_free)
        fill = np.where(found, candidates, np.nan)
    else:
        lo, hi = minmax(x, plan.mix)
    work_dtype = work_type(x.dtype)
    model = _resolve_model(options.model, plan, x.shape)
    loaded = get_model(model)
    _check_one_axis(model, plan, x.shape, options.passes)
    _check_grid(model, loaded, plan, x.shape)
    dev = resolve_device(options.device)
    precision = _check_precision(options.precision, dev)
    n_sr = sum(plan.sr_channels)
    budget = memory_budget or device_budget(dev)
    if tile_size is not None and (int(tile_size) != tile_size or tile_size < 1):
        raise ValueError(f"tile_size must be a positive integer or None, got {tile_size!r}.")
    tile = int(tile_size) if tile_size else _tile_side(budget, n_sr, loaded.config, dev.type)
    tile = on_grid(tile, loaded.config.stride)
    span = np.where(hi > lo, hi - lo, 1.0)
    # Constant channels are resampled only (the network would add its bias).
    active = tuple(bool(f and h > lw) for f, h, lw in zip(plan.sr_channels, hi, lo))
    narrowed = (lo > lo0) | (hi < hi0) if plan.mix is None else np.zeros(len(lo), bool)
    narrowed = tuple(bool(v) for v in narrowed)
    noise = check_noise(options.noise, plan.work_in[-1])
    levels = None
    if loaded.config.noise_aware:
        from .models.registry import noise_gain

        levels = channel_noise(x, plan, lo, span, noise, gain=noise_gain(model), fill=fill)
    told = noise == "poisson" if isinstance(noise, str) else np.any(noise > 0)
    if levels is None and told:
        raise ValueError(
            f"Model {model!r} does not take a noise level; pass noise='auto' (the default), "
            "or use a noise-aware model (model='acquisition')."
        )
    blur = _blur(options.psf_sigma, model, loaded, plan, x.shape)
    p, q = plan.plane
    tile_px = min(tile, plan.work_out[p]) * min(tile, plan.work_out[q])
    plane_batch = int(
        min(64, max(1, budget // (_bytes_per_pixel(loaded.config) * tile_px * max(n_sr, 1))))
    )
    return TileJob(
        plan,
        lo,
        span,
        active,
        lo0,
        hi0,
        bool(options.clip),
        work_dtype,
        model,
        dev,
        precision,
        tile,
        plane_batch,
        options.passes,
        levels,
        blur,
        narrowed,
        tuple((int(c), float(fill[c, k])) for c, k in zip(*np.nonzero(~np.isnan(fill)))),
        np.asarray(hi, np.float64),
    )


def no_data(x, plan: RescalePlan, lo0, hi0, nan=None):
    """NaN ("no data") of a float image in work layout: ``(x, lo0, hi0, nan)``.

    Without NaN (``lo0``/``hi0``, the channels' min and max, are not NaN)
    everything is returned as it is and ``nan`` is ``None``. Otherwise
    ``x`` is filled ([fill_no_data][srcnn_plugin._dtype.fill_no_data], a
    copy: the caller's image is not touched), ``lo0``/``hi0`` become the
    range of the data (0 for a channel without any) and ``nan`` is the
    mask to restore on the output (`restore_no_data`). ``nan`` may be
    given (a lazy mask, with the data's range as ``lo0``/``hi0``) for
    ``x`` a dask array; the fill is then blockwise, with the overlap it
    needs.
    """
    if nan is None:
        if not (np.isnan(lo0).any() or np.isnan(hi0).any()):
            return x, lo0, hi0, None
        nan = np.isnan(x)
        lo0, hi0 = data_range(x, nan)
    check_no_data_color(plan.mix)
    axes = plan.plane or tuple(range(x.ndim - 1))
    if isinstance(x, np.ndarray):
        return fill_no_data(x, axes, lo0), lo0, hi0, nan
    depth = {a: NO_DATA_REACH if a in axes else 0 for a in range(x.ndim)}
    x = x.rechunk({x.ndim - 1: -1})  # each block holds every channel (``lo`` is per channel)
    filled = x.map_overlap(
        fill_no_data, depth=depth, boundary="none", axes=axes, lo=lo0, dtype=x.dtype
    )
    return filled, lo0, hi0, nan


def restore_no_data(out_w, nan, plan: RescalePlan) -> None:
    """NaN in ``out_w`` (the output, work layout) where the input had no data.

    An output pixel is NaN when the input pixel holding its centre is
    ([nearest_source][srcnn_plugin._tiling.nearest_source], on every axis),
    so a hole keeps its place and size and does not grow. In place, rows
    at a time (the mask is never output-sized).
    """
    idx = [nearest_source(n, m) for n, m in zip(nan.shape[:-1], plan.work_out[:-1])]
    channels = np.arange(nan.shape[-1])
    for start in range(0, out_w.shape[0], 64):
        rows = idx[0][start : start + 64]
        mask = nan[np.ix_(rows, *idx[1:], channels)]
        out_w[start : start + len(rows)][mask] = np.nan


def prepare_numpy(image, plan: RescalePlan, options: Options):
    """``(x, lo0, hi0, job, nan)`` for a NumPy image: work layout, range, the `TileJob`.

    ``x`` is the work-layout input (NaN filled, see `no_data`), resampled
    along the axes outside the plane; ``job`` is ``None`` when there is no
    plane to super-resolve; ``nan`` the input's NaN mask, ``None`` without.
    """
    x = _to_work(np.asarray(image), plan.channel_axis)
    lo0, hi0 = _mixed_minmax(x, None)
    x, lo0, hi0, nan = no_data(x, plan, lo0, hi0)
    check_finite_range(lo0, hi0)
    x = _pre_resample(x, plan)
    if plan.plane is None:
        return x, lo0, hi0, None, nan
    job = prepare_job(plan, x, lo0, hi0, _mixed_minmax, options)
    if nan is not None:
        job.no_data = tuple(float(v) for v in nan.mean(axis=tuple(range(nan.ndim - 1))))
    return x, lo0, hi0, job, nan


def describe(job: TileJob | None, plan: RescalePlan) -> dict:
    """What ``rescale`` tells the network for this job, in the image's own units.

    The record [explain][srcnn_plugin.explain] returns: the model, its
    factor, device, precision, passes and tile side; the PSF it is told
    (output pixels); and per (network) channel whether the network refines
    it, the range it is normalised over (``range``: without isolated
    spikes and flat fill where they stick out) and the full range, the flat
    fill values found, whether a saturated plateau (flat at the maximum) was
    found, and the noise it is told: a standard deviation, or a
    variance line ``[a, b]`` (``variance = a * intensity + b``) for shot
    noise, before the model's calibration (``noise_gain``), so passing it
    back as ``noise=`` gives the same result; ``no_data``, the share of NaN
    pixels, where a channel has any (the ranges are then the data's).
    Values are stored values (``preserve_range`` does not apply); with
    ``color_mode='ycbcr'`` the channels are Y, Cb and Cr.
    """
    out = {"super_resolved": job is not None, "color_mode": "channels"}
    if job is None:
        return out
    from ._noise import image_levels
    from .models.registry import noise_gain

    factor = _plane_factor(plan)
    model = job.model
    out.update(
        model=model if isinstance(model, str) else str(getattr(model, "source", model)),
        factor=float(factor),
        device=str(job.device),
        precision=job.precision,
        passes=int(job.passes),
        tile=int(job.tile),
        psf_sigma=None if job.blur is None else float(job.blur) * factor,
    )
    if plan.mix is not None:
        out["color_mode"] = "ycbcr"
    told = (
        None if job.noise is None else image_levels(job.noise, job.lo, job.span, noise_gain(model))
    )
    channels = []
    for k in range(len(job.lo)):
        ch = {
            "refined": bool(job.active[k]),
            "range": [float(job.lo[k]), float(job.hi[k])],
        }
        if plan.mix is None:
            ch["full_range"] = [float(job.lo0[k]), float(job.hi0[k])]
            top = float(job.hi0[k])
            ch["fill"] = [v for c, v in job.fills if c == k and v != top]
            ch["saturated"] = any(c == k and v == top for c, v in job.fills)
        if told is not None:
            ch["noise"] = told[k].tolist()  # a level (float), or a line [a, b]
        if job.no_data:
            ch["no_data"] = job.no_data[k]
        channels.append(ch)
    out["channels"] = channels
    return out


def describe_line(info: dict) -> str:
    """`describe`'s record as one line (``srcnn-plugin upscale -v``, the napari status).

    Examples
    --------
    >>> info = {"super_resolved": True, "model": "m", "factor": 2.0, "passes": 2,
    ...         "device": "cpu", "psf_sigma": 0.0, "color_mode": "channels",
    ...         "channels": [{"refined": True, "range": [100.0, 900.0],
    ...                       "full_range": [0.0, 900.0], "fill": [0.0], "noise": 12.5}]}
    >>> describe_line(info)
    'm (x2, 2 passes, cpu, PSF 0); channel 0: range 100-900 of 0-900, fill 0, noise 12.5'
    """
    if not info["super_resolved"]:
        return "no plane grows: spline resampling only"
    head = f"{info['model']} (x{info['factor']:g}, {info['passes']} passes, {info['device']}"
    if info["psf_sigma"] is not None:
        head += f", PSF {info['psf_sigma']:g}"
    parts = [head + ")"]
    names = "Y Cb Cr A".split() if info["color_mode"] == "ycbcr" else None
    for k, ch in enumerate(info["channels"]):
        text = f"{names[k] if names else f'channel {k}'}: "
        lo, hi = ch["range"]
        text += f"range {lo:.6g}-{hi:.6g}"
        if "full_range" in ch and ch["full_range"] != ch["range"]:
            text += " of {:.6g}-{:.6g}".format(*ch["full_range"])
        if ch.get("fill"):
            text += ", fill " + " ".join(f"{v:g}" for v in ch["fill"])
        if "noise" in ch:
            noise = ch["noise"]
            if isinstance(noise, float):
                text += f", noise {noise:.4g}"
            else:
                text += ", noise line {:.4g} {:.4g}".format(*noise)
        if ch.get("no_data"):
            text += f", no data (NaN) {ch['no_data']:.1%}"
        if not ch["refined"]:
            text += " (not refined)"
        parts.append(text)
    return "; ".join(parts)


def rescale_steps(
    image: np.ndarray,
    plan: RescalePlan,
    options: Options | None = None,
    *,
    out: np.ndarray | None = None,
    record: dict | None = None,
) -> Iterator[tuple[int, int]]:
    """Generator doing the work of ``rescale``; yields ``(done, total)`` per tile.

    The result is the generator's return value (``StopIteration.value``).
    Closing the generator early cancels the work between two tiles. A
    ``record`` dict is filled with [describe][srcnn_plugin._job.describe]'s
    record of the job before the first tile.
    """
    from ._engine import is_out_of_memory

    options = options or Options()
    x, lo0, hi0, job, nan = prepare_numpy(image, plan, options)
    if record is not None:
        record.update(describe(job, plan))
    if out is None:
        out = np.empty(plan.out_shape, plan.out_dtype)
    out_w = _to_work(out, plan.channel_axis)
    if job is None:
        _fill_without_plane(x, out_w, plan, lo0, hi0, options.clip)
        if nan is not None:
            restore_no_data(out_w, nan, plan)
        yield (1, 1)
        return out
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
            if nan is not None:
                restore_no_data(out_w, nan, plan)
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
                tile = on_grid(tile // 2, engine.loaded.config.stride)


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


def drain(steps, progress=False):
    """Run a [rescale_steps][srcnn_plugin._job.rescale_steps] generator to its result.

    ``progress``: ``True`` shows a tqdm bar, a callable gets ``(done, total)``.
    """
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
