import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage as ndi
from skimage import transform

from srcnn_plugin import explain, rescale
from srcnn_plugin._imresize import imresize


@pytest.mark.parametrize(
    "shape,scale,channel_axis",
    [
        ((20, 30), 2, None),
        ((20, 30), 2.5, None),
        ((20, 30), (1, 3), None),
        ((21, 17), 1.5, None),
        ((4, 20, 30), (1, 2, 2), None),
        ((20, 30, 3), 2, -1),
        ((2, 20, 30), 3, 0),
        ((5, 12, 14), 2, None),
        ((20, 30), 0.5, None),
        ((20, 30), (0.5, 2), None),
        ((40,), 2, None),
        ((1, 1), 3, None),
    ],
)
def test_shape_matches_skimage(shape, scale, channel_axis):
    img = np.random.default_rng(0).random(shape).astype(np.float32)
    ref = transform.rescale(img, scale, channel_axis=channel_axis)
    assert rescale(img, scale, channel_axis=channel_axis).shape == ref.shape


@pytest.mark.parametrize(
    "dtype,expected",
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.float16, np.float32),
        (np.uint8, np.float64),
        (np.uint16, np.float64),
        (np.int16, np.float64),
        (np.int32, np.float64),
    ],
)
def test_output_dtype_like_skimage(dtype, expected):
    img = (np.random.default_rng(1).random((16, 16)) * 100).astype(dtype)
    out = rescale(img, 2)
    assert out.dtype == expected
    assert transform.rescale(img, 2).dtype == expected


def test_integer_range_scaling(natural):
    img16 = np.round(natural * 4095).astype(np.uint16)  # 12-bit in uint16
    out = rescale(img16, 2)
    assert 0 <= out.min() and out.max() <= 4095 / 65535 + 1e-12
    kept = rescale(img16, 2, preserve_range=True)
    assert_allclose(kept / 65535, out, rtol=1e-6, atol=1e-9)
    assert kept.max() <= 4095 and kept.min() >= 0


@pytest.mark.parametrize("a,b", [(1000.0, 37.0), (0.01, -5.0), (4095.0, 0.0)])
def test_intensity_equivariance(natural, a, b):
    x = natural[:96, :96]
    ref = rescale(x, 2)
    out = rescale(a * x + b, 2)
    err = np.abs(out - (a * ref + b)).max() / (a * np.abs(ref).max())
    assert err <= 1e-4


def test_negative_valued_float_image(natural):
    x = natural[:64, :64].astype(np.float32) - 0.7
    out = rescale(x, 2)
    assert out.min() >= x.min() and out.max() <= x.max()


@pytest.mark.parametrize("fixture", ["natural", "cells"])
def test_mean_intensity_preserved(request, fixture):
    img = request.getfixturevalue(fixture)
    out = rescale(img, 2)
    assert abs(out.mean() - img.mean()) / img.mean() < 0.005


@pytest.mark.parametrize("scale", [2, 3, 2.5])
def test_centroid_on_skimage_grid(scale):
    yy, xx = np.mgrid[:48, :48]
    cy, cx = 20.3, 25.7
    spot = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 2.0**2))
    out = rescale(spot, scale)
    s = out.shape[0] / 48
    oy, ox = np.mgrid[: out.shape[0], : out.shape[1]]
    my, mx = (out * oy).sum() / out.sum(), (out * ox).sum() / out.sum()
    assert abs((my + 0.5) / s - 0.5 - cy) < 0.02
    assert abs((mx + 0.5) / s - 0.5 - cx) < 0.02


def test_symmetric_option(natural):
    x = natural[:64, :64]
    fast = rescale(x, 2, symmetric=False)
    sym = rescale(x, 2)
    assert fast.shape == sym.shape
    assert 0 < np.abs(fast - sym).max() < 0.05
    # point reflection commutes exactly with the symmetric network
    assert_allclose(rescale(x[::-1, ::-1], 2)[::-1, ::-1], sym, atol=1e-6)


