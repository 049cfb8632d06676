"""Every face gives rescale's result, bit for bit, for the same request and defaults.

The faces (Upscaler, the CLI, the OpenCV face, the napari layer function) only
parse, call the one engine and format; these tests hold them to it, for
per-axis scales, float16 input and RGB.
"""

import numpy as np
import pytest
import tifffile
from numpy.testing import assert_array_equal

from srcnn_plugin import Upscaler, rescale
from srcnn_plugin._dtype import restore_dtype
from srcnn_plugin.cli import main
from srcnn_plugin.degradations import PoissonGaussian


@pytest.fixture
def vol(rng):
    return (rng.random((3, 20, 24)) * 4000).astype(np.uint16)


@pytest.mark.parametrize("scale", [2, 3, (4, 2, 2), (1, 2.5, 2.5)])
def test_upscaler_equals_rescale(vol, scale):
    assert_array_equal(Upscaler(scale)(vol), rescale(vol, scale))


def test_upscaler_picks_the_model_rescale_picks():
    # The plane of (4, 2, 2) is the last two axes: factor 2, not 4.
    assert Upscaler((4, 2, 2)).model_name == Upscaler(2).model_name
    assert Upscaler(3, model="paper").model_name == "srcnn-9-5-5-x3"


def test_upscaler_float16(rng):
    x = rng.random((16, 18)).astype(np.float16)
    out = Upscaler(2)(x)
    assert out.dtype == np.float32
    assert_array_equal(out, rescale(x, 2))


def test_upscaler_forwards_every_option(rng):
    x = rng.random((16, 18))
    kw = dict(symmetric=False, clip=False, tile_size=8, noise=0)
    assert_array_equal(Upscaler(2, **kw)(x), rescale(x, 2, **kw))


def test_cli_equals_rescale(vol, tmp_path):
    src = tmp_path / "v.tif"
    tifffile.imwrite(src, vol, metadata={"axes": "ZYX"})
    out = tmp_path / "out"
    assert main(["upscale", str(src), "-s", "1", "2", "2", "-o", str(out), "-q"]) == 0
    got = tifffile.imread(out / "v_x2.tif")
    want = restore_dtype(rescale(vol, (1, 2, 2), preserve_range=True), vol.dtype)
    assert_array_equal(got, want)


def test_cli_float16(rng, tmp_path):
    x = rng.random((16, 18)).astype(np.float16)
    tifffile.imwrite(tmp_path / "h.tif", x)
    assert (
        main(["upscale", str(tmp_path / "h.tif"), "-s", "2", "-o", str(tmp_path / "o"), "-q"]) == 0
    )
    got = tifffile.imread(tmp_path / "o" / "h_x2.tif")
    assert got.dtype == np.float16
    assert_array_equal(got, rescale(x, 2, preserve_range=True).astype(np.float16))


def test_opencv_equals_rescale(rng):
    from srcnn_plugin.opencv import DnnSuperResImpl

    bgr = (rng.random((20, 22, 3)) * 255).astype(np.uint8)
    sr = DnnSuperResImpl.create()
    sr.setModel("srcnn", 2)
    rgb = bgr[..., ::-1]
    want = rescale(rgb, 2, channel_axis=-1, preserve_range=True, color_mode="ycbcr")
    assert_array_equal(sr.upsample(bgr), restore_dtype(want, np.uint8)[..., ::-1])
    grey16 = (rng.random((20, 22)) * 4000).astype(np.uint16)
    assert_array_equal(
        sr.upsample(grey16), restore_dtype(rescale(grey16, 2, preserve_range=True), np.uint16)
    )


def test_opencv_float16_keeps_dtype(rng):
    from srcnn_plugin.opencv import resize

    x = rng.random((10, 12)).astype(np.float16)
    out = resize(x, fx=2)
    assert out.dtype == np.float16
    assert_array_equal(out, rescale(x, 2, preserve_range=True).astype(np.float16))


def test_napari_equals_rescale(vol, rng):
    napari = pytest.importorskip("napari")
    from srcnn_plugin._napari._core import upscale_layer

    ((data, _, _),) = upscale_layer(napari.layers.Image(vol), 2)
    want = restore_dtype(rescale(vol, (1, 2, 2), preserve_range=True), vol.dtype)
    assert_array_equal(data, want)
    half = rng.random((12, 14)).astype(np.float16)
    ((data, _, _),) = upscale_layer(napari.layers.Image(half), 2)
    assert data.dtype == np.float16
    assert_array_equal(data, rescale(half, 2, preserve_range=True).astype(np.float16))
    rgb = (rng.random((12, 14, 3)) * 255).astype(np.uint8)
    ((data, _, _),) = upscale_layer(napari.layers.Image(rgb, rgb=True), 2)
    want = rescale(rgb, 2, channel_axis=-1, preserve_range=True, color_mode="ycbcr")
    assert_array_equal(data, restore_dtype(want, np.uint8))


