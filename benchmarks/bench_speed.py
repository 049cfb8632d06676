"""Throughput of rescale against the CPU's GEMM ceiling and other upscalers.

Run: ``python benchmarks/bench_speed.py [--sizes 256 1024 2048] [--scale 2]``

Prints, in one run on this machine: the fp32 and bf16 matrix-product ceilings
(GFLOP/s), the SRCNN bound they imply (MPix/s), then for each output size the
output MPix/s of ``rescale`` (fp32 and bf16), of a naive whole-image torch
SRCNN, of ``skimage.transform.rescale(order=3)`` and ``cv2.resize(INTER_CUBIC)``,
and rescale's ratio to the fp32 bound. Before those (and alone with
``--families-only``): the families' models side by side at the same passes,
each with fused and separate ReLUs, in a fresh process with and without the
engine's raise of glibc's mmap threshold, told shot noise, and on a stack of
planes. Last, a tile-size sweep of the default and the fast model (``--tile-scales``:
at several factors).
Compare ratios, not absolute numbers: the machine is shared.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import best_of, machine, markdown

import srcnn_plugin
from srcnn_plugin.models.registry import get_model
from srcnn_plugin.models.srcnn import predict_padded


def gemm_gflops(dtype, n: int = 2048) -> float:
    a = torch.randn(n, n, dtype=dtype)
    b = torch.randn(n, n, dtype=dtype)
    t = best_of(lambda: a @ b, repeat=3)
    return 2 * n**3 / t / 1e9


def naive_srcnn(lr: np.ndarray, scale: float, device: str = "cpu") -> np.ndarray:
    """The baseline: MATLAB bicubic of the whole image (NumPy), one SRCNN forward on
    ``device`` (no tiling), result back on the host."""
    from srcnn_plugin._engine import _model_on
    from srcnn_plugin._imresize import imresize

    dev = torch.device(device)
    model = _model_on(get_model(), dev)  # a per-device copy; the cached model stays put
    bic = imresize(lr, scale).astype(np.float32)
    with torch.inference_mode():
        return predict_padded(model, torch.from_numpy(bic)[None, None].to(dev)).cpu().numpy()


def measure(lr, out, scale, repeat, naive, bound32, cv2, sk_rescale) -> dict:
    """One table row: throughputs for one output size.

    ``rescale`` runs by default with the symmetric (two-pass) network;
    ``fast`` is ``symmetric=False`` (one pass), the figure to compare with the
    one-pass bound and the naive baseline.
    """
    mpix = (out * out) / 1e6

    def run(**kw):
        return best_of(lambda: srcnn_plugin.rescale(lr, scale, device="cpu", **kw), repeat)

    row = {"output": f"{out}x{out}"}
    row["rescale MPix/s"] = mpix / run()
    t = run(symmetric=False)
    row["fast MPix/s"] = mpix / t
    row["fast / fp32 bound"] = mpix / t / bound32
    row["fast bf16 / fp32"] = t / run(symmetric=False, precision="bfloat16")
    if naive:
        tn = best_of(lambda: naive_srcnn(lr, scale), repeat)
        row["naive torch MPix/s"] = mpix / tn
        row["fast / naive"] = tn / t
    ts = best_of(lambda: sk_rescale(lr, scale, order=3), repeat)
    row["skimage order=3 MPix/s"] = mpix / ts
    if cv2 is not None:
        tc = best_of(lambda: cv2.resize(lr, (out, out), interpolation=cv2.INTER_CUBIC), repeat)
        row["cv2 cubic MPix/s"] = mpix / tc
    return row


def _plain_forward(model, x, noise=None, blur=None):
    """The network's own forward pass, in place of ``models.srcnn.infer``."""
    return model(x, noise, blur)


