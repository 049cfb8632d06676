"""Adaptation (``_adapt``, ``Upscaler.adapt``, ``rescale(adapt=...)``): internal learning."""

import pickle
import warnings
from dataclasses import asdict

import numpy as np
import pytest

import srcnn_plugin
from srcnn_plugin import Upscaler, rescale
from srcnn_plugin._adapt import AdaptationWarning, AdaptSettings, adapt_steps, internal_pair
from srcnn_plugin._options import Options
from srcnn_plugin.degradations import Degradation, PoissonGaussian


def _psnr(ref, out, shave=2):
    s = (slice(shave, -shave),) * 2
    span = ref.max() - ref.min()
    return 10 * np.log10(span**2 / np.mean((ref[s] - out[s]) ** 2))


@pytest.fixture(scope="module")
def blurred(request):
    """(hr, lr): skimage's camera crop recorded with a PSF of 1 output pixel + 2x2 binning."""
    from skimage import data

    hr = data.camera()[100:356, 100:356].astype(np.float64)
    return hr, Degradation("binning", psf=1.0).apply(hr, 2)


def test_internal_pair_is_the_plane_and_its_recording(rng):
    plane = rng.random((40, 40))
    target, inp, noise = internal_pair(plane, 2, Degradation("binning"), 0.0, rng)
    assert np.array_equal(target, plane.astype(np.float32))
    # the input is the bicubic enlargement of the 2x2 means
    from srcnn_plugin._imresize import imresize

    son = plane.reshape(20, 2, 20, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(inp, imresize(son, output_shape=(40, 40)), atol=1e-5)


def test_internal_pair_tops_the_noise_up_to_the_plane_level(rng):
    plane = np.full((128, 128), 0.5) + rng.normal(0, 0.02, (128, 128))
    _, _, noise = internal_pair(plane, 2, Degradation("binning"), 0.02, rng)
    assert noise == pytest.approx(0.02, rel=0.15)  # binning alone would leave 0.01


@pytest.mark.slow
def test_adapting_with_the_true_psf_beats_the_default(blurred):
    hr, lr = blurred
    default = rescale(lr, 2, preserve_range=True)
    up = Upscaler(2, device="cpu", preserve_range=True).adapt(lr, psf_sigma=1.0, steps=150)
    assert up.adaptation["adapted"]
    assert up.adaptation["holdout_psnr_after"] > up.adaptation["holdout_psnr_before"]
    assert _psnr(hr, up(lr)) > _psnr(hr, default) + 1.0


def test_the_original_upscaler_is_unchanged(blurred):
    _, lr = blurred
    up = Upscaler(2, device="cpu")
    before = up(lr)
    adapted = up.adapt(lr, psf_sigma=1.0, steps=10, every=5)
    assert up.model_name == "srcnn-acq-9-5-5-x2" and up.adaptation is None
    assert adapted.model_name == "adapted:srcnn-acq-9-5-5-x2"
    assert np.array_equal(up(lr), before)


def test_adaptation_is_deterministic_for_a_seed(blurred):
    _, lr = blurred
    kw = dict(psf_sigma=1.0, steps=20, every=5)
    a = Upscaler(2, device="cpu").adapt(lr, seed=3, **kw)
    b = Upscaler(2, device="cpu").adapt(lr, seed=3, **kw)
    c = Upscaler(2, device="cpu").adapt(lr, seed=4, **kw)
    assert a.adaptation["adapted"] and c.adaptation["adapted"]
    assert np.array_equal(a(lr), b(lr))
    assert not np.array_equal(a(lr), c(lr))


def test_the_adapted_weights_blend_the_bundled_and_fine_tuned_ones(blurred):
    from srcnn_plugin.models.registry import get_model

    _, lr = blurred
    kw = dict(psf_sigma=1.0, steps=20, every=5, min_gain=-99, seconds=600)  # ends by steps
    tuned = Upscaler(2, device="cpu").adapt(lr, blend=1.0, **kw)
    half = Upscaler(2, device="cpu").adapt(lr, **kw)  # blend 0.5, the default
    base = get_model("srcnn-acq-9-5-5-x2").model.state_dict()
    a = tuned._loaded.model.state_dict()
    for k, v in half._loaded.model.state_dict().items():
        np.testing.assert_allclose(v.numpy(), ((base[k] + a[k]) / 2).numpy(), atol=1e-6)
    rep = half.adaptation
    assert rep["blend"] == 0.5 and tuned.adaptation["blend"] == 1.0
    assert rep["holdout_psnr_fine_tuned"] == tuned.adaptation["holdout_psnr_after"]
    assert rep["holdout_psnr_after"] != rep["holdout_psnr_fine_tuned"]  # the blend is scored
    with pytest.raises(ValueError, match="blend must be in"):
        AdaptSettings(blend=0)


def test_a_blend_worse_than_the_bundled_model_falls_back_to_the_fine_tuned_one(
    blurred, monkeypatch
):
    import srcnn_plugin._adapt

    _, lr = blurred
    kw = dict(psf_sigma=1.0, steps=10, every=5, seconds=600)
    tuned = Upscaler(2, device="cpu").adapt(lr, blend=1.0, **kw)
    # held-out scores: before, after 5 and 10 steps, then the blend (worse than before)
    scores = iter([30.0, 31.0, 31.5, 29.0])
    monkeypatch.setattr(srcnn_plugin._adapt, "_psnr", lambda *a: next(scores))
    up = Upscaler(2, device="cpu").adapt(lr, **kw)
    rep = up.adaptation
    assert rep["adapted"] and rep["blend"] == 1.0 and rep["holdout_psnr_after"] == 31.5
    assert np.array_equal(up(lr), tuned(lr))


def test_the_guard_keeps_the_model_when_nothing_improves(blurred):
    _, lr = blurred
    up = Upscaler(2, device="cpu")
    with pytest.warns(AdaptationWarning, match="did not improve"):
        kept = up.adapt(lr, steps=10, every=5, min_gain=100.0)
    assert not kept.adaptation["adapted"]
    assert kept.model_name == up.model_name
    assert np.array_equal(kept(lr), up(lr))


def test_rescale_adapt_equals_upscaler_adapt(blurred):
    _, lr = blurred
    settings = dict(steps=15, every=5, seed=1)
    out = rescale(lr, 2, psf_sigma=1.0, device="cpu", adapt=settings)
    up = Upscaler(2, device="cpu", psf_sigma=1.0).adapt(lr, **settings)
    assert np.array_equal(out, up(lr))


def test_save_and_load_reproduce_the_adapted_model(blurred, tmp_path):
    import torch

    _, lr = blurred
    up = Upscaler(2, device="cpu").adapt(lr, psf_sigma=1.0, steps=10, every=5)
    path = up.save(tmp_path / "mine.pt")
    again = Upscaler.load(path, device="cpu")
    assert again.scale == 2.0
    expected = up(lr)
    assert np.array_equal(again(lr), expected)
    # the PSF travels with the model: rescale(model=path) needs no psf_sigma
    assert np.array_equal(rescale(lr, 2, model=str(path), device="cpu"), expected)
    meta = torch.load(path, weights_only=True)["metadata"]
    assert meta["adaptation"]["source_shapes"] == [list(lr.shape)]
    assert meta["adaptation"]["psf_sigma"] == 1.0
    assert meta["blur_default"] == pytest.approx(0.5)
    from srcnn_plugin.models.registry import blur_default

    assert blur_default(str(path)) == pytest.approx(0.5)  # what evaluate tells it, too
    # no image is stored: only the network's own tensors
    state = torch.load(path, weights_only=True)["state_dict"]
    assert set(state) == set(up._loaded.model.state_dict())


def test_save_never_overwrites_without_asking(blurred, tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"mine")
    up = Upscaler(2, device="cpu")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        up.save(target)
    assert target.read_bytes() == b"mine"
    up.save(target, overwrite=True)
    assert srcnn_plugin.load_weights(target).scales == (2.0,)


def test_an_adapted_upscaler_pickles_with_its_weights(blurred):
    _, lr = blurred
    up = Upscaler(2, device="cpu").adapt(lr, psf_sigma=1.0, steps=10, every=5)
    again = pickle.loads(pickle.dumps(up))
    assert again.model_name == up.model_name
    assert again.adaptation == up.adaptation
    assert np.array_equal(again(lr), up(lr))


def test_channels_stacks_and_dask_are_accepted(rng):
    import dask.array as da
    from skimage import data

    img = data.astronaut()[:128, :128].astype(np.uint8)  # (H, W, 3)
    up = Upscaler(2, device="cpu", channel_axis=-1).adapt(img, steps=5, every=5, min_gain=-99)
    assert up.adaptation["planes"] == 3
    assert up(img).shape == (256, 256, 3)
    stack = np.stack([data.camera()[:96, :96]] * 12)  # (Z, Y, X): up to 8 planes
    up = Upscaler((1, 2, 2), device="cpu").adapt(
        da.from_array(stack, chunks=(4, 96, 96)), steps=5, every=5, min_gain=-99
    )
    assert up.adaptation["planes"] == 8
    assert up.adaptation["source_shapes"] == [[12, 96, 96]]


def test_planes_smaller_than_a_patch_are_left_out(blurred):
    _, lr = blurred
    tiny = lr[:24, :24]
    with warnings.catch_warnings():  # whether 5 steps improve on the model is not the point
        warnings.simplefilter("ignore", AdaptationWarning)
        up = Upscaler(2, device="cpu").adapt([lr, tiny], steps=5, every=5, min_gain=-99)
    assert up.adaptation["planes"] == 2 and up.adaptation["steps"] == 5


def test_closing_the_generator_cancels(blurred):
    _, lr = blurred
    steps = adapt_steps(lr, 2, Options(device="cpu"), AdaptSettings(steps=1000))
    assert next(steps) == (1, 1000)
    steps.close()  # no further step runs, no exception
    with pytest.raises(StopIteration):
        next(steps)


def test_the_time_budget_stops_training(blurred):
    _, lr = blurred
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AdaptationWarning)
        up = Upscaler(2, device="cpu").adapt(lr, seconds=1e-3, steps=1000)
    assert up.adaptation["stopped_by"] == "time"
    assert up.adaptation["steps"] == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(degradation="gaussian"), ValueError, "pass one of"),
        (dict(steps=0), ValueError, "positive integer"),
        (dict(minutes=1), TypeError, "Unknown adaptation setting"),
        (dict(noise=-1.0), ValueError, "noise must be"),
    ],
)
def test_bad_settings_say_what_to_pass(kwargs, error, match):
    with pytest.raises(error, match=match):
        Upscaler(2, device="cpu").adapt(np.random.default_rng(0).random((64, 64)), **kwargs)


