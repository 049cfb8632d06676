import numpy as np
import pytest
import tifffile

from srcnn_plugin._io import ImageFile, read_image, write_image


def test_plain_tiff_resolution_roundtrip(tmp_path, rng):
    data = rng.integers(0, 60000, (20, 30), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "a.tif", data, resolution=(4.0, 4.0), resolutionunit=3)
    img = read_image(tmp_path / "a.tif")
    assert img.kind == "tiff" and img.axes == "YX"
    assert img.pixel_size == pytest.approx({"X": 0.25, "Y": 0.25})
    out = img.scaled(np.zeros((40, 60), np.uint16), {"Y": 2, "X": 2})
    write_image(tmp_path / "b.tif", out)
    back = read_image(tmp_path / "b.tif")
    assert back.pixel_size == pytest.approx({"X": 0.125, "Y": 0.125})
    assert back.extra["resolutionunit"] == 3


def test_png_axes(tmp_path, rng):
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "c.png", rng.integers(0, 255, (8, 9, 3), dtype=np.uint8))
    img = read_image(tmp_path / "c.png")
    assert img.axes == "YXS" and img.channel_axis == 2


def test_refuses_existing_and_unknown(tmp_path):
    (tmp_path / "x.tif").write_bytes(b"")
    with pytest.raises(FileExistsError, match="--overwrite"):
        write_image(tmp_path / "x.tif", ImageFile(np.zeros((2, 2), np.uint8), "YX", "tiff"))
    with pytest.raises(ValueError, match="unsupported"):
        read_image(tmp_path / "x.gif")


