import numpy as np
import pytest

from srcnn_plugin._dtype import output_dtype, value_affine, work_dtype


@pytest.mark.parametrize(
    "dtype,out",
    [
        (np.uint8, np.float64),
        (np.uint16, np.float64),
        (np.int8, np.float64),
        (np.float16, np.float32),
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.dtype(">f4"), np.float32),
        (np.dtype(">f8"), np.float64),
    ],
)
def test_output_dtype(dtype, out):
    assert output_dtype(dtype) == out


def test_value_affine_slope():
    assert value_affine(np.uint16, False)[0] == 1 / 65535
    assert value_affine(np.float32, False)[0] == 1.0


@pytest.mark.parametrize(
    "dtype,wd",
    [
        (np.uint8, np.float32),
        (np.uint16, np.float32),
        (np.int32, np.float64),
        (np.uint32, np.float64),
        (np.float16, np.float32),
        (np.float64, np.float64),
    ],
)
def test_work_dtype_is_exact_for_stored_values(dtype, wd):
    assert work_dtype(dtype) is wd


def test_spike_free_minmax_caps_isolated_pixels_only():
    from srcnn_plugin._dtype import spike_free_minmax

    a = np.full((3, 6, 7), 5.0)
    a[0, 2, 3] = 900.0  # hot, inside
    a[1, 0, 6] = 800.0  # hot, in a corner
    a[2, 5, 0] = -70.0  # dead, on the border
    assert spike_free_minmax(a) == (5.0, 5.0)
    a[1, 3, 3] = a[1, 4, 4] = 40.0  # two diagonal neighbours: structure, kept
    assert spike_free_minmax(a) == (5.0, 40.0)
    a[2, 2, 2], a[2, 2, 1] = 100.0, 5.0 + 0.15 * 95  # a point source: neighbours share light
    assert spike_free_minmax(a) == (5.0, 100.0)
    assert spike_free_minmax(np.array([[1.0, 9.0]])) == (1.0, 9.0)  # too thin to tell


def test_network_range_ignores_only_spikes_that_stick_out():
    from srcnn_plugin._dtype import SPIKE_TOLERANCE, network_range

    lo, hi = network_range([0.0, 0.0], [5000.0, 100 + 50 * SPIKE_TOLERANCE], [0.0] * 2, [100.0] * 2)
    np.testing.assert_array_equal(hi, [100.0, 100 + 50 * SPIKE_TOLERANCE])
    lo, hi = network_range([-900.0], [100.0], [0.0], [100.0])  # a dead pixel far below
    assert (lo[0], hi[0]) == (0.0, 100.0)


def test_spike_free_minmax_equals_the_filtered_image(rng):
    """The shortcut (only pixels above a touching pair's minimum) equals filtering all."""
    from scipy import ndimage as ndi

    from srcnn_plugin._dtype import SPIKE_ISOLATION, spike_free_minmax

    def capped(a):  # every pixel, by the definition
        fp = np.ones((1,) * (a.ndim - 2) + (3, 3), bool)
        fp[..., 1, 1] = False
        top = ndi.grey_dilation(a, footprint=fp, mode="constant", cval=-np.inf)
        bottom = ndi.grey_erosion(a, footprint=fp, mode="constant", cval=np.inf)
        return np.where(a - top > SPIKE_ISOLATION * (a - bottom), top, a).max()

    for k in range(80):
        a = rng.random([(3, 7, 9), (2, 2), (5, 2), (6, 3), (4, 4)][k % 5])
        if k % 3 == 0:
            a = (a * 3).round()  # ties
        if k % 4 == 0:
            a[tuple(rng.integers(0, s) for s in a.shape)] = 50.0
        assert spike_free_minmax(a) == (-capped(-a), capped(a))
        for dtype in (np.uint16, np.int16, np.float32):  # computed in the array's own type
            b = (a * 300).astype(dtype)
            f = b.astype(np.float64)
            assert spike_free_minmax(b) == (-capped(-f), capped(f))


def test_spike_free_range_does_not_depend_on_the_bands(rng):
    """Read in bands (one extra row each side), the range is the whole plane's."""
    from srcnn_plugin._dtype import spike_free_minmax
    from srcnn_plugin._plan import _spike_free_range, _to_work, make_plan

    img = rng.random((2, 23, 17))
    img[0, 7, 3] = 90.0  # hot, on a band's edge row
    img[1, 8, 3] = -40.0  # dead, the first row of the next band
    img[1, 14, 9] = img[1, 15, 9] = 7.0  # structure across a band border
    plan = make_plan(img.shape, img.dtype, (1, 2, 2))
    x = _to_work(img, plan.channel_axis)
    whole = [spike_free_minmax(img)]
    for rows in (1, 2, 5, 8, 100):
        lo, hi, _ = _spike_free_range(x, plan, rows=rows)
        assert (lo[0], hi[0]) == whole[0]


def _wedge(shape, rng, offset=1000.0):
    """Camera-like data (offset, noise) with a zero-filled wedge and a linear fringe."""
    h, w = shape
    img = offset + 300 * rng.random(shape)
    r, c = np.mgrid[:h, :w]
    fill = c < 0.4 * w * (1 - r / h) + 2
    fringe = np.zeros(shape, bool)
    fringe[:, 1:] = fill[:, :-1] & ~fill[:, 1:]
    img[fill] = 0.0
    img[fringe] *= 0.5  # what a linear interpolation leaves at the edge
    return img, fill, fringe


