"""Reading notes (gridmap.io.notes): one record, worded in Chinese or English, usable in attrs."""

from __future__ import annotations

import json
import pickle
import re

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.io.layers import read_layer
from gridmap.io.notes import NOTE_CODES, ReadNote
from tests import office_files

_VALUES = {
    "encoding_given": {"encoding": "GBK"},
    "encoding_cpg": {"encoding": "UTF-8"},
    "encoding_detected": {"encoding": "GB18030"},
    "encoding_not_declared": {"encoding": "GB18030", "declared": "UTF-8"},
    "encoding_not_utf8": {"encoding": "GB18030"},
    "headers_cut": {"headers": ["所属社", "物业公"]},
    "layer_chosen": {"entity": "building", "layer": "楼栋"},
    "description_read": {"n": 12, "headers": ["楼栋编号", "户数"]},
    "crs_reinterpreted": {"crs": "EPSG:4545"},
    "crs_kept": {"crs": "EPSG:4545"},
    "offset_removed": {"system": "gcj02", "n": 6649, "headers": ["高德经度", "高德纬度"]},
    "made_2d": {"n": 4},
    "outlines_as_areas": {"entity": "community", "n": 3},
    "measures_dropped": {},
    "ids_generated": {"entity": "compound", "n": 13, "prefix": "XQ"},
    "address_ids": {
        "entity": "household",
        "n": 6274,
        "example": "B00001-1-101",
        "without": 3,
        "placed": 375,
        "headers": ["楼栋编号", "单元", "楼层", "房号"],
    },
    "address_repeated": {"repeats": [("B9-1-302", [2, 3])], "n": 1},
    "address_conflict": {"kind": "floor", "rows": [2], "n_rows": 1, "example": "B9-1-4-301"},
    "households_of_persons": {"n": 120, "stored": 3},
    "households_found": {"n": 858},
    "grid_codes_made": {"n": 9, "named": 6, "located": 9, "left_out": 1},
    "formulas_unsaved": {"n": 12, "headers": ["户数"], "rows": list(range(1, 11)), "n_rows": 12},
    "merged_cells_filled": {"n": 3, "headers": ["楼栋", "户数"]},
    "hidden_read": {"rows": [1, 2, 4], "n_rows": 6337, "headers": ["户数"], "filtered": True},
    "workbook_content": {"kind": "html"},
    "boundary_crosses_itself": {
        "id": "520602002001",
        "x": 109.19,
        "y": 27.72,
        "before": 0.0,
        "after": 83828.4,
        "parts": 2,
    },
    "boundary_invalid": {
        "entity": "compound",
        "id": "XQ0003",
        "kind": "hole_outside",
        "x": 109.19,
        "y": 27.72,
        "before": 20511.0,
        "after": 20913.5,
        "parts": 2,
    },
    "placed_by_point": {"ids": ["B00004", "B00008"], "n": 2, "kinds": ["line", "collection"]},
    "header_rows_combined": {
        "rows": [1, 2],
        "headers": ["居住地址·楼栋号", "居住地址·单元", "居住地址·房号"],
        "n": 3,
    },
    "rows_without_geometry": {"rows": [2, 5], "n_rows": 30, "column": "wkt"},
    "id_numbers_as_numbers": {"rows": [1], "n_rows": 1},
    "rows_left_out": {"kind": "total", "rows": [31], "n_rows": 1},
    "osm_streets": {
        "n": 746,
        "selection": "highway=primary,secondary",
        "under": 8,
        "left": 1758,
        "kinds": [("footway", 1058), ("service", 233)],
    },
    "osm_buildings": {
        "n": 489,
        "selection": "building=*",
        "levels": 163,
        "flats": 2,
        "unreadable": 1,
    },
    "osm_households_missing": {"n": 487, "total": 489},
    "osm_compounds": {"n": 3, "selection": "landuse=residential", "unnamed": 23},
    "osm_communities": {
        "n": 2,
        "selection": "boundary=administrative admin_level=10",
        "generated": 1,
    },
    "osm_outlines_broken": {"entity": "building", "n": 5},
}
_DATA = {"b.shp", "所属社", "物业公", "楼栋", "户数", "楼栋编号", "单元", "楼层", "房号",
         "居住地址", "楼栋号", "高德经度", "高德纬度"}  # fmt: skip
"""The file's own names and headers."""
TYPED = re.compile(r"--[a-z-]+|gridmap(?: [a-z]+)*"
                   r"|[A-Za-z_]+(?::[A-Za-z_-]+)*=[^\s，。；、（）]*|[a-z]+:[a-z_:]+"
                   r"|[^\s：（）]+\.(?:shp|csv|osm|pbf)\b|\b[a-z][0-9]+")  # fmt: skip
"""What a person types or reads as it is: options, commands, OSM tags (``highway=primary``,
``building:flats``), file names, ids (``r1234567``)."""


def test_every_code_is_worded_in_both_languages_one_at_a_time():
    assert set(_VALUES) == set(NOTE_CODES)
    for code, values in _VALUES.items():
        note = ReadNote.of(code, "b.shp", **values)
        zh, en = note.message("zh"), note.message("en")
        assert zh == note.message_zh and en == note.message_en == str(note)
        assert zh.startswith("b.shp：") and en.startswith("b.shp: ")
        typed = TYPED.sub(" ", zh.removeprefix("b.shp"))
        words = re.findall(r"(?<![A-Za-z0-9_.])[A-Za-z]*[a-z][A-Za-z]*", typed)
        assert set(words) <= {"Excel"}, (code, zh)  # ".cpg", ".shp" (kinds of file) aside
        chinese = re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", en)
        assert set(chinese) <= _DATA, (code, en)


def test_unknown_code_is_refused():
    with pytest.raises(ValueError, match="unknown read note 'encoding'"):
        ReadNote.of("encoding", "b.shp", encoding="GBK")


def test_notes_in_attrs_survive_parquet_pickle_and_repeats(tmp_path):
    files = office_files.compounds_without_ids(tmp_path / "in")
    frame = read_layer(files.compounds, "compound")
    (note,) = frame.attrs["notes"]
    assert (note.code, note.file, dict(note.values)) == (
        "ids_generated", "小区.geojson", {"entity": "compound", "n": 13, "prefix": "XQ"}
    )  # fmt: skip
    assert pickle.loads(pickle.dumps(note)) == note
    assert list(dict.fromkeys([note, ReadNote.of(*note[:2], **dict(note.values))])) == [note]
    frame.to_parquet(tmp_path / "c.parquet")  # pandas writes attrs as JSON: records must be
    assert json.loads(json.dumps(frame.attrs))["notes"][0][0] == "ids_generated"
    persons = read_layer(office_files.persons_roster(tmp_path, rows=5), "person")
    assert not isinstance(persons, gpd.GeoDataFrame)
    persons.to_parquet(tmp_path / "p.parquet")  # pandas' own Parquet writer, attrs kept
    assert pd.read_parquet(tmp_path / "p.parquet").attrs["notes"][0][0] == "encoding_not_utf8"
