"""Regenerate the documentation figures from bundled or shared data.

Run (napari screenshot needs a display, e.g. ``xvfb-run -a``)::

    python docs/scripts/make_figures.py [--no-napari]

Writes ``docs/figures/before_after.png`` (bicubic vs SRCNN crops, x3, Set14
"comic" or the bundled sample), ``docs/figures/psnr_vs_scale.png`` (Set5 Y-PSNR
of bicubic, skimage order 3 and SRCNN against the factor) and
``docs/figures/napari.png`` (a real viewer with source and result side by side) and
``docs/figures/noisy_acquisition.png`` (a microscopy-dev plane recorded with a PSF,
binning and 3 % noise at x2: spline, the paper's model, the default, the truth) and
``docs/figures/shot_noise.png`` (a microscopy-dev plane recorded with a PSF, binning
and shot noise of 300 photons at x2: spline, the paper's model, the default, the default
told ``noise="poisson"``, the truth) and
``docs/figures/adaptation.png`` (a microscopy-dev plane recorded with a PSF and binning
at x2: spline, the default, the PSF stated, adapted to the image, the truth) and
``docs/figures/isotropic.png`` (a ZX section of a volume recorded with axial blur and one
section in 4, as in ``benchmarks/bench_isotropic.py``: spline, rescale, isotropic, truth) and
``docs/figures/methods.png`` (the SRCNN paper's Figure 1: PSNR against seconds per image
for bicubic, sparse coding and SRCNN, from ``docs/tables/methods_x*.json``, written by
``benchmarks/bench_methods.py --json``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np

import srcnn_plugin
from srcnn_plugin._imresize import imresize

ROOT = Path(__file__).resolve().parents[2]
FIG = ROOT / "docs" / "figures"
SHARED = ROOT.parent / "shared" / "datasets"


def _to8(x):
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def before_after():
    comic = SHARED / "Set14" / "comic.png"
    if comic.exists():
        hr = iio.imread(comic)[..., :3].astype(np.float64)
        lr = imresize(hr[: hr.shape[0] // 3 * 3, : hr.shape[1] // 3 * 3], 1 / 3)
        scale = 3
    else:
        from srcnn_plugin.data import sample_image

        lr = sample_image().astype(np.float64)
        scale = 2
    bic = imresize(lr, scale)
    sr = srcnn_plugin.rescale(
        lr, scale, channel_axis=-1, preserve_range=True, color_mode="ycbcr", model="paper"
    )
    h, w = bic.shape[:2]
    crop = (slice(h // 4, h // 4 + 160), slice(w // 4, w // 4 + 160))
    a, b = _to8(bic[crop]), _to8(sr[crop])
    a = np.kron(a, np.ones((2, 2, 1))).astype(np.uint8)
    b = np.kron(b, np.ones((2, 2, 1))).astype(np.uint8)
    gap = np.full((a.shape[0], 8, 3), 255, np.uint8)
    iio.imwrite(FIG / "before_after.png", np.concatenate([a, gap, b], axis=1))


def psnr_vs_scale():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from skimage.transform import resize

    from srcnn_plugin.training.data import list_images, read_luma
    from srcnn_plugin.training.evaluate import psnr_y

    set5 = SHARED / "Set5"
    if not set5.exists():
        print("skip psnr_vs_scale: ../shared/datasets/Set5 not found")
        return
    imgs = [read_luma(p).astype(np.float64) / 255 for p in list_images(set5)]
    scales = [1.5, 2, 2.5, 3, 3.5, 4, 5, 6]
    curves = {"bicubic": [], "skimage order=3": [], "srcnn_plugin": []}
    for f in scales:
        vals = {k: [] for k in curves}
        for hr in imgs:
            h, w = hr.shape
            lr = imresize(hr, output_shape=(round(h / f), round(w / f)))
            vals["bicubic"].append(psnr_y(hr, imresize(lr, output_shape=(h, w)), f))
            vals["skimage order=3"].append(psnr_y(hr, resize(lr, (h, w), order=3), f))
            sr = srcnn_plugin.rescale(
                lr, (h / lr.shape[0], w / lr.shape[1]), clip=False, model="paper"
            )
            vals["srcnn_plugin"].append(psnr_y(hr, sr, f))
        for k in curves:
            curves[k].append(np.mean(vals[k]))
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    for k, v in curves.items():
        ax.plot(scales, v, marker="o", label=k)
    ax.set_xlabel("upscaling factor")
    ax.set_ylabel("Set5 Y-PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(FIG / "psnr_vs_scale.png")


def _panels(panels: dict, truth, name: str) -> None:
    """A 2 x 3 grid of same-range grey panels, each result titled with its PSNR to ``truth``.

    Panels named "truth" or starting with "recorded" get no PSNR; 2 pixels are
    shaved at each border, and PSNR is over the truth's range.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    span = float(np.ptp(truth))
    fig, axes = plt.subplots(2, 3, figsize=(9, 6.9), dpi=110)
    for ax, (title, img) in zip(axes.ravel(), panels.items()):
        ax.imshow(img, cmap="gray", vmin=truth.min(), vmax=truth.max(), interpolation="nearest")
        if title != "truth" and not title.startswith("recorded"):
            err = float(np.sqrt(np.mean((img[2:-2, 2:-2] - truth[2:-2, 2:-2]) ** 2)))
            title += f"\nPSNR {20 * np.log10(span / err):.1f} dB"
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(FIG / name)