def test_napari_forwards_every_option(rng):
    napari = pytest.importorskip("napari")
    from srcnn_plugin._napari._core import upscale_layer

    x = rng.random((16, 18)).astype(np.float32)
    kw = dict(symmetric=False, clip=False, memory_budget=2**22, noise=0)
    ((data, _, _),) = upscale_layer(napari.layers.Image(x), 2, **kw)
    assert_array_equal(data, rescale(x, 2, preserve_range=True, **kw))


def test_cli_rgb_png_equals_rescale(rng, tmp_path):
    import imageio.v3 as iio

    rgb = (rng.random((20, 22, 3)) * 255).astype(np.uint8)
    iio.imwrite(tmp_path / "c.png", rgb)
    assert (
        main(["upscale", str(tmp_path / "c.png"), "-s", "2", "-o", str(tmp_path / "o"), "-q"]) == 0
    )
    want = rescale(rgb, 2, channel_axis=-1, preserve_range=True, color_mode="ycbcr")
    assert_array_equal(iio.imread(tmp_path / "o" / "c_x2.png"), restore_dtype(want, np.uint8))


def test_upscaler_rgb_equals_rescale(rng):
    rgb = rng.random((16, 18, 3)).astype(np.float32)
    kw = dict(channel_axis=-1, color_mode="ycbcr")
    assert_array_equal(Upscaler(2, **kw)(rgb), rescale(rgb, 2, **kw))


def test_opencv_resize_forwards_every_option(rng):
    from srcnn_plugin.opencv import resize

    x = (rng.random((12, 14)) * 255).astype(np.uint8)
    kw = dict(noise=0, psf_sigma=1.0, ensemble=8)
    want = restore_dtype(rescale(x, 2, preserve_range=True, **kw), np.uint8)
    assert_array_equal(resize(x, fx=2, **kw), want)


def test_shot_noise_option_reaches_every_face(rng, tmp_path):
    """``noise='poisson'`` means the same in rescale, Upscaler, OpenCV and the CLI."""
    from srcnn_plugin.opencv import resize

    x = rng.poisson(200 * rng.random((20, 24))).astype(np.uint16)
    want = rescale(x, 2, preserve_range=True, noise="poisson")
    assert not np.allclose(want, rescale(x, 2, preserve_range=True))
    assert_array_equal(Upscaler(2, preserve_range=True, noise="poisson")(x), want)
    assert_array_equal(resize(x, fx=2, noise="poisson"), restore_dtype(want, np.uint16))
    tifffile.imwrite(tmp_path / "shot.tif", x)
    argv = ["upscale", str(tmp_path / "shot.tif"), "-s", "2", "-o", str(tmp_path / "o"), "-q"]
    assert main([*argv, "--noise", "poisson"]) == 0
    got = tifffile.imread(tmp_path / "o" / "shot_x2.tif")
    assert_array_equal(got, restore_dtype(want, np.uint16))
    stated = rescale(x, 2, preserve_range=True, noise=PoissonGaussian(2.0, 10.0, 1.5))
    assert main([*argv, "--noise", "poisson:2,10,1.5", "--overwrite"]) == 0
    got = tifffile.imread(tmp_path / "o" / "shot_x2.tif")
    assert_array_equal(got, restore_dtype(stated, np.uint16))


def test_every_face_explains_what_rescale_explains(vol, tmp_path, caplog):
    import logging

    from srcnn_plugin import explain
    from srcnn_plugin._job import describe_line
    from srcnn_plugin.opencv import DnnSuperResImpl

    vol = vol.copy()
    vol[:, :, :6] = 0  # a zero fill, found by every face
    want = explain(vol, (1, 2, 2))
    assert want["channels"][0]["fill"] == [0.0]
    assert Upscaler((1, 2, 2)).explain(vol) == want
    sr = DnnSuperResImpl()
    sr.setModel("srcnn", 2)
    assert sr.explain(vol[0]) == explain(vol[0], 2)
    src = tmp_path / "v.tif"
    tifffile.imwrite(src, vol, metadata={"axes": "ZYX"})
    with caplog.at_level(logging.INFO, logger="srcnn_plugin"):
        assert (
            main(["upscale", str(src), "-s", "1", "2", "2", "-o", str(tmp_path / "o"), "-v"]) == 0
        )
    assert f"v.tif: {describe_line(want)}" in caplog.text