def test_corrupt_png_is_value_error(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(ValueError, match="cannot decode"):
        read_image(tmp_path / "bad.png")


@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_written_files_get_the_users_usual_permissions(tmp_path, suffix):
    """Atomic writing must not leave files private (tempfile.mkstemp's 0600)."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / f"a{suffix}"
        kind = "tiff" if suffix == ".tif" else "plain"
        write_image(out, ImageFile(np.zeros((4, 5), np.uint8), "YX", kind))
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left


def test_ome_channel_names_and_resolution_round_trip(tmp_path):
    import re

    import tifffile

    from srcnn_plugin.cli import main

    vol = np.random.default_rng(0).integers(0, 4000, (2, 30, 40), dtype=np.uint16)
    src = tmp_path / "c.ome.tif"
    tifffile.imwrite(
        src, vol, ome=True, resolution=(10.0, 10.0), resolutionunit="CENTIMETER",
        metadata={"axes": "CYX", "PhysicalSizeX": 0.1, "PhysicalSizeY": 0.1,
                  "Channel": {"Name": ["DAPI", "GFP"]}},
    )  # fmt: skip
    assert main(["upscale", str(src), "-s", "2", "-o", str(tmp_path / "o"), "-q"]) == 0
    with tifffile.TiffFile(tmp_path / "o" / "c_x2.ome.tif") as tf:
        xml = tf.ome_metadata
        assert re.findall(r'Name="(DAPI|GFP)"', xml) == ["DAPI", "GFP"]
        assert 'PhysicalSizeX="0.05"' in xml and 'PhysicalSizeY="0.05"' in xml
        assert tf.pages[0].tags["XResolution"].value == (20, 1)
        assert tf.pages[0].tags["ResolutionUnit"].value == 3  # centimetre, kept


def test_imagej_labels_kept_in_plane_dropped_when_z_changes(tmp_path):
    import tifffile

    from srcnn_plugin.cli import main

    vol = np.random.default_rng(1).integers(0, 255, (3, 20, 24), dtype=np.uint8)
    src = tmp_path / "z.tif"
    tifffile.imwrite(src, vol, imagej=True, metadata={"axes": "ZYX", "Labels": ["a", "b", "c"]})
    out = tmp_path / "o"
    assert main(["upscale", str(src), "-s", "2", "-o", str(out), "-q"]) == 0
    with tifffile.TiffFile(out / "z_x2.tif") as tf:
        assert tf.imagej_metadata["Labels"] == ["a", "b", "c"]
    assert main(["upscale", str(src), "-s", "2", "2", "2", "-o", str(out), "--suffix", "_3d",
                 "-q"]) == 0  # fmt: skip
    with tifffile.TiffFile(out / "z_3d.tif") as tf:
        assert "Labels" not in tf.imagej_metadata and tf.imagej_metadata["slices"] == 6


def test_plain_tiff_resolution_tags_round_trip(tmp_path):
    import tifffile

    from srcnn_plugin.cli import main

    src = tmp_path / "p.tif"
    img = np.random.default_rng(2).integers(0, 60000, (20, 30), dtype=np.uint16)
    tifffile.imwrite(src, img, resolution=(4.0, 5.0), resolutionunit="INCH")
    assert main(["upscale", str(src), "-s", "2", "-o", str(tmp_path / "o"), "-q"]) == 0
    with tifffile.TiffFile(tmp_path / "o" / "p_x2.tif") as tf:
        page = tf.pages[0]
        assert page.shape == (40, 60) and page.dtype == np.uint16
        assert page.tags["XResolution"].value == (8, 1)
        assert page.tags["YResolution"].value == (10, 1)
        assert page.tags["ResolutionUnit"].value == 2  # inch, kept


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_png_round_trip_keeps_mode_and_dtype(tmp_path, mode):
    import imageio.v3 as iio

    from srcnn_plugin.cli import main

    shape = {"L": (20, 30), "RGB": (20, 30, 3), "RGBA": (20, 30, 4)}[mode]
    img = np.random.default_rng(3).integers(0, 255, shape, dtype=np.uint8)
    iio.imwrite(tmp_path / "a.png", img)
    assert main(["upscale", str(tmp_path / "a.png"), "-s", "2", "-o", str(tmp_path / "o"),
                 "-q"]) == 0  # fmt: skip
    out = iio.imread(tmp_path / "o" / "a_x2.png")
    assert out.dtype == np.uint8 and out.shape == (40, 60, *shape[2:])


def _rich_ome(path, planes=True):
    """An OME-TIFF (Z, C, Y, X) = (2, 2, 16, 16) with instrument, annotations, ROI, planes."""
    tifffile.imwrite(
        path,
        np.arange(2 * 2 * 16 * 16, dtype=np.uint16).reshape(2, 2, 16, 16),
        ome=True,
        metadata={"axes": "ZCYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2,
                  "PhysicalSizeZ": 1.0, "Channel": {"Name": ["DAPI", "GFP"]}},
    )  # fmt: skip
    with tifffile.TiffFile(path) as tf:
        xml = tf.ome_metadata
    instrument = (
        '<Instrument ID="Instrument:0"><Objective ID="Objective:0:0" NominalMagnification='
        '"63.0" LensNA="1.4"/></Instrument>'
    )
    xml = xml.replace("<Image ", instrument + "<Image ", 1)
    xml = xml.replace('Name="DAPI"', 'Name="DAPI" EmissionWavelength="461" Color="65535"')
    xml = xml.replace(
        "<Pixels ",
        "<AcquisitionDate>2026-11-01T10:00:00</AcquisitionDate><Description>fixed cells"
        '</Description><InstrumentRef ID="Instrument:0"/><ObjectiveSettings ID="Objective:0:0"'
        ' RefractiveIndex="1.515"/><Pixels TimeIncrement="2.5" ',
        1,
    )
    plane_xml = "".join(
        f'<Plane TheZ="{z}" TheC="{c}" TheT="0" ExposureTime="0.1" PositionZ="{z}.0"/>'
        for z in range(2)
        for c in range(2)
    )
    xml = xml.replace("</Pixels>", (plane_xml if planes else "") + "</Pixels>")
    xml = xml.replace("</Image>", '<ROIRef ID="ROI:0"/></Image>')
    xml = xml.replace(
        "</OME>",
        '<StructuredAnnotations><CommentAnnotation ID="Annotation:0"><Value>batch 7</Value>'
        '</CommentAnnotation></StructuredAnnotations><ROI ID="ROI:0"><Union><Point ID='
        '"Shape:0" X="3" Y="4"/></Union></ROI></OME>',
    )
    tifffile.tiffcomment(path, xml.encode())


@pytest.mark.parametrize(("factors", "z_changes"), [({"Y": 2, "X": 2}, False),
                                                   ({"Z": 2}, True)])  # fmt: skip
def test_ome_fields_that_stay_true_are_kept(tmp_path, factors, z_changes):
    _rich_ome(tmp_path / "in.ome.tif")
    img = read_image(tmp_path / "in.ome.tif")
    shape = [n * factors.get(a, 1) for a, n in zip(img.axes, img.data.shape)]
    write_image(tmp_path / "out.ome.tif", img.scaled(np.zeros(shape, np.uint16), factors))
    with tifffile.TiffFile(tmp_path / "out.ome.tif") as tf:
        xml = tf.ome_metadata
        assert tf.series[0].shape == tuple(shape)
    # kept: instrument, objective, acquisition, description, channel settings, annotations
    for kept in (
        'LensNA="1.4"',
        "<AcquisitionDate>2026-11-01T10:00:00",
        "fixed cells",
        'InstrumentRef ID="Instrument:0"',
        'RefractiveIndex="1.515"',
        'EmissionWavelength="461"',
        'Name="GFP"',
        "batch 7",
        'TimeIncrement="2.5"',
    ):
        assert kept in xml, kept  # fmt: skip
    # updated: sizes and physical sizes
    n_x = shape[img.axes.index("X")]
    assert f'SizeX="{n_x}"' in xml
    assert f'PhysicalSizeX="{0.2 / factors.get("X", 1):g}"' in xml
    # never false: ROIs are in old pixels; planes only while the stack is unchanged
    assert "ROI" not in xml
    assert ("<Plane " in xml) is not z_changes
