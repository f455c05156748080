"""Properties of the search itself (:mod:`gridmap.solve.search`) on drawn building layouts.

A layout is a list of buildings ``(x, y, households)`` on a small integer lattice; its graph
joins buildings along their Euclidean minimum spanning tree (so it is connected) and every pair
closer than a drawn radius, with cut cost ``1 / distance`` (near buildings are strongly bound),
much as :func:`gridmap.geometry.adjacency.cell_graph` joins neighbouring cells. Hypothesis
shrinks a failure to fewer buildings, smaller coordinates and households. The examples are
the same on every run (the ``fixed`` Hypothesis profile of ``tests/conftest.py``).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform

from gridmap.constraints import Bounds, contiguous, relaxed_bounds
from gridmap.solve.search import bisect_plan, improve, recombine, violation

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Layout:
    """Buildings of a drawn layout and their neighbour graph (adjacency lists, cut costs)."""

    def __init__(self, buildings: list[tuple[int, int, int]], radius: float) -> None:
        xy = np.array([(x, y) for x, y, _ in buildings], dtype=float)
        self.weights = [float(h) for *_, h in buildings]
        dist = squareform(pdist(xy)) if len(xy) > 1 else np.zeros((1, 1))
        tree = minimum_spanning_tree(dist).toarray() > 0
        near = (dist <= radius) & (dist > 0)
        edges = np.argwhere(np.triu(tree | tree.T | near, 1))
        self.nbrs: list[list[int]] = [[] for _ in buildings]
        self.costs: list[list[float]] = [[] for _ in buildings]
        for a, b in edges.tolist():
            for u, v in ((a, b), (b, a)):
                self.nbrs[u].append(v)
                self.costs[u].append(1.0 / float(dist[a, b]))

    @property
    def n(self) -> int:
        return len(self.weights)

    def total(self) -> float:
        return sum(self.weights)


@st.composite
def layouts(draw, max_buildings: int = 40, max_households: int = 160) -> Layout:
    """Distinct building positions on a 30 × 30 lattice, households, and a neighbour radius."""
    buildings = draw(
        st.lists(
            st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, max_households)),
            min_size=1,
            max_size=max_buildings,
            unique_by=lambda b: (b[0], b[1]),
        )
    )
    return Layout(buildings, draw(st.sampled_from([0.0, 1.5, 4.0, 8.0])))


bounds_st = st.tuples(st.integers(50, 300), st.integers(0, 300)).map(
    lambda t: Bounds(t[0], t[0] + t[1])
)
seeds = st.integers(0, 2**16)


def _grids(labels: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for v, g in enumerate(labels):
        out.setdefault(g, []).append(v)
    return out


def _assert_connected(layout: Layout, labels: list[int]) -> None:
    for g, members in _grids(labels).items():
        assert contiguous(layout.nbrs, members), f"grid {g} is not connected: {members}"


def _start(layout: Layout, bounds: Bounds, seed: int) -> list[int]:
    """Labels of a bisection (each grid connected), as the planner starts the local search."""
    parts = bisect_plan(range(layout.n), layout, bounds, np.random.default_rng(seed))
    labels = [-1] * layout.n
    for i, part in enumerate(parts):
        for v in part:
            labels[v] = i
    return labels


@SETTINGS
@given(layout=layouts(), lo_hi=bounds_st, seed=seeds)
def test_bisect_plan_covers_every_building_once_in_connected_parts(layout, lo_hi, seed):
    bounds = relaxed_bounds(layout.total(), int(lo_hi.lo), int(lo_hi.hi))
    parts = bisect_plan(list(range(layout.n)), layout, bounds, np.random.default_rng(seed))
    flat = sorted(v for p in parts for v in p)
    assert flat == list(range(layout.n))
    for part in parts:
        assert part and contiguous(layout.nbrs, part)
    # only a piece above the maximum is cut
    assert len(parts) == 1 or layout.total() > bounds.hi


@SETTINGS
@given(layout=layouts(), lo_hi=bounds_st, seed=seeds)
def test_bisect_plan_is_a_function_of_its_seed(layout, lo_hi, seed):
    args = (list(range(layout.n)), layout, lo_hi)
    first = bisect_plan(*args, np.random.default_rng(seed))
    assert bisect_plan(*args, np.random.default_rng(seed)) == first


@SETTINGS
@given(layout=layouts(), lo_hi=bounds_st, seed=seeds, data=st.data())
def test_improve_keeps_grids_connected_and_never_grows_the_violation(layout, lo_hi, seed, data):
    start = _start(layout, lo_hi, seed)
    frozen = data.draw(st.lists(st.booleans(), min_size=layout.n, max_size=layout.n))
    out = improve(start, layout, lo_hi, np.random.default_rng(seed), frozen=frozen)
    assert len(out) == layout.n
    assert set(out) == set(start)  # every node labelled, no grid emptied or made up
    _assert_connected(layout, out)
    assert all(out[v] == start[v] for v in range(layout.n) if frozen[v])
    before = violation(start, layout.weights, lo_hi)
    assert violation(out, layout.weights, lo_hi) <= before + 1e-9


@SETTINGS
@given(layout=layouts(), lo_hi=bounds_st, seed=seeds, data=st.data())
def test_improve_leaves_fixed_grids_alone_and_pays_for_moves(layout, lo_hi, seed, data):
    start = _start(layout, lo_hi, seed)
    grids = sorted(set(start))
    fixed = frozenset(data.draw(st.sets(st.sampled_from(grids), max_size=len(grids) - 1)))
    anchor = data.draw(st.permutations(start))  # an "original plan" the moves are paid against
    out = improve(
        start, layout, lo_hi, np.random.default_rng(seed), fixed_labels=fixed, anchor=anchor,
        move_cost=[10.0] * layout.n,
    )  # fmt: skip
    assert {v for v, g in enumerate(out) if g in fixed} == {
        v for v, g in enumerate(start) if g in fixed
    }
    _assert_connected(layout, out)
    free = frozenset(fixed)
    assert (
        violation(out, layout.weights, lo_hi, free)
        <= violation(start, layout.weights, lo_hi, free) + 1e-9
    )


@SETTINGS
@given(layout=layouts(max_households=300), lo_hi=bounds_st, seed=seeds)
def test_recombine_keeps_grids_connected_and_never_grows_the_violation(layout, lo_hi, seed):
    start = _start(layout, lo_hi, seed)
    out = recombine(start, layout, lo_hi, np.random.default_rng(seed), rounds=5)
    assert len(out) == layout.n and min(out) >= 0
    _assert_connected(layout, out)
    before = violation(start, layout.weights, lo_hi)
    assert violation(out, layout.weights, lo_hi) <= before + 1e-9


def test_repair_walk_stops_when_the_violation_stops_falling(monkeypatch):
    """A plan no move can bring nearer the bounds: the repair walk gives up after the stall.

    A path of 30 units of 20 households in two grids of 15 units (300 each) under bounds
    [100, 250]: both grids are over, and a move takes from one what the other gains, so the
    violation (100) never falls. Without the stall rule the walk would try all 60,000 moves
    (some 4,000 of them at the boundary between the grids, each with a connectivity check).
    """
    from gridmap.solve import search

    n = 30
    nbrs = [[u for u in (v - 1, v + 1) if 0 <= u < n] for v in range(n)]
    costs = [[1.0] * len(nb) for nb in nbrs]
    weights = [20.0] * n
    labels = [0] * 15 + [1] * 15
    bounds = Bounds(100, 250)
    checked = []
    real = search.stays_connected

    def counted(v, a, lab, nb):
        checked.append(v)
        return real(v, a, lab, nb)

    monkeypatch.setattr(search, "stays_connected", counted)
    rng = np.random.default_rng(0)
    walk = search._State(list(labels), nbrs, costs, weights, bounds, frozenset(), None, None)
    walk.anneal(list(range(n)), 60_000, np.inf, np.inf, rng, stop_feasible=True, stall=1000)
    assert walk.viol == violation(labels, weights, bounds) == 100
    assert 0 < len(checked) <= 1001
    # The generator ends where the whole walk would have left it: later draws do not change.
    full = np.random.default_rng(0)
    search._State(list(labels), nbrs, costs, weights, bounds, frozenset(), None, None).anneal(
        list(range(n)), 60_000, np.inf, np.inf, full, stop_feasible=True
    )
    assert rng.random() == full.random()
    graph = SimpleNamespace(nbrs=nbrs, costs=costs, weights=weights)
    out = improve(labels, graph, bounds, np.random.default_rng(1), iterations=100)
    assert violation(out, weights, bounds) == 100
