"""Evaluation with the SRCNN paper's protocol.

For each test image: Y of BT.601 (MATLAB ``rgb2ycbcr``) rounded to uint8 (a
grey image is its own Y); crop to a multiple of the scale; shrink with MATLAB
bicubic, keep the LR image as float; enlarge with MATLAB bicubic (the
*bicubic* row) and refine with the model (the *model* row); round to uint8;
PSNR and SSIM on Y with ``scale`` pixels shaved at each border, averaged over
the images. With this protocol the bicubic rows match the paper's table
(Set5 33.66 / 30.39 / 28.42 at x2 / x3 / x4).

With a ``degradation`` (see [srcnn_plugin.degradations][]) the low-resolution
image is recorded that way instead (noise seeded per image), the bicubic row
enlarges it with MATLAB bicubic and noise-aware models are told its measured
noise level times the model's ``noise_gain``, as ``rescale`` tells them.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from .data import list_images, read_luma, record

__all__ = ["to_uint8", "psnr_y", "ssim_y", "evaluate", "EvalRow", "EvalTable", "METHODS"]

#: Methods ``evaluate(methods=...)`` compares: MATLAB bicubic, sparse coding
#: (Yang et al., [srcnn_plugin.baselines][]) and the SRCNN.
METHODS = ("bicubic", "sparse-coding", "srcnn")


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Round a [0, 1] float image to uint8 as MATLAB's ``uint8(x * 255)``.

    Examples
    --------
    >>> to_uint8(np.array([0.0, 0.5, 1.2])).tolist()
    [0, 128, 255]
    """
    # MATLAB rounds halves away from zero (numpy rounds them to even).
    return np.clip(np.floor(np.asarray(x, np.float64) * 255.0 + 0.5), 0, 255).astype(np.uint8)


def _shaved(hr, sr, scale):
    a, b = to_uint8(hr), to_uint8(sr)
    s = int(np.ceil(scale))
    return a[s:-s, s:-s], b[s:-s, s:-s]


def psnr_y(hr: np.ndarray, sr: np.ndarray, scale: float) -> float:
    """PSNR (dB) of two [0, 1] luminance images, rounded to uint8, border shaved.

    Examples
    --------
    >>> a = np.zeros((10, 10)); b = a.copy(); b[5, 5] = 1 / 255
    >>> round(psnr_y(a, b, 2), 2)
    63.69
    """
    a, b = _shaved(hr, sr, scale)
    with np.errstate(divide="ignore"):
        return float(peak_signal_noise_ratio(a, b, data_range=255))


def ssim_y(hr: np.ndarray, sr: np.ndarray, scale: float) -> float:
    """SSIM (Wang et al.: Gaussian window, sigma 1.5) on the same terms as `psnr_y`."""
    a, b = _shaved(hr, sr, scale)
    return float(
        structural_similarity(
            a, b, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
    )


@dataclass
class EvalRow:
    """One (dataset, scale, method) result; ``per_image`` maps name to (PSNR, SSIM).

    ``seconds`` (mean) and ``times`` (per image) are the wall-clock time from
    the low-resolution image to the result, when timed.
    """

    dataset: str
    scale: float
    method: str
    psnr: float
    ssim: float
    per_image: dict = field(default_factory=dict)
    seconds: float | None = None
    times: dict = field(default_factory=dict)


@dataclass
class EvalTable:
    """Results of [evaluate][srcnn_plugin.training.evaluate.evaluate], printable as a table."""

    rows: list[EvalRow]

    def lookup(self, dataset: str, scale: int, method: str) -> EvalRow:
        """The row for a dataset, scale and method."""
        for r in self.rows:
            if (r.dataset, r.scale, r.method) == (dataset, scale, method):
                return r
        raise KeyError((dataset, scale, method))

    def records(self, per_image: bool = False) -> list[dict]:
        """Rows as dicts (one per image too when ``per_image``)."""
        out = []
        for r in self.rows:
            base = {"dataset": r.dataset, "scale": r.scale, "method": r.method}
            if per_image:
                for img, (p, s) in r.per_image.items():
                    rec = {**base, "image": img, "psnr": round(p, 3), "ssim": round(s, 4)}
                    if r.seconds is not None:
                        rec["seconds"] = float(f"{r.times[img]:.3g}")
                    out.append(rec)
            rec = {
                **base,
                **({"image": "mean"} if per_image else {}),
                "psnr": round(r.psnr, 3),
                "ssim": round(r.ssim, 4),
            }
            if r.seconds is not None:
                rec["seconds"] = float(f"{r.seconds:.3g}")
            out.append(rec)
        return out

    def to_markdown(self, per_image: bool = False) -> str:
        """GitHub-flavoured Markdown table."""
        recs = self.records(per_image)
        if not recs:
            return ""
        cols = list(recs[0])
        lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in recs]
        return "\n".join(lines)

    def to_csv(self, per_image: bool = False) -> str:
        """CSV text."""
        recs = self.records(per_image)
        buf = io.StringIO()
        if recs:
            w = csv.DictWriter(buf, fieldnames=list(recs[0]))
            w.writeheader()
            w.writerows(recs)
        return buf.getvalue()

    def __str__(self) -> str:
        return self.to_markdown()


