import os

import numpy as np
import pytest

napari = pytest.importorskip("napari")
pytest.importorskip("pytestqt")
if not os.environ.get("DISPLAY"):
    pytest.skip(
        "no display: install Xvfb (pytest-xvfb starts it) to run widget tests",
        allow_module_level=True,
    )

from srcnn_plugin._napari._widget import SRCNNWidget  # noqa: E402

pytestmark = pytest.mark.napari


@pytest.mark.slow
def test_widget_upscales_layer(make_napari_viewer, qtbot, cells):
    viewer = make_napari_viewer()
    src = viewer.add_image(
        (cells * 255).astype(np.uint8), scale=(0.5, 0.5), name="cells", colormap="green"
    )
    widget = SRCNNWidget(viewer)
    viewer.window.add_dock_widget(widget)
    assert widget.layer.value is src
    widget.factor.value = 2
    widget.tile_size.value = 64
    ticks = []
    from qtpy.QtCore import QTimer

    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    timer.stop()
    qtbot.waitUntil(lambda: len(viewer.layers) == 2, timeout=5_000)
    out = viewer.layers[-1]
    assert out.name == "cells SRCNN x2"
    assert out.data.shape == (400, 480) and out.data.dtype == np.uint8
    np.testing.assert_allclose(out.scale, [0.25, 0.25])
    np.testing.assert_allclose(out.translate, [-0.125, -0.125])
    assert out.colormap.name == "green"
    assert tuple(out.contrast_limits) == tuple(src.contrast_limits)
    assert widget.progress.value == widget.progress.max > 1
    assert len(ticks) > 0  # the event loop kept running during the work
    # What the network was told: in the layer's metadata, and on the status line's hover.
    assert out.metadata["srcnn_plugin"]["explain"]["model"] == "srcnn-acq-9-5-5-x2"
    assert "noise" in widget.status.tooltip


def test_cancel_stops_work(make_napari_viewer, qtbot, cells):
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([cells] * 6).astype(np.float32))
    widget = SRCNNWidget(viewer)
    widget.tile_size.value = 64
    worker = widget.run()
    with qtbot.waitSignal(worker.yielded, timeout=30_000):
        pass
    widget.cancel()
    with qtbot.waitSignal(worker.finished, timeout=30_000):
        pass
    assert len(viewer.layers) == 1
    assert widget.status.value == "cancelled" and widget.run_button.enabled


def test_error_becomes_notification(make_napari_viewer, qtbot, monkeypatch, cells):
    viewer = make_napari_viewer()
    viewer.add_image(cells)
    widget = SRCNNWidget(viewer)
    widget.model.value = "weights file..."
    errors = []
    monkeypatch.setattr("napari.utils.notifications.show_error", errors.append)
    assert widget.run() is None
    assert errors and "weights file" in errors[0]


def test_plugin_found_by_npe2_and_sample_opens(make_napari_viewer):
    from npe2 import PluginManager

    pm = PluginManager.instance()
    pm.discover()
    manifest = pm.get_manifest("srcnn-plugin")
    assert {c.id for c in manifest.contributions.commands} >= {
        "srcnn-plugin.make_widget",
        "srcnn-plugin.low_res_cells",
    }
    menus = manifest.contributions.menus
    assert "napari/layers/filter" in menus
    viewer = make_napari_viewer()
    viewer.open_sample("srcnn-plugin", "low_res_cells")
    assert viewer.layers[0].data.shape == (220, 184)
    dw, widget = viewer.window.add_plugin_dock_widget("srcnn-plugin", "SRCNN super-resolution")
    assert isinstance(widget, SRCNNWidget)


def test_all_selected_channels(make_napari_viewer, qtbot, cells):
    viewer = make_napari_viewer()
    layers = viewer.add_image(
        np.stack([cells[:64, :64], cells[64:128, :64]]), channel_axis=0, name=["c0", "c1"]
    )
    viewer.layers.selection.update(layers)
    widget = SRCNNWidget(viewer)
    widget.all_selected.value = True
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: len(viewer.layers) == 4, timeout=5_000)
    names = [ly.name for ly in viewer.layers]
    assert names[2:] == ["c0 SRCNN x2", "c1 SRCNN x2"]  # in the sources' order
    assert widget.layer.enabled is False
    assert widget.progress.value == widget.progress.max


def test_model_follows_the_factor_unless_chosen(make_napari_viewer, cells):
    from srcnn_plugin.models.registry import pick_model_for_scale

    viewer = make_napari_viewer()
    viewer.add_image(cells)
    widget = SRCNNWidget(viewer)
    assert widget._options()["model"] is None  # chosen per factor, as rescale() chooses
    widget.factor.value = 3
    assert widget._options()["model"] is None
    widget.model.value = "paper"
    assert widget._options()["model"] == "paper"
    assert pick_model_for_scale(3, "paper") == "srcnn-9-5-5-x3"
    widget.model.value = "fast"  # the 9-1-5 family is offered too
    assert widget._options()["model"] == "fast"


