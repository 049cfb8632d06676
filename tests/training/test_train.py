import json

import numpy as np
import pytest

from srcnn_plugin.training.train import TrainConfig, train


def _cfg(**kw):
    base = dict(
        scales=(2,),
        f2=1,
        n1=16,
        n2=8,
        patch=25,
        batch=8,
        steps=40,
        lr=3e-3,
        warmup=5,
        val_fraction=0.25,
        val_every=20,
        checkpoint_every=20,
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.slow
def test_training_lowers_loss_and_writes_files(tiny_set, tmp_path):
    out = tmp_path / "run"
    res = train(tiny_set, out, _cfg(steps=80, val_every=40), device="cpu", progress=False)
    hist = res["history"]
    assert hist[-1]["loss"] < hist[0]["loss"]
    for name in ("last.pt", "best.pt", "model.pt", "history.json"):
        assert (out / name).exists()
    assert len(json.loads((out / "history.json").read_text())) == 2
    from srcnn_plugin.models.weights import load_weights

    loaded = load_weights(res["weights"])
    assert loaded.config.f2 == 1 and loaded.scales == (2.0,)
    assert loaded.metadata["training"]["validation_images"]


@pytest.mark.slow
def test_seeded_and_resumable(tiny_set, tmp_path):
    import torch

    full = train(tiny_set, tmp_path / "a", _cfg(), device="cpu", progress=False)
    part = train(tiny_set, tmp_path / "b", _cfg(), device="cpu", progress=False, stop_after=20)
    assert part["weights"] is None and part["step"] == 20
    resumed = train(tiny_set, tmp_path / "b", _cfg(), device="cpu", progress=False)
    assert resumed["history"][-1]["step"] == 40
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k])
    np.testing.assert_allclose(full["history"][-1]["loss"], resumed["history"][-1]["loss"])


def test_resume_with_other_config_is_refused(tiny_set, tmp_path):
    train(tiny_set, tmp_path / "r", _cfg(steps=20), device="cpu", progress=False)
    with pytest.raises(ValueError, match="different configuration"):
        train(tiny_set, tmp_path / "r", _cfg(steps=20, lr=1e-2), device="cpu", progress=False)


def test_fine_tune_needs_same_architecture(tiny_set, tmp_path):
    with pytest.raises(ValueError, match="architecture"):
        train(tiny_set, tmp_path / "f", _cfg(), init_weights="srcnn-9-5-5-x2", progress=False)


def test_scale_augmentation_is_recorded(tiny_set, tmp_path):
    from srcnn_plugin.models.weights import load_weights

    res = train(tiny_set, tmp_path / "h", _cfg(steps=20, hr_scales=(1.0, 0.6)), progress=False)
    cfg = load_weights(res["weights"]).metadata["training"]["config"]
    assert tuple(cfg["hr_scales"]) == (1.0, 0.6)


def test_resumes_a_checkpoint_written_before_an_option_existed(tiny_set, tmp_path):
    import torch

    out = tmp_path / "old"
    train(tiny_set, out, _cfg(), device="cpu", progress=False, stop_after=20)
    ck = torch.load(out / "last.pt", weights_only=True)
    del ck["config"]["hr_scales"]  # as written by an older version
    torch.save(ck, out / "last.pt")
    res = train(tiny_set, out, _cfg(), device="cpu", progress=False)
    assert res["step"] == 40 and res["history"][0]["step"] == 20


def test_time_limit_counts_data_preparation(tiny_set, tmp_path, monkeypatch):
    import time

    import torch

    from srcnn_plugin.training import train as train_mod

    fast_read = train_mod.read_planes

    def read_planes(path, channels):
        time.sleep(0.1)
        return fast_read(path, channels)

    monkeypatch.setattr(train_mod, "read_planes", read_planes)
    # The limit is used up while reading: one step, then a clean, resumable stop.
    limit = 0.05 / 60
    res = train(tiny_set, tmp_path / "t", _cfg(), device="cpu", progress=False, max_minutes=limit)
    assert res["step"] == 1 and res["weights"] is None
    assert torch.load(tmp_path / "t" / "last.pt", weights_only=True)["step"] == 1


