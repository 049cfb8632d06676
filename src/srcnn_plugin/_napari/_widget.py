"""The dock widget: pick a layer and a factor, upscale in a background thread.

Its "Adapt to this layer" section fine-tunes the model on the chosen layer
(``_core.iter_adapt_layer``, in a worker with progress and Cancel); the
adapted model then appears in the model list and can be saved to a file.
"""

from __future__ import annotations

from pathlib import Path

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
    SpinBox,
)

from .._options import ENSEMBLES
from ._core import (
    iter_adapt_layer,
    iter_isotropic_layer,
    iter_upscale_layers,
    layer_z_factor,
    preview_layer,
    visible_region,
)

__all__ = ["SRCNNWidget"]

_FILE = "weights file..."
_PREVIEW_MAX_PIXELS = 512 * 512  # input pixels a preview may take (the view, not the image)
_PREVIEW_DELAY_MS = 300  # wait for the camera to settle
_AUTO = "auto (for the factor)"


def _toggled_value(text, tip, label, value_tip, *, checked, show_when, step, max):
    """A check box and the number field it shows (when ticked == ``show_when``)."""
    box = CheckBox(text=text, value=checked, tooltip=tip)
    field = FloatSpinBox(
        label=label, value=0.0, min=0.0, max=max, step=step, visible=checked == show_when,
        tooltip=value_tip,
    )  # fmt: skip

    def toggle(value):
        field.visible = value == show_when

    box.changed.connect(toggle)
    return box, field


