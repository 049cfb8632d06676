"""Isotropic reconstruction (``_isotropic``): Z super-resolved from the volume's own XY planes."""

import warnings

import numpy as np
import pytest

from srcnn_plugin import isotropic, rescale
from srcnn_plugin._adapt import AdaptationWarning
from srcnn_plugin._isotropic import axial_pair
from srcnn_plugin.degradations import axial


def _sheared(image, nz, ny):
    """A volume whose ZX and XY planes are crops of ``image``: V[z, y, x] = image[z + y, x]."""
    return np.stack([image[y : y + nz] for y in range(ny)], axis=1)


@pytest.fixture(scope="module")
def volume():
    from skimage import data

    img = data.camera()[100:260, 100:228].astype(np.float64)
    truth = _sheared(img, 128, 32)  # (Z, Y, X) = (128, 32, 128)
    return truth, axial(truth, 4, 2.0, axis=0)


def _psnr(ref, out, shave=4):
    s = (slice(shave, -shave),)
    return 10 * np.log10(np.ptp(ref) ** 2 / np.mean((ref[s] - out[s]) ** 2))


def test_axial_pair_degrades_the_rows_only(rng):
    plane = rng.random((42, 30))
    target, inp, _ = axial_pair(plane, 4, 0.0, 0.0, rng)
    assert target.shape == inp.shape == (40, 30)
    # columns are untouched: a plane constant along the rows stays itself
    flat_rows = np.tile(rng.random(30), (40, 1))
    _, inp, _ = axial_pair(flat_rows, 4, 2.0, 0.0, rng)
    np.testing.assert_allclose(inp, flat_rows, atol=1e-5)


def test_without_adaptation_it_is_the_mean_of_the_zx_and_zy_reconstructions(volume):
    _, lr = volume
    out = isotropic(lr, 4, axial_sigma=1.5, adapt=False, device="cpu")
    # the bundled Z model for the factor, told the axial PSF
    kw = dict(model="srcnn-axial-9-5-5-x4", psf_sigma=1.5, device="cpu")
    zx = rescale(lr, (4, 1, 1), **kw)
    zy = rescale(lr.swapaxes(1, 2), (4, 1, 1), **kw).swapaxes(1, 2)
    assert out.shape == (128, 32, 128) and out.dtype == np.float64
    np.testing.assert_allclose(out, (zx + zy) / 2, rtol=1e-12)
    # a stated axial PSF of 0 is told as 0, not replaced by the model's default
    sharp = isotropic(lr[:, :8], 4, axial_sigma=0.0, adapt=False, device="cpu")
    kw["psf_sigma"] = 0.0
    zx = rescale(lr[:, :8], (4, 1, 1), **kw)
    zy = rescale(lr[:, :8].swapaxes(1, 2), (4, 1, 1), **kw).swapaxes(1, 2)
    np.testing.assert_allclose(sharp, (zx + zy) / 2, rtol=1e-12)


def test_the_starting_model_is_the_axial_one_for_the_factor():
    from srcnn_plugin._isotropic import axial_blur, starting_model

    assert [starting_model(None, f) for f in (2, 2.5, 6, 9)] == [
        "srcnn-axial-9-5-5-x2", "srcnn-axial-9-5-5-x2", "srcnn-axial-9-5-5-x6",
        "srcnn-axial-9-5-5-x6",
    ]  # fmt: skip
    assert starting_model("paper", 4) == "srcnn-9-5-5-x4"
    assert axial_blur("srcnn-axial-9-5-5-x4", 4, 2.0) == 0.5
    assert axial_blur("srcnn-acq-9-5-5-x4", 4, 2.0) == 0.0  # no isotropic PSF along Z
    assert axial_blur("srcnn-9-5-5-x4", 4, 2.0) is None


def test_the_bundled_z_model_alone_beats_the_spline_and_the_2d_model(volume):
    from skimage.transform import rescale as sk_rescale

    truth, lr = volume
    spline = sk_rescale(lr, (4, 1, 1), order=3, mode="reflect", preserve_range=True)
    plain = rescale(lr, (4, 1, 1), preserve_range=True, device="cpu")
    iso = isotropic(lr, 4, adapt=False, preserve_range=True, device="cpu")
    assert _psnr(truth, iso) > _psnr(truth, spline) + 0.5
    assert _psnr(truth, iso) > _psnr(truth, plain) + 0.5


def test_one_axis_models_serve_one_growing_axis_only(volume):
    _, lr = volume
    with pytest.raises(ValueError, match="one-axis"):
        rescale(lr[0], 2, model="axial", device="cpu")
    with pytest.raises(ValueError, match="one-axis"):
        rescale(lr[:, 0], (1, 4), model="srcnn-axial-9-5-5-x4", device="cpu")
    with pytest.raises(ValueError, match="ensemble=1 or 2"):
        rescale(lr[:8], (4, 1, 1), model="axial", ensemble=8, device="cpu")
    with pytest.raises(ValueError, match="ensemble=1 or 2"):
        isotropic(lr[:8], 4, adapt=False, ensemble=8, device="cpu")
    # a 2-D request never picks one
    from srcnn_plugin.models.registry import pick_model_for_scale

    assert pick_model_for_scale(6) == "srcnn-acq-9-5-5-x4"


