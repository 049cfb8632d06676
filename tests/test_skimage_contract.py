"""scikit-image's rescale contract, checked against ``srcnn_plugin.rescale``.

Written by us after the behaviours scikit-image's own tests check for
``skimage.transform.rescale``: every keyword accepted (positionally too, in
skimage's order), shapes for 1-D to 4-D with channels, dtype rules with and
without ``preserve_range``, clipping, channel axis positions, exactness of
``order=0`` and boolean images, and the error types.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from skimage.transform import rescale as sk_rescale

from srcnn_plugin import rescale


@pytest.mark.parametrize("order", [0, 1, 2, 3, 4, 5])
def test_explicit_order_is_exactly_skimage(rng, order):
    x = rng.random((12, 14))
    assert_array_equal(rescale(x, 2, order=order), sk_rescale(x, 2, order=order))


def test_all_keywords_positionally_in_skimage_order(rng):
    x = (rng.random((10, 12)) * 255).astype(np.uint8)
    args = (1, "constant", 0.5, False, True, False, None)
    assert_array_equal(rescale(x, 2, *args), sk_rescale(x, 2, *args))


@pytest.mark.parametrize("channel_axis", [None, 0, -1])
def test_order_zero_labels_and_masks_exact(rng, channel_axis):
    labels = rng.integers(0, 5, (3, 10, 11) if channel_axis is not None else (10, 11))
    ch = channel_axis
    assert_array_equal(
        rescale(labels, 3, order=0, preserve_range=True, channel_axis=ch),
        sk_rescale(labels, 3, order=0, preserve_range=True, channel_axis=ch),
    )
    mask = rng.random((9, 10)) > 0.5
    out = rescale(mask, 2)
    assert out.dtype == sk_rescale(mask, 2).dtype
    assert_array_equal(out, sk_rescale(mask, 2))


@pytest.mark.parametrize(
    "shape, scale, channel_axis, expected",
    [
        ((20,), 2, None, (40,)),
        ((10, 12), 2, None, (20, 24)),
        ((10, 12, 3), 2, -1, (20, 24, 3)),
        ((3, 10, 12), (1, 2, 2), None, (3, 20, 24)),
        ((2, 10, 12, 3), (1, 2, 2), -1, (2, 20, 24, 3)),
        ((3, 4, 10, 12), (1, 1, 1.5, 1.5), None, (3, 4, 15, 18)),
        ((10, 12), 0.5, None, (5, 6)),
    ],
)
def test_shapes_match_skimage(rng, shape, scale, channel_axis, expected):
    x = rng.random(shape)
    out = rescale(x, scale, channel_axis=channel_axis)
    assert out.shape == expected == sk_rescale(x, scale, channel_axis=channel_axis).shape


@pytest.mark.parametrize(
    "dtype, preserve_range, out_dtype",
    [
        (np.uint8, False, np.float64),
        (np.uint16, True, np.float64),
        (np.int16, False, np.float64),
        (np.float16, False, np.float32),
        (np.float32, False, np.float32),
        (np.float64, True, np.float64),
    ],
)
def test_dtype_rules(rng, dtype, preserve_range, out_dtype):
    x = (rng.random((10, 12)) * 100).astype(dtype)
    out = rescale(x, 2, preserve_range=preserve_range)
    ref = sk_rescale(x, 2, preserve_range=preserve_range)
    assert out.dtype == out_dtype == ref.dtype
    # Same value convention: integers scaled as img_as_float scales them, unless preserved.
    from skimage.util import img_as_float

    top = float(x.max()) if preserve_range else float(img_as_float(x).max())
    assert 0.5 * top < float(out.max()) <= top * (1 + 1e-3)


def test_clip_keeps_the_input_range(rng):
    x = rng.random((16, 16))
    out = rescale(x, 3)
    assert x.min() <= out.min() and out.max() <= x.max()


@pytest.mark.parametrize("scale", [np.array(2.0), [2], (2.0,)])
def test_scalar_forms_of_scale(rng, scale):
    x = rng.random((8, 9))
    assert rescale(x, scale).shape == sk_rescale(x, scale).shape == (16, 18)


def test_spline_options_without_order_warn(rng):
    with pytest.warns(UserWarning, match="mode only applies to scikit-image.*ignores it"):
        rescale(rng.random((8, 8)), 2, mode="constant")
    with pytest.warns(UserWarning, match="mode, cval only apply to scikit-image.*ignores them"):
        rescale(rng.random((8, 8)), 2, mode="constant", cval=1.0)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(scale=(2, 2, 2)), ValueError),
        (dict(scale=-1), ValueError),
        (dict(scale=2, channel_axis=5), ValueError),
        (dict(scale=2, order=7), ValueError),
    ],
)
def test_error_types(rng, kwargs, exc):
    with pytest.raises(exc):
        rescale(rng.random((8, 8)), **kwargs)


@pytest.mark.parametrize(
    "image, kwargs, exc",
    [
        (np.zeros((8, 8), complex), {}, ValueError),  # scikit-image: ValueError
        (np.array([["a", "b"]]), {}, ValueError),
        (np.zeros((8, 8)), {"channel_axis": 5}, IndexError),  # numpy's AxisError
        (np.zeros((8, 8)), {"channel_axis": 5}, np.exceptions.AxisError),
    ],
)
def test_error_types_match_skimage(image, kwargs, exc):
    with pytest.raises(exc):
        sk_rescale(image, 2, **kwargs)
    with pytest.raises(exc):
        rescale(image, 2, **kwargs)
