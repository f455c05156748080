"""Household rosters without 户号: household ids made of the address (gridmap.io.addresses).

The rosters are the Bijiang sample's (``tests/office_files.rosters_without_household_ids``): a
household XLSX and a persons GBK CSV that say where each lives (楼栋编号, 单元, 楼层, 房号) but
carry no household number.
"""

from __future__ import annotations

import pandas as pd
import pytest

import geodata
from gridmap.attach.chain import attach_all
from gridmap.errors import InputError
from gridmap.io.layers import read_layer
from tests.office_files import rosters_without_household_ids

_ROWS = 120  # sample households: 7 of them (data rows 8, 19, 25 …) have no 楼栋编号


@pytest.fixture(scope="module")
def rosters(tmp_path_factory):
    return rosters_without_household_ids(tmp_path_factory.mktemp("rosters"), rows=_ROWS)


def _notes(frame, code, lang="zh"):
    return [n.message(lang) for n in frame.attrs["notes"] if n.code == code]


def test_household_ids_are_made_of_building_unit_and_room(rosters):
    households = read_layer(rosters[0], "household")
    sample = pd.read_csv(geodata.get_path("households.csv"), dtype=str, encoding="utf-8-sig")
    sample = sample.head(_ROWS)
    has_building = sample["楼栋编号"].notna().to_numpy()
    expected = sample["楼栋编号"] + "-" + sample["单元"] + "-" + sample["房号"]
    assert households["household_id"].tolist()[:3] == ["B00001-1-101", "B00001-1-102",
                                                        "B00001-1-201"]  # fmt: skip
    assert households["household_id"][has_building].tolist() == expected[has_building].tolist()
    assert households["household_id"][~has_building].isna().all()
    assert households["household_id"].dropna().is_unique
    assert list(households.columns)[0] == "household_id"
    n, without = int(has_building.sum()), int((~has_building).sum())
    assert _notes(households, "address_ids") == [
        f"住户_无户号.xlsx：{n} 户没有户号，已按 楼栋编号 + 单元 + 楼层 + 房号 生成（如 "
        f"B00001-1-101；房号已含楼层时不加楼层）；{without} 个数据行没有楼栋编号，但有地址或坐标："
        "导入时据此找到所在楼栋后再生成"
    ]  # every household without 楼栋编号 in the sample has an address or coordinates
    assert _notes(households, "address_ids", "en")[0].startswith(
        f"住户_无户号.xlsx: {n} household id(s) made from 楼栋编号 + 单元 + 楼层 + 房号"
    )


def test_ids_are_stable_across_re_reads_and_row_order(rosters, tmp_path):
    first = read_layer(rosters[0], "household")
    assert read_layer(rosters[0], "household")["household_id"].equals(first["household_id"])
    table = pd.read_excel(rosters[0], dtype=str)
    shuffled = tmp_path / "住户.csv"
    table.sample(frac=1, random_state=7).to_csv(shuffled, index=False, encoding="gbk")
    again = read_layer(shuffled, "household")
    key = ["building_id", "unit", "room"]
    merged = first.dropna(subset="household_id").merge(again, on=key, suffixes=("", "_again"))
    assert len(merged) == first["household_id"].notna().sum()
    assert merged["household_id"].equals(merged["household_id_again"])


def test_blank_cells_repeated_addresses_and_rooms_without_the_floor(tmp_path):
    path = tmp_path / "住户.csv"
    path.write_text(
        "户号,楼号,单元号,所在楼层,门牌号\n"
        "H1,B9,1,3,301\n"  # given: kept
        ",B9,1单元,3,302室\n"  # blank 户号: made; 单元 and 室 dropped
        ",B9,1,03,302\n"  # the same address again: -2
        ",B9,２,3,1\n"  # the room does not carry the floor: B9-2-3-1 (full-width 2)
        ",B9,2,12,12\n"  # nor here: B9-2-12-12
        ",,1,1,101\n"  # no building: no id
        ",B9,2,4,\n",  # no room: no id
        encoding="utf-8",
    )
    out = read_layer(path, "household")
    made = ["H1", "B9-1-302", "B9-1-302-2", "B9-2-3-1", "B9-2-12-12", "", ""]
    assert out["household_id"].fillna("").tolist() == made
    assert _notes(out, "address_repeated", "en") == [
        "住户.csv: 1 address(es) hold more than one household: B9-1-302 (data rows 2, 3); the "
        "later ones are numbered -2, -3 … in file order (B9-1-302-2). Check that no household "
        "was entered twice"
    ]
    assert "楼号 + 单元号 + 所在楼层 + 门牌号" in _notes(out, "address_ids")[0]


