"""Fewest households moved: the repair of broken grids as an integer program.

The local search of :mod:`gridmap.plans.planrepair` moves one unit at a time and never leaves the
bounds, so it can end with chains (grid A gives to B, B to C) where a direct hand-over would
move fewer households. :func:`fewest_moves` states the repair around the broken grids as a
mixed-integer program for SciPy's MILP solver (HiGHS): every unit goes to one grid, every grid
is within the bounds and connected, and the households whose grid changes are minimised.

Connectivity is written two ways. The exact one feeds every grid by a flow from a root unit it
keeps (single-commodity flow); it is optimal, and fast on small regions, but HiGHS does not
finish it within seconds for thirty grids, so it runs only on regions of at most
``exact_grids`` grids. The fast one fixes the roots (the units a first solve without
connectivity leaves in place) and lets a unit belong to a grid only next to a unit of that grid
closer to the root; it is sufficient for connectivity, solves in about a second for thirty
grids, and may miss the optimum. One extra grid is opened only when the region's households
do not fit the grids it has.

The plan to repair and how far around its broken grids the program reaches travel together as a
:class:`RepairRegion`. The work is limited, never the time: each solve may explore at most
``node_limit`` branch-and-bound nodes (:class:`SolveLimits`; HiGHS ``mip_max_nodes``, through
SciPy's ``milp``), so equal inputs give equal plans on any machine (the time limit is only a
safety net far above it). The program runs only where it can still improve a plan in hand
(``beat``): the optimum without connectivity comes first; it is the answer when its grids are
connected, and nothing more is solved when it moves as many households as the plan in hand;
otherwise the connected programs carry a cap on the households moved, so that "cannot do
better" is proven from the relaxation at once.
"""

from __future__ import annotations

import heapq
import math
import warnings
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy.optimize import Bounds as VariableBounds
from scipy.optimize import LinearConstraint, milp
from scipy.sparse import coo_array

from gridmap.constraints import Bounds, contiguous
from gridmap.geometry.units import label_adjacency, label_totals

__all__ = [
    "fewest_moves",
    "moves_floor",
    "moves_lower_bound",
    "RepairRegion",
    "SolveLimits",
    "EMPTY_MOVE",
]

_NEW = -1  # the label of the optional extra grid inside the program
EMPTY_MOVE = 0.5
"""Moving a cell without households costs like half a household."""
_UNIT_MOVE = 1e-3  # among equal household counts, move fewer units
_PRESOLVE_PAIRS = 1_000  # the distance program of more unit-grid pairs is solved without presolve


@dataclass(frozen=True)
class SolveLimits:
    """The work any one solve of the program may do (the same for every solve of a repair).

    Parameters
    ----------
    node_limit : int or None
        Branch-and-bound nodes (HiGHS ``mip_max_nodes``): a deterministic limit on the work,
        so a solve stopped there gives the same plan on any machine. ``None``: no limit (to
        find the optimum, as ``bench/redistrict_floor.py``).
    iteration_limit : int or None
        Simplex iterations (HiGHS ``simplex_iteration_limit``), which also bounds the work at
        the root node; deterministic like ``node_limit``. ``None``: no limit.
    time_limit : float
        Seconds: only a safety net far above what the node limit allows (a solve stopped by
        time gives its best plan so far, which may differ between machines).
    """

    node_limit: int | None = 2_000
    iteration_limit: int | None = 200_000
    time_limit: float = 120.0

    def milp_options(self) -> dict:
        """The limits as SciPy ``milp`` options (HiGHS's own names passed on).

        >>> SolveLimits(iteration_limit=None).milp_options()
        {'node_limit': 2000, 'time_limit': 120.0}
        """
        options: dict = {"node_limit": self.node_limit, "time_limit": self.time_limit}
        if self.iteration_limit is not None:
            options["simplex_iteration_limit"] = self.iteration_limit
        return options


