"""compare_plans() and plans_by_grid_count() on a toy community."""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
import shapely
from test_redistrict import CODE, CRS, X0, Y0, toy

from gridmap.compare import MATCH_OVERLAP, compare_plans, plans_by_grid_count
from gridmap.errors import InputError
from gridmap.partition import partition
from gridmap.redistrict import redistrict


def _community():
    return gpd.GeoDataFrame(
        {"community_code": [CODE]}, geometry=[shapely.box(X0, Y0, X0 + 600, Y0 + 300)], crs=CRS
    )


def test_a_plan_against_itself_changes_nothing():
    plan, buildings, assignments = toy()
    plan["households"] = 420
    diff = compare_plans((plan, assignments), (plan, assignments), buildings=buildings)
    assert diff.households_moved == 0 and diff.moved.empty
    assert not diff.grids["boundary_moved"].any()
    assert diff.grids["households_before"].tolist() == diff.grids["households_after"].tolist()
    assert diff.summary()["grids_in_bounds_after"] == 1.0


def test_diff_of_a_redistricted_plan_matches_its_own_report():
    plan, buildings, assignments = toy()
    plan["households"] = 420
    buildings.loc[buildings["building_id"] == "B03", "households"] = 170
    result = redistrict(plan, buildings, assignments=assignments)
    diff = compare_plans((plan, assignments), result, buildings=buildings)
    assert diff.households_moved == result.households_moved == 70
    assert diff.households_total == 70 * 17 + 170
    moved = diff.grids.set_index("grid_before")["boundary_moved"]
    assert moved.to_dict() == {f"{CODE}001": True, f"{CODE}002": True, f"{CODE}003": False}
    assert diff.grids["polsby_popper_after"].between(0, 1).all()


def test_overlap_matching_ignores_renumbering():
    plan, buildings, assignments = toy()
    plan["households"] = 420
    renumbered = plan.assign(
        grid_code=plan["grid_code"].str[:12]
        + "0"
        + plan["grid_code"].str[13:].str[::-1].str.replace("0", "9")
    )
    renamed = assignments.assign(
        grid_code=assignments["grid_code"].map(
            dict(zip(plan["grid_code"], renumbered["grid_code"], strict=True))
        )
    )
    by_code = compare_plans((plan, assignments), (renumbered, renamed), buildings=buildings)
    by_overlap = compare_plans((plan, assignments), (renumbered, renamed), buildings=buildings,
                               match=MATCH_OVERLAP)  # fmt: skip
    assert by_code.share_moved == 1.0
    assert by_overlap.households_moved == 0 and not by_overlap.grids["boundary_moved"].any()
    with pytest.raises(InputError, match="match must be"):
        compare_plans((plan, assignments), (plan, assignments), buildings=buildings, match="x")


def test_plans_by_grid_count_covers_every_allowed_count():
    _, buildings, _ = toy()
    buildings["households"] = 75  # 1350: 3 grids of 450 or 4 of 300-375
    total = int(buildings["households"].sum())
    options = plans_by_grid_count(_community(), buildings)
    ks = list(range(math.ceil(total / 500), math.floor(total / 300) + 1))
    assert options.table["k"].tolist() == ks == [3, 4]
    assert options.table["grids"].tolist() == ks
    assert (options.table["in_bounds"] == 1.0).all()
    assert set(options.plans) == set(ks)
    fresh = partition(_community(), buildings)
    assert len(fresh.grids) in ks
    with pytest.raises(InputError, match="one community"):
        plans_by_grid_count(_community().iloc[[0, 0]], buildings)
