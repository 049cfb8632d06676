"""srcnn_plugin.degradations: each acquisition step against its formula."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from srcnn_plugin.degradations import (
    Degradation,
    DegradationMixture,
    add_noise,
    bin_pixels,
    estimate_noise,
    estimate_poisson_gaussian,
    gaussian_psf,
    psf_sigma,
    subsample,
    validation_degradations,
)


def test_integer_binning_is_block_mean(rng):
    x = rng.random((12, 9))
    out = bin_pixels(x, 3)
    assert out.shape == (4, 3)
    assert_allclose(out[1, 2], x[3:6, 6:9].mean())


def test_binning_crops_to_a_multiple(rng):
    assert bin_pixels(rng.random((11, 7)), 2).shape == (5, 3)


@pytest.mark.parametrize("factor", [1.5, 2.5, 3.7])
def test_fractional_binning_integrates_area(rng, factor):
    x = rng.random((30, 37))
    out = bin_pixels(x, factor)
    assert out.shape == (round(30 / factor), round(37 / factor))
    # Every coarse pixel averages fine pixels: ranges nest, a constant stays constant.
    assert x.min() - 1e-12 <= out.min() and out.max() <= x.max() + 1e-12
    assert_allclose(bin_pixels(np.full((30, 37), 5.0), factor), 5.0)
    # Area integration conserves the total intensity (photons are counted once).
    sy, sx = 30 / out.shape[0], 37 / out.shape[1]
    assert_allclose(out.sum() * sy * sx, x.sum())


def test_binning_rejects_enlarging():
    with pytest.raises(ValueError, match="factor >= 1"):
        bin_pixels(np.zeros((4, 4)), 0.5)


def test_gaussian_psf_keeps_sum_and_spreads():
    x = np.zeros((21, 21))
    x[10, 10] = 1
    out = gaussian_psf(x, 2.0)
    assert_allclose(out.sum(), 1.0, atol=1e-6)
    yy, xx = np.mgrid[:21, :21]
    var = (out * (yy - 10) ** 2).sum()
    assert_allclose(var, 4.0, rtol=0.02)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_psf(x, -1)


def test_psf_sigma_from_optics():
    assert_allclose(psf_sigma(1.0, 500, 100), 1.05)
    assert psf_sigma(1.0, 500, 100, confocal=True) < psf_sigma(1.0, 500, 100)
    with pytest.raises(ValueError):
        psf_sigma(0, 500, 100)


def test_subsample_matches_skimage_without_antialiasing(rng):
    from skimage.transform import resize

    x = rng.random((30, 30))
    ref = resize(x, (10, 10), order=1, mode="reflect", anti_aliasing=False)
    assert_allclose(subsample(x, 3), ref)


def test_gaussian_read_noise_level():
    y = add_noise(np.full((300, 300), 10.0), read=0.02, value_range=(0, 100), rng=1)
    assert_allclose(y.std(), 2.0, rtol=0.03)
    assert_allclose(y.mean(), 10.0, atol=0.05)


def test_shot_noise_is_poisson():
    y = add_noise(np.full((300, 300), 0.5), photons=100, value_range=(0, 1), rng=2)
    # Poisson(50) / 100: mean 0.5, variance 50 / 100**2.
    assert_allclose(y.mean(), 0.5, atol=0.005)
    assert_allclose(y.var(), 50 / 100**2, rtol=0.05)


def test_noise_is_seeded():
    x = np.zeros((8, 8))
    a = add_noise(x, read=0.1, value_range=(0, 1), rng=3)
    assert_allclose(a, add_noise(x, read=0.1, value_range=(0, 1), rng=3))


@pytest.mark.parametrize("sigma", [0.005, 0.02, 0.05])
def test_estimate_noise_on_a_smooth_image(sigma):
    from scipy.ndimage import gaussian_filter

    gen = np.random.default_rng(4)
    smooth = gaussian_filter(gen.random((256, 256)), 4) * 10
    noisy = smooth + gen.normal(0, sigma, smooth.shape)
    assert_allclose(estimate_noise(noisy), sigma, rtol=0.1)


def test_estimate_noise_grows_with_noise_on_texture(natural):
    gen = np.random.default_rng(4)
    levels = [estimate_noise(natural + gen.normal(0, s, natural.shape)) for s in (0, 0.01, 0.03)]
    assert levels[0] < levels[1] < levels[2]
    assert_allclose(levels[2], 0.03, rtol=0.2)


def test_estimate_noise_ignores_smooth_signal():
    yy, xx = np.mgrid[:128, :128] / 128.0
    assert estimate_noise(0.3 * yy + 0.2 * xx) < 1e-12
    with pytest.raises(ValueError, match="2-D"):
        estimate_noise(np.zeros((2, 8, 8)))


def test_degradation_parse_and_apply(rng):
    d = Degradation.parse("noise=0.01 + psf=1.5 + binning")
    assert d == Degradation("binning", psf=1.5, read=0.01)
    assert Degradation.parse(str(d)) == d
    hr = rng.random((24, 24))
    lr = Degradation("binning", psf=1.0).apply(hr, 2)
    assert_allclose(lr, bin_pixels(gaussian_psf(hr, 1.0), 2))
    assert Degradation("bicubic").apply(hr, 3).shape == (8, 8)
    assert Degradation("subsample").apply(hr, 3).shape == (8, 8)


@pytest.mark.parametrize(
    "text, message",
    [
        ("psf=1+blur", "Cannot read 'blur'"),
        ("binning+bicubic", "given twice"),
        ("noise=0.05-0.01", "low to high"),
        ("noise=0-0.1", "ranges"),
    ],
)
def test_degradation_parse_errors(text, message):
    with pytest.raises(ValueError, match=message):
        Degradation.parse(text)


def test_mixture_draws_within_ranges():
    m = DegradationMixture(("psf=0.2-0.5+binning+noise=0.01-0.03",), clean=0.5)
    gen = np.random.default_rng(0)
    draws = [m.sample(gen, 3) for _ in range(200)]
    assert all(d.sampling == "binning" and 0.6 <= d.psf <= 1.5 for d in draws)
    noisy = [d.read for d in draws if d.read]
    assert all(0.01 <= r <= 0.03 for r in noisy)
    assert 0.35 < 1 - len(noisy) / len(draws) < 0.65


def test_validation_degradations_scale_the_psf():
    assert [d.psf for d in validation_degradations(3)] == [0, 0, 1.5, 1.5, 1.5]


def test_axial_blurs_and_sections_one_axis_only(rng):
    from srcnn_plugin.degradations import axial

    vol = rng.random((16, 6, 5))
    out = axial(vol, 4, 0.0, axis=0)
    assert out.shape == (4, 6, 5)
    # sections at fine z = 1.5, 5.5, 9.5, 13.5 (scikit-image's grid), linear between slices
    np.testing.assert_allclose(out[1], (vol[5] + vol[6]) / 2)
    blurred = axial(vol, 4, 2.0, axis=0)
    from scipy.ndimage import gaussian_filter1d

    np.testing.assert_allclose(
        blurred[0],
        (lambda g: (g[1] + g[2]) / 2)(gaussian_filter1d(vol, 2.0, axis=0, mode="reflect")),
    )
    with pytest.raises(ValueError, match="factor must be"):
        axial(vol, 0.5, 1.0)


def test_axial_sampling_records_the_rows_only(rng):
    from srcnn_plugin.degradations import axial

    img = rng.random((24, 10))
    d = Degradation.parse("axial+psf=2")
    assert (d.sampling, d.psf, str(d)) == ("axial", 2.0, "psf=2+axial")
    np.testing.assert_array_equal(d.shrink(img, 4), axial(img, 4, 2.0, axis=0))
    assert d.apply(img, 4).shape == (6, 10)


def test_a_mixture_is_one_axis_or_not_never_both():
    assert DegradationMixture(("axial+psf=0-0.75+noise=0-0.04",)).one_axis
    assert not DegradationMixture(("bicubic", "binning")).one_axis
    with pytest.raises(ValueError, match="one-axis models on their own"):
        DegradationMixture(("bicubic", "axial"))


def test_one_axis_validation_recordings():
    got = [str(d) for d in validation_degradations(4, one_axis=True)]
    assert got == ["psf=1+axial", "psf=2+axial", "psf=2+axial+noise=0.01"]


@pytest.mark.parametrize("photons", [100.0, 1000.0])
def test_poisson_gaussian_fit_recovers_shot_and_read_noise(photons):
    """On a smooth scene with shot and read noise, the variance line is found."""
    from scipy.ndimage import gaussian_filter

    gen = np.random.default_rng(2)
    scene = gaussian_filter(gen.random((384, 384)), 6)
    scene = (scene - scene.min()) / np.ptp(scene)  # 0..1, smooth
    noisy = add_noise(scene, read=0.01, photons=photons, value_range=(0, 1), rng=3)
    a, b = estimate_poisson_gaussian(noisy)
    assert_allclose(a, 1 / photons, rtol=0.2)
    assert_allclose(a * 0.5 + b, 0.5 / photons + 0.01**2, rtol=0.2)  # mid-range variance


def test_poisson_gaussian_fit_of_white_noise_is_flat():
    yy, xx = np.mgrid[:256, :256] / 256.0
    noisy = yy + xx + np.random.default_rng(0).normal(0, 0.02, yy.shape)
    a, b = estimate_poisson_gaussian(noisy)
    assert a * 2 < 0.05 * b  # the signal-dependent part is negligible across the range
    assert_allclose(np.sqrt(b), 0.02, rtol=0.1)
    with pytest.raises(ValueError, match="2-D"):
        estimate_poisson_gaussian(np.zeros((2, 8, 8)))


@pytest.mark.parametrize("estimate", ["level", "line"])
def test_estimates_leave_out_ignored_pixels(estimate):
    """A zero fill over 40 % of the plane: left out, the noise is measured right."""
    gen = np.random.default_rng(5)
    noisy = 500 + gen.normal(0, 8.0, (200, 200))
    noisy[:, :80] = 0.0
    ignore = np.zeros(noisy.shape, bool)
    ignore[:, :83] = True
    if estimate == "level":
        assert estimate_noise(noisy) < 4.0
        assert_allclose(estimate_noise(noisy, ignore=ignore), 8.0, rtol=0.05)
        assert estimate_noise(noisy, ignore=np.ones(noisy.shape, bool)) == 0.0
    else:
        a, b = estimate_poisson_gaussian(noisy, ignore=ignore)
        assert_allclose(np.sqrt(a * 500 + b), 8.0, rtol=0.1)
    with pytest.raises(ValueError, match="ignore must have the image's shape"):
        estimate_noise(noisy, ignore=ignore[:10])