def test_export_run_of_a_stopped_run(tiny_set, tmp_path):
    from srcnn_plugin.models.weights import load_weights
    from srcnn_plugin.training.train import export_run

    run = tmp_path / "s"
    res = train(tiny_set, run, _cfg(val_every=10), device="cpu", progress=False, stop_after=30)
    meta = load_weights(export_run(run, tmp_path / "best.pt")).metadata["training"]
    assert meta["step"] == res["best_step"] and meta["val_psnr"] == res["best_psnr"]
    assert meta["complete"] is False and meta["config"]["steps"] == 40
    assert meta["validation_images"] and meta["images"]
    assert not set(meta["images"]) & set(meta["validation_images"])
    last = load_weights(export_run(run, tmp_path / "last.pt", last=True)).metadata["training"]
    assert last["step"] == 30


def test_export_run_needs_a_run_folder(tmp_path):
    from srcnn_plugin.training.train import export_run

    with pytest.raises(FileNotFoundError, match="train output folder"):
        export_run(tmp_path, tmp_path / "w.pt")


def test_trains_on_16_bit_multichannel_stacks(tmp_path, rng):
    import imageio.v3 as iio

    yy, xx = np.mgrid[:40, :44]
    for i in range(4):
        scene = np.sin(xx / (2 + i)) * np.cos(yy / 3) + rng.normal(0, 0.05, (40, 44))
        stack = np.stack([scene + z for z in range(2)])  # (Z, M, N)
        img = np.stack([stack, -stack], axis=-1)  # (Z, M, N, C): two channels
        img = (img - img.min()) / np.ptp(img) * 4000
        iio.imwrite(tmp_path / f"s{i}.tif", img.astype(np.uint16))
    cfg = _cfg(steps=60, val_every=30)
    res = train(tmp_path, tmp_path / "run", cfg, device="cpu", progress=False)
    hist = res["history"]
    assert hist[-1]["loss"] < hist[0]["loss"]
    assert all(np.isfinite(h["val_mean"]) for h in hist)


def test_flat_training_images_are_refused(tmp_path):
    import imageio.v3 as iio

    for i in range(3):
        iio.imwrite(tmp_path / f"f{i}.png", np.full((40, 40), 50 + i, np.uint8))
    with pytest.raises(ValueError, match="no plane with more than one value"):
        train(tmp_path, tmp_path / "run", _cfg(), device="cpu", progress=False)


def test_validation_planes_can_differ_from_training_planes(tmp_path, rng, monkeypatch):
    import imageio.v3 as iio

    from srcnn_plugin.training import train as train_mod

    yy, xx = np.mgrid[:40, :44]
    for i in range(4):
        rgb = np.stack([np.sin(xx / (2 + i + c)) * np.cos(yy / (3 + c)) for c in range(3)], -1)
        iio.imwrite(tmp_path / f"c{i}.png", np.uint8(127.5 + 120 * rgb))
    seen, real = [], train_mod.read_planes

    def read_planes(path, channels):
        planes = real(path, channels)
        seen.append((path.name, channels, len(planes)))
        return planes

    monkeypatch.setattr(train_mod, "read_planes", read_planes)
    cfg = _cfg(channels="each", val_channels="luma", steps=20)
    res = train(tmp_path, tmp_path / "run", cfg, device="cpu", progress=False)
    val = json.loads((tmp_path / "run" / "history.json").read_text())
    assert val and res["weights"] is not None
    # training reads R, G and B of three images; validation reads the Y of the fourth
    assert sorted(n for _, c, n in seen if c == "each") == [3, 3, 3]
    assert [(c, n) for _, c, n in seen if c != "each"] == [("luma", 1)]


def test_noise_aware_training_on_acquisitions(tiny_set, tmp_path):
    """A plain model starts a noise-aware one; validation scores each acquisition."""
    from srcnn_plugin.models.srcnn import SRCNN, SRCNNConfig
    from srcnn_plugin.models.weights import load_weights, save_weights

    plain = tmp_path / "plain.pt"
    save_weights(SRCNN(SRCNNConfig(f2=1, n1=16, n2=8)), plain, scales=(2,))
    cfg = _cfg(
        noise_aware=True,
        degradation=("bicubic", "psf=0-0.5+binning+noise=0-0.05"),
        variants=2,
    )
    res = train(tiny_set, tmp_path / "n", cfg, device="cpu", progress=False, init_weights=plain)
    keys = set(res["history"][-1]["val_psnr"])
    assert "2|bicubic" in keys and "2|psf=1+binning+noise=0.03" in keys
    loaded = load_weights(res["weights"])
    assert loaded.config.noise_aware
    assert float(loaded.model.noise1.detach().abs().sum()) > 0  # the noise weights trained
    with pytest.raises(ValueError, match="noise_aware"):
        train(tiny_set, tmp_path / "m", _cfg(), device="cpu", progress=False,
              init_weights=res["weights"])  # fmt: skip


