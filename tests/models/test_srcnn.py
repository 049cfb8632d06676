import pytest
import torch

from srcnn_plugin.models.srcnn import SRCNN, SRCNNConfig, predict_padded


@pytest.mark.parametrize("f2,halo", [(1, 6), (3, 7), (5, 8)])
def test_valid_conv_shapes(f2, halo):
    net = SRCNN(SRCNNConfig(f2=f2))
    assert net.halo == halo
    assert net(torch.zeros(2, 1, 40, 30)).shape == (2, 1, 40 - 2 * halo, 30 - 2 * halo)


def test_padded_keeps_size():
    assert predict_padded(SRCNN(), torch.rand(1, 1, 9, 11)).shape == (1, 1, 9, 11)


def test_residual_starts_near_identity():
    net = SRCNN()
    x = torch.rand(1, 1, 40, 40)
    with torch.no_grad():
        out = predict_padded(net, x)
    assert (out - x).abs().mean() < 0.5


def test_parameter_count_matches_paper():
    n = sum(p.numel() for p in SRCNN().parameters())
    assert n == 9 * 9 * 64 + 64 + 5 * 5 * 64 * 32 + 32 + 5 * 5 * 32 + 1
    assert SRCNNConfig().macs_per_pixel == 57_184


@pytest.mark.parametrize("kw", [{"f1": 4}, {"f2": 0}, {"n1": 0}, {"f3": 2.0}])
def test_bad_config(kw):
    with pytest.raises(ValueError):
        SRCNNConfig(**kw)
