"""redistrict(): valid grids kept exactly, broken ones repaired with few moves, no code reused."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.errors import DuplicateIdError, InputError
from gridmap.plans.currentplan import match_codes
from gridmap.plans.redistrict import CHANGE_KEPT, CHANGE_NEW, redistrict

CODE = "520602001001"
CRS = "EPSG:4545"
X0, Y0 = 617000.0, 3067000.0  # near Tongren, CGCS2000 GK zone 36 (CM 108°E)


def toy():
    """A 600 m × 300 m community: 6 columns × 3 rows of 70-household buildings; 3 grids of 420."""
    pts = [(X0 + 50 + 100 * i, Y0 + 50 + 100 * j) for i in range(6) for j in range(3)]
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"B{i:02d}" for i in range(len(pts))], "households": [70] * len(pts)},
        geometry=[shapely.box(x - 15, y - 15, x + 15, y + 15) for x, y in pts],
        crs=CRS,
    )
    plan = gpd.GeoDataFrame(
        {"grid_code": [f"{CODE}00{k}" for k in (1, 2, 3)], "community_code": [CODE] * 3},
        geometry=[shapely.box(X0 + 200 * k, Y0, X0 + 200 * (k + 1), Y0 + 300) for k in range(3)],
        crs=CRS,
    ).to_crs("EPSG:4326")
    column = ((np.array([p[0] for p in pts]) - X0) // 200).astype(int)
    assignments = pd.DataFrame(
        {"building_id": buildings["building_id"], "grid_code": [f"{CODE}00{c + 1}" for c in column]}
    )
    return plan, buildings, assignments


def _tiles(result, community_area):
    geoms = np.asarray(result.grids.to_crs(CRS).geometry.values)
    union = shapely.union_all(geoms)
    assert union.area == pytest.approx(community_area, rel=1e-6)
    assert shapely.area(geoms).sum() == pytest.approx(union.area, rel=1e-6)  # no overlaps


def test_unchanged_community_keeps_every_grid_exactly():
    plan, buildings, assignments = toy()
    result = redistrict(plan, buildings, assignments=assignments)
    assert result.grids["change"].eq(CHANGE_KEPT).all()
    assert result.households_moved == 0 and result.moved.empty and result.retired_codes == []
    for got, want in zip(result.grids.geometry, plan.geometry, strict=True):
        assert shapely.equals_exact(got, want, tolerance=0)
    assert result.grids["households"].tolist() == [420, 420, 420]


def test_grown_building_moves_one_building_and_keeps_the_far_grid():
    plan, buildings, assignments = toy()
    buildings.loc[buildings["building_id"] == "B03", "households"] = 170  # grid 001 → 520
    result = redistrict(plan, buildings, assignments=assignments)
    assert result.ok
    assert result.households_moved == 70  # one 70-household building: the least possible
    assert len(result.moved) == 1
    assert result.moved.iloc[0][["from_grid", "to_grid"]].tolist() == [f"{CODE}001", f"{CODE}002"]
    far = result.grids.set_index("grid_code").loc[f"{CODE}003"]
    assert far["change"] == CHANGE_KEPT
    assert shapely.equals_exact(far.geometry, plan.geometry.iloc[2], tolerance=0)
    assert sorted(result.grids["grid_code"]) == [f"{CODE}00{k}" for k in (1, 2, 3)]
    _tiles(result, 600 * 300)


def test_new_grid_gets_a_code_after_every_retired_one():
    plan, buildings, assignments = toy()
    tower = gpd.GeoDataFrame(
        {"building_id": ["NEW"], "households": [300]},
        geometry=[shapely.box(X0 + 285, Y0 + 135, X0 + 315, Y0 + 165)],
        crs=CRS,
    )
    grown = pd.concat([buildings[buildings["building_id"] != "B00"], tower], ignore_index=True)
    result = redistrict(
        plan, grown, assignments=assignments, retired_codes=[f"{CODE}007", "520602001002009"]
    )
    assert result.ok, result.metrics
    codes = result.grids["grid_code"].tolist()
    new = result.grids.loc[result.grids["change"] == CHANGE_NEW, "grid_code"].tolist()
    assert new and all(int(c[12:]) > 7 for c in new)
    assert not set(new) & set(result.retired_codes)
    assert len(codes) == len(set(codes)) == 4
    assert result.new_buildings == ["NEW"] and result.removed_buildings == ["B00"]
    assigned = result.assignments.set_index("building_id")["grid_code"]
    assert assigned.index.is_unique and set(assigned.index) == set(grown["building_id"])
    totals = grown.set_index("building_id")["households"].groupby(assigned).sum()
    assert totals.to_dict() == result.grids.set_index("grid_code")["households"].to_dict()
    _tiles(result, 600 * 300)


def test_equal_seeds_give_equal_plans():
    plan, buildings, assignments = toy()
    buildings.loc[buildings["building_id"] == "B03", "households"] = 170
    a = redistrict(plan, buildings, assignments=assignments, seed=3)
    b = redistrict(plan, buildings, assignments=assignments, seed=3)
    assert a.assignments.equals(b.assignments)


def test_too_few_households_for_the_grids_shares_one_grid_out():
    plan, buildings, assignments = toy()
    buildings["households"] = 40  # 240 per grid, 720 in all: two grids of 360 fit, three do not
    result = redistrict(plan, buildings, assignments=assignments, min_households=300)
    assert result.ok and result.problems == []
    assert len(result.grids) == 2 and len(result.retired_codes) == 1
    assert result.grids["households"].sum() == 720
    assert result.households_moved == 240  # only the shared-out grid's buildings move
    _tiles(result, 600 * 300)


def test_building_above_the_maximum_is_its_own_flagged_grid():
    plan, buildings, assignments = toy()
    buildings.loc[buildings["building_id"] == "B16", "households"] = 640  # in grid 003
    result = redistrict(plan, buildings, assignments=assignments)
    tower = result.assignments.set_index("building_id").loc["B16", "grid_code"]
    row = result.grids.set_index("grid_code").loc[tower]
    assert row["households"] == 640 and row["buildings"] == 1 and row["status"] == "over_max"
    assert (result.grids["grid_code"] != tower).eq(result.grids["status"] == "ok").all()
    [problem] = result.problems
    assert problem.kind == "over_max" and problem.grid_code == tower
    assert problem.building_ids == ("B16",) and "B16" in problem.message
    assert "640" in problem.message_zh and "专属网格" in problem.message_zh
    _tiles(result, 600 * 300)


def test_community_under_the_minimum_becomes_one_flagged_grid():
    plan, buildings, assignments = toy()
    buildings["households"] = 10  # 180 households in all, under the minimum of 300
    result = redistrict(plan, buildings, assignments=assignments)
    assert len(result.grids) == 1 and result.grids["status"].tolist() == ["under_min"]
    [problem] = result.problems
    assert problem.kind == "under_min" and problem.community_code == CODE
    assert "180" in problem.message and "180" in problem.message_zh and "下限" in problem.message_zh
    _tiles(result, 600 * 300)


def test_plan_without_codes_is_refused_by_name():
    plan, buildings, _ = toy()
    with pytest.raises(InputError, match="lacks a grid_code column"):
        redistrict(plan.drop(columns="grid_code"), buildings)
    plan.loc[1, "grid_code"] = plan.loc[0, "grid_code"]
    with pytest.raises(DuplicateIdError, match=f"{CODE}001"):
        redistrict(plan, buildings)
    plan.loc[1, "grid_code"] = "52060200100102"
    with pytest.raises(InputError, match="52060200100102"):
        redistrict(plan, buildings)


def test_bad_household_count_names_the_building():
    plan, buildings, _ = toy()
    buildings.loc[4, "households"] = -3
    with pytest.raises(InputError, match="B04"):
        redistrict(plan, buildings)


def street_toy(grow: dict[str, int]):
    """A 600 m × 300 m community cut by a street at x = 400; grids A1, A2 left of it, B right.

    A2's column next to A1 holds 100-household buildings, its column on the street 30-household
    ones, so handing a small building to B across the street would move the fewest households.
    """
    rows = [(50, [60, 60, 60]), (150, [60, 55, 55]), (250, [100] * 3), (350, [30] * 3),
            (450, [58] * 3), (550, [58] * 3)]  # fmt: skip
    ids, hh, geoms = [], [], []
    for x, column in rows:
        for j, h in enumerate(column):
            ids.append(f"B{x}_{j}")
            hh.append(grow.get(f"B{x}_{j}", h))
            y = 50 + 100 * j
            geoms.append(shapely.box(X0 + x - 15, Y0 + y - 15, X0 + x + 15, Y0 + y + 15))
    buildings = gpd.GeoDataFrame({"building_id": ids, "households": hh}, geometry=geoms, crs=CRS)
    edges = [(0, 200), (200, 400), (400, 600)]
    plan = gpd.GeoDataFrame(
        {"grid_code": [f"{CODE}00{k}" for k in (1, 2, 3)]},
        geometry=[shapely.box(X0 + a, Y0, X0 + b, Y0 + 300) for a, b in edges],
        crs=CRS,
    )
    streets = gpd.GeoDataFrame(
        {"name": ["Qingshui Road"]},
        geometry=[shapely.LineString([(X0 + 400, Y0 - 20), (X0 + 400, Y0 + 320)])],
        crs=CRS,
    )
    return plan, buildings, streets


def _grid_of(result, building):
    return result.assignments.set_index("building_id").loc[building, "grid_code"]


def test_repair_keeps_grids_within_their_street_blocks_when_it_can():
    plan, buildings, streets = street_toy({"B350_1": 160})  # A2: 390 → 520
    result = redistrict(plan, buildings, streets=streets)
    assert result.ok
    assert not [p for p in result.problems if p.kind == "street_crossed"]
    right = {_grid_of(result, f"B{x}_{j}") for x in (450, 550) for j in range(3)}
    assert right == {f"{CODE}003"}  # nothing crossed into B, nothing of B left it
    left = {_grid_of(result, f"B{x}_{j}") for x in (50, 150, 250, 350) for j in range(3)}
    assert f"{CODE}003" not in left
    # The least moving that respects the street: one 100-household building to A1 (handing a
    # 30-household building to B across the street would have moved fewer).
    assert result.households_moved == 100
    assert result.moved["from_grid"].tolist() == [f"{CODE}002"]
    _tiles(result, 600 * 300)


def test_repair_that_must_cross_a_street_says_so():
    # B: 348 → 550 households, which no number of grids of 300–500 holds on its own side.
    plan, buildings, streets = street_toy({"B450_1": 260})
    result = redistrict(plan, buildings, streets=streets)
    assert result.ok
    crossed = [p for p in result.problems if p.kind == "street_crossed"]
    assert crossed, result.problems
    assert all("Qingshui Road" in p.message and "Qingshui Road" in p.message_zh for p in crossed)
    assert {p.grid_code for p in crossed} <= set(result.grids["grid_code"])
    _tiles(result, 600 * 300)


def test_a_crossed_street_without_a_name_is_named_in_words_never_by_id():
    """Issue 11: Chinese problem text holds no English words; an unnamed street is 未命名道路."""
    plan, buildings, streets = street_toy({"B450_1": 260})
    streets = streets.assign(name=[None], street_id=["osm-w123456"])
    result = redistrict(plan, buildings, streets=streets)
    crossed = [p for p in result.problems if p.kind == "street_crossed"]
    assert crossed, result.problems
    for p in crossed:
        assert "未命名道路" in p.message_zh and "unnamed street" in p.message
        assert not re.search(r"[A-Za-z]", p.message_zh.replace(p.grid_code, "")), p.message_zh
        assert "osm-w123456" not in p.message + p.message_zh


def test_codes_go_where_most_households_keep_their_grid():
    """A split grid's code stays with its largest part even when that part is under half."""
    old_codes = np.array(["520602002001001", "520602002001002"])
    # cells:            A:398  A:300  B:141  B:200   (A had 698+, B 341)
    cell_old = np.array([0, 0, 1, 1])
    cell_labels = np.array([0, 1, 1, 2])
    households = np.array([398.0, 300.0, 141.0, 200.0])
    codes = match_codes([0, 1, 2], cell_labels, cell_old, households, old_codes)
    # Keeping A on grid 0 and B on grid 2 keeps 598 households in place; any other choice fewer.
    assert codes == {0: "520602002001001", 2: "520602002001002"}


