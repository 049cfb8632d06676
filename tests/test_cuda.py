"""The CUDA path: agreement with the CPU, reduced precision, OOM back-off, training.

Skipped without a CUDA device (CI has none); run on a GPU machine with
``python -m pytest tests/test_cuda.py``.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import srcnn_plugin  # noqa: E402

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _psnr(a, b):
    return 10 * np.log10(1.0 / np.mean((np.asarray(a, np.float64) - b) ** 2))


@pytest.mark.parametrize("scale", [2, 3])
def test_cuda_float32_matches_cpu(natural, scale):
    cpu = srcnn_plugin.rescale(natural, scale, device="cpu")
    gpu = srcnn_plugin.rescale(natural, scale, device="cuda")
    assert gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    # cuDNN may use TF32 for float32 convolutions (PyTorch's default): close,
    # not bit-equal.
    assert np.abs(gpu - cpu).max() < 5e-3
    assert _psnr(gpu, cpu) > 60


@pytest.mark.parametrize("precision", ["float16", "bfloat16"])
def test_cuda_reduced_precision_is_close(natural, precision):
    ref = srcnn_plugin.rescale(natural, 2, device="cuda")
    low = srcnn_plugin.rescale(natural, 2, device="cuda", precision=precision)
    assert low.dtype == ref.dtype
    assert _psnr(low, ref) > 45


def test_cuda_out_of_memory_backs_off_to_smaller_tiles(rng):
    """A tile too big for the memory limit is retried smaller; the result is unchanged."""
    lr = rng.random((1024, 1024)).astype(np.float32)
    ref = srcnn_plugin.rescale(lr, 2, device="cuda", tile_size=512)
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(0).total_memory
    ooms = torch.cuda.memory_stats().get("num_ooms", 0)
    # 2048² at 64 channels alone needs 1 GiB: cap this process at 600 MB.
    torch.cuda.set_per_process_memory_fraction(600e6 / total)
    try:
        out = srcnn_plugin.rescale(lr, 2, device="cuda", tile_size=2048)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
    assert torch.cuda.memory_stats().get("num_ooms", 0) > ooms
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_upscaler_to_cuda_and_back(natural):
    up = srcnn_plugin.Upscaler(scale=2, device="cuda")
    a = up(natural)
    b = up.to("cpu")(natural)
    assert a.shape == b.shape
    assert _psnr(a, b) > 60


def test_sampler_on_cuda_gives_the_cpu_patches(rng):
    from srcnn_plugin.training.data import PatchSampler

    img = rng.integers(0, 256, (80, 90), dtype=np.uint8)
    a = PatchSampler([img], (2, 3), 21, 6, seed=4, device="cpu").sample(16)
    b = PatchSampler([img], (2, 3), 21, 6, seed=4, device="cuda").sample(16)
    for u, v in zip(a, b, strict=True):
        assert v.device.type == "cuda"
        torch.testing.assert_close(u, v.cpu(), rtol=0, atol=0)


def test_training_on_cuda_lowers_loss(tiny_set, tmp_path):
    from srcnn_plugin.training.train import TrainConfig, train

    cfg = TrainConfig(
        scales=(2,), patch=25, batch=16, steps=120, lr=2e-3, warmup=5,
        val_fraction=0.25, val_every=60, checkpoint_every=60,
    )  # fmt: skip
    res = train(tiny_set, tmp_path / "run", cfg, device="cuda", progress=False)
    assert res["history"][-1]["loss"] < res["history"][0]["loss"]
    assert res["weights"].exists()
    assert torch.backends.cudnn.benchmark is False  # restored


def test_cuda_tiles_are_big_when_memory_allows(rng):
    """The CUDA budget is a quarter of the free memory: a big GPU runs 2048² in one tile."""
    from srcnn_plugin._device import memory_budget, resolve_device
    from srcnn_plugin._job import prepare_job
    from srcnn_plugin._options import Options
    from srcnn_plugin._plan import _mixed_minmax, _to_work, make_plan

    dev = resolve_device("cuda")
    free, _ = torch.cuda.mem_get_info(dev)
    if free < 16 * 2**30:
        pytest.skip("needs 16 GiB free")
    assert memory_budget(dev) >= free // 4 - 2**20
    lr = rng.random((1024, 1024)).astype(np.float32)
    plan = make_plan(lr.shape, lr.dtype, 2)
    x = _to_work(lr, plan.channel_axis)
    job = prepare_job(plan, x, *_mixed_minmax(x, None), _mixed_minmax, Options(device="cuda"))
    assert job.tile >= 2048
