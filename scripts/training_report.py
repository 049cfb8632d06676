"""Write the model card's training-time and target tables from the run folders.

Usage: ``python scripts/training_report.py [RUNS_DIR]`` (after finalize_models.sh).
Reads ``RUNS/*/history.json`` (CPU stages 1-3), the GPU stages' records
``docs/tables/stage*_runs.json`` (written by scripts/gpu_train.py) and
``docs/tables/model_psnr.json``; writes ``docs/tables/training_time.md`` and
``docs/tables/targets.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER = {
    ("Set5", 2): 36.66,
    ("Set5", 3): 32.75,
    ("Set5", 4): 30.49,
    ("Set14", 2): 32.45,
    ("Set14", 3): 29.30,
    ("Set14", 4): 27.50,
}
AIM = {
    ("Set5", 2): 36.9,
    ("Set5", 3): 33.0,
    ("Set5", 4): 30.7,
    ("Set14", 2): 32.6,
    ("Set14", 3): 29.45,
    ("Set14", 4): 27.65,
}


def _row(label: str, hist: list[dict], planes: str = "Y", val_y: float | None = None) -> str:
    best = max(hist, key=lambda h: h["val_mean"])
    vals = ", ".join(f"x{float(k):g}: {v:.3f}" for k, v in best["val_psnr"].items())
    y = "" if val_y is None else f"{val_y:.3f}"
    return (
        f"| {label} | {hist[-1]['step']} | {hist[-1]['elapsed_s'] / 60:.0f} | "
        f"{vals} (step {best['step']}, {planes}) | {y} |"
    )


def _hardware(rec: dict) -> str:
    return "GPU" if str(rec.get("device", "")).startswith("NVIDIA") else "CPU"


def _validated_planes(rec: dict) -> dict[str, str]:
    """Run name (its ``--out`` folder) -> the planes it validated on, from its command."""
    from srcnn_plugin.cli import build_parser

    parser, out = build_parser(), {}
    for cmd in rec.get("commands", []):
        argv = cmd.split()
        args = parser.parse_args(argv[argv.index("train") :])
        channels = args.val_channels or args.channels
        out[Path(args.out).name] = "R, G, B" if channels == "each" else "Y"
    return out


def main(runs: Path) -> None:
    rows = [
        "| run | steps | wall time (min) | best validation PSNR (dB), planes | on Y |",
        "|---|---|---|---|---|",
    ]
    for name in ["x234", "x1.5", "x2", "x3", "x4", "x2b", "x3b", "x4b"]:
        hist_path = runs / name / "history.json"
        if not hist_path.exists():
            continue
        hist = json.loads(hist_path.read_text())
        if name == "x234":
            hist = [h for h in hist if h["step"] <= 6000]
        if name == "x234":
            label = "stage 1 (x2, x3, x4)"
        elif name.endswith("b"):
            label = f"stage 3 {name[:-1]}"
        else:
            label = f"stage 2 {name}"
        rows.append(_row(label, hist))
    records = (ROOT / "docs" / "tables").glob("stage*_runs.json")
    for path in sorted(records, key=lambda p: int(p.name.split("_")[0][5:])):
        stage = path.name.split("_")[0].replace("stage", "stage ")
        rec = json.loads(path.read_text())
        planes_of = _validated_planes(rec)
        for key, run in rec.items():
            if isinstance(run, dict) and run.get("history"):
                name = key if key.startswith("x") else f"x{key}"
                planes = planes_of.get(name, "Y")
                label = f"{stage} {name} ({_hardware(rec)})"
                rows.append(_row(label, run["history"], planes, run.get("val_y")))
    rows.append("")
    rows.append(
        "Wall times are per run; the runs of a stage ran at the same time (stages 1-3 on "
        "the two CPU cores, one thread each; GPU stages on one H200). A run validates on "
        "the planes it trains on; runs on R, G and B were also scored on Y with their "
        "selected weights (last column), which is how runs are compared."
    )
    (ROOT / "docs" / "tables" / "training_time.md").write_text("\n".join(rows) + "\n")

    recs = json.loads((ROOT / "docs" / "tables" / "model_psnr.json").read_text())
    got = {(r["dataset"], int(r["scale"])): r["psnr"] for r in recs if r["method"] == "srcnn"}
    out = [
        "| dataset | scale | ours | paper (must) | aim | vs paper |",
        "|---|---|---|---|---|---|",
    ]
    for key, paper in PAPER.items():
        ours = got.get(key)
        if ours is None:
            continue
        out.append(
            f"| {key[0]} | x{key[1]} | {ours:.3f} | {paper:.2f} | {AIM[key]:.2f} | "
            f"{ours - paper:+.3f} |"
        )
    (ROOT / "docs" / "tables" / "targets.md").write_text("\n".join(out) + "\n")
    print("\n".join(rows + [""] + out))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs")
