"""Run every benchmark in one go and print their tables.

Run: ``python benchmarks/run_all.py`` (about 15 minutes on 2 CPU cores).

Prints the speed table (rescale vs a naive whole-image torch SRCNN and the
GEMM ceiling), the peak memory of the 4096x4096 x2 case and the
fractional-factor PSNR table, in that order.
"""

from __future__ import annotations

import bench_memory
import bench_scales
import bench_speed


def main() -> int:
    print("## Speed\n")
    bench_speed.main(
        ["--sizes", "256", "1024", "2048", "--repeat", "3", "--tile-scales", "2", "3", "4"]
    )
    print("\n## Peak memory\n")
    bench_memory.main([])
    print("\n## PSNR at integer and fractional factors\n")
    return bench_scales.main([])


if __name__ == "__main__":
    raise SystemExit(main())
