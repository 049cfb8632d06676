import numpy as np
import pytest

from srcnn_plugin._imresize import imresize
from srcnn_plugin._tiling import axis_resampler, plan_tile, tile_bounds


def test_tile_bounds_cover_exactly():
    b = tile_bounds(1000, 300)
    assert b[0][0] == 0 and b[-1][1] == 1000
    assert all(x[1] == y[0] for x, y in zip(b, b[1:]))


@pytest.mark.parametrize("n_in,n_out", [(10, 20), (10, 25), (7, 21), (9, 9)])
def test_tile_bicubic_equals_whole_image(rng, n_in, n_out):
    img = rng.random((n_in, n_in + 3)).astype(np.float32)
    ry = axis_resampler(n_in, n_out)
    rx = axis_resampler(n_in + 3, round(n_out * (n_in + 3) / n_in))
    whole = imresize(img.astype(np.float64), output_shape=(ry.out_len, rx.out_len))
    halo = 4
    for y0, y1 in tile_bounds(ry.out_len, 6):
        for x0, x1 in tile_bounds(rx.out_len, 7):
            tp = plan_tile(ry, rx, (y0, y1, x0, x1), halo)
            r0, r1, c0, c1 = tp.src
            bic = tp.my @ img[r0:r1, c0:c1] @ tp.mx.T
            top, _, left, _ = tp.pad
            core = bic[halo - top : halo - top + y1 - y0, halo - left : halo - left + x1 - x0]
            np.testing.assert_allclose(core, whole[y0:y1, x0:x1], atol=1e-5)


def test_padding_only_at_image_border():
    r = axis_resampler(50, 100)
    inner = plan_tile(r, r, (40, 60, 40, 60), 8)
    assert inner.pad == (0, 0, 0, 0)
    corner = plan_tile(r, r, (0, 10, 95, 100), 8)
    assert corner.pad == (8, 0, 0, 8)


@pytest.mark.parametrize("n,m", [(5, 10), (7, 21), (10, 25), (9, 6), (12, 4), (1, 3)])
def test_nearest_source_is_scikit_image_order_0(n, m):
    from skimage.transform import resize

    from srcnn_plugin._tiling import nearest_source

    idx = resize(np.arange(n, dtype=float)[None], (1, m), order=0, anti_aliasing=False)[0]
    np.testing.assert_array_equal(nearest_source(n, m), idx.astype(int))
