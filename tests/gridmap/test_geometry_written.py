"""Grids are valid single polygons as written (rounded to the file's 7 decimals), not only in
memory."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.geometry.snapping import LONLAT_GRID_SIZE, snap_grids
from gridmap.plans.partition import GRID_COLUMNS
from service.commands.planfiles import write_plan

X, Y = 108.0, 27.7  # lon/lat near Tongren


def _notched():
    """A grid with a notch 4e-8° wide (~4 mm): rounding to 7 decimals closes it on itself."""
    a, b = X + 0.00100002, X + 0.00099998
    ring = [(X, Y), (X + 0.002, Y), (X + 0.002, Y + 0.002), (a, Y + 0.002), (a, Y + 0.0005),
            (b, Y + 0.0005), (b, Y + 0.002), (X, Y + 0.002)]  # fmt: skip
    return shapely.Polygon(ring)


def test_plain_rounding_breaks_the_notched_grid_and_snap_grids_does_not():
    grid = _notched()
    assert grid.is_valid
    assert not shapely.set_precision(grid, LONLAT_GRID_SIZE, mode="pointwise").is_valid
    out = snap_grids(np.array([grid, shapely.box(X + 0.002, Y, X + 0.003, Y + 0.002)]),
                     LONLAT_GRID_SIZE)  # fmt: skip
    assert shapely.is_valid(out).all() and (shapely.get_type_id(out) == 3).all()
    assert abs(out[0].area - grid.area) < 1e-4 * grid.area  # the 4 mm notch closes
    assert shapely.coverage_is_valid(out)


def test_written_geojson_holds_valid_single_polygons(tmp_path):
    grids = gpd.GeoDataFrame(
        {"grid_code": ["520602001001001", "520602001001002"],
         "community_code": ["520602001001"] * 2, "households": [300, 310],
         "buildings": [3, 4], "status": ["ok", "ok"],
         "polsby_popper": [0.5, 0.6]},
        geometry=[_notched(), shapely.box(X + 0.002, Y, X + 0.003, Y + 0.002)], crs=4326,
    )  # fmt: skip
    assignments = pd.DataFrame({"building_id": ["b"], "grid_code": ["520602001001001"]})
    out = tmp_path / "g.geojson"
    write_plan(grids, GRID_COLUMNS, assignments, out=out, assignments_out=None)
    back = gpd.read_file(out)
    assert back.is_valid.all() and (back.geom_type == "Polygon").all()
