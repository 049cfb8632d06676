"""Adaptation: fine-tune a model on the user's own images, without ground truth.

Internal learning (ZSSR, Shocher et al., CVPR 2018) with an explicit
acquisition model. The image ``y`` a microscope recorded is itself a
high-resolution target: recorded once more by the stated acquisition (the
same PSF sigma and sampling, in the image's own pixels; see
[Degradation][srcnn_plugin.degradations.Degradation]) it gives a "son" ``y_s``
one factor coarser, and the pair ``(bicubic(y_s), y)`` shows the network
exactly the relation between the recorded image and the finer one it should
produce. The son is topped up with Gaussian noise to the image's own measured
noise level, so the network sees inputs as noisy as the real one (noise-aware
models are told that level, blur-aware ones the PSF, as at inference).

The pairs come from up to ``_MAX_PLANES`` planes per channel (central crops
of at most ``_MAX_SIDE`` pixels). The last ``holdout`` of each plane (along
its longer axis) is held out; the copy of the model is trained with Adam on
random patches of the rest and scored on the held-out part every ``every``
steps. The best state is kept; training stops after ``steps`` steps,
``seconds`` of wall time or ``patience`` scores without improvement. The
adapted model is then the average of the unadapted and the fine-tuned
weights, ``(1 - blend) * before + blend * after`` (``blend`` 0.5; weight-space
ensembling, WiSE-FT, Wortsman et al., CVPR 2022): one network, as fast as
the bundled one, that keeps the bundled model's knowledge of other scales.
The held-out pairs share the image's content but not its scale, so they
overrate a fine-tuned model where the bundled one already matches the
acquisition; the average does not lose there and gains more where
adaptation helps (measured on microscopy-dev, see the adaptation guide).
The guard: the average is used when it beats the unadapted model on the
held-out part by ``min_gain`` dB, else the fine-tuned model alone when it
does (``report['blend']`` says which), else the unadapted model is returned
with an [AdaptationWarning][srcnn_plugin._adapt.AdaptationWarning].

Everything here is settled per call and driven by
[adapt_steps][srcnn_plugin._adapt.adapt_steps], a generator like
``rescale_steps`` (progress, cancellation by closing it);
[adapt_options][srcnn_plugin._adapt.adapt_options] is what ``rescale(...,
adapt=...)`` uses and ``Upscaler.adapt`` the public face.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np

__all__ = [
    "AdaptSettings",
    "AdaptationWarning",
    "AdaptResult",
    "adapt_steps",
    "adapt_options",
    "fine_tune",
    "internal_pair",
    "pair_from_son",
]

_MAX_PLANES = 8
_MAX_SIDE = 512


class AdaptationWarning(UserWarning):
    """Adaptation did not improve the held-out internal pairs; the model is unchanged."""


@dataclass(frozen=True)
class AdaptSettings:
    """How to adapt (``rescale(..., adapt=...)``, ``Upscaler.adapt``).

    Parameters
    ----------
    degradation : str
        How the images were sampled: ``'binning'`` (a camera; default),
        ``'bicubic'`` or ``'subsample'`` (see
        [degradations][srcnn_plugin.degradations]). The PSF is ``psf_sigma``
        (``rescale``'s); the noise is ``noise`` (measured by default).
    steps : int
        Most optimiser steps (600: chosen on microscopy-dev and T91, see the
        adaptation guide).
    seconds : float
        Wall-time budget, counted from the call (making the pairs counts too).
    seed : int
        Seed of the patch sampler and of the noise added to the sons; a run
        that ends by ``steps`` or ``patience`` is deterministic for a seed.
    lr : float
        Adam learning rate.
    batch, patch : int
        Patches per step and their side (input pixels).
    holdout : float
        Share of each plane held out to score the adaptation.
    every, patience : int
        Score every ``every`` steps; stop after ``patience`` scores without
        improvement.
    min_gain : float
        Held-out PSNR gain (dB) the adapted model needs to be used.
    blend : float
        Share of the fine-tuned weights in the adapted model (the rest are
        the unadapted model's): 0.5, chosen on microscopy-dev; 1 keeps the
        fine-tuned model alone.

    Examples
    --------
    >>> AdaptSettings.from_value(True).steps
    600
    >>> AdaptSettings.from_value({"seconds": 20}).seconds
    20
    >>> AdaptSettings.from_value({"minutes": 1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: Unknown adaptation setting(s) ['minutes']; pass any of ['degradation', ...].
    """

    degradation: str = "binning"
    steps: int = 600
    seconds: float = 60.0
    seed: int = 0
    lr: float = 3e-4
    batch: int = 32
    patch: int = 33
    holdout: float = 0.2
    every: int = 25
    patience: int = 8
    min_gain: float = 0.01
    blend: float = 0.5

    def __post_init__(self):
        from .degradations import SAMPLINGS

        if self.degradation not in SAMPLINGS:
            raise ValueError(
                f"Unknown degradation {self.degradation!r} for adaptation; pass one of "
                f"{SAMPLINGS} (state the PSF with psf_sigma= and the noise with noise=)."
            )
        for name in ("steps", "batch", "patch", "every", "patience"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"Adaptation {name} must be a positive integer, got {v!r}.")
        if not self.seconds > 0:
            raise ValueError(f"Adaptation seconds must be > 0, got {self.seconds!r}.")
        if not 0 < self.holdout < 1:
            raise ValueError(f"holdout must be a fraction in (0, 1), got {self.holdout!r}.")
        if not 0 < self.blend <= 1:
            raise ValueError(
                f"blend must be in (0, 1] (the share of the fine-tuned weights), got "
                f"{self.blend!r}."
            )

    @classmethod
    def from_value(cls, value) -> AdaptSettings | None:
        """Settings from ``adapt=``: ``True``, a dict of fields, settings, or ``None``/``False``."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            names = [f.name for f in fields(cls)]
            unknown = sorted(set(value) - set(names))
            if unknown:
                listed = ", ".join(repr(n) for n in names)
                raise TypeError(f"Unknown adaptation setting(s) {unknown}; pass any of [{listed}].")
            return cls(**value)
        raise TypeError(
            f"adapt must be True, False, None, a dict of settings or AdaptSettings; got "
            f"{type(value).__name__}."
        )


@dataclass
class AdaptResult:
    """What adaptation produced: the model to use and a report.

    ``loaded`` is the adapted model (``LoadedWeights`` whose metadata records
    the adaptation), or the unadapted one when ``report['adapted']`` is false.
    """

    loaded: object
    report: dict


def internal_pair(plane: np.ndarray, factor: float, degradation, noise, rng):
    """``(target, input, noise)`` of one plane: the plane, its son enlarged back, its noise.

    ``plane`` (normalised to the network's range) is recorded once more with
    ``degradation`` (a noise-free
    [Degradation][srcnn_plugin.degradations.Degradation]), topped up with
    Gaussian noise to ``noise`` (the plane's own level, or its variance line
    ``(a, b)`` for shot noise) and enlarged with
    MATLAB bicubic to the plane's shape; the third value is the son's
    measured noise, what a noise-aware model is told.

    Examples
    --------
    >>> from srcnn_plugin.degradations import Degradation
    >>> rng = np.random.default_rng(0)
    >>> t, x, n = internal_pair(rng.random((41, 40)), 2, Degradation("binning"), 0.0, rng)
    >>> t.shape, x.shape
    ((40, 40), (40, 40))
    """
    if float(factor).is_integer():
        s = int(factor)
        plane = plane[: plane.shape[0] - plane.shape[0] % s, : plane.shape[1] - plane.shape[1] % s]
    return pair_from_son(plane, degradation.shrink(plane, factor), noise, rng)


def pair_from_son(plane: np.ndarray, son: np.ndarray, noise, rng):
    """``(target, input, noise)``: ``son`` topped up to ``noise`` and enlarged to ``plane``.

    The shared end of every internal pair (isotropic and one-axis ones): the
    recording ``son`` of ``plane`` gets Gaussian noise up to the plane's own
    level, is enlarged with MATLAB bicubic to the plane's shape (as
    ``rescale`` enlarges before the network), and its measured noise is what
    a noise-aware model is told. For shot noise ``noise`` is the plane's
    variance line ``(a, b)``: each pixel of the son is topped up to the
    line's variance at its intensity, and the son's measured line is told.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> plane = np.tile(np.linspace(0.1, 0.9, 256), (256, 1))  # a clean ramp
    >>> _, _, told = pair_from_son(plane, plane[::2, ::2], (0.004, 1e-5), rng)
    >>> bool(abs(told[0] / 0.004 - 1) < 0.2)  # the son now has the plane's shot noise
    True
    """
    from ._imresize import imresize
    from .degradations import estimate_noise, estimate_poisson_gaussian

    if isinstance(noise, tuple):
        a_s, b_s = estimate_poisson_gaussian(son)
        left = (noise[0] - a_s) * son + (noise[1] - b_s)
        son = son + rng.normal(0.0, 1.0, son.shape) * np.sqrt(np.clip(left, 0.0, None))
        told = estimate_poisson_gaussian(son)
    else:
        left = noise**2 - estimate_noise(son) ** 2
        if left > 0:
            son = son + rng.normal(0.0, math.sqrt(left), son.shape)
        told = estimate_noise(son)
    inp = imresize(son, output_shape=plane.shape)
    return plane.astype(np.float32), inp.astype(np.float32), told


def plane_noise(plane: np.ndarray, level, ignore=None):
    """The noise of a normalised plane for its internal pairs: ``level``, or measured.

    ``None`` measures one level
    ([estimate_noise][srcnn_plugin.degradations.estimate_noise]),
    ``'poisson'`` the variance line
    ([estimate_poisson_gaussian][srcnn_plugin.degradations.estimate_poisson_gaussian]),
    both away from the pixels in ``ignore`` (a fill); a stated level or line
    is kept.
    """
    from .degradations import estimate_noise, estimate_poisson_gaussian

    if level is None:
        return estimate_noise(plane, ignore=ignore)
    if isinstance(level, str):
        return estimate_poisson_gaussian(plane, ignore=ignore)
    return level


def _split(target, inp, holdout: float, stride: int = 1):
    """Training part and held-out part of a pair (the last share along the longer axis).

    The cut falls on a multiple of ``stride`` (a model on the low-resolution
    grid), so both parts start on a whole low-resolution pixel.
    """
    axis = 0 if target.shape[0] >= target.shape[1] else 1
    n = target.shape[axis]
    cut = n - max(int(round(holdout * n)), 1)
    cut -= cut % stride
    a = [slice(None)] * 2
    b = [slice(None)] * 2
    a[axis], b[axis] = slice(0, cut), slice(cut, n)
    a, b = tuple(a), tuple(b)
    return (target[a], inp[a]), (target[b], inp[b])


def _planes(image, scale, channel_axis, color_mode, noise):
    """Normalised planes of the channels the network refines, with their noise.

    Returns ``(planes, factor, shape, grid)``: ``planes`` a list of ``(plane,
    level)``, ``plane`` in the network's units and ``level`` the channel's
    stated noise (``noise=``, see ``check_noise``) in those units (a level,
    or a stated camera's variance line ``(a, b)``), ``None`` to measure a
    level or ``'poisson'`` to measure a line (see ``plane_noise``); ``grid``
    the exact integer factor of both plane axes, if any (``_job._plane_grid``).
    """
    from ._dtype import (
        MODEL_RANGE,
        data_range,
        fill_mask,
        fill_no_data,
        flat_values,
        mask_union,
        model_affine,
        network_range,
        spike_free_minmax,
    )
    from ._job import _plane_grid
    from ._noise import channel_noise
    from ._plan import _plane_order, _to_work, make_plan
    from ._rescale import _is_dask
    from ._validation import check_finite_range, check_no_data_color, check_noise

    arr = image if _is_dask(image) else np.asarray(image)
    plan = make_plan(arr.shape, arr.dtype, scale, channel_axis=channel_axis, color_mode=color_mode)
    if plan.plane is None:
        raise ValueError(
            f"Cannot adapt to an image of shape {arr.shape} at scale {scale}: adaptation "
            "learns from 2-D planes, and no two spatial axes of this request grow."
        )
    p, q = plan.plane
    fp, fq = plan.work_out[p] / plan.work_in[p], plan.work_out[q] / plan.work_in[q]
    if not math.isclose(fp, fq, rel_tol=0.02):
        raise ValueError(
            f"Adaptation needs the same factor on both axes of the plane, got {fp:g} and {fq:g}; "
            "adapt at one factor (e.g. scale=2) and use the model for this request."
        )
    x = _to_work(arr, plan.channel_axis).transpose(_plane_order(plan))
    n_stack = len(plan.stack_axes)
    total = int(np.prod(x.shape[:n_stack])) if n_stack else 1
    picks = np.unique(np.linspace(0, total - 1, min(total, _MAX_PLANES)).round().astype(int))
    h, w = x.shape[-2:]
    r0, c0 = max((h - _MAX_SIDE) // 2, 0), max((w - _MAX_SIDE) // 2, 0)
    crops = []
    for flat in picks:
        pos = np.unravel_index(flat, x.shape[:n_stack]) if n_stack else ()
        crop = np.asarray(x[pos][:, r0 : r0 + _MAX_SIDE, c0 : c0 + _MAX_SIDE], np.float64)
        if plan.mix is not None:
            crop = np.einsum("kc,chw->khw", plan.mix, crop)
        crops.append(crop)  # (C, P, Q)
    stack = np.stack(crops)
    lo0 = stack.min(axis=(0, 2, 3))
    hi0 = stack.max(axis=(0, 2, 3))
    if np.isnan(lo0).any() or np.isnan(hi0).any():  # no data: filled as rescale fills it
        check_no_data_color(plan.mix)
        last = stack.transpose(0, 2, 3, 1)  # channel-last, as rescale fills it
        lo0, hi0 = data_range(last)
        stack = fill_no_data(last, (1, 2), lo0).transpose(0, 3, 1, 2)
    check_finite_range(lo0, hi0)
    lo, hi = lo0, hi0
    fills = [None] * stack.shape[1]
    if plan.mix is None:  # spikes and fill do not set the contrast (as in rescale), nor are learnt
        # Each candidate's mask once: fill (the first two) leaves the range; fill and
        # saturation (the third) leave the noise.
        flats = flat_values(lo0, hi0)
        per = [[fill_mask(stack[:, c], v) for v in flats[c]] for c in range(stack.shape[1])]
        ranged = [mask_union(m[:2]) for m in per]
        fills = [mask_union(m) for m in per]
        free = np.array([spike_free_minmax(stack[:, c], f) for c, f in enumerate(ranged)])
        lo, hi = network_range(lo0, hi0, free[:, 0], free[:, 1])
    span = np.where(hi > lo, hi - lo, 1.0)
    gain, offset = model_affine(lo, span)
    levels = check_noise(noise, plan.work_in[-1])
    if not isinstance(levels, str):  # stated: in the network's units, as rescale tells it
        levels = channel_noise(None, plan, lo, span, levels)
    planes = []
    for c in range(stack.shape[1]):
        if not plan.sr_channels[c] or hi[c] <= lo[c]:
            continue
        if isinstance(levels, str):  # measured per plane (plane_noise)
            level = None if levels == "auto" else levels
        else:
            level = tuple(map(float, levels[c])) if levels.ndim == 2 else float(levels[c])
        narrowed = lo[c] > lo0[c] or hi[c] < hi0[c]
        for k, crop in enumerate(stack):
            plane = crop[c] * gain[c] + offset[c]
            plane_level = level
            if fills[c] is not None and (level is None or isinstance(level, str)):
                plane_level = plane_noise(plane, level, ignore=fills[c][k])  # not the fill's
            planes.append((np.clip(plane, *MODEL_RANGE) if narrowed else plane, plane_level))
    return planes, max(fp, fq), arr.shape, _plane_grid(plan)


def _psnr(pairs, net, noise, blur, device) -> float:
    """Mean-MSE PSNR (peak 1, the network's range) of ``net`` on the held-out pairs."""
    import torch

    from .models.srcnn import predict_padded

    se, n = 0.0, 0
    net.eval()
    with torch.inference_mode():
        for (target, inp), sigma in zip(pairs, noise):
            x = torch.from_numpy(inp)[None, None].to(device)
            if isinstance(sigma, tuple):  # a variance line: one item's (1, 2)
                sigma = torch.tensor([sigma], dtype=torch.float32, device=device)
            y = predict_padded(net, x, noise=sigma, blur=blur)[0, 0].float().cpu().numpy()
            se += float(np.sum((y.astype(np.float64) - target) ** 2))
            n += target.size
    net.train()
    return 10 * math.log10(1.0 / max(se / n, 1e-20))


def adapt_steps(
    images, scale, options, settings: AdaptSettings, *, channel_axis=None, color_mode="channels"
) -> Iterator[tuple[int, int]]:
    """Generator adapting ``options.model`` to ``images``; yields ``(step, steps)``.

    Its return value (``StopIteration.value``) is an
    [AdaptResult][srcnn_plugin._adapt.AdaptResult]. Closing the generator
    cancels between two steps.

    Parameters
    ----------
    images : array or sequence of arrays
        numpy or dask; all with ``channel_axis`` and ``color_mode`` as in
        ``rescale`` and at one plane factor.
    scale : float or sequence of float
        As in ``rescale``.
    options : Options
        ``model`` (the model to start from, by the one choice rule),
        ``device``, ``noise`` and ``psf_sigma`` (the acquisition) are used.
    settings : AdaptSettings
    """
    from ._validation import check_psf_sigma
    from .degradations import Degradation
    from .models.registry import get_model, resolve_model

    t_start = time.perf_counter()
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("adapt needs at least one image; pass an array or a list of arrays.")
        images = list(images)
    else:
        images = [images]
    planes, factors, shapes, grids = [], [], [], set()
    for img in images:
        ps, factor, shape, grid = _planes(img, scale, channel_axis, color_mode, options.noise)
        planes += ps
        factors.append(factor)
        shapes.append(list(shape))
        grids.add(grid)
    if not planes:
        raise ValueError("The images are constant; adaptation needs planes with detail.")
    factor = factors[0]
    if any(not math.isclose(f, factor, rel_tol=0.02) for f in factors):
        raise ValueError(
            f"All images must be adapted at one plane factor, got {sorted(set(factors))}."
        )
    grid = grids.pop() if len(grids) == 1 else None
    model_name = resolve_model(options.model, factor, grid)
    base = get_model(model_name)
    cfg = base.config
    if cfg.stride > 1 and grid != cfg.stride:
        raise ValueError(
            f"Model {options.model!r} computes on the x{cfg.stride} low-resolution grid: it "
            f"adapts only at exactly x{cfg.stride} on both axes of the plane; pass "
            f"scale={cfg.stride}, or a family (model='fast', or None) to let the factor choose."
        )
    psf = check_psf_sigma(options.psf_sigma)
    if psf is None:
        from .models.registry import blur_default

        psf = blur_default(model_name) * factor
    blur = float(psf) / factor if cfg.blur_aware else None
    degradation = Degradation(settings.degradation, psf=float(psf))
    rng = np.random.default_rng([settings.seed, 11])
    pairs = []
    for plane, level in planes:
        pairs.append(internal_pair(plane, factor, degradation, plane_noise(plane, level), rng))
    report = {
        "base_model": model_name if isinstance(model_name, str) else base.source,
        "factor": float(factor),
        "degradation": str(degradation),
        "psf_sigma": float(psf),
        "noise": _noise_spec(options.noise),
        "source_shapes": shapes,
    }
    return (yield from fine_tune(base, pairs, blur, settings, options.device, t_start, report))


def fine_tune(base, pairs, blur, settings, device, t_start, report, one_axis=False):
    """Generator: fine-tune a copy of ``base`` on ``(target, input, noise)`` pairs.

    The shared core of adaptation and of isotropic reconstruction. Each pair
    is split into a training part and a held-out part (``settings.holdout``);
    yields ``(step, steps)`` and returns an
    [AdaptResult][srcnn_plugin._adapt.AdaptResult] whose report extends
    ``report`` (what the caller records: base model, degradation, shapes).
    ``blur`` is the PSF condition (input pixels) for blur-aware models.
    ``one_axis``: the pairs are degraded along their rows only (isotropic's
    Z); the augmentation keeps rows rows (``AXIS_KEEPING``) and the adapted
    model is marked one-axis (see ``registry.is_one_axis``).
    """
    import torch

    from ._device import resolve_device
    from .models.srcnn import as_condition
    from .models.weights import LoadedWeights
    from .training.data import AXIS_KEEPING, PatchSampler

    cfg = base.config
    train_pairs, held, held_noise = [], [], []
    for target, inp, sigma in pairs:
        cond = sigma if cfg.noise_aware else None
        fit, hold = _split(target, inp, settings.holdout, cfg.stride)
        train_pairs.append((*fit, 0.0 if cond is None else cond, 0.0 if blur is None else blur))
        held.append(hold)
        held_noise.append(cond)
    halo = cfg.halo
    # Planes smaller than a patch are left out (PatchSampler.from_pairs), unless all are.
    side = max(min(t.shape) for t, *_ in train_pairs)
    patch = min(settings.patch, side)
    patch -= patch % cfg.stride  # whole low-resolution pixels (a model on that grid)
    if patch < 2 * halo + 5:
        raise ValueError(
            f"The images are too small to adapt on: the training part of the largest plane "
            f"is {side} pixels across, at least {2 * halo + 5} are needed (planes of about "
            f"{math.ceil((2 * halo + 5) / (1 - settings.holdout))} pixels per side at the input)."
        )
    dev = resolve_device(device)
    sampler = PatchSampler.from_pairs(
        train_pairs, patch, halo, seed=settings.seed, device=dev,
        transforms=AXIS_KEEPING if one_axis else None, stride=cfg.stride,
    )  # fmt: skip
    net = copy.deepcopy(base.model).float().to(dev).train()
    for p in net.parameters():
        p.requires_grad_(True)
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
    score0 = best = _psnr(held, net, held_noise, blur, dev)
    best_state, best_step, since, step, stopped = None, 0, 0, 0, "steps"
    deadline = t_start + settings.seconds
    while step < settings.steps:
        x, y, n, b = sampler.sample_conditioned(settings.batch)
        n = as_condition(net, x, n) if cfg.noise_aware else None
        loss = torch.nn.functional.mse_loss(net(x, n, b if cfg.blur_aware else None), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        yield (step, settings.steps)
        out_of_time = time.perf_counter() > deadline
        if step % settings.every == 0 or step == settings.steps or out_of_time:
            score = _psnr(held, net, held_noise, blur, dev)
            if score > best:
                best, best_step, since = score, step, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                since += 1
            if since >= settings.patience:
                stopped = "no improvement"
                break
        if out_of_time:
            stopped = "time"
            break
    tuned, blend = best, 1.0
    if best_state is not None and settings.blend < 1:
        before = {k: v.to(dev) for k, v in base.model.state_dict().items()}
        w = settings.blend
        mixed = {
            k: torch.lerp(before[k].to(v.dtype), v, w) if v.is_floating_point() else v
            for k, v in best_state.items()
        }
        net.load_state_dict(mixed)
        score = _psnr(held, net, held_noise, blur, dev)
        # The straight path between the two can cross worse weights (seen on an image with
        # hot pixels): then the fine-tuned model alone is the candidate, as without blending.
        if score - score0 >= settings.min_gain:
            best_state, best, blend = mixed, score, settings.blend
    report = {
        **report,
        "settings": {f.name: getattr(settings, f.name) for f in fields(settings)},
        "planes": len(pairs),
        "steps": step,
        "best_step": best_step,
        "stopped_by": stopped,
        "seconds": round(time.perf_counter() - t_start, 2),
        "holdout_psnr_before": round(score0, 4),
        "holdout_psnr_fine_tuned": round(tuned, 4),
        "holdout_psnr_after": round(best, 4),
        "blend": blend,
        "adapted": best - score0 >= settings.min_gain and best_state is not None,
    }
    if not report["adapted"]:
        warnings.warn(
            f"Adaptation did not improve the held-out part of the images "
            f"({score0:.2f} -> {best:.2f} dB on internal pairs); keeping {report['base_model']}. "
            "Check psf_sigma and the degradation, or adapt on more images.",
            AdaptationWarning,
            stacklevel=3,
        )
        return AdaptResult(base, report)
    net.load_state_dict(best_state)
    net = net.cpu().eval()
    for p in net.parameters():
        p.requires_grad_(False)
    metadata = {
        "adaptation": report,
        "blur_default": 0.0 if blur is None else blur,
        "adapted_from": report["base_model"],
        "one_axis": bool(one_axis),
    }
    loaded = LoadedWeights(
        model=net,
        config=cfg,
        scales=(float(report["factor"]),),
        metadata=metadata,
        source=f"adapted:{report['base_model']}",
    )
    return AdaptResult(loaded, report)


def _noise_spec(noise):
    """``noise=`` as recorded in a report: ``'auto'``, ``'poisson'``, levels or cameras."""
    from .degradations import PoissonGaussian

    if noise is None or isinstance(noise, str):
        return noise or "auto"
    cams = [noise] if isinstance(noise, PoissonGaussian) else noise
    if isinstance(cams, (list, tuple)) and all(isinstance(c, PoissonGaussian) for c in cams):
        return [asdict(c) for c in cams]
    return np.atleast_1d(np.asarray(noise, np.float64)).tolist()


def adapt_options(
    image, scale, options, *, channel_axis=None, color_mode="channels", progress=None
):
    """``options`` with ``model`` adapted to ``image`` (``rescale(..., adapt=...)``).

    The adapted model carries its PSF (``blur_default``), so ``psf_sigma``
    is cleared; when the guard keeps the unadapted model, ``options`` stay
    as they were. ``adapt`` is cleared either way.
    """
    from ._job import drain

    settings = AdaptSettings.from_value(options.adapt)
    result = drain(
        adapt_steps(image, scale, options, settings, channel_axis=channel_axis,
                    color_mode=color_mode),
        progress,
    )  # fmt: skip
    if not result.report["adapted"]:
        return options.replace(adapt=None)
    return options.replace(model=result.loaded, adapt=None, psf_sigma=None)
