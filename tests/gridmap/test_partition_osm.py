"""Partition real OSM building footprints: momepy's bundled Bubeneč (Prague) sample.

Households are estimated as footprint area × 5 levels × 0.8 (net floor share) ÷ 70 m² per
dwelling: the sample has no level tags and 5 storeys is typical of Bubeneč's perimeter blocks.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from gridmap.plans.partition import partition
from tests.gridmap.strategies import check_plan

momepy = pytest.importorskip("momepy")

LEVELS, NET_SHARE, DWELLING_M2 = 5, 0.8, 70.0


@pytest.fixture(scope="module")
def bubenec():
    path = momepy.datasets.get_path("bubenec")
    bld = gpd.read_file(path, layer="buildings")
    streets = gpd.read_file(path, layer="streets")
    area = gpd.read_file(path, layer="tessellation").union_all()
    comm = gpd.GeoDataFrame(
        {"community_code": ["110105001001"]}, geometry=[shapely.Polygon(area.exterior)], crs=bld.crs
    )
    bld["building_id"] = bld["uID"].astype(str)
    bld["households"] = (bld.to_crs(32633).area * LEVELS * NET_SHARE / DWELLING_M2).round()
    bld["households"] = bld["households"].astype(int)
    return comm, bld, streets


def test_real_footprints_partition(bubenec):
    comm, bld, streets = bubenec
    result = partition(comm, bld, streets=streets)
    grids = check_plan(result, comm, bld, 300, 500)
    towers = bld[bld["households"] > 500]
    flagged = grids[grids["status"] == "over_max"]
    # Only single buildings above 500 households may exceed the bound, each alone in its grid.
    assert len(flagged) == len(towers) and (flagged["buildings"] == 1).all()
    assert (grids.loc[grids["status"] != "over_max", "status"] == "ok").all()
    # No footprint is split: each lies in the grid it is assigned to (up to noding noise).
    joined = bld.to_crs(grids.crs).merge(result.assignments, on="building_id")
    geom_of = grids.set_index("grid_code").geometry
    covered = shapely.area(
        shapely.intersection(joined.geometry.values, geom_of.loc[joined["grid_code"]].values)
    )
    assert (covered / joined.area.values > 0.9).mean() > 0.95
    assert grids["polsby_popper"].mean() > 0.3
