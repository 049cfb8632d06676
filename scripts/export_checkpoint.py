"""Export ``best.pt`` (or ``last.pt``) of a run folder as a weights file.

Usage::

    python scripts/export_checkpoint.py RUN_DIR OUT.pt [--last]

For runs still in progress; a finished ``srcnn-plugin train`` writes
``RUN_DIR/model.pt`` itself.
"""

import argparse
import json
from pathlib import Path

import torch

from srcnn_plugin.models.srcnn import SRCNN
from srcnn_plugin.models.weights import save_weights
from srcnn_plugin.training.train import TrainConfig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("run", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--last", action="store_true")
    args = ap.parse_args(argv)
    last = torch.load(args.run / "last.pt", weights_only=True)
    cfg = TrainConfig(**last["config"])
    ck = last if args.last else torch.load(args.run / "best.pt", weights_only=True)
    model = SRCNN(cfg.arch())
    model.load_state_dict(ck["model"])
    hist = json.loads((args.run / "history.json").read_text())
    save_weights(
        model,
        args.out,
        scales=cfg.scales,
        metadata={
            "training": {
                "config": last["config"],
                "step": ck["step"],
                "history_tail": hist[-3:],
                "complete": ck["step"] >= cfg.steps,
            }
        },
    )
    print(f"exported step {ck['step']} of {cfg.steps} to {args.out}")


if __name__ == "__main__":
    main()
