"""Sample data shipped in the package (no download needed).

``butterfly_lr_x2.png`` is Set5's *butterfly* (Bevilacqua et al., BMVC 2012),
shrunk by 2 with MATLAB-compatible bicubic: a 128x128 RGB low-resolution
image for trying the package out. It is a test image, never used in training.
"""

from importlib import resources

__all__ = ["sample_path", "sample_image"]


def sample_path():
    """Path-like of the bundled low-resolution sample image.

    Examples
    --------
    >>> sample_path().name
    'butterfly_lr_x2.png'
    """
    return resources.files(__name__) / "butterfly_lr_x2.png"


def sample_image():
    """The sample image as a (128, 128, 3) uint8 RGB array.

    Examples
    --------
    >>> sample_image().shape
    (128, 128, 3)
    """
    import imageio.v3 as iio
    import numpy as np

    return np.asarray(iio.imread(sample_path().read_bytes(), extension=".png"))
