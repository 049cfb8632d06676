"""Export ``best.pt`` (or ``last.pt``) of a run folder as a weights file.

Usage::

    python scripts/export_checkpoint.py RUN_DIR OUT.pt [--last]

For runs stopped early or still in progress; a finished ``srcnn-plugin train``
writes ``RUN_DIR/model.pt`` itself (both through
``srcnn_plugin.training.train.export_run``).
"""

import argparse
from pathlib import Path

from srcnn_plugin.models.weights import load_weights
from srcnn_plugin.training.train import export_run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("run", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--last", action="store_true")
    args = ap.parse_args(argv)
    meta = load_weights(export_run(args.run, args.out, last=args.last)).metadata["training"]
    print(f"exported step {meta['step']} of {meta['config']['steps']} to {args.out}")


if __name__ == "__main__":
    main()
