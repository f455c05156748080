"""The attach chain on a toy community near Tongren with planted faults.

Layout in metres (CGCS2000 GK zone CM 108°E, EPSG:4545), origin at (X0, Y0)::

    y=200 +-------------------+-------------------+
          |  G001             |  G002             |     B04 (outside, x 420-440)
          |  B01 [20-60]      |   B02 [180-240] straddles, 2/3 in G002
          |  B03 . (100,100)  |                   |
    y=0   +-------------------+-------------------+
         x=0                 200                 400
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point, Polygon, box

from gridmap.attach.chain import (
    AttachResult,
    attach_all,
    attach_buildings,
    attach_households,
    attach_persons,
    normalise_address,
)
from gridmap.crs import STORAGE_CRS

GK = "EPSG:4545"
X0, Y0 = 500_000.0, 3_067_000.0
VALID_ID = "11010519491231002X"
PHONE = "13800001234"


def _gdf(rows: list[dict], crs: str = GK) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    return frame.to_crs(STORAGE_CRS)


def _at(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def _box(x1: float, y1: float, x2: float, y2: float):
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


COMMUNITY = "520602001001"
G1, G2, G3 = (f"{COMMUNITY}00{i}" for i in (1, 2, 3))


def _building(bid: str, address: str, households: int | None, geometry) -> dict:
    return {"building_id": bid, "address": address, "households": households, "geometry": geometry}


def _household(hid: str, bid: str | None = None, address: str | None = None, geometry=None):
    return {"household_id": hid, "building_id": bid, "address": address, "geometry": geometry}


def _person(pid: str, hid: str | None, id_number: str | None = None, phone: str | None = None):
    return {"person_id": pid, "household_id": hid, "id_number": id_number, "phone": phone}


@pytest.fixture
def world() -> dict[str, pd.DataFrame]:
    communities = _gdf([{"community_code": COMMUNITY, "name": "清水塘社区",
                         "geometry": _box(0, 0, 400, 200)}])  # fmt: skip
    grids = _gdf([
        {"grid_code": G1, "community_code": COMMUNITY, "geometry": _box(0, 0, 200, 200)},
        {"grid_code": G2, "community_code": COMMUNITY, "geometry": _box(200, 0, 400, 200)},
        {"grid_code": G3, "community_code": "999999999999", "geometry": _box(0, 300, 10, 310)},
    ])  # fmt: skip
    buildings = _gdf([
        _building("B01", "清水塘路1号", None, _box(20, 20, 60, 60)),
        _building("B02", "清水塘路12号", 40, _box(180, 20, 240, 60)),
        _building("B03", "清水塘路3号", 10, _at(100, 100)),
        _building("B04", "同名路5号", 5, _box(420, 20, 440, 60)),
        _building("B05", "同名路5号", 7, None),
    ])  # fmt: skip
    households = _gdf([
        _household("H1", "B01"),
        _household("H2", "B99"),
        _household("H3", address="清水塘路 １２号"),
        _household("H4", address="清水塘路3号2单元502"),
        _household("H5", geometry=_at(30, 30)),
        _household("H6", geometry=_at(40, 80)),
        _household("H7", geometry=_at(40, 160)),
        _household("H8"),
        _household("H9", address="同名路5号"),
        _household("H10", address="清水塘路1号"),
    ])  # fmt: skip
    persons = pd.DataFrame([
        _person("P1", "H1", VALID_ID, PHONE),
        _person("P2", "H1", "110105194912310021", "12345"),
        _person("P3", "H5", "520602199001010015"),
        _person("P4", "H404", "520602199001010031"),
        _person("P5", None, "520602199001010058"),
        _person("P6", "H4", "520602199001010074"),
    ], dtype="str")  # fmt: skip
    return {"communities": communities, "grids": grids, "buildings": buildings,
            "households": households, "persons": persons}  # fmt: skip


EXPECTED_REPORT = {
    ("person", "P2", "invalid ID number check digit"),
    ("person", "P2", "invalid phone format"),
    ("grid", G3, "unknown community"),
    ("person", "P4", "unknown household"),
    ("person", "P5", "no household key"),
    ("household", "H2", "unknown building"),
    ("household", "H6", "coordinates outside building"),  # attached to B01, 20 m off
    ("household", "H7", "no building"),
    ("household", "H8", "no building"),
    ("household", "H9", "no building"),
    ("building", "B04", "outside grids"),
    ("building", "B05", "no geometry"),
    ("building", "B04", "outside communities"),
    # Given counts differ from the household records attached (toy rosters are partial).
    ("building", "B02", "household count mismatch"),
    ("building", "B03", "household count mismatch"),
    ("building", "B04", "household count mismatch"),
    ("building", "B05", "household count mismatch"),
}


@pytest.fixture
def result(world) -> AttachResult:
    return attach_all(**world)


def test_report_lists_exactly_the_planted_faults(result):
    rows = {(i.entity, i.record_id, i.reason) for i in result.report}
    assert rows == EXPECTED_REPORT
    assert len(result.report) == len(EXPECTED_REPORT)


def test_households_attach_by_key_address_location_and_nearest(result):
    hh = result.households.set_index("household_id")
    expected = {
        "H1": ("B01", "key"),
        "H3": ("B02", "address"),  # full-width digits and a space normalised
        "H4": ("B03", "address"),  # building address is a prefix of the household's
        "H5": ("B01", "location"),  # inside the footprint
        "H6": ("B01", "nearest"),  # 20 m north of B01
        "H10": ("B01", "address"),  # "清水塘路1号" must not match "清水塘路12号"
    }
    for hid, (bid, how) in expected.items():
        assert (hh.loc[hid, "building_id"], hh.loc[hid, "attached_by"]) == (bid, how), hid
    for hid in ("H2", "H7", "H8", "H9"):
        assert pd.isna(hh.loc[hid, "building_id"]), hid
    assert len(result.households) == 10  # nothing dropped


def test_unattached_household_details_say_what_was_tried(result):
    detail = {i.record_id: i.detail for i in result.report.for_entity("household")}
    assert "several buildings" in detail["H9"]
    assert "30 m" in detail["H7"]
    assert "no building key, address or coordinates" in detail["H8"]
    assert "'B99'" in detail["H2"]


def test_buildings_go_to_the_grid_holding_most_of_the_footprint(result):
    grid_of = result.buildings.set_index("building_id")["grid_code"]
    assert grid_of["B01"] == G1
    assert grid_of["B02"] == G2  # 40 of 60 m in the second grid
    assert grid_of["B03"] == G1  # a point building
    assert pd.isna(grid_of["B04"]) and pd.isna(grid_of["B05"])
    assert (result.buildings.set_index("building_id")["community_code"]["B01"]) == COMMUNITY


def test_counts_roll_up_to_buildings_grids_and_communities(result):
    b = result.buildings.set_index("building_id")["households"]
    # B01 had no count: H1, H5, H6, H10 are attached to it. Given counts are kept.
    assert b.to_dict() == {"B01": 4, "B02": 40, "B03": 10, "B04": 5, "B05": 7}
    g = result.grids.set_index("grid_code")
    assert g.loc[G1, ["households", "buildings", "persons"]].tolist() == [14, 2, 4]
    assert g.loc[G2, ["households", "buildings", "persons"]].tolist() == [40, 1, 0]
    c = result.communities.set_index("community_code").loc[COMMUNITY]
    assert c[["grids", "buildings", "households", "persons"]].tolist() == [2, 3, 54, 4]


def test_bad_person_values_are_cleared_not_dropped(result):
    p = result.persons.set_index("person_id")
    assert len(p) == 6
    assert pd.isna(p.loc["P2", "id_number"]) and pd.isna(p.loc["P2", "phone"])
    assert p.loc["P1", "id_number"] == VALID_ID
    assert pd.isna(p.loc["P4", "household_id"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_files_hold_no_personal_values(result, tmp_path, lang):
    csv_text = result.report.to_csv(tmp_path / "r.csv", lang).read_text(encoding="utf-8-sig")
    rows = json.loads(result.report.to_json(tmp_path / "r.json", lang).read_text(encoding="utf-8"))
    assert len(rows) == len(EXPECTED_REPORT) == len(pd.read_csv(tmp_path / "r.csv"))
    assert list(rows[0]) == ["entity", "record_id", "reason", "problem", "detail"]
    assert {r["reason"] for r in rows} == {i.reason for i in result.report}  # codes kept
    for text in (csv_text, json.dumps(rows, ensure_ascii=False)):
        assert "110105194912310021" not in text and "12345" not in text
        assert "清水塘路" not in text  # addresses stay out too: ids only


@pytest.mark.parametrize(("distance", "attached"), [(29.0, True), (31.0, False)])
def test_nearest_building_tolerance(world, distance, attached):
    households = _gdf([{"household_id": "H1", "building_id": None,
                        "geometry": _at(60 + distance, 40)}])  # fmt: skip
    out, issues = attach_households(households, world["buildings"], tolerance_m=30)
    assert (out.loc[0, "building_id"] == "B01") is attached
    expected = "coordinates outside building" if attached else "no building"
    assert [i.reason for i in issues] == [expected]


def test_attach_households_needs_no_geometry(world):
    households = pd.DataFrame({"household_id": ["H1", "H2"], "building_id": ["B01", None]})
    buildings = pd.DataFrame({"building_id": ["B01"], "address": ["x"]})
    out, issues = attach_households(households, buildings)
    assert out["building_id"].tolist()[0] == "B01"
    assert [(i.record_id, i.reason) for i in issues] == [("H2", "no building")]


def test_attach_persons_alone():
    persons = pd.DataFrame({"person_id": ["P1", "P2"], "household_id": ["H1", None]}, dtype="str")
    out, issues = attach_persons(persons, pd.DataFrame({"household_id": ["H1"]}))
    assert out["household_id"].tolist()[0] == "H1"
    assert [(i.record_id, i.reason) for i in issues] == [("P2", "no household key")]


def test_attach_buildings_refuses_mixed_crs(world):
    from gridmap.errors import CRSError

    with pytest.raises(CRSError, match="different CRSs"):
        attach_buildings(world["buildings"].to_crs(GK), world["grids"])


def test_duplicate_building_ids_refuse_the_whole_import(world):
    from gridmap.errors import DuplicateIdError

    changed = world["buildings"].iloc[[0]].assign(address="另一个地址")
    buildings = pd.concat([world["buildings"], changed])
    with pytest.raises(DuplicateIdError, match="'B01' ×2"):
        attach_all(buildings=buildings, grids=world["grids"])


def test_exact_copies_are_dropped_and_reported(world):
    buildings = pd.concat([world["buildings"], world["buildings"].iloc[[0]]], ignore_index=True)
    result = attach_all(buildings=buildings, grids=world["grids"])
    assert result.buildings["building_id"].tolist() == ["B01", "B02", "B03", "B04", "B05"]
    copies = [i for i in result.report if i.reason == "duplicate record"]
    assert [(i.record_id, i.detail) for i in copies] == [
        ("B01", "identical copy of data row 1 at data row 6; copy dropped")
    ]


def test_normalise_address():
    assert normalise_address("清水塘路１２号３号楼") == normalise_address("清水塘路12号 3幢")


def test_buildings_and_grids_only(world):
    buildings = world["buildings"].drop(columns=["households", "address"])
    result = attach_all(buildings=buildings, grids=world["grids"])
    assert result.households is None and result.persons is None
    assert result.buildings["households"].isna().all()  # unknown, not invented
    grids = result.grids.set_index("grid_code")
    assert grids["buildings"].to_dict() == {G1: 2, G2: 1, G3: 0}
    assert grids["households"].to_dict() == {G1: 0, G2: 0, G3: 0}
    assert {(i.record_id, i.reason) for i in result.report} == {
        ("B04", "outside grids"),
        ("B05", "no geometry"),
    }


def test_a_building_with_an_unusable_footprint_is_left_out_and_its_households_reported(world):
    x, y = X0 + 20, Y0 + 20
    bow_tie = gpd.GeoSeries([Polygon([(x, y), (x + 40, y + 40), (x + 40, y), (x, y + 40)])],
                            crs=GK).to_crs(STORAGE_CRS)  # fmt: skip
    world["buildings"].loc[0, "geometry"] = bow_tie.iloc[0]  # B01, holding H1 by key
    result = attach_all(**world)
    assert "B01" not in set(result.buildings["building_id"])
    rows = {(i.entity, i.record_id, i.reason) for i in result.report}
    assert ("building", "B01", "invalid geometry") in rows
    assert ("household", "H1", "building rejected") in rows
    assert ("household", "H1", "unknown building") not in rows
    assert result.households.set_index("household_id")["building_id"].isna()["H1"]


def test_household_on_a_street_is_attached_to_the_nearest_footprint_and_reported(world):
    result = attach_all(buildings=world["buildings"], households=world["households"])
    line = next(i for i in result.report if i.record_id == "H6")
    assert line.reason == "coordinates outside building"
    assert line.detail.endswith("attached to the nearest building B01 at 20 m")
    assert result.households.set_index("household_id").loc["H6", "building_id"] == "B01"
    # B01 gives no count, so nothing else is said; a household inside a footprint is silent.
    assert not [i for i in result.report if i.record_id in ("H5", "B01")]


def test_no_outside_grids_lines_for_a_community_without_grids(world):
    buildings = world["buildings"].assign(community_code=COMMUNITY)
    buildings.loc[buildings["building_id"] == "B04", "community_code"] = "520602001009"
    result = attach_all(buildings=buildings, grids=world["grids"])
    assert not [i for i in result.report if i.reason == "outside grids"]
    buildings["community_code"] = COMMUNITY  # B04 claims the gridded community: reported
    result = attach_all(buildings=buildings, grids=world["grids"])
    assert [i.record_id for i in result.report if i.reason == "outside grids"] == ["B04"]
