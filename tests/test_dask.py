import numpy as np
import pytest
from numpy.testing import assert_array_equal

from srcnn_plugin import rescale

da = pytest.importorskip("dask.array")


@pytest.mark.parametrize(
    "shape,chunks,scale,kw",
    [
        ((70, 90), (30, 40), 2, {"tile_size": 64}),
        ((70, 90), (70, 90), 2.5, {}),
        ((3, 50, 60), (1, 20, 25), (1, 3, 3), {"tile_size": 48}),
        ((50, 60, 3), (20, 20, 3), 2, {"channel_axis": -1, "color_mode": "ycbcr", "tile_size": 40}),
        ((6, 40, 40), (3, 20, 20), 2, {"tile_size": 32}),
    ],
)
def test_lazy_and_equal_to_numpy(rng, shape, chunks, scale, kw):
    img = rng.random(shape).astype(np.float32)
    lazy = rescale(da.from_array(img, chunks=chunks), scale, **kw)
    assert isinstance(lazy, da.Array)
    ref = rescale(img, scale, **kw)
    assert lazy.shape == ref.shape and lazy.dtype == ref.dtype
    assert_array_equal(lazy.compute(), ref)


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize("kind", ["fill", "saturated", "hot"])
def test_lazy_equals_numpy_with_thin_blocks(rng, kind, dtype):
    """What the range pass finds (fill, plateau, spike) near thin last blocks (4 and 3
    pixels): lazy == numpy, at an integer and a fractional factor."""
    img = 0.4 + 0.2 * rng.random((30, 37))
    if kind == "fill":
        img[:, :8] = 0
    elif kind == "saturated":
        img[10:20, 24:] = 1.0
    else:
        img[28, 35] = 10.0
    img = (img * 4000).astype(dtype)
    lazy = da.from_array(img, chunks=(13, 17))
    for scale in (2, 2.5):
        ref = rescale(img, scale, preserve_range=True)
        assert_array_equal(rescale(lazy, scale, preserve_range=True).compute(), ref)


def test_uint16_preserve_range(rng):
    img = rng.integers(0, 4096, (40, 50), dtype=np.uint16)
    lazy = rescale(da.from_array(img, chunks=20), 2, preserve_range=True, tile_size=32)
    assert_array_equal(lazy.compute(), rescale(img, 2, preserve_range=True, tile_size=32))


def test_nan_is_no_data_as_in_numpy(rng):
    from scipy import ndimage as ndi

    img = ndi.gaussian_filter(rng.random((48, 52)), 2.0)
    img[10:30, 18:27] = np.nan  # across chunk boundaries
    img[40, 3] = np.nan
    lazy = rescale(da.from_array(img, chunks=(20, 13)), 2, tile_size=32)
    assert_array_equal(lazy.compute(), rescale(img, 2, tile_size=32))
    assert np.isnan(lazy.compute()).sum() == 4 * np.isnan(img).sum()
    channels = np.stack([img, img[::-1], np.full_like(img, np.nan)])  # one without data
    lazy = rescale(da.from_array(channels, chunks=(1, 20, 20)), 2, channel_axis=0)
    assert_array_equal(lazy.compute(), rescale(channels, 2, channel_axis=0))


def test_infinity_detected_up_front():
    img = np.zeros((20, 20))
    img[3, 3] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        rescale(da.from_array(img, chunks=10), 2)


@pytest.mark.slow
def test_runs_on_distributed_cluster(rng):
    distributed = pytest.importorskip("distributed")
    img = rng.random((60, 60)).astype(np.float32)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        lazy = rescale(da.from_array(img, chunks=30), 2, tile_size=40)
        out = client.compute(lazy).result()
    assert_array_equal(out, rescale(img, 2, tile_size=40))


def test_hot_pixels_on_block_borders(rng):
    """The spike-free range sees across blocks: lazy == numpy with spikes at block edges."""
    img = rng.random((2, 60, 70)).astype(np.float32)
    img[0, 19, 34] = 40.0  # the last row and column of a block
    img[1, 20, 35] = -30.0  # the first of the next
    img[1, 59, 0] = 25.0  # the array's corner
    lazy = rescale(da.from_array(img, chunks=(1, 20, 35)), (1, 2, 2), tile_size=48)
    assert_array_equal(lazy.compute(), rescale(img, (1, 2, 2), tile_size=48))


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_fill_across_blocks_equals_numpy(rng, dtype):
    """Zero fill crossing block borders: lazy == numpy (range, noise and exact fill)."""
    img = 1000 + 300 * rng.random((2, 60, 70))
    if dtype == np.float32:
        img = rng.normal(0.0, 50.0, img.shape)  # the fill at 0, inside the noise
    img[:, :25, :33] = 0  # ends 2 pixels past a block border
    img[1, 40:, 60:] = 0  # the array's corner
    img = img.astype(dtype)
    lazy = rescale(da.from_array(img, chunks=(1, 20, 35)), (1, 2, 2), tile_size=48)
    whole = rescale(img, (1, 2, 2), tile_size=48)
    assert_array_equal(lazy.compute(), whole)
    assert (whole[:, :44, :60] == 0).all()


@pytest.mark.parametrize("shape, chunks", [((70, 83), (31, 40)), ((1, 40), (1, 5))])
def test_blocks_thinner_than_the_fill_reach(rng, shape, chunks):
    """Blocks of a few pixels (83 = 40 + 40 + 3) are merged for the fill masks and the
    range pass alike, an image of one row needs no overlap; lazy == numpy."""
    img = (1000 + 300 * rng.random(shape)).astype(np.uint16)
    img[:, :20] = 0
    lazy = rescale(da.from_array(img, chunks=chunks), 2, preserve_range=True)
    assert_array_equal(lazy.compute(), rescale(img, 2, preserve_range=True))
