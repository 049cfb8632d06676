"""The benchmark scripts under benchmarks/ that print the targets' tables: each table's
function runs on a tiny image and gives the rows it promises."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench(name):
    """The benchmark module ``name``, importable for the fixture's lifetime."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def bench_speed():
    yield from _bench("bench_speed")


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


@pytest.fixture(scope="module")
def bench_acquisitions():
    yield from _bench("bench_acquisitions")


def test_nan_rows_score_away_from_and_next_to_the_hole(bench_acquisitions, tmp_path):
    import tifffile
    from scipy import ndimage as ndi

    lr = np.random.default_rng(0).random((30, 40))
    out, away, ring = bench_acquisitions.add_nan(lr, 2)
    hole = np.kron(np.isnan(out), np.ones((2, 2), bool))
    assert np.isnan(out).any() and not (away & ring).any()
    assert not ((away | ring) & hole).any() and (away | ring | hole).all()
    plane = ndi.gaussian_filter(np.random.default_rng(1).random((64, 64)), 2) * 1000
    tifffile.imwrite(tmp_path / "plane.tif", plane.astype(np.uint16))
    rows = bench_acquisitions.run(tmp_path, [2], [None], False, only_hot=True, nan=True)
    names = [r["degradation"] for r in rows]
    assert len(rows) == 4 and names[0].endswith("NaN wedge") and names[1].endswith("next to it")
    assert all(np.isfinite(float(r["default gain"])) and "zeros gain" in r for r in rows)


def test_bright_rows_stretch_the_range_and_score_away_from_the_spot(bench_acquisitions, tmp_path):
    import tifffile
    from scipy import ndimage as ndi

    lr = np.random.default_rng(0).random((30, 40)) + 5.0
    out, keep = bench_acquisitions.add_bright(lr, 10, 2)
    assert out.max() == pytest.approx(lr.min() + 10 * np.ptp(lr))
    assert np.array_equal(out[5:, 5:], lr[5:, 5:]) and keep.shape == (60, 80)
    assert not keep[:30, :30].any() and keep[30:, 30:].all()
    plane = ndi.gaussian_filter(np.random.default_rng(1).random((64, 64)), 2) * 1000
    tifffile.imwrite(tmp_path / "plane.tif", plane.astype(np.uint16))
    rows = bench_acquisitions.run(tmp_path, [2], [None], False, only_hot=True, bright=(3,))
    names = [r["degradation"] for r in rows]
    assert len(rows) == 3 and all(n.endswith("bright spot at 3x the range") for n in names)
    assert all(np.isfinite(float(r["default gain"])) for r in rows)
