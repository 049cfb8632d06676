"""Sparse-coding super-resolution (Yang, Wright, Huang and Ma, IEEE TIP 2010).

The conventional method the SRCNN paper generalises. On the bicubic
enlargement ``B`` of the low-resolution image, every ``p x p`` patch (``p = 5``,
overlapping by ``overlap`` pixels) is described by the first- and
second-order derivatives of ``B`` (filters ``[-1, 0, 1]`` and
``[1, 0, -2, 0, 1]``, horizontal and vertical: a ``4 p^2`` feature ``y``),
coded sparsely over the low-resolution dictionary ``D_l``::

    x* = argmin_x  1/2 ||y / max(||y||, 1) - D_l x||^2 + lam ||x||_1

and rebuilt from the coupled high-resolution dictionary: ``D_h x*`` is the
patch minus its mean, scaled to 1.2 times the norm of ``B``'s patch minus its
mean, and added to that mean. Overlapping patches are averaged, and the result is
made consistent with the input by back-projection (``iterations`` steps of
``X += G * up(Y - down(X))``, ``G`` a squared 5x5 Gaussian of sigma 1,
``up``/``down`` MATLAB bicubic). Intensities are in 8-bit units (the
dictionaries are trained on 8-bit luminance).

The lasso is solved exactly by least-angle regression: SPAMS's (``spams``,
Mairal et al.'s reference implementation) when installed, else
scikit-learn's (``sparse_encode(algorithm='lasso_lars')``), which solve the
same problem to the same solution; SPAMS is much faster (its loop is compiled).

Correspondence with SRCNN (the paper's Sec. 3.2): feature extraction and
projection onto ``D_l`` is the first layer (``n1`` = atoms filters of size
``p``), the sparse code is the non-linear mapping, and ``D_h`` with patch
averaging is the last layer (``f3 = p``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = [
    "SparseDictionary",
    "features",
    "reconstruct",
    "back_project",
    "super_resolve_plane",
    "lasso",
    "training_pairs",
    "train_dictionary",
    "load_dictionary",
    "bundled_dictionaries",
]

_GRAD1 = np.array([-1.0, 0.0, 1.0])
_GRAD2 = np.array([1.0, 0.0, -2.0, 0.0, 1.0])
FORMAT = "srcnn-plugin/sparse-dictionary"


@dataclass(frozen=True)
class SparseConfig:
    """What the tile loop needs to know of a model: a whole-plane method, told nothing."""

    halo: int = 0
    noise_aware: bool = False
    blur_aware: bool = False
    stride: int = 1  # on the output grid (any factor)


@dataclass(frozen=True, eq=False)
class SparseDictionary:
    """A coupled dictionary pair and its coding settings.

    Attributes
    ----------
    dh : (atoms, p * p) ndarray
        High-resolution atoms (patches minus their mean).
    dl : (atoms, 4 * p * p) ndarray
        Low-resolution feature atoms, unit norm.
    scale : float
        The factor the pair was trained for.
    lam : float
        Sparsity weight ``lam`` used when coding.
    overlap : int
        Overlap of neighbouring patches (``p - 1``: every position).
    iterations : int
        Back-projection steps.
    metadata : dict
        How it was trained (data, settings, command).
    """

    dh: np.ndarray
    dl: np.ndarray
    scale: float
    lam: float = 0.1
    overlap: int = 4
    iterations: int = 20
    metadata: dict = field(default_factory=dict)
    source: str = ""

    config = SparseConfig()

    @property
    def patch(self) -> int:
        """Side of the high-resolution patches."""
        return int(round(np.sqrt(self.dh.shape[1])))

    @property
    def atoms(self) -> int:
        """Number of atoms."""
        return int(self.dh.shape[0])

    def with_settings(self, lam=None, overlap=None, iterations=None) -> SparseDictionary:
        """A copy with other coding settings (``None`` keeps each)."""
        from dataclasses import replace

        lam = self.lam if lam is None else float(lam)
        overlap = self.overlap if overlap is None else int(overlap)
        iterations = self.iterations if iterations is None else int(iterations)
        if not 0 <= overlap < self.patch:
            raise ValueError(f"overlap must be in [0, {self.patch - 1}], got {overlap}.")
        if lam <= 0:
            raise ValueError(f"lam must be positive, got {lam}.")
        if iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {iterations}.")
        return replace(self, lam=lam, overlap=overlap, iterations=iterations)

    def engine(self, device=None, precision: str = "float32", passes: int = 2):
        """The tile-loop engine (CPU, NumPy); precision and passes do not apply."""
        return SparseEngine(self)

    def save(self, path) -> Path:
        """Write the pair to ``path`` (``.npz``; refuses to overwrite)."""
        path = Path(path)
        if path.exists():
            raise FileExistsError(f"{path} exists; pass another path (nothing was written).")
        meta = {
            "format": FORMAT,
            "scale": self.scale,
            "lam": self.lam,
            "overlap": self.overlap,
            "iterations": self.iterations,
            "metadata": self.metadata,
        }
        with open(path, "xb") as fh:
            np.savez_compressed(
                fh, dh=self.dh.astype(np.float32), dl=self.dl.astype(np.float32),
                meta=np.array(json.dumps(meta)),
            )  # fmt: skip
        return path


def load_dictionary(spec=3) -> SparseDictionary:
    """A bundled dictionary pair (by factor) or one from a file.

    Parameters
    ----------
    spec : float, path or SparseDictionary
        A factor picks the bundled pair trained for the largest factor not
        above it (the smallest below every factor); a path reads a file
        written by ``srcnn-plugin train-sc``.

    Examples
    --------
    >>> d = load_dictionary(3)
    >>> d.scale, d.patch, d.dl.shape[1] == 4 * d.patch**2
    (3.0, 5, True)
    """
    if isinstance(spec, SparseDictionary):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        from ..models.registry import trained_factor

        bundled = bundled_dictionaries()
        return _read(bundled[trained_factor(float(spec), bundled)])
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(
            f"{spec!r} is neither a factor nor a dictionary file; pass a number (the bundled "
            "pair for that factor) or a .npz written by srcnn-plugin train-sc."
        )
    return _read(path)


def bundled_dictionaries() -> dict:
    """``{factor: resource}`` of the dictionary pairs shipped in the package."""
    root = resources.files("srcnn_plugin.baselines") / "dictionaries"
    out = {}
    for item in root.iterdir():
        name = item.name
        if name.startswith("sc-x") and name.endswith(".npz"):
            out[float(name[4:-4])] = item
    return dict(sorted(out.items()))


def _read(ref) -> SparseDictionary:
    with ref.open("rb") as fh:
        with np.load(fh, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"{ref} is not a sparse-coding dictionary file.")
            return SparseDictionary(
                np.asarray(z["dh"], np.float64),
                np.asarray(z["dl"], np.float64),
                float(meta["scale"]),
                float(meta["lam"]),
                int(meta["overlap"]),
                int(meta["iterations"]),
                meta.get("metadata", {}),
                str(ref),
            )


def features(image: np.ndarray) -> np.ndarray:
    """First- and second-order derivatives of ``image``: ``(4, H, W)``.

    Horizontal and vertical ``[-1, 0, 1]`` and ``[1, 0, -2, 0, 1]``,
    correlated with edge replication.

    Examples
    --------
    >>> f = features(np.tile(np.arange(6.0), (4, 1)))
    >>> f.shape, f[:, 1, 2].tolist()
    ((4, 4, 6), [2.0, 0.0, 0.0, 0.0])
    """
    from scipy.ndimage import correlate1d

    x = np.asarray(image, np.float64)
    return np.stack(
        [
            correlate1d(x, _GRAD1, axis=1, mode="nearest"),
            correlate1d(x, _GRAD1, axis=0, mode="nearest"),
            correlate1d(x, _GRAD2, axis=1, mode="nearest"),
            correlate1d(x, _GRAD2, axis=0, mode="nearest"),
        ]
    )


def lasso(y: np.ndarray, dictionary: np.ndarray, lam: float) -> np.ndarray:
    """Exact lasso codes ``argmin 1/2 ||y - D x||^2 + lam ||x||_1`` of the rows of ``y``.

    Parameters
    ----------
    y : (n, d) ndarray
    dictionary : (atoms, d) ndarray
    lam : float

    Returns
    -------
    (n, atoms) ndarray

    Notes
    -----
    Least-angle regression: SPAMS's ``lasso`` when ``spams`` is installed,
    else scikit-learn's ``sparse_encode(algorithm='lasso_lars')``.
    """
    y = np.asarray(y, np.float64)
    if len(y) == 0:
        return np.zeros((0, dictionary.shape[0]))
    try:
        import spams
    except ImportError:
        spams = None
    if spams is not None:
        codes = spams.lasso(
            np.asfortranarray(y.T), D=np.asfortranarray(dictionary.T, np.float64),
            lambda1=float(lam), mode=2, numThreads=1,
        )  # fmt: skip
        return np.asarray(codes.todense()).T
    try:
        from sklearn.decomposition import sparse_encode
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Sparse coding needs scikit-learn (or spams): pip install 'srcnn-plugin[baselines]'."
        ) from exc
    return sparse_encode(y, dictionary, algorithm="lasso_lars", alpha=float(lam))


def _grid(length: int, patch: int, step: int) -> np.ndarray:
    pos = list(range(0, max(length - patch, 0) + 1, step))
    if pos[-1] != length - patch:
        pos.append(length - patch)
    return np.asarray(pos)


def reconstruct(bicubic: np.ndarray, d: SparseDictionary, band: int = 16) -> np.ndarray:
    """The sparse-coding estimate from a bicubic enlargement (8-bit units).

    Every pixel is covered (the last patch of each row and column is aligned
    with the border); overlapping patches are averaged. Works through
    ``band`` rows of patches at a time, so memory stays bounded.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    b = np.asarray(bicubic, np.float64)
    p = d.patch
    if min(b.shape) < p:
        return b.copy()
    step = p - d.overlap
    fea = features(b)
    ys, xs = _grid(b.shape[0], p, step), _grid(b.shape[1], p, step)
    fwin = sliding_window_view(fea, (p, p), axis=(1, 2))
    bwin = sliding_window_view(b, (p, p))
    out = np.zeros_like(b)
    cnt = np.zeros_like(b)
    for i0 in range(0, len(ys), band):
        rows = ys[i0 : i0 + band]
        f = fwin[:, rows][:, :, xs]  # (4, r, c, p, p)
        y = f.transpose(1, 2, 0, 3, 4).reshape(-1, 4 * p * p)
        bp = bwin[rows][:, xs].reshape(-1, p * p)
        mean = bp.mean(axis=1)
        detail = np.linalg.norm(bp - mean[:, None], axis=1)
        norm = np.linalg.norm(y, axis=1)
        yn = y / np.where(norm > 1, norm, 1.0)[:, None]
        hp = lasso(yn, d.dl, d.lam) @ d.dh
        hn = np.linalg.norm(hp, axis=1)
        gain = np.divide(1.2 * detail, hn, out=np.zeros_like(hn), where=hn > 0)
        hp = (hp * gain[:, None] + mean[:, None]).reshape(len(rows), len(xs), p, p)
        for dy in range(p):
            for dx in range(p):
                idx = np.ix_(rows + dy, xs + dx)
                out[idx] += hp[:, :, dy, dx]
                cnt[idx] += 1
    return out / cnt


