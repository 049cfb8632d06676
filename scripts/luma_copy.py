"""Copy training images as their BT.601 Y channel (greyscale, same file names).

Usage::

    python scripts/luma_copy.py SRC_DIR [SRC_DIR ...] --out DEST

Training reads only Y (``read_luma``), and a greyscale image is its own Y, so
training on ``DEST/<folder name>/`` gives exactly the patches of training on
the originals (same names, same sort order, same validation split) from a
third of the bytes: how a training set travels to a GPU machine. Every copy
is read back and checked.
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from srcnn_plugin.training.data import list_images, read_luma


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sources", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    for src in args.sources:
        dest = args.out / src.name
        dest.mkdir(parents=True, exist_ok=True)
        for path in list_images(src):
            y = read_luma(path)
            target = dest / path.name
            Image.fromarray(y, mode="L").save(target)
            if not np.array_equal(read_luma(target), y):
                raise RuntimeError(f"{target} does not read back as the Y of {path}")
        print(f"{src} -> {dest}: {len(list_images(dest))} images")


if __name__ == "__main__":
    main()
