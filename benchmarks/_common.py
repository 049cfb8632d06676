"""Helpers shared by the benchmark scripts (timing, Markdown tables)."""

from __future__ import annotations

import platform
import time


def best_of(fn, repeat: int = 3, sync=None) -> float:
    """Best wall time of ``repeat`` calls (after one warm-up call).

    ``sync`` (e.g. ``torch.cuda.synchronize``) runs after each call, so
    asynchronous device work is inside the timing.
    """
    sync = sync or (lambda: None)
    fn()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def markdown(rows: list[dict]) -> str:
    """Rows of dicts as a Markdown table."""
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r[c]) for c in cols) + " |")
    return "\n".join(out)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) >= 1 else f"{v:.3g}"
    return str(v)


def machine() -> str:
    """One line describing this machine."""
    import os

    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), Python {platform.python_version()}"
    )
