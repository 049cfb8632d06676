"""Runs the network on tiles: the only place that touches torch at inference.

An [Engine][srcnn_plugin._engine.Engine] holds a private copy of a loaded
model on one device and precision (copies are cached and shared, and never
modified, so engines are safe to use from several threads). Its
[run][srcnn_plugin._engine.Engine.run] takes normalised low-resolution slabs
and a [TilePlan][srcnn_plugin._tiling.TilePlan] and returns the output tile.
"""

from __future__ import annotations

import copy
import threading
import warnings
import weakref

import numpy as np

from ._device import resolve_device
from ._options import ENSEMBLES
from ._tiling import TilePlan

__all__ = ["Engine", "PRECISIONS", "forward_items", "is_out_of_memory", "cpu_has_bf16"]

PRECISIONS = ("float32", "bfloat16", "float16")
# Device copies of each model, keyed by the model object itself (weakly): an
# entry lives as long as its model, so a new model (e.g. another adaptation)
# can never be served a dead model's copy through a reused id().
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a device out-of-memory error (CUDA or MPS)."""
    import torch

    oom = getattr(torch.cuda, "OutOfMemoryError", ())
    return isinstance(exc, oom) or "out of memory" in str(exc).lower()


def cpu_has_bf16() -> bool:
    """True if this CPU runs bfloat16 convolutions natively (AVX-512 BF16 / AMX)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _check_precision(precision: str, device) -> str:
    """Validate ``precision`` for ``device``; the precision actually used.

    ``bfloat16`` on a CPU without native support falls back to ``float32``
    with a warning (emulated bf16 convolutions are about 10x slower).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; pass one of {PRECISIONS}.")
    if precision == "float16" and device.type == "cpu":
        raise ValueError(
            "float16 is only offered on GPUs; on the CPU pass precision='bfloat16' "
            "(fast on CPUs with AVX-512 BF16 or AMX) or 'float32'."
        )
    if precision == "bfloat16" and device.type == "cpu" and not cpu_has_bf16():
        warnings.warn(
            "This CPU has no native bfloat16 (AVX-512 BF16/AMX); using float32, which is "
            "faster here.",
            RuntimeWarning,
            stacklevel=4,
        )
        return "float32"
    return precision


# Largest first-layer activation of one CPU forward pass. glibc's malloc serves
# blocks above its mmap threshold (which adapts up to 32 MiB) with fresh pages,
# which the kernel faults in and zeroes on every tile: in one forward pass of 4
# tiles, a 4-plane stack ran the fast (9-1-5) model 1.35x slower than split
# (benchmarks/bench_speed.py, the stack table). The bound stays below the
# threshold that _raise_mmap_threshold sets (31 MiB).
_MAX_ACTIVATION = 24 * 2**20
# glibc's mmap threshold as _raise_mmap_threshold sets it (the ceiling of its
# own dynamic threshold is 32 MiB), and the free heap it keeps (glibc's own rule:
# twice the threshold).
_MMAP_THRESHOLD = 31 * 2**20
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD
_MMAP_RAISED = False
#: The environment variables by which a process sets glibc's malloc options itself.
MALLOC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def _raise_mmap_threshold() -> bool:
    """Set glibc's mmap threshold to 31 MiB, once per process (Linux, glibc).

    A fresh process starts with a 128 KiB threshold and returns freed heap
    above 128 KiB to the system, so every tile's activations (18 MiB for a
    256 tile's first layer) are fresh pages, which the kernel faults in and
    zeroes: about a quarter of the fast model's time (benchmarks/bench_speed.py,
    "fresh process" table). glibc raises both thresholds on its own only
    when it frees a large mapped block, which a long session does sooner or
    later; this sets the state it would reach (``mallopt``: blocks below 31
    MiB come from the heap, which keeps up to 62 MiB free). Nothing is
    changed if the process set glibc's malloc options itself
    (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES``;
    dask.distributed sets the trim threshold, to give its workers' memory
    back), or on another libc or system. Returns whether it was set in this
    call.
    """
    global _MMAP_RAISED
    if _MMAP_RAISED:
        return False
    _MMAP_RAISED = True
    import os
    import sys

    try:
        libc_version = os.confstr("CS_GNU_LIBC_VERSION") or ""
        if not sys.platform.startswith("linux") or "glibc" not in libc_version:
            return False
        if any(os.environ.get(name) for name in MALLOC_VARIABLES):
            return False
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
        ok = libc.mallopt(m_mmap_threshold, _MMAP_THRESHOLD) == 1
        return bool(ok and libc.mallopt(m_trim_threshold, _TRIM_THRESHOLD) == 1)
    except (OSError, ValueError, AttributeError):  # no confstr name, no libc symbols
        return False


def forward_items(n: int, channels: int, height: int, width: int) -> int:
    """How many of ``n`` batch items one CPU forward pass takes.

    As many as keep the first layer's ``channels`` float32 maps of ``height``
    x ``width`` within ``_MAX_ACTIVATION`` bytes, at least one. Items are
    independent, so the split never changes a result.

    Examples
    --------
    >>> forward_items(9, 64, 268, 268)
    1
    >>> forward_items(9, 64, 76, 76)
    9
    """
    per_item = 4 * channels * height * width
    return max(1, min(n, _MAX_ACTIVATION // max(per_item, 1)))


def _model_on(loaded, device):
    import torch

    key = str(device)
    with _LOCK:
        copies = _CACHE.setdefault(loaded.model, {})
        net = copies.get(key)
        if net is None:
            net = copy.deepcopy(loaded.model).eval()
            net = net.to(device=device)
            if device.type == "cpu":
                net = net.to(memory_format=torch.channels_last)
            for p in net.parameters():
                p.requires_grad_(False)
            copies[key] = net
    return net


class _FlatTable:
    """Piecewise-linear table of the network's response to flat images.

    ``values`` is ``(N,)``, or ``(N, s, s)`` for a network on the
    low-resolution grid: one value per phase of an ``s x s`` block, looked up
    at each pixel's phase (a tile starts on a whole block).
    """

    LO, HI, N = -0.5, 1.5, 513

    def __init__(self, values):
        self.values = values

    def __call__(self, c):
        import torch

        pos = (c - self.LO) * ((self.N - 1) / (self.HI - self.LO))
        pos = pos.clamp(0, self.N - 1)
        i0 = pos.floor().clamp(max=self.N - 2)
        frac = pos - i0
        i0 = i0.long()
        if self.values.ndim == 1:
            return torch.lerp(self.values[i0], self.values[i0 + 1], frac)
        s = self.values.shape[-1]
        rows = torch.arange(c.shape[-2], device=c.device) % s
        cols = torch.arange(c.shape[-1], device=c.device) % s
        idx = i0 * (s * s) + (rows[:, None] * s + cols)
        flat = self.values.reshape(-1)
        return torch.lerp(flat[idx], flat[idx + s * s], frac)


def _flat_table(net, device, noise=None, blur=None, passes: int = 1) -> _FlatTable:
    """Table of ``net(c) - c`` for flat images ``c`` (at one noise level and blur).

    ``noise`` is a level or a variance line ``(a, b)`` (signal-dependent
    noise): a flat image ``c`` then has the level ``sqrt(a c + b)``.

    Subtracting it (at each pixel's bicubic value) makes the network exactly
    flat-field neutral: a constant region stays constant, so the mean
    intensity and the centroid of sparse objects on a dark background are not
    biased by the network's small response to flat input. Computed exactly
    by [flat_response][srcnn_plugin.models.srcnn.flat_response]. A network
    on the low-resolution grid answers a flat image with an ``s x s``
    pattern; the self-ensemble of ``passes`` averages it over its
    transforms (a 180-degree turn, or all 8 turns and mirrors of the block,
    which each map whole blocks onto whole blocks), so the table holds the
    ensemble's pattern.
    """
    import torch

    from .models.srcnn import flat_response

    levels = torch.linspace(_FlatTable.LO, _FlatTable.HI, _FlatTable.N, device=device)
    if isinstance(noise, tuple):
        noise = (noise[0] * levels + noise[1]).clamp_min(0).sqrt()
    with torch.inference_mode():
        values = flat_response(net, levels, noise, blur)
        if values.ndim == 1:
            return _FlatTable(values - levels)
        values = values - levels[:, None, None]
        if passes == 2:
            values = 0.5 * (values + values.flip(-2, -1))
        elif passes == 8:
            turns = [values.rot90(k, (-2, -1)) for k in range(4)]
            values = torch.stack(turns + [t.flip(-1) for t in turns]).mean(0)
    return _FlatTable(values)


class Engine:
    """A model ready to run on one device at one precision.

    Parameters
    ----------
    loaded : LoadedWeights
        The model (see [get_model][srcnn_plugin.models.registry.get_model]).
    device : str or torch.device, optional
        ``None`` picks CUDA, then MPS, then CPU.
    precision : {'float32', 'bfloat16', 'float16'}
        Arithmetic of the convolutions (the bicubic step and the residual
        addition are always float32).
    passes : {1, 2, 8}
        Self-ensemble size (``Options.passes``): 1 pass; 2, the default,
        averages the network over a 180-degree rotation of its input, which
        makes it exactly equivariant to point reflection (a symmetric feature
        keeps its centre: no sub-pixel drift from slightly asymmetric learned
        kernels); 8 averages every rotation and mirror (see
        [dihedral_ensemble][srcnn_plugin.models.srcnn.dihedral_ensemble]).
    """

    def __init__(self, loaded, device=None, precision: str = "float32", passes: int = 2):
        if passes not in ENSEMBLES:
            raise ValueError(f"passes must be 1, 2 or 8, got {passes!r}.")
        self.passes = int(passes)
        self.device = resolve_device(device)
        self.precision = _check_precision(precision, self.device)
        self.loaded = loaded
        self.net = _model_on(loaded, self.device)
        if self.device.type == "cpu":
            _raise_mmap_threshold()
        self.halo = loaded.config.halo
        self._flat: dict = {}

    def flat(self, noise=None, blur=None) -> _FlatTable:
        """The flat-field table at a noise level (or line) and blur (cached per engine)."""
        if noise is not None:
            noise = tuple(float(v) for v in noise) if np.ndim(noise) else float(noise)
        key = (noise, None if blur is None else float(blur))
        table = self._flat.get(key)
        if table is None:
            table = self._flat[key] = _flat_table(self.net, self.device, *key, self.passes)
        return table

    def run(self, slabs, plan: TilePlan, sr: bool = True, noise=None, blur=None):
        """Bicubic-upsample ``slabs`` and (if ``sr``) refine them with the network.

        Parameters
        ----------
        slabs : (B, h, w) float32 ndarray or tensor
            Normalised low-resolution slabs, ``plan.src`` of each plane. A
            tensor (already on the device) gets a tensor back on the device,
            so a caller can keep the tile there.
        plan : TilePlan
            The tile.
        sr : bool
            ``False`` returns the bicubic tile only (e.g. for an alpha channel).
        noise : (B,) or (B, 2) ndarray, optional
            Each slab's noise level in the network's units (noise-aware
            models; others ignore it), or its variance line ``(a, b)`` for
            signal-dependent noise: a per-pixel level ``sqrt(a mu + b)`` at
            the local mean ``mu`` (see
            [noise_map][srcnn_plugin.models.srcnn.noise_map]).
        blur : float, optional
            PSF sigma to undo, in input pixels (blur-aware models).

        Returns
        -------
        (B, y1 - y0, x1 - x0) float32 ndarray, or tensor for a tensor ``slabs``
        """
        import torch
        from torch.nn import functional as F

        from .models.srcnn import as_condition, dihedral_ensemble, infer, point_symmetric

        dev = self.device
        as_tensor = isinstance(slabs, torch.Tensor)
        with torch.inference_mode():
            if not as_tensor:
                slabs = torch.from_numpy(np.ascontiguousarray(slabs, dtype=np.float32))
            s = slabs.to(dev, torch.float32)
            my = torch.from_numpy(plan.my).to(dev)
            mx = torch.from_numpy(plan.mx).to(dev)
            bic = torch.matmul(torch.matmul(my, s), mx.T)
            top, bottom, left, right = plan.pad
            h = self.halo
            if not sr:
                y0, y1, x0, x1 = plan.out
                r0, c0 = h - top, h - left
                out = bic[:, r0 : r0 + (y1 - y0), c0 : c0 + (x1 - x0)].float()
                return out if as_tensor else out.cpu().numpy()
            x = bic[:, None]
            if any(plan.pad):
                x = F.pad(x, (left, right, top, bottom), mode="replicate")
            if dev.type == "cpu":
                x = x.contiguous(memory_format=torch.channels_last)
            # Reduced precision covers the convolutions only (autocast); the
            # residual addition over the bicubic input stays float32.
            low = self.precision != "float32"
            if not self.loaded.config.noise_aware:
                noise = None
            if not self.loaded.config.blur_aware:
                blur = None
            levels = None if noise is None else torch.as_tensor(noise, dtype=torch.float32)

            lv = None if levels is None else levels.to(dev)
            width = self.loaded.config.n1

            def condition(t, i, j):
                """Items ``i:j``'s levels, or their lines as a map of ``t`` (maybe flipped)."""
                if lv is None or lv.ndim == 0:
                    return lv
                return as_condition(self.net, t, lv[i:j])

            def net(t):
                if dev.type != "cpu":
                    return infer(self.net, t, condition(t, 0, t.shape[0]), blur)
                # Flipped inputs come back in the default layout; a forward pass takes
                # as many items as keep its activations reusable (forward_items).
                t = t.contiguous(memory_format=torch.channels_last)
                n = t.shape[0]
                k = forward_items(n, width, *t.shape[-2:])
                if k >= n:
                    return infer(self.net, t, condition(t, 0, n), blur)
                parts = [
                    infer(self.net, t[i : i + k], condition(t[i : i + k], i, i + k), blur)
                    for i in range(0, n, k)
                ]
                return torch.cat(parts)

            with torch.autocast(dev.type, dtype=getattr(torch, self.precision), enabled=low):
                if self.passes == 8:
                    y = dihedral_ensemble(net, x)
                elif self.passes == 2:
                    y = point_symmetric(net, x)
                else:
                    y = net(x)
            y = y.float()
            inner = x[..., h:-h, h:-h].float()
            values = [None] if noise is None else np.unique(noise, axis=0)
            if len(values) == 1:  # one level for the whole batch (one channel): no indexing
                y = y - self.flat(values[0], blur)(inner)
            else:
                for value in values:
                    same = noise == value if noise.ndim == 1 else (noise == value).all(axis=1)
                    sel = torch.from_numpy(np.flatnonzero(same)).to(dev)
                    y[sel] -= self.flat(value, blur)(inner[sel])
            return y[:, 0] if as_tensor else y[:, 0].cpu().numpy()
