"""PSNR cost of reduced precision: Set5 Y-PSNR of rescale per precision.

Run: ``python benchmarks/bench_precision.py [--device cpu] [--set5 DIR]``

Protocol: Y of each Set5 image, cropped to a multiple of the factor and shrunk
with MATLAB bicubic (kept as float); ``rescale`` back at each precision; PSNR
on Y with ``scale`` pixels shaved. On a CPU without native bfloat16,
``--force`` runs the bf16 arithmetic anyway (emulated: the same numbers,
about 10x slower), so its accuracy can be checked on any machine; the speed
is ``bench_speed.py``'s business.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _common import markdown

import srcnn_plugin

DEFAULT_SET5 = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "Set5"


def psnr_rows(
    set5: Path, device: str, precisions, scales=(2, 3, 4), model: str = "paper"
) -> list[dict]:
    """One row per scale: mean PSNR per precision and the change against float32."""
    from srcnn_plugin._imresize import imresize
    from srcnn_plugin.training.data import list_images, read_luma
    from srcnn_plugin.training.evaluate import psnr_y

    imgs = [read_luma(p).astype(np.float64) / 255 for p in list_images(set5)]
    rows = []
    for s in scales:
        vals = {p: [] for p in precisions}
        for hr in imgs:
            hr = hr[: hr.shape[0] - hr.shape[0] % s, : hr.shape[1] - hr.shape[1] % s]
            lr = imresize(hr, 1 / s)
            for p in precisions:
                sr = srcnn_plugin.rescale(
                    lr, s, device=device, precision=p, clip=False, model=model
                )
                vals[p].append(psnr_y(hr, sr, s))
        row = {"scale": f"x{s}"}
        row.update({f"{p} dB": float(np.mean(v)) for p, v in vals.items()})
        for p in precisions[1:]:
            row[f"{p} - float32"] = row[f"{p} dB"] - row["float32 dB"]
        rows.append(row)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--set5", type=Path, default=DEFAULT_SET5)
    ap.add_argument("--force", action="store_true", help="bf16 on a CPU without native bf16")
    ap.add_argument("--model", default="paper", help="model family or name (default: paper)")
    args = ap.parse_args(argv)
    precisions = ["float32", "bfloat16"] + (["float16"] if args.device != "cpu" else [])
    if args.force:
        import srcnn_plugin._engine as engine

        engine.cpu_has_bf16 = lambda: True
    rows = psnr_rows(args.set5, args.device, precisions, model=args.model)
    print(f"Set5 Y-PSNR of rescale (model={args.model!r}) on {args.device} by precision:\n")
    print(markdown(rows))
    worst = min(r[f"{p} - float32"] for r in rows for p in precisions[1:])
    print(f"\nlargest loss: {-worst:.4f} dB (target <= 0.02)")
    return 0 if worst >= -0.02 else 1


if __name__ == "__main__":
    raise SystemExit(main())
