import numpy as np
import pytest
from skimage.transform import resize

from srcnn_plugin._spline import spline_resample_axis


@pytest.mark.parametrize("n_out", [3, 7, 13, 20, 34, 61])
def test_matches_skimage_order3_along_one_axis(rng, n_out):
    x = rng.random((5, 20, 6))
    target = (5, n_out, 6)
    ref = resize(x, target, order=3, mode="reflect", anti_aliasing=n_out < 20, clip=False)
    np.testing.assert_allclose(spline_resample_axis(x, 1, n_out), ref, atol=1e-12)


def test_blocks_along_other_axes_are_exact(rng):
    x = rng.random((8, 30, 10))
    whole = spline_resample_axis(x, 0, 20)
    np.testing.assert_array_equal(spline_resample_axis(x[:, :7], 0, 20), whole[:, :7])


def test_length_one_axis_is_repeated():
    out = spline_resample_axis(np.full((1, 4), 3.0), 0, 5)
    np.testing.assert_allclose(out, 3.0)


def test_dtype_kept():
    assert spline_resample_axis(np.zeros((4, 4), np.float32), 0, 8).dtype == np.float32