def ablation(lr, out, scale, repeat, bound32) -> list[dict]:
    """The fast path with each CPU optimisation added in turn (same run, same image).

    "plain forward" swaps the engine's ``infer`` for ``model(x)`` (separate, out-of-place
    ReLUs, oneDNN for the one-channel last layer), as before the optimisation.
    """
    from srcnn_plugin.models import srcnn as srcnn_module

    mpix = out * out / 1e6
    fast_infer = srcnn_module.infer
    steps = [
        ("naive whole-image torch", None, None),
        ("tiled, plain forward, tile 512", False, 512),
        ("+ fused ReLUs, last layer as a product", True, 512),
        ("+ tile 256 (default)", True, None),
    ]
    rows = []
    for name, fast, tile in steps:
        if fast is None:
            t = best_of(lambda: naive_srcnn(lr, scale), repeat)
        else:
            srcnn_module.infer = fast_infer if fast else _plain_forward
            try:
                t = best_of(
                    lambda tile=tile: srcnn_plugin.rescale(
                        lr, scale, device="cpu", tile_size=tile, symmetric=False
                    ),
                    repeat,
                )
            finally:
                srcnn_module.infer = fast_infer
        rows.append({"step": name, "MPix/s": mpix / t, "/ fp32 bound": mpix / t / bound32})
    return rows


def last_layer_rows(repeat: int, tile: int = 256) -> list[dict]:
    """The 32 -> 1 channel 5x5 last layer on one CPU tile: oneDNN's conv2d against
    ``conv_to_one_channel`` (the claim in its docstring)."""
    from srcnn_plugin.models.srcnn import conv_to_one_channel

    conv3 = get_model().model.conv3
    k = conv3.weight.shape[-1]
    y = torch.rand(1, conv3.in_channels, tile + k - 1, tile + k - 1)
    y = y.contiguous(memory_format=torch.channels_last)
    rows = []
    with torch.inference_mode():
        for name, fn in [
            ("conv2d (oneDNN)", lambda: conv3(y)),
            ("conv_to_one_channel", lambda: conv_to_one_channel(y, conv3.weight, conv3.bias)),
        ]:
            rows.append({"last layer": name, "ms per tile": 1e3 * best_of(fn, repeat)})
    for r in rows:
        r["speed-up"] = rows[0]["ms per tile"] / r["ms per tile"]
    return rows


def family_rows(lr, out: int, scale: float, repeat: int, gflops: float) -> list[dict]:
    """The families' models for one factor at the same passes.

    The default (acquisition, noise- and blur-aware) models measure the noise
    (a few planes) and add their condition to two layers' biases; ``fast`` is
    their 9-1-5 counterpart, ``paper-fast`` the paper recipe's 9-1-5 (both on the
    low-resolution grid at an integer factor, as ``rescale`` chooses them).
    ``9-1-5 / paper`` is the 9-1-5 speed-up over 9-5-5 (paper recipe both),
    ``fast / acquisition`` the same for the acquisition models; each paper
    network's MPix/s is also given against its own fp32 bound (``gflops``
    over twice its MACs per pixel).
    """
    from srcnn_plugin._plan import plane_grid
    from srcnn_plugin.models.registry import resolve_model

    label = {
        "paper": "paper",
        "acquisition": "acquisition",
        "paper-fast": "9-1-5",
        "fast": "fast",
    }
    rows = []
    for passes in (1, 2):
        times = {}
        for family in label:
            t = best_of(
                lambda family=family, passes=passes: srcnn_plugin.rescale(
                    lr, scale, device="cpu", model=family, ensemble=passes
                ),
                repeat,
            )
            times[family] = t
        mpix = out * out / 1e6
        row = {"passes": passes}
        for family in times:
            row[f"{label[family]} MPix/s"] = mpix / times[family]
        for family in ("paper", "paper-fast"):
            macs = get_model(resolve_model(family, scale, plane_grid(scale))).config.macs_per_pixel
            bound = gflops * 1e9 / (2 * macs) / 1e6
            row[f"{label[family]} / its bound"] = mpix / times[family] / bound * passes
        row["acquisition / paper"] = times["paper"] / times["acquisition"]
        row["9-1-5 / paper"] = times["paper"] / times["paper-fast"]
        row["fast / acquisition"] = times["acquisition"] / times["fast"]
        rows.append(row)
    return rows


