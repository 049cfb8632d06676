"""Copy a trained model into the package and record it in the registry.

Usage::

    python scripts/bundle_weights.py RUN_DIR/model.pt --name srcnn-9-5-5-x2 \
        [--family paper|acquisition|fast|paper-fast] [--default-family] [--blur-default B]
        [--noise-gain G]

Computes the file's SHA-256 and stores it, the architecture, scales, family
(blur-aware models) the default PSF in input pixels and (noise-aware models)
the factor on the noise level they are told in
``src/srcnn_plugin/models/weights/registry.json``; ``--default-family`` makes
the model's family serve requests that name no model.
Evaluation metrics are added with ``--metrics table.json`` (written by
``srcnn-plugin evaluate --json``).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from srcnn_plugin.models.registry import FAMILIES
from srcnn_plugin.models.weights import load_weights, sha256_of

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "srcnn_plugin" / "models" / "weights"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("weights", type=Path)
    ap.add_argument("--name", required=True)
    ap.add_argument("--default", action="store_true")
    ap.add_argument("--family", default="paper", choices=FAMILIES)
    ap.add_argument("--default-family", action="store_true")
    ap.add_argument("--blur-default", type=float, help="default PSF, input pixels")
    ap.add_argument("--noise-gain", type=float, help="factor on the told noise level")
    ap.add_argument("--description", default="")
    ap.add_argument("--metrics", type=Path)
    args = ap.parse_args(argv)
    loaded = load_weights(args.weights)
    fname = f"{args.name}.pt"
    shutil.copyfile(args.weights, WEIGHTS / fname)
    reg_path = WEIGHTS / "registry.json"
    reg = json.loads(reg_path.read_text()) if reg_path.exists() else {"models": {}}
    entry = {
        "file": fname,
        "sha256": sha256_of(WEIGHTS / fname),
        "architecture": loaded.config.name,
        "residual": loaded.config.residual,
        "scales": list(loaded.scales),
        "family": args.family,
        "noise_aware": loaded.config.noise_aware,
        "blur_aware": loaded.config.blur_aware,
        "description": args.description,
    }
    if loaded.config.stride > 1:  # on the low-resolution grid: serves exactly its factor
        entry["stride"] = loaded.config.stride
    if args.blur_default is not None:
        entry["blur_default"] = args.blur_default
    if args.noise_gain is not None:
        entry["noise_gain"] = args.noise_gain
    if args.metrics:
        # Rows are named after the evaluated file; in the registry the network is "model".
        rows = json.loads(args.metrics.read_text())
        entry["metrics"] = [
            {**r, "method": r["method"] if r["method"] == "bicubic" else "model"} for r in rows
        ]
    reg["models"][args.name] = entry
    if args.default or "default" not in reg:
        reg["default"] = args.name
    if args.default_family:
        reg["default_family"] = args.family
    reg_path.write_text(json.dumps(reg, indent=2) + "\n")
    print(f"bundled {fname} ({entry['sha256'][:12]}) as {args.name!r}")


if __name__ == "__main__":
    main()
