"""Households without 户号 and without 楼栋编号 but with an address or coordinates: the attach
chain finds their building (by address, else by location) and makes their id of it with the
rule of :mod:`gridmap.io.addresses` (``<building>-<unit>-<room>``), so they are kept instead of
skipped; a persons roster naming that building links to them. The Bijiang sample's household
roster without 户号 (``tests/office_files.rosters_without_household_ids``): 375 of its 6,649
households have no 楼栋编号 (184 an address, 191 coordinates)."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

import geodata
from gridmap.attach.chain import attach_all
from gridmap.io.addresses import address_keys, waits_for_building
from gridmap.io.layers import read_layer
from tests.office_files import rosters_without_household_ids


@pytest.fixture(scope="module")
def read(tmp_path_factory):
    households, persons = rosters_without_household_ids(tmp_path_factory.mktemp("rosters"))
    buildings = geodata.load_sample()["buildings"].to_crs(4326)
    return read_layer(households, "household"), read_layer(persons, "person"), buildings


@pytest.fixture(scope="module")
def attached(read):
    households, _, buildings = read
    return attach_all(buildings=buildings, households=households)


def test_households_without_building_get_the_id_of_the_building_they_are_found_in(read, attached):
    households, _, buildings = read
    waiting = waits_for_building(households)
    assert int(waiting.sum()) == 375 and households["household_id"].isna().sum() == 375
    out = attached.households
    assert len(out) == len(households) and out["household_id"].is_unique  # none skipped
    placed = out.loc[waiting[waiting].index]
    assert placed["attached_by"].value_counts().to_dict() == {"address": 184, "location": 191}
    assert (placed["household_id"] == address_keys(placed)).all()  # building found + unit + room
    assert all(
        i.startswith(f"{b}-")
        for i, b in zip(placed["household_id"], placed["building_id"], strict=True)
    )
    kept = out.drop(placed.index)
    assert kept["household_id"].equals(households.loc[kept.index, "household_id"])
    assert not [i for i in attached.report if i.entity == "household" and i.reason == "missing id"]
    within = buildings.set_index("building_id").geometry
    located = placed[placed["attached_by"] == "location"]
    assert all(within[b].contains(p) for b, p in zip(located["building_id"], located.geometry,
                                                     strict=True))  # fmt: skip


def test_the_ids_are_the_same_on_every_run(read, attached):
    households, _, buildings = read
    again = attach_all(buildings=buildings, households=households.iloc[::-1])
    ids = again.households.set_index("household_id")["building_id"]
    first = attached.households.set_index("household_id")["building_id"]
    assert ids.sort_index().equals(first.sort_index())


def test_persons_naming_the_building_link_to_the_households_found_there(read, attached, tmp_path):
    households, _, buildings = read
    waiting = waits_for_building(households)
    placed = attached.households.loc[waiting[waiting].index]
    roster = pd.DataFrame({"楼栋编号": placed["building_id"], "单元": placed["unit"],
                           "楼层": placed["floor"], "房号": placed["room"],
                           "姓名": "某某"})  # fmt: skip
    path = tmp_path / "人口.csv"
    roster.to_csv(path, index=False, encoding="gbk")
    persons = read_layer(path, "person")
    result = attach_all(buildings=buildings, households=households, persons=persons)
    assert result.persons["household_id"].tolist() == placed["household_id"].tolist()
    assert not [i for i in result.report if i.entity == "person"]


def test_a_household_found_nowhere_is_skipped_saying_what_was_tried(read):
    households, _, buildings = read
    waiting = households.index[waits_for_building(households)]
    by_point = [i for i in waiting if households.geometry[i] is not None][0]
    by_address = [i for i in waiting if households.geometry[i] is None][0]
    moved = households.copy()
    moved.loc[by_point, "geometry"] = shapely.Point(109.5, 27.9)  # 30 km away
    moved.loc[by_address, "address"] = "铜仁市万山区某路9号"
    result = attach_all(buildings=buildings, households=moved)
    assert len(result.households) == len(households) - 2
    lines = {i.record_id: i for i in result.report if i.reason == "missing id"}
    assert set(lines) == {f"row {by_point + 1}", f"row {by_address + 1}"}
    assert lines[f"row {by_point + 1}"].message("zh") == (
        "没有户号，也无法按地址生成：楼栋编号为空，且找不到所在楼栋（没有楼栋包含其坐标，30 米内也"
        "没有楼栋）；记录已跳过")  # fmt: skip
    assert lines[f"row {by_address + 1}"].message("en") == (
        "no household_id, and none can be made of the address: building_id empty and no "
        "building found (its address matches no building); record skipped")  # fmt: skip


def test_an_address_found_again_is_numbered_past_the_ids_taken(read):
    households, _, buildings = read
    keyed = households.dropna(subset="household_id").iloc[:2]
    twin = keyed.iloc[[0]].assign(household_id=None, building_id=None,
                                  geometry=keyed.geometry.iloc[[0]])  # fmt: skip
    twin.loc[:, "geometry"] = buildings.set_index("building_id").geometry[
        keyed["building_id"].iloc[0]].representative_point()  # fmt: skip
    frame = pd.concat([keyed, twin], ignore_index=True).set_geometry("geometry")
    out = attach_all(buildings=buildings, households=frame).households
    first = keyed["household_id"].iloc[0]
    assert out["household_id"].tolist() == [*keyed["household_id"], f"{first}-2"]