def fused_rows(lr, out: int, scale: float, repeat: int) -> list[dict]:
    """Each family at one pass with its ReLUs fused into the convolutions (the
    engine's CPU path, ``models.srcnn.conv_relu``) and as separate in-place
    passes (the fused operator switched off), alternated in one run."""
    from srcnn_plugin.models import srcnn as srcnn_module

    fused = srcnn_module._FUSED
    if fused is None:
        return []
    mpix = out * out / 1e6
    rows = []
    for family in ("paper", "acquisition", "paper-fast", "fast"):
        t = {True: [], False: []}
        for _ in range(repeat):
            for on in (True, False):
                srcnn_module._FUSED = fused if on else None
                try:
                    t[on].append(
                        best_of(
                            lambda family=family: srcnn_plugin.rescale(
                                lr, scale, device="cpu", model=family, ensemble=1
                            ),
                            1,
                        )
                    )
                finally:
                    srcnn_module._FUSED = fused
        rows.append(
            {
                "family": family,
                "fused MPix/s": mpix / min(t[True]),
                "separate ReLUs MPix/s": mpix / min(t[False]),
                "fused / separate": min(t[False]) / min(t[True]),
            }
        )
    return rows


def shot_noise_rows(lr, out: int, scale: float, repeat: int) -> list[dict]:
    """The noise-aware families told one level (``'auto'``) or per pixel (``'poisson'``).

    Default passes (2); ``poisson / auto`` is the time ratio (the fit of the
    variance line, the per-tile box mean and the per-pixel shift).
    """
    rows = []
    for family in ("acquisition", "fast"):
        t = {
            noise: best_of(
                lambda noise=noise, family=family: srcnn_plugin.rescale(
                    lr, scale, device="cpu", model=family, noise=noise
                ),
                repeat,
            )
            for noise in ("auto", "poisson")
        }
        mpix = out * out / 1e6
        rows.append(
            {
                "family": family,
                "auto MPix/s": mpix / t["auto"],
                "poisson MPix/s": mpix / t["poisson"],
                "poisson / auto time": t["poisson"] / t["auto"],
            }
        )
    return rows


def stack_rows(out: int, scale: float, planes: int, repeat: int) -> list[dict]:
    """One plane against a stack of ``planes`` planes (per-pixel MPix/s, one pass).

    "stack, one forward per batch" lifts the engine's bound on a forward
    pass's activations (``_engine._MAX_ACTIVATION``), as before it existed:
    the batch of planes then runs as one forward pass, whose activations
    glibc maps fresh (and the kernel zeroes) on every tile.
    """
    import srcnn_plugin._engine as engine

    rng = np.random.default_rng(1)
    n = round(out / scale)
    one = rng.random((n, n)).astype(np.float32)
    stack = rng.random((planes, n, n)).astype(np.float32)
    mpix = out * out / 1e6
    bound = engine._MAX_ACTIVATION
    rows = []
    for family in ("paper", "paper-fast"):

        def run(x, f=family):
            sc = scale if x.ndim == 2 else (1, scale, scale)
            return srcnn_plugin.rescale(x, sc, device="cpu", model=f, ensemble=1)

        t1 = best_of(lambda: run(one), repeat)
        ts = best_of(lambda: run(stack), repeat)
        engine._MAX_ACTIVATION = 2**62
        try:
            tb = best_of(lambda: run(stack), repeat)
        finally:
            engine._MAX_ACTIVATION = bound
        rows.append(
            {
                "family": family,
                "one plane MPix/s": mpix / t1,
                f"stack of {planes} MPix/s": planes * mpix / ts,
                "stack, one forward per batch MPix/s": planes * mpix / tb,
                "stack / one plane": t1 * planes / ts,
                "bounded / one forward": tb / ts,
            }
        )
    return rows


