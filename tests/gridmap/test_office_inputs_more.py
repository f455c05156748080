"""More office inputs, each written as a real file and read as ``gridmap import`` and
``gridmap partition`` read it: household counts typed as text, merged spreadsheet cells,
buildings drawn twice, community boundaries that cross themselves.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from gridmap import read_layer
from gridmap.attach.validate import validate_layer
from service.cli import app
from tests import office_files

runner = CliRunner()


def _partition(communities, buildings, out, *extra: str):
    args = ["partition", "--communities", str(communities), "--buildings", str(buildings),
            "--out", str(out), "--jobs", "1", *extra]  # fmt: skip
    res = runner.invoke(app, args)
    assert "Traceback" not in res.output
    return res


# --- household counts typed as text ------------------------------------------------------------

_TEXT_FORMS = (
    lambda n: f"{n:,}",  # 1,024
    lambda n: f"{n:,}".replace(",", "，"),  # full-width comma
    lambda n: f" {n} ",
    lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    lambda n: f"{n}\u3000",  # a full-width space after it (IME)
)


def _counts_as_text(files, tmp_path):
    """The buildings CSV with one tower of 1,024 households, and a copy whose counts are typed
    as offices type them: the plain file and the text one."""
    table = pd.read_csv(files.buildings, dtype=str, encoding="utf-8-sig")
    table.loc[0, "户数"] = "1024"
    plain = tmp_path / "楼栋_数字.csv"
    table.to_csv(plain, index=False, encoding="utf-8-sig")
    typed = table.copy()
    typed["户数"] = [_TEXT_FORMS[i % len(_TEXT_FORMS)](int(n)) for i, n in enumerate(table["户数"])]
    assert typed.loc[0, "户数"] == "1,024"
    text = tmp_path / "楼栋_文本.csv"
    typed.to_csv(text, index=False, encoding="utf-8-sig")
    return plain, text


def test_counts_typed_with_separators_partition_as_numbers(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    plain, text = _counts_as_text(files, tmp_path)
    grids = {}
    for name, buildings in (("plain", plain), ("text", text)):
        out = tmp_path / f"{name}.geojson"
        res = _partition(files.communities, buildings, out, "--lang", "en")
        assert res.exit_code == 0, res.output
        grids[name] = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(grids["plain"]) >= 10
    assert grids["text"] == grids["plain"]


def test_counts_typed_with_separators_import_as_numbers(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    plain, text = _counts_as_text(files, tmp_path)
    checked = {}
    for name, path in (("plain", plain), ("text", text)):
        frame, issues = validate_layer(read_layer(path, "building"), "building")
        assert not [i for i in issues if i.code == "invalid_count"], name
        checked[name] = frame["households"].tolist()
    assert checked["text"] == checked["plain"]
    assert checked["text"][0] == 1024


@pytest.mark.parametrize("value", ["12.5", "三百", "1,02", "12,5", "1,0240"])
def test_a_count_that_is_not_plainly_a_whole_number_is_refused_naming_the_record(tmp_path, value):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    table = pd.read_csv(files.buildings, dtype=str, encoding="utf-8-sig")
    table.loc[3, "户数"] = value
    path = tmp_path / "楼栋.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    building = table.loc[3, "楼栋编号"]
    # import: a report line names the building, its count is cleared
    frame, issues = validate_layer(read_layer(path, "building"), "building")
    bad = [i for i in issues if i.code == "invalid_count"]
    assert [i.record_id for i in bad] == [building]
    assert value in bad[0].message("zh") and value in bad[0].message("en")
    assert pd.isna(frame.loc[3, "households"])
    # partition: refused, naming the file, the data row and the building
    for lang in ("zh", "en"):
        out = tmp_path / "grids.geojson"
        res = _partition(files.communities, path, out, "--lang", lang)
        assert res.exit_code == 2, res.output
        assert path.name in res.output and building in res.output
        assert not out.exists()


# --- merged cells in a roster ------------------------------------------------------------------


def _households_workbook(path, buildings: list[str]) -> None:
    """A households roster as offices keep it: a merged title row, then 楼栋编号 merged down
    the households of each building (rows 3-5, 6-7, 9-10), a household whose building was left
    blank (row 8, not merged) and a block of two columns merged (单元 and 备注, rows 9-10)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = "住户"
    sheet["A1"] = "某社区住户花名册"
    sheet.merge_cells("A1:D1")
    sheet.append(["户号", "楼栋编号", "单元", "备注"])
    rows = [("H1", buildings[0], 1), ("H2", None, 1), ("H3", None, 2),
            ("H4", buildings[1], 1), ("H5", None, 1),
            ("H6", None, 1),
            ("H7", buildings[2], 2), ("H8", None, None)]  # fmt: skip
    for household, building, unit in rows:
        sheet.append([household, building, unit, None])
    sheet.merge_cells("B3:B5")
    sheet.merge_cells("B6:B7")
    sheet.merge_cells("B9:B10")
    sheet.merge_cells("C9:D10")
    book.save(path)


