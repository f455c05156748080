"""``import --update`` keeps the stored links the import could not find by location.

Next month's 楼栋 table of a district office has no 社区代码 or 小区 column: the import finds
each building's community and compound by its point (经度/纬度). A row whose coordinates are
blank has no point to find them by; a row whose point lies far off its stored footprint (the
update keeps the footprint and reports the point) was found by the wrong place. Neither is a
link the file gave: the building keeps its stored community and compound. A 住户 roster
without 楼栋编号 likewise finds each household's building by its point; a blank point keeps
the stored building.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box
from sqlalchemy import select

from service.importer import import_files
from service.storage import models as m
from service.storage.session import make_engine, session_scope

NORTH, SOUTH = "520602001001", "520602001002"
SPOTS = {"B1": (109.001, 27.701), "B2": (109.004, 27.705), "B3": (109.008, 27.708)}
HALF = 1e-4  # half a footprint's side, degrees (about 10 m)
AWAY = (109.008, 27.695)  # B3's point in the update: in the southern community, ~1.4 km off
COMPOUND = "XQ01"  # 阳光小区: the three buildings stand in it


def _first_import(url: str, tmp_path: Path) -> None:
    """Two communities, a compound and three footprints without 社区代码 or 小区 (GeoJSON,
    Chinese headers): the import finds them by location; and a 住户 roster with 楼栋编号."""
    communities = tmp_path / "社区.geojson"
    gpd.GeoDataFrame({"社区代码": [NORTH, SOUTH], "社区名称": ["北社区", "南社区"]},
                     geometry=[box(109.0, 27.7, 109.01, 27.71), box(109.0, 27.69, 109.01, 27.7)],
                     crs=4326).to_file(communities, driver="GeoJSON")  # fmt: skip
    compounds = tmp_path / "小区.geojson"
    gpd.GeoDataFrame({"小区编号": [COMPOUND], "小区名称": ["阳光小区"], "社区代码": [NORTH]},
                     geometry=[box(109.0005, 27.7005, 109.0085, 27.7085)],
                     crs=4326).to_file(compounds, driver="GeoJSON")  # fmt: skip
    buildings = tmp_path / "楼栋.geojson"
    squares = [box(x - HALF, y - HALF, x + HALF, y + HALF) for x, y in SPOTS.values()]
    gpd.GeoDataFrame({"楼栋编号": list(SPOTS), "户数": [40, 60, 80]},
                     geometry=squares, crs=4326).to_file(buildings, driver="GeoJSON")  # fmt: skip
    households = tmp_path / "住户.csv"
    pd.DataFrame({"户号": ["H1", "H2"], "楼栋编号": ["B1", "B1"], "人口数": [3, 2]}).to_csv(
        households, index=False, encoding="gbk")  # fmt: skip
    import_files({"community": communities, "compound": compounds, "building": buildings,
                  "household": households}, url=url)  # fmt: skip


def _rows(url: str, *columns) -> dict[str, tuple]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            key = columns[0].class_.id
            return {r[0]: tuple(r[1:]) for r in session.execute(select(key, *columns))}
    finally:
        engine.dispose()


def _links(url: str) -> dict[str, tuple]:
    return _rows(url, m.Building.community_code, m.Building.compound_id, m.Building.households)


def test_first_import_found_the_links_by_location(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    assert _links(store_url) == {"B1": (NORTH, COMPOUND, 40), "B2": (NORTH, COMPOUND, 60),
                                 "B3": (NORTH, COMPOUND, 80)}  # fmt: skip


def test_a_roster_row_without_coordinates_keeps_its_community(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    roster = tmp_path / "楼栋_7月.csv"  # saved by Excel: GBK, blank cells for B2's and B3's point
    pd.DataFrame({"楼栋编号": ["B1", "B2", "B3", "B4"], "户数": [44, 61, 80, 12],
                  "经度": [SPOTS["B1"][0], None, None, None],
                  "纬度": [SPOTS["B1"][1], None, None, None]}).to_csv(
        roster, index=False, encoding="gbk")  # fmt: skip
    result = import_files({"building": roster}, url=store_url, update=True)
    links = _links(store_url)
    assert links["B1"] == (NORTH, COMPOUND, 44)
    assert links["B2"] == (NORTH, COMPOUND, 61)  # was cleared: no point, no links found
    assert links["B3"] == (NORTH, COMPOUND, 80)
    b = result.changes["building"]
    assert (b.added, b.updated, b.unchanged) == (1, 2, 1)  # B3 as it was
    # a new building without a point or a code is stored without a community and reported
    assert links["B4"] == (None, None, 12)
    lines = {(i.record_id, i.code) for i in result.report if i.entity == "building"}
    assert ("B4", "not_located") in lines


def test_a_point_far_off_its_footprint_does_not_move_the_building(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    roster = tmp_path / "楼栋_8月.csv"
    pd.DataFrame({"楼栋编号": ["B1", "B3"], "户数": [44, 81],
                  "经度": [SPOTS["B1"][0], AWAY[0]], "纬度": [SPOTS["B1"][1], AWAY[1]]}).to_csv(
        roster, index=False, encoding="gbk")  # fmt: skip
    result = import_files({"building": roster}, url=store_url, update=True)
    moved = [i.record_id for i in result.report if i.code == "point_outside_footprint"]
    assert moved == ["B3"]
    links = _links(store_url)
    assert links["B3"] == (NORTH, COMPOUND, 81)  # not the southern community its point is in
    assert links["B1"] == (NORTH, COMPOUND, 44)


def test_a_household_row_without_coordinates_keeps_its_building(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    roster = tmp_path / "住户_7月.csv"  # no 楼栋编号: found by the point, H2's is blank
    x, y = SPOTS["B3"]
    pd.DataFrame({"户号": ["H1", "H2"], "人口数": [3, 4], "经度": [x, None],
                  "纬度": [y, None]}).to_csv(roster, index=False, encoding="gbk")  # fmt: skip
    result = import_files({"household": roster}, url=store_url, update=True)
    assert _rows(store_url, m.Household.building_id, m.Household.size) == {
        "H1": ("B3", 3), "H2": ("B1", 4)}  # fmt: skip
    assert result.changes["household"].updated == 2


def test_a_person_row_without_coordinates_keeps_its_household(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    households = _gbk(tmp_path / "住户_房号.csv", {
        "户号": ["B1-1-301", "B2-1-502"], "楼栋编号": ["B1", "B2"], "单元": ["1", "1"],
        "房号": ["301", "502"]})  # fmt: skip
    persons = _gbk(tmp_path / "人口.csv", {
        "人员编号": ["P1", "P2"], "户号": ["B1-1-301", "B1-1-301"],
        "与户主关系": ["户主", "配偶"]})  # fmt: skip
    import_files({"household": households, "person": persons}, url=store_url, update=True)
    x, y = SPOTS["B2"]  # no 户号: found by the point, unit and room; P2's point is blank
    roster = _gbk(tmp_path / "人口_7月.csv", {
        "人员编号": ["P1", "P2"], "现住址": [None, None], "单元": ["1", "1"],
        "房号": ["502", "301"], "与户主关系": ["户主", "户主"], "经度": [x, None],
        "纬度": [y, None]})  # fmt: skip
    result = import_files({"person": roster}, url=store_url, update=True)
    assert _rows(store_url, m.Person.household_id, m.Person.relationship) == {
        "P1": ("B2-1-502", "户主"), "P2": ("B1-1-301", "户主")}  # fmt: skip
    assert result.changes["person"].updated == 2


def _gbk(path: Path, columns: dict[str, list]) -> Path:
    """A table as an office saves it from Excel: GBK CSV, Chinese headers, blank cells."""
    pd.DataFrame(columns).to_csv(path, index=False, encoding="gbk")
    return path
