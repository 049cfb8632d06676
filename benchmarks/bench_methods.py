"""Bicubic, sparse coding and SRCNN side by side: PSNR and seconds per image.

Run: ``python benchmarks/bench_methods.py [--datasets DIR ...] [--scales 3]
[--threads N] [--json OUT] [--markdown OUT]``

The paper's protocol (``srcnn-plugin evaluate``: Y of BT.601, MATLAB bicubic
shrink kept as float, ``scale`` pixels shaved) for MATLAB bicubic, sparse
coding (Yang et al. 2010, ``srcnn_plugin.baselines``, the bundled
dictionaries) and the bundled paper-recipe SRCNNs, 9-1-5 (``paper-fast``) and 9-5-5
(``paper``), each the network alone on the bicubic image. Seconds are wall
time per image from the low-resolution image to the result, on the CPU with
``--threads`` threads (default 1: one core for every method), measured in
this one run. The second table is the per-image time ratio sparse coding /
SRCNN on the last dataset (Set14 by default) at each factor. Default
datasets: ``../shared/datasets/Set5`` and ``Set14``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _common import machine, markdown

from srcnn_plugin.training.evaluate import evaluate

ROOT = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def main(argv=None):
    import torch

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", nargs="+", type=Path, default=[ROOT / "Set5", ROOT / "Set14"])
    ap.add_argument("--scales", type=int, nargs="+", default=[3])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, help="write the rows (for the docs figure)")
    ap.add_argument("--markdown", type=Path, help="write the printed tables")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}\n")
    rows, records = [], []
    ratios = {}
    for ds in args.datasets:
        for s in args.scales:
            base = evaluate(ds, (s,), methods=["bicubic", "sparse-coding"])
            nets = {
                fam: evaluate(ds, (s,), model=fam, methods=["srcnn"]).rows[0]
                for fam in ("paper-fast", "paper")
            }
            found = {r.method: r for r in base.rows}
            found["srcnn 9-1-5 (paper-fast)"] = nets["paper-fast"]
            found["srcnn 9-5-5 (paper)"] = nets["paper"]
            for method, r in found.items():
                rows.append(
                    {
                        "dataset": r.dataset,
                        "scale": f"x{s}",
                        "method": method,
                        "PSNR": round(r.psnr, 2),
                        "SSIM": round(r.ssim, 4),
                        "s / image": float(f"{r.seconds:.3g}"),
                    }
                )
                records.append({**rows[-1], "per_image_seconds": r.times})
            sc = found["sparse-coding"].times
            ratios[(r.dataset, s)] = {
                fam: np.array([sc[k] / nets[fam].times[k] for k in sc]) for fam in nets
            }
    text = [f"Machine: {machine()}.", "", markdown(rows)]
    print(markdown(rows))
    last = args.datasets[-1].name
    table = []
    for (name, s), per in ratios.items():
        if name != last:
            continue
        for fam, label in (("paper-fast", "9-1-5 (paper-fast)"), ("paper", "9-5-5 (paper)")):
            r = per[fam]
            table.append(
                {
                    "dataset": name,
                    "scale": f"x{s}",
                    "SRCNN": label,
                    "sparse coding / SRCNN time, median": round(float(np.median(r)), 1),
                    "min": round(float(r.min()), 1),
                    "max": round(float(r.max()), 1),
                    "images": len(r),
                }
            )
    head = f"Per-image time ratio on {last} (same CPU, same run):"
    print(f"\n{head}\n")
    print(markdown(table))
    text += ["", head, "", markdown(table)]
    if args.markdown:
        args.markdown.write_text("\n".join(text) + "\n")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
