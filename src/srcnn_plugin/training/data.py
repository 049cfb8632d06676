"""Training data: image planes, a held-out validation split, patch pairs.

By default low-resolution inputs are made exactly as in the paper's
evaluation protocol (MATLAB-compatible bicubic down and up, see
[imresize][srcnn_plugin._imresize.imresize]). With a
[DegradationMixture][srcnn_plugin.degradations.DegradationMixture] each
image is recorded several times with random acquisitions (PSF, binning,
noise; see [acquire][srcnn_plugin.training.data.acquire]), and each pair
carries the noise level measured on its low-resolution image, the number a
noise-aware model is told at inference. A band limit (``hr_blur``) blurs each
recording's ground truth first, with a Gaussian of random width: a microscope's
optics band-limit the images a model is asked to restore, photographs are
sharper per pixel.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .._color import rgb_to_y_uint8, rgb_to_ycbcr
from .._dtype import model_affine
from .._imresize import imresize

__all__ = [
    "IMAGE_SUFFIXES",
    "list_images",
    "read_luma",
    "read_planes",
    "CHANNEL_MODES",
    "split_validation",
    "degrade",
    "acquire",
    "record",
    "add_shrunk_copies",
    "check_hr_blur",
    "PatchSampler",
    "AXIS_KEEPING",
]

IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")

#: The dihedral transforms (see ``_dihedral_grids``) that keep the row axis a row
#: axis: identity, mirror, half turn, half turn + mirror. Pairs degraded along
#: one axis are augmented with these only.
AXIS_KEEPING = (0, 1, 4, 5)

#: How ``read_planes`` turns an image's channels into training planes.
CHANNEL_MODES = ("auto", "luma", "each")


def list_images(sources: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Expand folders (non-recursive) and files into a sorted list of image paths.

    Raises
    ------
    FileNotFoundError
        If a source does not exist.
    ValueError
        If no images are found.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    paths: list[Path] = []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            paths.extend(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            paths.append(p)
        else:
            raise FileNotFoundError(f"No such image file or folder: {p}")
    if not paths:
        raise ValueError(
            f"No images ({', '.join(IMAGE_SUFFIXES)}) found in {list(map(str, sources))}; "
            "pass a folder of images or a list of image files."
        )
    return sorted(set(paths))


def read_luma(path: str | os.PathLike) -> np.ndarray:
    """Read an 8-bit image and return its BT.601 Y channel as uint8.

    Greyscale images are their own Y; an alpha channel is ignored; 16-bit
    images are reduced to 8 bits so every training image has the same range.
    """
    import imageio.v3 as iio

    img = np.asarray(iio.imread(path))
    if img.dtype == np.uint16:
        img = np.round(img / 257.0).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ValueError(f"{path}: training images must be 8- or 16-bit, got {img.dtype}.")
    if img.ndim == 3 and img.shape[-1] in (1, 2):
        img = img[..., 0]
    return rgb_to_y_uint8(img)


def read_planes(path: str | os.PathLike, channels: str = "auto") -> list[np.ndarray]:
    """Read a training image as the 2-D planes the network learns from.

    * **8-bit** images keep their values (uint8), as the bundled models were
      trained: an RGB(A) image gives its BT.601 Y (``channels="auto"`` or
      ``"luma"``) or its three colour channels (``"each"``); a grey image is
      itself. With 2 or 4 channels the last is alpha (PNG) and is ignored.
    * **Everything else** (12- or 16-bit data in uint16, other integers,
      floats): each plane is mapped from its own minimum and maximum onto
      the model's range, as float32 in [0, 1], which is exactly how
      ``rescale`` presents a 2-D channel to the network (for a stack,
      ``rescale`` normalises each channel over all its planes). A 12-bit image in
      uint16 therefore trains on its full range. Channels are separate
      planes (``"auto"``, ``"each"``) or, for RGB, mixed to Y (``"luma"``).
    * **Stacks**: leading axes (Z, time) are planes too. The last axis is a
      channel axis when it has at most 4 entries and the image has 3 or more
      dimensions: ``(M, N, C)``, ``(Z, M, N, C)``; otherwise ``(Z, M, N)``.

    Planes with a single value carry no detail and are left out.

    Parameters
    ----------
    path : path
        An image file that imageio reads (PNG, TIFF, ...).
    channels : {"auto", "luma", "each"}
        How to treat colour and fluorescence channels (see above).

    Returns
    -------
    list of ndarray
        2-D uint8 (8-bit input) or float32 planes.

    Examples
    --------
    >>> import tempfile, imageio.v3 as iio
    >>> f = Path(tempfile.mkdtemp()) / "stack.tif"
    >>> iio.imwrite(f, np.arange(2 * 8 * 9, dtype=np.uint16).reshape(2, 8, 9) * 50)
    >>> planes = read_planes(f)
    >>> len(planes), planes[0].dtype, round(float(planes[0].min()) * 255, 3)
    (2, dtype('float32'), 16.0)
    """
    import imageio.v3 as iio

    if channels not in CHANNEL_MODES:
        raise ValueError(f"channels must be one of {CHANNEL_MODES}, got {channels!r}.")
    img = np.asarray(iio.imread(path))
    if img.dtype.kind not in "uif" or img.ndim < 2:
        raise ValueError(
            f"{path}: expected a 2-D (or stacked / multichannel) numeric image, "
            f"got shape {img.shape} and dtype {img.dtype}."
        )
    eight_bit = img.dtype == np.uint8
    has_channels = img.ndim >= 3 and img.shape[-1] <= 4
    if not has_channels:
        img = img[..., None]
    n_ch = img.shape[-1]
    if eight_bit and n_ch in (2, 4):  # grey + alpha, RGB + alpha
        img, n_ch = img[..., : n_ch - 1], n_ch - 1
    if n_ch == 3 and (channels == "luma" or (channels == "auto" and eight_bit)):
        img = rgb_to_y_uint8(img) if eight_bit else rgb_to_ycbcr(img.astype(np.float64))[..., 0]
        img = img[..., None]
    planes = np.moveaxis(img, -1, 0).reshape(-1, *img.shape[-3:-1])
    out = []
    for plane in planes:
        lo, hi = float(plane.min()), float(plane.max())
        if hi <= lo:
            continue
        if not eight_bit:
            gain, offset = model_affine(lo, hi - lo)
            plane = (plane.astype(np.float64) * gain + offset).astype(np.float32)
        out.append(plane)
    return out


def split_validation(
    paths: Sequence[Path], fraction: float = 0.05, seed: int = 0
) -> tuple[list[Path], list[Path]]:
    """Split ``paths`` into (train, validation) with a seeded shuffle.

    At least one image is held out when there are two or more.

    Examples
    --------
    >>> tr, va = split_validation([Path(f"{i}.png") for i in range(20)], 0.1)
    >>> len(tr), len(va)
    (18, 2)
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"Validation fraction must be in [0, 1), got {fraction}.")
    paths = sorted(paths)
    order = np.random.default_rng(seed).permutation(len(paths))
    n_val = int(round(fraction * len(paths)))
    if fraction > 0 and len(paths) >= 2:
        n_val = max(n_val, 1)
    val = sorted(paths[i] for i in order[:n_val])
    train = sorted(paths[i] for i in order[n_val:])
    return train, val