def test_fill_mask_covers_a_zero_fill_and_its_fringe_only(rng):
    from scipy import ndimage as ndi

    from srcnn_plugin._dtype import FILL_MARGIN, fill_mask

    img, fill, fringe = _wedge((40, 50), rng)
    mask = fill_mask(img.astype(np.uint16), 0)
    assert mask[fill].all() and mask[fringe].all()
    near = ndi.binary_dilation(fill, np.ones((3, 3)), iterations=FILL_MARGIN + 1)
    assert not mask[~near].any()
    # Dark noisy data at its minimum forms no flat block; nor does one dead pixel.
    dark = rng.poisson(0.7, (60, 60)).astype(np.uint8)
    assert fill_mask(dark, 0) is None
    assert fill_mask(img, img.max()) is None


def test_spike_free_range_leaves_out_fill_in_any_bands(rng):
    """The fill (and its fringe) is left out of the range, the same in any bands."""
    from srcnn_plugin._dtype import fill_mask, fill_values, spike_free_minmax
    from srcnn_plugin._plan import _spike_free_range, _to_work, make_plan

    img = np.stack([_wedge((23, 17), rng)[0] for _ in range(2)])
    img[1, 12, 14] = 9000.0  # a hot pixel as well
    plan = make_plan(img.shape, img.dtype, (1, 2, 2))
    x = _to_work(img, plan.channel_axis)
    fills = fill_values([img.min()], [img.max()])
    whole = spike_free_minmax(img, exclude=fill_mask(img, 0.0))
    assert whole[0] >= 1000.0 and whole[1] < 1300.0
    for rows in (1, 2, 5, 8, 100):
        lo, hi, found = _spike_free_range(x, plan, fills, rows=rows)
        assert (lo[0], hi[0]) == whole
        assert found.tolist() == [[True, False]]


def test_all_fill_keeps_the_full_range():
    from srcnn_plugin._dtype import network_range, spike_free_minmax

    a = np.zeros((6, 6))
    lo_free, hi_free = spike_free_minmax(a, exclude=a == 0)
    assert (lo_free, hi_free) == (np.inf, -np.inf)
    lo, hi = network_range([0.0], [0.0], [lo_free], [hi_free])
    assert (lo[0], hi[0]) == (0.0, 0.0)


def test_fill_mask_compares_in_the_arrays_type():
    """Values the type cannot hold have no fill (no error); others compare exactly."""
    from srcnn_plugin._dtype import fill_mask

    z = np.zeros((8, 8), np.uint8)
    assert fill_mask(z, 300.0) is None and fill_mask(z, 0.5) is None
    assert fill_mask(z, np.nan) is None
    assert fill_mask(z.astype(np.int16) - 7, -7.0).all()
    assert fill_mask(np.full((8, 8), 0.1, np.float32), 0.1) is None  # 0.1 is not a float32
    assert fill_mask(np.full((8, 8), 0.1, np.float32), float(np.float32(0.1))).all()


def test_fill_mask_is_the_grown_erosion(rng):
    """The fill mask equals a 5x5 erosion (beyond the border: fill) grown by the margin."""
    from scipy import ndimage as ndi

    from srcnn_plugin._dtype import FILL_BLOCK, FILL_MARGIN, fill_mask

    for k in range(30):
        a = (rng.random([(12, 15), (2, 9, 11), (6, 30)][k % 3]) * 1.6).astype(np.uint8)
        lead = (1,) * (a.ndim - 2)
        core = ndi.minimum_filter(a == 0, size=lead + (FILL_BLOCK,) * 2, mode="constant", cval=1)
        grown = ndi.maximum_filter(
            core, size=lead + (FILL_BLOCK + 2 * FILL_MARGIN,) * 2, mode="constant"
        )
        mask = fill_mask(a, 0)
        assert np.array_equal(np.zeros(a.shape, bool) if mask is None else mask, grown)


def test_fill_no_data_continues_the_data_and_is_local(rng):
    from srcnn_plugin._dtype import NO_DATA_REACH, fill_no_data

    x = rng.random((40, 50, 2))
    x[5:25, 10:30, 0] = np.nan
    x[..., 1][rng.random((40, 50)) < 0.05] = np.nan  # specks
    whole = fill_no_data(x, (0, 1), [-1.0, -2.0])
    assert not np.isnan(whole).any()
    data = ~np.isnan(x)
    np.testing.assert_array_equal(whole[data], x[data])
    # Specks take their neighbours' mean; the hole's core (deeper than the
    # reach) its channel's minimum, as a flat fill.
    assert whole[..., 1].min() >= np.nanmin(x[..., 1])
    core = (
        slice(5 + NO_DATA_REACH, 25 - NO_DATA_REACH),
        slice(10 + NO_DATA_REACH, 30 - NO_DATA_REACH),
    )
    assert (whole[core + (0,)] == -1.0).all()
    ring = whole[5, 10:30, 0]
    assert ring.min() >= np.nanmin(x[..., 0]) and ring.max() <= np.nanmax(x[..., 0])
    # Blocks with the reach as overlap give the whole result.
    r = NO_DATA_REACH
    part = fill_no_data(x[: 20 + r], (0, 1), [-1.0, -2.0])[:20]
    np.testing.assert_array_equal(part, whole[:20])
    np.testing.assert_array_equal(fill_no_data(x[20 - r :], (0, 1), [-1.0, -2.0])[r:], whole[20:])


def test_fill_no_data_in_bands_is_the_whole_fill(rng, monkeypatch):
    import srcnn_plugin._dtype as dtype

    x = rng.random((2, 37, 30, 1)).astype(np.float32)
    x[0, 5:20, 4:12] = np.nan
    x[1, 30:, :] = np.nan
    x[1, 11, 7] = np.nan
    whole = dtype._fill_band(x, (1, 2), [0.5])
    monkeypatch.setattr(dtype, "_FILL_BAND", 8)
    banded = dtype.fill_no_data(x, (1, 2), [0.5])
    assert banded.dtype == np.float32 and not np.isnan(banded).any()
    np.testing.assert_array_equal(banded, whole)
