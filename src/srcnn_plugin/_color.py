"""Colour conversions: BT.601 YCbCr as MATLAB's ``rgb2ycbcr``/``ycbcr2rgb``.

Floats are in [0, 1] for RGB; Y lies in [16/255, 235/255] and Cb/Cr in
[16/255, 240/255], as MATLAB returns them for ``double`` input.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rgb_to_ycbcr", "ycbcr_to_rgb", "rgb_to_y_uint8", "auto_color_mode", "YCC_ROWS"]

_M = np.array(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ]
)
_OFFSET = np.array([16.0, 128.0, 128.0])

#: BT.601 luma/chroma rows for [0, 1] RGB (offsets dropped: ``rescale``'s
#: per-channel normalisation cancels them).
YCC_ROWS = _M / 255.0


def auto_color_mode(n_channels: int, *, rgb: bool) -> str:
    """The colour mode every face uses when the user does not choose one.

    ``'ycbcr'`` (the paper's path: the network on Y only) for an image its
    face knows to be an RGB(A) photograph (napari's ``rgb`` layers, OpenCV's
    BGR(A) images, 8-bit RGB PNG/JPEG/BMP/TIFF files) with 3 or 4 channels;
    ``'channels'`` (each channel on its own) for everything else, such as
    fluorescence channels.

    Examples
    --------
    >>> auto_color_mode(3, rgb=True), auto_color_mode(3, rgb=False), auto_color_mode(2, rgb=True)
    ('ycbcr', 'channels', 'channels')
    """
    return "ycbcr" if rgb and n_channels in (3, 4) else "channels"


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """Convert float RGB in [0, 1] (last axis) to float YCbCr in [0, 1].

    Examples
    --------
    >>> y = rgb_to_ycbcr(np.ones((1, 1, 3)))[..., 0]
    >>> round(float(y[0, 0]) * 255, 3)
    235.0
    """
    rgb = np.asarray(rgb)
    out = rgb @ (_M.T / 255.0).astype(rgb.dtype) + (_OFFSET / 255.0).astype(rgb.dtype)
    return out


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Invert [rgb_to_ycbcr][srcnn_plugin._color.rgb_to_ycbcr] exactly (no clipping).

    Examples
    --------
    >>> x = np.random.default_rng(0).random((4, 4, 3))
    >>> bool(np.allclose(ycbcr_to_rgb(rgb_to_ycbcr(x)), x))
    True
    """
    ycc = np.asarray(ycc)
    inv = np.linalg.inv(_M / 255.0)
    return (ycc - (_OFFSET / 255.0).astype(ycc.dtype)) @ inv.T.astype(ycc.dtype)


def rgb_to_y_uint8(rgb: np.ndarray) -> np.ndarray:
    """Y channel of an 8-bit RGB image (last axis), rounded to uint8 as MATLAB does.

    A 2-D (grey) image is its own Y and is returned unchanged.

    Examples
    --------
    >>> rgb_to_y_uint8(np.zeros((2, 2, 3), np.uint8))[0, 0]
    np.uint8(16)
    """
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        return rgb.astype(np.uint8, copy=False)
    if rgb.ndim < 3 or rgb.shape[-1] not in (3, 4):
        raise ValueError(f"Expected an (M, N) grey or (..., 3) RGB image, got shape {rgb.shape}.")
    x = rgb[..., :3].astype(np.float64) / 255.0
    y = 16.0 + x @ _M[0]
    return np.clip(np.round(y), 0, 255).astype(np.uint8)