def tile_rows(lr, out: int, scale: float, tiles, repeat: int) -> list[dict]:
    """MPix/s of the default (9-5-5) and fast (9-1-5) models for each tile size.

    The tile sizes are alternated within each repeat, so the machine's drift
    reaches them alike; ``auto`` is the engine's automatic tile (``_job._tile_side``).
    """
    import time

    from srcnn_plugin import explain

    sizes = [None, *tiles]
    best = {(f, t): float("inf") for f in ("default", "fast") for t in sizes}
    for family in ("default", "fast"):
        model = None if family == "default" else family

        def run(tile, model=model):
            return srcnn_plugin.rescale(
                lr, scale, device="cpu", model=model, tile_size=tile, ensemble=1
            )

        run(None)
        for _ in range(repeat):
            for tile in sizes:
                t0 = time.perf_counter()
                run(tile)
                best[family, tile] = min(best[family, tile], time.perf_counter() - t0)
    auto = {
        f: explain(lr, scale, model=None if f == "default" else f)["tile"]
        for f in ("default", "fast")
    }
    mpix = out * out / 1e6
    rows = []
    for tile in sizes:
        row = {"tile": "auto" if tile is None else tile}
        for family in ("default", "fast"):
            row[f"{family} MPix/s"] = mpix / best[family, tile]
            row[f"{family} / auto"] = best[family, None] / best[family, tile]
        rows.append(row)
    rows[0]["tile"] = f"auto ({auto['default']} / {auto['fast']})"
    return rows


_FRESH = """
import sys, time
import numpy as np
import srcnn_plugin
import srcnn_plugin._engine as engine

family, raised, out, scale, repeat = sys.argv[1:]
engine._MMAP_RAISED = raised == "0"  # True: skip the raise, as before it existed
model = None if family == "default" else family
lr = np.random.default_rng(0).random((round(int(out) / float(scale)),) * 2).astype(np.float32)
srcnn_plugin.rescale(lr, float(scale), device="cpu", model=model, ensemble=1)
best = float("inf")
for _ in range(int(repeat)):
    t0 = time.perf_counter()
    srcnn_plugin.rescale(lr, float(scale), device="cpu", model=model, ensemble=1)
    best = min(best, time.perf_counter() - t0)
print(best)
"""