def test_a_roster_without_household_id_or_room_is_refused_naming_what_is_missing(tmp_path):
    path = tmp_path / "住户.csv"
    path.write_text("楼栋编号,单元,人数\nB1,1,3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_layer(path, "household")
    assert "no household_id column" in str(info.value) and "no room column" in str(info.value)
    assert "缺少“房号”列" in info.value.message("zh")
    assert "现住址" not in info.value.message("zh")  # a household is not found by where it lives


def test_a_persons_roster_naming_no_household_is_told_every_way_to_name_one(tmp_path):
    path = tmp_path / "人口.csv"
    path.write_text("姓名,联系电话,单元\n张三,13800138000,1\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_layer(path, "person")
    zh, en = info.value.message("zh"), info.value.message("en")
    assert "缺少“楼栋编号”和“房号”列；或者给出每人的居住地址（现住址）" in zh
    assert "or where each person lives, as text (现住址)" in en
    assert "13800138000" not in zh + en and "张三" not in zh + en


def test_persons_without_household_id_attach_to_the_households_of_their_address(rosters):
    households = read_layer(rosters[0], "household")
    persons = read_layer(rosters[1], "person")
    assert _notes(persons, "address_ids")[0].startswith("人口_无户号.csv：")
    housed = persons["household_id"].notna()
    assert set(persons.loc[housed, "household_id"]) == set(households["household_id"].dropna())
    assert persons["person_id"].iloc[0] == "B00001-1-101-1"
    dropped = households["household_id"].dropna().iloc[0]  # B00001-1-101 is not in the roster
    result = attach_all(households=households[households["household_id"] != dropped],
                        persons=persons)  # fmt: skip
    attached = result.persons["household_id"].notna()
    of_dropped = int((persons["household_id"] == dropped).sum())
    assert int(attached.sum()) == int(housed.sum()) - of_dropped
    issues = result.report.to_frame()
    unknown = issues[issues["reason"] == "unknown household"]
    assert unknown["record_id"].tolist() == [f"{dropped}-1"]  # the person, by its id
    missing = issues[(issues["entity"] == "person") & (issues["reason"] == "missing id")]
    assert len(missing) == int((~housed).sum())
    line = next(i for i in result.report if i.entity == "person" and i.reason == "missing id")
    assert line.record_id.startswith("row ")
    assert line.message("zh") == ("没有户号，按现住址或坐标也找不到所在住户（现住址与任何住户的"
                                  "地址都不相同）；记录已跳过")  # fmt: skip
    text = issues.to_csv()
    for column in ("name", "id_number", "phone"):
        assert not any(str(v) in text for v in persons[column].dropna())


def test_the_whole_sample_keeps_the_ids_it_had(tmp_path):
    """The reading of address parts as offices write them (3栋, 二单元, 负一层 …) leaves the
    ids of the sample unchanged: ``<楼栋编号>-<单元>-<房号>`` for each of its 6,274 households
    with a 楼栋编号 (every room carries its floor), and the same id for each person's."""
    households_path, persons_path = rosters_without_household_ids(tmp_path)
    households = read_layer(households_path, "household")
    sample = pd.read_csv(geodata.get_path("households.csv"), dtype=str, encoding="utf-8-sig")
    has_building = sample["楼栋编号"].notna()
    expected = (sample["楼栋编号"] + "-" + sample["单元"] + "-" + sample["房号"])[has_building]
    assert int(households["household_id"].notna().sum()) == int(has_building.sum()) == 6274
    assert households["household_id"][has_building].tolist() == expected.tolist()
    assert not [n for n in households.attrs["notes"] if n.code == "address_repeated"]
    persons = read_layer(persons_path, "person")
    sample_persons = pd.read_csv(geodata.get_path("persons.csv"), dtype=str, encoding="utf-8-sig")
    ids = dict(zip(sample.loc[has_building, "户号"], expected, strict=True))
    assert persons["household_id"].fillna("").tolist() == (
        sample_persons["户号"].map(ids).fillna("").tolist())  # fmt: skip
