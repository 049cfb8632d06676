"""Shared fixtures: seeded RNG, small test images, the optional shared datasets."""

import os
from pathlib import Path

import numpy as np
import pytest

# ``SRCNN_DATASETS`` points elsewhere (e.g. a copy on a GPU machine).
DATASETS = Path(
    os.environ.get("SRCNN_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets")
)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def datasets() -> Path:
    """``../shared/datasets``; tests using it skip cleanly when it is absent."""
    if not (DATASETS / "Set5").is_dir():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    return DATASETS


@pytest.fixture(scope="session")
def natural():
    """A natural greyscale image in [0, 1] (float64) shipped with scikit-image."""
    from skimage import data

    return data.camera()[128:384, 128:384].astype(np.float64) / 255.0


@pytest.fixture(scope="session")
def cells():
    """A fluorescence-like greyscale image (skimage's cell), in [0, 1]."""
    from skimage import data

    return data.cell()[:200, :240].astype(np.float64) / 255.0


@pytest.fixture
def tiny_set(tmp_path, rng):
    """A folder of four 96x96 crops of skimage's camera (a tiny training set)."""
    import imageio.v3 as iio
    from skimage import data

    folder = tmp_path / "imgs"
    folder.mkdir()
    cam = data.camera()
    for i in range(4):
        y, x = rng.integers(0, 300, 2)
        iio.imwrite(folder / f"{i}.png", cam[y : y + 96, x : x + 96])
    return folder


@pytest.fixture(scope="session")
def lr_grid_models(tmp_path_factory):
    """Weight files of random noise- and blur-aware 9-1-5 networks on the x2 and x3
    low-resolution grids (``{factor: path}``), far from zero so that their phases differ."""
    import torch

    from srcnn_plugin.models.srcnn import SRCNN, SRCNNConfig
    from srcnn_plugin.models.weights import save_weights

    folder = tmp_path_factory.mktemp("lr_grid")
    out = {}
    for s in (2, 3):
        torch.manual_seed(s)
        net = SRCNN(SRCNNConfig(f2=1, stride=s, noise_aware=True, blur_aware=True))
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.05 * torch.randn_like(p))
        out[s] = folder / f"lr_x{s}.pt"
        save_weights(net, out[s], scales=(s,))
    return out
