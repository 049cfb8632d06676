"""The noise level noise-aware models are told (``_noise``) and ``rescale(noise=...)``."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from srcnn_plugin import rescale
from srcnn_plugin._dtype import model_affine
from srcnn_plugin._noise import channel_noise
from srcnn_plugin._plan import make_plan
from srcnn_plugin._validation import check_noise


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
