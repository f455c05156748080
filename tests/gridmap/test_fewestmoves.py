"""fewest_moves(): the repair program moves the fewest households that any connected plan can."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from gridmap.constraints import Bounds
from gridmap.solve.fewestmoves import (
    RepairRegion,
    SolveLimits,
    fewest_moves,
    moves_floor,
    moves_lower_bound,
)
from gridmap.solve.search import connected

BOUNDS = Bounds(300, 500)


def _lattice(rows: int, cols: int) -> list[list[int]]:
    nbrs: list[list[int]] = [[] for _ in range(rows * cols)]
    for i, j in itertools.product(range(rows), range(cols)):
        v = i * cols + j
        if i + 1 < rows:
            nbrs[v].append(v + cols)
            nbrs[v + cols].append(v)
        if j + 1 < cols:
            nbrs[v].append(v + 1)
            nbrs[v + 1].append(v)
    return nbrs


def _units(weights, nbrs, tower=None):
    return SimpleNamespace(
        n=len(weights), weights=[float(w) for w in weights], nbrs=nbrs,
        tower=tower or [False] * len(weights),
    )  # fmt: skip


def _moved(labels, anchor, units) -> float:
    return sum(units.weights[v] for v in range(units.n) if labels[v] != anchor[v])


def _valid(labels, units, bounds=BOUNDS) -> bool:
    for g in set(labels):
        members = {v for v in range(units.n) if labels[v] == g}
        total = sum(units.weights[v] for v in members)
        if not (bounds.lo <= total <= bounds.hi and connected(members, units.nbrs)):
            return False
    return True


def _fewest_by_enumeration(anchor, units, k: int) -> float | None:
    """Households moved by the best connected, in-bounds plan of ``k`` grids (every plan tried)."""
    best = None
    for labels in itertools.product(range(k), repeat=units.n):
        moved = _moved(labels, anchor, units)
        if (best is None or moved < best) and len(set(labels)) == k and _valid(labels, units):
            best = moved
    return best


def _instances(count: int):
    """Seeded 3 × 3 blocks in three column grids, with at least one grid out of bounds."""
    nbrs, anchor = _lattice(3, 3), [0, 1, 2] * 3
    rng = np.random.default_rng(7)
    while count:
        units = _units(rng.integers(0, 5, 9) * 50, nbrs)
        totals = [sum(units.weights[v] for v in range(9) if anchor[v] == g) for g in range(3)]
        if all(BOUNDS.violation(t) == 0 for t in totals) or not 900 <= sum(totals) <= 1500:
            continue
        count -= 1
        yield anchor, units


@pytest.mark.parametrize("case", range(12))
def test_moves_as_few_households_as_the_best_plan_found_by_trying_every_plan(case):
    anchor, units = list(_instances(case + 1))[case]
    best = _fewest_by_enumeration(anchor, units, 3)
    region = RepairRegion(anchor, units, BOUNDS)
    repairs = fewest_moves(region)
    if best is None:
        assert repairs == []
        return
    assert repairs, "a connected plan within the bounds exists"
    assert all(_valid(lab, units) for lab in repairs)
    assert _moved(repairs[0], anchor, units) == best
    assert 0 < moves_floor(region) <= best  # connectivity can only cost more


def test_opens_one_grid_when_the_households_do_not_fit_the_grids_there_are():
    units = _units([250, 250, 250, 250, 100, 100], _lattice(2, 3))
    anchor = [0, 0, 1, 0, 0, 1]  # grid 0: 850, grid 1: 350; 1,200 households need 3 grids
    (labels, *_) = fewest_moves(RepairRegion(anchor, units, BOUNDS))
    assert sorted(set(labels)) == [0, 1, 2]  # the new grid is labelled after the others
    assert _valid(labels, units)


def test_no_repair_is_offered_when_no_plan_can_hold_the_households():
    units = _units([450, 450], [[1], [0]])  # 900 households cannot be one or two grids of 300–500
    assert fewest_moves(RepairRegion([0, 0], units, Bounds(300, 400))) == []


def test_towers_and_far_grids_are_left_alone():
    # A row of eight units: a tower grid (unit 0), then grids 1..4; grids 3 (550) and 4 (250)
    # are broken.
    weights = [900, 150, 150, 200, 200, 300, 250, 250]
    anchor = [0, 1, 1, 2, 2, 3, 3, 4]
    nbrs = [[1]] + [[v - 1, v + 1] for v in range(1, 7)] + [[6]]
    units = _units(weights, nbrs, tower=[True] + [False] * 7)
    region = RepairRegion(anchor, units, BOUNDS, frozenset({0}), rings=1)
    assert region.grids == {2, 3, 4}  # the broken grids and one ring around them
    labels = fewest_moves(region)[0]
    assert labels[:3] == anchor[:3]  # the tower and grid 1, two grids away, did not change
    assert labels == [0, 1, 1, 2, 2, 3, 4, 4]  # grid 3 (550) gives its 250 to grid 4 (250)


def test_nothing_to_repair_moves_nothing():
    region = RepairRegion([0, 0, 1], _units([300, 200, 400], [[1], [0, 2], [1]]), BOUNDS)
    assert region.grids == frozenset()
    assert fewest_moves(region) == [[0, 0, 1]]
    assert moves_floor(region) == 0.0


@pytest.mark.parametrize("case", range(6))
def test_no_connected_program_runs_when_the_plan_in_hand_is_at_the_floor(case):
    anchor, units = list(_instances(case + 1))[case]
    region = RepairRegion(anchor, units, BOUNDS)
    floor, best = moves_floor(region), fewest_moves(region)
    if floor is None:
        assert best == [] and fewest_moves(region, beat=0.0) == []
        return
    # Only a connected optimum of the program without connectivity can come back: no plan
    # can move fewer than the floor, so the connected programs are not solved.
    at_floor = fewest_moves(region, beat=floor)
    assert all(_moved(lab, anchor, units) == floor and _valid(lab, units) for lab in at_floor)
    loose = fewest_moves(region, beat=floor + 1e6)  # beaten by anything
    assert [_moved(lab, anchor, units) for lab in loose] == [
        _moved(lab, anchor, units) for lab in best
    ]


def test_a_node_limit_gives_the_same_plans_on_every_run():
    for anchor, units in _instances(4):
        region, limits = RepairRegion(anchor, units, BOUNDS), SolveLimits(node_limit=1)
        first = fewest_moves(region, limits=limits)
        assert all(_valid(lab, units) for lab in first)
        assert fewest_moves(region, limits=limits) == first


def test_the_lower_bound_never_passes_the_best_plan_and_is_reached_on_some_blocks():
    reached = 0
    for anchor, units in _instances(12):
        best = _fewest_by_enumeration(anchor, units, 3)
        bound = moves_lower_bound(RepairRegion(anchor, units, BOUNDS))
        assert bound > 0  # some grid is out of bounds: something must move
        if best is not None:
            assert bound <= best
            reached += bound == best
    assert reached  # tight on at least one block, else it would stop no search


def test_the_lower_bound_counts_the_lightest_units_that_cover_the_excess():
    # Grid 0 holds 650 (150 over 500): its lightest cover is 200 (one unit), not 100 + 100.
    units = _units([200, 100, 100, 250, 400], _lattice(1, 5))
    assert moves_lower_bound(RepairRegion([0, 0, 0, 0, 1], units, BOUNDS)) == 200.0
    # Grid 1 holds 250 (50 under 300) and grid 0 is within the bounds: 50 must come in.
    units = _units([200, 150, 150, 250], _lattice(1, 4))
    assert moves_lower_bound(RepairRegion([0, 0, 0, 1], units, BOUNDS)) == 50.0
    # A tower's grid is never counted; grid 1 (100, 200 short) may rather give its 100 away.
    units = _units([900, 100], [[1], [0]], tower=[True, False])
    assert moves_lower_bound(RepairRegion([0, 1], units, BOUNDS, frozenset({0}))) == 100.0


def test_a_floor_from_the_first_solve_leaves_the_connected_plans_as_they_were():
    for anchor, units in _instances(6):
        best = _fewest_by_enumeration(anchor, units, 3)
        repairs = fewest_moves(RepairRegion(anchor, units, BOUNDS), beat=1e6)
        if best is not None:
            assert repairs and _moved(repairs[0], anchor, units) == best