_FLOOR_LIMITS = SolveLimits(iteration_limit=None)  # the floor's solve: no iteration limit


@dataclass(frozen=True)
class RepairRegion:
    """A plan to repair and how far around its broken grids the program reaches.

    Parameters
    ----------
    anchor : sequence of int
        Current grid of each unit; every grid connected.
    units
        Contracted units (``weights``, ``nbrs``, ``tower``, ``n``).
    bounds : Bounds
    towers : frozenset of int
        Grids that neither give nor take units.
    rings : int
        Only grids out of bounds and the grids up to ``rings`` steps around them take part
        (:attr:`grids`).
    reach : int
        A unit may join a grid that owns a unit at most ``reach`` steps from it.

    Examples
    --------
    Grid 0 (units 0-2) is over the maximum; grid 1 touches it, grid 2 only touches grid 1:

    >>> from types import SimpleNamespace
    >>> units = SimpleNamespace(n=5, weights=[300, 50, 250, 350, 400],
    ...     nbrs=[[1, 2], [0, 2], [0, 1, 3], [2, 4], [3]], tower=[False] * 5)
    >>> sorted(RepairRegion([0, 0, 0, 1, 2], units, Bounds(300, 500), rings=1).grids)
    [0, 1]
    """

    anchor: Sequence[int]
    units: Any
    bounds: Bounds
    towers: frozenset[int] = frozenset()
    rings: int = 2
    reach: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "anchor", tuple(self.anchor))

    @cached_property
    def totals(self) -> dict[int, float]:
        """Households of each grid under ``anchor``."""
        return label_totals(list(self.anchor), self.units.weights)

    @cached_property
    def grids(self) -> frozenset[int]:
        """The grids the program repairs: the broken ones (towers aside) and ``rings`` around
        them, towers left out; none when nothing is broken."""
        towers, bounds = self.towers, self.bounds
        broken = {g for g, t in self.totals.items() if g not in towers and bounds.violation(t) > 0}
        if not broken:
            return frozenset()
        return frozenset(_around(broken, list(self.anchor), self.units.nbrs, self.rings) - towers)


def fewest_moves(
    region: RepairRegion,
    *,
    exact_grids: int = 12,
    exact_pairs: int = 300,
    limits: SolveLimits = SolveLimits(),
    beat: float | None = None,
) -> list[list[int]]:
    """Repairs that bring every grid within the bounds moving the fewest households.

    Only the grids of ``region`` (:attr:`RepairRegion.grids`) take part; a unit may join a
    grid that owns a unit at most ``region.reach`` steps from it.

    Parameters
    ----------
    region : RepairRegion
        The plan, its bounds and towers, and how far around its broken grids to repair.
    exact_grids, exact_pairs : int
        Largest region (in grids, and in unit–grid pairs) the exact, flow-based program is run
        on: its root node alone took HiGHS 20 s on a region of 10 grids and 433 pairs.
    limits : SolveLimits
        The work any one solve may do.
    beat : float, optional
        Households a plan found otherwise moves: only repairs moving fewer are sought (a
        program that cannot is proven so at once, rather than solved), and when the optimum
        without connectivity is not below it, no connected program is solved at all.

    Returns
    -------
    list of list of int
        Labels of each repair found, fewest households moved first (an extra grid is labelled
        ``max(anchor) + 1``). Empty when no repair within the region keeps every grid
        connected and within the bounds.

    Examples
    --------
    Grid 0 (three units) is 100 households over the maximum, grid 1 100 under the minimum.
    Moving the unit of 250 households fixes both; the unit of 50 alone would not:

    >>> from types import SimpleNamespace
    >>> units = SimpleNamespace(n=4, weights=[300, 50, 250, 200],
    ...     nbrs=[[1, 2], [0, 2], [0, 1, 3], [2]], tower=[False] * 4)
    >>> fewest_moves(RepairRegion([0, 0, 0, 1], units, Bounds(300, 500)))[0]
    [0, 0, 1, 1]
    """
    w, anchor = region.units.weights, list(region.anchor)
    options = limits.milp_options()
    program, first = _first_solve(region, options)
    if program is None:
        return [anchor]  # nothing is broken
    if first is None:
        return []  # not even without connectivity: the region cannot be repaired
    if program.connected(first):
        return [first]  # the optimum without connectivity is connected: nothing moves fewer
    if beat is not None and beat <= _moved(first, anchor, w)[0] + 1e-9:
        return []  # the plan in hand already moves as few households as any repair can
    roots = _kept_roots(first, program)
    # No connected plan moves fewer households than the first solve: told so, HiGHS stops as
    # soon as it finds one that moves as many.
    floor = _moved(first, anchor, w)[0]
    # On large regions HiGHS's presolve of the distance program took longer than the whole
    # solve without it (central Helsinki, 3,600-4,100 pairs: 0.6-1.2 s against 0.2-0.5 s).
    plain = {**options, "presolve": program.pairs <= _PRESOLVE_PAIRS}
    found = [program.solve(plain, contiguity="distance", roots=roots, below=beat, at_least=floor)]
    best = min([_moved(lab, anchor, w)[0] for lab in found if lab is not None] + [beat or np.inf])
    small = len(program.grids) <= exact_grids and program.pairs <= exact_pairs
    if small and best > _moved(first, anchor, w)[0] + 1e-9:  # the flow program may do better
        cap = None if np.isinf(best) else best
        found.append(program.solve(options, contiguity="flow", below=cap, at_least=floor))
    return sorted((lab for lab in found if lab is not None), key=lambda lab: _moved(lab, anchor, w))