def test_bad_images_say_what_to_pass():
    up = Upscaler(2, device="cpu")
    with pytest.raises(ValueError, match="too small to adapt"):
        up.adapt(np.random.default_rng(0).random((20, 20)))
    with pytest.raises(ValueError, match="at least one image"):
        up.adapt([])
    with pytest.raises(ValueError, match="constant"):
        up.adapt(np.zeros((64, 64)))
    with pytest.raises(ValueError, match="same factor on both axes"):
        Upscaler((2, 3), device="cpu").adapt(np.random.default_rng(0).random((64, 64)))
    with pytest.raises(ValueError, match="constant"):
        up.adapt(np.full((64, 64), np.nan))  # no data at all
    rgb = np.random.default_rng(0).random((64, 64, 3))
    rgb[3, 3, 0] = np.nan
    with pytest.raises(ValueError, match="color_mode='channels'"):
        Upscaler(2, device="cpu", channel_axis=-1, color_mode="ycbcr").adapt(rgb)
    with pytest.raises(TypeError, match="adapt must be"):
        rescale(np.random.default_rng(0).random((64, 64)), 2, adapt="yes")


def test_adapting_to_shot_noise_tells_the_model_maps():
    """Photon-limited planes: pairs topped up to the plane's variance line, maps told."""
    from skimage import data

    hr = data.camera()[100:356, 100:356].astype(np.float64) / 255.0
    lr = Degradation("binning", psf=1.0, photons=200.0).apply(hr, 2, rng=0)
    for noise in ("poisson", PoissonGaussian(gain=1 / 200)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AdaptationWarning)
            up = Upscaler(2, device="cpu", noise=noise).adapt(lr, steps=40)
        report = up.adaptation
        assert report["holdout_psnr_after"] >= report["holdout_psnr_before"]
        assert report["noise"] == ("poisson" if noise == "poisson" else [asdict(noise)])
        assert up(lr).shape == (256, 256)


