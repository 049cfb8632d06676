"""How low-resolution images are made: the one home of the acquisition model.

A microscope (or camera) turns a fine scene ``x`` into the recorded image ``y``
in three steps, each a function here and all composed by
[Degradation][srcnn_plugin.degradations.Degradation]:

1. **Optics** blur the scene with the point-spread function, modelled as a
   Gaussian of standard deviation ``sigma`` in *output* (high-resolution)
   pixels: ``x * G_sigma`` ([gaussian_psf][srcnn_plugin.degradations.gaussian_psf];
   [psf_sigma][srcnn_plugin.degradations.psf_sigma] converts numerical aperture,
   emission wavelength and pixel size to ``sigma``).
2. **Sampling** to the coarse grid, one of:

   * ``"bicubic"``: MATLAB's anti-aliased bicubic ``imresize`` (the SRCNN
     paper's degradation; it is not how a camera records);
   * ``"binning"``: area integration, each coarse pixel the mean of the fine
     pixels it covers, ``y[i] = (1/s) * integral over [i s, (i + 1) s] of x``
     (a camera with larger pixels; exact for any factor, see
     [bin_pixels][srcnn_plugin.degradations.bin_pixels]);
   * ``"subsample"``: point sampling with linear interpolation and no
     anti-aliasing, as ``cv2.resize(..., INTER_LINEAR)`` shrinks.

   All three keep scikit-image's pixel grid: coarse pixel ``i`` is centred on
   fine coordinate ``(i + 0.5) s - 0.5``. One-axis sampling (``ONE_AXIS``)
   records only the rows, as a microscope records Z:

   * ``"axial"``: the PSF acts along the rows only (the axial PSF, sigma in
     fine pixels), then point samples (optical sections) every ``s`` rows
     ([axial][srcnn_plugin.degradations.axial]); the columns are untouched.

3. **Noise**, Poisson–Gaussian:
   ``y = (Poisson(photons * v) / photons) + N(0, read^2)`` where ``v`` is the
   intensity as a fraction of the image's range and ``read`` the read noise
   as a fraction of that range
   ([add_noise][srcnn_plugin.degradations.add_noise]).

[estimate_noise][srcnn_plugin.degradations.estimate_noise] measures the noise
of a recorded image (the noise-aware models are told this number);
[estimate_poisson_gaussian][srcnn_plugin.degradations.estimate_poisson_gaussian]
fits its signal-dependent (shot) noise, for ``noise="poisson"``;
[PoissonGaussian][srcnn_plugin.degradations.PoissonGaussian] states it.
Training draws degradations from a
[DegradationMixture][srcnn_plugin.degradations.DegradationMixture].
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

__all__ = [
    "SAMPLINGS",
    "ONE_AXIS",
    "gaussian_psf",
    "psf_sigma",
    "bin_pixels",
    "subsample",
    "axial",
    "add_noise",
    "estimate_noise",
    "estimate_poisson_gaussian",
    "PoissonGaussian",
    "Degradation",
    "DegradationMixture",
    "validation_degradations",
    "as_mixture",
]

#: How the coarse grid is sampled (see the module notes).
SAMPLINGS = ("bicubic", "binning", "subsample")
#: Samplings that record one axis (the rows) only, as Z is recorded.
ONE_AXIS = ("axial",)


def gaussian_psf(image: np.ndarray, sigma: float) -> np.ndarray:
    """Blur the two trailing axes with a Gaussian PSF (``sigma`` in pixels).

    Borders are mirrored (``mode='reflect'``); ``sigma=0`` returns a float copy.

    Examples
    --------
    >>> img = np.zeros((9, 9)); img[4, 4] = 1
    >>> out = gaussian_psf(img, 1.0)
    >>> round(float(out.sum()), 6), bool(out[4, 4] < 1)
    (1.0, True)
    """
    from scipy.ndimage import gaussian_filter

    image = np.asarray(image, np.float64)
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0 (pixels), got {sigma}.")
    if sigma == 0:
        return image.copy()
    sig = (0,) * (image.ndim - 2) + (sigma, sigma)
    return gaussian_filter(image, sig, mode="reflect", truncate=4.0)


def psf_sigma(na: float, wavelength: float, pixel_size: float, *, confocal: bool = False) -> float:
    """Gaussian ``sigma`` (in pixels) of a microscope's lateral PSF.

    Uses the Gaussian approximation of the Airy pattern (Zhang, Zerubia and
    Olivo-Marin, Applied Optics 2007): ``sigma = 0.21 * wavelength / NA`` for
    a widefield microscope and ``0.15 * wavelength / NA`` for a confocal one,
    divided by the pixel size of the image you want (the *output* pixel size
    when planning super-resolution).

    Parameters
    ----------
    na : float
        Numerical aperture of the objective.
    wavelength : float
        Emission wavelength, in the same unit as ``pixel_size``.
    pixel_size : float
        Pixel size in the sample plane.
    confocal : bool
        Confocal (pinhole about one Airy unit) instead of widefield.

    Examples
    --------
    >>> round(psf_sigma(1.4, 520, 65), 3)  # 520 nm emission, 65 nm output pixels
    1.2
    """
    if na <= 0 or wavelength <= 0 or pixel_size <= 0:
        raise ValueError("na, wavelength and pixel_size must be positive numbers.")
    return (0.15 if confocal else 0.21) * wavelength / na / pixel_size


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights: the overlap of each coarse pixel with each fine one."""
    s = n_in / n_out
    edges = np.arange(n_out + 1) * s
    lo, hi = edges[:-1, None], edges[1:, None]
    k = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, k + 1) - np.maximum(lo, k), 0, None)
    return overlap / s