@pytest.mark.slow
def test_tiled_equals_untiled(natural):
    x = natural.astype(np.float32)
    whole = rescale(x, 2, tile_size=4096)
    for tile in (37, 64, 200):
        assert np.abs(rescale(x, 2, tile_size=tile) - whole).max() <= 1e-5


def test_tiled_equals_untiled_fractional(natural):
    x = natural[:100, :90].astype(np.float32)
    assert np.abs(rescale(x, 2.5, tile_size=50) - rescale(x, 2.5)).max() <= 1e-5


def test_input_untouched_and_odd_layouts(natural, tmp_path):
    x = natural[:64, :64].copy()
    before = x.copy()
    ref = rescale(x, 2)
    assert_array_equal(x, before)
    ro = x.copy()
    ro.setflags(write=False)
    assert_array_equal(rescale(ro, 2), ref)
    big = np.zeros((128, 128))
    big[::2, ::2] = x
    assert_array_equal(rescale(big[::2, ::2], 2), ref)
    assert_allclose(rescale(x.astype(">f8"), 2), ref)
    mm = np.lib.format.open_memmap(tmp_path / "m.npy", mode="w+", dtype=np.float64, shape=x.shape)
    mm[:] = x
    mm.flush()
    assert_array_equal(rescale(np.load(tmp_path / "m.npy", mmap_mode="r"), 2), ref)


def test_deterministic(natural):
    x = natural[:80, :80]
    assert_array_equal(rescale(x, 3), rescale(x, 3))


def test_thread_safe(natural):
    x = natural[:64, :64]
    ref = rescale(x, 2)
    results = [None] * 4

    def work(i):
        results[i] = rescale(x, 2)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert_array_equal(r, ref)


def test_channels_processed_independently(natural):
    a, b = natural[:64, :64], natural[64:128, 64:128]
    stack = np.stack([a, b * 40 + 3], axis=-1)
    out = rescale(stack, 2, channel_axis=-1, clip=False)
    assert_allclose(out[..., 0], rescale(a, 2, clip=False), atol=1e-12)
    assert_allclose(out[..., 1], rescale(b * 40 + 3, 2, clip=False), atol=1e-9)


def test_stack_axes_plane_by_plane(natural):
    vol = np.stack([natural[:48, :48], natural[48:96, :48]])
    # The measured noise level is one per channel for the whole stack; with a stated
    # level (0 here) a plane of a stack is exactly that plane alone.
    out = rescale(vol, (1, 2, 2), noise=0)
    assert out.shape == (2, 96, 96)
    assert_allclose(out[1], rescale(vol[1], 2, noise=0), atol=1e-12)


