"""What reading noticed is said before a refusal: ``gridmap partition`` of an OpenStreetMap
extract without dwelling counts (most buildings lack ``building:flats``) and ``gridmap import``
refused by a file print the notes of the files read first, in ``--lang``; the refusal of the
buildings without a count says how many, which, and what to give instead."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests import office_files
from tests.gridmap.test_cli_language import _run, repeated_lines
from tests.gridmap.test_io_osm import _osm_xml

_WITHOUT_COUNTS = {
    "zh": ["碧江.osm：5 栋楼中有 3 栋没有户数（osm-relation-302、osm-way-202、osm-way-205）",
           "--households-field", "gridmap import --buildings 碧江.osm --households 住户.csv",
           "gridmap plan partition"],
    "en": ["碧江.osm: 3 of 5 buildings have no household count (osm-relation-302, osm-way-202, "
           "osm-way-205)", "--households-field",
           "gridmap import --buildings 碧江.osm --households households.csv",
           "gridmap plan partition"],
}  # fmt: skip
_BUILDINGS_NOTE = {"zh": "碧江.osm：从 OSM 的 building=* 区域取得 5 栋楼：2 栋有 building:levels",
                   "en": "碧江.osm: 5 buildings from OSM areas with building=*: 2 with "
                   "building:levels"}  # fmt: skip


@pytest.fixture
def osm_file(tmp_path: Path) -> Path:
    return _osm_xml(tmp_path / "碧江.osm")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_partition_of_osm_buildings_without_counts_says_the_notes_then_what_to_do(
    osm_file, lang, tmp_path
):
    out = tmp_path / "grids.geojson"
    printed = _run(["partition", "--communities", str(osm_file), "--buildings", str(osm_file),
                    "--out", str(out), "--lang", lang], exit_code=2)  # fmt: skip
    error = printed.index("错误：" if lang == "zh" else "error: ")
    assert 0 < printed.index(_BUILDINGS_NOTE[lang]) < error  # the note first
    for words in _WITHOUT_COUNTS[lang]:
        assert words in printed[error:], printed
    assert "OSM 的 building:flats）；划分网格需要" not in printed  # the note's advice: once
    assert "(OSM building:flats); gridmap partition needs" not in printed
    assert not out.exists()
    assert repeated_lines(printed) == []


def test_counts_missing_and_counts_unusable_are_two_problems(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    table = pd.read_csv(files.buildings, dtype=str, encoding="utf-8-sig")
    table.loc[[3, 4, 5], "户数"] = None
    table.loc[9, "户数"] = "二十"
    table.to_csv(files.buildings, index=False, encoding="utf-8-sig")
    args = ["partition", *files.partition_args(), "--out", str(tmp_path / "g.geojson")]
    printed = _run([*args, "--lang", "en"], exit_code=2)
    assert ("楼栋_经纬度.csv: 3 of 122 buildings have no household count (B00004, B00005, "
            "B00006)") in printed  # fmt: skip
    assert ("楼栋_经纬度.csv: data row(s) 10 (building B00010) have no usable households count "
            "(not a number, negative or fractional)") in printed  # fmt: skip
    printed = _run([*args, "--lang", "zh"], exit_code=2)
    assert "楼栋_经纬度.csv：122 栋楼中有 3 栋没有户数（B00004、B00005、B00006）" in printed
    assert "数据行 10（楼栋 B00010）的户数不是数字、为负数或小数" in printed


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_import_says_the_notes_of_the_files_read(osm_file, lang, tmp_path):
    store = tmp_path / "store.sqlite"
    printed = _run(["import", "--db", f"sqlite:///{store}", "--lang", lang,
                    "--report-dir", str(tmp_path / "rep"), "--buildings", str(osm_file),
                    "--households", str(osm_file)], exit_code=1)  # fmt: skip
    refused = printed.index("导入失败" if lang == "zh" else "Import failed")
    assert 0 <= printed.index(_BUILDINGS_NOTE[lang]) < refused
    assert ("not households" if lang == "en" else "住户") in printed[refused:]
    assert not store.exists()  # refused: nothing made
