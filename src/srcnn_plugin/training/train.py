"""The training loop: seeded, checkpointed, resumable.

One call of [train][srcnn_plugin.training.train.train] reads the images, holds
out a validation split, samples bicubic/HR patch pairs and optimises the MSE
with Adam under a cosine learning-rate schedule. Every ``checkpoint_every``
steps it writes ``last.pt`` (everything needed to resume, including random
states) and, when validation PSNR improved, ``best.pt``; the best model is
exported as a weights file (``model.pt``) at the end.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .data import (
    PatchSampler,
    acquire,
    add_shrunk_copies,
    check_contrast,
    check_hr_blur,
    degrade,
    list_images,
    read_planes,
    split_validation,
)

__all__ = ["TrainConfig", "export_run", "train", "validate", "validation_pairs"]


@dataclass
class TrainConfig:
    """Hyper-parameters of a training run (all stored in checkpoints).

    ``channels`` says which planes of each image are trained on (see
    [read_planes][srcnn_plugin.training.data.read_planes]); ``val_channels``
    which are validated on (default: the same), e.g. train on R, G and B
    (``"each"``) but select the checkpoint on Y (``"luma"``), the plane the
    paper's protocol measures.

    ``degradation`` (a list of spec strings, see
    [DegradationMixture][srcnn_plugin.degradations.DegradationMixture]) trains
    on random acquisitions instead of the paper's bicubic: each image is
    recorded ``variants`` times per scale, a fraction ``clean`` of them
    without noise. Validation then scores the fixed acquisitions of
    [validation_degradations][srcnn_plugin.degradations.validation_degradations]
    and the run selects on their mean. ``noise_aware`` gives the network its
    input's measured noise level, ``blur_aware`` the PSF of the acquisition.
    ``noise_map`` (with ``noise_aware``) tells the noise per pixel instead,
    from each recording's fitted variance line, as ``noise="poisson"`` tells
    it (for mixtures with shot noise); validation still tells one level.
    ``hr_blur`` (with a ``degradation``) band-limits each recording's ground
    truth by a Gaussian of sigma drawn from ``[0, hr_blur]`` HR pixels, and
    each validation image's truth by one drawn per image (seeded, the same in
    every acquisition): microscopy images are band-limited by their optics,
    photographs are sharper per pixel (``band`` of
    [acquire][srcnn_plugin.training.data.acquire]). ``lr_grid`` trains a
    network on the low-resolution grid of the (single, integer) scale
    (``stride`` of [SRCNNConfig][srcnn_plugin.models.srcnn.SRCNNConfig]);
    ``patch`` is then a multiple of the scale and patches start on whole
    low-resolution pixels. ``contrast`` (levels of noise only) scales half
    of the patches toward the range's floor by a gain drawn log-uniformly
    from ``[contrast, 1]``, the noise told alike (``contrast`` of
    ``training.data.PatchSampler``): images whose range a few bright
    objects stretch; 0 is off.

    Examples
    --------
    >>> TrainConfig(scales=(3,)).scales
    (3,)
    """

    scales: tuple[float, ...] = (2, 3, 4)
    f1: int = 9
    f2: int = 5
    f3: int = 5
    n1: int = 64
    n2: int = 32
    residual: bool = True
    noise_aware: bool = False
    blur_aware: bool = False
    noise_map: bool = False
    degradation: tuple[str, ...] | None = None
    variants: int = 4
    clean: float = 0.25
    hr_blur: float = 0.0
    patch: int = 33
    batch: int = 64
    hr_scales: tuple[float, ...] = (1.0,)
    channels: str = "auto"
    val_channels: str | None = None
    steps: int = 50_000
    lr: float = 1e-3
    lr_min: float = 1e-5
    warmup: int = 1000
    val_fraction: float = 0.05
    val_every: int = 1000
    checkpoint_every: int = 1000
    seed: int = 0
    lr_grid: bool = False
    contrast: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def stride(self) -> int:
        """The network's stride: the scale with ``lr_grid``, else 1 (checked)."""
        if not self.lr_grid:
            return 1
        if len(self.scales) != 1 or not float(self.scales[0]).is_integer() or self.scales[0] < 2:
            raise ValueError(
                f"lr_grid trains for one integer factor; pass one scale such as 2, 3 or 4 "
                f"(got scales={tuple(self.scales)})."
            )
        s = int(self.scales[0])
        if self.patch % s:
            raise ValueError(
                f"lr_grid at x{s} takes a patch that is a multiple of {s}; pass e.g. "
                f"patch={s * -(-self.patch // s)} (got {self.patch})."
            )
        return s

    def arch(self):
        from ..models.srcnn import SRCNNConfig

        return SRCNNConfig(
            self.f1, self.f2, self.f3, self.n1, self.n2, self.residual, self.noise_aware,
            self.blur_aware, self.stride,
        )  # fmt: skip

    def mixture(self):
        """The training degradation mixture, or None for the paper's bicubic."""
        from ..degradations import DegradationMixture

        if not self.degradation:
            return None
        return DegradationMixture(tuple(self.degradation), clean=self.clean)


