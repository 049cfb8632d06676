"""The sparse-coding baseline: the method's pieces, rescale's conventions, the files."""

import numpy as np
import pytest

from srcnn_plugin import rescale
from srcnn_plugin.baselines import (
    SparseDictionary,
    back_project,
    lasso,
    load_dictionary,
    reconstruct,
    sparse_coding,
    super_resolve_plane,
    train_dictionary,
)
from srcnn_plugin.training.evaluate import psnr_y


def _lr(natural, s, size=96):
    from srcnn_plugin.degradations import Degradation
    from srcnn_plugin.training.data import record

    hr, lr = record(natural[:size, :size] * 255.0, s, Degradation("bicubic"))
    return hr, lr


def test_bundled_pairs_cover_the_paper_factors():
    for s in (2, 3, 4):
        d = load_dictionary(s)
        assert d.scale == s and d.atoms == 1024 and d.patch == 5
        assert d.dl.shape == (1024, 100)
        np.testing.assert_allclose(np.linalg.norm(d.dl, axis=1), 1, rtol=1e-5)
    assert load_dictionary(2.5).scale == 2 and load_dictionary(8).scale == 4
    assert load_dictionary(1.5).scale == 2


def test_load_dictionary_refuses_what_is_not_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-sc"):
        load_dictionary(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, dh=np.zeros(2), dl=np.zeros(2), meta=np.array('{"format": "other"}'))
    with pytest.raises(ValueError, match="not a sparse-coding dictionary"):
        load_dictionary(bad)


def test_save_round_trip_and_no_overwrite(tmp_path):
    d = load_dictionary(3).with_settings(lam=0.2, overlap=3, iterations=5)
    path = d.save(tmp_path / "d.npz")
    back = load_dictionary(path)
    assert (back.lam, back.overlap, back.iterations, back.scale) == (0.2, 3, 5, 3.0)
    np.testing.assert_allclose(back.dh, d.dh, rtol=1e-6, atol=1e-7)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="nothing was written"):
        d.save(path)
    assert path.read_bytes() == before


def test_settings_are_checked():
    d = load_dictionary(2)
    with pytest.raises(ValueError, match="overlap"):
        d.with_settings(overlap=5)
    with pytest.raises(ValueError, match="lam"):
        d.with_settings(lam=0)


def test_lasso_solvers_agree(rng):
    pytest.importorskip("spams")
    sk = pytest.importorskip("sklearn.decomposition")
    d = rng.standard_normal((64, 20))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    y = rng.standard_normal((30, 20))
    ours = lasso(y, d, 0.1)
    ref = sk.sparse_encode(y, d, algorithm="lasso_lars", alpha=0.1)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert np.mean(ours != 0) < 0.5  # sparse


def test_flat_image_stays_flat():
    d = load_dictionary(2)
    flat = np.full((20, 24), 100.0)
    np.testing.assert_allclose(reconstruct(flat, d), flat)
    np.testing.assert_allclose(super_resolve_plane(flat[:10, :12], (20, 24), d), flat)


def test_back_projection_makes_the_result_consistent(natural):
    from srcnn_plugin._imresize import imresize

    hr, lr = _lr(natural, 3)
    x = imresize(lr, output_shape=hr.shape)
    before = np.abs(imresize(x, output_shape=lr.shape) - lr).mean()
    after = np.abs(imresize(back_project(x, lr, 20), output_shape=lr.shape) - lr).mean()
    assert after < 0.5 * before


@pytest.mark.parametrize("s", [2, 3])
def test_beats_bicubic(natural, s):
    from srcnn_plugin._imresize import imresize

    hr, lr = _lr(natural, s)
    bic = imresize(lr, output_shape=hr.shape)
    sc = super_resolve_plane(lr, hr.shape, load_dictionary(s))
    assert psnr_y(hr / 255, sc / 255, s) > psnr_y(hr / 255, bic / 255, s) + 0.3


def test_follows_rescale_conventions(natural):
    img = (natural[:40, :36] * 4000).astype(np.uint16)
    out = sparse_coding(img, 2)
    ref = rescale(img, 2)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    kept = sparse_coding(img, 2, preserve_range=True)
    assert kept.dtype == rescale(img, 2, preserve_range=True).dtype
    assert img.min() <= kept.min() and kept.max() <= img.max()  # clipped to the input range


def test_channels_and_stacks_are_planes(natural):
    a, b = natural[:30, :32], natural[40:70, 20:52]
    rgb = np.stack([a, b, a * 0.5], axis=-1)
    out = sparse_coding(rgb, 2, channel_axis=-1, overlap=2)
    assert out.shape == (60, 64, 3)
    np.testing.assert_allclose(out[..., 1], sparse_coding(b, 2, overlap=2))
    # Planes of one stack share its range (one channel): same range, same result.
    stack = np.stack([a, a[::-1]])
    ref = sparse_coding(a[::-1], 2, overlap=2)
    np.testing.assert_allclose(sparse_coding(stack, (1, 2, 2), overlap=2)[1], ref)


def test_dask_is_lazy_and_equal(natural):
    da = pytest.importorskip("dask.array")
    img = np.stack([natural[:30, :30], natural[30:60, 30:60]])
    lazy = sparse_coding(da.from_array(img, chunks=(1, 15, 15)), (1, 2, 2), overlap=2)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), sparse_coding(img, (1, 2, 2), overlap=2))


def test_progress_counts_planes(natural):
    seen = []
    sparse_coding(
        np.stack([natural[:20, :20]] * 3), (1, 2, 2), progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (3, 3)


def test_train_dictionary_small(natural):
    pytest.importorskip("spams")
    imgs = [natural[:128, :128] * 255, natural[128:, 128:] * 255]
    d = train_dictionary(imgs, 2, atoms=32, samples=2000, iterations=20)
    assert isinstance(d, SparseDictionary)
    assert d.dh.shape == (32, 25) and d.dl.shape == (32, 100)
    assert d.metadata["training_samples"] == 2000 and d.metadata["atoms"] == 32
    again = train_dictionary(imgs, 2, atoms=32, samples=2000, iterations=20)
    np.testing.assert_allclose(again.dl, d.dl)  # deterministic for a seed
