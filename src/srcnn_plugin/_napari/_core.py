"""Layer in, layer data out: the napari plugin's logic, without Qt.

The output layer overlays the source exactly. napari puts pixel centres at
integer data coordinates, so an axis upscaled by ``f`` gets
``scale / f`` and ``translate + (1 / f - 1) / 2 * scale``; all other layer
properties (colormap, blending, contrast limits, units, axis labels,
metadata) are kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .._color import auto_color_mode
from .._dtype import restore_dtype
from .._options import Options
from .._rescale import _is_dask, make_plan, rescale_steps, rescale_with

__all__ = [
    "overlay_geometry",
    "iter_upscale_layer",
    "iter_upscale_layers",
    "upscale_layer",
    "output_name",
    "iter_adapt_layer",
    "iter_isotropic_layer",
    "layer_z_factor",
    "visible_region",
    "preview_layer",
]


def output_name(name: str, factor: float) -> str:
    """Name of the result layer, e.g. ``"cells SRCNN x2"``.

    Examples
    --------
    >>> output_name("cells", 2.5)
    'cells SRCNN x2.5'
    """
    return f"{name} SRCNN x{factor:g}"


def overlay_geometry(scale, translate, factors):
    """New ``(scale, translate)`` that overlay an axis-wise upscaled layer.

    Examples
    --------
    >>> overlay_geometry([1.0, 0.5, 0.5], [0, 10, 0], [1, 2, 2])
    ([1.0, 0.25, 0.25], [0.0, 9.875, -0.125])
    """
    new_scale, new_translate = [], []
    for s, t, f in zip(scale, translate, factors):
        new_scale.append(float(s) / f)
        new_translate.append(float(t) + (1.0 / f - 1.0) / 2.0 * float(s))
    return new_scale, new_translate


def _layer_kwargs(layer, scale, translate, factor) -> dict:
    kw = {
        "name": output_name(layer.name, factor),
        "scale": scale,
        "translate": translate,
        "blending": layer.blending,
        "opacity": layer.opacity,
        "metadata": {
            **dict(layer.metadata),
            "srcnn_plugin": {"source": layer.name, "factor": factor},
        },
        "rgb": layer.rgb,
    }
    if not layer.rgb:
        kw.update(
            colormap=layer.colormap, contrast_limits=list(layer.contrast_limits), gamma=layer.gamma
        )
    for attr in ("units", "axis_labels", "rotate", "shear"):
        if hasattr(layer, attr):
            kw[attr] = getattr(layer, attr)
    return kw


def iter_upscale_layer(
    layer, factor: float, *, keep_dtype=True, **options
) -> Iterator[tuple[int, int]]:
    """Upscale an image layer in-plane; yields ``(done, total)``, returns layer data.

    Parameters
    ----------
    layer : napari.layers.Image
        2-D, stacked (Z, T, ...) or RGB(A) image layer; dask-backed layers
        give a lazy result, multiscale layers use their full resolution.
    factor : float
        Factor (>= 1) for the last two (in-plane) axes; other axes are kept.
    **options
        [rescale][srcnn_plugin.rescale]'s computing options (``model``,
        ``device``, ``precision``, ``tile_size``, ``memory_budget``, ``clip``,
        ``symmetric``, ``noise``; see [Options][srcnn_plugin._options.Options]),
        all forwarded.
    keep_dtype : bool
        Return the layer's dtype (integers rounded and saturated), so
        contrast limits carry over; otherwise float.

    Returns
    -------
    list of (data, kwargs, 'image')
        napari LayerDataTuples (the generator's return value).
    """
    if not factor >= 1:
        raise ValueError(f"The factor must be >= 1 for super-resolution, got {factor}.")
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    n_sp = layer.ndim
    factors = [1.0] * (n_sp - 2) + [float(factor)] * 2
    opts = Options.from_kwargs(options)
    ch = -1 if layer.rgb else None
    color = auto_color_mode(data.shape[-1] if layer.rgb else 1, rgb=layer.rgb)
    record = {}  # what the network is told, from the run's own statistics
    if _is_dask(data):
        out = rescale_with(data, factors, opts, channel_axis=ch, preserve_range=True,
                           color_mode=color, record=record)  # fmt: skip
        yield (1, 1)
    else:
        arr = np.asarray(data)
        plan = make_plan(
            arr.shape, arr.dtype, factors, channel_axis=ch, preserve_range=True, color_mode=color
        )
        out = yield from rescale_steps(arr, plan, opts, record=record)
    if keep_dtype:
        out = restore_dtype(out, data.dtype)
    in_shape = [n for i, n in enumerate(data.shape) if not (layer.rgb and i == data.ndim - 1)]
    out_shape = [n for i, n in enumerate(out.shape) if not (layer.rgb and i == out.ndim - 1)]
    exact = [o / i for o, i in zip(out_shape, in_shape)]
    scale, translate = overlay_geometry(layer.scale, layer.translate, exact)
    kwargs = _layer_kwargs(layer, scale, translate, float(factor))
    kwargs["metadata"]["srcnn_plugin"]["explain"] = record  # what the network was told
    return [(out, kwargs, "image")]


def iter_upscale_layers(layers, factor: float, **kwargs) -> Iterator[tuple[int, int]]:
    """Upscale several layers (e.g. the channels of a split multichannel image).

    Yields ``(done, total)`` with ``total`` counting every layer's steps as
    they become known; returns all LayerDataTuples.
    """
    results, offset = [], 0
    for k, layer in enumerate(layers):
        last = (0, 1)
        steps = iter_upscale_layer(layer, factor, **kwargs)
        while True:
            try:
                done, total = next(steps)
            except StopIteration as stop:
                results.extend(stop.value)
                break
            last = (done, total)
            remaining = (len(layers) - k - 1) * total
            yield (offset + done, offset + total + remaining)
        offset += last[1]
    return results


def iter_adapt_layer(
    layer, factor: float, *, seconds: float = 60.0, **options
) -> Iterator[tuple[int, int]]:
    """Adapt the model to an image layer; yields ``(step, steps)``, returns an AdaptResult.

    The layer is read as [iter_upscale_layer][srcnn_plugin._napari._core.iter_upscale_layer]
    reads it (in-plane ``factor``, RGB as colour); ``options`` are ``rescale``'s
    computing options (``model``, ``device``, ``noise``, ``psf_sigma`` state
    the acquisition). See [Upscaler.adapt][srcnn_plugin.Upscaler.adapt].
    """
    from .._adapt import AdaptSettings, adapt_steps

    if not factor > 1:
        raise ValueError(f"Adaptation learns a factor above 1, got {factor}.")
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    factors = [1.0] * (layer.ndim - 2) + [float(factor)] * 2
    color = auto_color_mode(data.shape[-1] if layer.rgb else 1, rgb=layer.rgb)
    result = yield from adapt_steps(
        data, factors, Options.from_kwargs(options), AdaptSettings(seconds=seconds),
        channel_axis=-1 if layer.rgb else None, color_mode=color,
    )  # fmt: skip
    return result


def layer_z_factor(layer) -> float | None:
    """Z scale over X scale of a 3-D (or more) layer; ``None`` for 2-D layers.

    Examples
    --------
    >>> class L:  # a stand-in for a napari layer
    ...     ndim, scale = 3, (2.0, 0.5, 0.5)
    >>> layer_z_factor(L())
    4.0
    """
    if layer.ndim < 3:
        return None
    return float(layer.scale[-3]) / float(layer.scale[-1])


def iter_isotropic_layer(
    layer, z_factor: float, *, keep_dtype=True, adapt=True, **options
) -> Iterator[tuple[int, int]]:
    """Make a Z-stack layer isotropic; yields progress, returns layer data.

    ``z_factor`` multiplies the number of sections (the third-last axis);
    ``options`` are ``rescale``'s computing options; see
    [isotropic][srcnn_plugin.isotropic]. The output layer's Z scale is
    divided by the factor (and its translate set) so it overlays the source.
    """
    from .._isotropic import isotropic_steps

    if layer.rgb or layer.ndim < 3:
        raise ValueError(
            "Isotropic reconstruction needs a grey Z-stack layer (3-D or more); this layer "
            f"has {layer.ndim} axes{' and is RGB' if layer.rgb else ''}."
        )
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    out = yield from isotropic_steps(
        data, z_factor, adapt=adapt, preserve_range=True, **options
    )  # fmt: skip
    if keep_dtype:
        out = restore_dtype(out, data.dtype)
    exact = [o / i for o, i in zip(out.shape, data.shape)]
    scale, translate = overlay_geometry(layer.scale, layer.translate, exact)
    kwargs = _layer_kwargs(layer, scale, translate, float(z_factor))
    kwargs["name"] = f"{layer.name} SRCNN isotropic"
    return [(out, kwargs, "image")]


def visible_region(layer, point, center, zoom: float, canvas_size, margin: int = 8):
    """Data rows and columns of ``layer``'s last two axes in view, with a margin.

    ``point`` is the viewer's world position (all axes), ``center`` and
    ``zoom`` the camera's (world units per displayed axis, canvas pixels per
    world unit), ``canvas_size`` the canvas' ``(height, width)`` in pixels.
    Returns ``(index, (r0, r1, c0, c1))``: the data index of the displayed
    plane (leading axes) and the clipped box, or ``None`` when nothing of
    the layer is in view.

    Examples
    --------
    >>> import numpy as np
    >>> class L:  # a stand-in for a napari layer with unit scale
    ...     ndim, rgb, data = 2, False, np.zeros((100, 200))
    ...     def world_to_data(self, p):
    ...         return np.asarray(p, float)
    >>> visible_region(L(), (0, 0), (50, 100), 10.0, (200, 400), margin=0)
    ((), (40, 60, 80, 120))
    """
    half = np.asarray(canvas_size[-2:], float) / (2 * float(zoom))
    lo = np.asarray(point, float).copy()
    hi = np.asarray(point, float).copy()
    lo[-2:] = np.asarray(center[-2:], float) - half
    hi[-2:] = np.asarray(center[-2:], float) + half
    a, b = np.asarray(layer.world_to_data(lo)), np.asarray(layer.world_to_data(hi))
    shape = layer.data.shape[-3:-1] if layer.rgb else layer.data.shape[-2:]
    r0, c0 = np.floor(np.minimum(a[-2:], b[-2:])).astype(int) - margin
    r1, c1 = np.ceil(np.maximum(a[-2:], b[-2:])).astype(int) + margin
    r0, c0 = max(int(r0), 0), max(int(c0), 0)
    r1, c1 = min(int(r1), shape[0]), min(int(c1), shape[1])
    if r1 - r0 < 2 or c1 - c0 < 2:
        return None
    n_lead = layer.ndim - 2
    index = tuple(int(np.clip(np.round(a[i]), 0, layer.data.shape[i] - 1)) for i in range(n_lead))
    return index, (r0, r1, c0, c1)


def preview_layer(layer, factor: float, index, box, **options):
    """Layer data of the super-resolved region ``box`` of plane ``index`` (a preview).

    The crop is super-resolved on its own (its own intensity range and noise
    level), so it can differ slightly from the full result; it is placed so
    that it overlays the source.
    """
    r0, r1, c0, c1 = box
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    crop = np.asarray(data[index][r0:r1, c0:c1])
    ch = -1 if layer.rgb else None
    color = auto_color_mode(crop.shape[-1] if layer.rgb else 1, rgb=layer.rgb)
    out = rescale_with(crop, factor, Options.from_kwargs(options), channel_axis=ch,
                       preserve_range=True, color_mode=color)  # fmt: skip
    out = restore_dtype(out, crop.dtype)
    s, t = np.asarray(layer.scale[-2:], float), np.asarray(layer.translate[-2:], float)
    origin = t + np.array([r0, c0]) * s  # world position of the crop's first pixel
    exact = [out.shape[0] / crop.shape[0], out.shape[1] / crop.shape[1]]
    scale, translate = overlay_geometry(s, origin, exact)
    kwargs = _layer_kwargs(layer, scale, translate, float(factor))
    kwargs["name"] = f"{layer.name} SRCNN preview"
    for attr in ("rotate", "shear", "axis_labels", "units"):
        kwargs.pop(attr, None)
    return out, kwargs


def upscale_layer(layer, factor: float, **kwargs):
    """Run [iter_upscale_layer][srcnn_plugin._napari._core.iter_upscale_layer] to the end."""
    steps = iter_upscale_layer(layer, factor, **kwargs)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value