def test_sampler_gives_variance_lines_for_shot_noise_pairs():
    from srcnn_plugin.training.data import PatchSampler

    z = np.zeros((40, 40), np.float32)
    s = PatchSampler.from_pairs([(z, z, (0.004, 1e-5), 0.5), (z, z, 0.01, 0.5)], 33, 8)
    _, _, noise, blur = s.sample_conditioned(4)
    assert noise.shape == (4, 2) and blur.shape == (4,)
    rows = {tuple(round(float(v), 6) for v in r) for r in noise}
    assert rows <= {(0.004, 1e-5), (0.0, 1e-4)}  # a level is the line (0, sigma^2)


def test_adaptation_planes_leave_hot_pixels_out(cells):
    """A hot pixel neither sets the planes' contrast nor is learnt from (clipped off)."""
    from srcnn_plugin._adapt import _planes
    from srcnn_plugin._dtype import MODEL_RANGE

    img = np.clip(cells, *np.quantile(cells, [0.01, 0.99]))
    hot = img.copy()
    hot[40, 50] = 30 * img.max()
    (clean, _), *_ = _planes(img, 2, None, "channels", "auto")[0]
    (plane, _), *_ = _planes(hot, 2, None, "channels", "auto")[0]
    assert plane.max() <= MODEL_RANGE[1] + 1e-12
    far = np.ones(plane.shape, bool)
    far[35:46, 45:56] = False
    np.testing.assert_allclose(plane[far], clean[far], atol=1e-12)