def _network_alone(loaded, bic: np.ndarray, device, noise=None, blur=None) -> np.ndarray:
    """The paper's protocol: the network on the bicubic image, nothing else."""
    import torch

    from .._engine import _model_on
    from ..models.srcnn import predict_padded

    # A per-device copy: the cached model itself is shared and never moved.
    model = _model_on(loaded, device)
    with torch.inference_mode():
        x = torch.from_numpy(bic.astype(np.float32))[None, None].to(device)
        return predict_padded(model, x, noise=noise, blur=blur)[0, 0].float().cpu().numpy()


def _record(y: np.ndarray, s, degradation, seed: int):
    """``(hr, lr, bicubic, noise level)`` of one test image (see the module notes).

    Without a ``degradation`` the paper's (MATLAB bicubic, no noise; the noise
    level is then ``None``: the paper's protocol tells the model nothing).
    """
    from .._imresize import imresize
    from ..degradations import Degradation, estimate_noise

    rng = np.random.default_rng([seed, 7])
    hr, lr = record(y, s, degradation or Degradation("bicubic"), rng=rng)
    bic = imresize(lr, output_shape=hr.shape).astype(np.float32)
    noise = None if degradation is None else estimate_noise(lr)
    return hr.astype(np.float32), lr, bic, noise