def moves_floor(region: RepairRegion, *, limits: SolveLimits = _FLOOR_LIMITS) -> float | None:
    """Households that any repair of the region must move: the optimum without connectivity.

    ``None`` when not even that program has a solution. The default ``limits`` set no
    iteration limit.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> units = SimpleNamespace(n=4, weights=[300, 50, 250, 200],
    ...     nbrs=[[1, 2], [0, 2], [0, 1, 3], [2]], tower=[False] * 4)
    >>> moves_floor(RepairRegion([0, 0, 0, 1], units, Bounds(300, 500)))
    250.0
    """
    program, first = _first_solve(region, limits.milp_options())
    if program is None:
        return 0.0  # nothing is broken
    return None if first is None else float(_moved(first, program.anchor, region.units.weights)[0])


def moves_lower_bound(region: RepairRegion) -> float:
    """Households that every repair within the bounds moves at least, from the grid totals alone.

    A grid above the maximum must give away units holding at least its excess (the lightest
    such set of its own units counts), and a grid below the minimum must take in its
    shortfall, or give all it holds away; each of those units is a household moved. The
    larger of the two sums holds for any repair, however far units travel and whether or not
    grids stay connected, so a plan that moves this many households moves the fewest possible.
    It counts every grid of the plan: the region's ``rings`` and ``reach`` do not matter.

    Examples
    --------
    Grid 0 is 100 households over 500: the lightest of its units that cover that hold 150.

    >>> from types import SimpleNamespace
    >>> units = SimpleNamespace(weights=[300, 150, 200, 400], tower=[False] * 4)
    >>> moves_lower_bound(RepairRegion([0, 0, 0, 1], units, Bounds(300, 500)))
    150.0
    """
    units, bounds, towers = region.units, region.bounds, region.towers
    w = units.weights
    own: dict[int, list[float]] = {}
    for v, g in enumerate(region.anchor):
        if not units.tower[v] and w[v] > 0:
            own.setdefault(g, []).append(float(w[v]))
    give = take = 0.0
    for g, t in region.totals.items():
        if g in towers:
            continue
        if t > bounds.hi:
            give += _lightest_cover(own.get(g, []), t - bounds.hi)
        elif t < bounds.lo:
            take += min(bounds.lo - t, t)
    return max(give, take)