def test_repair_keeps_a_compound_whole_even_when_splitting_it_would_move_fewer():
    plan, b, assignments = toy()
    b.loc[6:11, "households"] = 45  # grid 002 shrinks to 270, under the minimum
    b.loc[15, "households"] = 170  # grid 003 grows to 520
    col4 = b.index[12:15]  # a compound of 210 households in grid 003, next to grid 002
    b["compound_id"] = None
    b.loc[col4, "compound_id"] = "C1"
    wall = shapely.box(X0 + 400, Y0, X0 + 500, Y0 + 300)
    compounds = gpd.GeoDataFrame({"compound_id": ["C1"]}, geometry=[wall], crs=CRS)
    r = redistrict(plan, b, assignments=assignments, compounds=compounds)
    assert r.ok
    # One building of C1 (70 households) would fix both grids; the whole compound moves instead.
    grids = r.assignments.set_index("building_id").loc[b.loc[col4, "building_id"], "grid_code"]
    assert set(grids) == {f"{CODE}002"}
    assert r.households_moved == 210
    assert not [p for p in r.problems if p.kind == "compound_split"]


def _two_communities():
    """The toy community and a copy of it 1 km east, each with a grown building."""
    plan, buildings, assignments = toy()
    other = "520602001002"
    east = plan.to_crs(CRS)
    east = east.assign(grid_code=east["grid_code"].str.replace(CODE, other),
                       community_code=other, geometry=east.translate(xoff=1000))  # fmt: skip
    b_east = buildings.assign(building_id="E" + buildings["building_id"],
                              geometry=buildings.translate(xoff=1000))  # fmt: skip
    a_east = assignments.assign(
        building_id="E" + assignments["building_id"],
        grid_code=assignments["grid_code"].str.replace(CODE, other),
    )
    plan2 = pd.concat([plan, east.to_crs(plan.crs)], ignore_index=True)
    buildings2 = pd.concat([buildings, b_east], ignore_index=True)
    buildings2.loc[buildings2["building_id"].isin(["B03", "EB14"]), "households"] = 170
    return plan2, buildings2, pd.concat([assignments, a_east], ignore_index=True)


