"""``gridmap redistrict`` from grids drawn in 奥维 or Google Earth, without an assignment file.

The sample's current grids (``grids_existing``, 9 grids of 广场社区) written as an office exports
them: a KML of named polygons, no grid or community code, plus one grid drawn outside every
community. Without ``--assignments`` each building is in the grid holding its point; the codes
are made against ``--communities`` as ``gridmap import`` makes them. The result is the one of the
same grids given with those codes and the assignment by location written out.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import affinity
from typer.testing import CliRunner

import geodata
from gridmap import read_layer
from gridmap.attach.gridcodes import name_number
from gridmap.plans.currentplan import assign_by_location
from gridmap.plans.redistrict import redistrict
from service.cli import app

runner = CliRunner()
COMMUNITY = "520602002001"  # 广场社区
# The office's names of the sample's grids (by their sample code), numbered backwards: the
# codes made keep the name's number, not the sample's.
NAMES = {"001": "广场社区第九网格", "002": "8号网格", "003": "七网格", "004": "第6网格",
         "005": "第五网格", "006": "4号网格", "007": "广场社区第3网格", "008": "二网格",
         "009": "第 1 网格"}  # fmt: skip
OUTSIDE = "第10网格"  # drawn 20 km east of every community


def _sample() -> Path:
    return Path(geodata.get_path("bijiang.gpkg"))


def _kml(path: Path) -> Path:
    """The sample's grids as named polygons (heights of 0), as 奥维互动地图 exports them."""
    grids = gpd.read_file(_sample(), layer="grids_existing").to_crs(4326)
    names = [*grids["grid_code"].str[-3:].map(NAMES), OUTSIDE]
    geoms = [*grids.geometry, affinity.translate(grids.geometry.iloc[0], 0.2)]
    marks = "".join(
        f"<Placemark><name>{name}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x:.7f},{y:.7f},0" for x, y in geom.exterior.coords)
        + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        for name, geom in zip(names, geoms, strict=True)
    )
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/'
                    f'kml/2.2"><Document><name>网格</name>{marks}</Document></kml>',
                    encoding="utf-8")  # fmt: skip
    return path