def test_merged_cells_are_filled_from_the_merge_definitions(tmp_path):
    path = tmp_path / "住户.xlsx"
    _households_workbook(path, ["B1", "B2", "B3"])
    households = read_layer(path, "household")
    assert households["household_id"].tolist() == [f"H{i}" for i in range(1, 9)]
    buildings = households["building_id"].fillna("")  # H6: blank, not merged, stays blank
    assert buildings.tolist() == ["B1", "B1", "B1", "B2", "B2", "", "B3", "B3"]
    assert households["unit"].tolist() == ["1", "1", "2", "1", "1", "1", "2", "2"]
    notes = [n for n in households.attrs["notes"] if n.code == "merged_cells_filled"]
    assert [n.message("en") for n in notes] == [
        "住户.xlsx: 4 merged cell range(s) in column(s) ['楼栋编号', '单元'] filled: each row of "
        "a merged range takes its value"
    ]
    assert notes[0].message("zh").startswith("住户.xlsx：列 “楼栋编号”、“单元” 中有 4 处合并单元格")


@pytest.mark.parametrize(
    ("lang", "words"), [("zh", "处合并单元格"), ("en", "merged cell range(s)")]
)
def test_import_attaches_the_households_of_merged_building_cells_and_says_so(tmp_path, lang, words):
    layers = office_files.sample_layers()
    buildings = layers["buildings"].drop(columns=["compound_id"]).head(5)
    communities = tmp_path / "社区.geojson"
    layers["communities"].to_file(communities)
    ids = buildings["building_id"].head(3).tolist()
    building_file = tmp_path / "楼栋.geojson"
    buildings.to_file(building_file)
    roster = tmp_path / "住户.xlsx"
    _households_workbook(roster, ids)
    reports = tmp_path / "reports"
    res = runner.invoke(app, ["import", "--db", f"sqlite:///{tmp_path / 'store.sqlite'}",
                              "--communities", str(communities), "--buildings",
                              str(building_file), "--households", str(roster),
                              "--report-dir", str(reports), "--lang", lang])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"住户.xlsx{'：' if lang == 'zh' else ':'}" in res.output and words in res.output
    (report,) = reports.glob("*.json")
    lines = json.loads(report.read_text(encoding="utf-8"))
    lines = lines["issues"] if isinstance(lines, dict) else lines
    unattached = sorted(i["record_id"] for i in lines if i["reason"] == "no building")
    assert unattached == ["H6"]  # before: H2, H3, H5, H6 and H8 had no building


# --- a building drawn twice --------------------------------------------------------------------