def test_noise_and_psf_controls_reach_the_engine(make_napari_viewer, cells):
    viewer = make_napari_viewer()
    viewer.add_image(cells)
    widget = SRCNNWidget(viewer)
    opts = widget._options()
    assert opts["noise"] == "auto" and opts["psf_sigma"] is None and opts["ensemble"] == 2
    widget.shot.value = True
    assert widget._options()["noise"] == "poisson"
    widget.noise_auto.value = False  # a stated level wins over the shot-noise box
    widget.noise.value = 0.02
    widget.psf_known.value = True
    widget.psf_sigma.value = 1.5
    opts = widget._options()
    assert opts["noise"] == 0.02 and opts["psf_sigma"] == 1.5


def test_a_layer_with_nan_keeps_its_holes(make_napari_viewer, qtbot, cells):
    viewer = make_napari_viewer()
    img = cells.astype(np.float32)
    img[40:60, 50:80] = np.nan  # e.g. masked out
    viewer.add_image(img, name="masked")
    widget = SRCNNWidget(viewer)
    widget.factor.value = 2
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: len(viewer.layers) == 2, timeout=5_000)
    out = viewer.layers[-1].data
    np.testing.assert_array_equal(np.isnan(out), np.kron(np.isnan(img), np.ones((2, 2), bool)))
    assert "no data" in widget.status.tooltip


def test_worker_error_gives_one_notification_and_resets(make_napari_viewer, qtbot, monkeypatch):
    viewer = make_napari_viewer()
    bad = np.ones((32, 32), np.float32)
    bad[3, 3] = np.inf
    viewer.add_image(bad)
    widget = SRCNNWidget(viewer)
    errors = []
    monkeypatch.setattr("napari.utils.notifications.show_error", errors.append)
    assert widget.run() is not None
    # The worker fails at once (maybe before a signal could be awaited): wait for its effects.
    qtbot.waitUntil(lambda: bool(widget.run_button.enabled and errors), timeout=30_000)
    qtbot.wait(200)  # a second notification would arrive now
    assert len(errors) == 1 and "infinite" in errors[0]
    assert widget.status.value.startswith("failed") and widget.progress.value == 0
    assert len(viewer.layers) == 1


def _always_improving(monkeypatch):
    """Held-out scores that rise at every evaluation: adaptation is always kept."""
    import itertools

    import srcnn_plugin._adapt

    counter = itertools.count()
    monkeypatch.setattr(srcnn_plugin._adapt, "_psnr", lambda *a: 30.0 + next(counter))


def test_adapt_section_adds_a_model_that_upscale_uses_and_saves(
    make_napari_viewer, qtbot, monkeypatch, cells, tmp_path
):
    _always_improving(monkeypatch)
    viewer = make_napari_viewer()
    viewer.add_image((cells[:96, :96] * 4095).astype(np.uint16), name="cells")
    widget = SRCNNWidget(viewer)
    widget.psf_known.value = True
    widget.psf_sigma.value = 1.0
    widget.adapt_seconds.value = 1.0
    worker = widget.adapt()
    assert not widget.run_button.enabled and widget.cancel_button.enabled
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: widget.model.value == "adapted: cells x2", timeout=5_000)
    loaded = widget._options()["model"]
    assert loaded.source == "adapted:srcnn-acq-9-5-5-x2"
    assert widget.save_button.enabled and widget.run_button.enabled
    # the adapted model is what Upscale runs
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: len(viewer.layers) == 2, timeout=5_000)
    from srcnn_plugin import rescale

    expected = rescale(viewer.layers[0].data, 2, model=loaded, psf_sigma=1.0, preserve_range=True)
    np.testing.assert_array_equal(
        viewer.layers[1].data, np.clip(np.round(expected), 0, 65535).astype(np.uint16)
    )
    # saved once; a second save to the same file is refused, the file kept
    errors = []
    monkeypatch.setattr("napari.utils.notifications.show_error", errors.append)
    widget.save_path.value = tmp_path / "cells.pt"
    assert widget.save_adapted() == tmp_path / "cells.pt"
    first = (tmp_path / "cells.pt").read_bytes()
    assert widget.save_adapted() is None
    assert errors and "exists" in errors[0]
    assert (tmp_path / "cells.pt").read_bytes() == first


def test_adapt_that_does_not_help_leaves_the_models(make_napari_viewer, qtbot, monkeypatch, cells):
    import srcnn_plugin._adapt

    monkeypatch.setattr(srcnn_plugin._adapt, "_psnr", lambda *a: 30.0)
    infos = []
    monkeypatch.setattr("napari.utils.notifications.show_info", infos.append)
    viewer = make_napari_viewer()
    viewer.add_image(cells[:96, :96].astype(np.float32), name="cells")
    widget = SRCNNWidget(viewer)
    widget.adapt_seconds.value = 1.0
    choices = list(widget.model.choices)
    worker = widget.adapt()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: "unchanged" in widget.status.value, timeout=5_000)
    assert list(widget.model.choices) == choices and not widget.save_button.enabled
    assert infos and "did not improve" in infos[0]


