"""Footprints stay whole in their grid: touching buildings, compound outlines drawn across them."""

from __future__ import annotations

import geopandas as gpd
import shapely

from gridmap.plans.partition import partition
from tests.gridmap.strategies import CRS, X0, Y0


def _box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _shares(result, bld):
    grids = result.grids.to_crs(CRS).set_index("grid_code").geometry
    rows = bld.merge(result.assignments, on="building_id")
    own = grids.loc[rows["grid_code"]].to_numpy()
    inside = shapely.area(shapely.intersection(rows.geometry.to_numpy(), own))
    return inside / rows.area.to_numpy()


def test_touching_buildings_each_lie_in_their_own_grid():
    # A terrace of four touching slabs of very different depth: the Voronoi line between
    # their outlines runs through the shallow ones unless footprints are kept whole.
    comm = gpd.GeoDataFrame({"community_code": ["520602001001"]},
                            geometry=[_box(0, 0, 200, 120)], crs=CRS)  # fmt: skip
    fps = [_box(20, 20, 60, 100), _box(60, 50, 100, 70), _box(100, 20, 140, 100),
           _box(140, 55, 180, 65)]  # fmt: skip
    bld = gpd.GeoDataFrame({"building_id": ["a", "b", "c", "d"], "households": [400] * 4},
                           geometry=fps, crs=CRS)  # fmt: skip
    result = partition(comm, bld)
    assert result.grids["households"].tolist() == [400] * 4
    assert (_shares(result, bld) > 0.999).all()


def test_a_compound_outline_across_a_building_does_not_cut_it():
    comm = gpd.GeoDataFrame({"community_code": ["520602001001"]},
                            geometry=[_box(0, 0, 200, 100)], crs=CRS)  # fmt: skip
    fps = [_box(20, 30, 60, 70), _box(80, 30, 120, 70), _box(140, 30, 180, 70)]
    bld = gpd.GeoDataFrame({"building_id": ["a", "b", "c"], "households": [400] * 3},
                           geometry=fps, crs=CRS)  # fmt: skip
    # Compound X holds a; its outline is drawn through the west end of b.
    cmp = gpd.GeoDataFrame({"compound_id": ["X"]}, geometry=[_box(10, 10, 95, 90)], crs=CRS)
    result = partition(comm, bld, compounds=cmp)
    assert result.grids["households"].tolist() == [400] * 3
    assert (_shares(result, bld) > 0.999).all()
