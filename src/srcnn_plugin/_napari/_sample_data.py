"""Sample data: a low-resolution fluorescence-like image made at run time."""

from __future__ import annotations

__all__ = ["low_res_cells"]


def low_res_cells():
    """scikit-image's ``cell`` shrunk 3x (MATLAB bicubic), as a napari layer.

    Returns
    -------
    list of (data, kwargs, 'image')
    """
    import numpy as np
    from skimage import data

    from .._imresize import imresize

    hr = data.cell().astype(np.float64)
    lr = np.clip(np.rint(imresize(hr, 1 / 3)), 0, 255).astype(np.uint8)
    return [(lr, {"name": "cells (low resolution)", "colormap": "gray"}, "image")]
