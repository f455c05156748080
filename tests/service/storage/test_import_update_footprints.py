"""``import --update`` with buildings given as points keeps the stored footprints.

A district office updates household counts with its 楼栋 table: 楼栋编号, 户数 and the
coordinates (经度/纬度), no footprints, saved by Excel as GBK CSV. The first import drew the
footprints; the update keeps them, keeps the stored point of a building whose new point lies
in (or a few metres off) its footprint, and reports a building whose point lies far outside.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from typer.testing import CliRunner

from service.importer import import_files
from service.storage import models as m
from service.storage.footprints import MOVED_M
from service.storage.session import make_engine, session_scope
from service.storage.values import shapes_from_wkb

CODE = "520602001001"
SPOTS = {"B1": (109.001, 27.701), "B2": (109.004, 27.705), "B3": (109.008, 27.708)}
HALF = 1e-4  # half a footprint's side, degrees (about 10 m)
AWAY = (109.008, 27.7055)  # B3's point in the update: about 270 m south of its footprint
GEOD = Geod(ellps="WGS84")


def _community(tmp_path: Path) -> Path:
    communities = tmp_path / "社区.geojson"
    gpd.GeoDataFrame({"社区代码": [CODE], "社区名称": ["示例社区"]},
                     geometry=[box(109.0, 27.7, 109.01, 27.71)],
                     crs=4326).to_file(communities, driver="GeoJSON")  # fmt: skip
    return communities


def _first_import(url: str, tmp_path: Path) -> None:
    """A community and three building footprints (GeoJSON, Chinese headers)."""
    communities = _community(tmp_path)
    buildings = tmp_path / "楼栋.geojson"
    squares = [box(x - HALF, y - HALF, x + HALF, y + HALF) for x, y in SPOTS.values()]
    gpd.GeoDataFrame({"楼栋编号": list(SPOTS), "户数": [40, 60, 80], "建筑类型": ["住宅"] * 3},
                     geometry=squares, crs=4326).to_file(buildings, driver="GeoJSON")  # fmt: skip
    import_files({"community": communities, "building": buildings}, url=url)


def _update_points() -> dict[str, tuple[int, float, float]]:
    """楼栋编号 → (户数, 经度, 纬度): B1 a new count at its centre, B2 at its door 2 m
    outside its east wall, B3 far away."""
    x2, y2 = SPOTS["B2"]
    return {"B1": (44, *SPOTS["B1"]), "B2": (60, x2 + HALF + 2e-5, y2), "B3": (80, *AWAY)}


def _roster(path: Path) -> Path:
    """The update as an office saves it from Excel: a GBK CSV with Chinese headers."""
    with path.open("w", encoding="gbk", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["楼栋编号", "户数", "经度", "纬度"])
        writer.writerows([b, n, x, y] for b, (n, x, y) in _update_points().items())
    return path


def _point_layer(path: Path) -> Path:
    """The same update as a point layer (GeoJSON)."""
    points = _update_points()
    gpd.GeoDataFrame({"楼栋编号": list(points), "户数": [n for n, _, _ in points.values()]},
                     geometry=[shapely.Point(x, y) for _, x, y in points.values()],
                     crs=4326).to_file(path, driver="GeoJSON")  # fmt: skip
    return path


def _stored(url: str) -> dict[str, tuple]:
    """Building id → (households, point, footprint), geometries as shapely shapes."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            rows = session.execute(
                select(
                    m.Building.id, m.Building.households, m.Building.geom, m.Building.footprint
                ).order_by(m.Building.id)
            ).all()
    finally:
        engine.dispose()
    points, footprints = shapes_from_wkb(r.geom for r in rows), shapes_from_wkb(
        r.footprint for r in rows)  # fmt: skip
    return {r.id: (r.households, p, f) for r, p, f in zip(rows, points, footprints, strict=True)}


def _metres_south(point: tuple[float, float], footprint: BaseGeometry) -> float:
    """Geodesic metres from ``point`` due north to the south wall of ``footprint``."""
    x, y = point
    _, _, metres = GEOD.inv(x, y, x, footprint.bounds[1])
    return float(metres)


