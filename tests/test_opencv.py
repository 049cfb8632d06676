import numpy as np
import pytest

from srcnn_plugin import opencv as sr_cv
from srcnn_plugin.opencv import DnnSuperResImpl, resize


@pytest.fixture
def bgr(natural):
    img = np.stack([natural, natural[::-1], natural.T], -1)
    return np.round(img * 255).astype(np.uint8)[:64, :80]


def test_tutorial_call_sequence(tmp_path, bgr):
    cv2 = pytest.importorskip("cv2")
    from srcnn_plugin.models.registry import bundled_weights_path

    cv2.imwrite(str(tmp_path / "input.png"), bgr)
    path = tmp_path / "SRCNN_x3.pt"
    path.write_bytes(bundled_weights_path("srcnn-9-5-5-x3").read_bytes())
    # --- the dnn_superres tutorial, with our import and model name ---
    sr = sr_cv.DnnSuperResImpl_create()
    image = cv2.imread(str(tmp_path / "input.png"))
    sr.readModel(str(path))
    sr.setModel("srcnn", 3)
    result = sr.upsample(image)
    cv2.imwrite(str(tmp_path / "upscaled.png"), result)
    # ---
    assert result.shape == (192, 240, 3) and result.dtype == np.uint8
    assert cv2.imread(str(tmp_path / "upscaled.png")).shape == (192, 240, 3)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_dtype_and_channels_kept(bgr, dtype, channels):
    img = bgr.astype(np.float32) / 255 if dtype == np.float32 else bgr.astype(dtype)
    if dtype == np.uint16:
        img = img * 257
    if channels is None:
        img = img[..., 0]
    elif channels == 1:
        img = img[..., :1]
    elif channels == 4:
        img = np.concatenate([img, img[..., :1]], -1)
    sr = DnnSuperResImpl.create()
    sr.setModel("srcnn", 2)
    out = sr.upsample(img)
    assert out.dtype == dtype
    # cv2 returns (H, W) for an (H, W, 1) image.
    assert out.shape == (128, 160) + (() if channels in (None, 1) else (channels,))


def test_bgr_order_respected(bgr):
    """BGR input equals the RGB Y path of rescale with channels reversed."""
    from srcnn_plugin import rescale

    a = DnnSuperResImpl("srcnn", 2).upsample(bgr)
    rgb = rescale(bgr[..., ::-1], 2, channel_axis=-1, preserve_range=True, color_mode="ycbcr")
    np.testing.assert_array_equal(a, np.clip(np.rint(rgb[..., ::-1]), 0, 255).astype(np.uint8))


def test_fast_algorithm_runs_the_fast_family(bgr):
    from srcnn_plugin import rescale

    sr = DnnSuperResImpl("srcnn-fast", 2)
    assert sr.getAlgorithm() == "srcnn-fast"
    a = sr.upsample(bgr)
    rgb = rescale(
        bgr[..., ::-1], 2, channel_axis=-1, preserve_range=True, color_mode="ycbcr", model="fast"
    )
    np.testing.assert_array_equal(a, np.clip(np.rint(rgb[..., ::-1]), 0, 255).astype(np.uint8))
    assert not np.array_equal(a, DnnSuperResImpl("srcnn", 2).upsample(bgr))


def test_alpha_is_resampled_not_super_resolved(bgr):
    from srcnn_plugin._imresize import imresize

    alpha = np.tile(np.linspace(0, 255, 80), (64, 1)).astype(np.uint8)
    out = DnnSuperResImpl("srcnn", 2).upsample(np.dstack([bgr, alpha]))
    expect = np.clip(np.rint(imresize(alpha.astype(float), 2)), 0, 255)
    assert np.abs(out[..., 3].astype(float) - expect).max() <= 1


def test_resize_dsize_and_factors(bgr):
    assert resize(bgr, (100, 70)).shape == (70, 100, 3)
    assert resize(bgr, None, fx=2, fy=3).shape == (192, 160, 3)
    assert resize(bgr, (0, 0), fx=1.5).shape == (96, 120, 3)
    with pytest.raises(ValueError, match="dsize"):
        resize(bgr)


