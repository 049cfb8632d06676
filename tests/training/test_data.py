from pathlib import Path

import numpy as np
import pytest

from srcnn_plugin.training.data import (
    PatchSampler,
    degrade,
    list_images,
    read_luma,
    split_validation,
)


def _write(path, arr):
    import imageio.v3 as iio

    iio.imwrite(path, arr)
    return path


def test_list_and_read(tmp_path, rng):
    _write(tmp_path / "a.png", rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))
    _write(tmp_path / "b.png", rng.integers(0, 256, (20, 30), dtype=np.uint8))
    (tmp_path / "notes.txt").write_text("x")
    paths = list_images(tmp_path)
    assert [p.name for p in paths] == ["a.png", "b.png"]
    y = read_luma(paths[0])
    assert y.dtype == np.uint8 and y.shape == (20, 30)


def test_list_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        list_images(tmp_path / "missing")
    with pytest.raises(ValueError, match="No images"):
        list_images(tmp_path)


def test_split_is_seeded_and_disjoint():
    paths = [Path(f"{i}.png") for i in range(40)]
    tr, va = split_validation(paths, 0.1, seed=3)
    assert len(va) == 4 and not set(tr) & set(va) and len(tr) + len(va) == 40
    assert split_validation(paths, 0.1, seed=3) == (tr, va)
    assert split_validation(paths, 0.1, seed=4) != (tr, va)


def test_degrade_integer_crops_to_multiple():
    hr, bic = degrade(np.zeros((31, 29), np.uint8), 4)
    assert hr.shape == bic.shape == (28, 28)


def test_sampler_shapes_and_alignment(rng):
    img = rng.integers(0, 256, (60, 70), dtype=np.uint8)
    s = PatchSampler([img], scales=(2, 3), patch=21, halo=6, seed=0)
    x, y = s.sample(5)
    assert x.shape == (5, 1, 21, 21) and y.shape == (5, 1, 9, 9)
    assert x.dtype == y.dtype == np.float32
    state = s.state()
    a = s.sample(3)
    s.set_state(state)
    np.testing.assert_array_equal(a[0], s.sample(3)[0])


def test_sampler_rejects_small_images():
    with pytest.raises(ValueError, match="at least"):
        PatchSampler([np.zeros((10, 10), np.uint8)], (2,), patch=33, halo=8)
