import numpy as np
import pytest

from srcnn_plugin.training.evaluate import evaluate, psnr_y, ssim_y, to_uint8

PAPER_BICUBIC = {
    ("Set5", 2): 33.66,
    ("Set5", 3): 30.39,
    ("Set5", 4): 28.42,
    ("Set14", 2): 30.23,
    ("Set14", 3): 27.54,
    ("Set14", 4): 26.00,
}


def test_psnr_shaves_border():
    a = np.zeros((20, 20))
    b = a.copy()
    b[0, :] = 1.0  # only in the shaved border
    assert psnr_y(a, b, 2) == np.inf
    b[10, 10] = 10 / 255
    assert psnr_y(a, b, 2) == pytest.approx(10 * np.log10(255**2 * 16 * 16 / 10**2))
    assert ssim_y(a, a, 2) == pytest.approx(1.0)


def test_to_uint8_rounds_half_up():
    assert to_uint8(np.array([0.5, 1.5, 2.5, 100.5]) / 255).tolist() == [1, 2, 3, 101]


@pytest.mark.parametrize("dataset", ["Set5", "Set14"])
def test_bicubic_rows_match_paper(datasets, dataset):
    table = evaluate(datasets / dataset, (2, 3, 4), model=False)
    for s in (2, 3, 4):
        row = table.lookup(dataset, s, "bicubic")
        assert row.psnr == pytest.approx(PAPER_BICUBIC[(dataset, s)], abs=0.01)


def test_table_formats(tmp_path, rng):
    import imageio.v3 as iio

    folder = tmp_path / "set"
    folder.mkdir()
    for i in range(2):
        iio.imwrite(folder / f"{i}.png", rng.integers(0, 256, (40, 40, 3), dtype=np.uint8))
    table = evaluate(folder, (2,))
    methods = [r.method for r in table.rows]
    assert methods == ["bicubic", "srcnn"]
    md = table.to_markdown(per_image=True)
    assert md.count("\n") == 1 + 2 * 3
    assert table.to_csv().splitlines()[0] == "dataset,scale,method,psnr,ssim"


def test_symmetric_scores_the_two_pass_network(tmp_path):
    """``symmetric`` scores what rescale runs: different numbers, better on a natural image."""
    import imageio.v3 as iio
    from skimage import data

    folder = tmp_path / "set"
    folder.mkdir()
    iio.imwrite(folder / "cam.png", data.camera()[100:292, 100:292])
    plain = evaluate(folder, (3,), bicubic=False)
    sym = evaluate(folder, (3,), bicubic=False, symmetric=True)
    assert [r.method for r in sym.rows] == ["srcnn+sym"]
    assert sym.rows[0].psnr != plain.rows[0].psnr
    assert sym.rows[0].psnr > plain.rows[0].psnr - 0.05


def test_methods_side_by_side_are_timed(tmp_path):
    """``methods`` compares bicubic, sparse coding and SRCNN in one table, timed per image."""
    import imageio.v3 as iio
    from skimage import data

    folder = tmp_path / "set"
    folder.mkdir()
    iio.imwrite(folder / "cam.png", data.camera()[100:196, 100:196])
    iio.imwrite(folder / "coins.png", data.coins()[:96, :96])
    table = evaluate(folder, (3,), model="paper", methods=["bicubic", "sparse-coding", "srcnn"])
    rows = {r.method: r for r in table.rows}
    assert list(rows) == ["bicubic", "sparse-coding", "srcnn"]
    assert rows["sparse-coding"].psnr > rows["bicubic"].psnr
    assert all(r.seconds > 0 and set(r.times) == {"cam", "coins"} for r in table.rows)
    assert table.to_csv().splitlines()[0] == "dataset,scale,method,psnr,ssim,seconds"
    assert "seconds" in table.records(per_image=True)[0]


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="sparse-coding"):
        evaluate("nowhere", (2,), methods=["sc"])