def fresh_process_rows(out: int, scale: float, repeat: int) -> list[dict]:
    """Each family in a fresh process, with and without ``_raise_mmap_threshold``.

    One pass, automatic tiles; each configuration runs ``repeat`` times in
    its own process (best time), and the processes alternate.
    """
    import os
    import subprocess
    import sys

    from srcnn_plugin._engine import MALLOC_VARIABLES

    env = {
        k: v for k, v in os.environ.items() if k not in MALLOC_VARIABLES
    }  # the engine would defer
    best = {}
    for _ in range(2):
        for family in ("default", "fast"):
            for raised in (True, False):
                args = [family, str(int(raised)), str(out), str(scale), str(repeat)]
                res = subprocess.run(
                    [sys.executable, "-c", _FRESH, *args],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                )
                t = float(res.stdout.split()[-1])
                best[family, raised] = min(best.get((family, raised), t), t)
    mpix = out * out / 1e6
    rows = []
    for family in ("default", "fast"):
        rows.append(
            {
                "family": family,
                "threshold raised MPix/s": mpix / best[family, True],
                "glibc's own MPix/s": mpix / best[family, False],
                "raised / own": best[family, False] / best[family, True],
            }
        )
    rows.append(
        {
            "family": "fast / default",
            "threshold raised MPix/s": best["default", True] / best["fast", True],
            "glibc's own MPix/s": best["default", False] / best["fast", False],
            "raised / own": "",
        }
    )
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 2048])
    ap.add_argument("--scale", type=float, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-naive", action="store_true", help="skip the whole-image baseline")
    ap.add_argument(
        "--families-only",
        action="store_true",
        help="only compare the families' models (9-5-5: paper, acquisition; "
        "9-1-5: paper-fast, fast)",
    )
    ap.add_argument("--stack", type=int, default=4, help="planes of the stack rows (0: skip them)")
    ap.add_argument(
        "--tiles",
        type=int,
        nargs="*",
        default=[96, 128, 160, 192, 256, 384, 512],
        help="tile sizes to sweep at the largest size, for the default and the fast "
        "model (none: skip)",
    )
    ap.add_argument(
        "--tile-scales",
        type=float,
        nargs="+",
        default=None,
        metavar="S",
        help="factors of the tile-size sweep (default: --scale); the fast model's "
        "automatic CPU tile grows with its low-resolution grid at x3 and x4",
    )
    args = ap.parse_args(argv)
    macs = get_model().config.macs_per_pixel
    f32 = gemm_gflops(torch.float32)
    bf16 = gemm_gflops(torch.bfloat16)
    bound32 = f32 * 1e9 / (2 * macs) / 1e6
    bound16 = bf16 * 1e9 / (2 * macs) / 1e6
    from srcnn_plugin._engine import cpu_has_bf16

    print(f"machine: {machine()}; native bf16: {cpu_has_bf16()}")
    print(
        f"GEMM ceiling: fp32 {f32:.0f} GFLOP/s, bf16 {bf16:.1f} GFLOP/s; SRCNN "
        f"{get_model().config.name} (the default model's) "
        f"({macs} MAC/px) bound: {bound32:.2f} MPix/s fp32, {bound16:.2f} MPix/s bf16\n"
    )
    try:
        import cv2
    except ImportError:
        cv2 = None
    from skimage.transform import rescale as sk_rescale

    rng = np.random.default_rng(0)
    out = args.sizes[-1]
    lr = rng.random((round(out / args.scale),) * 2).astype(np.float32)
    print(
        f"the families' models at {out}x{out}, same passes (9-1-5: the paper-fast family; "
        "fast: the acquisition 9-1-5; both on the low-resolution grid at x2, x3 and x4):\n"
    )
    print(markdown(family_rows(lr, out, args.scale, args.repeat, f32)), flush=True)
    rows = fused_rows(lr, out, args.scale, 2 * args.repeat)
    if rows:
        print(f"\nReLUs fused into the convolutions or separate, {out}x{out}, one pass:\n")
        print(markdown(rows), flush=True)
    print(f"\nfresh process, {out}x{out}, one pass: glibc's mmap threshold raised or not:\n")
    print(markdown(fresh_process_rows(out, args.scale, args.repeat)), flush=True)
    print(f"\nshot noise told per pixel (noise='poisson') at {out}x{out}, 2 passes:\n")
    print(markdown(shot_noise_rows(lr, out, args.scale, args.repeat)), flush=True)
    if args.stack:
        print(f"\none plane and a stack of {args.stack} planes at {out}x{out}, one pass:\n")
        print(markdown(stack_rows(out, args.scale, args.stack, args.repeat)), flush=True)
    if args.families_only:
        return
    rows = []
    for out in args.sizes:
        n = int(round(out / args.scale))
        lr = rng.random((n, n)).astype(np.float32)
        row = measure(lr, out, args.scale, args.repeat, not args.no_naive, bound32, cv2, sk_rescale)
        rows.append(row)
    print(f"\nrescale at each output size, x{args.scale:g}:\n")
    print(markdown(rows), flush=True)
    out = args.sizes[-1]
    lr = rng.random((round(out / args.scale),) * 2).astype(np.float32)
    print(f"\noptimisations, one at a time, at {out}x{out} (fast path, fp32):\n")
    print(markdown(ablation(lr, out, args.scale, args.repeat, bound32)))
    print("\nthe last layer alone, one 256x256 tile:\n")
    print(markdown(last_layer_rows(max(args.repeat, 5))))
    for scale in args.tile_scales or [args.scale] if args.tiles else []:
        out = args.sizes[-1]
        n = int(round(out / scale))
        lr = rng.random((n, n)).astype(np.float32)
        print(
            f"\ntile-size sweep at {out}x{out}, x{scale:g}, one pass (auto: the automatic tile):\n"
        )
        print(markdown(tile_rows(lr, out, scale, args.tiles, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
