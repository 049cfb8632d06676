import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from srcnn_plugin import Upscaler, rescale


def test_same_as_rescale(natural):
    up = Upscaler(2, device="cpu")
    assert_array_equal(up(natural), rescale(natural, 2, device="cpu"))


def test_options_forwarded(natural):
    rgb = np.stack([natural] * 3, -1)[:32, :32]
    up = Upscaler((2, 2), channel_axis=-1, color_mode="ycbcr", clip=False)
    assert_array_equal(up(rgb), rescale(rgb, 2, channel_axis=-1, color_mode="ycbcr", clip=False))


@pytest.mark.slow
def test_pickle_roundtrip_bundled_and_file(natural, tmp_path):
    up = Upscaler(3, device="cpu")
    clone = pickle.loads(pickle.dumps(up))
    assert_array_equal(clone(natural), up(natural))
    from srcnn_plugin.models.registry import bundled_weights_path, default_model

    path = tmp_path / "mine.pt"
    path.write_bytes(bundled_weights_path(default_model()).read_bytes())
    mine = Upscaler(2, model=str(path))
    blob = pickle.dumps(mine)
    path.unlink()  # workers need not have the file
    assert_array_equal(pickle.loads(blob)(natural), mine(natural))


def test_repr_and_to():
    up = Upscaler(2, device="cpu", tile_size=64)
    assert repr(up) == (
        "Upscaler(scale=2.0, model='srcnn-acq-9-5-5-x2', device='cpu', "
        "precision='float32', tile_size=64)"
    )
    assert up.to("cpu") is up


def test_bad_arguments():
    with pytest.raises(TypeError, match="Unknown option"):
        Upscaler(2, sigma=1)
    with pytest.raises(ValueError, match="> 0"):
        Upscaler(0)
    with pytest.raises(ValueError, match="precision"):
        Upscaler(2, precision="int8")


def test_multiprocessing(natural):
    import multiprocessing as mp

    up = Upscaler(2, device="cpu")
    with mp.get_context("spawn").Pool(1) as pool:
        out = pool.map(up, [natural[:32, :32]])[0]
    assert_array_equal(out, up(natural[:32, :32]))


def test_skimage_pipeline(cells):
    """upscale -> denoise -> threshold -> regionprops, as in the docs."""
    from skimage import filters, measure, morphology, restoration

    up = Upscaler(2)
    big = up(cells)
    smooth = restoration.denoise_tv_chambolle(big, weight=0.05)
    mask = smooth > filters.threshold_otsu(smooth)
    mask = morphology.remove_small_objects(mask, max_size=20)
    labels = measure.label(mask)
    props = measure.regionprops(labels, intensity_image=big)
    assert big.shape == (400, 480) and len(props) > 0
    small_labels = measure.label(cells > filters.threshold_otsu(cells))
    # object areas measured on the upscaled image are ~4x those at the original size
    big_area = sum(p.area for p in props)
    assert 3 < big_area / max(np.count_nonzero(small_labels), 1) < 5
