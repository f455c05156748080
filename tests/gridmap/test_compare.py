"""compare_plans() and plans_by_grid_count() on a toy community."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from test_redistrict import CODE, CRS, X0, Y0, toy

from gridmap.errors import InputError
from gridmap.plans.compare import (
    MATCH_OVERLAP,
    compare_plans,
    plan_scores,
    plans_by_grid_count,
    rank_plans,
)
from gridmap.plans.partition import partition
from gridmap.plans.redistrict import redistrict


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


def test_plans_by_grid_count_gives_exactly_the_count_asked_or_says_why():
    _, buildings, _ = toy()
    buildings.loc[buildings["building_id"] == "B00", "households"] = 480  # 1670 in all
    options = plans_by_grid_count(_community(), buildings, counts=[2, 4, 5])
    table = options.table.set_index("k")
    assert set(options.plans) == {4}
    assert len(options.plans[4].grids) == 4 and table.at[4, "grids"] == 4
    assert table.at[4, "note"] == "" and table.at[4, "in_bounds"] == 1.0
    reasons = options.reasons
    assert set(reasons) == {2, 5}
    assert "2 grid(s) of at most 500 households hold 1000, fewer than 1670" in reasons[2]
    # 480 + 4 × 300 > 1670: five grids cannot exist, and the building is named.
    assert "B00" in reasons[5] and "480" in reasons[5]
    assert options.ranked()["k"].tolist() == [4]
    with pytest.raises(InputError, match="at least 1"):
        plans_by_grid_count(_community(), buildings, counts=[0])


def test_a_building_above_the_maximum_counts_as_a_grid_of_its_own():
    _, buildings, _ = toy()
    buildings.loc[buildings["building_id"] == "B00", "households"] = 600  # + 17 × 70 = 1190
    options = plans_by_grid_count(_community(), buildings, counts=None)
    assert options.table["k"].tolist() == [4]  # the tower, and 1190 in three grids
    assert len(options.plans[4].grids) == 4
    why = plans_by_grid_count(_community(), buildings, counts=[5]).reasons[5]
    assert "B00" in why and "4 grid(s) of at least 300 households need 1200" in why


def test_every_plan_kept_has_its_count_of_grids():
    _, buildings, _ = toy()
    buildings["households"] = [60 + 7 * i for i in range(len(buildings))]  # 2151 in all
    options = plans_by_grid_count(_community(), buildings)
    assert options.table["k"].tolist() == [5, 6, 7]
    for k, plan in options.plans.items():
        assert len(plan.grids) == k
    exact = options.table[options.table["note"] == ""]
    assert (exact["grids"] == exact["k"]).all()
    assert set(options.plans) == set(exact["k"])


def test_plan_scores_prefer_compact_plans_with_short_boundaries():
    table = pd.DataFrame(
        {
            "k": [10, 11, 12],
            "in_bounds": [1.0, 1.0, 0.9],
            "households_mean": [400.0, 364.0, 333.0],
            "households_std": [5.0, 30.0, 1.0],  # the first spreads households least
            "polsby_popper_mean": [0.40, 0.55, 0.7],
            "polsby_popper_min": [0.075, 0.46, 0.6],
            "boundary_km": [7.7, 3.8, 3.0],
            "note": ["", "", ""],
        }
    )
    scores = plan_scores(table)
    assert scores.between(0, 1).all()
    assert scores[1] > scores[0]  # compactness and boundary outweigh a small spread
    # The spread of households alone would pick the least compact plans.
    assert plan_scores(table, {"balance": 1.0}).idxmax() == 2
    ranked = rank_plans(table)
    assert ranked["k"].tolist() == [11, 10, 12]  # a plan with grids out of bounds comes last
    no_plan = table.assign(note=["", "", "no plan"])
    assert np.isnan(plan_scores(no_plan)[2]) and rank_plans(no_plan)["k"].tolist() == [11, 10]
    with pytest.raises(InputError, match="weights"):
        plan_scores(table, {"size": 1.0})
