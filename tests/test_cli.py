import re

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from srcnn_plugin.cli import main


@pytest.fixture
def folder(tmp_path, rng):
    from skimage import data

    d = tmp_path / "in"
    d.mkdir()
    iio.imwrite(d / "cam.png", data.camera()[:60, :70])
    vol = rng.integers(0, 4096, (3, 2, 30, 40), dtype=np.uint16)
    tifffile.imwrite(
        d / "hyper.tif",
        vol,
        imagej=True,
        resolution=(5.0, 5.0),
        metadata={"axes": "ZCYX", "spacing": 0.5, "unit": "um"},
    )
    tifffile.imwrite(
        d / "stack.ome.tif",
        vol[:, 0],
        ome=True,
        metadata={"axes": "ZYX", "PhysicalSizeX": 0.1, "PhysicalSizeY": 0.1, "PhysicalSizeZ": 1.0},
    )
    tifffile.imwrite(d / "float.tif", rng.random((20, 30)).astype(np.float32))
    return d


def test_png_8bit(folder, tmp_path):
    out = tmp_path / "out"
    assert main(["upscale", str(folder / "cam.png"), "-s", "2", "-o", str(out), "-q"]) == 0
    img = iio.imread(out / "cam_x2.png")
    assert img.shape == (120, 140) and img.dtype == np.uint8


def test_imagej_hyperstack_16bit_metadata(folder, tmp_path):
    out = tmp_path / "out"
    assert main(["upscale", str(folder / "hyper.tif"), "-s", "2", "-o", str(out), "-q"]) == 0
    with tifffile.TiffFile(out / "hyper_x2.tif") as tf:
        s = tf.series[0]
        assert s.axes == "ZCYX" and s.shape == (3, 2, 60, 80) and s.dtype == np.uint16
        num, den = tf.pages[0].tags["XResolution"].value
        assert den / num == pytest.approx(0.1)  # 0.2 um / 2
        assert tf.imagej_metadata["spacing"] == 0.5 and tf.imagej_metadata["unit"] == "um"
        data = s.asarray()
    src = tifffile.imread(folder / "hyper.tif")
    # channels are not mixed: each channel stays within its own input range
    for c in range(2):
        assert data[:, c].max() <= src[:, c].max() and data[:, c].min() >= src[:, c].min()


def test_ome_pixel_size_and_per_axis_scale(folder, tmp_path):
    out = tmp_path / "out"
    rc = main(["upscale", str(folder / "stack.ome.tif"), "-s", "1", "2", "3", "-o", str(out), "-q"])
    assert rc == 0
    with tifffile.TiffFile(out / "stack_x3.ome.tif") as tf:
        assert tf.series[0].shape == (3, 60, 120)
        px = re.search(r"<Pixels\b[^>]*>", tf.ome_metadata).group(0)
    assert 'PhysicalSizeX="0.0333' in px and 'PhysicalSizeY="0.05"' in px
    assert 'PhysicalSizeZ="1.0"' in px


def test_float_tiff_and_float_option(folder, tmp_path):
    out = tmp_path / "out"
    assert main(["upscale", str(folder / "float.tif"), "-s", "2", "-o", str(out), "-q"]) == 0
    assert tifffile.imread(out / "float_x2.tif").dtype == np.float32
    assert (
        main(["upscale", str(folder / "hyper.tif"), "-s", "2", "-o", str(out), "--float", "-q"])
        == 0
    )
    assert tifffile.imread(out / "hyper_x2.tif").dtype == np.float32
    assert (
        main(["upscale", str(folder / "cam.png"), "-s", "2", "-o", str(out), "--float", "-q"]) == 1
    )
    assert not (out / "cam_x2.png").exists()


def test_nan_in_a_float_tiff_stays_in_place(rng, tmp_path):
    img = rng.random((20, 30)).astype(np.float32)
    img[4:9, 10:16] = np.nan
    tifffile.imwrite(tmp_path / "masked.tif", img)
    out = tmp_path / "out"
    assert main(["upscale", str(tmp_path / "masked.tif"), "-s", "2", "-o", str(out), "-q"]) == 0
    up = tifffile.imread(out / "masked_x2.tif")
    np.testing.assert_array_equal(np.isnan(up), np.kron(np.isnan(img), np.ones((2, 2), bool)))


