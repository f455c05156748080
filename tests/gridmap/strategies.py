"""Hypothesis strategies and invariant checks for partition tests: generated toy communities."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from hypothesis import strategies as st

CRS = "EPSG:4545"
X0, Y0 = 500_000.0, 3_067_000.0  # near Tongren in CGCS2000 / GK CM 108°E


def make_layers(parts, buildings, streets=(), code="520602001001", footprints=False):
    """GeoDataFrames from plain tuples: parts are boxes (x0, y0, x1, y1), buildings (x, y, hh)."""
    geom = shapely.union_all([shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in parts])
    comm = gpd.GeoDataFrame({"community_code": [code]}, geometry=[geom], crs=CRS)
    pts = [shapely.Point(X0 + x, Y0 + y) for x, y, _ in buildings]
    if footprints:
        pts = [p.buffer(4, cap_style="square") for p in pts]
    bld = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i}" for i in range(len(buildings))],
            "households": [h for *_, h in buildings],
        },
        geometry=pts,
        crs=CRS,
    )
    lines = [shapely.LineString([(X0 + a, Y0 + b), (X0 + c, Y0 + d)]) for a, b, c, d in streets]
    stre = (
        gpd.GeoDataFrame(
            {"street_id": [f"S{i}" for i in range(len(lines))]}, geometry=lines, crs=CRS
        )
        if lines
        else None
    )
    return comm, bld, stre


@st.composite
def communities(draw, max_buildings=60, max_households=120):
    """A 1-2 part community with buildings on a jittered lattice and optional straight streets."""
    w = draw(st.integers(150, 500))
    h = draw(st.integers(150, 400))
    parts = [(0, 0, w, h)]
    if draw(st.booleans()):
        parts.append((w + 50, 0, w + 50 + draw(st.integers(60, 200)), h))
    n = draw(st.integers(1, max_buildings))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    buildings = []
    for a, b, c, d in parts:
        k = max(1, int(n * (c - a) / (w + 1)))
        xs = rng.uniform(a + 5, c - 5, k).round(2)
        ys = rng.uniform(b + 5, d - 5, k).round(2)
        hh = rng.integers(0, max_households + 1, k)
        buildings += list(zip(xs.tolist(), ys.tolist(), hh.tolist(), strict=True))
    streets = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            x = draw(st.integers(20, w - 20))
            streets.append((x + 0.37, -10, x + 0.37, h + 10))
        else:
            y = draw(st.integers(20, h - 20))
            streets.append((-10, y + 0.37, w + 10, y + 0.37))
    return make_layers(parts, buildings, streets, footprints=draw(st.booleans()))


def check_plan(result, comm, bld, lo, hi):
    """Assert the invariants of a plan; return the grids in the community CRS."""
    grids = result.grids.to_crs(comm.crs)
    metrics = result.metrics.set_index("grid_code")
    for code, community in zip(comm["community_code"], comm.geometry, strict=True):
        mine = grids[grids["community_code"] == code]
        area = community.area
        union = shapely.union_all(mine.geometry.values)
        assert shapely.symmetric_difference(union, community).area <= 1e-6 * area
        assert abs(mine.area.sum() - area) <= 1e-6 * area  # no overlaps
        # One polygon each, except a grid given a detached part without households.
        joined = {p.grid_code for p in result.problems if p.kind == "detached_part"}
        assert (mine.geom_type == "Polygon")[~mine["grid_code"].isin(joined)].all()
        assert mine["grid_code"].str.fullmatch(code + r"\d{3}").all()
    # Every building inside a community is assigned exactly once, to the grid containing it.
    inside = bld[bld.representative_point().intersects(shapely.union_all(comm.geometry.values))]
    a = result.assignments
    assert a["building_id"].is_unique
    assert set(a["building_id"]) == set(inside["building_id"])
    joined = inside.merge(a, on="building_id")
    geom_of = grids.set_index("grid_code").geometry
    pts = joined.representative_point().values
    assert shapely.dwithin(geom_of.loc[joined["grid_code"]].values, pts, 1e-6).all()
    # Households are preserved per grid and in total.
    sums = joined.groupby("grid_code")["households"].sum()
    assert (
        sums.reindex(grids["grid_code"]).fillna(0).astype(int).values == grids["households"].values
    ).all()
    assert grids["households"].sum() == inside["households"].sum()
    # Status matches the bounds; flagged grids are explained.
    for _, g in grids.iterrows():
        expect = (
            "ok" if lo <= g.households <= hi else ("under_min" if g.households < lo else "over_max")
        )
        assert g.status == expect
        assert metrics.loc[g.grid_code, "polsby_popper"] > 0
    if (grids["status"] != "ok").any():
        assert result.problems
    return grids