def back_project(hr: np.ndarray, lr: np.ndarray, iterations: int = 20) -> np.ndarray:
    """Make ``hr`` consistent with ``lr`` (Yang et al.'s back-projection).

    ``iterations`` steps of ``hr += G * up(lr - down(hr))``: ``down``/``up``
    MATLAB bicubic, ``G`` a 5x5 Gaussian of sigma 1, squared and normalised.
    """
    from scipy.ndimage import correlate

    from .._imresize import imresize

    g = np.exp(-(np.arange(-2, 3) ** 2) / 2.0)
    g = np.outer(g, g) ** 2
    g /= g.sum()
    x = np.asarray(hr, np.float64).copy()
    lr = np.asarray(lr, np.float64)
    for _ in range(iterations):
        diff = lr - imresize(x, output_shape=lr.shape)
        x += correlate(imresize(diff, output_shape=x.shape), g, mode="nearest")
    return x


def super_resolve_plane(lr: np.ndarray, shape, d: SparseDictionary, bicubic=None) -> np.ndarray:
    """Sparse-coding super-resolution of one plane in 8-bit units, to ``shape``."""
    from .._imresize import imresize

    lr = np.asarray(lr, np.float64)
    bic = imresize(lr, output_shape=tuple(shape)) if bicubic is None else bicubic
    return back_project(reconstruct(bic, d), lr, d.iterations)


