"""Real acquisitions: gain of ``rescale`` over a cubic spline on microscopy planes.

Run: ``python benchmarks/bench_acquisitions.py [FOLDER] [--scales 2 3] [--models ...]``

Protocol (the targets of issue #15): each plane of the 18 real acquisitions in
``../shared/datasets/microscopy-dev`` (every channel of 2-D images; the middle
slice of each channel of Z-stacks) is the ground truth ``hr``. It is recorded
at ``1/scale`` with each of
``srcnn_plugin.degradations.validation_degradations(scale)``: the paper's
MATLAB bicubic; binning; a Gaussian PSF of ``scale / 2`` output pixels plus
binning; and that plus Gaussian noise of 1 % and 3 % of the plane's range
(seeded per plane); ``--photons P`` adds the PSF and binning with shot
(Poisson) noise of ``P`` photons at the top of the range. The recorded
image is enlarged by ``skimage.transform.rescale(order=3)`` (the spline) and by
``srcnn_plugin.rescale`` with each model spec (default: the default model,
``None``, and the paper family). PSNR is over the plane's own range with
``scale`` pixels shaved; the table gives the spline's mean PSNR, each model's
mean gain over it and the share of planes it does not make worse. The
``stated`` columns run the first model spec with the acquisition's PSF
stated (``psf_sigma=`` the degradation's, 0 without one): what a user who
knows the optics gets. The sweeps (``--psf-sweep``, ``--noise-sweep``) and
``--poisson`` (``noise="poisson"``: shot noise measured and told per pixel)
run the first model spec too, e.g. ``--models fast --noise-sweep 1 1.25``.
``--hot-pixels N`` adds the binning and PSF + binning + 1 % rows with ``N``
hot pixels at 10x the range in the recorded image, scored away from them.
``--fill`` adds those rows with a zero fill in the recorded image, as
registration or deskewing leaves it (a wedge over up to 30 % of the width and
4 rows at the top, with a one-pixel fringe at half the data's value), scored
more than 4 input pixels away from it; ``--clipped`` those rows with the
recording's 60th percentile subtracted and clipped at 0, the ground truth
alike (background subtraction: exactly-zero backgrounds). ``--nan`` adds them
with the wedge and border as NaN (no data, no fringe): the models get the NaN,
the spline and ``zeros`` (the first model spec) the image with 0 for NaN
(``np.nan_to_num``, what a spline needs); scored more than 4 input pixels away
from it, and in a second row on the ring 1-4 input pixels next to it.
``--bright K`` adds the bicubic, binning and PSF + binning + 1 % rows with a
bright object (a 3x3 spot, peak ``K`` times the recording's range above its
minimum, near the top-left corner) that stretches the range, as a bead or
debris does, scored more than 10 input pixels away from it.
"""

from __future__ import annotations

import argparse
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
from _common import markdown

import srcnn_plugin
from srcnn_plugin._plan import plane_grid
from srcnn_plugin.degradations import Degradation, estimate_noise, validation_degradations
from srcnn_plugin.models.registry import noise_gain, resolve_model

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "microscopy-dev"