def _lr_at(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from ``lr`` to ``lr_min``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = min((step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1), 1.0)
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * t))


def validation_pairs(
    images, scales, acquisitions: bool = False, one_axis: bool = False, hr_blur: float = 0.0
) -> dict:
    """The validation pairs of each scale for [validate][srcnn_plugin.training.train.validate].

    Made once per run: ``{scale: [(hr, bicubic), ...]}`` with the paper's
    protocol, or with ``acquisitions`` ``{"<scale>|<degradation>": [(hr,
    bicubic, noise level, PSF in input pixels), ...]}`` for each of
    [validation_degradations][srcnn_plugin.degradations.validation_degradations]
    (noise seeded per image, so every run sees the same pairs); ``one_axis``
    uses the one-axis (axial) validation recordings instead. ``hr_blur``
    band-limits each image's truth by a Gaussian of sigma drawn from ``[0,
    hr_blur]`` (seeded per image, the same in every acquisition; the noise
    draws are those of ``hr_blur=0``).
    """
    if not acquisitions:
        return {s: [degrade(img, s) for img in images] for s in scales}
    from ..degradations import validation_degradations

    bands = [np.random.default_rng([i, 8]).uniform(0.0, hr_blur) for i in range(len(images))]
    out = {}
    for s in scales:
        for d in validation_degradations(s, one_axis=one_axis):
            rngs = (np.random.default_rng([i, 7]) for i in range(len(images)))
            out[f"{s:g}|{d}"] = [
                (*acquire(img, s, d, rng=r, band=b), d.psf / s)
                for img, r, b in zip(images, rngs, bands)
            ]
    return out


def validate(model, pairs, device=None) -> dict[float, float]:
    """Mean Y-PSNR (dB, ``scale`` pixels shaved) per key of ``pairs`` on whole images.

    Parameters
    ----------
    model : SRCNN
    pairs : dict
        ``{scale: [(hr, bicubic), ...]}`` from
        [validation_pairs][srcnn_plugin.training.train.validation_pairs].
    device : torch.device, optional
        Defaults to the model's device.
    """
    import torch

    from ..models.srcnn import predict_padded
    from .evaluate import psnr_y

    device = device or next(model.parameters()).device
    out = {}
    model.eval()
    with torch.inference_mode():
        for key, items in pairs.items():
            s = float(str(key).split("|")[0])
            vals = []
            for hr, bic, *cond in items:
                x = torch.from_numpy(bic)[None, None].to(device)
                noise, blur = cond if cond else (None, None)
                sr = predict_padded(model, x, noise=noise, blur=blur)
                vals.append(psnr_y(hr, sr[0, 0].float().cpu().numpy(), s))
            out[key] = float(np.mean(vals))
    model.train()
    return out


def _planes(paths, channels: str) -> list[np.ndarray]:
    """All planes of ``paths``, in order (see ``read_planes``)."""
    return [pl for p in paths for pl in read_planes(p, channels)]