def bin_pixels(image: np.ndarray, factor: float) -> np.ndarray:
    """Area-integrate the two trailing axes by ``factor`` (camera binning).

    An integer factor crops each axis to a multiple of it and averages
    ``factor x factor`` blocks; any other factor integrates exactly over the
    coarse pixels' areas (the output has ``round(n / factor)`` pixels).

    Examples
    --------
    >>> bin_pixels(np.arange(16.0).reshape(4, 4), 2)
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    >>> bin_pixels(np.ones((10, 10)), 2.5).shape
    (4, 4)
    """
    image = np.asarray(image, np.float64)
    if factor < 1:
        raise ValueError(f"Binning shrinks: pass a factor >= 1, got {factor}.")
    h, w = image.shape[-2:]
    if float(factor).is_integer():
        s = int(factor)
        image = image[..., : h - h % s, : w - w % s]
        shape = (*image.shape[:-2], h // s, s, w // s, s)
        return image.reshape(shape).mean(axis=(-3, -1))
    my = _area_matrix(h, max(round(h / factor), 1))
    mx = _area_matrix(w, max(round(w / factor), 1))
    return np.matmul(np.matmul(my, image), mx.T)


def subsample(image: np.ndarray, factor: float) -> np.ndarray:
    """Shrink the two trailing axes by linear interpolation, without anti-aliasing.

    This is how ``cv2.resize(..., interpolation=cv2.INTER_LINEAR)`` and
    ``skimage.transform.resize(order=1, anti_aliasing=False)`` shrink: fine
    detail aliases into the coarse image.

    Examples
    --------
    >>> subsample(np.ones((9, 12)), 3).shape
    (3, 4)
    """
    from skimage.transform import resize

    image = np.asarray(image, np.float64)
    h, w = image.shape[-2:]
    shape = (*image.shape[:-2], max(round(h / factor), 1), max(round(w / factor), 1))
    return resize(image, shape, order=1, mode="reflect", anti_aliasing=False)


def axial(image: np.ndarray, factor: float, sigma: float, axis: int = -2) -> np.ndarray:
    """Record ``image`` as a microscope records Z: axial blur, then sections.

    A Gaussian of ``sigma`` fine pixels along ``axis`` (the axial PSF), then
    point samples every ``factor`` pixels along it (optical sections), on
    scikit-image's grid (coarse ``i`` at fine ``(i + 0.5) * factor - 0.5``,
    linear interpolation between fine pixels). The other axes are untouched;
    the axis gets ``round(n / factor)`` pixels.

    Examples
    --------
    >>> axial(np.ones((12, 5)), 4, 2.0).shape
    (3, 5)
    >>> z = np.arange(8.0)[:, None] * np.ones((1, 3))
    >>> axial(z, 2, 0.0)[:, 0].tolist()  # samples at 0.5, 2.5, 4.5, 6.5
    [0.5, 2.5, 4.5, 6.5]
    """
    from scipy.ndimage import gaussian_filter1d

    image = np.asarray(image, np.float64)
    if factor < 1 or sigma < 0:
        raise ValueError(f"factor must be >= 1 and sigma >= 0, got {factor} and {sigma}.")
    axis = axis % image.ndim
    if sigma > 0:
        image = gaussian_filter1d(image, sigma, axis=axis, mode="reflect", truncate=4.0)
    n = image.shape[axis]
    m = max(round(n / factor), 1)
    pos = np.clip((np.arange(m) + 0.5) * (n / m) - 0.5, 0, n - 1)
    i0 = np.minimum(np.floor(pos).astype(int), n - 2) if n > 1 else np.zeros(m, int)
    frac = (pos - i0).reshape((-1,) + (1,) * (image.ndim - axis - 1))
    lo = np.take(image, i0, axis=axis)
    if n == 1:
        return lo
    hi = np.take(image, i0 + 1, axis=axis)
    return lo + (hi - lo) * frac


def add_noise(
    image: np.ndarray,
    *,
    photons: float | None = None,
    read: float = 0.0,
    value_range: tuple[float, float] | None = None,
    rng=None,
) -> np.ndarray:
    """Poisson–Gaussian noise as a camera records it.

    The image is expressed as a fraction ``v`` of ``value_range`` (default:
    its own minimum and maximum); the result is
    ``Poisson(photons * v) / photons + N(0, read^2)`` mapped back to the
    image's units. ``photons`` is the photon count at the top of the range
    (``None``: no shot noise), ``read`` the read-noise standard deviation as a
    fraction of the range (0.01 is "1 % of the range").

    Examples
    --------
    >>> x = np.full((200, 200), 0.5)
    >>> y = add_noise(x, read=0.01, value_range=(0, 1), rng=0)
    >>> round(float(y.std()), 3)
    0.01
    """
    image = np.asarray(image, np.float64)
    rng = np.random.default_rng(rng)
    if photons is not None and photons <= 0:
        raise ValueError(f"photons must be positive (or None for no shot noise), got {photons}.")
    if read < 0:
        raise ValueError(f"read noise must be >= 0, got {read}.")
    lo, hi = value_range if value_range is not None else (image.min(), image.max())
    span = (hi - lo) or 1.0
    v = (image - lo) / span
    if photons is not None:
        v = rng.poisson(np.clip(v, 0, None) * photons) / photons
    if read > 0:
        v = v + rng.normal(0.0, read, size=v.shape)
    return v * span + lo


def estimate_noise(image: np.ndarray, *, max_pixels: int = 2**22, ignore=None) -> float:
    """Standard deviation of white noise in a 2-D image (robust, edge-tolerant).

    The image is filtered with Immerkær's mask
    ``[[1, -2, 1], [-2, 4, -2], [1, -2, 1]]``, which cancels every linear
    ramp (and so most smooth signal); white noise of standard deviation
    ``sigma`` gives a response of standard deviation ``6 sigma``. The median
    absolute response divided by ``0.6745 * 6`` is the estimate: the median
    ignores the edges and texture that a mean (Immerkær's estimator) would
    count as noise. For Poisson–Gaussian noise it is the typical level.

    Parameters
    ----------
    image : (M, N) ndarray
        One plane.
    max_pixels : int
        Larger planes are estimated on a central crop of this many pixels.
    ignore : (M, N) bool ndarray, optional
        Pixels that hold no data (a zero fill left by registration or
        deskewing): the mask's responses there are left out. A noiseless
        fill over a fifth of the plane would otherwise pull the median, and
        the estimate, down by about 30 %.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ramp = np.add.outer(np.arange(256.0), np.arange(256.0)) / 512
    >>> noisy = ramp + rng.normal(0, 0.02, ramp.shape)
    >>> round(estimate_noise(noisy), 3)
    0.02
    >>> estimate_noise(ramp)
    0.0
    >>> noisy[:, :160] = 0.0  # a zero fill over most of the plane
    >>> estimate_noise(noisy), round(estimate_noise(noisy, ignore=noisy == 0), 3)
    (0.0, 0.02)
    """
    x = np.asarray(image, np.float64)
    if x.ndim != 2:
        raise ValueError(f"estimate_noise takes one 2-D plane, got shape {x.shape}.")
    h, w = x.shape
    if h < 3 or w < 3:
        return 0.0
    r = np.abs(_immerkaer(_central_crop(x, max_pixels)))
    r = _kept(r, ignore, x.shape, max_pixels)
    return float(np.median(r)) / (0.6745 * 6.0) if r.size else 0.0


def _kept(response: np.ndarray, ignore, shape, max_pixels: int) -> np.ndarray:
    """The mask's responses (all, flat) of the pixels not in ``ignore``."""
    if ignore is None:
        return response.ravel()
    ignore = np.asarray(ignore, bool)
    if ignore.shape != shape:
        raise ValueError(f"ignore must have the image's shape {shape}, got {ignore.shape}.")
    return response[~_central_crop(ignore, max_pixels)[1:-1, 1:-1]]


def _central_crop(x: np.ndarray, max_pixels: int) -> np.ndarray:
    """``x``, or its central square of at most ``max_pixels`` pixels when larger."""
    h, w = x.shape
    if h * w <= max_pixels:
        return x
    side = int(math.sqrt(max_pixels))
    r0, c0 = max((h - side) // 2, 0), max((w - side) // 2, 0)
    return x[r0 : r0 + side, c0 : c0 + side]


def _immerkaer(x: np.ndarray) -> np.ndarray:
    """Immerkær's mask over the interior of ``x``: ``6 sigma`` for white noise.

    The mask is the outer product of two second differences ``[1, -2, 1]``,
    applied one axis at a time (6 array operations instead of 17).
    """
    d = x[:, :-2] - 2 * x[:, 1:-1] + x[:, 2:]
    return d[:-2] - 2 * d[1:-1] + d[2:]


def estimate_poisson_gaussian(
    image: np.ndarray, *, bins: int = 16, max_pixels: int = 2**22, ignore=None
) -> tuple[float, float]:
    """Signal-dependent noise of a 2-D image: ``variance = a * mean + b``.

    Poisson–Gaussian noise (photon shot noise on top of read noise) has a
    variance that grows linearly with the expected intensity ``mu``:
    ``a = 1 / photons`` per unit of intensity (times the range, in the
    image's units) and ``b`` the read-noise variance (less ``a`` times the
    black level). Each pixel's noise is measured with the mask of
    [estimate_noise][srcnn_plugin.degradations.estimate_noise] and its
    local mean over 3 x 3 pixels; pixels are split into ``bins``
    equal-count bins of local mean, each bin's variance is its robust
    (median absolute) level squared, and a line is fitted to the bins. Bins
    more than twice above the line are texture rather than noise and are
    dropped (five rounds). ``a`` is never negative: a decreasing fit falls
    back to ``a = 0`` and the median bin variance.

    Parameters
    ----------
    image : (M, N) ndarray
        One plane.
    bins : int
        Number of intensity bins.
    max_pixels : int
        Larger planes are measured on a central crop of this many pixels.
    ignore : (M, N) bool ndarray, optional
        Pixels that hold no data, left out (as in ``estimate_noise``).

    Returns
    -------
    a, b : float
        Slope and intercept of the variance against the mean, in the
        image's units (``a`` in intensity, ``b`` in intensity squared).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> mu = np.tile(np.linspace(10, 1000, 512), (512, 1))  # photons
    >>> a, b = estimate_poisson_gaussian(rng.poisson(mu) + rng.normal(0, 5, mu.shape))
    >>> round(a, 1), bool(abs(b - 5**2) < 10)  # 1 per photon; read noise 5
    (1.0, True)
    >>> a, b = estimate_poisson_gaussian(mu + rng.normal(0, 5, mu.shape))
    >>> bool(a < 0.01), round(float(np.sqrt(b)))  # Gaussian only
    (True, 5)
    >>> estimate_poisson_gaussian(np.ones((64, 64)))
    (0.0, 0.0)
    """
    from scipy import ndimage as ndi

    x = np.asarray(image, np.float64)
    if x.ndim != 2:
        raise ValueError(f"estimate_poisson_gaussian takes one 2-D plane, got shape {x.shape}.")
    h, w = x.shape
    if h < 3 or w < 3:
        return 0.0, 0.0
    shape = x.shape
    x = _central_crop(x, max_pixels)
    r = _kept(np.abs(_immerkaer(x)), ignore, shape, max_pixels) / (0.6745 * 6.0)
    mu = _kept(ndi.uniform_filter(x, 3)[1:-1, 1:-1], ignore, shape, max_pixels)
    if not r.size:
        return 0.0, 0.0
    groups = np.array_split(np.argsort(mu, kind="stable"), max(1, min(bins, r.size // 64)))
    m = np.array([np.median(mu[g]) for g in groups])
    v = np.array([np.median(r[g]) ** 2 for g in groups])
    keep = np.ones(m.size, bool)
    for _ in range(5):
        a, b = 0.0, float(np.median(v[keep]))  # no growth with the intensity
        if np.ptp(m[keep]) > 0:
            slope, intercept = np.polyfit(m[keep], v[keep], 1)
            if slope > 0:
                a, b = float(slope), float(intercept)
        keep = v <= 2.0 * np.maximum(a * m + b, 1e-300)
        if not keep.any():
            break
    return a, b


@dataclass(frozen=True)
class PoissonGaussian:
    """A camera's noise, stated: shot noise plus read noise, in the image's units.

    ``variance = gain * (intensity - offset) + read**2``: a pixel that
    counted ``n`` photo-electrons reads ``offset + gain * n`` and has shot
    variance ``gain**2 * n``. Pass it as ``rescale(..., noise=PoissonGaussian(...))``
    (one for every channel, or one per channel) to tell the noise-aware
    models what ``noise="poisson"`` would measure.

    Parameters
    ----------
    gain : float
        Intensity units per photo-electron (1 for photon counts; a camera's
        conversion gain in ADU per electron), ``>= 0``.
    offset : float
        The camera's baseline (the reading of no light).
    read : float
        Read-noise standard deviation, in intensity units, ``>= 0``.

    Examples
    --------
    >>> cam = PoissonGaussian(gain=2.0, offset=100.0, read=3.0)
    >>> a, b = cam.line  # at 300 (100 electrons): 2 * 200 + 9
    >>> a, b, a * 300 + b
    (2.0, -191.0, 409.0)
    >>> PoissonGaussian(gain=-1)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    ValueError: PoissonGaussian needs gain >= 0, read >= 0, all finite; got gain=-1 ...
    """

    gain: float
    offset: float = 0.0
    read: float = 0.0

    def __post_init__(self):
        ok = all(
            isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)
            for v in (self.gain, self.offset, self.read)
        )
        if not ok or self.gain < 0 or self.read < 0:
            raise ValueError(
                "PoissonGaussian needs gain >= 0, read >= 0, all finite; "
                f"got gain={self.gain!r}, offset={self.offset!r}, read={self.read!r}."
            )

    @property
    def line(self) -> tuple[float, float]:
        """``(a, b)`` with ``variance = a * intensity + b``."""
        return float(self.gain), float(self.read**2 - self.gain * self.offset)


@dataclass(frozen=True)
class Degradation:
    """One acquisition: PSF blur, sampling to the coarse grid, noise.

    Parameters
    ----------
    sampling : {'bicubic', 'binning', 'subsample', 'axial'}
        How the coarse grid is sampled (module notes); ``'axial'`` records
        the rows only.
    psf : float
        Gaussian PSF sigma in fine (output) pixels; 0 for none. For
        ``'axial'``, the axial PSF (along the rows only).
    read : float
        Read-noise standard deviation, as a fraction of the image's range.
    photons : float, optional
        Photons at the top of the range (shot noise); ``None`` for none.

    Examples
    --------
    >>> d = Degradation.parse("psf=1.0+binning+noise=0.01")
    >>> d
    Degradation(sampling='binning', psf=1.0, read=0.01, photons=None)
    >>> str(d)
    'psf=1+binning+noise=0.01'
    >>> d.apply(np.ones((20, 20)), 2, rng=0).shape
    (10, 10)
    >>> Degradation.parse("axial+psf=2").apply(np.ones((20, 20)), 4).shape
    (5, 20)
    """

    sampling: str = "bicubic"
    psf: float = 0.0
    read: float = 0.0
    photons: float | None = None

    def __post_init__(self):
        if self.sampling not in SAMPLINGS + ONE_AXIS:
            raise ValueError(
                f"Unknown sampling {self.sampling!r}; pass one of {SAMPLINGS + ONE_AXIS}."
            )
        if self.psf < 0 or self.read < 0 or (self.photons is not None and self.photons <= 0):
            raise ValueError("psf and noise must be >= 0 and photons > 0.")

    def __str__(self) -> str:
        parts = [f"psf={self.psf:g}"] if self.psf else []
        parts.append(self.sampling)
        if self.read:
            parts.append(f"noise={self.read:g}")
        if self.photons is not None:
            parts.append(f"photons={self.photons:g}")
        return "+".join(parts)

    @classmethod
    def parse(cls, text: str) -> Degradation:
        """Read ``"psf=S+SAMPLING+noise=R+photons=P"`` (any order, parts optional)."""
        lo, hi = DegradationMixture.parse_terms(text)
        if lo != hi:
            raise ValueError(f"{text!r} gives ranges; use DegradationMixture for ranges.")
        return cls(**lo)

    def shrink(self, image: np.ndarray, factor: float) -> np.ndarray:
        """Blur and sample ``image`` (noise-free), float64."""
        from ._imresize import imresize

        if self.sampling == "axial":
            return axial(image, factor, self.psf, axis=-2)
        x = gaussian_psf(image, self.psf)
        if self.sampling == "binning":
            return bin_pixels(x, factor)
        if self.sampling == "subsample":
            return subsample(x, factor)
        h, w = x.shape[-2:]
        if float(factor).is_integer():
            return imresize(x, 1.0 / factor)
        return imresize(x, output_shape=(max(round(h / factor), 1), max(round(w / factor), 1)))

    def apply(self, image: np.ndarray, factor: float, *, value_range=None, rng=None):
        """The recorded low-resolution image of ``image`` at ``factor``, float64.

        ``value_range`` is the range the noise fractions refer to (default:
        the image's own minimum and maximum).
        """
        image = np.asarray(image, np.float64)
        if value_range is None:
            value_range = (float(image.min()), float(image.max()))
        lr = self.shrink(image, factor)
        if self.read or self.photons is not None:
            lr = add_noise(lr, photons=self.photons, read=self.read, value_range=value_range,
                           rng=rng)  # fmt: skip
        return lr


_TERM = re.compile(r"^(psf|noise|photons)=([0-9.eE+-]+?)(?:-([0-9.eE+]+))?$")


@dataclass(frozen=True)
class DegradationMixture:
    """Random degradations for training: a list of specs, each with ranges.

    A spec is a ``+``-joined string as for
    [Degradation.parse][srcnn_plugin.degradations.Degradation.parse] whose
    numbers may be ranges ``lo-hi`` (drawn uniformly). ``psf`` values are
    multiples of the factor when ``psf_per_factor`` is true (``psf=0.5`` is
    1 pixel at x2 and 1.5 at x3). ``clean`` is the probability that a drawn
    degradation has no noise at all.

    Examples
    --------
    >>> m = DegradationMixture(("bicubic", "psf=0-0.75+binning+noise=0-0.05"))
    >>> d = m.sample(np.random.default_rng(0), factor=2)
    >>> d.sampling in SAMPLINGS
    True
    """

    specs: tuple[str, ...] = ("bicubic",)
    psf_per_factor: bool = True
    clean: float = 0.25
    _parsed: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self):
        if isinstance(self.specs, str):
            object.__setattr__(self, "specs", (self.specs,))
        if not self.specs:
            raise ValueError("A mixture needs at least one degradation spec.")
        if not 0 <= self.clean <= 1:
            raise ValueError(f"clean must be a probability in [0, 1], got {self.clean}.")
        object.__setattr__(self, "_parsed", tuple(self.parse_terms(s) for s in self.specs))
        kinds = {lo["sampling"] in ONE_AXIS for lo, _ in self._parsed}
        if len(kinds) > 1:
            raise ValueError(
                f"A mixture records either both axes or the rows only; {self.specs} mixes "
                f"{ONE_AXIS} with {SAMPLINGS}: train one-axis models on their own."
            )

    @property
    def one_axis(self) -> bool:
        """Whether the mixture records the rows only (``ONE_AXIS`` samplings)."""
        return self._parsed[0][0]["sampling"] in ONE_AXIS

    @staticmethod
    def parse_terms(text: str) -> tuple[dict, dict]:
        """``(low, high)`` keyword dicts of a spec string (equal without ranges)."""
        lo: dict = {"sampling": "bicubic"}
        hi: dict = {"sampling": "bicubic"}
        seen = set()
        for term in str(text).replace(" ", "").split("+"):
            if term in SAMPLINGS + ONE_AXIS:
                key, a, b = "sampling", term, term
            else:
                m = _TERM.match(term)
                if not m:
                    raise ValueError(
                        f"Cannot read {term!r} in degradation {text!r}; write terms like "
                        f"'psf=1.0', 'noise=0.01', 'photons=200', ranges 'noise=0-0.05', "
                        f"and one of {SAMPLINGS + ONE_AXIS}, joined by '+'."
                    )
                key = {"noise": "read"}.get(m.group(1), m.group(1))
                a = float(m.group(2))
                b = float(m.group(3)) if m.group(3) else a
                if b < a:
                    raise ValueError(f"Range {term!r} must go from low to high.")
            if key in seen:
                raise ValueError(f"{key!r} is given twice in degradation {text!r}.")
            seen.add(key)
            lo[key], hi[key] = a, b
        return lo, hi

    def sample(self, rng, factor: float) -> Degradation:
        """Draw one [Degradation][srcnn_plugin.degradations.Degradation]."""
        lo, hi = self._parsed[rng.integers(len(self._parsed))]
        kw = {}
        for key in lo:
            if key == "sampling":
                kw[key] = lo[key]
            else:
                kw[key] = float(rng.uniform(lo[key], hi[key]))
        if "psf" in kw and self.psf_per_factor:
            kw["psf"] *= factor
        if rng.random() < self.clean:
            kw.pop("read", None)
            kw.pop("photons", None)
        return Degradation(**kw)


def validation_degradations(factor: float, one_axis: bool = False) -> list[Degradation]:
    """The fixed acquisitions models are selected and benchmarked on, at ``factor``.

    The paper's bicubic; binning; a Gaussian PSF of ``factor / 2`` output
    pixels (1 at x2, 1.5 at x3) with binning; and the same with Gaussian
    noise of 1 % and 3 % of the range. ``one_axis``: the axial recordings
    one-axis models are selected on, axial PSF ``factor / 4``, ``factor / 2``
    (``isotropic``'s default) and ``factor / 2`` with 1 % noise.

    Examples
    --------
    >>> [str(d) for d in validation_degradations(2)]
    ['bicubic', 'binning', 'psf=1+binning', 'psf=1+binning+noise=0.01', 'psf=1+binning+noise=0.03']
    >>> [str(d) for d in validation_degradations(4, one_axis=True)]
    ['psf=1+axial', 'psf=2+axial', 'psf=2+axial+noise=0.01']
    """
    s = factor / 2
    if one_axis:
        return [
            Degradation("axial", psf=s / 2),
            Degradation("axial", psf=s),
            Degradation("axial", psf=s, read=0.01),
        ]
    return [
        Degradation("bicubic"),
        Degradation("binning"),
        Degradation("binning", psf=s),
        Degradation("binning", psf=s, read=0.01),
        Degradation("binning", psf=s, read=0.03),
    ]


def as_mixture(spec: str | Sequence[str] | DegradationMixture | None) -> DegradationMixture | None:
    """A mixture from a spec string, a list of them, or a mixture (``None`` stays)."""
    if spec is None or isinstance(spec, DegradationMixture):
        return spec
    return DegradationMixture(tuple([spec] if isinstance(spec, str) else spec))