def degrade(hr: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Make the (HR, bicubic) float32 pair of the paper's protocol.

    For an integer ``scale``, ``hr`` (uint8, or float in [0, 1]) is cropped to
    a multiple of ``scale``, shrunk by ``1/scale`` and enlarged again with
    MATLAB bicubic, the LR image kept as float (exactly the paper's
    protocol). A fractional factor shrinks to ``round(size / scale)`` and
    enlarges back to the full size.

    Examples
    --------
    >>> hr, bic = degrade(np.full((10, 11), 128, np.uint8), 3)
    >>> hr.shape, bic.shape
    ((9, 9), (9, 9))
    >>> degrade(np.zeros((10, 11)), 1.5)[1].shape
    (10, 11)
    """
    from ..degradations import Degradation

    hr, lr = record(hr, scale, Degradation("bicubic"))
    bic = imresize(lr, output_shape=hr.shape)
    return hr.astype(np.float32), bic.astype(np.float32)


def acquire(
    hr: np.ndarray, scale: float, degradation, rng=None, line: bool = False, band: float = 0.0
):
    """Record ``hr`` with ``degradation``: the (HR, bicubic, noise level) triple.

    ``hr`` (uint8, or float in the model's range) is cropped to a multiple
    of an integer ``scale`` and, with ``band`` > 0, band-limited: blurred by a
    Gaussian of sigma ``band`` HR pixels
    ([gaussian_psf][srcnn_plugin.degradations.gaussian_psf]), which makes it
    the ground truth (a truth as smooth as a microscope's optics record it);
    the recorded low-resolution image (see
    [Degradation.apply][srcnn_plugin.degradations.Degradation.apply], noise
    relative to the plane's own range) is enlarged back with MATLAB bicubic,
    exactly as ``rescale`` enlarges before the network; the noise level is
    [estimate_noise][srcnn_plugin.degradations.estimate_noise] of the
    low-resolution image, as ``rescale`` measures it (with ``line``, its
    variance line ``(a, b)`` by
    [estimate_poisson_gaussian][srcnn_plugin.degradations.estimate_poisson_gaussian],
    as ``noise="poisson"`` measures it).

    Examples
    --------
    >>> from srcnn_plugin.degradations import Degradation
    >>> hr = np.random.default_rng(0).random((20, 21))
    >>> h, b, sigma = acquire(hr, 2, Degradation("binning", read=0.05), rng=0)
    >>> h.shape, b.shape, sigma > 0.02
    ((20, 20), (20, 20), True)
    >>> smooth = acquire(hr, 2, Degradation("binning"), band=1.0)[0]
    >>> bool(np.abs(np.diff(smooth)).mean() < np.abs(np.diff(h)).mean())
    True
    """
    from ..degradations import estimate_noise, estimate_poisson_gaussian

    hr, lr = record(hr, scale, degradation, rng, band)
    bic = imresize(lr, output_shape=hr.shape)
    told = estimate_poisson_gaussian(lr) if line else estimate_noise(lr)
    return hr.astype(np.float32), bic.astype(np.float32), told


def record(hr: np.ndarray, scale: float, degradation, rng=None, band: float = 0.0):
    """``(hr, lr)`` float64: ``hr`` as in [acquire][srcnn_plugin.training.data.acquire]
    (band-limited by ``band``) and its recording by ``degradation``.
    """
    from ..degradations import gaussian_psf

    hr = np.asarray(hr)
    if hr.dtype == np.uint8:
        hr = hr.astype(np.float64) / 255.0
    hr = np.asarray(hr, np.float64)
    _check_sigma(band, "The band limit")
    if band > 0:
        hr = gaussian_psf(hr, band)
    h, w = hr.shape[:2]
    if float(scale).is_integer():
        s = int(scale)
        hr = hr[: h - h % s, : w - w % s]
    return hr, degradation.apply(hr, scale, rng=rng)


def add_shrunk_copies(images: Sequence[np.ndarray], factors: Sequence[float]) -> list[np.ndarray]:
    """The images plus copies shrunk by each factor below 1 (scale augmentation).

    A shrunk copy (MATLAB bicubic, anti-aliased; rounded to uint8 when the
    original is uint8, float32 otherwise) has finer detail per pixel than its
    original: the same scenes at other magnifications. Factors of 1 are the
    originals themselves.

    Examples
    --------
    >>> imgs = add_shrunk_copies([np.zeros((100, 60), np.uint8)], (1.0, 0.5))
    >>> [i.shape for i in imgs]
    [(100, 60), (50, 30)]
    """
    for f in factors:
        if not 0 < f <= 1:
            raise ValueError(f"Shrink factors must be in (0, 1], got {f}.")
    out = list(images) if 1 in factors else []
    for f in sorted(set(factors) - {1}, reverse=True):
        for img in images:
            if img.dtype == np.uint8:
                small = imresize(img.astype(np.float64) / 255.0, f)
                out.append(np.clip(np.round(small * 255.0), 0, 255).astype(np.uint8))
            else:
                out.append(imresize(img.astype(np.float64), f).astype(np.float32))
    return out


def _check_sigma(sigma: float, what: str) -> None:
    """Raise unless ``sigma`` is a finite Gaussian sigma >= 0 (NaN and inf refused)."""
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"{what} is a Gaussian sigma >= 0 (HR pixels), got {sigma!r}.")


def check_contrast(contrast: float, noise_map: bool = False) -> None:
    """Refuse a low-contrast gain outside ``[0, 1)``, or with noise maps, with what to pass.

    Examples
    --------
    >>> check_contrast(0.05)
    >>> check_contrast(1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: contrast is the smallest gain ... got 1.5 (e.g. pass 0.05).
    """
    c = float(contrast)
    if not (c == 0 or 0 < c < 1):
        raise ValueError(
            "contrast is the smallest gain of the low-contrast augmentation, in (0, 1), or 0 "
            f"(off); got {contrast!r} (e.g. pass 0.05)."
        )
    if c and noise_map:
        raise ValueError(
            "The low-contrast augmentation scales noise levels, not variance lines: pass "
            "contrast=0 with noise_map (--noise-map), or leave noise_map off."
        )


def check_hr_blur(hr_blur: float, degradation) -> None:
    """Raise unless ``hr_blur`` is a sigma >= 0, given with a degradation mixture if > 0."""
    _check_sigma(hr_blur, "hr_blur")
    if hr_blur and degradation is None:
        raise ValueError(
            "hr_blur band-limits the truths of acquisition training: pass a degradation "
            "mixture too (--degradation ...), or leave hr_blur at 0 for the paper's protocol."
        )


def _dihedral_grids(patch: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column source offsets of the 8 dihedral transforms of a patch.

    Transform ``t`` rotates by ``t // 2`` quarter turns (``np.rot90``) and then
    mirrors left-right when ``t`` is odd; ``out[u, v] = src[gy[t, u, v],
    gx[t, u, v]]``.

    Examples
    --------
    >>> gy, gx = _dihedral_grids(2)
    >>> gy[2].tolist(), gx[2].tolist()  # one quarter turn
    ([[0, 1], [0, 1]], [[1, 1], [0, 0]])
    """
    flat = np.arange(patch * patch).reshape(patch, patch)
    grids = []
    for t in range(8):
        g = np.rot90(flat, t // 2)
        grids.append(g[:, ::-1] if t % 2 else g)
    g = np.stack(grids)
    return g // patch, g % patch


def _check_patch(patch: int, halo: int, stride: int) -> None:
    if patch <= 2 * halo:
        raise ValueError(f"patch ({patch}) must be larger than 2 * halo ({2 * halo}).")
    if patch % stride:
        raise ValueError(
            f"A network on the x{stride} grid takes patches whose side is a multiple of "
            f"{stride}; pass patch={stride * -(-patch // stride)} (got {patch})."
        )


class PatchSampler:
    """Random aligned (bicubic, HR) patch pairs with dihedral augmentation.

    All degraded pairs are kept in two flat buffers on ``device``; a batch is
    one vectorised gather there, so sampling keeps up with a GPU. The random
    choices (pair, position, transform) come from the sampler's own NumPy
    generator, so a seed gives the same patches on every device.

    Parameters
    ----------
    images : sequence of (M, N) ndarray
        Training planes: uint8, or float in [0, 1] (see
        [read_planes][srcnn_plugin.training.data.read_planes]).
    scales : sequence of float
        Upscaling factors; each patch picks one at random (multi-scale
        training when several are given), then an image with probability
        proportional to its area.
    patch : int
        Side of the input patch; the target is the central
        ``patch - 2 * halo`` square.
    halo : int
        The network's halo (pixels lost per border).
    seed : int
        Seed of the sampler's own generator.
    device : str or torch.device
        Where the buffers live and batches are made.
    degradation : DegradationMixture, optional
        Record each image ``variants`` times with random acquisitions
        instead of the paper's bicubic (see
        [acquire][srcnn_plugin.training.data.acquire]).
    variants : int
        Recordings per image and scale with a ``degradation``.
    noise_map : bool
        Give each recording its variance line instead of one level (see
        [acquire][srcnn_plugin.training.data.acquire]); samples then carry
        ``(B, 2)`` lines.
    hr_blur : float
        With a ``degradation``: band-limit each recording's ground truth by a
        Gaussian of sigma drawn uniformly from ``[0, hr_blur]`` HR pixels
        (``band`` of [acquire][srcnn_plugin.training.data.acquire]); 0 keeps
        the images as sharp as they are.
    stride : int
        The network's stride (a network on the low-resolution grid, see
        [SRCNNConfig][srcnn_plugin.models.srcnn.SRCNNConfig]): patches start
        on multiples of it, at the first pixel of a low-resolution pixel, the
        phase such a network is trained for; ``patch`` is then a multiple of
        it. The dihedral transforms keep that phase for such patches.
    contrast : float
        Low-contrast augmentation: 0 (off), or the smallest gain in
        ``(0, 1)``. Half of the patches (input and target) are then scaled
        toward the floor of the model's range by a gain drawn log-uniformly
        from ``[contrast, 1]``, and their noise level alike: as ``rescale``
        presents an image whose range a few bright objects (beads, debris)
        stretch far beyond the rest. Levels only (not with ``noise_map``).

    Notes
    -----
    A one-axis ``degradation`` (``degradation.one_axis``, e.g. axial) records
    the rows only; the augmentation then keeps rows rows (``AXIS_KEEPING``).
    """

    def __init__(
        self,
        images: Sequence[np.ndarray],
        scales: Sequence[int],
        patch: int,
        halo: int,
        seed: int = 0,
        device="cpu",
        degradation=None,
        variants: int = 1,
        noise_map: bool = False,
        hr_blur: float = 0.0,
        stride: int = 1,
        contrast: float = 0.0,
    ):
        _check_patch(patch, halo, stride)
        check_hr_blur(hr_blur, degradation)
        check_contrast(contrast, noise_map)
        scales = [float(s) if not float(s).is_integer() else int(s) for s in scales]
        groups = []
        prep = np.random.default_rng([seed, 1])
        for s in scales:
            pairs = []
            for img in images:
                if degradation is None:
                    pairs.append((*degrade(img, s), 0.0, 0.0))
                    continue
                for _ in range(int(variants)):
                    d = degradation.sample(prep, s)
                    band = prep.uniform(0.0, hr_blur) if hr_blur else 0.0
                    pair = acquire(img, s, d, rng=prep, line=noise_map, band=band)
                    pairs.append((*pair, d.psf / s))
            pairs = [pr for pr in pairs if min(pr[0].shape) >= patch]
            if not pairs:
                raise ValueError(
                    f"No training image is at least {patch}x{patch} pixels at scale {s}; "
                    "use larger images or a smaller patch."
                )
            groups.append(pairs)
        self.scales = scales
        self._store(groups, patch, halo, seed, device, stride)
        self.contrast = float(contrast)
        if degradation is not None and degradation.one_axis:
            self._transforms = np.asarray(AXIS_KEEPING, np.int64)

    @classmethod
    def from_pairs(
        cls, pairs, patch: int, halo: int, seed: int = 0, device="cpu", transforms=None, stride=1
    ):
        """A sampler over given ``(hr, bicubic, noise, blur)`` pairs (e.g. internal ones).

        ``hr`` and ``bicubic`` are aligned float planes of one shape, at least
        ``patch`` pixels on each side; a pair is drawn with probability
        proportional to its area. ``transforms`` restricts the dihedral
        augmentation (indices as in ``_dihedral_grids``; ``(0, 1, 4, 5)``
        keep the row axis a row axis, for degradations along one axis).

        Examples
        --------
        >>> z = np.zeros((40, 40), np.float32)
        >>> s = PatchSampler.from_pairs([(z, z, 0.01, 0.5)], patch=33, halo=8)
        >>> [t.shape[-1] for t in s.sample_conditioned(2)[:2]]
        [33, 17]
        """
        _check_patch(patch, halo, stride)
        pairs = [pr for pr in pairs if min(pr[0].shape) >= patch]
        if not pairs:
            raise ValueError(f"No pair is at least {patch}x{patch} pixels; pass larger planes.")
        self = cls.__new__(cls)
        self.scales = []
        self._store([pairs], patch, halo, seed, device, stride)
        if transforms is not None:
            self._transforms = np.asarray(transforms, np.int64)
        return self

    def _store(self, groups, patch, halo, seed, device, stride=1) -> None:
        """Flat device buffers of the pairs; each group (a scale) weighs the same."""
        import torch

        self.patch, self.halo, self.stride = int(patch), int(halo), int(stride)
        hrs, bics, shapes, probs, conds = [], [], [], [], []
        # Shot noise: a pair's noise is a variance line (a, b); a level is then (0, sigma^2).
        self._lines = any(isinstance(pr[2], tuple) for pairs in groups for pr in pairs)
        for pairs in groups:
            areas = np.array([pr[0].size for pr in pairs], dtype=np.float64)
            probs.append(areas / areas.sum() / len(groups))
            for hr, bic, sigma, blur in pairs:
                hrs.append(np.asarray(hr, np.float32).ravel())
                bics.append(np.asarray(bic, np.float32).ravel())
                shapes.append(hr.shape)
                if self._lines:
                    conds.append((*(sigma if isinstance(sigma, tuple) else (0.0, sigma**2)), blur))
                else:
                    conds.append((sigma, blur))
        self._prob = np.concatenate(probs)
        self._prob /= self._prob.sum()
        shp = np.array(shapes, dtype=np.int64)
        self._h, self._w = shp[:, 0], shp[:, 1]
        self._off = np.concatenate([[0], np.cumsum(self._h * self._w)[:-1]])
        self.device = torch.device(device)
        self._hr = torch.from_numpy(np.concatenate(hrs)).to(self.device)
        self._bic = torch.from_numpy(np.concatenate(bics)).to(self.device)
        self._cond = torch.tensor(conds, dtype=torch.float32, device=self.device)
        gy, gx = _dihedral_grids(self.patch)
        self._gy = torch.from_numpy(gy).to(self.device)
        self._gx = torch.from_numpy(gx).to(self.device)
        self.rng = np.random.default_rng(seed)
        self._transforms = None
        self.contrast = 0.0

    def sample(self, batch: int):
        """Return ``(inputs, targets)``: float32 tensors ``(B, 1, P, P)`` and ``(B, 1, Q, Q)``.

        Both are on the sampler's device; ``Q = P - 2 * halo``.
        """
        x, y, _, _ = self.sample_conditioned(batch)
        return x, y

    def sample_conditioned(self, batch: int):
        """``(inputs, targets, noise, blur)``: as
        [sample][srcnn_plugin.training.data.PatchSampler.sample], plus each patch's
        measured noise level and its PSF sigma in input pixels, ``(B,)`` each
        (zeros without a degradation). Pairs whose noise is a variance line
        ``(a, b)`` (shot noise) give the noise as ``(B, 2)`` lines (see
        [as_condition][srcnn_plugin.models.srcnn.as_condition]).
        """
        import torch

        p, h, rng = self.patch, self.halo, self.rng
        k = rng.choice(len(self._prob), size=batch, p=self._prob)
        st = self.stride
        i = st * rng.integers(0, (self._h[k] - p) // st + 1)
        j = st * rng.integers(0, (self._w[k] - p) // st + 1)
        if self._transforms is None:
            t = rng.integers(0, 8, size=batch)
        else:
            t = self._transforms[rng.integers(0, len(self._transforms), size=batch)]
        base, w, t, kk = torch.from_numpy(
            np.stack([self._off[k] + i * self._w[k] + j, self._w[k], t, k])
        ).to(self.device)
        idx = base[:, None, None] + self._gy[t] * w[:, None, None] + self._gx[t]
        x = self._bic[idx][:, None]
        y = self._hr[idx][:, None, h : p - h, h : p - h]
        cond = self._cond[kk]
        if self._lines:
            return x, y, cond[:, :2], cond[:, 2]
        noise = cond[:, 0]
        if self.contrast:
            x, y, noise = self._low_contrast(x, y, noise)
        return x, y, noise, cond[:, 1]

    def _low_contrast(self, x, y, noise):
        """Half of the patches scaled toward the range's floor (see ``contrast``)."""
        import torch

        from .._dtype import MODEL_RANGE

        n = x.shape[0]
        gain = np.exp(self.rng.uniform(np.log(self.contrast), 0.0, n))
        gain[self.rng.random(n) < 0.5] = 1.0
        g = torch.as_tensor(gain, dtype=x.dtype, device=x.device)
        floor = MODEL_RANGE[0]
        x = floor + g[:, None, None, None] * (x - floor)
        y = floor + g[:, None, None, None] * (y - floor)
        return x, y, noise * g

    def state(self) -> dict:
        """Generator state, for checkpoints."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        """Restore a state from [state][srcnn_plugin.training.data.PatchSampler.state]."""
        self.rng.bit_generator.state = state