def _save_atomic(obj, path: Path) -> None:
    import torch

    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(
    images: str | os.PathLike | Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    config: TrainConfig | None = None,
    *,
    device=None,
    init_weights: str | os.PathLike | None = None,
    resume: bool = True,
    progress: bool = True,
    threads: int | None = None,
    stop_after: int | None = None,
    max_minutes: float | None = None,
) -> dict:
    """Train an SRCNN on a folder (or list) of images.

    Parameters
    ----------
    images : path or sequence of paths
        Training images (folders are expanded); colour images are trained on
        their Y channel. A validation split is held out from them.
    out_dir : path
        Where ``last.pt``, ``best.pt``, ``model.pt`` and ``history.json`` go.
    config : TrainConfig, optional
        Hyper-parameters.
    device : str or torch.device, optional
        Training device; the best available by default.
    init_weights : path or registry name, optional
        Start from these weights (fine-tuning), e.g. a bundled model name.
    resume : bool
        Continue from ``out_dir/last.pt`` when it exists.
    progress : bool
        Show a tqdm bar with the loss and the validation PSNR.
    threads : int, optional
        torch intra-op threads for this run (restored afterwards).
    stop_after : int, optional
        Stop (with a checkpoint) once this many steps are done, so a long
        run can be split into sessions; resume later with the same config.
    max_minutes : float, optional
        Stop (with a checkpoint) after this much wall time, counted from the
        call: reading and degrading the images count too.

    Returns
    -------
    dict
        ``{"best_psnr", "best_step", "history", "weights", "step"}``;
        ``weights`` is None when the run stopped before ``config.steps``.
    """
    import torch

    from .._device import resolve_device
    from ..models.srcnn import SRCNN, as_condition
    from ..models.weights import load_weights

    t_call = time.perf_counter()
    cfg = config or TrainConfig()
    check_hr_blur(cfg.hr_blur, cfg.degradation)
    check_contrast(cfg.contrast, cfg.noise_map)
    if cfg.noise_map and not (cfg.noise_aware and cfg.degradation):
        raise ValueError(
            "noise_map tells a noise-aware model its noise per pixel: pass noise_aware=True "
            "and a degradation mixture too (--noise-aware --degradation ...)."
        )
    arch = cfg.arch()  # checks lr_grid against the scales and patch
    mix = cfg.mixture()
    if arch.stride > 1 and mix is not None and mix.one_axis:
        raise ValueError(
            "lr_grid strides both axes of the plane; a one-axis (axial) degradation "
            "needs a model on the output grid: leave lr_grid off."
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    old_threads = torch.get_num_threads()
    old_benchmark = torch.backends.cudnn.benchmark
    if threads:
        torch.set_num_threads(threads)
    # Fixed input shapes: let cuDNN pick its fastest kernels (restored below).
    torch.backends.cudnn.benchmark = dev.type == "cuda"
    try:
        paths = list_images(images)
        train_paths, val_paths = split_validation(paths, cfg.val_fraction, cfg.seed)
        train_imgs = _planes(train_paths, cfg.channels)
        if not train_imgs:
            raise ValueError(
                f"The training images ({len(train_paths)}, e.g. {train_paths[0]}) hold no "
                "plane with more than one value; pass images with detail to learn from."
            )
        train_imgs = add_shrunk_copies(train_imgs, cfg.hr_scales)
        val_imgs = _planes(val_paths, cfg.val_channels or cfg.channels)
        torch.manual_seed(cfg.seed)
        model = SRCNN(arch)
        if init_weights is not None:
            loaded = load_weights(init_weights)
            lc = loaded.config
            regrid = lc.stride == 1 < arch.stride
            same = (
                replace(
                    lc,
                    noise_aware=arch.noise_aware,
                    blur_aware=arch.blur_aware,
                    stride=arch.stride if regrid else lc.stride,
                )  # fmt: skip
                == arch
            )
            lost = (lc.noise_aware > arch.noise_aware) or (lc.blur_aware > arch.blur_aware)
            if not same or lost:
                raise ValueError(
                    f"init_weights has architecture {lc.name} (residual={lc.residual}, "
                    f"noise_aware={lc.noise_aware}, blur_aware={lc.blur_aware}); train with "
                    "the same f1/f2/f3/n1/n2 (a plain model can start a noise- or blur-aware "
                    "one, a model on the output grid one on the low-resolution grid)."
                )
            # A plain model starts a noise-aware one with zero noise weights:
            # exactly the plain model until training moves them. A model on the
            # output grid gives one on the low-resolution grid its first two layers
            # (the same filters, computed every ``stride`` pixels); the last layer,
            # which makes ``stride**2`` phases, starts at zero (the bicubic image).
            state = loaded.model.state_dict()
            if regrid:
                state = {k: v for k, v in state.items() if not k.startswith("conv3.")}
                torch.nn.init.zeros_(model.conv3.weight)
            model.load_state_dict(state, strict=loaded.config == arch)
        model = model.to(dev, memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        sampler = PatchSampler(
            train_imgs, cfg.scales, cfg.patch, arch.halo, seed=cfg.seed, device=dev,
            degradation=mix, variants=cfg.variants, noise_map=cfg.noise_map,
            hr_blur=cfg.hr_blur, stride=arch.stride, contrast=cfg.contrast,
        )  # fmt: skip
        val_pairs = validation_pairs(
            val_imgs, cfg.scales, acquisitions=mix is not None,
            one_axis=bool(mix and mix.one_axis), hr_blur=cfg.hr_blur,
        )  # fmt: skip
        step, best, best_step, history = 0, -math.inf, -1, []
        last = out / "last.pt"
        if resume and last.exists():
            ck = torch.load(last, map_location=dev, weights_only=True)
            # Options added since the checkpoint was written take their defaults.
            if {**asdict(TrainConfig()), **ck["config"]} != asdict(cfg):
                raise ValueError(
                    f"{last} was written with a different configuration; pass the same "
                    "options to resume, or resume=False / a new output folder to start over."
                )
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            sampler.set_state(ck["sampler"])
            torch.set_rng_state(ck["torch_rng"])
            step, best, best_step = ck["step"], ck["best"], ck["best_step"]
            history = ck["history"]
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=cfg.steps, initial=step, desc="train", dynamic_ncols=True)
        # The running loss stays on the device: no host sync per step.
        t0, loss_acc, n_acc = time.perf_counter(), torch.zeros((), device=dev), 0
        end = min(cfg.steps, stop_after) if stop_after else cfg.steps
        deadline = t_call + 60 * max_minutes if max_minutes else math.inf
        model.train()
        while step < end:
            for g in opt.param_groups:
                g["lr"] = _lr_at(cfg, step)
            x, y, noise, blur = sampler.sample_conditioned(cfg.batch)
            x = x.contiguous(memory_format=torch.channels_last)
            noise = as_condition(model, x, noise)  # variance lines become maps
            loss = torch.nn.functional.mse_loss(model(x, noise, blur), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            loss_acc += loss.detach()
            n_acc += 1
            if step % cfg.val_every == 0 or step == cfg.steps:
                mean_loss = float(loss_acc) / n_acc
                val = validate(model, val_pairs, dev) if val_imgs else {}
                score = float(np.mean(list(val.values()))) if val else -mean_loss
                rec = {
                    "step": step,
                    "loss": mean_loss,
                    "lr": _lr_at(cfg, step),
                    "val_psnr": val,
                    "val_mean": score,
                    "elapsed_s": time.perf_counter() - t0,
                }
                history.append(rec)
                loss_acc, n_acc = torch.zeros((), device=dev), 0
                if score > best:
                    best, best_step = score, step
                    _save_atomic({"model": model.state_dict(), "step": step}, out / "best.pt")
                if bar is not None:
                    bar.set_postfix(loss=f"{rec['loss']:.2e}", val=f"{score:.2f}dB")
            stopping = step == end or time.perf_counter() > deadline
            if step % cfg.checkpoint_every == 0 or step == cfg.steps or stopping:
                _save_atomic(
                    {
                        "config": asdict(cfg),
                        "model": model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "sampler": sampler.state(),
                        "torch_rng": torch.get_rng_state(),
                        "step": step,
                        "best": best,
                        "best_step": best_step,
                        "history": history,
                        "images": [str(p) for p in train_paths],
                        "validation_images": [str(p) for p in val_paths],
                    },
                    last,
                )
                (out / "history.json").write_text(json.dumps(history, indent=1))
            if bar is not None:
                bar.update(1)
            if stopping:
                break
        if bar is not None:
            bar.close()
        if step < cfg.steps:
            return {
                "best_psnr": best,
                "best_step": best_step,
                "history": history,
                "weights": None,
                "step": step,
            }
        weights = export_run(out, out / "model.pt")
        return {
            "best_psnr": best,
            "best_step": best_step,
            "history": history,
            "weights": weights,
            "step": step,
        }
    finally:
        torch.set_num_threads(old_threads)
        torch.backends.cudnn.benchmark = old_benchmark


def export_run(run_dir, out, *, last: bool = False) -> Path:
    """Write a run's validation-best (or last) checkpoint as a weights file.

    ``train`` calls this when a run finishes (``model.pt``); call it yourself
    for a run that was stopped early or is still going. The file records the
    run's configuration, its training and validation images, the exported
    step with its validation PSNR, and whether the run had finished.

    Parameters
    ----------
    run_dir : path
        A ``train`` output folder (with ``last.pt``, and ``best.pt`` once a
        validation has run).
    out : path
        Weights file to write.
    last : bool
        Export the latest step instead of the validation-best one.

    Returns
    -------
    Path
        ``out``.
    """
    import torch

    from ..models.srcnn import SRCNN
    from ..models.weights import save_weights

    run = Path(run_dir)
    if not (run / "last.pt").exists():
        raise FileNotFoundError(f"{run} holds no last.pt; pass a train output folder.")
    state = torch.load(run / "last.pt", map_location="cpu", weights_only=True)
    config = {**asdict(TrainConfig()), **state["config"]}
    cfg = TrainConfig(**config)
    best = run / "best.pt"
    ck = state if last or not best.exists() else torch.load(best, "cpu", weights_only=True)
    model = SRCNN(cfg.arch())
    model.load_state_dict(ck["model"])
    val = [h["val_mean"] for h in state["history"] if h["step"] == ck["step"]]
    training = {
        "config": config,
        "images": state.get("images"),
        "validation_images": state.get("validation_images"),
        "step": ck["step"],
        "val_psnr": val[-1] if val else None,
        "complete": state["step"] >= cfg.steps,
    }
    save_weights(
        model,
        out,
        scales=cfg.scales,
        metadata={"training": {k: v for k, v in training.items() if v is not None}},
    )
    return Path(out)