def test_an_adapted_z_model_is_marked_one_axis(volume):
    from srcnn_plugin._adapt import AdaptSettings
    from srcnn_plugin._isotropic import adapt_axial
    from srcnn_plugin._job import drain
    from srcnn_plugin._options import Options
    from srcnn_plugin.models.registry import is_one_axis

    _, lr = volume
    settings = AdaptSettings(steps=4, every=2, min_gain=-99)
    result = drain(adapt_axial(lr[:, :, :64, None], 4, 2.0, Options(device="cpu"), settings))
    assert result.report["adapted"] and is_one_axis(result.loaded)
    assert result.loaded.metadata["blur_default"] == 0.5


@pytest.mark.slow
def test_learning_from_the_lateral_planes_beats_the_spline_and_plain_rescale(volume):
    from skimage.transform import rescale as sk_rescale

    truth, lr = volume
    spline = sk_rescale(lr, (4, 1, 1), order=3, mode="reflect", preserve_range=True)
    plain = rescale(lr, (4, 1, 1), preserve_range=True, device="cpu")
    iso = isotropic(lr, 4, preserve_range=True, device="cpu", adapt={"steps": 150})
    assert _psnr(truth, iso) > _psnr(truth, spline) + 1.0
    assert _psnr(truth, iso) > _psnr(truth, plain) + 1.0


def test_deterministic_tiled_and_lazy(volume):
    import dask.array as da

    _, lr = volume
    kw = dict(device="cpu", adapt={"steps": 10, "every": 5, "min_gain": -99})
    a = isotropic(lr, 4, **kw)
    np.testing.assert_array_equal(isotropic(lr, 4, tile_size=48, **kw), a)
    lazy = isotropic(da.from_array(lr, chunks=(32, 16, 64)), 4, **kw)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), a, rtol=1e-6, atol=1e-6)


def test_channels_and_time_are_kept_apart(volume):
    _, lr = volume
    small = lr[:, :16, :64]
    czyx = np.stack([small, small[:, :, ::-1]])
    out = isotropic(czyx, 4, channel_axis=0, adapt=False, device="cpu")
    assert out.shape == (2, 128, 16, 64)
    np.testing.assert_allclose(out[1], isotropic(czyx[1], 4, adapt=False, device="cpu"))
    zcyx = np.moveaxis(czyx, 0, 1)
    out2 = isotropic(zcyx, 4, channel_axis=1, adapt=False, device="cpu")
    np.testing.assert_allclose(np.moveaxis(out2, 1, 0), out)
    tzyx = np.stack([small, small])
    assert isotropic(tzyx, 4, adapt=False, device="cpu").shape == (2, 128, 16, 64)


def test_uint16_follows_rescales_range_rules(volume):
    _, lr = volume
    vol = np.round(lr * 16).astype(np.uint16)[:, :16, :64]
    out = isotropic(vol, 4, adapt=False, device="cpu", preserve_range=True)
    assert out.dtype == np.float64
    assert vol.min() <= out.min() and out.max() <= vol.max()  # clipped to the input range
    assert isotropic(vol, 4, adapt=False, device="cpu").max() <= 1.0


def test_the_guard_falls_back_with_a_warning(volume, monkeypatch):
    import srcnn_plugin._adapt

    _, lr = volume
    monkeypatch.setattr(srcnn_plugin._adapt, "_psnr", lambda *a: 30.0)
    with pytest.warns(AdaptationWarning, match="did not improve"):
        out = isotropic(lr, 4, device="cpu", adapt={"steps": 5})
    np.testing.assert_allclose(out, isotropic(lr, 4, adapt=False, device="cpu"))


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.zeros((16, 16)), 4), {}, "Z, Y and X"),
        ((np.zeros((4, 16, 16)), 1), {}, "z_factor must be a number > 1"),
        ((np.zeros((4, 16, 16)), 4), {"axial_sigma": -1}, "axial_sigma"),
        ((np.zeros((4, 16, 16)), 4), {"colour": 1}, "Unknown option"),
    ],
)
def test_bad_requests_say_what_to_pass(args, kwargs, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((ValueError, TypeError), match=match):
            isotropic(*args, adapt=False, **kwargs)


def test_shot_noise_is_told_to_the_axial_model_and_adapted_to(volume):
    _, lr = volume
    shot = isotropic(lr, 4, adapt=False, noise="poisson", device="cpu")
    assert shot.shape == isotropic(lr, 4, adapt=False, device="cpu").shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AdaptationWarning)
        adapted = isotropic(lr, 4, noise="poisson", device="cpu", adapt={"steps": 4})
    assert adapted.shape == shot.shape and np.isfinite(adapted).all()


def test_nan_stays_in_place_along_z(volume):
    vol = volume[1][:8].astype(np.float32)  # the recorded volume, 8 of its planes
    vol[2:4, 10:20, 10:20] = np.nan
    for adapt in (False, {"steps": 20, "every": 10}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AdaptationWarning)  # 20 steps may not help
            out = isotropic(vol, 4, adapt=adapt)
        assert out.shape == (32, *vol.shape[1:])
        np.testing.assert_array_equal(np.isnan(out), np.repeat(np.isnan(vol), 4, axis=0))
