"""Argument checks with messages that say what to pass instead."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

__all__ = [
    "ImageTypeError",
    "check_noise",
    "check_psf_sigma",
    "check_image_dtype",
    "check_shape",
    "check_scale",
    "check_channel_axis",
    "check_finite_range",
    "check_no_data_color",
]


class ImageTypeError(TypeError, ValueError):
    """An image of a type that cannot be super-resolved.

    Both a ``TypeError`` (ours since 0.1) and a ``ValueError`` (what
    scikit-image raises for such images), so either ``except`` works.
    """


_AxisError = getattr(np, "exceptions", np).AxisError


def check_image_dtype(dtype) -> None:
    """Reject dtypes that are not real numbers.

    Examples
    --------
    >>> check_image_dtype(np.dtype(np.uint16))
    >>> check_image_dtype(np.dtype(bool))
    Traceback (most recent call last):
    ...
    srcnn_plugin._validation.ImageTypeError: Boolean images cannot be super-resolved; convert a mask with image.astype(np.float32) or resize it with skimage.transform.rescale(..., order=0).
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        raise ImageTypeError(
            "Boolean images cannot be super-resolved; convert a mask with "
            "image.astype(np.float32) or resize it with skimage.transform.rescale(..., order=0)."
        )
    if np.issubdtype(dtype, np.complexfloating):
        raise ImageTypeError(
            "Complex images are not supported; super-resolve np.abs(image) or the real and "
            "imaginary parts separately."
        )
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise ImageTypeError(
            f"Image dtype {dtype} is not numeric; pass an integer or floating-point array."
        )


def check_shape(shape) -> None:
    """Reject 0-d and empty arrays."""
    if len(shape) == 0:
        raise ValueError("Image is a scalar (0-d); pass an array with at least one axis.")
    if any(n == 0 for n in shape):
        raise ValueError(f"Image of shape {tuple(shape)} is empty; pass a non-empty array.")


def check_channel_axis(channel_axis, ndim: int) -> int | None:
    """Normalise ``channel_axis`` to a non-negative index (or None).

    Examples
    --------
    >>> check_channel_axis(-1, 3)
    2
    """
    if channel_axis is None:
        return None
    if isinstance(channel_axis, bool) or not isinstance(channel_axis, (int, np.integer)):
        raise TypeError(f"channel_axis must be an int or None, got {type(channel_axis).__name__}.")
    if not -ndim <= channel_axis < ndim:
        # numpy's AxisError, as scikit-image raises: a ValueError and an IndexError.
        raise _AxisError(
            f"channel_axis={channel_axis} is out of range for a {ndim}-D image; pass an axis "
            f"in [{-ndim}, {ndim - 1}] or None if the image has no channel axis."
        )
    if ndim < 2:
        raise ValueError("An image with a channel axis needs at least one spatial axis.")
    return int(channel_axis) % ndim


def check_scale(scale, n_spatial: int) -> tuple[float, ...]:
    """Return one positive finite factor per spatial axis.

    Examples
    --------
    >>> check_scale(2, 3)
    (2.0, 2.0, 2.0)
    >>> check_scale((1, 3), 2)
    (1.0, 3.0)
    >>> check_scale(np.array(2.5), 2), check_scale([3], 2)
    ((2.5, 2.5), (3.0, 3.0))
    """
    if isinstance(scale, np.ndarray) and scale.ndim == 0:
        scale = scale.item()
    if isinstance(scale, Real) and not isinstance(scale, bool):
        values = (float(scale),) * n_spatial
    else:
        try:
            values = tuple(float(s) for s in scale)
        except (TypeError, ValueError):
            raise TypeError(
                f"scale must be a number or a sequence of numbers, got {scale!r}."
            ) from None
        if len(values) == 1:  # scikit-image broadcasts a one-element sequence
            values = values * n_spatial
        if len(values) != n_spatial:
            raise ValueError(
                f"Got {len(values)} scale values for {n_spatial} spatial axes; supply a single "
                f"scale, or one value per spatial axis (the channel axis excluded)."
            )
    for v in values:
        if not math.isfinite(v) or v <= 0:
            raise ValueError(
                f"Scale factors must be finite and > 0, got {scale!r}; pass e.g. 2 or (1, 2.5)."
            )
    return values


