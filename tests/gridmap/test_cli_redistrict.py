"""The ``gridmap redistrict`` contract scripts rely on: files in, RFC 7946 GeoJSON and CSV out.

partition → change households → redistrict, all through the CLI (typer's CliRunner).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from gridmap.plans.partition import GRID_COLUMNS
from service.cli import app
from tests.gridmap.strategies import make_layers

runner = CliRunner()
CODE = "520602001001"


@pytest.fixture
def partitioned(tmp_path):
    """A 600 m × 200 m community of 36 buildings × 50 households, partitioned by the CLI."""
    rows = [(float(x), float(y), 50) for x in range(25, 600, 50) for y in (35, 100, 165)]
    comm, bld, _ = make_layers([(0, 0, 600, 200)], rows, code=CODE, footprints=True)
    paths = {
        "c": tmp_path / "c.gpkg",
        "b": tmp_path / "b.geojson",
        "grids": tmp_path / "grids.geojson",
        "a": tmp_path / "a.csv",
    }
    comm.rename(columns={"community_code": "code"}).to_file(paths["c"])
    bld = bld.rename(columns={"building_id": "id"}).to_crs(4326)
    bld.to_file(paths["b"])
    res = runner.invoke(app, ["partition", "--communities", str(paths["c"]), "--buildings",
                              str(paths["b"]), "--out", str(paths["grids"]), "--assignments",
                              str(paths["a"]), "--jobs", "1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    return paths, bld


def _redistrict(paths, buildings, tmp_path, *extra):
    out, csv = tmp_path / "new-grids.geojson", tmp_path / "new-assignments.csv"
    args = ["redistrict", "--plan", str(paths["grids"]), "--assignments", str(paths["a"]),
            "--buildings", str(buildings), "--communities", str(paths["c"]),
            "--out", str(out), "--assignments-out", str(csv), *extra]  # fmt: skip
    return runner.invoke(app, args), out, csv


def _features(path):
    doc = json.loads(path.read_text())
    assert doc["type"] == "FeatureCollection" and "crs" not in doc  # RFC 7946: no crs member
    return {f["properties"]["grid_code"]: f for f in doc["features"]}


def _vertices(geometry):
    rings = geometry["coordinates"]
    if geometry["type"] == "MultiPolygon":
        rings = [r for polygon in rings for r in polygon]
    return [xy for ring in rings for xy in ring]


def _grow(paths, bld, tmp_path, building, households):
    changed = bld.copy()
    changed.loc[changed["id"] == building, "households"] = households
    path = tmp_path / "b-changed.geojson"
    changed.to_file(path)
    return path, changed


def test_redistrict_repairs_the_grown_grid_and_keeps_the_others_byte_identical(
    partitioned, tmp_path
):
    paths, bld = partitioned
    before = _features(paths["grids"])
    old = pd.read_csv(paths["a"], dtype=str).set_index("building_id")["grid_code"]
    households = {c: f["properties"]["households"] for c, f in before.items()}
    assert set(households.values()) <= set(range(300, 501))
    full = max(households, key=households.get)
    grown = old[old == full].index[0]  # a building of the fullest grid grows by 200
    changed_path, changed = _grow(paths, bld, tmp_path, grown, 250)
    res, out, csv = _redistrict(paths, changed_path, tmp_path)
    assert res.exit_code == 0, res.output
    after = _features(out)
    for f in after.values():
        props = f["properties"]
        assert set(props) == {*GRID_COLUMNS, "change"}
        assert props["status"] == "ok" and 300 <= props["households"] <= 500
        assert len(props["grid_code"]) == 15 and props["grid_code"].startswith(CODE)
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        for x, y in _vertices(f["geometry"]):
            assert 107.9 < x < 108.1 and 27 < y < 28.5  # lon/lat (RFC 7946), not metres
    assert sum(f["properties"]["households"] for f in after.values()) == changed["households"].sum()
    kept = [c for c, f in after.items() if f["properties"]["change"] == "kept"]
    assert kept and full not in kept
    for code in kept:  # the exact coordinates of the input plan
        assert json.dumps(after[code]["geometry"]) == json.dumps(before[code]["geometry"])
    table = pd.read_csv(csv, dtype=str)
    assert list(table.columns) == ["building_id", "grid_code"]
    assert sorted(table["building_id"]) == sorted(changed["id"])
    assert set(table["grid_code"]) == set(after)
    moved = table.set_index("building_id")["grid_code"] != old
    assert 0 < moved.sum() <= 4  # the grid was 200 over: at most four 50-household buildings
    assert "户调整网格" in " ".join(res.output.split())  # Chinese by default


def test_building_above_the_maximum_is_flagged_and_exit_is_zero(partitioned, tmp_path):
    paths, bld = partitioned
    changed_path, _ = _grow(paths, bld, tmp_path, "B0", 620)
    res, out, csv = _redistrict(paths, changed_path, tmp_path, "--lang", "en")
    assert res.exit_code == 0, res.output
    after = _features(out)
    tower = pd.read_csv(csv, dtype=str).set_index("building_id").loc["B0", "grid_code"]
    flagged = {c for c, f in after.items() if f["properties"]["status"] != "ok"}
    assert flagged == {tower} and after[tower]["properties"]["status"] == "over_max"
    said = " ".join(res.output.split())  # rich wraps long lines
    assert "(1 flagged)" in said and "B0 has 620 households" in said


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("assignments without grid_code", "lacks column(s) ['grid_code']"),
        ("households field missing", "no header 'hh'"),
        ("plan is not a file", "File not found"),
    ],
)
def test_unusable_input_exits_non_zero_with_a_clear_message(
    partitioned, tmp_path, breakage, expected
):
    paths, _ = partitioned
    extra: list[str] = []
    if breakage == "assignments without grid_code":
        bad = tmp_path / "bad.csv"
        pd.read_csv(paths["a"]).rename(columns={"grid_code": "grid"}).to_csv(bad, index=False)
        paths = {**paths, "a": bad}
    elif breakage == "households field missing":
        extra = ["--households-field", "hh"]
    else:
        paths = {**paths, "grids": tmp_path / "missing.geojson"}
    res, out, _ = _redistrict(paths, paths["b"], tmp_path, *extra, "--lang", "en")
    assert res.exit_code != 0
    assert expected in " ".join(res.output.split())
    assert not out.exists()


def test_round_trip_through_geojson_gives_one_valid_polygon_per_grid_tiling_exactly(tmp_path):
    """partition → GeoJSON (rounded to 7 decimals) → redistrict → GeoJSON.

    The community is a lon/lat box on the 7-decimal grid with a vertex every ~10 m, so the
    file's rounding cannot move a point off its boundary: any gap, overlap or sliver measured
    here comes from redistrict, not from the file format.
    """
    import geopandas as gpd
    import shapely

    box = shapely.segmentize(shapely.box(108.0, 27.72, 108.0061, 27.7218), 0.0001)
    box = shapely.set_precision(box, 1e-7, mode="pointwise")
    comm = gpd.GeoDataFrame({"code": [CODE]}, geometry=[box], crs=4326)
    proj = comm.to_crs(4545)
    x0, y0, _, _ = proj.total_bounds
    pts = [(x0 + x, y0 + y) for x in range(25, 600, 50) for y in (35, 100, 165)]
    bld = gpd.GeoDataFrame(
        {"id": [f"B{i}" for i in range(len(pts))], "households": [50] * len(pts)},
        geometry=[shapely.box(x - 4, y - 4, x + 4, y + 4) for x, y in pts],
        crs=4545,
    ).to_crs(4326)
    paths = {"c": tmp_path / "c.geojson", "b": tmp_path / "b.geojson",
             "grids": tmp_path / "grids.geojson", "a": tmp_path / "a.csv"}  # fmt: skip
    comm.to_file(paths["c"])
    bld.to_file(paths["b"])
    res = runner.invoke(app, ["partition", "--communities", str(paths["c"]), "--buildings",
                              str(paths["b"]), "--out", str(paths["grids"]), "--assignments",
                              str(paths["a"]), "--jobs", "1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    old = pd.read_csv(paths["a"], dtype=str).set_index("building_id")["grid_code"]
    full = old.value_counts().index[0]
    changed_path, _ = _grow(paths, bld, tmp_path, old[old == full].index[0], 250)
    res, out, _ = _redistrict(paths, changed_path, tmp_path)
    assert res.exit_code == 0, res.output
    grids = gpd.read_file(out)
    assert (grids["change"] != "kept").sum() >= 2  # the repair really redrew grids
    assert (grids.geom_type == "Polygon").all(), grids.geom_type.tolist()
    assert grids.is_valid.all()
    geoms = grids.to_crs(4545).geometry.to_numpy()
    area = float(proj.area.iloc[0])
    union = shapely.union_all(geoms)
    assert shapely.area(geoms).sum() - union.area <= 1e-6 * area  # no overlaps
    assert shapely.symmetric_difference(union, proj.geometry.iloc[0]).area <= 1e-6 * area


def test_problems_are_printed_in_chinese_by_default(partitioned, tmp_path):
    paths, bld = partitioned
    changed_path, _ = _grow(paths, bld, tmp_path, "B0", 620)
    res, _out, _csv = _redistrict(paths, changed_path, tmp_path)
    said = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "楼栋B0有620户" in said.replace(" ", "")
