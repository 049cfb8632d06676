"""Image files for the command line: reading, metadata, atomic writing.

TIFF (multi-page, ImageJ and OME hyperstacks, any bit depth) goes through
tifffile, keeping the axes string and the physical pixel sizes; PNG, JPEG and
BMP go through imageio. [write_image][srcnn_plugin._io.write_image] writes a
temporary file next to the target and renames it into place, so an
interrupted run never leaves a half-written image.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

__all__ = ["ImageFile", "read_image", "write_image", "TIFF_SUFFIXES", "IMAGE_SUFFIXES"]

TIFF_SUFFIXES = (".tif", ".tiff", ".ome.tif", ".ome.tiff")
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")


@dataclass
class ImageFile:
    """An image read from disk with what is needed to write it back.

    Attributes
    ----------
    data : ndarray
        Pixels, axes as in ``axes``.
    axes : str
        One letter per axis (tifffile's convention: ``T Z C Y X S`` ...).
    kind : {'tiff', 'imagej', 'ome', 'plain'}
        Container flavour, kept on writing.
    pixel_size : dict
        Physical size per spatial axis letter (``{'X': 0.1, 'Y': 0.1, 'Z': 0.5}``).
    unit : str or None
        Unit of the pixel sizes.
    extra : dict
        Other metadata kept as is (ImageJ metadata, resolution unit).
    """

    data: np.ndarray
    axes: str
    kind: str
    pixel_size: dict = field(default_factory=dict)
    unit: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def channel_axis(self) -> int | None:
        """Index of the channel axis (``C`` or samples ``S``), if any."""
        for letter in "CS":
            if letter in self.axes:
                return self.axes.index(letter)
        return None

    def scaled(self, data: np.ndarray, factors: dict) -> ImageFile:
        """A copy holding ``data``, with the metadata that stays true after ``factors``.

        Pixel sizes are divided and TIFF resolutions (pixels per unit)
        multiplied by the factor of their axis; per-plane labels are dropped
        when an axis other than Y and X changes its length (they would name
        the wrong planes).
        """
        sizes = {k: v / factors.get(k, 1.0) for k, v in self.pixel_size.items()}
        extra = dict(self.extra)
        if "tiff_resolution" in extra:
            xr, yr = extra["tiff_resolution"]
            extra["tiff_resolution"] = (xr * factors.get("X", 1.0), yr * factors.get("Y", 1.0))
        planes_change = any(f != 1 for a, f in factors.items() if a not in "YX")
        if planes_change and "Labels" in extra.get("imagej", {}):
            extra["imagej"] = {k: v for k, v in extra["imagej"].items() if k != "Labels"}
        return replace(self, data=data, pixel_size=sizes, extra=extra)


def _is_tiff(path: Path) -> bool:
    return path.name.lower().endswith(TIFF_SUFFIXES)


def _ome_channel_names(xml: str) -> list[str] | None:
    """Channel names of the first OME image, if every channel has one."""
    names = [
        re.search(r'\bName="([^"]*)"', tag)
        for tag in re.findall(r"<Channel\b[^>]*>", xml.split("</Image>")[0])
    ]
    if names and all(names):
        return [m.group(1) for m in names]
    return None


def _ome_sizes(xml: str) -> tuple[dict, str | None]:
    sizes, unit = {}, None
    m = re.search(r"<Pixels\b[^>]*>", xml)
    if m:
        tag = m.group(0)
        for ax in "XYZ":
            v = re.search(rf'PhysicalSize{ax}="([^"]+)"', tag)
            if v:
                sizes[ax] = float(v.group(1))
        u = re.search(r'PhysicalSizeXUnit="([^"]+)"', tag)
        unit = u.group(1) if u else "µm"
    return sizes, unit


# OME elements kept from the source file. Top level: everything but other images and ROIs
# (their coordinates are in the old pixels). In the image: everything but the pixels
# (written anew) and ROI references.
_OME_TOP_BEFORE_IMAGE = (
    "Rights", "Project", "Dataset", "Folder", "Experiment", "Plate", "Screen",
    "Experimenter", "ExperimenterGroup", "Instrument",
)  # fmt: skip
_OME_TOP_AFTER_IMAGE = ("StructuredAnnotations",)
_OME_PIXELS_KEPT = ("TimeIncrement", "TimeIncrementUnit")


def merge_ome(source: str, written: str) -> str:
    """OME-XML of a written (upscaled) file with what stays true from its source's.

    ``written`` is what tifffile wrote for the new pixels (sizes, physical
    sizes, channel names, TiffData). From ``source`` (its first image) come:
    instrument, experimenters, projects, annotations and the other top-level
    elements except ROIs; the image's name, acquisition date, description,
    instrument and objective settings, imaging environment and stage label;
    each channel's attributes and settings (wavelengths, colour, fluor,
    detector and light source) when the channel count is unchanged; the time
    increment; and the planes (time stamps, exposure, stage positions) when
    no plane axis (Z, C, T) changed its length. ROIs and ROI references are
    dropped (their coordinates are in the old pixels), as are the planes
    when the stack changed.

    Examples
    --------
    >>> ns = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
    >>> src = (f'<OME xmlns="{ns}"><Instrument ID="Instrument:0"/>'
    ...        '<Image ID="Image:0" Name="cells"><AcquisitionDate>2026-01-01T00:00:00'
    ...        '</AcquisitionDate><Pixels ID="Pixels:0" SizeX="8" SizeY="8" SizeZ="1" '
    ...        'SizeC="1" SizeT="1"/><ROIRef ID="ROI:0"/></Image><ROI ID="ROI:0"/></OME>')
    >>> new = (f'<OME xmlns="{ns}"><Image ID="Image:0"><Pixels ID="Pixels:0" '
    ...        'SizeX="16" SizeY="16" SizeZ="1" SizeC="1" SizeT="1"/></Image></OME>')
    >>> out = merge_ome(src, new)
    >>> "Instrument:0" in out, 'Name="cells"' in out, "ROI" in out, 'SizeX="16"' in out
    (True, True, False, True)
    """
    import copy
    import xml.etree.ElementTree as ET

    try:
        old_root, new_root = ET.fromstring(source), ET.fromstring(written)
    except ET.ParseError:
        return written
    ns = new_root.tag[: new_root.tag.index("}") + 1] if new_root.tag.startswith("{") else ""
    ons = old_root.tag[: old_root.tag.index("}") + 1] if old_root.tag.startswith("{") else ""
    for prefix, uri in (("", ns[1:-1]), ("xsi", "http://www.w3.org/2001/XMLSchema-instance")):
        if uri:
            ET.register_namespace(prefix, uri)

    def local(el) -> str:
        return el.tag.rsplit("}", 1)[-1]

    def renamespaced(el):
        el = copy.deepcopy(el)
        for e in el.iter():
            if ons != ns and e.tag.startswith(ons):
                e.tag = ns + e.tag[len(ons) :]
        return el

    old_image, new_image = old_root.find(f"{ons}Image"), new_root.find(f"{ns}Image")
    if old_image is None or new_image is None:
        return written
    # Top level, in the schema's order around the image.
    position = list(new_root).index(new_image)
    for el in old_root:
        name = local(el)
        if name in _OME_TOP_BEFORE_IMAGE:
            new_root.insert(position, renamespaced(el))
            position += 1
        elif name in _OME_TOP_AFTER_IMAGE:
            new_root.append(renamespaced(el))
    # The image: its attributes and the elements around the pixels.
    for key, value in old_image.attrib.items():
        if key != "ID":
            new_image.set(key, value)
    new_pixels = new_image.find(f"{ns}Pixels")
    at = list(new_image).index(new_pixels)
    after = False
    for el in old_image:
        name = local(el)
        if name == "Pixels":
            after = True
        elif name != "ROIRef":
            if after:
                new_image.append(renamespaced(el))
            else:
                new_image.insert(at, renamespaced(el))
                at += 1
    old_pixels = old_image.find(f"{ons}Pixels")
    if old_pixels is None:
        return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(new_root, encoding="unicode")
    for key in _OME_PIXELS_KEPT:
        if key in old_pixels.attrib:
            new_pixels.set(key, old_pixels.attrib[key])
    old_channels = old_pixels.findall(f"{ons}Channel")
    new_channels = new_pixels.findall(f"{ns}Channel")
    if len(old_channels) == len(new_channels):
        for old, new in zip(old_channels, new_channels):
            for key, value in old.attrib.items():
                if key not in ("ID", "SamplesPerPixel"):
                    new.set(key, value)
            for child in list(new):
                new.remove(child)
            for child in old:
                new.append(renamespaced(child))
    same_stack = all(old_pixels.get(f"Size{a}") == new_pixels.get(f"Size{a}") for a in "ZCT")
    if same_stack:
        for plane in old_pixels.findall(f"{ons}Plane"):
            new_pixels.append(renamespaced(plane))
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(new_root, encoding="unicode")


def _read_tiff(path: Path) -> ImageFile:
    import tifffile

    with tifffile.TiffFile(path) as tf:
        series = tf.series[0]
        data = series.asarray()
        axes = series.axes
        page = tf.pages[0]
        sizes, unit, extra = {}, None, {}
        if tf.is_ome and tf.ome_metadata:
            kind = "ome"
            sizes, unit = _ome_sizes(tf.ome_metadata)
            names = _ome_channel_names(tf.ome_metadata)
            if names:
                extra["ome_channels"] = names
            extra["ome_xml"] = tf.ome_metadata
        elif tf.is_imagej:
            kind = "imagej"
            meta = dict(tf.imagej_metadata or {})
            unit = meta.get("unit")
            if "spacing" in meta:
                sizes["Z"] = float(meta["spacing"])
            extra["imagej"] = {
                k: v
                for k, v in meta.items()
                if k
                in (
                    "unit",
                    "finterval",
                    "fps",
                    "loop",
                    "mode",
                    "Ranges",
                    "min",
                    "max",
                    "Labels",
                    "LUTs",
                    "Info",
                    "Properties",
                )  # fmt: skip
            }
        else:
            kind = "tiff"
        if kind == "ome":
            res = [page.tags[t].value for t in ("XResolution", "YResolution") if t in page.tags]
            if len(res) == 2 and all(n and d for n, d in res):
                extra["tiff_resolution"] = tuple(n / d for n, d in res)
                if "ResolutionUnit" in page.tags:
                    extra["resolutionunit"] = int(page.tags["ResolutionUnit"].value)
        else:
            for ax, tag in (("X", "XResolution"), ("Y", "YResolution")):
                if tag in page.tags:
                    num, den = page.tags[tag].value
                    if num:
                        sizes[ax] = den / num
            if "ResolutionUnit" in page.tags:
                extra["resolutionunit"] = int(page.tags["ResolutionUnit"].value)
    return ImageFile(data, axes, kind, sizes, unit, extra)


def read_image(path: str | os.PathLike) -> ImageFile:
    """Read an image and its metadata.

    Raises
    ------
    ValueError
        For files that are not images this module reads, saying which are.
    """
    path = Path(path)
    if not path.name.lower().endswith(IMAGE_SUFFIXES):
        raise ValueError(f"{path.name}: unsupported file type; pass TIFF, PNG, JPEG or BMP images.")
    if _is_tiff(path):
        return _read_tiff(path)
    import imageio.v3 as iio

    # Decode from bytes: a corrupt file then cannot leave an open handle behind.
    raw = path.read_bytes()
    try:
        data = np.asarray(iio.imread(raw, extension=path.suffix.lower()))
    except Exception as exc:
        raise ValueError(f"{path.name}: cannot decode image ({exc}).") from exc
    if data.ndim == 3 and data.shape[-1] in (3, 4):
        axes = "YXS"
    elif data.ndim == 2:
        axes = "YX"
    else:
        raise ValueError(f"{path.name}: unexpected image shape {data.shape}.")
    return ImageFile(data, axes, "plain")


def _write_tiff(tmp: Path, img: ImageFile) -> None:
    import tifffile

    data, axes = img.data, img.axes
    ps = img.pixel_size
    res = None
    if "X" in ps and "Y" in ps:
        res = (1.0 / ps["X"], 1.0 / ps["Y"])
    if img.kind == "ome":
        meta = {"axes": axes}
        for ax in "XYZ":
            if ax in ps:
                meta[f"PhysicalSize{ax}"] = ps[ax]
                if img.unit:
                    meta[f"PhysicalSize{ax}Unit"] = img.unit
        names = img.extra.get("ome_channels")
        if names and "C" in axes and data.shape[axes.index("C")] == len(names):
            meta["Channel"] = {"Name": list(names)}
        kw = {}
        if "tiff_resolution" in img.extra:
            kw["resolution"] = img.extra["tiff_resolution"]
            kw["resolutionunit"] = img.extra.get("resolutionunit", 1)
        tifffile.imwrite(tmp, data, ome=True, metadata=meta, photometric=_photometric(axes), **kw)
        if img.extra.get("ome_xml"):
            with tifffile.TiffFile(tmp) as tf:
                written = tf.ome_metadata
            tifffile.tiffcomment(tmp, merge_ome(img.extra["ome_xml"], written).encode("utf-8"))
    elif img.kind == "imagej" and data.dtype in (np.uint8, np.uint16, np.float32):
        meta = dict(img.extra.get("imagej", {}))
        meta["axes"] = axes
        if img.unit:
            meta["unit"] = img.unit
        if "Z" in ps:
            meta["spacing"] = ps["Z"]
        tifffile.imwrite(tmp, data, imagej=True, resolution=res, metadata=meta)
    else:
        kw = {}
        if res is not None:
            kw["resolution"] = res
            kw["resolutionunit"] = img.extra.get("resolutionunit", 1)
        tifffile.imwrite(tmp, data, photometric=_photometric(axes), metadata={"axes": axes}, **kw)


def _photometric(axes: str) -> str:
    return "rgb" if axes.endswith("S") else "minisblack"


def write_image(path: str | os.PathLike, img: ImageFile, *, overwrite: bool = False) -> None:
    """Write ``img`` to ``path`` atomically (temporary file, then rename).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes[-2:]) if _is_tiff(path) else path.suffix
    # A unique name the writer creates itself, so the file gets the user's usual
    # permissions (mkstemp would make it private, 0600).
    tmp = path.parent / f".{path.stem}.{uuid.uuid4().hex[:12]}.part{suffix}"
    try:
        if _is_tiff(path):
            _write_tiff(tmp, img)
        else:
            import imageio.v3 as iio

            iio.imwrite(tmp, img.data, extension=path.suffix.lower())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