def test_adaptation_planes_leave_a_zero_fill_out(cells):
    """A zero fill below data with an offset sets neither the contrast nor the noise."""
    from srcnn_plugin._adapt import _planes, plane_noise
    from srcnn_plugin._dtype import MODEL_RANGE

    gen = np.random.default_rng(4)
    img = cells * 1000 + 400 + gen.normal(0, 10, cells.shape)
    filled = img.copy()
    filled[:, :90] = 0.0
    (plane, level), *_ = _planes(filled, 2, None, "channels", "auto")[0]
    (ref, _), *_ = _planes(img[:, 100:], 2, None, "channels", "auto")[0]
    ref_level = plane_noise(ref, None)  # measured later, as there is no fill
    assert plane.min() >= MODEL_RANGE[0] - 1e-12  # the fill is clipped to the data's floor
    np.testing.assert_allclose(plane[:, 100:].max(), MODEL_RANGE[1])
    assert level is not None
    np.testing.assert_allclose(level * np.ptp(img), ref_level * np.ptp(img[:, 100:]), rtol=0.15)


def test_adaptation_takes_nan_as_no_data(rng):
    from scipy import ndimage as ndi

    img = ndi.gaussian_filter(rng.random((96, 96)), 1.5)
    img[30:50, 20:45] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AdaptationWarning)  # 20 steps may not help
        out = rescale(img, 2, adapt={"steps": 20, "every": 10}, device="cpu")
    np.testing.assert_array_equal(np.isnan(out), np.kron(np.isnan(img), np.ones((2, 2), bool)))