def _buildings_drawn_twice(tmp_path):
    """The sample's buildings and communities, with B00001 copied under a new id and B00002
    redrawn a few centimetres off under another; and one copy with its own id repeated."""
    import shapely

    layers = office_files.sample_layers()
    buildings = layers["buildings"].drop(columns=["compound_id"]).head(12)
    copy = buildings.iloc[[0, 1]].copy()
    copy["building_id"] = ["B90001", "B90002"]
    copy.loc[copy.index[1], "geometry"] = shapely.affinity.translate(
        copy.geometry.iloc[1], xoff=3e-7
    )  # about 3 cm east
    drawn = pd.concat([buildings, copy], ignore_index=True).set_crs(buildings.crs)
    communities = tmp_path / "社区.geojson"
    layers["communities"].to_file(communities)
    path = tmp_path / "楼栋.geojson"
    drawn.to_file(path)
    return communities, path, buildings


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_building_drawn_twice_is_imported_once_and_reported_with_both_records(tmp_path, lang):
    import sqlite3

    communities, path, buildings = _buildings_drawn_twice(tmp_path)
    reports, store = tmp_path / "reports", tmp_path / "store.sqlite"
    res = runner.invoke(app, ["import", "--db", f"sqlite:///{store}", "--communities",
                              str(communities), "--buildings", str(path), "--report-dir",
                              str(reports), "--lang", lang])  # fmt: skip
    assert res.exit_code == 0, res.output
    (report,) = reports.glob("*.json")
    lines = [i for i in json.loads(report.read_text(encoding="utf-8"))
             if i["reason"] == "duplicate footprint"]  # fmt: skip
    assert [i["record_id"] for i in lines] == ["B90001", "B90002"]
    first = ("楼栋 B00001（数据行 1）", "楼栋 B00002（数据行 2）") if lang == "zh" else (
        "building B00001 (data row 1;", "building B00002 (data row 2;")  # fmt: skip
    assert first[0] in lines[0]["detail"] and first[1] in lines[1]["detail"]
    assert ("数据行 13" if lang == "zh" else "data row 13") in lines[0]["detail"]
    assert ("楼栋重复" if lang == "zh" else "duplicate footprint") in res.output
    with sqlite3.connect(store) as con:
        stored = con.execute("SELECT count(*), sum(households) FROM building").fetchone()
    assert stored == (len(buildings), int(buildings["households"].sum()))  # counted once


def test_households_of_a_building_drawn_twice_are_said_to_be_of_a_building_left_out(tmp_path):
    from gridmap import attach_all

    communities, path, buildings = _buildings_drawn_twice(tmp_path)
    households = pd.DataFrame({"household_id": ["H1", "H2"], "building_id": ["B00001", "B90001"]})
    result = attach_all(communities=read_layer(communities, "community"),
                        buildings=read_layer(path, "building"), households=households)  # fmt: skip
    lines = {(i.record_id, i.reason) for i in result.report if i.entity == "household"}
    assert lines == {("H2", "building rejected")}
    assert result.households.set_index("household_id")["building_id"].isna().to_dict() == {
        "H1": False, "H2": True}  # fmt: skip


# --- a community boundary that crosses itself --------------------------------------------------


def _twisted_community(tmp_path):
    """The sample's communities with two neighbouring corners of 520602002001's boundary
    swapped (a slip of digitising): the ring crosses itself, and the repaired boundary lacks a
    sliver that holds buildings. Also the sample's buildings."""
    import shapely

    layers = office_files.sample_layers()
    communities = layers["communities"].copy()
    ring = list(communities.geometry.iloc[0].exterior.coords)[:-1]
    i = len(ring) // 2
    ring[i], ring[i + 1] = ring[i + 1], ring[i]
    communities.loc[communities.index[0], "geometry"] = shapely.Polygon(ring)
    assert not communities.geometry.iloc[0].is_valid
    path = tmp_path / "社区.geojson"
    communities.to_file(path)
    buildings = tmp_path / "楼栋.geojson"
    layers["buildings"].drop(columns=["compound_id"]).to_file(buildings)
    return path, buildings