def noisy_acquisition():
    import tifffile
    from skimage.transform import rescale as sk_rescale

    from srcnn_plugin.degradations import Degradation

    path = SHARED / "microscopy-dev" / "xy_16bit__tubulin.tif"
    if not path.exists():
        print("skip noisy_acquisition: ../shared/datasets/microscopy-dev not found")
        return
    hr = tifffile.imread(path).astype(np.float64)[:192, :192]
    lr = Degradation("binning", psf=1.0, read=0.03).apply(hr, 2, rng=np.random.default_rng(0))
    panels = {
        "recorded: PSF, x2 binning, 3 % noise": np.kron(lr, np.ones((2, 2))),
        "cubic spline": sk_rescale(lr, 2, order=3, preserve_range=True),
        "paper model": srcnn_plugin.rescale(lr, 2, model="paper"),
        "default (noise-aware)": srcnn_plugin.rescale(lr, 2),
        "default, PSF stated": srcnn_plugin.rescale(lr, 2, psf_sigma=1.0),
        "truth": hr,
    }
    _panels(panels, hr, "noisy_acquisition.png")


def shot_noise():
    import tifffile
    from skimage.transform import rescale as sk_rescale

    from srcnn_plugin.degradations import Degradation

    path = SHARED / "microscopy-dev" / "xy_8bit__PCNA.tif"
    if not path.exists():
        print("skip shot_noise: ../shared/datasets/microscopy-dev not found")
        return
    hr = np.squeeze(tifffile.imread(path)).astype(np.float64)[:192, :192]
    rec = Degradation("binning", psf=1.0, photons=300.0)
    lr = rec.apply(hr, 2, rng=np.random.default_rng(0))
    panels = {
        "recorded: PSF, x2 binning, 300 photons": np.kron(lr, np.ones((2, 2))),
        "cubic spline": sk_rescale(lr, 2, order=3, preserve_range=True),
        "paper model": srcnn_plugin.rescale(lr, 2, model="paper"),
        "default (one noise level)": srcnn_plugin.rescale(lr, 2),
        'default, noise="poisson"': srcnn_plugin.rescale(lr, 2, noise="poisson"),
        "truth": hr,
    }
    _panels(panels, hr, "shot_noise.png")


def adaptation():
    import tifffile
    from skimage.transform import rescale as sk_rescale

    from srcnn_plugin.degradations import Degradation

    path = SHARED / "microscopy-dev" / "xy_16bit__tubulin.tif"
    if not path.exists():
        print("skip adaptation: ../shared/datasets/microscopy-dev not found")
        return
    full = tifffile.imread(path).astype(np.float64)
    lr_full = Degradation("binning", psf=1.0).apply(full, 2)
    adapted = srcnn_plugin.Upscaler(2, preserve_range=True).adapt(lr_full, psf_sigma=1.0)
    crop = (slice(0, 192), slice(0, 192))
    hr, lr = full[crop], lr_full[:96, :96]
    panels = {
        "recorded: PSF 1 px, x2 binning": np.kron(lr, np.ones((2, 2))),
        "cubic spline": sk_rescale(lr_full, 2, order=3, preserve_range=True)[crop],
        "default": srcnn_plugin.rescale(lr_full, 2, preserve_range=True)[crop],
        "default, PSF stated": srcnn_plugin.rescale(lr_full, 2, psf_sigma=1.0,
                                                    preserve_range=True)[crop],
        "adapted to the image": adapted(lr_full)[crop],
        "truth": hr,
    }  # fmt: skip
    _panels(panels, hr, "adaptation.png")


