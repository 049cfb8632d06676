import platform

import pytest
import torch

from srcnn_plugin.models.srcnn import (
    SRCNN,
    SRCNNConfig,
    conv_relu,
    flat_response,
    infer,
    noise_map,
    predict_padded,
)


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


def test_noise_aware_starts_as_the_plain_network():
    torch.manual_seed(0)
    plain = SRCNN().eval()
    aware = SRCNN(SRCNNConfig(noise_aware=True)).eval()
    aware.load_state_dict(plain.state_dict(), strict=False)
    x = torch.rand(2, 1, 30, 30)
    with torch.inference_mode():
        torch.testing.assert_close(aware(x, torch.tensor([0.01, 0.05])), plain(x))


def test_noise_shifts_biases_per_item():
    torch.manual_seed(0)
    net = SRCNN(SRCNNConfig(noise_aware=True)).eval()
    with torch.no_grad():
        net.noise1.normal_()
        net.noise2.normal_()
    x = torch.rand(1, 1, 25, 25).expand(2, 1, 25, 25)
    with torch.inference_mode():
        y = net(x, torch.tensor([0.0, 0.03]))
        assert not torch.allclose(y[0], y[1])
        torch.testing.assert_close(y[1:], net(x[1:], 0.03))
        torch.testing.assert_close(infer(net, x, torch.tensor([0.0, 0.03])), y, atol=1e-5, rtol=0)