def _lightest_cover(weights: list[float], need: float) -> float:
    """The smallest sum of some of ``weights`` that reaches ``need`` (``need`` when the
    weights are not whole numbers)."""
    if any(x != int(x) for x in weights):
        return need
    reach = 1  # bit s set: some of the weights sum to s
    for x in weights:
        reach |= reach << int(x)
    at_least = reach >> max(0, math.ceil(need))
    if not at_least:
        return need
    return float(max(0, math.ceil(need)) + (at_least & -at_least).bit_length() - 1)


def _first_solve(region: RepairRegion, options: dict):
    """The program around the broken grids and its optimum without connectivity.

    ``(None, None)`` when no grid is broken; ``(program, None)`` when even that program has no
    solution. ``options``: the SciPy ``milp`` options of the solve.
    """
    program = _setup(region)
    if program is None:
        return None, None
    return program, program.solve(options, contiguity=None)


def _setup(region: RepairRegion) -> _Program | None:
    """The program around the broken grids, or None when no grid is broken."""
    grids, units, bounds = region.grids, region.units, region.bounds
    if not grids:
        return None
    anchor = list(region.anchor)
    free = [anchor[v] in grids and not units.tower[v] for v in range(units.n)]
    held = sum(region.totals[g] for g in grids)
    extra = len(grids) * bounds.hi < held <= (len(grids) + 1) * bounds.hi
    candidates = _candidates(anchor, units.nbrs, free, region.reach, extra)
    return _Program(anchor, units, bounds, grids, candidates)


def _moved(labels: list[int], anchor: list[int], w) -> tuple[float, int]:
    away = [v for v, g in enumerate(labels) if g != anchor[v]]
    return sum(w[v] for v in away), len(away)


def _around(grids: set[int], labels: list[int], nbrs, rings: int) -> set[int]:
    """``grids`` and the grids up to ``rings`` steps from them."""
    touching = label_adjacency(labels, nbrs)
    out = set(grids)
    for _ in range(rings):
        out |= {h for g in out for h in touching.get(g, ())}
    return out


def _candidates(anchor, nbrs, free, reach: int, extra: bool) -> dict[int, set[int]]:
    """For each free unit: its grid and the grids of free units within ``reach`` steps."""
    out = {}
    for v in np.flatnonzero(free).tolist():
        seen, queue, grids = {v: 0}, deque([v]), {anchor[v]}
        while queue:
            x = queue.popleft()
            if seen[x] == reach:
                continue
            for y in nbrs[x]:
                if y not in seen and free[y]:
                    seen[y] = seen[x] + 1
                    queue.append(y)
                    grids.add(anchor[y])
        out[v] = grids | {_NEW} if extra else grids
    return out


def _kept_roots(first: list[int], program: _Program) -> dict[int, int]:
    """Each grid's heaviest unit that ``first`` leaves in place (the extra grid's heaviest)."""
    w, anchor, fresh = program.units.weights, program.anchor, max(program.anchor) + 1
    roots: dict[int, int] = {}
    for g in program.grids:
        own = program.inside[g] if g == _NEW else [v for v in program.inside[g] if anchor[v] == g]
        kept = [v for v in own if first[v] == (fresh if g == _NEW else g)]
        if g == _NEW and not kept:
            continue  # the first solve opened no grid
        roots[g] = max(kept or own, key=lambda v: (w[v], -v))
    if _NEW in roots:  # the extra grid starts at a unit its own grid had as root: pick another
        v = roots[_NEW]
        others = [u for u in program.inside[anchor[v]] if anchor[u] == anchor[v] and u != v]
        if roots[anchor[v]] == v and others:
            roots[anchor[v]] = max(others, key=lambda u: (first[u] == anchor[u], w[u], -u))
        elif roots[anchor[v]] == v:
            del roots[_NEW]
    return roots