def test_stack_planes_share_their_channels_range(natural):
    # A dim plane (a deep Z slice, a bleached frame) is normalised with its stack,
    # so equal intensities mean the same to the network in every plane.
    img = (natural[:48, :48] * 4000 + 100).astype(np.uint16)
    vol = np.stack([img, (img // 4).astype(np.uint16)])
    (channel,) = explain(vol, (1, 2, 2))["channels"]
    assert channel["range"] == [float(vol.min()), float(vol.max())]
    (alone,) = explain(vol[1], 2)["channels"]
    assert alone["range"] == [float(vol[1].min()), float(vol[1].max())]


def test_volume_scalar_scale_not_worse_than_skimage_order3(natural):
    from skimage.metrics import peak_signal_noise_ratio as psnr

    hr = np.stack([np.roll(natural[:96, :96], k, axis=0) for k in range(16)])
    lr = transform.resize(hr, (8, 48, 48), order=3, anti_aliasing=True)
    ours = rescale(lr, 2)
    ref = transform.rescale(lr, 2, order=3)
    assert ours.shape == ref.shape == hr.shape
    assert psnr(hr, ours, data_range=1) >= psnr(hr, ref, data_range=1)


def test_downscale_like_skimage(natural):
    out = rescale(natural, 0.5)
    ref = transform.rescale(natural, 0.5, order=3, anti_aliasing=True, mode="reflect")
    assert_allclose(out, np.clip(ref, natural.min(), natural.max()), atol=1e-6)


def test_scale_one_is_identity(natural):
    assert_allclose(rescale(natural, 1), natural)


def test_constant_image_stays_constant():
    out = rescale(np.full((20, 20), 7, np.uint16), 2, preserve_range=True, clip=False)
    assert_allclose(out, 7)


def test_ycbcr_mode_and_alpha(natural):
    rgb = np.stack([natural, natural**2, np.sqrt(natural)], -1)[:64, :64]
    rgba = np.concatenate([rgb, np.linspace(0, 1, 64 * 64).reshape(64, 64, 1)], -1)
    out = rescale(rgba, 2, channel_axis=-1, color_mode="ycbcr")
    assert out.shape == (128, 128, 4)
    alpha = np.clip(imresize(rgba[..., 3], 2), 0, 1)
    assert_allclose(out[..., 3], alpha, atol=1e-6)
    with pytest.raises(ValueError, match="RGB or RGBA"):
        rescale(natural, 2, color_mode="ycbcr")


def test_clip_false_can_overshoot():
    img = np.zeros((32, 32))
    img[:, 16:] = 1
    assert rescale(img, 3, clip=False).max() > 1
    assert rescale(img, 3).max() <= 1


def test_progress_callback(natural):
    calls = []
    rescale(natural, 2, tile_size=128, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (16, 16)


@pytest.mark.parametrize(
    "bad,exc,match",
    [
        (np.zeros((4, 4), complex), TypeError, "Complex"),
        (np.zeros((0, 4)), ValueError, "empty"),
        (np.array(3.0), ValueError, "scalar"),
        (np.array([[1.0, np.inf], [0, 0]]), ValueError, "infinite values.*NaN"),
        (np.array([["a"]]), TypeError, "not numeric"),
    ],
)
def test_bad_images(bad, exc, match):
    with pytest.raises(exc, match=match):
        rescale(bad, 2)


def _smooth(rng, shape=(64, 72)):
    return ndi.gaussian_filter(rng.random(shape), 2.0).astype(np.float32)


def _holes(shape=(64, 72)):
    nan = np.zeros(shape, bool)
    nan[20:32, 30:44] = True  # a hole
    nan[5, 60] = nan[50, 10] = nan[51, 10] = True  # specks
    nan[:, :3] = True  # a strip along the border
    return nan


def test_nan_is_no_data_and_keeps_its_place(rng):
    clean = _smooth(rng)
    nan = _holes()
    img = np.where(nan, np.nan, clean)
    before = img.copy()
    out = rescale(img, 2, noise=0.01)
    assert out.dtype == np.float32
    assert_array_equal(np.isnan(out), np.kron(nan, np.ones((2, 2), bool)))  # no spread
    assert_array_equal(img, before)  # the caller's image is not filled
    # The image without holes, over the same range (the data's).
    ref = rescale(np.clip(clean, clean[~nan].min(), clean[~nan].max()), 2, noise=0.01)
    far = ndi.binary_dilation(np.kron(nan, np.ones((2, 2), bool)), iterations=24)
    assert_allclose(out[~far], ref[~far], atol=1e-6)  # the range is the data's
    # Next to a hole the data is continued, not pulled to a fill value: the
    # ring around it stays close to the image without a hole, where zeros
    # (np.nan_to_num) darken it.
    ring = ndi.binary_dilation(np.kron(nan, np.ones((2, 2), bool)), iterations=2) & ~np.isnan(out)
    span = float(clean.max() - clean.min())
    zeros = rescale(np.nan_to_num(img), 2, noise=0.01)
    assert np.abs(out[ring] - ref[ring]).mean() < 0.02 * span
    assert np.abs(zeros[ring] - ref[ring]).mean() > 3 * np.abs(out[ring] - ref[ring]).mean()


def test_nan_in_stacks_channels_and_the_record(rng):
    clean = np.stack([_smooth(rng, (4, 40, 40)), _smooth(rng, (4, 40, 40))], axis=-1)
    img = clean.astype(np.float64)
    img[1, 10:20, 10:20, 0] = np.nan
    img[..., 1] = np.nan  # a channel without data
    out = rescale(img, (2, 2, 2), channel_axis=-1, preserve_range=True)
    assert out.dtype == np.float64 and out.shape == (8, 80, 80, 2)
    assert np.isnan(out[..., 1]).all()
    hole = np.zeros((8, 80, 80), bool)
    hole[2:4, 20:40, 20:40] = True  # plane 1 of 4 is planes 2-3 of 8 (nearest along Z too)
    assert_array_equal(np.isnan(out[..., 0]), hole)
    info = explain(img, (1, 2, 2), channel_axis=-1)
    shares = [ch["no_data"] for ch in info["channels"]]
    assert shares == pytest.approx([100 / (4 * 40 * 40), 1.0])
    assert "no data" not in str(explain(clean[..., 0], 2))


def test_nan_is_refused_where_it_is_not_taken(rng):
    rgb = rng.random((16, 16, 3))
    rgb[3, 3, 0] = np.nan
    with pytest.raises(ValueError, match="color_mode='channels'"):
        rescale(rgb, 2, channel_axis=-1, color_mode="ycbcr")


@pytest.mark.parametrize(
    "scale,match",
    [
        (0, "> 0"),
        (-1, "> 0"),
        (np.nan, "finite"),
        ((1, 2, 3), "one value per spatial axis"),
        ("x", "number"),
    ],
)
def test_bad_scales(scale, match):
    with pytest.raises((ValueError, TypeError), match=match):
        rescale(np.zeros((4, 4)), scale)


def test_bad_options():
    img = np.zeros((8, 8))
    with pytest.raises(ValueError, match="channel_axis=2 is out of range"):
        rescale(img, 2, channel_axis=2)
    with pytest.raises(ValueError, match="Unknown model"):
        rescale(img + np.eye(8), 2, model="nope")
    with pytest.raises(ValueError, match="Unknown device"):
        rescale(img + np.eye(8), 2, device="tpu")
    with pytest.raises(ValueError, match="bfloat16"):
        rescale(img + np.eye(8), 2, device="cpu", precision="float16")
    with pytest.raises(ValueError, match="tile_size"):
        rescale(img + np.eye(8), 2, tile_size=0)
    with pytest.raises(ValueError, match="color_mode"):
        rescale(img, 2, color_mode="lab")


def test_bfloat16_close_to_float32_or_falls_back(natural):
    from srcnn_plugin._engine import cpu_has_bf16

    a = rescale(natural[:64, :64], 2, precision="float32", device="cpu")
    if cpu_has_bf16():
        b = rescale(natural[:64, :64], 2, precision="bfloat16", device="cpu")
        assert np.abs(a - b).max() < 0.02
    else:
        with pytest.warns(RuntimeWarning, match="no native bfloat16"):
            b = rescale(natural[:64, :64], 2, precision="bfloat16", device="cpu")
        assert_array_equal(a, b)


def test_bfloat16_arithmetic_on_cpu_is_close(natural, monkeypatch):
    """The CPU bf16 path itself, forced on (emulated where the CPU lacks bf16: same numbers)."""
    monkeypatch.setattr("srcnn_plugin._engine.cpu_has_bf16", lambda: True)
    a = rescale(natural[:48, :48], 2, device="cpu")
    b = rescale(natural[:48, :48], 2, precision="bfloat16", device="cpu")
    assert not np.array_equal(a, b)  # it really ran in bf16
    assert np.abs(a - b).max() < 0.02
    assert 10 * np.log10(1 / np.mean((a - b) ** 2)) > 45


# --- property-based: shapes, dtypes and scales -----------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_DTYPES = [np.uint8, np.uint16, np.int16, np.float16, np.float32, np.float64]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.tuples(st.integers(1, 24), st.integers(1, 24)),
    dtype=st.sampled_from(_DTYPES),
    scale=st.one_of(
        st.floats(0.3, 4.0),
        st.tuples(st.floats(1.0, 4.0), st.floats(1.0, 4.0)),
    ),
    seed=st.integers(0, 2**16),
)
def test_property_shape_dtype_range(shape, dtype, scale, seed):
    rng = np.random.default_rng(seed)
    img = (rng.random(shape) * 100).astype(dtype)
    out = rescale(img, scale, preserve_range=True)
    ref = transform.rescale(img.astype(np.float64), scale, preserve_range=True)
    assert out.shape == ref.shape
    assert out.dtype == transform.rescale(img, 1.0).dtype
    assert np.all(np.isfinite(out))
    lo, hi = float(img.min()), float(img.max())
    tol = 1e-3 * max(hi - lo, 1)
    assert out.min() >= lo - tol and out.max() <= hi + tol


def test_ensemble_of_eight_is_equivariant_to_rotations_and_mirrors(rng):
    x = rng.random((20, 26))
    y = rescale(x, 2, ensemble=8)
    np.testing.assert_allclose(rescale(np.rot90(x), 2, ensemble=8), np.rot90(y), atol=1e-6)
    np.testing.assert_allclose(rescale(x[:, ::-1], 2, ensemble=8), y[:, ::-1], atol=1e-6)
    assert np.array_equal(rescale(x, 2, ensemble=2), rescale(x, 2))
    assert np.array_equal(rescale(x, 2, ensemble=1), rescale(x, 2, symmetric=False))
    with pytest.raises(ValueError, match="ensemble must be one of"):
        rescale(x, 2, ensemble=4)


@pytest.mark.parametrize(
    "model,dtype", [("paper", np.float64), (None, np.float64), (None, np.uint16)]
)
def test_a_hot_pixel_leaves_the_rest_of_the_image_alone(cells, model, dtype):
    """A hot pixel at 20x the range no longer squeezes the contrast the network sees.

    Away from it the result is the clean image's; the pixel itself comes
    through (bicubic-upsampled), not clipped away. A dead pixel (0) too.
    """
    # A near-plateau at the top: a checkerboard of one count keeps it from being flat
    # (a flat one at the maximum is a saturated plateau, one at the minimum a fill;
    # both are tested below).
    img = np.minimum(cells, np.quantile(cells, 0.99)) * 2000 + 600
    img = np.round(img) + np.indices(img.shape).sum(axis=0) % 2
    img = img.astype(dtype)
    hot = img.copy()
    hot[50, 60] = 20 * img.max()
    hot[52, 58] = 0
    # clip=False: with clipping the clean image's result stops at its own maximum.
    clean, out = (rescale(a, 2, model=model, clip=False, preserve_range=True) for a in (img, hot))
    far = np.ones(clean.shape, bool)
    far[100 - 24 : 100 + 26, 120 - 24 : 120 + 26] = False
    span = img.max() - img.min()
    # The default model measures the noise, which the one pixel moves a little.
    tol = 1e-9 if model == "paper" else 2e-4
    np.testing.assert_allclose(out[far], clean[far], atol=tol * span)
    assert out[100:102, 120:122].min() > 5 * img.max()


def test_images_without_spikes_keep_their_range(natural, rng):
    from srcnn_plugin._job import prepare_job
    from srcnn_plugin._options import Options
    from srcnn_plugin._plan import _mixed_minmax, _to_work, make_plan

    img = natural + rng.normal(0, 0.03, natural.shape)  # noise peaks are not spikes
    plan = make_plan(img.shape, img.dtype, 2)
    x = _to_work(img, plan.channel_axis)
    lo0, hi0 = _mixed_minmax(x, None)
    job = prepare_job(plan, x, lo0, hi0, _mixed_minmax, Options())
    assert job.narrowed == (False,)
    np.testing.assert_array_equal(job.lo, lo0)
    np.testing.assert_array_equal(job.lo + job.span, hi0)


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_a_zero_fill_leaves_the_data_alone(cells, dtype):
    """A zero-filled wedge (registration, deskewing) neither squeezes nor rings.

    Data with a camera offset, or (float) noise around zero: away from the
    fill the result is the one without it; where every bicubic tap is fill
    the result is exactly 0, and it never goes below the data's floor.
    """
    rng = np.random.default_rng(3)
    if dtype == np.uint16:
        img = np.round(cells * 3000 + 2000 + rng.normal(0, 20, cells.shape))
    else:
        img = cells - cells.mean() + rng.normal(0, 0.02, cells.shape)
    img = img.astype(dtype)
    h, w = img.shape
    r, c = np.mgrid[:h, :w]
    fill = (c < 0.3 * w * (1 - r / h) + 4) | (r < 6)
    filled = np.where(fill, 0, img).astype(dtype)
    clean, out = (rescale(a, 2, preserve_range=True) for a in (img, filled))
    near = ndi.binary_dilation(ndi.zoom(fill, 2, order=0), iterations=24)
    span = float(img.max() - img.min())
    # The noise is measured on other pixels (the fill's are left out): a little apart.
    np.testing.assert_allclose(out[~near], clean[~near], atol=0.01 * span)
    square = np.ones((3, 3), bool)
    inside = ndi.binary_erosion(ndi.zoom(fill, 2, order=0), square, iterations=4, border_value=1)
    assert (out[inside] == 0).all()
    assert out.min() >= min(img.min(), 0)


def test_explain_reports_what_rescale_tells_the_network(cells):
    """The record: model, ranges (hot pixel and fill left out), fill, measured noise."""
    from srcnn_plugin import explain

    rng = np.random.default_rng(7)
    img = np.round(cells * 3000 + 2000 + rng.normal(0, 25, cells.shape)).astype(np.uint16)
    img[:, :40] = 0  # a zero-filled border
    img[100, 150] = 60000  # a hot pixel
    info = explain(img, 2)
    assert info["super_resolved"] and info["model"] == "srcnn-acq-9-5-5-x2"
    assert info["passes"] == 2 and info["factor"] == 2.0 and info["psf_sigma"] == 0.0
    (ch,) = info["channels"]
    assert ch["full_range"] == [0.0, 60000.0] and ch["fill"] == [0.0]
    assert 1900 < ch["range"][0] and ch["range"][1] < 5100
    assert 20 < ch["noise"] < 40  # the level the model is told, before its calibration
    # Stating the measured level reproduces the automatic result.
    assert_allclose(rescale(img, 2, noise=ch["noise"]), rescale(img, 2), rtol=1e-6, atol=1e-9)
    shot = explain(img, 2, noise="poisson")["channels"][0]["noise"]
    assert len(shot) == 2 and shot[0] >= 0
    assert explain(img, 2, model="paper")["channels"][0].get("noise") is None
    assert explain(img, (2, 1))["factor"] == 2.0
    assert not explain(np.zeros(8), 2)["super_resolved"]
    with pytest.raises(ValueError, match="explain does not adapt"):
        explain(img, 2, adapt=True)
    with pytest.raises(TypeError, match="Unknown option"):
        explain(img, 2, preserve_range=True)


def test_explain_of_dask_equals_numpy(cells):
    da = pytest.importorskip("dask.array")
    from srcnn_plugin import explain
    from srcnn_plugin._options import Options
    from srcnn_plugin._rescale import rescale_with

    img = (cells * 1000).astype(np.uint16)
    img[:50] = 0
    lazy = da.from_array(img, chunks=64)
    assert explain(lazy, 2) == explain(img, 2)
    for arr in (img, lazy):  # a run records the same, from its own statistics
        record = {}
        rescale_with(arr, 2, Options(), record=record)
        assert record == explain(img, 2)


@pytest.mark.parametrize("lazy", [False, True])
def test_a_saturated_plateau_stays_saturated_and_in_the_range(lazy):
    """A flat region at the maximum is data (the range keeps it) and stays exactly there."""
    rng = np.random.default_rng(0)
    img = np.clip(np.round(1000 + 300 * rng.random((96, 96))), 0, 4095).astype(np.uint16)
    img[30:70, 30:70] = 4095  # over-exposed
    arr = img
    if lazy:
        arr = pytest.importorskip("dask.array").from_array(img, chunks=40)
    out = rescale(arr, 2, preserve_range=True)
    out = np.asarray(out)
    assert (out[66:134, 66:134] == 4095).all()  # every bicubic tap saturated
    from srcnn_plugin import explain

    (ch,) = explain(arr, 2)["channels"]
    assert ch["saturated"] and ch["fill"] == [] and ch["range"] == [1000.0, 4095.0]