@pytest.mark.parametrize("update", [_roster, _point_layer], ids=["gbk-csv", "point-layer"])
def test_buildings_given_as_points_keep_their_footprints(store_url, tmp_path, update):
    _first_import(store_url, tmp_path)
    before = _stored(store_url)
    name = "楼栋_7月.csv" if update is _roster else "楼栋_7月.geojson"
    result = import_files({"building": update(tmp_path / name)}, url=store_url, update=True)
    after = _stored(store_url)
    for b in SPOTS:  # every footprint survives, and so does every stored point
        assert after[b][2] is not None and shapely.equals_exact(after[b][2], before[b][2], 1e-9)
        assert shapely.equals_exact(after[b][1], before[b][1], 1e-9), b
        assert shapely.covers(after[b][2], after[b][1]), b
    assert [after[b][0] for b in SPOTS] == [44, 60, 80]
    b = result.changes["building"]
    assert (b.added, b.updated, b.unchanged) == (0, 1, 2)  # B1's count; B2 and B3 as they were
    moved = [i for i in result.report if i.reason == "point outside footprint"]
    assert [i.record_id for i in moved] == ["B3"]  # B2's door point is within MOVED_M
    assert moved[0].code == "point_outside_footprint"  # a report code, worded in report.py
    metres = _metres_south(AWAY, before["B3"][2])
    assert metres > 10 * MOVED_M
    assert abs(dict(moved[0].values)["distance_m"] - metres) < 1.0
    assert f"{metres:,.0f} m outside the stored footprint" in moved[0].message("en")
    assert moved[0].reason_text("zh") == "坐标在楼栋轮廓外"
    assert f"已存楼栋轮廓外 {metres:,.0f} 米" in moved[0].message("zh")


def test_a_roster_row_without_coordinates_keeps_the_stored_geometry(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    before = _stored(store_url)
    roster = tmp_path / "楼栋_8月.csv"
    pd.DataFrame({"楼栋编号": ["B1", "B2"], "社区代码": [CODE, CODE], "户数": [40, 61],
                  "经度": [SPOTS["B1"][0], None], "纬度": [SPOTS["B1"][1], None]}).to_csv(
        roster, index=False, encoding="gbk")  # fmt: skip
    result = import_files({"building": roster}, url=store_url, update=True)
    after = _stored(store_url)
    assert after["B2"][0] == 61
    for b in ("B1", "B2"):
        assert shapely.equals_exact(after[b][1], before[b][1], 1e-9), b
        assert shapely.equals_exact(after[b][2], before[b][2], 1e-9), b
    assert not [i for i in result.report if i.reason == "point outside footprint"]


def test_a_polygon_file_still_replaces_footprints_and_points(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    x, y = AWAY
    redrawn = tmp_path / "楼栋_重绘.geojson"
    gpd.GeoDataFrame({"楼栋编号": ["B3"], "户数": [80]},
                     geometry=[box(x - 2 * HALF, y - HALF, x + 2 * HALF, y + HALF)],
                     crs=4326).to_file(redrawn, driver="GeoJSON")  # fmt: skip
    result = import_files({"building": redrawn}, url=store_url, update=True)
    assert result.changes["building"].updated == 1
    assert not [i for i in result.report if i.reason == "point outside footprint"]
    _, point, footprint = _stored(store_url)["B3"]
    assert shapely.equals_exact(footprint.normalize(), shapely.MultiPolygon(
        [box(x - 2 * HALF, y - HALF, x + 2 * HALF, y + HALF)]).normalize(), 1e-9)  # fmt: skip
    assert shapely.covers(footprint, point)


def test_a_building_stored_as_a_point_takes_the_file_point(store_url, tmp_path):
    communities = _community(tmp_path)
    first = tmp_path / "楼栋.csv"
    pd.DataFrame({"楼栋编号": ["B1"], "户数": [40], "经度": [109.001], "纬度": [27.701]}).to_csv(
        first, index=False, encoding="gbk")  # fmt: skip
    import_files({"community": communities, "building": first}, url=store_url)
    again = tmp_path / "楼栋_7月.csv"
    pd.DataFrame({"楼栋编号": ["B1"], "户数": [40], "经度": [109.002], "纬度": [27.701]}).to_csv(
        again, index=False, encoding="gbk")  # fmt: skip
    result = import_files({"building": again}, url=store_url, update=True)
    assert result.changes["building"].updated == 1
    _, point, footprint = _stored(store_url)["B1"]
    assert footprint is None and (point.x, point.y) == (109.002, 27.701)


def test_cli_update_reports_the_moved_building_in_chinese(store_url, tmp_path):
    from service.cli import app

    _first_import(store_url, tmp_path)
    reports = tmp_path / "报告"
    result = CliRunner().invoke(app, ["import", "--db", store_url, "--update", "--report-dir",
                                      str(reports), "--buildings",
                                      str(_roster(tmp_path / "楼栋_7月.csv"))])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "坐标在楼栋轮廓外 1 条" in result.output
    (report,) = reports.glob("*.csv")
    rows = pd.read_csv(report, encoding="utf-8-sig", dtype=str)
    row = rows[rows["reason"] == "point outside footprint"]
    assert row["record_id"].tolist() == ["B3"] and row["entity"].tolist() == ["building"]
    assert row["problem"].tolist() == ["坐标在楼栋轮廓外"]
    assert "如需移动，请在文件中给出楼栋轮廓" in row["detail"].iloc[0]
