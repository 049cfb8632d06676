"""GPU throughput and reduced-precision accuracy of rescale (CUDA).

Run: ``python benchmarks/bench_cuda.py [--sizes 1024 2048 4096] [--set5 DIR]``

Prints, in one run on the GPU: the matrix-product ceilings (fp32 with and
without TF32, bf16, fp16) and the SRCNN bound they imply; the default
``rescale`` of a uint16 image at the largest size against the network alone
(issue 21's targets: >= 50 % of it, and >= 500 MPix/s in float16); then for each output
size the output MPix/s of ``rescale`` on CUDA at each precision (default
symmetric two-pass network and the one-pass ``symmetric=False``) and of a
naive whole-image torch SRCNN, and finally the Set5 Y-PSNR of ``rescale`` at
x2/x3/x4 per precision with its change against float32. Exits 2 when no CUDA
device is present.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from _common import best_of, markdown
from bench_precision import psnr_rows
from bench_speed import naive_srcnn

import srcnn_plugin
from srcnn_plugin.degradations import estimate_noise
from srcnn_plugin.models.registry import get_model

DEFAULT_SET5 = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "Set5"
PRECISIONS = ("float32", "bfloat16", "float16")


def cuda_best_of(fn, repeat: int = 3) -> float:
    """``best_of`` with the GPU's queued work inside each timing."""
    return best_of(fn, repeat, sync=torch.cuda.synchronize)


def gemm_tflops(dtype, n: int = 8192, tf32: bool = False) -> float:
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        a = torch.randn(n, n, device="cuda", dtype=dtype)
        b = torch.randn(n, n, device="cuda", dtype=dtype)
        return 2 * n**3 / cuda_best_of(lambda: a @ b, 5) / 1e12
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old


def speed_rows(sizes, scale, repeat) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for out in sizes:
        lr = rng.random((round(out / scale),) * 2).astype(np.float32)
        mpix = out * out / 1e6
        row = {"output": f"{out}x{out}"}
        for prec in PRECISIONS:
            for sym in (True, False):
                t = cuda_best_of(
                    lambda p=prec, s=sym, lr=lr: srcnn_plugin.rescale(
                        lr, scale, device="cuda", precision=p, symmetric=s
                    ),
                    repeat,
                )
                row[f"{prec}{'' if sym else ' fast'} MPix/s"] = mpix / t
        try:
            row["naive torch fp32 MPix/s"] = mpix / cuda_best_of(
                lambda lr=lr: naive_srcnn(lr, scale, "cuda"), repeat
            )
        except torch.cuda.OutOfMemoryError:
            row["naive torch fp32 MPix/s"] = "OOM"
            torch.cuda.empty_cache()
        rows.append(row)
        print(markdown([row]).splitlines()[-1], flush=True)
    return rows


def target_rows(out: int, scale: float, repeat: int) -> list[dict]:
    """The default ``rescale`` of a uint16 image against the network alone, per precision.

    "network only": the default model's two passes (the default ensemble) on
    the padded bicubic image already on the device, told one noise level, as
    ``rescale`` runs it. "rescale": the whole call on a uint16 NumPy image,
    noise measured ("auto"), result back in host memory. "noise estimate"
    and "range pass": the host-side statistics alone (part of the rescale
    time): the noise measurement and the range without spikes and fill
    (``_plan._spike_free_range``).
    """
    from srcnn_plugin._dtype import fill_values
    from srcnn_plugin._engine import _model_on
    from srcnn_plugin._plan import _spike_free_range, _to_work, make_plan, plane_grid
    from srcnn_plugin.models.registry import resolve_model
    from srcnn_plugin.models.srcnn import infer, point_symmetric

    rng = np.random.default_rng(0)
    n = round(out / scale)
    lr = (rng.random((n, n)) * 4095).astype(np.uint16)
    loaded = get_model(resolve_model(None, scale, plane_grid(scale)))
    net = _model_on(loaded, torch.device("cuda"))
    h = loaded.config.halo
    x = torch.rand(1, 1, out + 2 * h, out + 2 * h, device="cuda")
    mpix = out * out / 1e6
    t_noise = best_of(lambda: estimate_noise(lr), repeat)
    plan = make_plan(lr.shape, lr.dtype, scale)
    fills = fill_values([float(lr.min())], [float(lr.max())])
    t_range = best_of(lambda: _spike_free_range(_to_work(lr, None), plan, fills), repeat)
    rows = []
    for prec in PRECISIONS:
        dtype = getattr(torch, prec)

        def network(dtype=dtype, prec=prec):
            with torch.inference_mode(), torch.autocast("cuda", dtype, enabled=prec != "float32"):
                return point_symmetric(lambda t: infer(net, t, 0.01, 0.0), x)

        t_net = cuda_best_of(network, repeat)
        t_res = cuda_best_of(
            lambda prec=prec: srcnn_plugin.rescale(lr, scale, device="cuda", precision=prec),
            repeat,
        )
        rows.append(
            {
                "precision": prec,
                "network only MPix/s": mpix / t_net,
                "rescale MPix/s": mpix / t_res,
                "rescale / network": t_net / t_res,
                "noise estimate ms": 1e3 * t_noise,
                "range pass ms": 1e3 * t_range,
            }
        )
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    ap.add_argument("--scale", type=float, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--set5", type=Path, default=DEFAULT_SET5)
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device")
        return 2
    macs = get_model().config.macs_per_pixel
    ceil = {
        "fp32": gemm_tflops(torch.float32),
        "tf32": gemm_tflops(torch.float32, tf32=True),
        "bf16": gemm_tflops(torch.bfloat16),
        "fp16": gemm_tflops(torch.float16),
    }
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    print(
        "GEMM ceiling (TFLOP/s): "
        + ", ".join(f"{k} {v:.0f}" for k, v in ceil.items())
        + "; SRCNN one-pass bound (MPix/s): "
        + ", ".join(f"{k} {v * 1e12 / (2 * macs) / 1e6:.0f}" for k, v in ceil.items())
        + f"; cuDNN conv TF32 allowed: {torch.backends.cudnn.allow_tf32}\n"
    )
    out = max(args.sizes)
    print(f"default rescale of a uint16 image, {out}x{out} output, x{args.scale:g}:\n")
    print(markdown(target_rows(out, args.scale, args.repeat)), flush=True)
    rows = speed_rows(args.sizes, args.scale, args.repeat)
    print(f"\nrescale on CUDA, x{args.scale:g}, output MPix/s (fast = symmetric=False):\n")
    print(markdown(rows))
    if args.set5.is_dir():
        print("\nSet5 Y-PSNR of rescale on CUDA by precision:\n")
        print(markdown(psnr_rows(args.set5, "cuda", PRECISIONS)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
