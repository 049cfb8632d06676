"""The noise level noise-aware models are told (``_noise``) and ``rescale(noise=...)``."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from srcnn_plugin import rescale
from srcnn_plugin._dtype import model_affine
from srcnn_plugin._noise import channel_noise
from srcnn_plugin._plan import make_plan
from srcnn_plugin._validation import check_noise
from srcnn_plugin.degradations import PoissonGaussian


def _levels(img, noise="auto", **plan_kw):
    plan = make_plan(img.shape, img.dtype, 2, **plan_kw)
    x = np.moveaxis(img, plan.channel_axis, -1) if plan.channel_axis is not None else img[..., None]
    lo, hi = x.reshape(-1, x.shape[-1]).min(0), x.reshape(-1, x.shape[-1]).max(0)
    return channel_noise(x, plan, lo, hi - lo, check_noise(noise, x.shape[-1])), lo, hi


def test_measured_per_channel_in_model_units(cells):
    gen = np.random.default_rng(0)
    img = np.stack([cells * 1000 + gen.normal(0, 10, cells.shape), cells * 50], axis=0)
    levels, lo, hi = _levels(img, channel_axis=0)
    gain, _ = model_affine(lo, hi - lo)
    assert_allclose(levels[0], 10 * gain[0], rtol=0.2)
    assert levels[1] < 0.2 * levels[0]


def test_given_noise_is_converted(cells):
    img = cells * 4095
    levels, lo, hi = _levels(img, noise=40.95)
    assert_allclose(levels[0], 40.95 * model_affine(lo, hi - lo)[0][0])


def test_stack_uses_the_median_of_planes(cells):
    gen = np.random.default_rng(1)
    stack = np.stack([cells + gen.normal(0, 0.02, cells.shape) for _ in range(9)])
    plan = make_plan(stack.shape, stack.dtype, (1, 2, 2))
    x = stack[..., None]
    lv = channel_noise(x, plan, np.array([x.min()]), np.array([np.ptp(x)]), "auto")
    assert_allclose(lv[0] / model_affine(x.min(), np.ptp(x))[0], 0.02, rtol=0.2)


@pytest.mark.parametrize("bad", [-1.0, "loud", [1.0, np.nan], True])
def test_bad_noise_is_refused(bad):
    with pytest.raises(ValueError, match="noise must be 'auto'"):
        rescale(np.random.default_rng(0).random((16, 16)), 2, noise=bad)


def test_paper_models_refuse_a_noise_level():
    img = np.random.default_rng(0).random((16, 16))
    with pytest.raises(ValueError, match="does not take a noise level"):
        rescale(img, 2, model="paper", noise=0.1)
    # 'auto' and 0 are fine: nothing to tell a model that takes no level.
    assert_allclose(rescale(img, 2, model="paper", noise=0), rescale(img, 2, model="paper"))


@pytest.mark.parametrize("model", [None, "fast"])
def test_a_flat_noisy_field_is_not_sharpened(model):
    """Noise is not turned into structure: the output varies less than the input."""
    gen = np.random.default_rng(5)
    for level in (0.01, 0.03):
        field = 0.5 + gen.normal(0, level, (96, 96))
        out = rescale(field, 2, model=model)
        assert out.var() <= field.var()
    if model == "fast":  # the check can fail: the paper's 9-1-5 sharpens the noise
        assert rescale(field, 2, model="paper-fast").var() > field.var()


def _shot(clean, photons, seed=0):
    """``clean`` (0..1) recorded with ``photons`` at the top of the range, in photons."""
    return np.random.default_rng(seed).poisson(clean * photons).astype(np.float64)


def test_poisson_line_is_converted_to_model_units(cells):
    """The told variance at a normalised intensity is the image's, rescaled."""
    img = _shot(cells, 200.0)
    (line,), lo, hi = _levels(img, noise="poisson")
    gain, offset = model_affine(lo, hi - lo)
    # At 100 photons the variance is 100 photons^2; in network units gain^2 * 100.
    at_100 = line[0] * (100 * gain[0] + offset[0]) + line[1]
    assert_allclose(at_100, 100 * gain[0] ** 2, rtol=0.25)


def test_poisson_noise_beats_one_level_on_shot_noise():
    """Bright spots on a dark background at 100 photons: one level (set by the
    dark background) under-tells the spots' noise and the model sharpens it;
    told per pixel, it beats the spline."""
    from scipy import ndimage as ndi
    from skimage.transform import rescale as spline

    from srcnn_plugin.degradations import bin_pixels

    gen = np.random.default_rng(1)
    spots = np.zeros((192, 192))
    spots[tuple(gen.integers(0, 192, (2, 40)))] = 1
    clean = ndi.gaussian_filter(spots, 3)
    clean = (0.03 + clean / clean.max()) / 1.03
    low = _shot(bin_pixels(clean, 2), 100.0) / 100.0

    def psnr(out):
        return -10 * np.log10(np.mean((out[4:-4, 4:-4] - clean[4:-4, 4:-4]) ** 2))

    told = psnr(rescale(low, 2, noise="poisson"))
    assert told > psnr(rescale(low, 2)) + 0.5
    assert told > psnr(spline(low, 2, order=3)) + 0.5