def evaluate(
    datasets: str | os.PathLike | Sequence[str | os.PathLike],
    scales: Iterable[int] = (2, 3, 4),
    *,
    model=None,
    bicubic: bool = True,
    device=None,
    symmetric: bool = False,
    degradation=None,
    methods: Sequence[str] | None = None,
) -> EvalTable:
    """Score bicubic and an SRCNN on test folders with the paper's protocol.

    Parameters
    ----------
    datasets : path or sequence of paths
        Folders of HR test images (e.g. Set5, Set14); each is one dataset
        named after the folder. A single image file is its own dataset.
    scales : iterable of float
        Upscaling factors (integers follow the paper exactly; fractional
        factors shrink to ``round(size / scale)`` and enlarge back).
    model : None, str, path, or LoadedWeights, or False
        The model to score: the bundled model ``rescale`` picks for each scale
        by default, a family (``'paper'`` for the paper's table), a bundled
        name or a weights file; ``False`` scores bicubic only.
    bicubic : bool
        Include the bicubic baseline rows.
    device : str, optional
        Torch device for the model (CPU by default: results are then
        bit-reproducible).
    symmetric : bool
        Score exactly what ``rescale`` returns by default (its two symmetric
        passes, normalisation, flat-field correction and measured noise
        level: the same engine every face uses); the model's rows are then
        labelled ``+sym``. ``False`` (the default) scores the network alone
        on the bicubic image, as the paper does (and as training validates).
    degradation : Degradation or str, optional
        Record the low-resolution images with this acquisition instead of
        the paper's bicubic (e.g. ``"psf=1+binning+noise=0.01"``).
    methods : sequence of str, optional
        Compare these methods (``METHODS``: ``'bicubic'``, ``'sparse-coding'``
        with the bundled dictionaries, ``'srcnn'`` with ``model``) side by
        side, each timed per image (seconds from the low-resolution image to
        the result; the rows get a ``seconds`` column). Replaces ``bicubic``.

    Returns
    -------
    EvalTable
    """
    import time

    from .._device import resolve_device
    from .._plan import plane_grid
    from ..degradations import Degradation
    from ..models.registry import FAMILIES, blur_default, get_model, noise_gain, resolve_model

    timed = methods is not None
    if methods is None:
        methods = (["bicubic"] if bicubic else []) + ([] if model is False else ["srcnn"])
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}; pass any of {list(METHODS)}.")
    if isinstance(degradation, str):
        degradation = Degradation.parse(degradation)
    if isinstance(datasets, (str, os.PathLike)):
        datasets = [datasets]
    dev = resolve_device(device or "cpu")
    rows = []
    for ds in datasets:
        paths = list_images(ds)
        name = Path(ds).name if Path(ds).is_dir() else Path(ds).stem
        imgs = [(p.stem, read_luma(p)) for p in paths]
        for s in scales:
            s = int(s) if float(s).is_integer() else float(s)
            pairs = [(n, *_record(y, s, degradation, i)) for i, (n, y) in enumerate(imgs)]
            runs, blur, gain = [], None, 1.0
            for method in methods:
                if method == "bicubic":
                    runs.append(("bicubic", None))
                elif method == "sparse-coding":
                    from ..baselines import load_dictionary

                    runs.append(("sparse-coding", load_dictionary(s)))
                else:
                    spec = resolve_model(model, s, plane_grid(s))
                    loaded = get_model(spec)
                    blur = blur_default(spec)  # what rescale tells it by default
                    gain = noise_gain(spec)
                    named = model is not None and model not in FAMILIES
                    label = Path(loaded.source).stem if named else "srcnn"
                    runs.append((label + ("+sym" if symmetric else ""), loaded))
            for label, method in runs:
                per, times = {}, {}
                for n, hr, lr, bic, noise in pairs:
                    noise = None if noise is None else noise * gain
                    t0 = time.perf_counter()
                    sr = _run_method(method, hr, lr, s, dev, symmetric, noise, blur, timed, bic)
                    times[n] = time.perf_counter() - t0
                    per[n] = (psnr_y(hr, sr, s), ssim_y(hr, sr, s))
                vals = np.array(list(per.values()))
                psnr, ssim = (float(v) for v in vals.mean(axis=0))
                row = EvalRow(name, s, label, psnr, ssim, per)
                if timed:
                    row.seconds, row.times = float(np.mean(list(times.values()))), times
                rows.append(row)
    return EvalTable(rows)


def _run_method(method, hr, lr, s, dev, symmetric, noise, blur, timed, bic):
    """One method's result on one pair: bicubic (``None``), sparse coding or a network.

    Timed runs start from the low-resolution image (the bicubic enlargement
    is part of every method's time).
    """
    from .._imresize import imresize
    from .._rescale import rescale
    from ..baselines import SparseDictionary, super_resolve_plane

    if timed:
        bic = imresize(lr, output_shape=hr.shape).astype(np.float32)
    if method is None:
        return bic
    if isinstance(method, SparseDictionary):
        return super_resolve_plane(lr * 255.0, hr.shape, method, bic * 255.0) / 255.0
    if symmetric:
        f = (hr.shape[0] / lr.shape[0], hr.shape[1] / lr.shape[1])
        return rescale(lr, f, model=method, device=dev)
    return _network_alone(method, bic, dev, noise, blur)
