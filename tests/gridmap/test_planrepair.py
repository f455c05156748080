"""return_home(): repaired units go back to their grid when bounds and contiguity allow;
blocks_can_balance(): street blocks whose households no number of grids can share;
repair_region(): the search stops once no plan can move fewer households."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from gridmap.constraints import Bounds
from gridmap.plans.planrepair import blocks_can_balance, repair_region, return_home


def _units(weights, nbrs, tower=None):
    return SimpleNamespace(weights=weights, nbrs=nbrs, tower=tower or [False] * len(weights))


# 2 × 2 block of buildings:  0 1   (anchor: top row grid 0, bottom row grid 1)
#                            2 3
SQUARE = [[1, 2], [0, 3], [0, 3], [1, 2]]


def test_two_grids_that_swapped_one_building_each_get_them_back():
    units = _units([200, 150, 150, 200], SQUARE)
    swapped = [0, 1, 0, 1]  # grid 0 holds 0 and 2 (350), grid 1 holds 1 and 3 (350)
    # Neither building can go back alone: grid 0 would hold 500 or 200 households.
    assert return_home(swapped, units, [0, 0, 1, 1], Bounds(300, 400)) == [0, 0, 1, 1]


def test_exchange_that_would_break_the_bounds_is_not_made():
    units = _units([250, 100, 150, 200], SQUARE)
    swapped = [0, 1, 0, 1]  # 400 and 300; back home grid 0 would hold 350, grid 1 350
    assert return_home(swapped, units, [0, 0, 1, 1], Bounds(300, 400)) == [0, 0, 1, 1]
    # with a maximum of 340, undoing the swap would put both grids out of bounds
    assert return_home(swapped, units, [0, 0, 1, 1], Bounds(300, 400 - 60)) == swapped


def test_single_building_goes_home_when_both_grids_stay_in_bounds():
    units = _units([100] * 4, [[1], [0, 2], [1, 3], [2]])
    assert return_home([0, 1, 1, 1], units, [0, 0, 1, 1], Bounds(150, 350)) == [0, 0, 1, 1]
    # a minimum of 250: grid 1 would drop to 200, so building 1 stays
    assert return_home([0, 1, 1, 1], units, [0, 0, 1, 1], Bounds(250, 350)) == [0, 1, 1, 1]


def test_no_move_splits_a_grid():
    # building 2 links 1 and 3 of grid 1; going home to grid 0 would cut grid 1 in two
    units = _units([100] * 4, [[2], [2], [0, 1, 3], [2]])
    assert return_home([0, 1, 1, 1], units, [0, 1, 0, 1], Bounds(0, 1000)) == [0, 1, 1, 1]
    # when building 3 is in grid 0 as well, building 2 goes home
    assert return_home([0, 1, 1, 0], units, [0, 1, 0, 0], Bounds(0, 1000)) == [0, 1, 0, 0]


def test_blocks_that_no_number_of_grids_can_share_are_found():
    job = SimpleNamespace(lo=300, hi=500)
    # Two street blocks joined by no grid: 350 + 250 (one grid) and 550 (neither 1 nor 2).
    graph = SimpleNamespace(n=4, weights=np.array([350, 250, 300, 250]),
                            edges=np.array([[0, 1], [2, 3]]))  # fmt: skip
    assert not blocks_can_balance(graph, job)
    joined = SimpleNamespace(n=4, weights=graph.weights, edges=np.array([[0, 1], [1, 2], [2, 3]]))
    assert blocks_can_balance(joined, job)  # 1,150: three grids of 300–500
    tower = SimpleNamespace(n=3, weights=np.array([700, 350, 0]), edges=np.array([[0, 1]]))
    assert blocks_can_balance(tower, job)  # the tower is a grid of its own; an empty cell is fine


def _row(weights):
    """Units in a row (each touching the next), every edge costing 1."""
    n = len(weights)
    nbrs = [[u for u in (v - 1, v + 1) if 0 <= u < n] for v in range(n)]
    return SimpleNamespace(n=n, weights=[float(w) for w in weights], nbrs=nbrs,
                           costs=[[1.0] * len(nb) for nb in nbrs], tower=[False] * n)  # fmt: skip


def test_a_repair_at_the_lower_bound_spares_the_local_search():
    # Grid 0 (250 + 200 + 150 = 600) is 100 over 500: handing its 150 to grid 1 (200 → 350)
    # moves as few households as any repair can, so the program's plan ends the search.
    units = _row([250, 200, 150, 200])
    job = SimpleNamespace(lo=300, hi=500)
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    labels, score = repair_region([0, 0, 0, 1], units, job, rng, stop_early=True)
    assert labels == [0, 0, 1, 1] and score == (0.0, 150.0, 1)
    assert rng.bit_generator.state == before  # the local search never ran


def test_without_stopping_early_the_search_finds_the_same_repair():
    units = _row([250, 200, 150, 200])
    job = SimpleNamespace(lo=300, hi=500)
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    labels, score = repair_region([0, 0, 0, 1], units, job, rng)
    assert labels == [0, 0, 1, 1] and score == (0.0, 150.0, 1)
    assert rng.bit_generator.state != before  # the local search ran


def test_a_search_draws_once_from_the_callers_generator():
    # Every try draws from a child generator seeded by one draw from the caller's, so what the
    # caller draws next does not depend on how many tries the search made.
    job = SimpleNamespace(lo=300, hi=500)
    cases = [([250, 200, 150, 200], [0, 0, 0, 1]),
             ([250, 200, 150, 200, 120, 300, 200], [0, 0, 0, 1, 1, 2, 2])]  # fmt: skip
    for weights, anchor in cases:
        rng = np.random.default_rng(7)
        repair_region(anchor, _row(weights), job, rng)
        once = np.random.default_rng(7)
        once.integers(2**63)
        assert rng.bit_generator.state == once.bit_generator.state


def test_a_try_draws_from_a_generator_of_its_own():
    from gridmap.plans.planrepair import RepairSearch

    units = _row([250, 200, 150, 200])
    search = RepairSearch(units, Bounds(300, 500), frozenset(), [0, 0, 0, 1],
                          np.random.default_rng(3), [1.0] * 4)  # fmt: skip
    draw = lambda *key: search.child(*key).integers(2**32, size=4).tolist()  # noqa: E731
    first = draw(2, [0, 0, 0, 1], {0, 1}, 0)
    assert draw(2, [0, 0, 0, 1], {0, 1}, 0) == first  # the same try draws the same numbers
    assert draw(2, [0, 0, 0, 1], {0, 1}, 1) != first  # another restart, another stream
    assert draw(2, [0, 0, 1, 1], {0, 1}, 0) != first  # another starting plan
    assert draw(1, [0, 0, 0, 1], {0, 1}, 0) != first  # carving, not the local search


def _search(units, anchor, bounds, **kw):
    from gridmap.plans.planrepair import RepairSearch

    return RepairSearch(units, bounds, frozenset(), anchor, np.random.default_rng(0),
                        [1.0] * len(anchor), **kw)  # fmt: skip


def test_the_wider_ring_is_left_to_the_exact_program_within_its_grids(monkeypatch):
    from gridmap.plans.planrepair import RepairSearch, widening_pass

    # grid 0 (600) is 100 over, grid 1 (200) 100 under; grids 2 and 3 (350) are fine.
    units = _row([250, 200, 150, 200, 350, 350])
    anchor = [0, 0, 0, 1, 2, 3]
    tried = []
    real = RepairSearch.fix
    monkeypatch.setattr(
        RepairSearch, "fix", lambda s, lab, r: tried.append(set(r)) or real(s, lab, r)
    )
    for program, regions in ((None, [{0, 1}, {0, 1, 2}]), ({0, 1, 2, 3}, [{0, 1}])):
        tried.clear()
        out = widening_pass(list(anchor), _search(units, anchor, Bounds(300, 500), program=program))
        assert out == [0, 0, 1, 1, 2, 3] and tried == regions


def test_a_large_programs_plan_within_the_bounds_spares_the_local_search():
    # 7 rows of 8 units; grids are pairs of 150 + 150, but row 3 holds [0, 1], the broken
    # [2, 3, 4] (200 + 100 + 300 = 600) and [5, 6, 7] (3 × 100). Its lightest cover of the
    # excess, the 100 in the middle, would split it (the bound: 100 households), so the
    # cheapest repair hands the 200 to a neighbour (300 -> 500). Two rings around the broken
    # grid hold more than twelve grids: the program's plan is taken without a local search.
    rows, cols = 7, 8
    nbrs = [[] for _ in range(rows * cols)]
    for r in range(rows):
        for c in range(cols):
            v = r * cols + c
            for u in (
                (r + 1) * cols + c if r + 1 < rows else None,
                v + 1 if c + 1 < cols else None,
            ):
                if u is not None:
                    nbrs[v].append(u)
                    nbrs[u].append(v)
    weights = [150.0] * (rows * cols)
    anchor = [r * 4 + c // 2 for r in range(rows) for c in range(cols)]
    middle = 3 * cols
    weights[middle + 2 : middle + 8] = [200.0, 100.0, 300.0, 100.0, 100.0, 100.0]
    anchor[middle + 2 : middle + 8] = [100, 100, 100, 101, 101, 101]
    units = SimpleNamespace(n=len(weights), weights=weights, nbrs=nbrs,
                            costs=[[1.0] * len(nb) for nb in nbrs],
                            tower=[False] * len(weights))  # fmt: skip
    job = SimpleNamespace(lo=300, hi=500)
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    labels, score = repair_region(anchor, units, job, rng, stop_early=True)
    assert score == (0.0, 200.0, 1)
    assert [v for v in range(units.n) if labels[v] != anchor[v]] == [middle + 2]
    assert rng.bit_generator.state == before  # the local search never ran
