"""The file names ``read_layer`` reads (``SUPPORTED_SUFFIXES``): OpenStreetMap extracts among
them, from ``gridmap.io.osm`` itself; a file named otherwise that GDAL cannot read either is
refused with the list, in both languages."""

from __future__ import annotations

import pytest

from gridmap.errors import InputError
from gridmap.io.layers import SUPPORTED_SUFFIXES, read_layer
from gridmap.io.osm import OSM_SUFFIXES


def test_osm_extracts_are_among_the_supported_suffixes():
    assert set(OSM_SUFFIXES) <= set(SUPPORTED_SUFFIXES)
    assert "碧江区.osm.pbf".endswith(SUPPORTED_SUFFIXES) and "a.osm".endswith(SUPPORTED_SUFFIXES)


def test_a_file_no_reader_knows_is_refused_with_the_suffixes_read(tmp_path):
    drawing = tmp_path / "楼栋.dxf"
    drawing.write_text("0\nSECTION\n", encoding="ascii")  # no DXF GDAL can open
    with pytest.raises(InputError) as caught:
        read_layer(drawing, "building")
    error = caught.value
    assert error.code == "unsupported_format"
    listed = " ".join(SUPPORTED_SUFFIXES)
    assert str(error).startswith(f"Cannot read 楼栋.dxf: not a format gridmap reads; save it as "
                                 f"one of {listed}")  # fmt: skip
    assert ".osm.pbf .pbf .osm" in listed
    assert error.message("zh").startswith(f"无法读取 楼栋.dxf：不是本程序能读取的格式；请另存为"
                                          f"以下格式之一：{listed}")  # fmt: skip


def test_a_broken_file_of_a_known_format_is_still_said_broken(tmp_path):
    broken = tmp_path / "楼栋.gpkg"
    broken.write_bytes(b"not a database")
    with pytest.raises(InputError) as caught:
        read_layer(broken, "building")
    assert caught.value.code == "unreadable"
