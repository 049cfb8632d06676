import numpy as np
import pytest

from srcnn_plugin.models.registry import (
    FAMILIES,
    default_family,
    default_model,
    get_model,
    list_models,
    model_info,
    pick_model_for_scale,
    resolve_model,
)


def test_default_is_listed():
    assert default_model() in list_models()


def test_unknown_model_message():
    with pytest.raises(ValueError, match="Unknown model 'nope'.*list_models|weights file"):
        model_info("nope")


def test_models_cover_paper_scales():
    scales = {s for n in list_models() for s in model_info(n)["scales"]}
    assert {2, 3, 4} <= scales


@pytest.mark.parametrize("scale", [1.5, 2, 3, 4, 6])
def test_pick_model_for_scale(scale):
    assert pick_model_for_scale(scale) in list_models()


def test_get_model_is_cached_and_accepts_paths(tmp_path):
    a = get_model()
    assert get_model(default_model()) is a
    from srcnn_plugin.models.srcnn import SRCNN
    from srcnn_plugin.models.weights import save_weights

    p = tmp_path / "m.pt"
    save_weights(SRCNN(), p, scales=(2,))
    assert get_model(str(p)).scales == (2.0,)
    with pytest.raises(TypeError, match="model must be"):
        get_model(3)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_is_bundled_at_x2_and_x3(family):
    for s in (2, 3):
        name = pick_model_for_scale(s, family)
        assert model_info(name)["family"] == family
        assert model_info(name)["scales"] == [float(s)]


def test_the_default_family_serves_its_factors_and_the_paper_the_rest():
    fam = default_family()
    for s in (2, 2.7, 3):
        assert model_info(pick_model_for_scale(s))["family"] == fam
    assert pick_model_for_scale(1.6) == "srcnn-acq-9-5-5-x1.5"
    assert pick_model_for_scale(1.6, "paper") == "srcnn-9-5-5-x1.5"


def test_largest_factor_not_above_the_request():
    assert pick_model_for_scale(2.9, "paper") == "srcnn-9-5-5-x2"
    assert pick_model_for_scale(1.0, "paper") == "srcnn-9-5-5-x1.5"
    assert pick_model_for_scale(9, "paper") == "srcnn-9-5-5-x4"


def test_resolve_model():
    assert resolve_model(None, 3) == pick_model_for_scale(3)
    assert resolve_model("paper", 2) == "srcnn-9-5-5-x2"
    assert resolve_model("my.pt", 2) == "my.pt"
    with pytest.raises(ValueError, match="Unknown model family"):
        pick_model_for_scale(2, "magic")


def test_fast_families_are_the_9_1_5_network():
    import numpy as np

    from srcnn_plugin import rescale
    from srcnn_plugin.models.registry import get_model

    for s in (2, 3, 4):
        paper = resolve_model("paper-fast", s)
        fast = resolve_model("fast", s)
        assert paper == f"srcnn-9-1-5-x{s}" and fast == f"srcnn-acq-9-1-5-x{s}"
        for name in (paper, fast):
            loaded = get_model(name)
            assert loaded.config.name == "9-1-5" and loaded.config.macs_per_pixel == 8032
        # 'fast' is trained like the default: told the noise level and PSF
        assert get_model(fast).config.noise_aware and get_model(fast).config.blur_aware
        assert not get_model(paper).config.noise_aware
    img = np.random.default_rng(0).random((24, 20))
    out = {m: rescale(img, 2, model=m) for m in ("fast", "paper-fast", "paper")}
    assert out["fast"].shape == (48, 40)
    assert not np.allclose(out["fast"], out["paper-fast"])
    assert not np.allclose(out["paper-fast"], out["paper"])
    for m in ("fast", "paper-fast"):
        np.testing.assert_allclose(rescale(np.full((8, 8), 0.3), 2, model=m), 0.3, atol=1e-6)


def test_one_axis_models_are_chosen_only_by_name(tmp_path):
    from srcnn_plugin.models.registry import ONE_AXIS_FAMILIES, is_one_axis
    from srcnn_plugin.models.srcnn import SRCNN
    from srcnn_plugin.models.weights import save_weights

    assert ONE_AXIS_FAMILIES == ("axial",)
    for s in (1.5, 2, 3, 4, 5, 6, 8):
        assert model_info(pick_model_for_scale(s))["family"] not in ONE_AXIS_FAMILIES
    assert [pick_model_for_scale(s, "axial") for s in (2, 4.5, 6, 9)] == [
        "srcnn-axial-9-5-5-x2", "srcnn-axial-9-5-5-x4", "srcnn-axial-9-5-5-x6",
        "srcnn-axial-9-5-5-x6",
    ]  # fmt: skip
    assert is_one_axis("srcnn-axial-9-5-5-x3") and not is_one_axis("srcnn-9-5-5-x3")
    # a weights file says so through its training degradation (or its metadata)
    trained = {"training": {"config": {"degradation": ["axial+psf=0-0.75"]}}}
    save_weights(SRCNN(), tmp_path / "z.pt", scales=(4,), metadata=trained)
    save_weights(SRCNN(), tmp_path / "p.pt", scales=(4,))
    assert is_one_axis(str(tmp_path / "z.pt")) and not is_one_axis(str(tmp_path / "p.pt"))