def test_poisson_noise_is_tile_and_channel_independent(cells):
    img = np.stack([_shot(cells, 100.0), _shot(cells[::-1], 2000.0, 1)], axis=-1)
    whole = rescale(img, 2, channel_axis=-1, noise="poisson")
    tiled = rescale(img, 2, channel_axis=-1, noise="poisson", tile_size=48)
    assert_allclose(tiled, whole, atol=1e-9 * np.ptp(whole))
    alone = rescale(img[..., 1], 2, noise="poisson")
    assert_allclose(whole[..., 1], alone, atol=1e-9 * np.ptp(alone))


def test_a_flat_shot_noise_field_is_not_sharpened():
    field = np.random.default_rng(7).poisson(100.0, (96, 96)).astype(np.float64)
    out = rescale(field, 2, noise="poisson")
    assert out.var() <= field.var()
    assert_allclose(out.mean(), field.mean(), rtol=0.01)


def test_poisson_noise_needs_a_noise_aware_model():
    img = np.random.default_rng(0).random((16, 16))
    with pytest.raises(ValueError, match="does not take a noise level"):
        rescale(img, 2, model="paper", noise="poisson")


def test_poisson_noise_dask_equals_numpy(cells):
    da = pytest.importorskip("dask.array")
    img = _shot(cells, 100.0)
    want = rescale(img, 2, noise="poisson")
    got = rescale(da.from_array(img, chunks=(64, 80)), 2, noise="poisson").compute()
    assert_allclose(got, want, atol=1e-9 * np.ptp(want))


def test_stated_shot_noise_matches_the_measured_one(cells):
    """A camera stated (gain, offset, read) tells what noise='poisson' measures."""
    gen = np.random.default_rng(3)
    img = 100 + 2.0 * gen.poisson(cells * 300) + gen.normal(0, 3, cells.shape)
    (measured,), lo, hi = _levels(img, noise="poisson")
    (stated,), _, _ = _levels(img, noise=PoissonGaussian(2.0, 100.0, 3.0))
    gain, offset = model_affine(lo, hi - lo)
    mid = 0.5 * (lo[0] + hi[0]) * gain[0] + offset[0]  # a mid-range intensity
    assert_allclose(measured[0] * mid + measured[1], stated[0] * mid + stated[1], rtol=0.2)
    out = rescale(img, 2, noise=PoissonGaussian(2.0, 100.0, 3.0))
    assert out.shape == (400, 480) and np.isfinite(out).all()


def test_stated_shot_noise_is_per_input_channel(cells):
    rgb = np.stack([cells] * 3, axis=-1)
    cams = [PoissonGaussian(1.0), PoissonGaussian(2.0), PoissonGaussian(3.0)]
    out = rescale(rgb, 2, channel_axis=-1, noise=cams)
    assert_allclose(out[..., 0], rescale(cells, 2, noise=cams[0]))
    with pytest.raises(ValueError, match="one per channel"):
        rescale(rgb, 2, channel_axis=-1, noise=cams[:2])
    with pytest.raises(ValueError, match="color_mode='channels'"):
        rescale(rgb, 2, channel_axis=-1, color_mode="ycbcr", noise=cams[0])


def test_measured_noise_leaves_the_fill_out(cells):
    """A zero-filled border (registration) is noiseless: left out of the estimate."""
    gen = np.random.default_rng(2)
    img = cells * 1000 + 300 + gen.normal(0, 10, cells.shape)
    filled = img.copy()
    filled[:, :100] = 0.0  # 40 % of the plane
    plan = make_plan(img.shape, img.dtype, 2)
    lo, span = np.array([300.0]), np.array([1000.0])
    right = img[:, 104:, None]  # the same pixels without the fill: its texture counts too
    true = channel_noise(right, make_plan(right.shape[:2], img.dtype, 2), lo, span, "auto")[0]
    fill = np.array([[0.0, np.nan]])
    assert channel_noise(filled[..., None], plan, lo, span, "auto")[0] < 0.7 * true
    level = channel_noise(filled[..., None], plan, lo, span, "auto", fill=fill)[0]
    assert_allclose(level, true, rtol=0.15)
    line = channel_noise(filled[..., None], plan, lo, span, "poisson", fill=fill)[0]
    plan_r = make_plan(right.shape[:2], img.dtype, 2)
    ref = channel_noise(right, plan_r, lo, span, "poisson")[0]
    assert_allclose(line @ [0.5, 1.0], ref @ [0.5, 1.0], rtol=0.15)  # the variance mid-range
