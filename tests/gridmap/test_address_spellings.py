"""Address parts as community offices write them (gridmap.io.addressparts, gridmap.io.addresses):
a household roster (XLSX) and a persons roster (GBK CSV) that write one flat differently
(楼栋编号 ``3栋`` / ``三号楼`` / ``3#楼``, 单元 ``2单元`` / ``二`` / ``02`` …) make one household id
and link; the building layer's ``3``, ``3栋`` or ``3号楼`` is that building; a basement is never
floor 1; parts that disagree are kept apart and noted by data row, never guessed.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point

from gridmap.attach.chain import attach_all, attach_persons
from gridmap.io.addresses import address_conflicts, address_keys, address_notes
from gridmap.io.addresstext import dwelling_addresses
from gridmap.io.layers import read_layer

_BUILDING_SPELLINGS = ["3栋", "三栋", "第三栋", "3号楼", "三号楼", "3幢", "3座", "3#", "3#楼",
                       "3 号楼", "３栋", "3"]  # fmt: skip


def _households_xlsx(path, rows: dict[str, list[str]]):
    pd.DataFrame(rows).to_excel(path, sheet_name="住户", index=False)
    return read_layer(path, "household")


def _persons_csv(path, rows: dict[str, list[str]]):
    pd.DataFrame(rows).to_csv(path, index=False, encoding="gbk")
    return read_layer(path, "person")


def _buildings(ids: list[str], **columns: list[str]) -> gpd.GeoDataFrame:
    points = [Point(109.19 + i * 0.001, 27.72).buffer(0.0002) for i in range(len(ids))]
    return gpd.GeoDataFrame({"building_id": ids, **columns}, geometry=points, crs=4326)


@pytest.mark.parametrize("layer_id", ["3", "3栋", "3号楼"])
def test_every_spelling_of_a_building_is_the_same_household_and_building(tmp_path, layer_id):
    n = len(_BUILDING_SPELLINGS)
    households = _households_xlsx(tmp_path / "住户.xlsx", {
        "楼栋编号": _BUILDING_SPELLINGS, "单元": ["2单元"] * n, "楼层": ["3"] * n,
        "房号": [f"{300 + i}室" for i in range(1, n + 1)], "人数": ["2"] * n,
    })  # fmt: skip
    assert households["household_id"].tolist() == [f"3-2-{300 + i}" for i in range(1, n + 1)]
    persons = _persons_csv(tmp_path / "人口.csv", {
        "姓名": [f"人员{i}" for i in range(n)], "楼栋编号": _BUILDING_SPELLINGS[::-1],
        "单元": ["二"] * n, "房号": [f"{300 + i}" for i in range(n, 0, -1)],
    })  # fmt: skip
    buildings = _buildings([layer_id, "A栋", "5栋"])
    result = attach_all(buildings=buildings, households=households, persons=persons)
    out = result.households
    assert out["building_id"].tolist() == [layer_id] * n  # the layer's id, for every spelling
    assert (out["attached_by"] == "key").all() and len(out) == n
    assert result.persons["household_id"].tolist() == persons["household_id"].tolist()
    assert set(result.persons["household_id"]) == set(out["household_id"])
    assert not list(result.report)  # every household and person linked


def test_letter_buildings_and_a_building_named_twice_are_never_guessed(tmp_path):
    households = _households_xlsx(tmp_path / "住户.xlsx", {
        "楼栋编号": ["A栋", "b座", "B座", "三栋", "3栋", "9栋"], "单元": ["1"] * 6,
        "房号": ["101", "102", "103", "104", "105", "106"],
    })  # fmt: skip
    assert households["household_id"].tolist() == ["A-1-101", "B-1-102", "B-1-103", "3-1-104",
                                                   "3-1-105", "9-1-106"]  # fmt: skip
    # two buildings read as 3: the exact id still links, another spelling is not guessed
    buildings = _buildings(["A栋", "B座", "3栋", "3号楼"])
    result = attach_all(buildings=buildings, households=households, validate=False)
    linked = result.households["building_id"].fillna("").tolist()
    assert linked == ["A栋", "B座", "B座", "", "3栋", ""]
    said = {i.record_id: i for i in result.report}
    assert said["3-1-104"].reason == "building named ambiguously"
    assert said["3-1-104"].message("zh") == "楼栋编号“三栋”可指多栋楼（3号楼, 3栋）；住户未关联"
    assert said["9-1-106"].reason == "unknown building"
    assert set(said) == {"3-1-104", "9-1-106"}


def test_a_building_is_found_by_its_code_or_name_too():
    named = ["清水塘小区三号楼", "5206020020010003", "碧江小区3栋"]  # name, code, another compound
    households = pd.DataFrame({"household_id": ["H1", "H2", "H3"], "building_id": named})
    buildings = _buildings(["B00003", "B00004"], code=["5206020020010003", "5206020020010004"],
                           name=["清水塘小区3栋", "清水塘小区4栋"])  # fmt: skip
    result = attach_all(buildings=buildings, households=households)
    assert result.households["building_id"].fillna("").tolist() == ["B00003", "B00003", ""]
    assert [i.record_id for i in result.report] == ["H3"]


@pytest.mark.parametrize("unit", ["2单元", "二单元", "第二单元", "2", "02", "２"])
def test_units_as_offices_write_them(unit):
    rows = pd.DataFrame({"building_id": ["3栋"], "unit": [unit], "room": ["301"]})
    assert address_keys(rows).tolist() == ["3-2-301"]


def test_a_basement_is_never_floor_one():
    basements = ["负一层", "地下一层", "-1层", "B1", "-1", "b1", "地下1层", "负1"]
    firsts = ["1F", "一楼", "1层", "1", "01", "第一层"]
    floors = basements + firsts + ["负二层", "B2"]
    rows = pd.DataFrame({"building_id": "3栋", "unit": "1", "floor": floors, "room": "2"})
    keys = address_keys(rows).tolist()
    assert keys == ["3-1-B1-2"] * len(basements) + ["3-1-1-2"] * len(firsts) + ["3-1-B2-2"] * 2
    carried = pd.DataFrame({"building_id": "3栋", "unit": "1", "floor": ["B1", "1"],
                            "room": ["B101", "101"]})  # fmt: skip
    assert address_keys(carried).tolist() == ["3-1-B101", "3-1-101"]
    assert not address_conflicts(carried)


def test_rooms_as_offices_write_them(tmp_path):
    households = _households_xlsx(tmp_path / "住户.xlsx", {
        "楼栋编号": ["3栋"] * 8,
        "单元": ["2", "2单元", "2", None, None, "2", "2", "2"],
        "楼层": ["3", None, "三楼", None, None, "3", "3", "3"],
        "房号": ["301", "301室", "三零一", "2-301", "2单元301", "301A", "301a", "301B"],
    })  # fmt: skip
    ids = households["household_id"].tolist()
    assert ids[:5] == ["3-2-301", "3-2-301-2", "3-2-301-3", "3-2-301-4", "3-2-301-5"]
    assert ids[5:] == ["3-2-301A", "3-2-301A-2", "3-2-301B"]  # a letter is another flat
    note = next(n for n in households.attrs["notes"] if n.code == "address_repeated")
    assert "3-2-301（数据行 1、2、3、4、5）" in note.message("zh")


def test_a_room_saying_another_floor_is_kept_apart_and_noted_by_row(tmp_path):
    households = _households_xlsx(tmp_path / "住户.xlsx", {
        "户主姓名": ["张三", "李四", "王五", "赵六", "钱七"], "楼栋编号": ["3栋"] * 5,
        "单元": ["1", "1", "1", "2", "1"], "楼层": ["3", "4", "十二", "3", "2"],
        "房号": ["301", "301", "1201", "1-301", "12"],
    })  # fmt: skip
    assert households["household_id"].tolist() == ["3-1-301", "3-1-4-301", "3-1-1201",
                                                   "3-2-3-1-301", "3-1-2-12"]  # fmt: skip
    assert address_conflicts(households) == {"floor": [2], "room_cell": [4]}
    notes = [n for n in households.attrs["notes"] if n.code == "address_conflict"]
    assert [n.message("zh") for n in notes] == [
        n.message("zh") for n in address_notes(households, "住户.xlsx")
    ]  # read_layer notes what address_notes finds
    zh = [n.message("zh") for n in notes]
    assert zh[0] == (
        "住户.xlsx：数据行 2 房号所示的楼层与楼层列不同（如楼层 4、房号 301）；未作猜测："
        "户号按所填两者生成（如 3-1-4-301），与只按房号生成的住户不同。请核对这些行"
    )
    assert zh[1].startswith("住户.xlsx：数据行 4 房号中写的单元或楼层与单元、楼层列不同")
    en = " ".join(n.message("en") for n in notes)
    assert "data row(s) 2 the room number says another floor" in en
    assert not any(name in " ".join(zh) + en for name in ["张三", "李四", "王五", "赵六", "钱七"])


def test_the_same_rows_in_a_persons_roster_are_noted_too(tmp_path):
    persons = _persons_csv(tmp_path / "人口.csv", {
        "姓名": ["甲", "乙", "丙"], "楼栋编号": ["3栋"] * 3, "单元": ["1"] * 3,
        "楼层": ["3", "5", "地下一层"], "房号": ["301", "301", "101"],
    })  # fmt: skip
    assert persons["household_id"].tolist() == ["3-1-301", "3-1-5-301", "3-1-B1-101"]
    assert address_conflicts(persons) == {"floor": [2, 3]}
    noted = [n.message("en") for n in persons.attrs["notes"] if n.code == "address_conflict"]
    assert len(noted) == 1 and "data row(s) 2, 3 the room number" in noted[0]


def test_where_persons_live_as_text_links_however_it_is_written():
    households = pd.DataFrame({
        "household_id": ["3-2-301", "3-2-302", "4-1-101"],
        "address": ["碧江区清水塘小区3栋2单元301室", "碧江区清水塘小区3栋2单元302室",
                    "碧江区清水塘小区4栋1单元101室"],
    })  # fmt: skip
    written = ["碧江区清水塘小区３栋２单元３０１室", "碧江区 清水塘小区 3号楼 2单元 301",
               "碧江区清水塘小区3#楼2单元301", "碧江区清水塘小区3#2单元301室",
               "碧江区清水塘小区三栋二单元301", "碧江区清水塘小区第3幢02单元301",
               "碧江区清水塘小区3-2-301", "碧江区清水塘小区3-2-301室",
               "碧江区清水塘小区3栋-2单元-301",
               "碧江区清水塘小区3座2单元3层301", "碧江区清水塘小区3栋2单元三楼301室"]  # fmt: skip
    apart = ["3-2-301", "碧江区清水塘小区3栋2单元4层301", "碧江区清水塘小区3栋2单元31",
             "碧江区清水塘小区3-2-3-01", "碧江区清水塘小区3栋12单元301"]  # fmt: skip
    persons = pd.DataFrame({"name": [f"人员{i}" for i in range(len(written) + len(apart))],
                            "address": written + apart})  # fmt: skip
    out, issues = attach_persons(persons, households)
    linked = ["3-2-301"] * len(written) + [""] * len(apart)
    assert out["household_id"].fillna("").tolist() == linked
    assert [i.record_id for i in issues] == [f"row {len(written) + i + 1}" for i in range(5)]
    forms = dwelling_addresses(pd.Series(written))
    assert forms.nunique() == 1 and forms[0] == "碧江区清水塘小区3栋2单元301"
