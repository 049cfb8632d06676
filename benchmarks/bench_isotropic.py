"""Isotropic reconstruction: gain along Z on volumes with known truth, and its time.

Run: ``python benchmarks/bench_isotropic.py [--limit N] [--factors 4] [--no-adapt] [--no-timing]``

Protocol (the targets of issue #17): each 2-D microscopy-dev plane ``I`` with
at least 160 rows and 128 columns (from ``bench_acquisitions.planes``) becomes
a volume whose rows play Z: ``V[z, y, x] = I[z + y, x]`` with 128 sections
(the largest multiple of the factor up to 128),
32 rows and up to 192 columns, so every ZX and every YX plane of ``V`` is a
crop of the real image. ``V`` is recorded along Z with
``degradations.axial`` (Gaussian axial blur of sigma ``factor / 2`` sections,
then one section every ``factor``) and reconstructed by
``skimage.transform.rescale(order=3)`` along Z, by ``rescale(lr, (factor, 1,
1))`` (the 2-D model on ZX planes), by ``isotropic(lr, factor, adapt=False)``
(the bundled one-axis Z model for the factor, told the axial PSF) and by
``isotropic(lr, factor)`` with its defaults (that model adapted on the
volume's own lateral planes; ``--no-adapt`` leaves this column out). PSNR is over the
volume's range with ``factor`` sections shaved at each end. The timing table
reconstructs a 64 x 256 x 256 recording (a sheared 512 x 512 plane) to 256
sections with the defaults.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _common import markdown
from bench_acquisitions import DEFAULT, planes

import srcnn_plugin
from srcnn_plugin._adapt import AdaptationWarning
from srcnn_plugin.degradations import axial


def sheared(image: np.ndarray, nz: int, ny: int) -> np.ndarray:
    """``V[z, y, x] = image[z + y, x]``: ZX and YX planes are crops of ``image``."""
    return np.stack([image[y : y + nz] for y in range(ny)], axis=1)


def psnr(ref, out, shave, span):
    s = (slice(shave, -shave),)
    return float(10 * np.log10(span**2 / np.mean((ref[s] - out[s]) ** 2)))


def run(f: int, limit=None, adapt: bool = True) -> list[dict]:
    from skimage.transform import rescale as sk_rescale

    methods = {
        "rescale (f,1,1)": lambda lr: srcnn_plugin.rescale(
            lr, (f, 1, 1), preserve_range=True, device="cpu"
        ),
        "Z model": lambda lr: srcnn_plugin.isotropic(
            lr, f, adapt=False, preserve_range=True, device="cpu"
        ),
    }
    if adapt:
        methods["isotropic"] = lambda lr: srcnn_plugin.isotropic(
            lr, f, preserve_range=True, device="cpu"
        )
    rows, gains = [], {m: [] for m in methods}
    data = [(n, p) for n, p in planes(DEFAULT) if p.shape[0] >= 160 and p.shape[1] >= 128]
    for name, img in data[:limit]:
        truth = sheared(img[:, :192], 128 - 128 % f, 32)  # a whole number of sections
        span = float(np.ptp(truth))
        lr = axial(truth, f, f / 2, axis=0)
        spline = psnr(truth, sk_rescale(lr, (f, 1, 1), order=3, preserve_range=True), f, span)
        row = {"volume": name[:32], "spline dB": f"{spline:.2f}"}
        for m, method in methods.items():
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AdaptationWarning)
                out = method(lr)
            gains[m].append(psnr(truth, out, f, span) - spline)
            row[m] = f"{gains[m][-1]:+.2f}"
            row[f"{m} s"] = f"{time.perf_counter() - t0:.0f}"
        rows.append(row)
        print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    plain = np.array(gains["rescale (f,1,1)"])
    mean = {"volume": f"mean of {len(plain)} (x{f})", "spline dB": ""}
    for m, g in gains.items():
        g = np.array(g)
        over = f" ({(g - plain).mean():+.2f} over rescale, {np.mean(g >= 0):.0%} >= 0)"
        mean[m] = f"{g.mean():+.2f}" + (over if m != "rescale (f,1,1)" else "")
        mean[f"{m} s"] = ""
    rows.append(mean)
    return rows


def timing(f: int = 4) -> list[dict]:
    big = [(n, p) for n, p in planes(DEFAULT) if min(p.shape) >= 512][:1]
    rows = []
    for name, img in big:
        lr = axial(sheared(img[:512, :256], 256, 256), f, f / 2, axis=0)
        t0 = time.perf_counter()
        out = srcnn_plugin.isotropic(lr, f, device="cpu")
        rows.append(
            {
                "volume": name,
                "input (Z, Y, X)": str(lr.shape),
                "output": str(out.shape),
                "seconds": f"{time.perf_counter() - t0:.0f}",
            }
        )
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factors", type=int, nargs="+", default=[4])
    ap.add_argument("--limit", type=int, default=None, help="first N volumes")
    ap.add_argument("--no-adapt", action="store_true", help="leave out the adapted column")
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args(argv)
    for f in args.factors:
        print(f"Gains in dB over skimage rescale(order=3) along Z, x{f}\n")
        print(markdown(run(f, args.limit, adapt=not args.no_adapt)), "\n")
    if not args.no_timing:
        print("\nDefault isotropic reconstruction time, 2 CPU threads\n")
        print(markdown(timing(args.factors[0])))


if __name__ == "__main__":
    main()