def isotropic_figure():
    import matplotlib
    import tifffile

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from skimage.transform import rescale as sk_rescale

    from srcnn_plugin.degradations import axial

    path = SHARED / "microscopy-dev" / "BBBC007_17P1_POS0013_D_1UL.tif"
    if not path.exists():
        print("skip isotropic: ../shared/datasets/microscopy-dev not found")
        return
    img = np.squeeze(tifffile.imread(path)).astype(np.float64)
    truth = np.stack([img[y : y + 128, :192] for y in range(32)], axis=1)  # V[z,y,x]=I[z+y,x]
    lr = axial(truth, 4, 2.0, axis=0)
    span = float(np.ptp(truth))
    y = 16
    panels = {
        "recorded ZX section (Z sampled 1 in 4)": np.repeat(lr[:, y], 4, axis=0),
        "cubic spline along Z": sk_rescale(lr, (4, 1, 1), order=3, preserve_range=True)[:, y],
        "rescale(vol, (4, 1, 1))": srcnn_plugin.rescale(lr, (4, 1, 1), preserve_range=True)[:, y],
        "Z model (adapt=False)": srcnn_plugin.isotropic(lr, 4, adapt=False, preserve_range=True)[
            :, y
        ],
        "isotropic(vol, 4)": srcnn_plugin.isotropic(lr, 4, preserve_range=True)[:, y],
        "truth": truth[:, y],
    }
    fig, axes = plt.subplots(1, 6, figsize=(15, 2.7), dpi=110)
    for ax, (title, sec) in zip(axes, panels.items()):
        ax.imshow(sec, cmap="gray", vmin=truth.min(), vmax=truth.max(), interpolation="nearest")
        if title != "truth" and not title.startswith("recorded"):
            err = float(np.sqrt(np.mean((sec[4:-4] - truth[4:-4, y]) ** 2)))
            title += f"\nPSNR {20 * np.log10(span / err):.1f} dB"
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("X")
        ax.set_ylabel("Z")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(FIG / "isotropic.png")


def napari_screenshot():
    import napari
    from srcnn_plugin._napari._core import upscale_layer
    from srcnn_plugin._napari._sample_data import low_res_cells

    viewer = napari.Viewer(show=False)
    ((data, kw, _),) = low_res_cells()
    src = viewer.add_image(data, **kw)
    ((out, okw, _),) = upscale_layer(src, 3)
    viewer.add_image(out, **okw)
    canvas = getattr(viewer, "canvas", None)
    grid = canvas.grid if canvas is not None and hasattr(canvas, "grid") else viewer.grid
    grid.enabled = True
    viewer.window.resize(1200, 650)
    _, widget = viewer.window.add_plugin_dock_widget("srcnn-plugin", "SRCNN super-resolution")
    widget.factor.value = 3
    viewer.reset_view()
    viewer.screenshot(str(FIG / "napari.png"), canvas_only=False)
    viewer.close()


def methods_figure():
    """PSNR against seconds per image (the paper's Figure 1), from the benchmark's JSON."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    srcs = sorted((ROOT / "docs" / "tables").glob("methods_x*.json"))
    if not srcs:
        print("skip methods_figure: run benchmarks/bench_methods.py --json first")
        return
    rows = [r for src in srcs for r in json.loads(src.read_text())]
    # The paper's Figure 1 is x3; other factors are in the tables.
    rows = [r for r in rows if r["scale"] == "x3"] or rows
    sets = sorted({(r["dataset"], r["scale"]) for r in rows}, key=lambda k: (k[1], k[0]))
    fig, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 3.2), dpi=120)
    for ax, (name, scale) in zip(np.atleast_1d(axes), sets):
        for r in rows:
            if (r["dataset"], r["scale"]) != (name, scale):
                continue
            ax.scatter(r["s / image"], r["PSNR"], s=30)
            ax.annotate(r["method"], (r["s / image"], r["PSNR"]), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("seconds per image (one CPU core)")
        ax.set_ylabel("Y-PSNR (dB)")
        ax.set_title(f"{name} {scale}")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(FIG / "methods.png")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-napari", action="store_true")
    ap.add_argument(
        "--only",
        choices=[
            "noisy_acquisition",
            "shot_noise",
            "adaptation",
            "isotropic_figure",
            "methods_figure",
        ],
        help="make one figure",
    )
    args = ap.parse_args(argv)
    FIG.mkdir(parents=True, exist_ok=True)
    if args.only:
        globals()[args.only]()
        return
    before_after()
    psnr_vs_scale()
    noisy_acquisition()
    shot_noise()
    adaptation()
    isotropic_figure()
    methods_figure()
    if not args.no_napari:
        napari_screenshot()


if __name__ == "__main__":
    main()
