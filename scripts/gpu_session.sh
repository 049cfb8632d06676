#!/usr/bin/env bash
# Everything one GPU lease is for, in one command (run from the repository root):
# the CUDA tests, the CUDA benchmark, then per-scale fine-tuning until DEADLINE
# seconds after the start. Results land in $OUT (at most 8 files).
#   OUT=/tmp/out DEADLINE=540 scripts/gpu_session.sh
# TRAIN_ONLY=1 skips the tests and the benchmark; SCALES, PLAN (a JSON list of runs, see
# scripts/gpu_train.py; instead of SCALES) and TRAIN_ARGS pass through.
# Needs the training data in DATA (default .gpu_data/datasets): Y copies, or lossless
# colour copies for --channels each (scripts/luma_copy.py [--colour]); T91, BSD200
# (and Set5 for the benchmark) inside.
set -u
OUT=${OUT:?set OUT to a results folder}
DEADLINE=${DEADLINE:-540}
DEVICE=${DEVICE:-cuda}
D=${DATA:-.gpu_data/datasets}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 SRCNN_DATASETS=$PWD/$D
PY=${PY:-python3}
{
  nvidia-smi || true
  $PY -c "import torch, numpy, skimage; print('torch', torch.__version__, 'numpy', numpy.__version__, 'skimage', skimage.__version__)"
  nproc
} >"$OUT/env.txt" 2>&1
if [ -z "${TRAIN_ONLY:-}" ]; then
timeout 100 $PY -m pytest -q -p no:cacheprovider -p no:warnings -o addopts="" \
  tests/test_cuda.py >"$OUT/cuda_tests.log" 2>&1
echo "cuda tests rc=$? at ${SECONDS}s"
timeout 120 $PY benchmarks/bench_cuda.py --set5 $D/Set5 --repeat 2 >"$OUT/cuda_bench.md" 2>&1
echo "cuda bench rc=$? at ${SECONDS}s"
fi
$PY scripts/gpu_train.py $D/T91 $D/BSD200 --scales ${SCALES:-2 3 4} --device "$DEVICE" \
  --budget-s $((DEADLINE - SECONDS - 20)) --out /tmp/srcnn_runs --results "$OUT" ${PLAN:+--plan "$PLAN"} ${TRAIN_ARGS:-}
echo "training rc=$? at ${SECONDS}s"
