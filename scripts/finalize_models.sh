#!/usr/bin/env bash
# Bundle the finished per-scale runs, evaluate them and regenerate the docs tables.
# Usage: scripts/finalize_models.sh [RUNS_DIR]   (default: runs)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-runs}
D=../shared/datasets
W=src/srcnn_plugin/models/weights
first=1
for s in 2 3 4 1.5; do
  run=$RUNS/x$s
  model=$run/model.pt
  if [ ! -f "$model" ]; then
    python scripts/export_checkpoint.py "$run" "$run/export.pt"
    model=$run/export.pt
  fi
  srcnn-plugin evaluate $D/Set5 $D/Set14 --scale $s --model "$model" --json "$run/eval.json" -q
  default=""
  if [ "$s" = "2" ]; then default="--default"; fi
  if [ $first = 1 ]; then rm -f $W/*.pt $W/registry.json; first=0; fi
  python scripts/bundle_weights.py "$model" --name "srcnn-9-5-5-x$s" $default \
    --description "SRCNN 9-5-5 (residual) for x$s, trained on T91+BSD200" --metrics "$run/eval.json"
done
srcnn-plugin evaluate $D/Set5 $D/Set14 --scale 2 3 4 --markdown docs/tables/model_psnr.md \
  --json docs/tables/model_psnr.json
python scripts/training_report.py "$RUNS"