def _distances(g: int, root: int, anchor, nbrs, may_join) -> dict[int, int]:
    """Steps from ``root``: inside grid ``g`` first, then over units that may join it."""
    dist, queue = {root: 0}, deque([root])
    while queue:
        x = queue.popleft()
        for y in nbrs[x]:
            if y not in dist and anchor[y] == g and g != _NEW:
                dist[y] = dist[x] + 1
                queue.append(y)
    heap = [(d, v) for v, d in dist.items()]
    heapq.heapify(heap)
    while heap:
        d, x = heapq.heappop(heap)
        for y in nbrs[x]:
            if y not in dist and y in may_join:
                dist[y] = d + 1
                heapq.heappush(heap, (d + 1, y))
    return dist


class _Rows:
    """Sparse constraint rows ``lo <= sum(coef * x) <= hi``."""

    def __init__(self) -> None:
        self.row: list[int] = []
        self.col: list[int] = []
        self.coef: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, terms: list[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(self.lo)
        for c, a in terms:
            self.row.append(r)
            self.col.append(c)
            self.coef.append(a)
        self.lo.append(lo)
        self.hi.append(hi)

    def constraint(self, n_vars: int) -> LinearConstraint:
        a = coo_array((self.coef, (self.row, self.col)), shape=(len(self.lo), n_vars))
        return LinearConstraint(a.tocsr(), self.lo, self.hi)


class _Program:
    """The repair program of one region: variables ``x[v, g]`` (unit ``v`` in grid ``g``)."""

    def __init__(self, anchor, units, bounds: Bounds, region: frozenset[int], candidates) -> None:
        self.anchor, self.units, self.bounds, self.candidates = anchor, units, bounds, candidates
        extra = any(_NEW in gs for gs in candidates.values())
        self.grids = sorted(region) + ([_NEW] if extra else [])
        self.inside: dict[int, list[int]] = {g: [] for g in self.grids}
        for v, gs in candidates.items():
            for g in sorted(gs):
                self.inside[g].append(v)
        self.pairs = sum(len(vs) for vs in self.inside.values())

    def solve(
        self,
        options: dict,
        contiguity: str | None,
        roots=None,
        below: float | None = None,
        at_least: float | None = None,
    ) -> list[int] | None:
        """Labels, or None. ``contiguity``: None, ``"distance"`` (needs ``roots``) or ``"flow"``.

        ``options``: the SciPy ``milp`` options of the solve (:meth:`SolveLimits.milp_options`,
        perhaps ``presolve``).
        ``below``: only plans moving fewer households than this are wanted (None when the
        program has none); ``at_least``: households no plan of the program moves fewer than
        (a bound that lets HiGHS stop at the first plan reaching it).
        """
        w, nbrs, anchor = self.units.weights, self.units.nbrs, self.anchor
        may_join = {g: set(self.inside[g]) for g in self.grids}
        if contiguity == "distance":
            grids = [g for g in self.grids if g in roots]
            dist = {g: _distances(g, roots[g], anchor, nbrs, may_join[g]) for g in grids}
            may_join = {g: set(dist[g]) & may_join[g] for g in grids}
        else:
            grids = self.grids
        cost: list[float] = []
        x: dict[tuple[int, int], int] = {}
        for g in grids:
            for v in sorted(may_join[g]):
                x[v, g] = len(cost)
                cost.append(0.0 if anchor[v] == g else (w[v] or EMPTY_MOVE) + _UNIT_MOVE)

        def new_var() -> int:
            cost.append(0.0)
            return len(cost) - 1

        rows, flows, fixed = _Rows(), [], []
        if below is not None or at_least:  # households moved: whole households
            away = [(i, float(w[v])) for (v, g), i in x.items() if anchor[v] != g and w[v]]
            rows.add(away, at_least or -np.inf, np.inf if below is None else below - 1.0)
        for v in self.candidates:
            rows.add([(x[v, g], 1.0) for g in grids if (v, g) in x], 1.0, 1.0)
        for g in grids:
            held = [(x[v, g], float(w[v])) for v in may_join[g]]
            if g == _NEW:  # the extra grid is empty, or within the bounds
                opened = new_var()
                rows.add([*held, (opened, -self.bounds.lo)], 0.0, np.inf)
                rows.add([*held, (opened, -self.bounds.hi)], -np.inf, 0.0)
            else:
                rows.add(held, self.bounds.lo, self.bounds.hi)
            if contiguity == "distance":
                d = dist[g]
                for v in may_join[g] - {roots[g]}:
                    closer = [(x[u, g], -1.0) for u in nbrs[v] if u in d and d[u] < d[v]
                              and (u, g) in x]  # fmt: skip
                    rows.add([(x[v, g], 1.0), *closer], -np.inf, 0.0)
                if g == _NEW:
                    rows.add([(x[roots[g], g], 1.0), (opened, -1.0)], 0.0, 0.0)
                else:
                    fixed.append(x[roots[g], g])
            elif contiguity == "flow":
                flows += self._flow_rows(g, x, rows, new_var, opened if g == _NEW else None)
        low, high = np.zeros(len(cost)), np.ones(len(cost))
        low[fixed] = 1.0
        high[flows] = np.inf
        integer = np.ones(len(cost), dtype=np.uint8)  # milp casts it to uint8 anyway
        integer[flows] = 0
        with warnings.catch_warnings():  # SciPy passes HiGHS's own options on, with a warning
            warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
            result = milp(
                np.asarray(cost),
                constraints=rows.constraint(len(cost)),
                integrality=integer,
                bounds=VariableBounds(low, high),
                # HiGHS options beyond scipy-stubs' _OptionsMILP are passed on on purpose
                options=dict(options),  # type: ignore[arg-type]
            )
        if result.x is None:
            return None
        labels, fresh = list(anchor), max(anchor) + 1
        for (v, g), i in x.items():
            if result.x[i] > 0.5:
                labels[v] = fresh if g == _NEW else g
        return labels

    def connected(self, labels: list[int]) -> bool:
        """Whether every grid of the region is one connected piece under ``labels``."""
        fresh, nbrs = max(self.anchor) + 1, self.units.nbrs
        members: dict[int, list[int]] = {}
        for v, lab in enumerate(labels):
            members.setdefault(lab, []).append(v)
        wanted = {fresh if g == _NEW else g for g in self.grids}
        return all(contiguous(nbrs, vs) for lab, vs in members.items() if lab in wanted)

    def _flow_rows(self, g, x, rows: _Rows, new_var, opened) -> list[int]:
        """Grid ``g`` connected: a root it keeps sends one unit of flow to each of its units."""
        nbrs, members = self.units.nbrs, self.inside[g]
        starts = members if g == _NEW else [v for v in members if self.anchor[v] == g]
        root = {v: new_var() for v in starts}
        for v, r in root.items():
            rows.add([(r, 1.0), (x[v, g], -1.0)], -np.inf, 0.0)
        if opened is None:
            rows.add([(r, 1.0) for r in root.values()], 1.0, 1.0)
        else:
            rows.add([*((r, 1.0) for r in root.values()), (opened, -1.0)], 0.0, 0.0)
        cap, flows = float(len(members)), []
        net: dict[int, list[tuple[int, float]]] = {v: [] for v in members}
        for v in members:
            for u in nbrs[v]:
                if (u, g) in x:
                    f = new_var()
                    flows.append(f)
                    net[v].append((f, 1.0))
                    net[u].append((f, -1.0))
                    rows.add([(f, 1.0), (x[v, g], -cap)], -np.inf, 0.0)
                    rows.add([(f, 1.0), (x[u, g], -cap)], -np.inf, 0.0)
        for v in members:
            lift = [(root[v], cap)] if v in root else []
            rows.add([*net[v], *lift, (x[v, g], -1.0)], 0.0, np.inf)
        return flows