class SparseEngine:
    """The tile-loop engine of sparse coding: whole planes (halo 0), on the CPU.

    Called by [TileJob][srcnn_plugin._job.TileJob] like
    [Engine][srcnn_plugin._engine.Engine], with normalised slabs in the
    model range ([16, 235] / 255 for each channel's range).
    """

    halo = 0

    def __init__(self, d: SparseDictionary):
        from .._device import resolve_device

        self.d = d
        self.device = resolve_device("cpu")

    def run(self, slabs, plan, sr: bool = True, noise=None, blur=None) -> np.ndarray:
        """Bicubic (``sr=False``) or sparse-coding output of each whole-plane slab."""
        my, mx = plan.my.astype(np.float64), plan.mx.astype(np.float64)
        out = []
        for s in np.asarray(slabs, np.float64) * 255.0:
            bic = my @ s @ mx.T
            out.append(super_resolve_plane(s, bic.shape, self.d, bic) if sr else bic)
        return (np.stack(out) / 255.0).astype(np.float32)


def training_pairs(
    images, scale: float, *, patch: int = 5, samples: int = 100_000, prune: float = 10.0, seed=0
):
    """Coupled training samples (Yang et al.'s recipe) from 8-bit luminance images.

    Each image is shrunk by ``1/scale`` and enlarged back with MATLAB
    bicubic; at random positions the high-resolution ``patch x patch``
    patch minus its mean is paired with the features of the enlargement
    there. The ``prune`` percent of samples with the smoothest
    high-resolution patches are dropped.

    Returns
    -------
    xh : (n, patch**2) ndarray
    xl : (n, 4 * patch**2) ndarray
    """
    from numpy.lib.stride_tricks import sliding_window_view

    from .._imresize import imresize
    from ..degradations import Degradation
    from ..training.data import record

    rng = np.random.default_rng(seed)
    images = list(images)
    per = int(np.ceil(samples / len(images) / (1 - prune / 100.0))) + 1
    xh, xl = [], []
    for img in images:
        hr, lr = record(np.asarray(img, np.float64), scale, Degradation("bicubic"))
        bic = imresize(lr, output_shape=hr.shape)
        if min(hr.shape) < patch:
            continue
        ys = rng.integers(0, hr.shape[0] - patch + 1, per)
        xs = rng.integers(0, hr.shape[1] - patch + 1, per)
        h = sliding_window_view(hr, (patch, patch))[ys, xs].reshape(per, -1)
        f = sliding_window_view(features(bic), (patch, patch), axis=(1, 2))[:, ys, xs]
        xh.append(h - h.mean(axis=1, keepdims=True))
        xl.append(f.transpose(1, 0, 2, 3).reshape(per, -1))
    xh, xl = np.concatenate(xh), np.concatenate(xl)
    var = xh.var(axis=1)
    keep = np.flatnonzero(var > np.percentile(var, prune))
    keep = rng.permutation(keep)[:samples]
    return xh[keep], xl[keep]


