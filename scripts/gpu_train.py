"""Fine-tune the per-scale models side by side on one GPU within a time budget.

Usage (on the GPU machine, from the repository root)::

    python scripts/gpu_train.py DATA/T91 DATA/BSD200 --budget-s 360 --out runs/gpu \\
        --results $OUT

Times a few synthetic training steps to size the run, then starts one
``python -m srcnn_plugin train`` per scale (the same command a user runs;
each is recorded with its step count), waits, and exports
each run's validation-selected weights (``model.pt``, or ``best.pt`` when the
time guard stopped a run early) as ``RESULTS/<run>.pt``, with the runs'
histories in ``RESULTS/runs.json``. Runs are named ``x<scale>``, or come
from ``--plan FILE``: a JSON list of ``{"name", "scale", "args"}`` where
``args`` are extra ``train`` options that override the shared ones (several
variants of one scale side by side, to choose between on validation PSNR).
A run's step count depends on the probe, so the exact commands are in
``runs.json``: rerunning them reproduces the weights up to GPU non-determinism.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

from srcnn_plugin.models.srcnn import SRCNN
from srcnn_plugin.training.train import TrainConfig


def probe_steps_per_s(cfg: TrainConfig, device: str, seconds: float = 6.0) -> float:
    """Training steps per second of one process on ``device`` (synthetic patches)."""
    torch.backends.cudnn.benchmark = True
    cuda = torch.device(device).type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    model = SRCNN(cfg.arch()).to(device, memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    q = cfg.patch - 2 * cfg.arch().halo
    x = torch.rand(cfg.batch, 1, cfg.patch, cfg.patch, device=device)
    x = x.contiguous(memory_format=torch.channels_last)
    y = torch.rand(cfg.batch, 1, q, q, device=device)

    def step():
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    sync()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(20):
            step()
        n += 20
        sync()
    return n / (time.perf_counter() - t0)


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def load_plan(path: Path) -> list[dict]:
    """The runs of a plan file, checked: unique names, a scale and extra args each."""
    plan = json.loads(Path(path).read_text())
    names = [r.get("name") for r in plan]
    if not plan or len(set(names)) != len(names) or not all(names):
        raise ValueError(f"{path}: give each run a unique 'name'.")
    for r in plan:
        if "scale" not in r or not isinstance(r.get("args", []), list):
            raise ValueError(f"{path}: run {r['name']!r} needs 'scale' and a list 'args'.")
        r["scale"] = str(r["scale"])
        r.setdefault("args", [])
    return plan


def _device_name(device: str) -> str:
    dev = torch.device(device)
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("images", nargs="+", type=Path)
    ap.add_argument("--scales", nargs="+", default=["2", "3", "4"])
    ap.add_argument("--budget-s", type=float, required=True, help="wall time for training")
    ap.add_argument("--out", type=Path, default=Path("runs/gpu"))
    ap.add_argument("--results", type=Path, required=True)
    ap.add_argument("--patch", type=int, default=48)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--lr-min", type=float, default=1e-6)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--hr-scales", nargs="+", default=["1"], help="passed to train")
    ap.add_argument("--startup-s", type=float, default=25, help="data loading, per run")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--plan", type=Path, help="JSON list of runs (overrides --scales)")
    args = ap.parse_args(argv)
    plan = (
        load_plan(args.plan)
        if args.plan
        else [{"name": f"x{s}", "scale": s, "args": []} for s in args.scales]
    )
    t_start = time.perf_counter()
    cfg = TrainConfig(patch=args.patch, batch=args.batch)
    sps = probe_steps_per_s(cfg, args.device)
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    n = len(plan)
    left = args.budget_s - (time.perf_counter() - t_start)
    steps = int(0.8 * (left - args.startup_s) * sps / n)
    every = max(steps // 20, 50)
    print(f"probe: {sps:.1f} steps/s alone; {n} runs of {steps} steps each", flush=True)
    args.results.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    # Share the host's cores: n runs each with a full BLAS thread pool (numpy's
    # imresize while degrading the images) oversubscribe it many times over.
    threads = max(1, (os.cpu_count() or 1) // n)
    env = {**os.environ, **{v: str(threads) for v in _THREAD_VARS}}
    procs, cmds = {}, []
    for spec in plan:
        name, s = spec["name"], spec["scale"]
        run = args.out / name
        cmd = [
            sys.executable, "-m", "srcnn_plugin", "train", *map(str, args.images),
            "--out", str(run), "--scales", s, "--init", f"srcnn-9-5-5-x{s}",
            "--device", args.device, "--patch", str(args.patch), "--batch", str(args.batch),
            "--steps", str(steps), "--lr", str(args.lr), "--lr-min", str(args.lr_min),
            "--warmup", str(args.warmup), "--val-every", str(every),
            "--hr-scales", *args.hr_scales,
            "--checkpoint-every", str(every), "--threads", str(threads), "-q",
            "--max-minutes", f"{(left - 15) / 60:.2f}",
            *spec["args"],
        ]  # fmt: skip
        cmds.append(" ".join(cmd))
        run.mkdir(parents=True, exist_ok=True)
        log = open(args.out / f"train_{name}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        procs[name] = (proc, log)
    runs = {"probe_steps_per_s": sps, "device": _device_name(args.device), "commands": cmds}
    # Written now too, so the commands survive if the caller's time limit ends this early.
    (args.results / "runs.json").write_text(json.dumps(runs, indent=1))
    for name, (proc, log) in procs.items():
        rc = proc.wait()
        log.close()
        run = args.out / name
        model = run / "model.pt"
        if not model.exists() and (run / "best.pt").exists():
            subprocess.run(
                [sys.executable, "scripts/export_checkpoint.py", str(run), str(run / "export.pt")],
                check=True,
            )
            model = run / "export.pt"
        if model.exists():
            shutil.copy(model, args.results / f"{name}.pt")
        hist_file = run / "history.json"
        hist = json.loads(hist_file.read_text()) if hist_file.exists() else []
        log_tail = (args.out / f"train_{name}.log").read_text()[-3000:]
        runs[name] = {"rc": rc, "weights": model.name, "history": hist, "log_tail": log_tail}
        last = hist[-1] if hist else {}
        print(f"{name}: rc {rc}, step {last.get('step')}, val {last.get('val_mean')}", flush=True)
    (args.results / "runs.json").write_text(json.dumps(runs, indent=1))
    print(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