def check_no_data_color(mix) -> None:
    """Raise for NaN (no data) in a colour image made luminance (``color_mode='ycbcr'``)."""
    if mix is not None:
        raise ValueError(
            "NaN (no data) is not supported in a colour image upscaled as luminance "
            "(color_mode='ycbcr', and the OpenCV face's BGR images); use "
            "color_mode='channels' (each channel on its own), or replace it first, e.g. "
            "with np.nan_to_num(image)."
        )


def check_finite_range(lo, hi) -> None:
    """Raise if per-channel min/max reveal infinity.

    NaN is "no data", settled before (``_job.no_data``): the ranges checked
    here are the data's.
    """
    lo, hi = np.asarray(lo), np.asarray(hi)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError(
            "Image contains infinite values; replace them first, e.g. with "
            "np.nan_to_num(image), or set them to NaN, which rescale takes as no data "
            "(it stays NaN in the output and does not spread to its neighbours)."
        )


def check_noise(noise, n_channels: int):
    """``"auto"``, ``"poisson"``, the noise level per channel, or its variance line.

    ``noise`` is ``"auto"`` (or ``None``: measure it), ``"poisson"``
    (measure signal-dependent shot noise), a number ``>= 0`` in the image's
    own units (0: a clean image), or one number per channel (returned as a
    ``(C,)`` float64 array); or a stated
    [PoissonGaussian][srcnn_plugin.degradations.PoissonGaussian], for every
    channel or one per channel (returned as ``(C, 2)`` variance lines).

    Examples
    --------
    >>> from srcnn_plugin.degradations import PoissonGaussian
    >>> check_noise("auto", 3), check_noise("poisson", 1)
    ('auto', 'poisson')
    >>> check_noise(2.5, 2)
    array([2.5, 2.5])
    >>> check_noise(PoissonGaussian(2.0, 100.0, 3.0), 2)
    array([[   2., -191.],
           [   2., -191.]])
    >>> check_noise(-1, 1)
    Traceback (most recent call last):
    ...
    ValueError: noise must be 'auto', 'poisson', a PoissonGaussian or a standard deviation >= 0 in the image's units; got -1.
    """
    from .degradations import PoissonGaussian

    if noise is None or (isinstance(noise, str) and noise == "auto"):
        return "auto"
    if isinstance(noise, str) and noise == "poisson":
        return "poisson"
    stated = [noise] if isinstance(noise, PoissonGaussian) else noise
    if isinstance(stated, (list, tuple)) and any(isinstance(v, PoissonGaussian) for v in stated):
        if len(stated) not in (1, n_channels) or not all(
            isinstance(v, PoissonGaussian) for v in stated
        ):
            raise ValueError(
                f"Pass one PoissonGaussian for every channel or one per channel "
                f"({n_channels}); got {noise!r}."
            )
        lines = np.array([v.line for v in stated], np.float64)
        return np.broadcast_to(lines, (n_channels, 2)).copy()
    if isinstance(noise, (str, bytes, bool)):
        values = None
    else:
        try:
            values = np.broadcast_to(np.asarray(noise, np.float64), (n_channels,)).copy()
        except (TypeError, ValueError):
            values = None
    if values is None or not np.all(np.isfinite(values)) or np.any(values < 0):
        per = f", or one per channel ({n_channels} values)" if n_channels > 1 else ""
        raise ValueError(
            "noise must be 'auto', 'poisson', a PoissonGaussian or a standard deviation >= 0 "
            f"in the image's units{per}; "
            f"got {noise!r}."
        )
    return values


def check_psf_sigma(psf_sigma):
    """``None`` (the model's default) or a finite Gaussian sigma >= 0, as a float.

    Examples
    --------
    >>> check_psf_sigma(1), check_psf_sigma(None)
    (1.0, None)
    >>> check_psf_sigma(-1)
    Traceback (most recent call last):
    ...
    ValueError: psf_sigma must be None (the model's default) or a Gaussian sigma >= 0 in output pixels, got -1.
    """
    if psf_sigma is None:
        return None
    ok = isinstance(psf_sigma, Real) and not isinstance(psf_sigma, bool)
    if not ok or not math.isfinite(psf_sigma) or psf_sigma < 0:
        raise ValueError(
            "psf_sigma must be None (the model's default) or a Gaussian sigma >= 0 in output "
            f"pixels, got {psf_sigma!r}."
        )
    return float(psf_sigma)
