"""gridmap.partition on the demo sample (geodata.load_sample), what a district office sees.

广场社区 (520602002001) holds 4,771 households in 9 street blocks, most of 517–530 households
(too many for one grid, too few for two) and compounds separated by open ground. Every grid
must be balanced; the only flagged grids are the lone 528-household tower B00088 (community
520602002002, ``over_max``) and community 520602001005 with 216 households (``under_min``).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import geodata
from gridmap.crs import projected_crs_for
from gridmap.geometry.metrics import street_straddle
from gridmap.plans.partition import partition

LO, HI = 300, 500
TOWER, TOWER_COMMUNITY = "B00088", "520602002002"
SMALL_COMMUNITY = "520602001005"


@pytest.fixture(scope="module")
def sample():
    return geodata.load_sample()


@pytest.fixture(scope="module")
def result(sample):
    return partition(
        sample["communities"],
        sample["buildings"],
        streets=sample["streets"],
        compounds=sample["compounds"],
        min_households=LO,
        max_households=HI,
    )


@pytest.fixture(scope="module")
def crs(sample):
    return projected_crs_for(sample["communities"])


def test_every_grid_is_balanced_except_the_flagged_tower_and_small_community(result):
    grids = result.grids.set_index("grid_code")
    tower_grid = result.assignments.set_index("building_id").loc[TOWER, "grid_code"]
    flagged = grids[grids["status"] != "ok"]
    assert sorted(flagged.index) == sorted([tower_grid, f"{SMALL_COMMUNITY}001"])
    assert grids.loc[tower_grid, "status"] == "over_max"
    assert grids.loc[tower_grid, "community_code"] == TOWER_COMMUNITY
    assert grids.loc[tower_grid, "buildings"] == 1
    assert grids.loc[f"{SMALL_COMMUNITY}001", "status"] == "under_min"
    ok = grids[grids["status"] == "ok"]
    assert ok["households"].between(LO, HI).all()
    # 广场社区: 4,771 households need at least ceil(4771 / 500) = 10 grids.
    assert (grids["community_code"] == "520602002001").sum() >= 10
    kinds = {p.kind for p in result.problems}
    assert "unbalanced" not in kinds and "infeasible" not in kinds


def test_every_building_assigned_once_and_households_preserved(result, sample):
    b = sample["buildings"]
    a = result.assignments
    assert sorted(a["building_id"]) == sorted(b["building_id"])
    hh = b.set_index("building_id")["households"]
    per_grid = a.assign(h=a["building_id"].map(hh)).groupby("grid_code")["h"].sum()
    grids = result.grids.set_index("grid_code")
    assert (per_grid.reindex(grids.index) == grids["households"]).all()
    assert grids["households"].sum() == b["households"].sum()


def test_grids_are_single_polygons_tiling_each_community_exactly(result, sample, crs):
    grids = result.grids.to_crs(crs)
    assert (grids.geom_type == "Polygon").all()
    assert shapely.is_valid(np.asarray(grids.geometry.values)).all()
    comms = sample["communities"].to_crs(crs).set_index("community_code")
    for code, g in grids.groupby("community_code"):
        area = comms.loc[code, "geometry"].area
        union = shapely.union_all(np.asarray(g.geometry.values))
        assert abs(union.area - area) <= 1e-6 * area, code
        assert abs(g.geometry.area.sum() - union.area) <= 1e-6 * area, code  # no overlaps
        assert shapely.symmetric_difference(union, comms.loc[code, "geometry"]).area <= 1e-6 * area


def test_every_street_crossing_is_explained(result, sample, crs):
    grids = result.grids.to_crs(crs)
    streets = sample["streets"].to_crs(crs)
    gi, _si, length = street_straddle(
        np.asarray(grids.geometry.values), np.asarray(streets.geometry.values)
    )
    crossing = set(grids["grid_code"].to_numpy()[gi[length > 1.0]].tolist())
    explained = {p.grid_code for p in result.problems if p.kind == "street_crossed"}
    alone = set(grids.groupby("community_code")["grid_code"].filter(lambda g: len(g) == 1))
    assert crossing - alone, "the sample needs crossings (blocks of 517–530 households)"
    assert crossing - alone <= explained
    # A community's only grid (520602001005, 216 households) crosses its streets by no choice:
    # the under-300 problem says it is one grid, and no crossing is reported beside it.
    assert alone & crossing and not alone & explained


def test_no_fitting_compound_split_without_a_problem(result, sample):
    b = sample["buildings"].dropna(subset=["compound_id"])
    b = b[b["compound_id"].astype(str) != ""]
    grid_of = result.assignments.set_index("building_id")["grid_code"]
    b = b.assign(grid=b["building_id"].map(grid_of))
    split_msgs = [p.message for p in result.problems if p.kind == "compound_split"]
    for cid, rows in b.groupby("compound_id"):
        if rows["households"].sum() <= HI and rows["grid"].nunique() > 1:
            assert any(str(cid) in m for m in split_msgs), cid
