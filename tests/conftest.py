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
