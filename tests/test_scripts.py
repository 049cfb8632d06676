"""The helper scripts under scripts/ that produce or move training data."""

import importlib.util
from pathlib import Path

import numpy as np

from srcnn_plugin.training.data import list_images, read_planes, split_validation

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _dataset(folder, rng):
    import imageio.v3 as iio

    folder.mkdir()
    for i in range(6):
        iio.imwrite(folder / f"t{i}.bmp", rng.integers(0, 256, (17, 23, 3), dtype=np.uint8))
    iio.imwrite(folder / "t10.png", rng.integers(0, 256, (17, 23), dtype=np.uint8))
    return folder


def test_luma_and_colour_copies_train_on_the_same_planes(tmp_path, rng):
    src = _dataset(tmp_path / "T", rng)
    luma_copy = _script("luma_copy")
    luma_copy.main([str(src), "--out", str(tmp_path / "y")])
    luma_copy.main([str(src), "--out", str(tmp_path / "c"), "--colour"])
    orig, y, c = (list_images(d) for d in (src, tmp_path / "y" / "T", tmp_path / "c" / "T"))
    suffixes = {p.stem: p.suffix for p in c}
    assert suffixes.pop("t10") == ".png"  # WebP has no greyscale mode
    assert set(suffixes.values()) == {".webp"}
    # same order, so the same validation split
    assert [p.stem for p in orig] == [p.stem for p in y] == [p.stem for p in c]
    assert [p.stem for p in split_validation(c, 0.3)[1]] == [
        p.stem for p in split_validation(orig, 0.3)[1]
    ]
    for a, b, d in zip(orig, y, c):
        for mode in ("auto", "each"):
            for pa, pd in zip(read_planes(a, mode), read_planes(d, mode), strict=True):
                np.testing.assert_array_equal(pa, pd)  # lossless colour
        np.testing.assert_array_equal(read_planes(b)[0], read_planes(a)[0])  # Y copy