def test_errors():
    sr = DnnSuperResImpl.create()
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(RuntimeError, match="setModel"):
        sr.upsample(img)
    with pytest.raises(ValueError, match="replace 'edsr'"):
        sr.setModel("edsr", 2)
    with pytest.raises(ValueError, match="No weights for scale 8"):
        sr.setModel("srcnn", 8)
    with pytest.raises(ValueError, match=".pb"):
        sr.readModel("EDSR_x3.pb")
    sr.setModel("SRCNN", 2)
    with pytest.raises(ValueError, match="1, 3 .BGR. or 4"):
        sr.upsample(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(TypeError, match="dtype"):
        sr.upsample(np.zeros((8, 8), bool))


def test_backend_and_target_constants():
    sr = DnnSuperResImpl("srcnn", 2)
    sr.setPreferableBackend(3)  # DNN_BACKEND_OPENCV
    sr.setPreferableTarget(0)  # DNN_TARGET_CPU
    assert sr._device == "cpu"
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            sr.setPreferableTarget(6)  # DNN_TARGET_CUDA


@pytest.mark.slow
def test_beats_cv2_inter_cubic_on_set5(datasets):
    cv2 = pytest.importorskip("cv2")
    import imageio.v3 as iio

    from srcnn_plugin._imresize import imresize

    for scale in (2, 3, 4):
        sr = DnnSuperResImpl("srcnn", scale)
        ours, cubic = [], []
        for path in sorted((datasets / "Set5").glob("*.png")):
            hr = iio.imread(path)[..., :3][..., ::-1]
            h, w = (s - s % scale for s in hr.shape[:2])
            hr = hr[:h, :w]
            lr = np.clip(np.rint(imresize(hr.astype(float), 1 / scale)), 0, 255).astype(np.uint8)
            ours.append(cv2.PSNR(hr, sr.upsample(lr)))
            cubic.append(cv2.PSNR(hr, cv2.resize(lr, (w, h), interpolation=cv2.INTER_CUBIC)))
        assert np.mean(ours) > np.mean(cubic) + 0.1, (scale, np.mean(ours), np.mean(cubic))


def test_output_array_form(bgr):
    sr = DnnSuperResImpl("srcnn", 2)
    result = np.empty((2 * bgr.shape[0], 2 * bgr.shape[1], 3), np.uint8)
    assert sr.upsample(bgr, result) is result
    np.testing.assert_array_equal(result, sr.upsample(bgr))
    with pytest.raises(ValueError, match="output array"):
        sr.upsample(bgr, np.empty((2, 2), np.uint8))
    dst = np.empty((70, 100, 3), np.uint8)
    assert resize(bgr, (100, 70), dst) is dst


def test_cv2_resize_signature(bgr):
    assert resize(bgr, None, None, 2, 3, 2).shape == (3 * bgr.shape[0], 2 * bgr.shape[1], 3)
    assert resize(bgr, (0, 0), fx=1.5, interpolation=3).shape[:2] == (96, 120)


def test_cv2_state_conventions():
    sr = DnnSuperResImpl.create()
    assert sr.getScale() == 0 and sr.getAlgorithm() == ""
    sr.setModel("srcnn", 3)
    assert sr.getAlgorithm() == "srcnn" and sr.getScale() == 3
    with pytest.raises(ValueError, match="empty"):
        sr.upsample(np.zeros((0, 5), np.uint8))


def test_refused_target_is_not_stored():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available: the CUDA target is not refused")
    sr = DnnSuperResImpl("srcnn", 2)
    with pytest.raises(ValueError):
        sr.setPreferableTarget(6)  # DNN_TARGET_CUDA
    assert sr._target == 0 and sr._device == "cpu"


def test_errors_are_cv2_errors_when_cv2_is_installed():
    cv2 = pytest.importorskip("cv2")
    sr = DnnSuperResImpl.create()
    with pytest.raises(cv2.error):
        sr.setModel("edsr", 2)
    with pytest.raises(cv2.error):
        sr.upsample(np.zeros((4, 4), np.uint8))
