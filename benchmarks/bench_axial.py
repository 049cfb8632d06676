"""The bundled Z (axial) models on held-out training images, against what Z used before.

Run: ``python benchmarks/bench_axial.py [--factors 2 3 4 5 6] [--markdown FILE]``

Protocol (validation data: the 15 T91/BSD200 images the training runs hold
out, ``split_validation`` with fraction 0.05 and seed 0): each image's Y plane
is recorded along its rows with each of
``validation_degradations(f, one_axis=True)`` (axial PSF ``f / 4`` and
``f / 2`` sections, and ``f / 2`` with 1 % read noise; noise seeded per image)
and enlarged back along the rows by ``skimage.transform.rescale(order=3)``
(the spline), by ``rescale(lr, (f, 1))`` with the 2-D model for the factor
(what ``isotropic`` started from before the Z models) and with the bundled Z
model told the axial PSF (``psf_sigma=`` the axial sigma). PSNR over 0-1 with
``f`` rows shaved at each end, mean over the images.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _common import markdown

import srcnn_plugin
from srcnn_plugin.degradations import validation_degradations
from srcnn_plugin.models.registry import pick_model_for_scale
from srcnn_plugin.training.data import list_images, read_planes, record, split_validation

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def held_out() -> list[np.ndarray]:
    """The Y planes of the images every training run holds out (float, 0-1)."""
    paths = list_images([DATA / "T91", DATA / "BSD200"])
    _, val = split_validation(paths, 0.05, 0)
    return [p.astype(np.float64) / 255.0 for path in val for p in read_planes(path)]


def psnr_rows(ref: np.ndarray, out: np.ndarray, shave: int) -> float:
    """PSNR over 0-1 with ``shave`` rows removed at each end."""
    s = slice(shave, -shave)
    return float(10 * np.log10(1.0 / np.mean((ref[s] - out[s]) ** 2)))


def run(factors) -> list[dict]:
    from skimage.transform import rescale as sk_rescale

    planes = held_out()
    rows = []
    for f in factors:
        z_model = pick_model_for_scale(f, "axial")
        for d in validation_degradations(f, one_axis=True):
            got = {"spline": [], "2-D model": [], "Z model": []}
            for i, img in enumerate(planes):
                hr, lr = record(img, f, d, rng=np.random.default_rng([i, 7]))
                outs = {
                    "spline": sk_rescale(lr, (f, 1), order=3, mode="reflect"),
                    "2-D model": srcnn_plugin.rescale(lr, (f, 1), device="cpu"),
                    "Z model": srcnn_plugin.rescale(
                        lr, (f, 1), model=z_model, psf_sigma=d.psf, device="cpu"
                    ),
                }
                for k, out in outs.items():
                    got[k].append(psnr_rows(hr, out, f))
            spline = np.mean(got["spline"])
            rows.append(
                {
                    "factor": f"x{f}",
                    "recorded": str(d),
                    "spline dB": f"{spline:.2f}",
                    "2-D model": f"{np.mean(got['2-D model']) - spline:+.2f}",
                    "Z model": f"{np.mean(got['Z model']) - spline:+.2f}",
                    "model": z_model,
                }
            )
            print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factors", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = ap.parse_args(argv)
    table = markdown(run(args.factors))
    print("\nMean gain in dB over the spline along the rows (held-out T91/BSD200 images)\n")
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
