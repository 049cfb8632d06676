import numpy as np
import pytest

from srcnn_plugin._color import rgb_to_y_uint8, rgb_to_ycbcr, ycbcr_to_rgb


def test_matlab_extremes():
    white = rgb_to_ycbcr(np.ones((1, 1, 3)))[0, 0] * 255
    black = rgb_to_ycbcr(np.zeros((1, 1, 3)))[0, 0] * 255
    np.testing.assert_allclose(white, [235, 128, 128], atol=1e-9)
    np.testing.assert_allclose(black, [16, 128, 128], atol=1e-9)


def test_y_uint8_rounds_like_matlab():
    px = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    # 16 + 65.481 = 81.481 -> 81; 16 + 128.553 -> 145; 16 + 24.966 -> 41
    assert rgb_to_y_uint8(px).tolist() == [[81, 145, 41]]


def test_grey_is_its_own_y(rng):
    g = rng.integers(0, 256, (5, 6), dtype=np.uint8)
    np.testing.assert_array_equal(rgb_to_y_uint8(g), g)


def test_roundtrip(rng):
    x = rng.random((5, 5, 3))
    np.testing.assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(x)), x, atol=1e-12)


def test_bad_shape():
    with pytest.raises(ValueError, match="RGB"):
        rgb_to_y_uint8(np.zeros((4, 4, 2), np.uint8))