def _coded_by_hand(kml: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The drawn grids with the codes their names give and the assignment by location (each
    building's representative point in a grid, by a spatial join): a plan and a CSV."""
    grids = read_layer(kml, "grid", required=())
    grids = grids[grids["name"] != OUTSIDE].copy()
    grids["grid_code"] = [f"{COMMUNITY}{name_number(n):03d}" for n in grids["name"]]
    grids["community_code"] = COMMUNITY
    plan = tmp_path / "coded.gpkg"
    grids.to_file(plan, driver="GPKG")
    buildings = read_layer(_sample(), "building", layer="buildings")
    points = buildings.set_geometry(buildings.representative_point())
    joined = gpd.sjoin(points, grids[["grid_code", "geometry"]], predicate="within")
    csv = tmp_path / "assignments.csv"
    joined[["building_id", "grid_code"]].to_csv(csv, index=False)
    return plan, csv


def _run(tmp_path: Path, name: str, plan: Path, *more: str, communities: bool = True):
    out, csv = tmp_path / f"{name}.geojson", tmp_path / f"{name}.csv"
    args = ["redistrict", "--plan", str(plan), "--buildings", str(_sample()), "--out", str(out),
            "--assignments-out", str(csv), "--jobs", "1", *more]  # fmt: skip
    if communities:
        args += ["--communities", str(_sample())]
    return runner.invoke(app, args), out, csv


def _summary(output: str, out: Path) -> str:
    said = " ".join(output.split())  # rich wraps long lines
    start = said.index("grids written to")
    return said[start : said.index(".", said.index("change grid", start))].replace(str(out), "")


def test_drawn_grids_without_assignments_give_the_plan_of_their_codes_and_points(tmp_path):
    kml = _kml(tmp_path / "网格.kml")
    drawn, out, csv = _run(tmp_path, "drawn", kml, "--lang", "en")
    assert drawn.exit_code == 0, drawn.output + repr(drawn.exception)
    plan, assignments = _coded_by_hand(kml, tmp_path)
    given, out_given, csv_given = _run(tmp_path, "given", plan, "--assignments",
                                       str(assignments), "--lang", "en")  # fmt: skip
    assert given.exit_code == 0, given.output + repr(given.exception)

    features = [json.loads(path.read_text())["features"] for path in (out, out_given)]
    assert features[0] == features[1]  # the same grids, codes and shapes
    assert csv.read_bytes() == csv_given.read_bytes()
    assert _summary(drawn.output, out) == _summary(given.output, out_given)
    said = " ".join(drawn.output.split())
    assert ("网格.kml: 9 grid(s) without a grid code got their community's code + a 3-digit "
            "number: 9 the number in their name") in said  # fmt: skip
    assert f"网格.kml: {OUTSIDE}: the grid has no community_code and lies in no community" in said
    # the sample's other two communities have no grid: their buildings are said, placed as new
    unplaced = set(pd.read_csv(csv_given, dtype=str)["building_id"]) - set(
        pd.read_csv(assignments, dtype=str)["building_id"]
    )
    assert f"bijiang.gpkg: {len(unplaced)} building(s) lie in no grid of 网格.kml" in said
    assert "grid_codes" not in given.output and "lie in no grid" not in given.output
    codes = set(pd.read_csv(csv, dtype=str)["grid_code"])
    assert {f"{COMMUNITY}{name_number(n):03d}" for n in NAMES.values()} & codes  # names kept


def test_drawn_grids_without_communities_are_refused_in_both_languages(tmp_path):
    kml = _kml(tmp_path / "网格.kml")
    zh, out, _ = _run(tmp_path, "zh", kml, communities=False)
    assert zh.exit_code == 2 and not out.exists()
    said = " ".join(zh.output.split())
    assert "错误：网格.kml：方案的 10 个网格中有 10 个没有网格编码或社区代码" in said
    en, _, _ = _run(tmp_path, "en", kml, "--lang", "en", communities=False)
    assert en.exit_code == 2
    said = " ".join(en.output.split())
    assert "error: 网格.kml: 10 of the plan's 10 grid(s) have no grid code" in said
    assert "--communities" in said


@pytest.fixture(scope="module")
def community() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """广场社区 of the sample: its boundary, buildings and current grids (CGCS2000)."""
    communities = gpd.read_file(_sample(), layer="communities")
    buildings = gpd.read_file(_sample(), layer="buildings")
    plan = gpd.read_file(_sample(), layer="grids_existing")
    return (communities[communities["community_code"] == COMMUNITY],
            buildings[buildings["community_code"] == COMMUNITY], plan)  # fmt: skip


def test_the_api_without_assignments_places_each_building_by_its_point(community):
    communities, buildings, plan = community
    by_place = assign_by_location(buildings, plan)
    points = buildings.set_geometry(buildings.representative_point())
    joined = gpd.sjoin(points, plan[["grid_code", "geometry"]], predicate="within")
    assert by_place.to_dict() == dict(zip(joined["building_id"], joined["grid_code"], strict=True))

    located = redistrict(plan, buildings, communities=communities, assignments=None)
    given = redistrict(plan, buildings, communities=communities,
                       assignments=joined[["building_id", "grid_code"]])  # fmt: skip
    pd.testing.assert_frame_equal(located.grids.drop(columns="geometry"),
                                  given.grids.drop(columns="geometry"))  # fmt: skip
    assert located.grids.geometry.geom_equals_exact(given.grids.geometry, 0).all()
    pd.testing.assert_frame_equal(located.moved, given.moved)
    assert located.assignments.equals(given.assignments)
    assert located.new_buildings == given.new_buildings
    assert located.households_moved > 0  # the sample's grids are over the bounds
