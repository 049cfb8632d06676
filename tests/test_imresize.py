import numpy as np
import pytest

from srcnn_plugin._imresize import banded_weights, cubic, imresize, resize_weights


def test_cubic_kernel_values():
    x = np.array([-2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2])
    expected = [0, 0, -0.0625, 0, 0.5625, 1, 0.5625, 0, -0.0625, 0]
    np.testing.assert_allclose(cubic(x), expected, atol=1e-12)


@pytest.mark.parametrize("scale", [1 / 4, 1 / 3, 1 / 2, 2, 3, 4, 2.5])
def test_constant_stays_constant(scale):
    img = np.full((24, 30), 0.37)
    np.testing.assert_allclose(imresize(img, scale), 0.37, atol=1e-12)


@pytest.mark.parametrize(
    "shape,scale,expected",
    [((10, 12), 2, (20, 24)), ((10, 12), 1 / 3, (4, 4)), ((9, 12), 1 / 3, (3, 4))],
)
def test_output_size_is_ceil(shape, scale, expected):
    assert imresize(np.zeros(shape), scale).shape == expected


def test_scale_one_is_identity(rng):
    img = rng.random((13, 17))
    np.testing.assert_array_equal(imresize(img, 1), img)


def test_linear_ramp_reproduced_in_interior():
    ramp = np.tile(np.arange(20.0), (20, 1))
    up = imresize(ramp, 2)
    # Output pixel j samples input coordinate (j + 0.5) / 2 - 0.5.
    expect = (np.arange(40) + 0.5) / 2 - 0.5
    np.testing.assert_allclose(up[10, 6:-6], expect[6:-6], atol=1e-12)


def test_flip_equivariance(rng):
    img = rng.random((18, 24))
    np.testing.assert_allclose(imresize(img[::-1], 1 / 3), imresize(img, 1 / 3)[::-1], atol=1e-12)


def test_weights_rows_sum_to_one_and_band_matches_dense():
    idx, w = banded_weights(7, 21, 3.0)
    dense = resize_weights(7, 21, 3.0)
    np.testing.assert_allclose(dense.sum(1), 1)
    for i in range(21):
        row = np.zeros(7)
        np.add.at(row, idx[i], w[i])
        np.testing.assert_allclose(row, dense[i])


def test_channels_carried(rng):
    img = rng.random((8, 10, 3))
    out = imresize(img, 2)
    assert out.shape == (16, 20, 3)
    np.testing.assert_allclose(out[..., 1], imresize(img[..., 1], 2))


def test_float32_kept():
    assert imresize(np.zeros((4, 4), np.float32), 2).dtype == np.float32


def test_bad_arguments():
    with pytest.raises(ValueError, match="exactly one"):
        imresize(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="one per axis"):
        imresize(np.zeros((4, 4)), (1, 2, 3))