def test_communities_in_parallel_give_the_same_plan():
    plan, buildings, assignments = _two_communities()
    done = []
    one = redistrict(plan, buildings, assignments=assignments, seed=5)
    two = redistrict(plan, buildings, assignments=assignments, seed=5, n_jobs=2,
                     progress=done.append)  # fmt: skip
    assert sorted(done) == [CODE, "520602001002"]
    assert one.ok and one.households_moved == 140  # one 70-household building per community
    assert one.assignments.equals(two.assignments)
    assert one.grids.drop(columns="geometry").equals(two.grids.drop(columns="geometry"))


def test_a_plan_result_brings_its_own_assignments():
    plan, buildings, assignments = toy()
    kept = redistrict(plan, buildings, assignments=assignments)
    # A changed building list: repairing the result itself reports moves against its assignments.
    buildings.loc[buildings["building_id"] == "B17", "households"] = 250
    direct = redistrict(kept.grids, buildings, assignments=kept.assignments)
    from_result = redistrict(kept, buildings)
    assert from_result.households_moved == direct.households_moved > 0
    assert from_result.moved.equals(direct.moved)
    assert from_result.assignments.equals(direct.assignments)
    # Explicit assignments still win: against a plan where B17 sat elsewhere, B17 counts as moved.
    other = kept.assignments.assign(
        grid_code=kept.assignments["grid_code"].where(
            kept.assignments["building_id"] != "B17", f"{CODE}001"
        )  # fmt: skip
    )
    moved = redistrict(kept, buildings, assignments=other).moved
    assert "B17" in moved["building_id"].tolist()