def test_noise_map_training_tells_lines(tiny_set, tmp_path):
    """--noise-map: recordings carry variance lines, and a short run trains on maps."""
    from srcnn_plugin.degradations import DegradationMixture
    from srcnn_plugin.models.weights import load_weights
    from srcnn_plugin.training.data import PatchSampler

    imgs = [np.random.default_rng(0).random((48, 48))]
    mix = DegradationMixture(("binning+photons=100-1000",), clean=0.0)
    s = PatchSampler(imgs, [2], 21, 6, degradation=mix, variants=2, noise_map=True)
    assert s.sample_conditioned(3)[2].shape == (3, 2)
    cfg = _cfg(noise_aware=True, noise_map=True, degradation=("binning+photons=300",), steps=4)
    res = train(tiny_set, tmp_path / "run", cfg, device="cpu", progress=False)
    assert load_weights(res["weights"]).config.noise_aware
    with pytest.raises(ValueError, match="noise_aware=True"):
        train(tiny_set, tmp_path / "bad", _cfg(noise_map=True), device="cpu", progress=False)


def test_validation_truths_are_band_limited_per_image(rng):
    from srcnn_plugin.training.train import validation_pairs

    imgs = [(rng.random((30, 30)) * 255).astype(np.uint8) for _ in range(3)]
    sharp = validation_pairs(imgs, (2,), acquisitions=True)
    smooth = validation_pairs(imgs, (2,), acquisitions=True, hr_blur=1.5)
    assert sharp.keys() == smooth.keys()
    for key in sharp:
        for (h0, *_), (h1, *_) in zip(sharp[key], smooth[key]):
            assert np.abs(np.diff(h1)).mean() < np.abs(np.diff(h0)).mean()
    # one band per image, the same in every acquisition
    first = [p[0] for p in smooth["2|bicubic"]]
    for key in smooth:
        for h, p in zip(first, smooth[key]):
            np.testing.assert_array_equal(h, p[0])


def test_band_limit_needs_a_mixture_and_is_recorded(tiny_set, tmp_path):
    from srcnn_plugin.models.weights import load_weights

    with pytest.raises(ValueError, match="degradation mixture"):
        train(tiny_set, tmp_path / "p", _cfg(hr_blur=1.0), progress=False)
    cfg = _cfg(steps=20, hr_blur=1.0, degradation=("binning",), noise_aware=True)
    res = train(tiny_set, tmp_path / "b", cfg, progress=False)
    assert load_weights(res["weights"]).metadata["training"]["config"]["hr_blur"] == 1.0


def test_lr_grid_is_checked_against_scales_and_patch():
    with pytest.raises(ValueError, match="one integer factor"):
        _cfg(scales=(2, 3), lr_grid=True).arch()
    with pytest.raises(ValueError, match="patch=26"):
        _cfg(lr_grid=True).arch()  # patch 25 at x2
    assert _cfg(lr_grid=True, patch=26).arch().stride == 2


def test_lr_grid_starts_from_a_model_on_the_output_grid(tiny_set, tmp_path):
    """The first two layers come from the model (the same filters, every other pixel);
    the new last layer starts at zero, so the start is the bicubic image."""
    import torch

    from srcnn_plugin.models.registry import get_model
    from srcnn_plugin.models.weights import load_weights

    cfg = _cfg(lr_grid=True, patch=32, n1=64, n2=32, steps=1, lr=0.0, warmup=0,
               val_every=1, checkpoint_every=1)  # fmt: skip
    res = train(tiny_set, tmp_path / "g", cfg, device="cpu", progress=False,
                init_weights="srcnn-9-1-5-x2")  # fmt: skip
    net = load_weights(res["weights"]).model
    assert net.config.stride == 2
    src = get_model("srcnn-9-1-5-x2").model
    torch.testing.assert_close(net.conv1.weight, src.conv1.weight)
    torch.testing.assert_close(net.conv2.weight, src.conv2.weight)
    assert not net.conv3.weight.detach().any()
    x = torch.rand(1, 1, 40, 40)
    with torch.inference_mode():
        torch.testing.assert_close(net(x), x[..., 8:32, 8:32])
    with pytest.raises(ValueError, match="init_weights has architecture 9-5-5"):
        train(tiny_set, tmp_path / "h", cfg, device="cpu", progress=False,
              init_weights="srcnn-9-5-5-x2")  # fmt: skip
