"""dtype and intensity rules (scikit-image's), and the model's normalisation.

* Output dtype: float32 in -> float32, float64 -> float64, float16 -> float32,
  integers -> float64 (``output_dtype``).
* Integers are scaled to [0, 1] ([-1, 1] for signed) as ``img_as_float`` does,
  unless ``preserve_range=True`` (``input_scale``).
* The network sees each channel mapped affinely to [0, 1] by its own minimum
  and maximum (``Normalizer``); the map is inverted exactly on the output, so
  ``rescale(a * x + b) == a * rescale(x) + b`` for ``a > 0`` and a 12-bit image in
  uint16 gets the same result as the same image in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["output_dtype", "input_scale", "Normalizer"]


def output_dtype(dtype) -> np.dtype:
    """Floating dtype of the result for an input dtype.

    Examples
    --------
    >>> output_dtype(np.float16), output_dtype(np.uint8), output_dtype(np.float32)
    (dtype('float32'), dtype('float64'), dtype('float32'))
    """
    dtype = np.dtype(dtype)
    if dtype == np.float32 or dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def input_scale(dtype, preserve_range: bool) -> float:
    """Factor that maps stored values to the output's value range.

    Examples
    --------
    >>> input_scale(np.uint8, False) == 1 / 255
    True
    >>> input_scale(np.uint16, True)
    1.0
    """
    dtype = np.dtype(dtype)
    if preserve_range or not np.issubdtype(dtype, np.integer):
        return 1.0
    return 1.0 / float(np.iinfo(dtype).max)


@dataclass(frozen=True)
class Normalizer:
    """Affine map of each channel's ``[lo, hi]`` onto ``[0, 1]``, and back.

    ``lo``/``hi`` have one entry per channel (a single entry without channels).
    A constant channel (``hi == lo``) maps to 0 and back to its value.

    Examples
    --------
    >>> n = Normalizer(np.array([10.0]), np.array([20.0]))
    >>> n.forward(np.array([15.0]), 0), n.inverse(np.array([0.5]), 0)
    (array([0.5]), array([15.]))
    """

    lo: np.ndarray
    hi: np.ndarray

    def span(self, c: int) -> float:
        """Width of channel ``c``'s range (1 for a constant channel)."""
        d = float(self.hi[c]) - float(self.lo[c])
        return d if d > 0 else 1.0

    def forward(self, x, c: int):
        """Map channel ``c`` values to [0, 1]."""
        return (x - self.lo[c]) / self.span(c)

    def inverse(self, y, c: int):
        """Map [0, 1] back to channel ``c``'s values."""
        return y * self.span(c) + self.lo[c]

    def is_constant(self, c: int) -> bool:
        """True if channel ``c`` holds a single value."""
        return not float(self.hi[c]) > float(self.lo[c])
