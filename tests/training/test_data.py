from pathlib import Path

import numpy as np
import pytest

from srcnn_plugin.training.data import (
    PatchSampler,
    add_shrunk_copies,
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
    import torch

    img = rng.integers(0, 256, (60, 70), dtype=np.uint8)
    s = PatchSampler([img], scales=(2, 3), patch=21, halo=6, seed=0)
    x, y = s.sample(5)
    assert x.shape == (5, 1, 21, 21) and y.shape == (5, 1, 9, 9)
    assert x.dtype == y.dtype == torch.float32
    state = s.state()
    a = s.sample(3)
    s.set_state(state)
    torch.testing.assert_close(a[0], s.sample(3)[0], rtol=0, atol=0)


def test_sampler_patches_are_aligned_dihedral_crops(rng):
    """Each target is the HR centre of a crop that equals its input's transform."""
    img = rng.integers(0, 256, (40, 44), dtype=np.uint8)
    s = PatchSampler([img], scales=(2,), patch=9, halo=2, seed=1)
    hr, bic = degrade(img, 2)
    x, y = (t.numpy()[:, 0] for t in s.sample(64))
    views = [np.rot90(a, k) for a in (bic, bic[:, ::-1]) for k in range(4)]
    hviews = [np.rot90(a, k) for a in (hr, hr[:, ::-1]) for k in range(4)]
    windows = [np.lib.stride_tricks.sliding_window_view(v, (9, 9)) for v in views]
    seen = set()
    for xb, yb in zip(x, y, strict=True):
        hits = [
            (v, r, c)
            for v, win in enumerate(windows)
            for r, c in np.argwhere((win == xb).all(axis=(-2, -1)))
        ]
        assert hits, "input patch is not a dihedral crop of the bicubic image"
        assert any(np.array_equal(hviews[v][r + 2 : r + 7, c + 2 : c + 7], yb) for v, r, c in hits)
        seen.update(v for v, _, _ in hits)
    assert len(seen) == 8  # all eight transforms occur


@pytest.mark.parametrize("stride", [2, 3])
def test_sampler_patches_start_on_whole_low_resolution_pixels(rng, stride):
    """With a stride (a network on the low-resolution grid) every crop, in the frame
    of its transform, starts on a multiple of it: the phase the network learns."""
    img = rng.integers(0, 256, (12 * stride, 13 * stride), dtype=np.uint8)
    patch = 4 * stride
    s = PatchSampler([img], scales=(stride,), patch=patch, halo=stride, seed=1, stride=stride)
    _, bic = degrade(img, stride)
    x = s.sample(64)[0].numpy()[:, 0]
    views = [np.rot90(a, k) for a in (bic, bic[:, ::-1]) for k in range(4)]
    windows = [np.lib.stride_tricks.sliding_window_view(v, (patch, patch)) for v in views]
    starts = set()
    for xb in x:
        hits = [(r, c) for win in windows for r, c in np.argwhere((win == xb).all(axis=(-2, -1)))]
        assert any(r % stride == 0 and c % stride == 0 for r, c in hits)
        starts.update(hits)
    assert len(starts) > 8  # many positions, not one
    with pytest.raises(ValueError, match="multiple of"):
        PatchSampler([img], scales=(stride,), patch=patch + 1, halo=stride, stride=stride)


def test_sampler_draws_scales_and_images_by_area(rng):
    small = rng.integers(0, 256, (30, 30), dtype=np.uint8)
    big = rng.integers(0, 256, (90, 90), dtype=np.uint8)
    s = PatchSampler([small, big], scales=(2, 3), patch=21, halo=6, seed=0)
    # one uniform choice of scale, then images weighted by area (30² vs 90²)
    np.testing.assert_allclose(s._prob, np.array([1, 9, 1, 9]) / 20, rtol=0.02)


def test_sampler_rejects_small_images():
    with pytest.raises(ValueError, match="at least"):
        PatchSampler([np.zeros((10, 10), np.uint8)], (2,), patch=33, halo=8)


def test_shrunk_copies_keep_uint8_and_reject_bad_factors(rng):
    img = rng.integers(0, 256, (60, 40), dtype=np.uint8)
    out = add_shrunk_copies([img], (1.0, 0.8, 0.5))
    assert [o.shape for o in out] == [(60, 40), (48, 32), (30, 20)]
    assert all(o.dtype == np.uint8 for o in out) and out[0] is img
    assert add_shrunk_copies([img], (0.5,))[0].shape == (30, 20)  # originals left out
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        add_shrunk_copies([img], (1.5,))


def test_read_planes_8bit_keeps_the_paper_training_data(tmp_path, rng):
    from srcnn_plugin.training.data import read_planes

    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    f = _write(tmp_path / "a.png", rgb)
    (y,) = read_planes(f)
    np.testing.assert_array_equal(y, read_luma(f))
    assert [p.dtype for p in read_planes(f, "luma")] == [np.uint8]
    each = read_planes(f, "each")
    assert len(each) == 3
    for c in range(3):
        np.testing.assert_array_equal(each[c], rgb[..., c])
    rgba = np.dstack([rgb, np.full((20, 30), 255, np.uint8)])
    assert len(read_planes(_write(tmp_path / "b.png", rgba), "each")) == 3  # alpha ignored


def test_read_planes_uses_the_full_range_of_12_bit_data(tmp_path, rng):
    """A 12-bit image in uint16 trains on what rescale shows the network, not on 0..16 of 255."""
    from srcnn_plugin._dtype import MODEL_RANGE
    from srcnn_plugin.training.data import read_planes

    img = rng.integers(100, 4000, (24, 26)).astype(np.uint16)
    (p,) = read_planes(_write(tmp_path / "a.tif", img))
    assert p.dtype == np.float32
    np.testing.assert_allclose([p.min(), p.max()], MODEL_RANGE, atol=1e-7)
    # The same scene in another unit (x16, or float) gives the same plane.
    (q,) = read_planes(_write(tmp_path / "b.tif", img * 16))
    (r,) = read_planes(_write(tmp_path / "c.tif", img.astype(np.float32) / 4095))
    np.testing.assert_allclose(q, p, atol=1e-6)
    np.testing.assert_allclose(r, p, atol=1e-6)


def test_read_planes_stacks_and_channels(tmp_path, rng):
    from srcnn_plugin.training.data import read_planes

    zyx = rng.integers(0, 4096, (5, 20, 22)).astype(np.uint16)
    assert len(read_planes(_write(tmp_path / "z.tif", zyx))) == 5
    zyxc = rng.integers(0, 4096, (4, 20, 22, 2)).astype(np.uint16)
    planes = read_planes(_write(tmp_path / "zc.tif", zyxc))
    assert len(planes) == 8 and all(p.shape == (20, 22) for p in planes)
    rgb16 = rng.integers(0, 65536, (20, 22, 3)).astype(np.uint16)
    f = _write(tmp_path / "rgb16.tif", rgb16)
    assert len(read_planes(f)) == 3 and len(read_planes(f, "luma")) == 1


def test_read_planes_drops_flat_planes_and_checks_the_mode(tmp_path, rng):
    from srcnn_plugin.training.data import read_planes

    stack = rng.integers(0, 4096, (3, 20, 22)).astype(np.uint16)
    stack[1] = 7
    f = _write(tmp_path / "s.tif", stack)
    assert len(read_planes(f)) == 2
    with pytest.raises(ValueError, match="channels must be one of"):
        read_planes(f, "rgb")


def test_shrunk_copies_of_float_planes_stay_float(rng):
    img = rng.random((40, 30)).astype(np.float32)
    out = add_shrunk_copies([img], (1.0, 0.5))
    assert out[1].dtype == np.float32 and out[1].shape == (20, 15)
    assert out[1].min() >= -0.1 and out[1].max() <= 1.1


def test_sampler_records_acquisitions_with_their_noise():
    from srcnn_plugin.degradations import DegradationMixture
    from srcnn_plugin.training.data import PatchSampler

    img = (np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)
    mix = DegradationMixture(("binning+noise=0.05",), clean=0.0)
    s = PatchSampler([img], (2,), 21, 6, seed=1, degradation=mix, variants=3)
    x, y, noise, blur = s.sample_conditioned(8)
    assert x.shape == (8, 1, 21, 21) and y.shape == (8, 1, 9, 9)
    assert noise.shape == (8,) and bool((noise > 0.02).all()) and bool((blur == 0).all())
    clean = PatchSampler([img], (2,), 21, 6, seed=1)
    assert bool((clean.sample_conditioned(4)[2] == 0).all())
    blurred = PatchSampler([img], (3,), 21, 6, seed=1, variants=2,
                           degradation=DegradationMixture(("psf=0.5+binning",)))  # fmt: skip
    assert bool((blurred.sample_conditioned(4)[3] == 0.5).all())  # psf 1.5 px / 3


def test_one_axis_recordings_keep_the_row_axis(rng):
    from srcnn_plugin.degradations import DegradationMixture
    from srcnn_plugin.training.data import AXIS_KEEPING, PatchSampler

    # constant along the rows: an axial recording enlarged back is the image itself
    img = np.tile((rng.random(48) * 255).astype(np.uint8), (48, 1))
    mix = DegradationMixture(("axial+psf=0.5",))
    s = PatchSampler([img], (4,), 21, 6, seed=0, degradation=mix, variants=2)
    assert s._transforms.tolist() == list(AXIS_KEEPING)
    x, y, _, blur = s.sample_conditioned(16)
    # no transform turned the columns into rows: every input stays constant down its columns
    assert float((x - x[:, :, :1]).abs().max()) < 1e-5
    assert bool((blur == 0.5).all())  # axial sigma 2 fine pixels / 4


def test_band_limit_blurs_the_truth_and_its_recording():
    from srcnn_plugin.degradations import Degradation, gaussian_psf
    from srcnn_plugin.training.data import acquire

    hr = np.random.default_rng(3).random((40, 42))
    sharp, bic_sharp, _ = acquire(hr, 2, Degradation("binning"))
    smooth, bic_smooth, _ = acquire(hr, 2, Degradation("binning"), band=1.0)
    # the truth is the band-limited image (cropped to a multiple of the factor)
    np.testing.assert_allclose(smooth, gaussian_psf(hr, 1.0)[:40, :42], atol=1e-6)
    assert sharp.shape == smooth.shape == (40, 42)
    # and the recording is made from it: smoother than the sharp truth's
    assert np.abs(np.diff(bic_smooth)).mean() < 0.8 * np.abs(np.diff(bic_sharp)).mean()
    np.testing.assert_array_equal(acquire(hr, 2, Degradation("binning"), band=0.0)[0], sharp)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="sigma >= 0"):
            acquire(hr, 2, Degradation("binning"), band=bad)