def test_isotropic_option_super_resolves_z_and_overlays(make_napari_viewer, qtbot, cells):
    from srcnn_plugin import isotropic

    viewer = make_napari_viewer()
    vol = np.stack([cells[z : z + 48, :48] for z in range(0, 32, 4)]).astype(np.float32)
    src = viewer.add_image(vol, scale=(2.0, 0.5, 0.5), name="stack")  # Z spacing 4x X
    widget = SRCNNWidget(viewer)
    widget.isotropic.value = True
    assert widget.factor.value == 4.0  # from the layer's scale
    widget.adapt_seconds.value = 1.0
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: len(viewer.layers) == 2, timeout=5_000)
    out = viewer.layers[-1]
    assert out.name == "stack SRCNN isotropic" and out.data.shape == (32, 48, 48)
    np.testing.assert_allclose(out.scale, [0.5, 0.5, 0.5])
    # section centres overlay: the first source section's centre is the mean of its 4 outputs
    first = np.mean([out.translate[0] + i * out.scale[0] for i in range(4)])
    assert first == pytest.approx(src.translate[0])
    assert out.data.dtype == np.float32
    assert out.data.shape == isotropic(vol, 4, adapt=False).shape
    # time budget 0: the bundled Z model as it is
    widget.adapt_seconds.value = 0.0
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: len(viewer.layers) == 3, timeout=5_000)
    ref = isotropic(vol, 4, adapt=False, preserve_range=True).astype(np.float32)
    np.testing.assert_allclose(viewer.layers[-1].data, ref, rtol=1e-6)


def test_live_preview_super_resolves_the_view_and_overlays(make_napari_viewer, qtbot, cells):
    from srcnn_plugin import rescale

    viewer = make_napari_viewer()
    src = viewer.add_image(cells, scale=(0.5, 0.5), translate=(3.0, -2.0), name="cells")
    widget = SRCNNWidget(viewer)
    viewer.camera.center = (3.0 + 50 * 0.5, -2.0 + 60 * 0.5)  # data pixel (50, 60)
    viewer.camera.zoom = 8.0
    widget.preview.value = True
    qtbot.waitUntil(lambda: "cells SRCNN preview" in viewer.layers, timeout=30_000)
    prev = viewer.layers["cells SRCNN preview"]
    h, w = viewer.canvas.size
    assert prev.data.shape[0] <= 2 * (h / 8.0 / 0.5 + 2 * 8 + 2) and prev.data.shape[0] < 400
    np.testing.assert_allclose(prev.scale, [0.25, 0.25])
    # the preview's pixel grid lies on the full result's grid: same world positions
    r0 = round((prev.translate[0] - (3.0 - 0.125)) / 0.25)
    c0 = round((prev.translate[1] - (-2.0 - 0.125)) / 0.25)
    assert r0 % 2 == 0 and c0 % 2 == 0  # starts at a source pixel boundary
    (n, m), (i, j) = prev.data.shape, (r0 // 2, c0 // 2)
    crop = cells[i : i + n // 2, j : j + m // 2]
    np.testing.assert_allclose(prev.data, rescale(crop, 2, preserve_range=True), atol=1e-6)
    # moving the camera refreshes it, without adding layers
    viewer.camera.center = (3.0 + 20 * 0.5, -2.0 + 30 * 0.5)
    qtbot.waitUntil(lambda: prev.translate[0] < 3.0 + 20 * 0.5, timeout=30_000)
    assert len(viewer.layers) == 2 and src.data is cells
    widget.preview.value = False


def test_a_stated_camera_reaches_the_engine(make_napari_viewer, cells):
    """The camera's gain, offset and read noise replace the noise boxes while ticked."""
    from srcnn_plugin.degradations import PoissonGaussian

    viewer = make_napari_viewer()
    viewer.add_image((cells * 4000 + 100).astype(np.uint16))
    widget = SRCNNWidget(viewer)
    widget.show()  # visibility is only reported for a shown widget
    assert not widget.camera_gain.visible and widget.noise_auto.visible
    widget.camera_known.value = True
    assert widget.camera_gain.visible and widget.camera_read.visible
    assert not (widget.noise_auto.visible or widget.shot.visible or widget.noise.visible)
    widget.camera_gain.value, widget.camera_offset.value, widget.camera_read.value = 2, 100, 3
    opts = widget._options()
    assert opts["noise"] == PoissonGaussian(2.0, 100.0, 3.0)
    from srcnn_plugin import rescale
    from srcnn_plugin._napari._core import upscale_layer

    ((data, _, _),) = upscale_layer(viewer.layers[0], 2, **opts)
    ref = rescale(viewer.layers[0].data, 2, noise=opts["noise"], preserve_range=True)
    np.testing.assert_array_equal(data, np.clip(np.rint(ref), 0, 65535).astype(np.uint16))
    widget.camera_known.value = False  # back to measuring, as before
    assert widget.noise_auto.visible and not widget.camera_gain.visible
    assert widget._options()["noise"] == "auto"