_CROSSING = {
    "zh": ("社区.geojson：社区 520602002001 的边界在 (109.193451, 27.721741) 处自相交：原样面积 "
           "367,200 平方米，自动修复后 367,200 平方米，共 2 块"),
    "en": ("社区.geojson: the boundary of community 520602002001 crosses itself at (109.193451, "
           "27.721741): 367,200 m² as drawn, 367,200 m² in 2 part(s) once repaired by make_valid"),
}  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_boundary_crossing_itself_is_said_by_partition_with_the_buildings_outside(tmp_path, lang):
    communities, buildings = _twisted_community(tmp_path)
    out = tmp_path / "grids.geojson"
    res = _partition(communities, buildings, out, "--lang", lang)
    assert res.exit_code == 0, res.output
    assert res.output.count(_CROSSING[lang]) == 1, res.output
    (outside,) = [line for line in res.output.splitlines() if "B00023" in line]
    words = "不在任何社区" if lang == "zh" else "outside every community"
    assert words in outside and "B00024" in outside and "B00025" in outside, outside


def test_a_boundary_crossing_itself_is_said_by_import_with_the_buildings_outside(tmp_path):
    communities, buildings = _twisted_community(tmp_path)
    reports = tmp_path / "reports"
    res = runner.invoke(app, ["import", "--db", f"sqlite:///{tmp_path / 'store.sqlite'}",
                              "--communities", str(communities), "--buildings", str(buildings),
                              "--report-dir", str(reports), "--lang", "en"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert res.output.count(_CROSSING["en"]) == 1, res.output
    (report,) = reports.glob("*.json")
    lines = json.loads(report.read_text(encoding="utf-8"))
    outside = {i["record_id"] for i in lines if i["reason"] == "outside communities"}
    assert {"B00023", "B00024", "B00025"} <= outside
    repaired = [i for i in lines if i["entity"] == "community"]
    assert [(i["record_id"], i["reason"]) for i in repaired] == [
        ("520602002001", "geometry repaired")]  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_building_drawn_twice_is_counted_once_by_partition(tmp_path, lang):
    communities, path, buildings = _buildings_drawn_twice(tmp_path)
    once = tmp_path / "楼栋_一次.geojson"
    buildings.to_file(once)
    grids = {}
    for name, file in (("once", once), ("twice", path)):
        out = tmp_path / f"{name}.geojson"
        res = _partition(communities, file, out, "--lang", lang)
        assert res.exit_code == 0, res.output
        grids[name] = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert grids["twice"] == grids["once"]  # before: B00001's households counted twice
    said = ("楼栋.geojson：B90001：数据行 13 的轮廓与楼栋 B00001（数据行 1）相同" if lang == "zh"
            else "楼栋.geojson: B90001: data row 13 has the footprint of building B00001 (data row "
            "1;")  # fmt: skip
    assert said in res.output


@pytest.mark.parametrize(("lang", "words"), [
    ("zh", ("社区 520602002002 未导入（自相交；", "有 26 条楼栋记录属于该社区：B00088、")),
    ("en", ("community 520602002002 was left out (Self-intersection; ",
            "26 buildings name it: B00088, ")),
])  # fmt: skip
def test_buildings_of_a_bow_tie_community_are_refused_saying_why(tmp_path, lang, words):
    """A bow-tie boundary (area as drawn about zero) is left out; the buildings naming it were
    refused for a community "neither in this import nor in the store"."""
    import shapely

    layers = office_files.sample_layers()
    communities = layers["communities"].copy()
    minx, miny, maxx, maxy = communities.geometry.iloc[1].bounds
    bow_tie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    communities.loc[communities.index[1], "geometry"] = bow_tie
    communities.to_file(tmp_path / "社区.geojson")
    layers["buildings"].drop(columns=["compound_id"]).to_file(tmp_path / "楼栋.geojson")
    store = tmp_path / "store.sqlite"
    res = runner.invoke(app, ["import", "--db", f"sqlite:///{store}", "--communities",
                              str(tmp_path / "社区.geojson"), "--buildings",
                              str(tmp_path / "楼栋.geojson"), "--lang", lang])  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert all(w in res.output for w in words), res.output
    assert not store.exists()
