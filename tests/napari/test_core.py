import numpy as np
import pytest

napari = pytest.importorskip("napari")

from srcnn_plugin._napari._core import overlay_geometry, upscale_layer  # noqa: E402
from srcnn_plugin._napari._sample_data import low_res_cells  # noqa: E402


def _world_of_pixel(layer_scale, layer_translate, idx):
    return [t + i * s for s, t, i in zip(layer_scale, layer_translate, idx)]


def test_geometry_overlays_pixel_centres():
    scale, translate = [0.5, 2.0], [10.0, -3.0]
    f = [1, 3]
    new_s, new_t = overlay_geometry(scale, translate, f)
    # input pixel (4, 7) centre == centre of the middle output pixel (4, 22) of its 3
    assert _world_of_pixel(new_s, new_t, [4, 22]) == pytest.approx(
        _world_of_pixel(scale, translate, [4, 7])
    )


def test_2d_layer(cells):
    img = (cells * 4095).astype(np.uint16)
    layer = napari.layers.Image(
        img,
        scale=(0.2, 0.2),
        translate=(5, 1),
        colormap="magma",
        blending="additive",
        contrast_limits=(100, 3000),
        metadata={"a": 1},
        name="c",
    )
    ((data, kw, kind),) = upscale_layer(layer, 2)
    assert kind == "image" and data.shape == (400, 480) and data.dtype == np.uint16
    assert kw["name"] == "c SRCNN x2"
    assert kw["scale"] == pytest.approx([0.1, 0.1])
    assert kw["translate"] == pytest.approx([4.95, 0.95])
    assert kw["colormap"].name == "magma" and kw["blending"] == "additive"
    assert kw["contrast_limits"] == [100, 3000]
    assert kw["metadata"]["a"] == 1


def test_stack_keeps_other_axes(cells):
    vol = np.stack([cells[:64, :64]] * 3).astype(np.float32)
    layer = napari.layers.Image(vol, scale=(2.0, 0.5, 0.5))
    ((data, kw, _),) = upscale_layer(layer, 2.5)
    assert data.shape == (3, 160, 160) and data.dtype == np.float32
    assert kw["scale"][0] == 2.0 and kw["translate"][0] == 0
    assert kw["scale"][1] == pytest.approx(0.2)


def test_rgb_layer():
    rgb = (np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8)
    layer = napari.layers.Image(rgb, rgb=True)
    ((data, kw, _),) = upscale_layer(layer, 2)
    assert data.shape == (80, 100, 3) and data.dtype == np.uint8 and kw["rgb"]


def test_dask_layer_stays_lazy(cells):
    da = pytest.importorskip("dask.array")
    lazy = da.from_array(np.stack([cells[:64, :64]] * 4), chunks=(1, 64, 64))
    layer = napari.layers.Image(lazy)
    ((data, _, _),) = upscale_layer(layer, 2)
    assert isinstance(data, da.Array) and data.shape == (4, 128, 128)


def test_sample_data():
    ((data, kw, kind),) = low_res_cells()
    assert data.shape == (220, 184) and data.dtype == np.uint8 and kind == "image"


def test_factor_below_one_rejected(cells):
    with pytest.raises(ValueError, match=">= 1"):
        upscale_layer(napari.layers.Image(cells), 0.5)


def test_adapt_layer_reads_the_layer_as_upscale_does(cells):
    from srcnn_plugin._napari._core import iter_adapt_layer

    rgb = napari.layers.Image(np.stack([cells[:80, :80]] * 3, axis=-1), rgb=True)
    steps = iter_adapt_layer(rgb, 2, steps=3, min_gain=-99, device="cpu")
    with pytest.raises(TypeError, match="Unknown option"):
        next(steps)
    steps = iter_adapt_layer(rgb, 2, device="cpu", seconds=0.5)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result = stop.value
            break
    assert result.report["planes"] == 1  # Y of YCbCr, as upscaling an RGB layer
    stack = napari.layers.Image(np.stack([cells[:64, :64]] * 3))
    with pytest.raises(ValueError, match="above 1"):
        next(iter_adapt_layer(stack, 1))


def test_output_layer_records_what_the_network_was_told(cells):
    from srcnn_plugin import explain

    img = (cells * 4095).astype(np.uint16)
    img[:, :30] = 0
    ((_, kw, _),) = upscale_layer(napari.layers.Image(img), 2)
    record = kw["metadata"]["srcnn_plugin"]["explain"]
    assert record == explain(img, 2) and record["channels"][0]["fill"] == [0.0]