def test_acquisition_models_are_told_the_noise_times_their_gain(rng, monkeypatch, tmp_path):
    """``noise_gain`` scales the level a bundled model is told, measured or stated."""
    import numpy as np

    import srcnn_plugin
    from srcnn_plugin.models import registry
    from srcnn_plugin.models.srcnn import SRCNN, SRCNNConfig
    from srcnn_plugin.models.weights import save_weights

    name = "srcnn-acq-9-5-5-x3"
    gain = registry.noise_gain(name)
    assert gain > 1
    assert registry.noise_gain(registry.get_model(name)) == gain  # loaded, e.g. by Upscaler
    z = "srcnn-axial-9-5-5-x4"  # the same rule for the registry's default PSF
    assert registry.blur_default(registry.get_model(z)) == registry.blur_default(z) == 0.5
    assert registry.noise_gain("srcnn-9-5-5-x2") == 1.0
    other = tmp_path / "trained.pt"  # a model of one's own: told the level as measured
    save_weights(SRCNN(SRCNNConfig(noise_aware=True)), other, scales=(2,))
    assert registry.noise_gain(str(other)) == 1.0
    img = 0.5 + 0.2 * np.sin(np.arange(48)[:, None] / 3) + 0.02 * rng.standard_normal((48, 48))
    named = srcnn_plugin.rescale(img, 3, model=name, noise=0.02)
    monkeypatch.setattr(registry, "noise_gain", lambda model: 1.0)
    told_scaled = srcnn_plugin.rescale(img, 3, model=name, noise=0.02 * gain)
    np.testing.assert_allclose(named, told_scaled, atol=1e-6)
    told_plain = srcnn_plugin.rescale(img, 3, model=name, noise=0.02)
    assert np.abs(named - told_plain).max() > 1e-4


def test_the_fast_families_run_on_the_low_resolution_grid_at_exact_factors():
    import numpy as np

    from srcnn_plugin import explain, rescale

    for s in (2, 3, 4):
        for family, prefix in (("paper-fast", "srcnn-lr"), ("fast", "srcnn-acq-lr")):
            name = resolve_model(family, s, s)
            assert name == f"{prefix}-9-1-5-x{s}" and model_info(name)["stride"] == s
            cfg = get_model(name).config
            assert cfg.stride == s and cfg.name == f"9-1-5/x{s}"
            assert cfg.noise_aware == cfg.blur_aware == (family == "fast")
            assert cfg.macs_per_pixel < 8032 / 3
    assert explain(np.random.default_rng(1).random((24, 20)), 3, model="fast")["model"] == (
        "srcnn-acq-lr-9-1-5-x3"
    )
    # Only where both plane axes grow by exactly its factor; else the output-grid model.
    assert pick_model_for_scale(2, "fast") == "srcnn-acq-9-1-5-x2"
    assert pick_model_for_scale(2.5, "fast") == "srcnn-acq-9-1-5-x2"
    assert pick_model_for_scale(6, "fast", grid=6) == "srcnn-acq-9-1-5-x4"
    assert resolve_model("srcnn-acq-lr-9-1-5-x2", 2.5) == "srcnn-acq-lr-9-1-5-x2"  # names stay
    img = np.random.default_rng(0).random((24, 20))
    assert explain(img, 2, model="paper-fast")["model"] == "srcnn-lr-9-1-5-x2"
    assert explain(img, (1.5, 2), model="paper-fast")["model"] == "srcnn-9-1-5-x2"  # not both
    assert explain(img, 2.5, model="paper-fast")["model"] == "srcnn-9-1-5-x2"
    out = rescale(img, 2, model="paper-fast")
    other = rescale(img, 2, model="srcnn-9-1-5-x2")
    assert out.shape == other.shape == (48, 40) and not np.allclose(out, other)


@pytest.mark.parametrize(
    "name",
    ["srcnn-acq-9-5-5-x3", "srcnn-acq-9-5-5-x4", "srcnn-acq-lr-9-1-5-x3", "srcnn-acq-lr-9-1-5-x4"],
)
def test_a_bright_spot_far_away_leaves_the_rest_alone(name):
    """The x3/x4 models were trained at low contrast (``--contrast``): a 3x3 spot at 30x the
    range, which stretches the range the network works on, costs the rest of a binned or
    bicubic-shrunk image at most 3 dB (the step-3 x3 model lost 9 dB here)."""
    from scipy import ndimage as ndi

    import srcnn_plugin as sp
    from srcnn_plugin.degradations import Degradation

    s = int(name[-1])
    rng = np.random.default_rng(0)
    hr = np.zeros((192, 192))
    for _ in range(60):
        r, c = rng.integers(10, 182, 2)
        hr[r, c] = rng.uniform(0.5, 1)
    hr = ndi.gaussian_filter(hr, 2.5)
    hr = 1000 + 3000 * hr / hr.max()
    keep = np.zeros(hr.shape, bool)
    keep[60:-8, 60:-8] = True  # far from the spot
    spot = 30 * np.array([[0.3, 0.6, 0.3], [0.6, 1.0, 0.6], [0.3, 0.6, 0.3]])
    for deg in (Degradation("binning"), Degradation("bicubic")):
        lr = deg.apply(hr, s)
        bright = lr.copy()
        bright[2:5, 2:5] = lr.min() + np.ptp(lr) * spot
        plain = sp.rescale(lr, s, model=name, preserve_range=True)
        spotted = sp.rescale(bright, s, model=name, preserve_range=True)
        lost = np.mean((spotted - hr)[keep] ** 2) / np.mean((plain - hr)[keep] ** 2)
        assert 10 * np.log10(lost) < 3.0, (deg, 10 * np.log10(lost))