@pytest.mark.parametrize("f2,stride", [(1, 1), (5, 1), (1, 2), (5, 2), (1, 4)])
def test_cpu_inference_equals_the_module(f2, stride):
    """The CPU path (fused ReLUs, product last layer, channels-last as the engine
    runs it) gives the module's values, plain, conditioned and per item, on the
    output grid and on the low-resolution grid."""
    torch.manual_seed(3)
    net = SRCNN(SRCNNConfig(f2=f2, noise_aware=True, blur_aware=True, stride=stride)).eval()
    with torch.no_grad():
        for p in (net.noise1, net.noise2, net.blur1, net.blur2):
            p.normal_()
    x = torch.rand(3, 1, 37 // stride * stride, 41 // stride * stride) - 0.2  # negatives too
    cl = net.to(memory_format=torch.channels_last)
    with torch.inference_mode():
        for noise, blur in ((None, None), (0.02, 0.3), (torch.tensor([0.0, 0.03, 0.0]), None)):
            ref = net(x, noise, blur)
            got = infer(cl, x.contiguous(memory_format=torch.channels_last), noise, blur)
            torch.testing.assert_close(got, ref, atol=1e-5, rtol=0)


def test_conv_relu_fused_equals_unfused_and_autocast_falls_back():
    from srcnn_plugin.models import srcnn

    # On x86-64 builds with oneDNN, the fused operator is what runs.
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    assert (srcnn._FUSED is not None) == (x86 and torch.backends.mkldnn.is_available())
    torch.manual_seed(4)
    x, w, b = torch.randn(2, 3, 20, 17), torch.randn(8, 3, 5, 5), torch.randn(8)
    ref = torch.nn.functional.conv2d(x, w, b).relu()
    with torch.inference_mode():
        torch.testing.assert_close(conv_relu(x, w, b), ref, atol=1e-5, rtol=0)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = conv_relu(x, w, b)
    assert low.dtype == torch.bfloat16  # autocast's convolution, not the fp32 fused one
    torch.testing.assert_close(low.float(), ref, atol=0.3, rtol=0.05)


def test_conv_relu_falls_back_for_good_when_the_fused_operator_fails(monkeypatch):
    from srcnn_plugin.models import srcnn

    def broken(*args):
        raise RuntimeError("not supported by this build")

    monkeypatch.setattr(srcnn, "_FUSED", broken)
    x, w, b = torch.rand(1, 2, 9, 9), torch.randn(3, 2, 3, 3), torch.randn(3)
    with torch.inference_mode():
        torch.testing.assert_close(conv_relu(x, w, b), torch.nn.functional.conv2d(x, w, b).relu())
    assert srcnn._FUSED is None


def test_flat_response_is_exact_with_noise():
    torch.manual_seed(1)
    net = SRCNN(SRCNNConfig(noise_aware=True)).eval()
    with torch.no_grad():
        net.noise1.normal_()
    c = torch.tensor([0.1, 0.5, 0.9])
    with torch.inference_mode():
        ref = torch.stack([net(torch.full((1, 1, 17, 17), float(v)), 0.02).mean() for v in c])
        torch.testing.assert_close(flat_response(net, c, 0.02), ref, atol=1e-5, rtol=0)


def _shot_net(f2=5):
    torch.manual_seed(2)
    net = SRCNN(SRCNNConfig(f2=f2, noise_aware=True)).eval()
    with torch.no_grad():
        net.noise1.normal_()
        net.noise2.normal_()
    return net


@pytest.mark.parametrize("f2", [1, 5])
def test_a_constant_noise_map_is_the_level(f2):
    """A map of one value everywhere gives exactly what that level gives."""
    net = _shot_net(f2)
    x = torch.rand(2, 1, 30, 30)
    with torch.inference_mode():
        flat_map = noise_map(net, x, (0.0, 0.03**2))
        assert flat_map.shape == (2, 1, 30 - 8, 30 - 8)
        ref = net(x, 0.03)
        torch.testing.assert_close(net(x, flat_map), ref, atol=1e-5, rtol=0)
        torch.testing.assert_close(infer(net, x, flat_map), ref, atol=1e-5, rtol=0)


def test_a_noise_map_acts_per_pixel():
    """Each output pixel sees the level of its own neighbourhood, not the image's."""
    net = _shot_net()
    x = torch.rand(1, 1, 40, 40)
    line = (0.002, 0.0)
    with torch.inference_mode():
        y = net(x, noise_map(net, x, line))
        half = net(x[..., :24], noise_map(net, x[..., :24], line))  # a tile of it
        torch.testing.assert_close(y[..., :8], half[..., :8], atol=1e-5, rtol=0)
        window = x[0, 0, 3:12, 20:29]  # the first layer's 9 x 9 view of map pixel (3, 20)
        level = noise_map(net, x, line)[0, 0, 3, 20]
        torch.testing.assert_close(level, (line[0] * window.mean()).sqrt())


def test_flat_response_with_a_level_per_constant():
    net = _shot_net()
    c = torch.tensor([0.1, 0.5, 0.9])
    line = (0.002, 1e-4)
    with torch.inference_mode():
        ref = []
        for v in c:
            flat = torch.full((1, 1, 17, 17), float(v))
            ref.append(net(flat, noise_map(net, flat, line)).mean())
        sigma = (line[0] * c + line[1]).sqrt()
        got = flat_response(net, c, sigma)
        torch.testing.assert_close(got, torch.stack(ref), atol=1e-5, rtol=0)


def test_noise_aware_weights_round_trip(tmp_path):
    from srcnn_plugin.models.weights import load_weights, save_weights

    net = SRCNN(SRCNNConfig(noise_aware=True))
    save_weights(net, tmp_path / "n.pt", scales=(2,))
    loaded = load_weights(tmp_path / "n.pt")
    assert loaded.config.noise_aware
    torch.testing.assert_close(loaded.model.noise1, net.noise1)


# ---------------------------------------------------------------- low-resolution grid
@pytest.mark.parametrize(
    "f2,stride,halo", [(1, 2, 8), (5, 2, 12), (1, 3, 9), (5, 3, 15), (1, 4, 12)]
)
def test_low_resolution_grid_shapes(f2, stride, halo):
    net = SRCNN(SRCNNConfig(f2=f2, stride=stride))
    assert net.halo == halo and halo % stride == 0
    side = 16 * stride
    assert net(torch.zeros(2, 1, side, side + stride)).shape == (
        2, 1, side - 2 * halo, side + stride - 2 * halo,
    )  # fmt: skip
    assert SRCNNConfig(f2=f2, stride=stride).name == f"9-{f2}-5/x{stride}"


@pytest.mark.parametrize("kw", [{"stride": 0}, {"stride": True}, {"stride": 2.0}, {"stride": 5}])
def test_bad_stride(kw):
    with pytest.raises(ValueError, match="stride|grid"):
        SRCNNConfig(f2=1, **kw)  # x5: 9-1-5 would lose an odd number of LR pixels


def _lr_net(stride, f2=1):
    torch.manual_seed(5)
    net = SRCNN(SRCNNConfig(f2=f2, stride=stride, noise_aware=True, blur_aware=True)).eval()
    with torch.no_grad():
        for p in (net.noise1, net.noise2, net.blur1, net.blur2, net.conv3.weight):
            p.normal_(std=0.1)
    return net


@pytest.mark.parametrize("stride", [2, 3])
def test_low_resolution_grid_is_a_strided_network_and_sub_pixel_phases(stride):
    """Layer 1 is the full-grid convolution sampled every ``stride`` pixels; output
    pixel (s i + a, s j + b) is the last layer's channel a s + b at (i, j)."""
    net = _lr_net(stride)
    s, h = stride, net.halo
    x = torch.rand(1, 1, 10 * s, 11 * s)
    c1, c2, c3 = net.conv1, net.conv2, net.conv3
    with torch.inference_mode():
        y = torch.nn.functional.conv2d(x, c1.weight, c1.bias)[..., ::s, ::s].relu()
        y = torch.nn.functional.conv2d(y, c2.weight, c2.bias).relu()
        z = torch.nn.functional.conv2d(y, c3.weight, c3.bias)  # (1, s*s, I, J)
        n, _, rows, cols = z.shape
        ref = (
            z.reshape(n, s, s, rows, cols).permute(0, 3, 1, 4, 2).reshape(n, 1, rows * s, cols * s)
        )
        ref = ref + x[..., h : h + rows * s, h : h + cols * s]
        torch.testing.assert_close(net(x), ref, atol=1e-5, rtol=0)


def test_low_resolution_grid_noise_map_is_on_the_first_layer_grid():
    net = _lr_net(2)
    x = torch.rand(1, 1, 40, 40)
    line = (0.002, 0.0)
    with torch.inference_mode():
        m = noise_map(net, x, line)
        assert m.shape == (1, 1, 16, 16)  # (40 - 9) // 2 + 1
        window = x[0, 0, 6:15, 20:29]  # the strided first layer's view of map pixel (3, 10)
        torch.testing.assert_close(m[0, 0, 3, 10], (line[0] * window.mean()).sqrt())
        flat_map = noise_map(net, x, (0.0, 0.03**2))
        torch.testing.assert_close(net(x, flat_map), net(x, 0.03), atol=1e-5, rtol=0)
        torch.testing.assert_close(infer(net, x, flat_map), net(x, 0.03), atol=1e-5, rtol=0)


@pytest.mark.parametrize("stride", [2, 3])
def test_low_resolution_grid_flat_response_is_the_phase_pattern(stride):
    net = _lr_net(stride)
    c = torch.tensor([0.1, 0.5, 0.9])
    with torch.inference_mode():
        got = flat_response(net, c, 0.02, 0.4)
        assert got.shape == (3, stride, stride)
        for k, v in enumerate(c):
            out = net(torch.full((1, 1, 12 * stride, 12 * stride), float(v)), 0.02, 0.4)
            pattern = out[0, 0, :stride, :stride]
            torch.testing.assert_close(out[0, 0, stride : 2 * stride, :stride], pattern)
            torch.testing.assert_close(got[k], pattern, atol=1e-5, rtol=0)
        assert float(got[1].max() - got[1].min()) > 1e-3  # a real pattern, not a constant


def test_low_resolution_grid_padded_keeps_any_size():
    net = _lr_net(3)
    x = torch.rand(1, 1, 22, 31)
    with torch.inference_mode():
        y = predict_padded(net, x)
        assert y.shape == x.shape
        # The padding beyond the size is at the end: the first rows see what a
        # multiple-of-3 crop sees.
        z = predict_padded(net, x[..., :21, :30])
        torch.testing.assert_close(y[..., :12, :12], z[..., :12, :12], atol=1e-5, rtol=0)