def test_sampler_band_limits_its_targets():
    from srcnn_plugin.degradations import DegradationMixture

    img = (np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)
    mix = DegradationMixture(("binning",), clean=1.0)

    def roughness(**kw):
        s = PatchSampler([img], (2,), 21, 6, seed=1, degradation=mix, variants=4, **kw)
        y = s.sample(256)[1]
        return float(y.diff(dim=-1).abs().mean())

    assert roughness(hr_blur=1.5) < 0.7 * roughness()
    with pytest.raises(ValueError, match="degradation mixture"):
        PatchSampler([img], (2,), 21, 6, hr_blur=1.0)
    with pytest.raises(ValueError, match="sigma >= 0"):
        PatchSampler([img], (2,), 21, 6, degradation=mix, hr_blur=float("nan"))


def test_low_contrast_patches_scale_toward_the_floor_with_their_noise():
    """With ``contrast``, each patch is its plain self or scaled toward the model range's
    floor by one gain in [contrast, 1], input, target and noise level alike; about half
    are scaled."""
    from srcnn_plugin._dtype import MODEL_RANGE
    from srcnn_plugin.degradations import DegradationMixture
    from srcnn_plugin.training.data import PatchSampler

    img = (np.random.default_rng(0).random((64, 64)) * 200 + 20).astype(np.uint8)
    mix = DegradationMixture(("binning+noise=0.02-0.04",), clean=0.0)
    kw = dict(seed=3, degradation=mix, variants=2)
    x0, y0, n0, _ = PatchSampler([img], (2,), 21, 6, **kw).sample_conditioned(64)
    x1, y1, n1, _ = PatchSampler([img], (2,), 21, 6, contrast=0.1, **kw).sample_conditioned(64)
    floor = MODEL_RANGE[0]
    g = ((n1 / n0).numpy()).astype(np.float64)
    assert np.all((g >= 0.1 - 1e-6) & (g <= 1 + 1e-6))
    assert 16 < np.sum(g < 1 - 1e-6) < 48
    for a, b, gain in ((x0, x1, g), (y0, y1, g)):
        want = floor + gain[:, None, None, None] * (a.numpy() - floor)
        np.testing.assert_allclose(b.numpy(), want, atol=1e-6)


def test_contrast_is_checked():
    from srcnn_plugin.training.data import PatchSampler
    from srcnn_plugin.training.train import TrainConfig, train

    img = np.zeros((40, 40), np.uint8)
    with pytest.raises(ValueError, match="smallest gain"):
        PatchSampler([img], (2,), 21, 6, contrast=1.0)
    with pytest.raises(ValueError, match="variance lines"):
        train([], "unused", TrainConfig(contrast=0.1, noise_map=True))
