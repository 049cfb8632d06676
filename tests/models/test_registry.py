import pytest

from srcnn_plugin.models.registry import (
    default_model,
    get_model,
    list_models,
    model_info,
    pick_model_for_scale,
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
