"""Merges of unbalanced groups: which neighbouring groups are tried."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from gridmap.geometry.adjacency import CellGraph
from gridmap.plans import partition as part
from gridmap.plans.planner import GroupPlan


def _graph(n: int, edges: list[tuple[int, int]], weights: list[int]) -> CellGraph:
    e = np.array(edges, dtype=np.int64)
    ones = np.ones(len(e))
    return CellGraph(n, e, ones, ones, 0 * ones, ones, np.array(weights, dtype=np.int64))


def test_neighbours_away_from_the_broken_grids_and_failed_unions_are_not_tried(monkeypatch):
    # Group A (cells 0-3): grid 0 (cell 0, 200 households) is under the minimum, grid 1 (cell 1)
    # is next to it, grids 2 and 3 are in bounds and away from it. B touches grid 1, C only
    # grid 3, D the broken grid itself. E (cell 7, 250) balances only with F (cell 8, 300).
    graph = _graph(
        9,
        [(0, 1), (0, 6), (1, 2), (1, 4), (2, 3), (3, 5), (7, 8)],
        [200, 350, 350, 350, 400, 400, 400, 250, 300],
    )
    job = SimpleNamespace(lo=300, hi=500)

    def plan(cells, labels, v):
        return GroupPlan(np.array(cells), np.array(labels), v)

    plans = [
        plan([0, 1, 2, 3], [0, 1, 2, 3], 100.0),  # A
        plan([4], [0], 0.0),  # B
        plan([5], [0], 0.0),  # C
        plan([6], [0], 0.0),  # D
        plan([7], [0], 50.0),  # E
        plan([8], [0], 0.0),  # F
    ]
    tried = []

    def fake_plan_group(cells, graph_, cell_compound, job_, rng, budget):
        tried.append(cells.tolist())
        good = set(cells.tolist()) == {7, 8}
        return GroupPlan(cells, np.zeros(len(cells), dtype=np.int64), 0.0 if good else 999.0)

    monkeypatch.setattr(part, "plan_group", fake_plan_group)
    merges: list = []
    cell_block = np.arange(9)
    out = part._merge_unbalanced(
        plans, graph, None, cell_block, merges, job, np.random.default_rng(0), None
    )
    # Round 1: A with B and D (C reaches neither the broken grid nor its neighbour), then E
    # with F, which balances. Round 2: A's unions already failed and are not planned again.
    assert tried == [[0, 1, 2, 3, 4], [0, 1, 2, 3, 6], [7, 8]]
    assert len(merges) == 1 and merges[0].kind == "unbalanced"
    assert sorted(p.cells.tolist() for p in out) == [[0, 1, 2, 3], [4], [5], [6], [7, 8]]


def test_a_neighbour_touching_only_grids_in_bounds_far_from_the_broken_one_is_not_reached():
    graph = _graph(6, [(0, 1), (1, 2), (1, 4), (2, 3), (3, 5)], [200, 350, 350, 350, 400, 400])
    job = SimpleNamespace(lo=300, hi=500)
    plans = [
        GroupPlan(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), 100.0),
        GroupPlan(np.array([4]), np.array([0]), 0.0),
        GroupPlan(np.array([5]), np.array([0]), 0.0),
    ]
    group_of = part._group_of(plans, graph.n)
    reach, promising = part._near_broken(plans[0], graph, None, job, group_of, len(plans))
    assert reach[1] and not reach[2]
    assert (promising == reach).all()
    # A tower above the maximum is no broken grid: next to it nothing is reached.
    tower = _graph(3, [(0, 1), (1, 2)], [600, 400, 400])
    plans = [
        GroupPlan(np.array([0, 1]), np.array([0, 1]), 0.0),
        GroupPlan(np.array([2]), np.array([0]), 0.0),
    ]
    reach, promising = part._near_broken(plans[0], tower, None, job, part._group_of(plans, 3), 2)
    assert not reach.any() and not promising.any()


def test_a_broken_grid_of_whole_compounds_is_tried_from_afar_only_once(monkeypatch):
    # Group A: grid 0 is compound "k" (cells 0 and 1, 200 households, it fits), under the
    # minimum; grid 1 (cell 2, 480) is its only neighbour. B and C touch grid 1 only, D touches
    # the broken grid itself. After B fails, C (which reaches it the same way) is not tried; D is.
    graph = _graph(
        6,
        [(0, 1), (1, 2), (2, 3), (2, 4), (0, 5)],
        [100, 100, 480, 400, 400, 400],
    )
    job = SimpleNamespace(lo=300, hi=500)
    plans = [
        GroupPlan(np.array([0, 1, 2]), np.array([0, 0, 1]), 100.0),  # A
        GroupPlan(np.array([3]), np.array([0]), 0.0),  # B
        GroupPlan(np.array([4]), np.array([0]), 0.0),  # C
        GroupPlan(np.array([5]), np.array([0]), 0.0),  # D
    ]
    compound = np.array(["k", "k", "", "", "", ""], dtype=object)
    reach, promising = part._near_broken(
        plans[0], graph, compound, job, part._group_of(plans, 6), len(plans)
    )
    assert reach.tolist() == [True, True, True, True]
    assert promising.tolist() == [True, False, False, True]
    # Without the compound, grid 0 holds loose households: everything reached is promising.
    _, loose = part._near_broken(plans[0], graph, None, job, part._group_of(plans, 6), len(plans))
    assert loose.tolist() == [True, True, True, True]
    tried = []

    def fake_plan_group(cells, graph_, cell_compound, job_, rng, budget):
        tried.append(cells.tolist())
        return GroupPlan(cells, np.zeros(len(cells), dtype=np.int64), 999.0)

    monkeypatch.setattr(part, "_neighbour_groups", lambda plans_, i, graph_, go: [1, 2, 3])
    monkeypatch.setattr(part, "plan_group", fake_plan_group)
    part._merge_unbalanced(plans, graph, compound, np.arange(6), [], job, None, None)
    assert tried == [[0, 1, 2, 3], [0, 1, 2, 5]]