def train_dictionary(
    images,
    scale: float,
    *,
    atoms: int = 1024,
    samples: int = 100_000,
    lam: float = 0.15,
    iterations: int = 1000,
    hr_weight: float = 1.0,
    seed: int = 0,
    metadata: dict | None = None,
) -> SparseDictionary:
    """Learn a coupled dictionary pair (joint dictionary learning, Yang et al.).

    The high-resolution patches and low-resolution features of
    [training_pairs][srcnn_plugin.baselines.training_pairs] are each scaled to
    unit norm, weighted by ``1/sqrt(dim)`` (``hr_weight`` more for the
    high-resolution part), stacked and normalised; one dictionary is learned
    on them with SPAMS's online dictionary learning (``trainDL``, ``lam``,
    ``iterations`` mini-batches of 512), initialised with random samples,
    and split into ``D_h`` and ``D_l`` (``D_l`` rows normalised).
    """
    try:
        import spams
    except ImportError as exc:
        raise ImportError(
            "Training a dictionary needs SPAMS: pip install 'srcnn-plugin[baselines]'."
        ) from exc
    t0 = time.perf_counter()
    xh, xl = training_pairs(images, scale, samples=samples, seed=seed)
    hn, ln = np.linalg.norm(xh, axis=1), np.linalg.norm(xl, axis=1)
    ok = (hn > 1e-5) & (ln > 1e-5)
    xh, xl = xh[ok] / hn[ok, None], xl[ok] / ln[ok, None]
    x = np.hstack([hr_weight * xh / np.sqrt(xh.shape[1]), xl / np.sqrt(xl.shape[1])])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    d0 = x[rng.choice(len(x), atoms, replace=False)]
    d = spams.trainDL(
        np.asfortranarray(x.T), D=np.asfortranarray(d0.T), lambda1=float(lam),
        iter=int(iterations), batchsize=512, numThreads=1, verbose=False,
    ).T  # fmt: skip
    dh, dl = d[:, : xh.shape[1]], d[:, xh.shape[1] :]
    norm = np.linalg.norm(dl, axis=1, keepdims=True)
    meta = {
        "training_samples": int(len(x)),
        "atoms": atoms,
        "train_lam": lam,
        "minibatches": iterations,
        "hr_weight": hr_weight,
        "seed": seed,
        "seconds": round(time.perf_counter() - t0, 1),
        **(metadata or {}),
    }
    return SparseDictionary(dh, dl / np.where(norm > 0, norm, 1.0), float(scale), metadata=meta)
