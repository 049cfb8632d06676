"""Copy training images compactly for travel: their BT.601 Y channel, or lossless colour.

Usage::

    python scripts/luma_copy.py SRC_DIR [SRC_DIR ...] --out DEST
    python scripts/luma_copy.py SRC_DIR [SRC_DIR ...] --out DEST --colour

Training reads only Y (``read_luma``), and a greyscale image is its own Y, so
training on ``DEST/<folder name>/`` gives exactly the patches of training on
the originals (same names, same sort order, same validation split) from a
third of the bytes: how a training set travels to a GPU machine. With
``--colour`` the images keep their colour as lossless WebP (same stems, about
two thirds of the PNG bytes; greyscale ones stay PNG), for training on every channel
(``--channels each``); their Y is the originals' Y, so the default training
reads the same patches from them too. Every copy is read back and checked.
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from srcnn_plugin.training.data import list_images, read_luma


def copy_luma(path: Path, dest: Path) -> Path:
    """Write the Y of ``path`` as a greyscale PNG in ``dest``; check it reads back."""
    y = read_luma(path)
    target = dest / path.name
    Image.fromarray(y, mode="L").save(target)
    if not np.array_equal(read_luma(target), y):
        raise RuntimeError(f"{target} does not read back as the Y of {path}")
    return target


def copy_colour(path: Path, dest: Path) -> Path:
    """Write ``path`` losslessly in ``dest`` (WebP; greyscale as PNG, which WebP lacks).

    Checked: the copy reads back pixel for pixel.
    """
    with Image.open(path) as im:
        pixels = np.asarray(im)
        grey = pixels.ndim == 2
        target = dest / (path.stem + (".png" if grey else ".webp"))
        if grey:
            im.save(target)
        else:
            im.save(target, "WEBP", lossless=True, quality=100, method=2)
    with Image.open(target) as back:
        if not np.array_equal(np.asarray(back), pixels):
            raise RuntimeError(f"{target} does not read back as the pixels of {path}")
    return target


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sources", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--colour", action="store_true", help="keep colour (lossless WebP)")
    args = ap.parse_args(argv)
    copy = copy_colour if args.colour else copy_luma
    for src in args.sources:
        dest = args.out / src.name
        dest.mkdir(parents=True, exist_ok=True)
        for path in list_images(src):
            copy(path, dest)
        print(f"{src} -> {dest}: {len(list_images(dest))} images")


if __name__ == "__main__":
    main()
