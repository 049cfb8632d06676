"""Peak memory of rescale on a 4096x4096 image at x2 (uint16, and float32 with NaN).

Run: ``python benchmarks/bench_memory.py [--size 4096] [--scale 2]``

Cases: a uint16 image (default output, and ``preserve_range``), and the same
in float32 with a band of NaN (no data) across a quarter of its rows.

Each case runs in a fresh subprocess; the peak resident memory added by the
call (the process's ``VmHWM`` after the call minus its resident memory
before, input and model already loaded) is compared with the output's size.
``VmHWM`` belongs to the process's own address space; ``ru_maxrss`` would also
count the parent's memory at the time of the fork (Linux keeps the larger
across ``exec``), which inflated this figure when run from run_all.py. Target: peak <= output
size + 512 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys
import numpy as np
import srcnn_plugin

size, scale, kw = int(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
img = (np.random.default_rng(0).random((size, size)) * 4095).astype(np.uint16)
if len(sys.argv) > 4:  # float32 with a band of NaN (no data) across a quarter of the rows
    img = img.astype(np.float32)
    img[size // 4 : size // 2, size // 16 :] = np.nan
srcnn_plugin.rescale(img[:64, :64], scale, **kw)          # load model, warm up
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
def hwm():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
try:  # reset the high-water mark to the current RSS (Linux >= 4.0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
before = rss()
out = srcnn_plugin.rescale(img, scale, **kw)
print(json.dumps({"added_peak": hwm() - before, "output_bytes": out.nbytes,
                  "out_shape": out.shape, "dtype": str(out.dtype)}))
"""


def run(size, scale, kw, nan=False):
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(size), str(scale), json.dumps(kw)] + ["nan"] * nan,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--scale", type=float, default=2)
    args = ap.parse_args(argv)
    mb = 2**20
    rows = []
    cases = [
        ("uint16", "default (float64 out)", {}, False),
        ("uint16", "preserve_range", {"preserve_range": True}, False),
        ("float32", "with NaN rows (no data)", {}, True),
    ]
    for kind, label, kw, nan in cases:
        r = run(args.size, args.scale, kw, nan)
        extra = (r["added_peak"] - r["output_bytes"]) / mb
        rows.append(
            f"| {args.size}x{args.size} {kind} x{args.scale:g} {label} | "
            f"{r['output_bytes'] / mb:.0f} | {r['added_peak'] / mb:.0f} | "
            f"{extra:.0f} | {'yes' if extra <= 512 else 'NO'} |"
        )
    print("| case | output MB | peak added MB | peak - output MB | within +512 MB |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