class SRCNNWidget(Container):
    """SRCNN super-resolution of an image layer, overlaid on its source.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer (napari passes it).
    """

    def __init__(self, napari_viewer):
        from .._device import available_devices
        from ..models.registry import FAMILIES, list_models

        super().__init__(labels=True)
        self._viewer = napari_viewer
        self._worker = None
        self.layer = ComboBox(
            label="image",
            choices=self._image_layers,
            tooltip="Image layer to upscale (2-D, stacks, RGB).",
        )
        self.factor = FloatSpinBox(
            label="factor",
            value=2.0,
            min=1.0,
            max=16.0,
            step=0.5,
            tooltip="Upscaling factor of the in-plane (last two) axes; any value >= 1.",
        )
        self.model = ComboBox(
            label="model",
            choices=[_AUTO, *FAMILIES, *list_models(), _FILE],
            value=_AUTO,
            tooltip="auto: the default model for the factor, as rescale() chooses; a family "
            "(acquisition: for real, noisy microscopy; paper: the paper's bicubic-trained "
            "models; fast: the 9-1-5 network, 5-8x faster at x2-x4, also for noisy data; "
            "paper-fast: the paper's 9-1-5; axial: the Z models of "
            "'isotropic Z') picks within it; or a bundled model or weights file.",
        )
        self.noise_auto, self.noise = _toggled_value(
            "measure noise",
            "Measure each channel's noise level and tell it to the model, so noise is not "
            "sharpened. Untick to enter it.",
            "noise (std)",
            "Noise standard deviation in the layer's intensity units (0: clean).",
            checked=True,
            show_when=False,
            step=1.0,
            max=1e9,
        )
        self.shot = CheckBox(
            text="photon-limited (shot noise)",
            value=False,
            tooltip="For low-light fluorescence: measure how the noise grows with the "
            "intensity and tell it per pixel, so bright structures are not sharpened into "
            "noise (noise='poisson'). Leave it off for well-exposed images.",
        )
        self.noise_auto.changed.connect(lambda value: setattr(self.shot, "visible", value))
        self.camera_known = CheckBox(
            text="state the camera",
            value=False,
            tooltip="Photon-limited data from a camera you know: its shot noise and read noise "
            "are then told per pixel from these numbers instead of being measured.",
        )
        self.camera_gain = FloatSpinBox(
            label="gain (units / e-)", value=1.0, min=0.0, max=1e6, step=0.1, visible=False,
            tooltip="Intensity units per photo-electron: 1 for photon counts, or the camera's "
            "conversion gain in ADU per electron (from its data sheet).",
        )  # fmt: skip
        self.camera_offset = FloatSpinBox(
            label="offset", value=0.0, min=-1e9, max=1e9, step=1.0, visible=False,
            tooltip="The camera's baseline: what a pixel reads with no light.",
        )  # fmt: skip
        self.camera_read = FloatSpinBox(
            label="read noise (std)", value=0.0, min=0.0, max=1e9, step=0.5, visible=False,
            tooltip="Read-noise standard deviation in the layer's units (a data sheet's "
            "electrons rms times the gain).",
        )  # fmt: skip
        self.camera_known.changed.connect(self._on_camera_known)
        self.weights = FileEdit(
            label="weights",
            filter="*.pt",
            visible=False,
            tooltip="Weights file (.pt) written by srcnn-plugin train.",
        )
        self.psf_known, self.psf_sigma = _toggled_value(
            "state the PSF",
            "Tell the model the optical blur to undo (Gaussian sigma in output pixels); "
            "unticked, the model's default is used (see the model card).",
            "PSF sigma (out px)",
            "0: pixel integration only (same optics, smaller pixels).",
            checked=False,
            show_when=True,
            step=0.25,
            max=20.0,
        )
        self.passes = ComboBox(
            label="passes",
            choices=list(ENSEMBLES),
            value=2,
            tooltip="Network passes averaged per tile: 2 (default) keeps features centred; "
            "8 (every rotation and mirror) is slightly sharper at 4x the time; 1 is fastest.",
        )
        self.device = ComboBox(
            label="device",
            choices=["auto", *available_devices()],
            value="auto",
            tooltip="auto: CUDA, then MPS, then CPU.",
        )
        self.tile_size = SpinBox(
            label="tile size",
            value=0,
            min=0,
            max=8192,
            step=64,
            tooltip="Output tile side in pixels; 0 = automatic. Tiles "
            "bound memory; results do not depend on them.",
        )
        self.isotropic = CheckBox(
            text="isotropic Z (Z-stacks)",
            value=False,
            tooltip="Super-resolve Z only, by the factor (set from the layer's Z scale / X "
            "scale), learning from the stack's own XY planes for at most the time budget "
            "below. The result overlays the source.",
        )
        self.all_selected = CheckBox(
            text="all selected image layers",
            value=False,
            tooltip="Upscale every selected image layer, e.g. all channels of a "
            "multichannel image that napari split into layers.",
        )
        self.preview = CheckBox(
            text="live preview (visible region)",
            value=False,
            tooltip="Super-resolve only what is in view, again whenever the view or slice "
            "changes (a quick look: the region is normalised on its own).",
        )
        self.run_button = PushButton(text="Upscale")
        self.adapt_label = Label(value="Adapt to this layer (uses the PSF and noise above):")
        self.adapt_seconds = FloatSpinBox(
            label="time budget (s)",
            value=60.0,
            min=0.0,
            max=3600.0,
            step=10.0,
            tooltip="Fine-tune the model on the chosen layer for at most this long (no "
            "ground truth needed; most useful when the PSF is stated). With isotropic Z, 0 "
            "uses the bundled Z model as it is.",
        )
        self.adapt_button = PushButton(text="Adapt to this layer")
        self.save_path = FileEdit(
            label="save adapted to", mode="w", filter="*.pt",
            tooltip="Weights file for the adapted model (reuse it with rescale(model=...)).",
        )  # fmt: skip
        self.save_button = PushButton(text="Save adapted model", enabled=False)
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.progress = ProgressBar(value=0, min=0, max=1, label="progress")
        self.status = Label(value="")
        self.extend(
            [
                self.layer,
                self.factor,
                self.model,
                self.weights,
                self.noise_auto,
                self.shot,
                self.noise,
                self.camera_known,
                self.camera_gain,
                self.camera_offset,
                self.camera_read,
                self.psf_known,
                self.psf_sigma,
                self.passes,
                self.device,
                self.tile_size,
                self.isotropic,
                self.all_selected,
                self.preview,
                self.run_button,
                self.adapt_label,
                self.adapt_seconds,
                self.adapt_button,
                self.save_path,
                self.save_button,
                self.cancel_button,
                self.progress,
                self.status,
            ]
        )
        self.model.changed.connect(self._on_model)
        self.all_selected.changed.connect(self._on_all_selected)
        self.isotropic.changed.connect(self._on_isotropic)
        self.preview.changed.connect(self._on_preview_toggled)
        self._preview_worker = None
        self._preview_timer = None
        self.layer.changed.connect(self._on_isotropic)

        self.run_button.clicked.connect(self.run)
        self.adapt_button.clicked.connect(self.adapt)
        self.save_button.clicked.connect(self.save_adapted)
        self.cancel_button.clicked.connect(self.cancel)
        self._adapted: dict = {}  # model-list entry -> adapted LoadedWeights
        self._families = [_AUTO, *FAMILIES, *list_models()]
        events = napari_viewer.layers.events
        events.inserted.connect(self._refresh)
        events.removed.connect(self._refresh)

    def _image_layers(self, *_):
        from napari.layers import Image

        return [ly for ly in self._viewer.layers if isinstance(ly, Image)]

    def _targets(self) -> list:
        from napari.layers import Image

        if self.all_selected.value:
            # In the viewer's layer order (the selection itself is unordered), so the
            # results are added in the order of their sources.
            chosen = self._viewer.layers.selection
            return [ly for ly in self._viewer.layers if ly in chosen and isinstance(ly, Image)]
        return [self.layer.value] if self.layer.value is not None else []

    def _refresh(self, *_):
        self.layer.reset_choices()

    def _on_model(self, value):
        self.weights.visible = value == _FILE

    def _on_isotropic(self, *_):
        """With "isotropic Z", the factor is the layer's Z scale / X scale when above 1."""
        layer = self.layer.value
        z = layer_z_factor(layer) if (self.isotropic.value and layer is not None) else None
        if z is not None and z > 1:
            self.factor.value = round(z, 3)

    def _on_preview_toggled(self, on: bool):
        camera, dims = self._viewer.camera.events, self._viewer.dims.events
        for emitter in (camera.center, camera.zoom, dims.current_step):
            if on:
                emitter.connect(self._schedule_preview)
            else:
                emitter.disconnect(self._schedule_preview)
        if on:
            self._schedule_preview()

    def _schedule_preview(self, *_):
        """Restart the settle timer; the preview runs once the view stops changing."""
        from qtpy.QtCore import QTimer

        if self._preview_timer is None:
            self._preview_timer = QTimer()
            self._preview_timer.setSingleShot(True)
            self._preview_timer.timeout.connect(self.update_preview)
        self._preview_timer.start(_PREVIEW_DELAY_MS)

    def update_preview(self):
        """Super-resolve the visible region of the chosen layer in a worker."""
        from napari.qt.threading import thread_worker

        layer = self.layer.value
        if not self.preview.value or layer is None or self._preview_worker is not None:
            return None
        v = self._viewer
        region = visible_region(layer, v.dims.point, v.camera.center, v.camera.zoom,
                                v.canvas.size)  # fmt: skip
        if region is None:
            return None
        index, (r0, r1, c0, c1) = region
        if (r1 - r0) * (c1 - c0) > _PREVIEW_MAX_PIXELS:
            self.status.value = "preview: zoom in (the view is too large to preview)"
            return None
        try:
            opts = self._options()
        except ValueError:
            return None
        factor = float(self.factor.value)

        @thread_worker(ignore_errors=True)
        def work():
            return preview_layer(layer, factor, index, (r0, r1, c0, c1), **opts)

        worker = work()
        worker.returned.connect(self._show_preview)
        worker.errored.connect(lambda exc: setattr(self.status, "value", f"preview: {exc}"))
        worker.finished.connect(self._preview_done)
        self._preview_worker = worker
        worker.start()
        return worker

    def _preview_done(self):
        self._preview_worker = None

    def _show_preview(self, result):
        data, kwargs = result
        name = kwargs["name"]
        if name in self._viewer.layers:
            old = self._viewer.layers[name]
            old.data = data
            old.scale, old.translate = kwargs["scale"], kwargs["translate"]
        else:
            self._viewer.add_image(data, **kwargs)
        self.status.value = "preview updated"

    def _on_all_selected(self, value):
        self.layer.enabled = not value  # the selection, not the picker, says what runs

    def _options(self) -> dict:
        model = self.model.value
        if model == _AUTO:
            model = None
        elif model in self._adapted:
            model = self._adapted[model]
        elif model == _FILE:
            path = Path(self.weights.value)
            if not path.is_file():
                raise ValueError("Choose a weights file (.pt) or a bundled model.")
            model = str(path)
        return {
            "model": model,
            "device": None if self.device.value == "auto" else self.device.value,
            "tile_size": self.tile_size.value or None,
            "noise": self._noise(),
            "psf_sigma": float(self.psf_sigma.value) if self.psf_known.value else None,
            "ensemble": int(self.passes.value),
        }

    def _on_camera_known(self, value):
        """A stated camera replaces the noise boxes (they come back as they were)."""
        for field in (self.camera_gain, self.camera_offset, self.camera_read):
            field.visible = value
        self.noise_auto.visible = not value
        self.shot.visible = not value and self.noise_auto.value
        self.noise.visible = not value and not self.noise_auto.value

    def _noise(self):
        """``rescale``'s ``noise``: a stated camera or level, or measured."""
        if self.camera_known.value:
            from ..degradations import PoissonGaussian

            return PoissonGaussian(
                float(self.camera_gain.value),
                float(self.camera_offset.value),
                float(self.camera_read.value),
            )
        if not self.noise_auto.value:
            return float(self.noise.value)
        return "poisson" if self.shot.value else "auto"

    def run(self):
        """Start upscaling the chosen layer in a worker thread."""
        from napari.utils.notifications import show_error

        layers = self._targets()
        if not layers:
            show_error("No image layer to upscale: open or choose an image layer.")
            return None
        factor = float(self.factor.value)
        names = ", ".join(ly.name for ly in layers)
        if self.isotropic.value:
            seconds = float(self.adapt_seconds.value)
            adapt = {"seconds": seconds} if seconds > 0 else False

            def isotropic_job(opts):
                results = []
                for layer in layers:
                    results += yield from iter_isotropic_layer(layer, factor, adapt=adapt, **opts)
                return results

            return self._launch(
                isotropic_job, self._on_done, f"making {names} isotropic (Z x{factor:g})..."
            )
        return self._launch(
            lambda opts: iter_upscale_layers(layers, factor, **opts),
            self._on_done,
            f"upscaling {names} x{factor:g}...",
        )

    def adapt(self):
        """Fine-tune the model on the chosen layer in a worker thread."""
        from napari.utils.notifications import show_error

        layer = self.layer.value
        if layer is None:
            show_error("No image layer to adapt to: open or choose an image layer.")
            return None
        factor = float(self.factor.value)
        seconds = float(self.adapt_seconds.value)
        name = f"adapted: {layer.name} x{factor:g}"

        def job(opts):
            acquisition = {k: v for k, v in opts.items() if k not in ("tile_size", "ensemble")}
            return iter_adapt_layer(layer, factor, seconds=seconds, **acquisition)

        return self._launch(
            job, lambda result: self._on_adapted(result, name), f"adapting to {name[9:]}..."
        )

    def _launch(self, job, on_done, status: str):
        """Run ``job(options)`` (a generator) in a worker: progress, Cancel, one error."""
        from napari.qt.threading import thread_worker
        from napari.utils.notifications import show_error

        try:
            opts = self._options()
        except ValueError as exc:
            show_error(str(exc))
            return None

        @thread_worker(ignore_errors=True)  # errors go to _on_error, once
        def work():
            return (yield from job(opts))

        worker = work()
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(on_done)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self.run_button.enabled = False
        self.adapt_button.enabled = False
        self.cancel_button.enabled = True
        self.progress.value = 0
        self.status.value = status
        worker.start()
        return worker

    def _on_adapted(self, result, name: str):
        from napari.utils.notifications import show_info

        rep = result.report
        gain = f"{rep['holdout_psnr_before']:.2f} -> {rep['holdout_psnr_after']:.2f} dB"
        if not rep["adapted"]:
            show_info(f"Adaptation did not improve the held-out part ({gain}); model unchanged.")
            self.status.value = "adaptation did not help; model unchanged"
            return
        self._adapted[name] = result.loaded
        self.model.choices = [*self._families, *self._adapted, _FILE]
        self.model.value = name
        self.save_button.enabled = True
        self.status.value = f"{name}: held-out {gain}, {rep['steps']} steps"

    def save_adapted(self):
        """Write the adapted model chosen in the model list (or the last one) to a file."""
        from napari.utils.notifications import show_error, show_info

        from ..models.weights import save_loaded

        name = self.model.value if self.model.value in self._adapted else None
        name = name or (list(self._adapted)[-1] if self._adapted else None)
        path = Path(self.save_path.value)
        if name is None or not str(self.save_path.value) or path == Path("."):
            show_error("Adapt to a layer first, and choose a file to save to.")
            return None
        try:
            save_loaded(self._adapted[name], path)
        except (FileExistsError, IsADirectoryError) as exc:
            show_error(str(exc))
            return None
        show_info(f"Saved {name} to {path}")
        self.status.value = f"saved {path.name}"
        return path

    def cancel(self):
        """Stop after the current tile (or adaptation step)."""
        if self._worker is not None:
            self._worker.quit()
            self.status.value = "cancelled"

    def _on_progress(self, value):
        done, total = value
        self.progress.max = total
        self.progress.value = done

    def _on_done(self, layer_data):
        from .._job import describe_line

        for data, kwargs, _ in layer_data or []:
            self._viewer.add_image(data, **kwargs)
            record = kwargs.get("metadata", {}).get("srcnn_plugin", {}).get("explain")
            if record:  # what the network was told, on hover
                self.status.tooltip = describe_line(record)
        self.status.value = "done"

    def _on_error(self, exc):
        """One notification, and the widget back to idle (the viewer keeps running)."""
        from napari.utils.notifications import show_error

        show_error(f"SRCNN failed: {exc}")
        self.status.value = f"failed: {exc}"
        self.progress.value = 0

    def _on_finished(self):
        self.run_button.enabled = True
        self.adapt_button.enabled = True
        self.cancel_button.enabled = False
        self._worker = None
