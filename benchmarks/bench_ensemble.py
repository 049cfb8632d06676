"""Self-ensembles: PSNR and time of ``rescale(..., ensemble=1|2|8)``.

Run: ``python benchmarks/bench_ensemble.py [DATASET_DIR ...] [--scales 2 3] [--model paper]``

Paper protocol (Y of BT.601, MATLAB bicubic shrink kept as float, ``scale``
pixels shaved, uint8-rounded PSNR) on each dataset (default: Set5), with
``rescale`` run as users run it, for 1 pass, 2 (point-symmetric, the default)
and 8 (every rotation and mirror). Test sets: report, never tune on them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import markdown

import srcnn_plugin
from srcnn_plugin.degradations import Degradation
from srcnn_plugin.training.data import list_images, read_luma, record
from srcnn_plugin.training.evaluate import psnr_y

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "Set5"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", type=Path, default=[DEFAULT])
    ap.add_argument("--scales", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--model", default="paper", help="model spec (default: the paper family)")
    args = ap.parse_args(argv)
    rows = []
    for ds in args.datasets:
        pairs = {
            s: [record(read_luma(p), s, Degradation("bicubic")) for p in list_images(ds)]
            for s in args.scales
        }
        for s, items in pairs.items():
            row = {"dataset": ds.name, "scale": f"x{s}"}
            for passes in (1, 2, 8):
                # Warm up (model loading, caches) outside the timing.
                srcnn_plugin.rescale(items[0][1], s, model=args.model, ensemble=passes)
                vals, t0 = [], time.perf_counter()
                for hr, lr in items:
                    sr = srcnn_plugin.rescale(lr, s, model=args.model, ensemble=passes)
                    vals.append(psnr_y(hr, sr, s))
                row[f"{passes} pass dB"] = f"{np.mean(vals):.3f}"
                row[f"{passes} pass s/img"] = (time.perf_counter() - t0) / len(items)
            rows.append(row)
    print(markdown(rows))


if __name__ == "__main__":
    main()