def planes(folder: Path) -> list[tuple[str, np.ndarray]]:
    """``(name, plane)`` for every channel of 2-D images, middle slices of stacks."""
    import tifffile

    out = []
    for path in sorted(folder.glob("*.tif")):
        arr = np.squeeze(tifffile.imread(path)).astype(np.float64)
        if arr.ndim == 2:
            out.append((path.stem, arr))
            continue
        if path.stem.startswith("xyc") or arr.shape[0] <= 4:
            out.extend((f"{path.stem}[c{i}]", a) for i, a in enumerate(arr))
        else:
            out.append((f"{path.stem}[z{arr.shape[0] // 2}]", arr[arr.shape[0] // 2]))
    return [(n, p) for n, p in out if p.max() > p.min()]


def psnr(ref: np.ndarray, out: np.ndarray, shave: int, span: float, keep=None) -> float:
    """PSNR over ``span`` with ``shave`` pixels removed at each border (and only ``keep``)."""
    s = (slice(shave, -shave or None),) * 2
    err = (ref[s] - out[s]) ** 2
    mse = np.mean(err if keep is None else err[keep[s]])
    return float(10 * np.log10(span**2 / mse))


def add_hot_pixels(lr: np.ndarray, n: int, scale, rng) -> tuple[np.ndarray, np.ndarray]:
    """``lr`` with ``n`` hot pixels at 10x its range, and the output pixels to score.

    The score leaves out a square of 10 input pixels around each hot pixel
    (no method can know the scene behind it).
    """
    hot = lr.copy()
    h, w = lr.shape
    out = (round(h * scale), round(w * scale))
    keep = np.ones(out, bool)
    for _ in range(n):
        r, c = int(rng.integers(0, h)), int(rng.integers(0, w))
        hot[r, c] = lr.min() + 10 * (lr.max() - lr.min())
        r0, c0 = int((r - 10) * scale), int((c - 10) * scale)
        keep[max(r0, 0) : int((r + 11) * scale), max(c0, 0) : int((c + 11) * scale)] = False
    return hot, keep


def add_bright(lr: np.ndarray, k: float, scale) -> tuple[np.ndarray, np.ndarray]:
    """``lr`` with a bright 3x3 spot at ``k`` times its range, and the output pixels to score.

    The spot (peak ``k (max - min)`` above the minimum, its 4 edge neighbours
    at 0.6 and its corners at 0.3 of that) sits at rows and columns 2-4; the
    score leaves out the output pixels within 10 input pixels of it.
    """
    out = lr.copy()
    profile = np.array([[0.3, 0.6, 0.3], [0.6, 1.0, 0.6], [0.3, 0.6, 0.3]])
    out[2:5, 2:5] = lr.min() + k * (lr.max() - lr.min()) * profile
    keep = np.ones((round(lr.shape[0] * scale), round(lr.shape[1] * scale)), bool)
    keep[: int(15 * scale), : int(15 * scale)] = False
    return out, keep


def _wedge(shape) -> np.ndarray:
    """The wedge left of ``0.3 w (1 - r / h) + 3`` and the top 4 rows (registration, deskewing)."""
    h, w = shape
    r, c = np.mgrid[:h, :w]
    return (c < 0.3 * w * (1 - r / h) + 3) | (r < 4)


def _on_output(mask: np.ndarray, scale) -> np.ndarray:
    """An input mask on the output grid: each output pixel takes its nearest input pixel's."""
    from srcnn_plugin._tiling import nearest_source

    h, w = mask.shape
    rows = nearest_source(h, round(h * scale))
    cols = nearest_source(w, round(w * scale))
    return mask[np.ix_(rows, cols)]


def add_fill(lr: np.ndarray, scale) -> tuple[np.ndarray, np.ndarray]:
    """``lr`` with a zero-filled wedge and border, and the output pixels to score.

    The wedge covers the columns left of ``0.3 w (1 - r / h) + 3`` and the
    top 4 rows; the pixels along its edge get half their value (the fringe
    of a linear interpolation). The score leaves out output pixels within 4
    input pixels of the fill.
    """
    from scipy import ndimage as ndi

    fill = _wedge(lr.shape)
    out = lr.copy()
    out[fill] = 0.0
    fringe = ndi.binary_dilation(fill) & ~fill
    out[fringe] *= 0.5
    near = ndi.binary_dilation(fill | fringe, np.ones((3, 3), bool), iterations=4)
    return out, _on_output(~near, scale)


def add_nan(lr: np.ndarray, scale) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``lr`` with NaN over `add_fill`'s wedge and border, and two score masks.

    The masks are the output pixels more than 4 input pixels away from the
    NaN, and those 1 to 4 input pixels next to it.
    """
    from scipy import ndimage as ndi

    hole = _wedge(lr.shape)
    out = lr.copy()
    out[hole] = np.nan
    near = ndi.binary_dilation(hole, np.ones((3, 3), bool), iterations=4)
    return out, _on_output(~near, scale), _on_output(near & ~hole, scale)


def run(
    folder: Path,
    scales,
    models,
    stated: bool = True,
    psf_factors=(),
    noise_gains=(),
    photons=(),
    poisson: bool = False,
    hot_pixels: int = 0,
    only_hot: bool = False,
    fill: bool = False,
    clipped: bool = False,
    nan: bool = False,
    bright=(),
) -> list[dict]:
    from skimage.transform import rescale as sk_rescale

    data = planes(folder)
    rows = []
    for s in scales:
        s = int(s) if float(s).is_integer() else float(s)
        key = s if isinstance(s, int) else round(1000 * s)  # seeds take integers
        shot = [Degradation("binning", psf=s / 2, photons=p) for p in photons]
        recordings = [(deg, 0, "") for deg in validation_degradations(s) + shot]
        if only_hot:
            recordings = []
        # binning, and the PSF + binning + 1 % noise, with hot pixels, a fill or clipping
        if hot_pixels:
            recordings += [(validation_degradations(s)[k], hot_pixels, "") for k in (1, 3)]
        if fill:
            recordings += [(validation_degradations(s)[k], 0, "fill") for k in (1, 3)]
        if clipped:
            recordings += [(validation_degradations(s)[k], 0, "clipped") for k in (1, 3)]
        if nan:
            recordings += [
                (validation_degradations(s)[k], 0, where)
                for k in (1, 3)
                for where in ("nan", "ring")
            ]
        recordings += [
            (validation_degradations(s)[k], 0, f"bright={b:g}") for b in bright for k in (0, 1, 3)
        ]
        for deg, n_hot, extra in recordings:
            runs = [(m or "default", dict(model=m)) for m in models]
            first = models[0]  # the stated and sweep columns run the first model spec
            if extra in ("nan", "ring"):
                runs.append(("zeros", dict(model=first, zeros=True)))
            if stated:
                runs.append(("stated", dict(model=first, psf_sigma=deg.psf)))
            runs += [(f"psf={f:g}s", dict(model=first, psf_sigma=f * s)) for f in psf_factors]
            runs += [(f"noise x{g:g}", dict(model=first, noise_gain=g)) for g in noise_gains]
            if poisson:
                runs.append(("poisson", dict(model=first, noise="poisson")))
            gains = {label: [] for label, _ in runs}
            base = []
            for i, (_, hr) in enumerate(data):
                m = Fraction(s).limit_denominator(8).numerator  # x1.5: multiples of 3
                hr = hr[: hr.shape[0] - hr.shape[0] % m, : hr.shape[1] - hr.shape[1] % m]
                span = float(hr.max() - hr.min())
                lr = deg.apply(hr, s, rng=np.random.default_rng([i, key]))
                keep = None
                if n_hot:
                    lr, keep = add_hot_pixels(lr, n_hot, s, np.random.default_rng([i, key, 1]))
                if extra == "fill":
                    lr, keep = add_fill(lr, s)
                if extra.startswith("bright="):
                    lr, keep = add_bright(lr, float(extra[7:]), s)
                if extra == "clipped":  # background subtracted and clipped, truth alike
                    floor = np.percentile(lr, 60)
                    lr, hr = np.clip(lr - floor, 0, None), np.clip(hr - floor, 0, None)
                    span = float(hr.max() - hr.min())
                filled = lr
                if extra in ("nan", "ring"):
                    lr, away, ring = add_nan(lr, s)
                    keep = away if extra == "nan" else ring
                    filled = np.nan_to_num(lr)
                spline = sk_rescale(filled, s, order=3, mode="reflect", preserve_range=True)
                ref = psnr(hr, spline, math.ceil(s), span, keep)
                base.append(ref)
                for label, kw in runs:
                    if "noise_gain" in kw:  # the model told g x the measured noise
                        g = kw["noise_gain"] / noise_gain(resolve_model(first, s, plane_grid(s)))
                        kw = dict(model=first, noise=g * float(estimate_noise(lr)))
                    src = filled if kw.get("zeros") else lr
                    kw = {k: v for k, v in kw.items() if k != "zeros"}
                    up = srcnn_plugin.rescale(src, s, device="cpu", **kw)
                    gains[label].append(psnr(hr, up, math.ceil(s), span, keep) - ref)
            name = str(deg) + (f" + {n_hot} hot pixel{'s' * (n_hot > 1)}" if n_hot else "")
            labels = {
                "": "",
                "fill": " + zero fill",
                "clipped": " + background clipped",
                "nan": " + NaN wedge",
                "ring": " + NaN wedge, next to it",
            }
            name += labels.get(extra, f" + bright spot at {extra[7:]}x the range")
            row = {"scale": f"x{s:g}", "degradation": name, "spline dB": np.mean(base)}
            for label, _ in runs:
                g = np.array(gains[label])
                row[f"{label} gain"] = f"{g.mean():+.2f}"
                row[f"{label} >=0"] = f"{np.mean(g >= -1e-9):.0%}"
            rows.append(row)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--scales", type=float, nargs="+", default=[2, 3])
    ap.add_argument(
        "--models",
        nargs="+",
        default=["default", "paper"],
        help="model specs for rescale(model=...); 'default' is model=None",
    )
    ap.add_argument("--no-stated", action="store_true", help="skip the PSF-stated columns")
    ap.add_argument(
        "--psf-sweep",
        type=float,
        nargs="+",
        default=(),
        metavar="F",
        help="also run the first model spec with psf_sigma = F * scale for each F (how "
        "the bundled models' default PSF was chosen on this validation set)",
    )
    ap.add_argument(
        "--noise-sweep",
        type=float,
        nargs="+",
        default=(),
        metavar="G",
        help="also run the first model spec told G times the measured noise level for "
        "each G (its own noise_gain divided out: G = noise_gain is the default)",
    )
    ap.add_argument(
        "--photons",
        type=float,
        nargs="+",
        default=(),
        metavar="P",
        help="also record each plane with the PSF, binning and shot (Poisson) noise of P "
        "photons at the top of its range, for each P (signal-dependent noise, which the "
        "bundled models were not trained on)",
    )
    ap.add_argument(
        "--poisson",
        action="store_true",
        help="also run the first model spec with noise='poisson' (shot noise measured and "
        "told per pixel)",
    )
    ap.add_argument(
        "--hot-pixels",
        type=int,
        default=0,
        metavar="N",
        help="also record the binning and PSF + binning + 1 %% rows with N hot pixels at "
        "10x the range (scored away from them)",
    )
    ap.add_argument(
        "--only-hot",
        action="store_true",
        help="with --hot-pixels, --fill, --clipped, --nan or --bright: only their rows",
    )
    ap.add_argument(
        "--fill",
        action="store_true",
        help="also record the binning and PSF + binning + 1 %% rows with a zero-filled "
        "wedge and border (registration, deskewing), scored away from it",
    )
    ap.add_argument(
        "--nan",
        action="store_true",
        help="also record the binning and PSF + binning + 1 %% rows with the wedge and "
        "border as NaN (no data), scored away from it and next to it; 'zeros' runs the "
        "first model spec on the image with 0 for NaN",
    )
    ap.add_argument(
        "--clipped",
        action="store_true",
        help="also record the binning and PSF + binning + 1 %% rows background-subtracted "
        "(the recording's 60th percentile) and clipped at 0, the truth alike: exactly-zero "
        "backgrounds",
    )
    ap.add_argument(
        "--bright",
        type=float,
        nargs="+",
        default=(),
        metavar="K",
        help="also record the bicubic, binning and PSF + binning + 1 %% rows with a bright "
        "3x3 spot at K times the range (a bead, debris), scored away from it, for each K",
    )
    args = ap.parse_args(argv)
    models = [None if m == "default" else m for m in args.models]
    n = len(planes(args.folder))
    print(f"{n} planes from {args.folder.name}; gains in dB over skimage rescale(order=3)\n")
    rows = run(
        args.folder,
        args.scales,
        models,
        not args.no_stated,
        args.psf_sweep,
        args.noise_sweep,
        args.photons,
        args.poisson,
        args.hot_pixels,
        args.only_hot,
        args.fill,
        args.clipped,
        args.nan,
        args.bright,
    )
    print(markdown(rows))


if __name__ == "__main__":
    main()