def test_folder_batch_and_refusal_to_overwrite(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["upscale", str(folder), "-s", "2", "-o", str(out), "-q"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["cam_x2.png", "float_x2.tif", "hyper_x2.tif", "stack_x2.ome.tif"]
    before = (out / "cam_x2.png").read_bytes()
    assert main(["upscale", str(folder), "-s", "2", "-o", str(out), "-q"]) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert (out / "cam_x2.png").read_bytes() == before
    assert main(["upscale", str(folder), "-s", "2", "-o", str(out), "--skip-existing", "-q"]) == 0
    assert main(["upscale", str(folder), "-s", "2", "-o", str(out), "--overwrite", "-q"]) == 0


def test_input_never_overwritten(folder, capsys):
    before = (folder / "cam.png").read_bytes()
    assert main(["upscale", str(folder / "cam.png"), "-s", "2", "--suffix", "", "-q"]) == 1
    assert "overwrite the input" in capsys.readouterr().err
    assert (folder / "cam.png").read_bytes() == before


def test_bad_file_reported_batch_continues(folder, tmp_path, capsys):
    (folder / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    assert main(["upscale", str(folder), "-s", "2", "-o", str(out)]) == 1
    err = capsys.readouterr()
    assert "broken.png" in err.err and "4 written, 0 skipped, 1 failed" in err.out
    assert not (out / "broken_x2.png").exists()


def test_atomic_write_on_failure(folder, tmp_path, monkeypatch):
    import srcnn_plugin._io as io_mod

    def boom(tmp, img):
        tmp.write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(io_mod, "_write_tiff", boom)
    out = tmp_path / "out"
    assert main(["upscale", str(folder / "float.tif"), "-s", "2", "-o", str(out), "-q"]) == 1
    assert list(out.iterdir()) == []


def test_dry_run_writes_nothing(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["upscale", str(folder), "-s", "2", "-o", str(out), "--dry-run"]) == 0
    assert capsys.readouterr().out.count(" -> ") == 4
    assert not out.exists()


def test_list_file_and_errors(folder, tmp_path, capsys):
    lst = tmp_path / "files.txt"
    lst.write_text(f"# inputs\n{folder / 'cam.png'}\n")
    assert main(["upscale", "--list", str(lst), "-s", "2", "-o", str(tmp_path / "o"), "-q"]) == 0
    assert main(["upscale", str(tmp_path / "empty_dir_missing"), "-s", "2", "-q"]) == 1
    assert (
        main(
            ["upscale", str(folder / "hyper.tif"), "-s", "1", "2", "-q", "-o", str(tmp_path / "o2")]
        )
        == 1
    )
    assert "one per axis" in capsys.readouterr().err


def test_info_and_help(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "srcnn-9-5-5" in out and "devices: " in out
    for cmd in ("upscale", "train", "evaluate", "info"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert "examples:" in capsys.readouterr().out


def test_evaluate_writes_tables(tmp_path, rng, capsys):
    d = tmp_path / "set"
    d.mkdir()
    iio.imwrite(d / "a.png", rng.integers(0, 256, (36, 36, 3), dtype=np.uint8))
    csv = tmp_path / "t.csv"
    assert main(["evaluate", str(d), "-s", "2", "--csv", str(csv), "--per-image"]) == 0
    assert "| set | 2 | bicubic |" in capsys.readouterr().out
    assert csv.read_text().startswith("dataset,scale,method,image,psnr,ssim")


def test_error_is_one_line(capsys):
    assert main(["evaluate", "/nonexistent/dir", "-s", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_bundled_sample(tmp_path):
    assert main(["upscale", "--sample", "-s", "2", "-o", str(tmp_path), "-q"]) == 0
    img = iio.imread(tmp_path / "butterfly_lr_x2_x2.png")
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8


def test_every_help_example_parses():
    """The examples printed by --help use options that exist (and model names that do)."""
    import shlex

    from srcnn_plugin import list_models
    from srcnn_plugin.cli import _EXAMPLES, build_parser

    parser = build_parser()
    n = 0
    for text in _EXAMPLES.values():
        for line in text.splitlines()[1:]:
            argv = shlex.split(line.split("#")[0])
            assert argv[0] == "srcnn-plugin"
            args = parser.parse_args(argv[1:])
            init = getattr(args, "init", None)
            assert init is None or init in list_models()
            n += 1
    assert n >= 8


def test_recursive_batch_keeps_the_tree_and_never_clashes(tmp_path, capsys):
    from skimage import data

    src = tmp_path / "src"
    for sub in ("train", "test"):
        (src / sub).mkdir(parents=True)
        iio.imwrite(src / sub / "7.png", data.camera()[:40, :40])
    out = tmp_path / "out"
    assert main(["upscale", str(src), "-r", "-s", "2", "-o", str(out)]) == 0
    assert "2 written, 0 skipped, 0 failed" in capsys.readouterr().out
    assert (out / "train" / "7_x2.png").exists() and (out / "test" / "7_x2.png").exists()


def test_clashes_are_refused_before_anything_is_written(tmp_path, capsys):
    from skimage import data

    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        iio.imwrite(tmp_path / sub / "7.png", data.camera()[:40, :40])
    out = tmp_path / "out"
    args = ["upscale", str(tmp_path / "a" / "7.png"), str(tmp_path / "b" / "7.png"), "-s", "2"]
    assert main([*args, "-o", str(out), "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "would both write" in err and "nothing written" in err
    assert not out.exists()
    assert main([*args, "-o", str(out), "--dry-run"]) == 1
    assert "would both write" in capsys.readouterr().err and not out.exists()


def test_output_file_for_a_single_input(folder, tmp_path):
    dst = tmp_path / "result.png"
    assert main(["upscale", str(folder / "cam.png"), "-s", "2", "-o", str(dst), "-q"]) == 0
    assert dst.is_file() and iio.imread(dst).shape == (120, 140)
    assert main(["upscale", str(folder), "-s", "2", "-o", str(tmp_path / "x.png"), "-q"]) == 2


@pytest.mark.parametrize(
    "extra, message",
    [(["-s", "0"], "--scale must be positive"), (["-s", "2", "--model", "nope"], "unknown model")],
)
def test_arguments_checked_before_reading(folder, capsys, extra, message):
    assert main(["upscale", str(folder / "missing.tif"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_no_images_suggests_recursive(tmp_path, capsys):
    from skimage import data

    (tmp_path / "sub").mkdir()
    iio.imwrite(tmp_path / "sub" / "a.png", data.camera()[:20, :20])
    assert main(["upscale", str(tmp_path), "-s", "2"]) == 2
    assert "pass -r" in capsys.readouterr().err


def test_corrupt_tiff_named_plainly(tmp_path, capsys):
    good = tmp_path / "ok.tif"
    tifffile.imwrite(good, np.zeros((64, 64), np.uint16))
    bad = tmp_path / "bad.tif"
    bad.write_bytes(good.read_bytes()[:600])
    assert main(["upscale", str(bad), "-s", "2", "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "bad.tif" in err and "corrupt or truncated" in err


def test_progress_without_a_terminal_is_plain_lines(folder, tmp_path, capsys):
    assert main(["upscale", str(folder), "-s", "2", "-o", str(tmp_path / "o"), "-v"]) == 0
    err = capsys.readouterr().err
    assert "[1/4]" in err and "[4/4]" in err and "tiles" in err
    assert "\r" not in err and "\x1b" not in err


@pytest.mark.slow
def test_batch_on_local_worker_processes(folder, tmp_path, capsys):
    pytest.importorskip("distributed")
    out, ref = tmp_path / "par", tmp_path / "seq"
    assert main(["upscale", str(folder), "-s", "2", "-o", str(out), "--jobs", "2", "-v"]) == 0
    captured = capsys.readouterr()
    assert "4 written, 0 skipped, 0 failed" in captured.out
    # the workers' tile progress reaches the client as plain lines
    assert re.search(r"cam\.png: \d+/\d+ tiles", captured.err)
    assert "\x1b" not in captured.err
    assert main(["upscale", str(folder), "-s", "2", "-o", str(ref), "-q"]) == 0
    for f in sorted(ref.iterdir()):
        assert (out / f.name).read_bytes() == f.read_bytes() or f.suffix == ".tif"
        if f.suffix == ".tif":
            np.testing.assert_array_equal(tifffile.imread(out / f.name), tifffile.imread(f))
    # The same safety rules: existing outputs are refused before any worker starts.
    assert main(["upscale", str(folder), "-s", "2", "-o", str(out), "--jobs", "2", "-q"]) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--noise", "-1"], "standard deviation >= 0"),
        (["--noise", "loud"], "expected a number"),
        (["--noise", "poisson:1,2,3,4"], "poisson:GAIN"),
        (["--noise", "poisson:-1"], "gain >= 0"),
        (["--psf-sigma", "inf"], "Gaussian sigma >= 0"),
    ],
)
def test_noise_and_psf_arguments_use_the_library_checks(folder, capsys, extra, message):
    with pytest.raises(SystemExit) as stop:
        main(["upscale", str(folder / "cam.png"), "-s", "2", *extra])
    assert stop.value.code == 2 and message in capsys.readouterr().err


@pytest.fixture
def recorded(tmp_path):
    """A 16-bit image recorded with a PSF of 1 output pixel and 2x2 binning."""
    from skimage import data

    from srcnn_plugin.degradations import Degradation

    lr = Degradation("binning", psf=1.0).apply(data.camera()[:192, :192].astype(float) * 64, 2)
    path = tmp_path / "rec.tif"
    tifffile.imwrite(path, np.round(lr).astype(np.uint16))
    return path


def test_adapt_writes_a_model_that_upscale_uses(recorded, tmp_path, capsys):
    from srcnn_plugin import Upscaler

    model = tmp_path / "mine.pt"
    argv = ["adapt", str(recorded), "-s", "2", "--psf-sigma", "1", "--steps", "50", "-o"]
    assert main([*argv, str(model)]) == 0
    out = capsys.readouterr().out
    assert "held-out PSNR" in out and f"--model {model}" in out
    assert main(["upscale", str(recorded), "-s", "2", "--model", str(model), "-o",
                 str(tmp_path / "up.tif"), "-q"]) == 0  # fmt: skip
    img = tifffile.imread(recorded)
    expected = Upscaler.load(model, preserve_range=True)(img)
    got = tifffile.imread(tmp_path / "up.tif")
    np.testing.assert_array_equal(got, np.clip(np.round(expected), 0, 65535).astype(np.uint16))
    # never replaces a file without --overwrite, and says so before reading anything
    before = model.read_bytes()
    assert main(["adapt", str(tmp_path / "missing.tif"), "-s", "2", "-o", str(model)]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert model.read_bytes() == before


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-s", "1"], "--scale must be above 1"),
        (["-s", "2", "--model", "nope"], "unknown model"),
        (["-s", "2", "--steps", "0"], "positive integer"),
    ],
)
def test_adapt_arguments_checked_before_reading(tmp_path, capsys, extra, message):
    assert main(["adapt", str(tmp_path / "missing.tif"), *extra, "-o", str(tmp_path / "m.pt")]) == 2
    assert message in capsys.readouterr().err
    assert main(["adapt", str(tmp_path / "missing.tif"), "-s", "2", "-o", str(tmp_path)]) == 2


def test_adapt_that_does_not_help_writes_nothing(recorded, tmp_path, capsys, monkeypatch):
    import srcnn_plugin._adapt

    model = tmp_path / "m.pt"
    # held-out scores that never improve: the guard keeps the bundled model
    monkeypatch.setattr(srcnn_plugin._adapt, "_psnr", lambda *a: 30.0)
    assert main(["adapt", str(recorded), "-s", "2", "--steps", "5", "-o", str(model)]) == 1
    assert "nothing written" in capsys.readouterr().err
    assert not model.exists()


def test_upscale_adapt_equals_rescale_adapt(recorded, tmp_path):
    from srcnn_plugin import rescale

    dst = tmp_path / "up.tif"
    argv = ["upscale", str(recorded), "-s", "2", "--adapt", "--psf-sigma", "1", "-o", str(dst)]
    assert main([*argv, "--adapt-seconds", "600", "--adapt-steps", "30", "--device", "cpu"]) == 0
    img = tifffile.imread(recorded)
    ref = rescale(img, 2, preserve_range=True, psf_sigma=1.0, device="cpu",
                  adapt={"seconds": 600.0, "degradation": "binning", "steps": 30})  # fmt: skip
    np.testing.assert_array_equal(
        tifffile.imread(dst), np.clip(np.round(ref), 0, 65535).astype(np.uint16)
    )


def test_isotropic_takes_the_z_factor_from_the_metadata(tmp_path, capsys):
    from skimage import data

    from srcnn_plugin import isotropic
    from srcnn_plugin.degradations import axial

    img = data.camera()[:160, :96].astype(np.float64)
    vol = np.stack([img[y : y + 128] for y in range(32)], axis=1)  # (Z, Y, X) = (128, 32, 96)
    lr = np.round(axial(vol, 4, 2.0, axis=0) * 64).astype(np.uint16)
    src = tmp_path / "stack.tif"
    tifffile.imwrite(src, lr, imagej=True, resolution=(10.0, 10.0),
                     metadata={"axes": "ZYX", "spacing": 0.4, "unit": "um"})  # fmt: skip
    argv = ["upscale", str(src), "--isotropic", "--adapt-steps", "20", "--device", "cpu"]
    assert main([*argv, "-q"]) == 0
    out = tmp_path / "stack_iso.tif"
    with tifffile.TiffFile(out) as tif:
        got, meta = tif.asarray(), tif.imagej_metadata
    assert got.shape == (128, 32, 96) and got.dtype == np.uint16
    assert meta["spacing"] == pytest.approx(0.1)  # 0.4 um / 4: isotropic with X (0.1 um)
    ref = isotropic(lr, 4.0, preserve_range=True, device="cpu",
                    adapt={"seconds": 60.0, "steps": 20})  # fmt: skip
    np.testing.assert_array_equal(got, np.clip(np.round(ref), 0, 65535).astype(np.uint16))
    # --no-adapt: the bundled Z model as it is, told --axial-sigma
    out2 = tmp_path / "fast.tif"
    argv = ["upscale", str(src), "--isotropic", "--no-adapt", "--axial-sigma", "1.5"]
    assert main([*argv, "--device", "cpu", "-o", str(out2), "-q"]) == 0
    ref = isotropic(lr, 4.0, axial_sigma=1.5, adapt=False, preserve_range=True, device="cpu")
    np.testing.assert_array_equal(
        tifffile.imread(out2), np.clip(np.round(ref), 0, 65535).astype(np.uint16)
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--no-adapt", "-s", "2"], "go with --isotropic"),
        (["--isotropic", "-s", "2"], "not --scale"),
        (["--isotropic", "--z-factor", "1"], "--z-factor must be above 1"),
        (["--z-factor", "3", "-s", "2"], "go with --isotropic"),
        ([], "pass --scale"),
    ],
)
def test_isotropic_arguments_checked_before_reading(tmp_path, capsys, extra, message):
    assert main(["upscale", str(tmp_path / "missing.tif"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_isotropic_needs_a_stack_and_a_spacing(folder, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["upscale", str(folder / "cam.png"), "--isotropic", "-o", str(out)]) == 1
    assert "needs a Z-stack" in capsys.readouterr().err
    tifffile.imwrite(tmp_path / "plain.tif", np.zeros((4, 32, 32), np.uint16))
    argv = ["upscale", str(tmp_path / "plain.tif"), "--isotropic", "--channel-axis", "none"]
    assert main([*argv, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "pass --z-factor" in err and "CLIError" not in err


def test_train_sc_refuses_existing_output_before_reading(tmp_path, capsys):
    out = tmp_path / "d.npz"
    out.write_bytes(b"mine")
    assert main(["train-sc", str(tmp_path / "missing"), "-s", "3", "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert out.read_bytes() == b"mine"


def test_train_sc_then_evaluate_with_it(folder, tmp_path, capsys):
    pytest.importorskip("spams")
    out = tmp_path / "d.npz"
    args = ["train-sc", str(folder / "cam.png"), "-s", "2", "-o", str(out)]
    assert main([*args, "--atoms", "16", "--samples", "500", "--iterations", "5"]) == 0
    from srcnn_plugin.baselines import load_dictionary

    d = load_dictionary(out)
    assert d.atoms == 16 and "train-sc" in d.metadata["command"]
    capsys.readouterr()
    argv = ["evaluate", str(folder / "cam.png"), "-s", "2", "--method", "bicubic", "sparse-coding"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(" | ")[-1] == "seconds |" and len(lines) == 4


def test_evaluate_unknown_method(folder, capsys):
    argv = ["evaluate", str(folder / "cam.png"), "-s", "2", "--method", "sc"]
    assert main(argv) == 2
    assert "unknown --method sc; pass any of bicubic sparse-coding srcnn" in capsys.readouterr().err


def test_fast_model_from_the_command_line(folder, tmp_path):
    out = tmp_path / "fast.png"
    argv = ["upscale", str(folder / "cam.png"), "-s", "2", "-o", str(out), "--model", "fast"]
    assert main([*argv, "-q"]) == 0
    assert iio.imread(out).shape == (120, 140)


def test_train_passes_the_band_limit(folder, tmp_path, monkeypatch):
    from srcnn_plugin.training import train as train_mod

    seen = {}

    def fake_train(images, out, cfg, **kw):
        seen["cfg"] = cfg
        return {"weights": None, "step": 0}

    monkeypatch.setattr(train_mod, "train", fake_train)
    argv = ["train", str(folder), "--out", str(tmp_path / "run"), "--degradation", "binning"]
    assert main([*argv, "--hr-blur", "1.2", "-q"]) == 0
    assert seen["cfg"].hr_blur == 1.2 and seen["cfg"].degradation == ("binning",)
    assert main([*argv, "-q"]) == 0
    assert seen["cfg"].hr_blur == 0.0
