"""Models on the low-resolution grid (``SRCNNConfig.stride``) through every step and face."""

import numpy as np
import pytest

import srcnn_plugin as sp


def _image(rng, shape=(70, 83)):
    return (rng.random(shape) * 4000).astype(np.uint16)


@pytest.mark.parametrize("factor", [2, 3])
@pytest.mark.parametrize("passes", [1, 2, 8])
def test_tiles_of_any_size_give_the_whole_image_result(lr_grid_models, rng, factor, passes):
    img = _image(rng)
    path = lr_grid_models[factor]
    whole = sp.rescale(img, factor, model=path, tile_size=512, ensemble=passes)
    # 41 is no multiple of 2 or 3: tiles are rounded down to whole blocks.
    tiled = sp.rescale(img, factor, model=path, tile_size=41, ensemble=passes)
    assert whole.shape == (70 * factor, 83 * factor)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)


@pytest.mark.parametrize("factor", [2, 3])
@pytest.mark.parametrize("passes", [1, 2, 8])
def test_a_flat_region_stays_flat(lr_grid_models, factor, passes):
    """The network's phase pattern on flat input is taken out (the flat-field table per
    phase, averaged as the ensemble averages): a mid-grey field stays at its value."""
    img = np.full((60, 90), 2000, np.uint16)
    img[5:15, 5:15] = 3000
    img[5:15, 20:30] = 1000  # the field is not the minimum (no fill)
    out = sp.rescale(img, factor, model=lr_grid_models[factor], ensemble=passes,
                     preserve_range=True, noise=0)  # fmt: skip
    far = out[40 * factor :, 40 * factor :]
    np.testing.assert_allclose(far, 2000, atol=0.1)  # 5e-5 of the range


def test_the_flat_table_is_what_removes_the_pattern(lr_grid_models, monkeypatch):
    """Without the per-phase table the same field shows the pattern (the test above
    can fail)."""
    from srcnn_plugin import _engine

    img = np.full((60, 90), 2000, np.uint16)
    img[5:15, 5:15] = 3000
    img[5:15, 20:30] = 1000  # the field is not the minimum (no fill)
    monkeypatch.setattr(_engine.Engine, "flat", lambda self, noise=None, blur=None: lambda c: 0)
    out = sp.rescale(img, 2, model=lr_grid_models[2], ensemble=1, preserve_range=True, noise=0)
    assert np.ptp(out[80:, 80:]) > 10


def test_dask_equals_numpy(lr_grid_models, rng):
    da = pytest.importorskip("dask.array")
    img = _image(rng)
    ref = sp.rescale(img, 2, model=lr_grid_models[2], tile_size=40)
    got = sp.rescale(da.from_array(img, chunks=33), 2, model=lr_grid_models[2], tile_size=40)
    np.testing.assert_allclose(got.compute(), ref, atol=1e-6)


@pytest.mark.parametrize("scale", [2.5, (2, 3), (2, 1)])
def test_a_factor_it_does_not_serve_is_refused(lr_grid_models, rng, scale):
    with pytest.raises(ValueError, match=r"x2 low-resolution grid.*pass scale=2"):
        sp.rescale(_image(rng), scale, model=lr_grid_models[2])


def test_upscaler_and_stacks(lr_grid_models, rng):
    stack = np.stack([_image(rng, (30, 40)) for _ in range(3)])
    up = sp.Upscaler((1, 2, 2), model=str(lr_grid_models[2]))
    out = up(stack)
    assert out.shape == (3, 60, 80)
    np.testing.assert_array_equal(out, sp.rescale(stack, (1, 2, 2), model=lr_grid_models[2]))


def test_shot_noise_map(lr_grid_models, rng):
    img = _image(rng)
    a = sp.rescale(img, 3, model=lr_grid_models[3], noise="poisson", tile_size=40)
    b = sp.rescale(img, 3, model=lr_grid_models[3], noise="poisson", tile_size=512)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_adaptation_keeps_the_grid(lr_grid_models, cells):
    settings = {"steps": 3, "every": 1, "patch": 48, "min_gain": -100.0}
    up = sp.Upscaler(2, model=str(lr_grid_models[2]), device="cpu").adapt(cells, **settings)
    assert up.adaptation["adapted"]
    assert up._load().config.stride == 2
    out = sp.rescale(cells, 2, model=str(lr_grid_models[2]), adapt=settings, device="cpu")
    np.testing.assert_array_equal(out, up(cells))
    with pytest.raises(ValueError, match="x2 low-resolution grid"):
        sp.rescale(cells, 3, model=str(lr_grid_models[2]), adapt={"steps": 1})


def test_the_automatic_cpu_tile_holds_a_256_tiles_activations():
    """On the CPU the automatic tile of a low-resolution-grid model is the side whose
    activations match a 256 tile of the 9-5-5's (rounded down to multiples of 256); the
    output-grid models keep 256, and a memory budget still bounds the side."""
    img = np.zeros((900, 900), np.uint16)
    assert sp.explain(img, 2, model="srcnn-acq-9-5-5-x2")["tile"] == 256
    assert sp.explain(img, 2, model="srcnn-acq-lr-9-1-5-x2")["tile"] == 256
    assert sp.explain(img, 3, model="srcnn-acq-lr-9-1-5-x3")["tile"] == 768
    assert sp.explain(img, 4, model="srcnn-acq-lr-9-1-5-x4")["tile"] == 1024
    small = sp.explain(img, 4, model="srcnn-acq-lr-9-1-5-x4", memory_budget=2**22)["tile"]
    assert small % 4 == 0 and 32 <= small < 300
