import os
import subprocess
import sys

import numpy as np
import pytest

from srcnn_plugin._engine import Engine, _check_precision
from srcnn_plugin._tiling import axis_resampler, plan_tile
from srcnn_plugin.models.registry import get_model


@pytest.fixture(scope="module")
def engine():
    return Engine(get_model(), "cpu")


def _tile(n=20, f=2):
    r = axis_resampler(n, n * f)
    return plan_tile(r, r, (0, n * f, 0, n * f), 8)


def test_flat_input_stays_flat(engine):
    tp = _tile()
    for level in (16 / 255, 0.3, 235 / 255):
        slab = np.full((1, 20, 20), level, np.float32)
        out = engine.run(slab, tp)
        np.testing.assert_allclose(out, level, atol=1e-5)


def test_bicubic_only_path(engine, rng):
    tp = _tile()
    slab = rng.random((2, 20, 20)).astype(np.float32)
    out = engine.run(slab, tp, sr=False)
    from srcnn_plugin._imresize import imresize

    np.testing.assert_allclose(out[1], imresize(slab[1].astype(np.float64), 2), atol=1e-5)


def test_shared_model_not_modified(engine):
    loaded = get_model()
    assert next(loaded.model.parameters()).device.type == "cpu"
    assert engine.net is not loaded.model


def test_precision_checks():
    import torch

    cpu = torch.device("cpu")
    with pytest.raises(ValueError, match="Unknown precision"):
        _check_precision("int8", cpu)
    assert _check_precision("float32", cpu) == "float32"


def test_device_copies_live_and_die_with_their_model(rng):
    """An in-memory model's copy is never served to another model (no id() reuse)."""
    import copy
    import gc
    import weakref

    import torch

    from srcnn_plugin import rescale
    from srcnn_plugin._engine import _CACHE

    base = get_model("srcnn-9-5-5-x2")
    mine = copy.deepcopy(base)
    mine.model = copy.deepcopy(base.model)
    with torch.no_grad():
        mine.model.conv3.bias += 0.1  # a different network
    img = rng.random((24, 24))
    assert not np.array_equal(rescale(img, 2, model=mine), rescale(img, 2, model=base))
    assert mine.model in _CACHE
    ref = weakref.ref(mine.model)
    del mine
    gc.collect()
    assert ref() is None  # the cache held no strong reference: the entry is gone


def test_forward_items_bounds_the_activation():
    from srcnn_plugin._engine import _MAX_ACTIVATION, forward_items

    assert forward_items(9, 64, 268, 268) == 1  # a full CPU tile: one per pass
    k = forward_items(100, 64, 40, 40)
    assert 1 < k < 100 and 4 * 64 * 40 * 40 * k <= _MAX_ACTIVATION
    assert forward_items(3, 64, 10, 10) == 3


@pytest.mark.parametrize("passes", [1, 2, 8])
def test_split_batches_match_one_batch(rng, monkeypatch, passes):
    """Items with different noise levels give the same results split over passes."""
    import srcnn_plugin._engine as eng

    engine = Engine(get_model("srcnn-acq-9-5-5-x2"), "cpu", passes=passes)
    tp = _tile()
    slab = rng.random((5, 20, 20)).astype(np.float32)
    noise = np.array([0.0, 0.01, 0.01, 0.03, 0.0], np.float32)
    whole = engine.run(slab, tp, noise=noise, blur=0.3)
    calls = []
    from srcnn_plugin.models.srcnn import infer as real_infer

    def counting(net, x, *a):
        calls.append(x.shape[0])
        return real_infer(net, x, *a)

    monkeypatch.setattr("srcnn_plugin.models.srcnn.infer", counting)
    monkeypatch.setattr(eng, "_MAX_ACTIVATION", 4 * 64 * 60 * 60 * 2)  # two 56x56 inputs a pass
    split = engine.run(slab, tp, noise=noise, blur=0.3)
    assert calls and max(calls) == 2
    np.testing.assert_allclose(split, whole, atol=1e-6)
    for i in range(5):  # and each item as it comes alone
        alone = engine.run(slab[i : i + 1], tp, noise=noise[i : i + 1], blur=0.3)
        np.testing.assert_allclose(split[i : i + 1], alone, atol=1e-6)


