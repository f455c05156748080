"""Named edge cases of gridmap.partition."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmap.errors import CRSError, DuplicateIdError, InputError
from gridmap.plans.partition import partition
from tests.gridmap.strategies import X0, Y0, check_plan, make_layers


def _row(n, y, hh, x0=10, x1=390):
    return [(float(x), float(y), hh) for x in np.linspace(x0, x1, n)]


def test_tower_above_max_is_its_own_grid_and_the_rest_balanced():
    bld = _row(10, 50, 40) + _row(10, 150, 40) + [(200.0, 100.0, 640)] + _row(10, 250, 45)
    comm, b, _ = make_layers([(0, 0, 400, 300)], bld)
    r = partition(comm, b)
    grids = check_plan(r, comm, b, 300, 500)
    tower = grids[grids["households"] == 640]
    assert (
        len(tower) == 1 and tower["status"].item() == "over_max" and tower["buildings"].item() == 1
    )
    assert (grids.drop(tower.index)["status"] == "ok").all()
    assert any(
        p.kind == "over_max" and "B20" in p.message and "640" in p.message for p in r.problems
    )


def test_small_community_is_one_under_min_grid():
    comm, b, _ = make_layers([(0, 0, 200, 200)], _row(5, 100, 30, 10, 190))
    r = partition(comm, b)
    check_plan(r, comm, b, 300, 500)
    assert r.grids["status"].tolist() == ["under_min"]
    assert r.problems[0].kind == "under_min" and "150 households" in r.problems[0].message


def test_disjoint_parts_get_their_own_grids():
    bld = _row(12, 100, 60, 10, 290) + _row(3, 100, 30, 410, 490)
    comm, b, _ = make_layers([(0, 0, 300, 200), (400, 0, 500, 200)], bld)
    r = partition(comm, b)
    grids = check_plan(r, comm, b, 300, 500)
    right = grids[grids.representative_point().x > X0 + 350]
    assert len(right) == 1 and right["status"].item() == "under_min"
    assert (grids.drop(right.index)["status"] == "ok").all()


def test_community_without_buildings_is_reported():
    comm, b, _ = make_layers([(0, 0, 100, 100)], [])
    r = partition(comm, b)
    assert len(r.grids) == 1 and r.grids["households"].item() == 0
    assert [p.kind for p in r.problems] == ["no_buildings"]
    assert r.assignments.empty


def test_building_outside_every_community_is_reported_not_assigned():
    comm, b, _ = make_layers([(0, 0, 300, 200)], _row(8, 100, 50, 10, 290) + [(900.0, 50.0, 20)])
    r = partition(comm, b)
    assert "B8" not in set(r.assignments["building_id"])
    outside = [p for p in r.problems if p.kind == "outside"]
    assert outside and outside[0].building_ids == ("B8",)


def test_buildings_with_zero_households_are_assigned():
    bld = _row(8, 100, 50, 10, 290) + [(150.0, 20.0, 0), (150.0, 180.0, 0)]
    comm, b, _ = make_layers([(0, 0, 300, 200)], bld, footprints=True)
    r = partition(comm, b)
    check_plan(r, comm, b, 300, 500)
    assert {"B8", "B9"} <= set(r.assignments["building_id"])


def test_grid_boundary_follows_the_street():
    # 8 buildings of 50 on each side of a street at x=200: two grids of 400, split on the street.
    bld = [(float(x), float(y), 50) for x in (40, 100, 150, 180) for y in (60, 140)]
    bld += [(float(x), float(y), 50) for x in (220, 250, 300, 360) for y in (60, 140)]
    comm, b, s = make_layers([(0, 0, 400, 200)], bld, streets=[(200.37, -10, 200.37, 210)])
    r = partition(comm, b, streets=s)
    grids = check_plan(r, comm, b, 300, 500)
    assert sorted(grids["households"]) == [400, 400]
    cut = shapely.intersection(grids.geometry.iloc[0].boundary, grids.geometry.iloc[1].boundary)
    street = shapely.LineString([(X0 + 200.37, Y0), (X0 + 200.37, Y0 + 200)])
    assert cut.length == pytest.approx(200, abs=1e-6)
    assert shapely.hausdorff_distance(shapely.line_merge(cut), street) < 1e-6


def test_compound_that_fits_stays_in_one_grid():
    bld = _row(10, 50, 40) + _row(10, 150, 40)
    comm, b, _ = make_layers([(0, 0, 400, 200)], bld)
    wall = shapely.box(X0 + 150, Y0 + 20, X0 + 260, Y0 + 180)
    b["compound_id"] = np.where(b.within(wall), "C1", None)
    cmp = gpd.GeoDataFrame({"compound_id": ["C1"]}, geometry=[wall], crs=comm.crs)
    r = partition(comm, b, compounds=cmp)
    check_plan(r, comm, b, 300, 500)
    in_compound = r.assignments[
        r.assignments["building_id"].isin(b[b["compound_id"] == "C1"]["building_id"])
    ]
    assert in_compound["grid_code"].nunique() == 1


def test_total_that_no_number_of_grids_fits_is_explained():
    comm, b, _ = make_layers([(0, 0, 400, 200)], _row(11, 100, 50))  # 550 households
    r = partition(comm, b)
    check_plan(r, comm, b, 300, 500)
    assert any(p.kind == "infeasible" and "550" in p.message for p in r.problems)


def test_three_towers_of_260_are_flagged_not_crashed():
    comm, b, _ = make_layers(
        [(0, 0, 400, 200)], [(60.0, 100.0, 260), (200.0, 100.0, 260), (340.0, 100.0, 260)]
    )
    r = partition(comm, b)
    grids = check_plan(r, comm, b, 300, 500)
    assert (grids["status"] != "ok").any() and r.problems


def test_codes_run_west_to_east_then_north_to_south():
    bld = [(float(x), float(y), 100) for x in (50, 150, 250, 350) for y in (50, 80, 120, 150)]
    comm, b, s = make_layers(
        [(0, 0, 400, 200)],
        bld,
        streets=[(100.3, -5, 100.3, 205), (200.3, -5, 200.3, 205), (300.3, -5, 300.3, 205)],
    )
    r = partition(comm, b, streets=s)
    g = r.grids.to_crs(comm.crs).sort_values("grid_code")
    assert g["grid_code"].tolist() == [f"520602001001{i:03d}" for i in range(1, 5)]
    assert list(g.representative_point().x.diff().dropna() > 0) == [True] * 3


def test_bad_inputs_raise_clear_errors():
    comm, b, _ = make_layers([(0, 0, 400, 200)], _row(4, 100, 50))
    bad = b.copy()
    bad.loc[2, "households"] = np.nan
    with pytest.raises(InputError, match="B2"):
        partition(comm, bad)
    dup = b.copy()
    dup.loc[1, "building_id"] = "B0"
    with pytest.raises(DuplicateIdError, match="B0"):
        partition(comm, dup)
    with pytest.raises(CRSError, match="different CRSs"):
        partition(comm, b.to_crs(4326))
    with pytest.raises(InputError, match="12-digit"):
        partition(comm.assign(community_code="5206"), b)
    with pytest.raises(ValueError, match="min"):
        partition(comm, b, min_households=600, max_households=500)
