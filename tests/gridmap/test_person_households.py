"""Persons rosters without 户号 or 楼栋编号: each person is linked to the household whose address
is the same (现住址, written alike: :func:`gridmap.io.addresses.dwelling_addresses`), else to
``<building found by location>-<unit>-<room>`` (:func:`gridmap.attach.chain.attach_persons`);
persons found by neither are report lines saying what was tried, never a guess. Units and floors
in Chinese numerals (一单元, 十二层) are read as numbers.

The Bijiang sample's rosters (``tests/office_files.rosters_without_household_ids``): 375 of its
6,649 households have no 楼栋编号 (184 an address, 191 coordinates only); their 858 persons could
not link before.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point

import geodata
from gridmap.attach.chain import attach_all, attach_persons
from gridmap.io.addresses import address_keys, chinese_number, dwelling_addresses, person_ids
from gridmap.io.layers import read_layer
from tests.office_files import persons_roster, rosters_without_household_ids


@pytest.fixture(scope="module")
def sample():
    households = pd.read_csv(geodata.get_path("households.csv"), dtype=str, encoding="utf-8-sig")
    persons = pd.read_csv(geodata.get_path("persons.csv"), dtype=str, encoding="utf-8-sig")
    return households, persons


@pytest.fixture(scope="module", params=[True, False], ids=["楼栋编号", "现住址"])
def attached(request, tmp_path_factory):
    households, persons = rosters_without_household_ids(
        tmp_path_factory.mktemp("rosters"), persons_building=request.param
    )
    read = read_layer(persons, "person")
    buildings = geodata.load_sample()["buildings"].to_crs(4326)
    result = attach_all(buildings=buildings, households=read_layer(households, "household"),
                        persons=read)  # fmt: skip
    return request.param, read, result


def test_every_person_of_the_sample_links_to_its_own_household(attached, sample):
    persons_building, read, result = attached
    households, persons = sample
    assert len(read) == len(persons) == 15220
    out = result.persons
    assert len(out) == len(read) and out["household_id"].notna().all()  # none skipped
    assert out["person_id"].is_unique
    assert not [i for i in result.report if i.entity == "person"]
    # the household of each sample person (户号) is the one it was linked to
    ids = dict(zip(households.index, result.households.sort_index()["household_id"], strict=True))
    truth = persons["户号"].map(dict(zip(households["户号"], households.index, strict=True)))
    assert out["household_id"].tolist() == truth.map(ids).tolist()
    # by which route: key where the roster names the building, else address, else location
    where = persons["户号"].map(households.set_index("户号")["地址"].notna())
    building = persons["户号"].map(households.set_index("户号")["楼栋编号"].notna())
    key = building if persons_building else pd.Series(False, index=persons.index)
    expected = pd.Series("location", index=persons.index).mask(where, "address").mask(key, "key")
    assert out["attached_by"].tolist() == expected.tolist()
    routes = out["attached_by"].value_counts().to_dict()
    if persons_building:
        assert routes == {"key": 14362, "address": 406, "location": 452}  # 858 linked now
    else:
        assert routes == {"address": 14768, "location": 452}


def test_the_read_says_how_the_persons_will_be_found(attached, tmp_path):
    persons_building, read, _ = attached
    notes = {n.code: n for n in read.attrs["notes"]}
    assert isinstance(read, gpd.GeoDataFrame)  # 经度/纬度: the points, for linking only
    if persons_building:
        assert "858 个数据行没有楼栋编号，但有现住址或坐标：导入时据此找到所在住户后再关联" in (
            notes["address_ids"].message("zh"))  # fmt: skip
    else:
        assert notes["households_found"].message("zh") == (
            "人口_无户号.csv：15220 名人员没有户号和楼栋编号：导入时按现住址（与住户地址相同）或"
            "坐标（所在楼栋 + 单元 + 房号）找到所在住户后关联")  # fmt: skip
    plain = read_layer(persons_roster(tmp_path, rows=5), "person")  # no coordinates
    assert not isinstance(plain, gpd.GeoDataFrame) and "geometry" not in plain.columns


@pytest.mark.parametrize("header", ["现住址", "居住地址", "现居住地址", "实际居住地址", "地址"])
def test_a_persons_roster_says_where_its_persons_live_under_any_of_these_headers(tmp_path, header):
    roster = tmp_path / "人口.csv"
    pd.DataFrame({header: ["清水塘小区1栋一单元301室"], "户籍地址": ["贵州省铜仁市某村"],
                  "姓名": ["甲"]}).to_csv(roster, index=False, encoding="gbk")  # fmt: skip
    read = read_layer(roster, "person")  # no 户号 or 楼栋编号: found by the address at import
    assert read["address"].tolist() == ["清水塘小区1栋一单元301室"]  # not the registered one
    households = pd.DataFrame({"household_id": ["B1-1-301"], "address": ["清水塘小区1栋1单元301"]})
    out, issues = attach_persons(read, households)
    assert out["household_id"].tolist() == ["B1-1-301"] and not issues


def test_linked_persons_are_numbered_in_their_household(attached):
    _, _, result = attached
    out = result.persons
    n = out.groupby("household_id", sort=False).cumcount() + 1
    assert (out["person_id"] == out["household_id"] + "-" + n.astype(str)).all()


def _households() -> pd.DataFrame:
    return pd.DataFrame({
        "household_id": ["B1-1-301", "B1-1-302", "B1-1-302-2", "B2-1-101"],
        "address": ["清水塘小区1栋1单元301室", "清水塘小区1栋1单元302室",
                    "清水塘小区1栋1单元302室", None],
    })  # fmt: skip


def _buildings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"building_id": ["B1", "B2"]},
                            geometry=[Point(109.19, 27.72).buffer(0.0001),
                                      Point(109.20, 27.72).buffer(0.0001)], crs=4326)  # fmt: skip


def test_only_the_same_address_links_and_what_was_tried_is_reported():
    persons = gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙", "丁", "戊", "己", "庚"],
         "address": ["清水塘小区１栋 一单元 301", "清水塘小区1栋1单元302室", "清水塘小区1栋1单元31",
                     None, None, None, None],
         "unit": [None, None, None, "一单元", "1", "1", "1"],
         "room": [None, None, None, "101", "102", "101", "302"]},
        geometry=[None, None, None, Point(109.20, 27.72), Point(109.20, 27.72),
                  Point(109.30, 27.72), Point(109.19, 27.72)], crs=4326,
    )  # fmt: skip
    out, issues = attach_persons(persons, _households(), buildings=_buildings())
    assert out["household_id"].fillna("").tolist() == ["B1-1-301", "", "", "B2-1-101", "", "", ""]
    assert out["attached_by"].fillna("").tolist() == ["address", "", "", "location", "", "", ""]
    assert out["person_id"].fillna("").tolist()[:4] == ["B1-1-301-1", "", "", "B2-1-101-1"]
    said = {i.record_id: i.message("zh") for i in issues}
    assert [i.reason for i in issues] == ["missing id"] * 5 and set(said) == {
        "row 2", "row 3", "row 5", "row 6", "row 7"}  # fmt: skip
    assert "现住址与多户的地址相同" in said["row 2"]  # two households at 302: not guessed
    assert "现住址与任何住户的地址都不相同" in said["row 3"]  # 31 is not 301: no near match
    assert "没有住户 B2-1-102（坐标所在楼栋 + 单元 + 房号）" in said["row 5"]
    assert "30 米内也没有楼栋" in said["row 6"]
    assert "B1-1-302 有多户" in issues[-1].message("zh")
    assert "found by its address or coordinates" in issues[0].message("en")
    text = " ".join(i.message(lang) for i in issues for lang in ("zh", "en"))
    assert not any(name in text for name in persons["name"])  # no personal data


def test_a_person_with_an_id_but_no_household_found_is_kept_unattached():
    persons = pd.DataFrame({"person_id": ["P1"], "household_id": [None],
                            "address": ["清水塘小区1栋1单元303室"]})  # fmt: skip
    out, issues = attach_persons(persons, _households())
    assert out["person_id"].tolist() == ["P1"] and out["household_id"].isna().all()
    assert [(i.record_id, i.reason) for i in issues] == [("P1", "no household")]
    assert issues[0].message("zh") == (
        "户号为空，也找不到所在住户（现住址与任何住户的地址都不相同）；人员未关联到住户"
    )


def test_person_ids_are_numbered_past_those_taken():
    households = pd.Series(["H1", "H1", "H2", None])
    assert person_ids(households).fillna("").tolist() == ["H1-1", "H1-2", "H2-1", ""]
    taken = ["H1-1", "H1-3", "H2", "X-9"]
    assert person_ids(households, taken).fillna("").tolist() == ["H1-4", "H1-5", "H2-1", ""]


@pytest.mark.parametrize(
    ("typed", "number"),
    [("一", "1"), ("二", "2"), ("两", "2"), ("十", "10"), ("十二", "12"), ("二十", "20"),
     ("二十三", "23"), ("一百零二", "102"), ("一二", "12"), ("〇三", "03"), ("1", "1"),
     ("B1", "B1"), ("十十", "十十"), ("一万", "一万"), ("", "")],
)  # fmt: skip
def test_chinese_numbers(typed, number):
    assert chinese_number(typed) == number


def test_units_and_floors_in_chinese_numerals_make_the_same_id():
    rows = pd.DataFrame({
        "building_id": ["B1"] * 6,
        "unit": ["一单元", "第二单元", "十单元", "1", "２单元", "一"],
        "floor": ["十二层", "3", "第一层", "十二", "一楼", "二"],
        "room": ["1", "301", "101", "1201", "01", "二〇一"],
    })  # fmt: skip
    assert address_keys(rows).tolist() == ["B1-1-12-1", "B1-2-301", "B1-10-101", "B1-1-1201",
                                           "B1-2-1-01", "B1-1-201"]  # fmt: skip


def test_dwelling_addresses_are_written_alike_but_never_guessed():
    same = [
        "铜仁市碧江区清水塘小区1栋1单元402室",
        "铜仁市 碧江区 清水塘小区１栋一单元４０２",
        "铜仁市碧江区清水塘小区1幢第一单元402号",
        "铜仁市碧江区,清水塘小区1号楼1单元402户",
    ]
    other = ["铜仁市碧江区清水塘小区1栋1单元42室", "铜仁市碧江区清水塘小区1栋1单元4-02",
             "铜仁市碧江区清水塘小区1栋11单元402", "碧江区清水塘小区1栋1单元402"]  # fmt: skip
    forms = dwelling_addresses(pd.Series(same + other))
    assert forms[: len(same)].nunique() == 1
    assert forms[0] == "铜仁市碧江区清水塘小区1栋1单元402"
    assert not forms[len(same) :].isin({forms[0]}).any() and forms[len(same) :].is_unique
    assert forms[:3].tolist() != dwelling_addresses(pd.Series(["十二层"])).tolist()
    floors = ["某小区3栋二单元十二层1203室", "某小区3栋二单元十层1203室"]  # 1203 is on floor 12
    assert dwelling_addresses(pd.Series(floors)).tolist() == ["某小区3栋2单元1203",
                                                              "某小区3栋2单元10层1203"]  # fmt: skip
