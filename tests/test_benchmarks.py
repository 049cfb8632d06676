"""The benchmark scripts under benchmarks/ that print the targets' tables: each table's
function runs on a tiny image and gives the rows it promises."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_speed():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        yield importlib.import_module("bench_speed")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


@pytest.fixture
def lr():
    return np.random.default_rng(0).random((40, 40)).astype(np.float32)


def test_ablation_runs_every_step(bench_speed, lr):
    rows = bench_speed.ablation(lr, 80, 2, 1, bound32=1.0)
    assert [r["step"] for r in rows][1:] == [
        "tiled, plain forward, tile 512",
        "+ fused ReLUs, last layer as a product",
        "+ tile 256 (default)",
    ]
    assert all(r["MPix/s"] > 0 for r in rows)


def test_fused_rows_compare_each_family_and_restore_the_operator(bench_speed, lr):
    from srcnn_plugin.models import srcnn

    before = srcnn._FUSED
    rows = bench_speed.fused_rows(lr, 80, 2, 1)
    assert srcnn._FUSED is before
    if before is None:
        assert rows == []
    else:
        assert [r["family"] for r in rows] == ["paper", "acquisition", "paper-fast", "fast"]
        assert all(r["fused / separate"] > 0 for r in rows)


def test_plain_forward_is_the_module(bench_speed):
    import torch

    from srcnn_plugin.models.registry import get_model

    net = get_model().model
    x = torch.rand(1, 1, 30, 30)
    with torch.inference_mode():
        torch.testing.assert_close(bench_speed._plain_forward(net, x, 0.01, 0.0), net(x, 0.01, 0.0))
