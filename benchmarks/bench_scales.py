"""PSNR of rescale against bicubic at integer and fractional factors.

Run: ``python benchmarks/bench_scales.py [DATASET_DIR ...] [--scales ...]``

Protocol: Y channel (BT.601) of each test image, shrunk to
``round(size / f)`` with MATLAB bicubic (kept as float), enlarged back to the
full size by MATLAB bicubic and by ``srcnn_plugin.rescale``; PSNR on Y
(uint8-rounded) with ``ceil(f)`` pixels shaved. Also lists
``skimage.transform.rescale(order=3)`` for reference. The low-resolution images
are bicubic-made, so ``rescale`` runs the paper's models (``model="paper"``).
Default dataset:
``../shared/datasets/Set5``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _common import markdown

import srcnn_plugin
from srcnn_plugin._imresize import imresize
from srcnn_plugin.training.data import list_images, read_luma
from srcnn_plugin.training.evaluate import psnr_y

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "Set5"


def main(argv=None):
    from skimage.transform import resize

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("datasets", nargs="*", type=Path, default=[DEFAULT])
    ap.add_argument("--scales", type=float, nargs="+", default=[1.5, 2, 2.5, 3, 3.5, 4, 6])
    args = ap.parse_args(argv)
    rows = []
    for ds in args.datasets:
        imgs = [read_luma(p).astype(np.float64) / 255 for p in list_images(ds)]
        for f in args.scales:
            vals = {"bicubic": [], "skimage order 3": [], "srcnn": []}
            for hr in imgs:
                h, w = hr.shape
                lr = imresize(hr, output_shape=(round(h / f), round(w / f)))
                vals["bicubic"].append(psnr_y(hr, imresize(lr, output_shape=(h, w)), f))
                sk = resize(lr, (h, w), order=3, mode="reflect")
                vals["skimage order 3"].append(psnr_y(hr, sk, f))
                sr = srcnn_plugin.rescale(
                    lr, (h / lr.shape[0], w / lr.shape[1]), clip=False, model="paper"
                )
                vals["srcnn"].append(psnr_y(hr, sr, f))
            row = {"dataset": ds.name, "factor": f"{f:g}"}
            row.update({k: float(np.mean(v)) for k, v in vals.items()})
            row["srcnn - bicubic"] = row["srcnn"] - row["bicubic"]
            rows.append(row)
            print(markdown([row]).splitlines()[-1], flush=True)
    print()
    print(markdown(rows))
    worse = [r for r in rows if r["srcnn - bicubic"] <= 0]
    if worse:
        print(f"\nSRCNN not above bicubic at: {[r['factor'] for r in worse]}")
    return 0 if not worse else 1


if __name__ == "__main__":
    raise SystemExit(main() or 0)