def test_a_flat_variance_line_is_the_level(engine, rng):
    """``(0, sigma^2)`` (no shot noise) is exactly the uniform level ``sigma``."""
    tp = _tile()
    slab = (0.2 + 0.6 * rng.random((2, 20, 20))).astype(np.float32)
    levels = np.array([0.01, 0.03])
    lines = np.stack([np.zeros(2), levels**2], axis=1)
    np.testing.assert_allclose(
        engine.run(slab, tp, noise=lines), engine.run(slab, tp, noise=levels), atol=2e-6
    )


def test_shot_noise_lines_keep_flat_input_flat(engine):
    tp = _tile()
    for level in (16 / 255, 0.5, 235 / 255):
        slab = np.full((1, 20, 20), level, np.float32)
        out = engine.run(slab, tp, noise=np.array([[0.004, 1e-5]]))
        np.testing.assert_allclose(out, level, atol=1e-5)


def test_tensor_slabs_stay_tensors(engine, rng):
    """A tensor in gives a tensor back on the device, equal to the array path."""
    import torch

    tp = _tile()
    slab = rng.random((2, 20, 20)).astype(np.float32)
    for sr in (True, False):
        ref = engine.run(slab, tp, sr=sr)
        out = engine.run(torch.from_numpy(slab), tp, sr=sr)
        assert isinstance(out, torch.Tensor) and out.device == engine.device
        np.testing.assert_array_equal(out.numpy(), ref)


_MMAP_PROBE = """
import resource
import torch
from torch.nn import functional as F

w1, w2, w3 = torch.randn(64, 1, 9, 9), torch.randn(32, 64, 1, 1), torch.randn(1, 32, 5, 5)

def faults_of_tiles():  # the 9-1-5 on 256 tiles (268^2 inputs), in the steady state
    x = torch.rand(1, 1, 268, 268)
    with torch.inference_mode():
        for i in range(4):
            if i == 2:
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            F.conv2d(F.conv2d(F.conv2d(x, w1).relu_(), w2).relu_(), w3)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0

before = faults_of_tiles()
from srcnn_plugin._engine import Engine
from srcnn_plugin.models.registry import get_model
Engine(get_model("srcnn-9-1-5-x2"), "cpu")
print(before, faults_of_tiles())
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or "glibc" not in (os.confstr("CS_GNU_LIBC_VERSION") or ""),
    reason="glibc's malloc only",
)
def test_a_cpu_engine_keeps_tile_activations_on_the_heap():
    # In a fresh process glibc returns each tile's freed activations to the
    # system, so the next tile faults in and zeroes fresh pages (a 256 tile's
    # first layer alone is 18 MiB: 4,600 pages); once a CPU engine exists they
    # stay on the heap.
    from srcnn_plugin._engine import MALLOC_VARIABLES

    env = {
        k: v for k, v in os.environ.items() if k not in MALLOC_VARIABLES
    }  # dask.distributed sets one
    out = subprocess.run(
        [sys.executable, "-c", _MMAP_PROBE], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    before, after = (int(v) for v in out)
    assert before > 5_000
    assert after < 500


def test_the_mmap_threshold_is_set_once_and_not_over_the_process_own(monkeypatch):
    import srcnn_plugin._engine as engine

    glibc = sys.platform.startswith("linux") and "glibc" in (
        os.confstr("CS_GNU_LIBC_VERSION") or ""
    )
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(engine, "_MMAP_RAISED", False)
    assert engine._raise_mmap_threshold() is glibc
    assert engine._raise_mmap_threshold() is False  # once per process
    monkeypatch.setattr(engine, "_MMAP_RAISED", False)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000000")
    assert engine._raise_mmap_threshold() is False
