"""The repair search of :func:`gridmap.plans.redistrict.redistrict`: few households moved.

Each broken grid is repaired together with the grids around it, the region widening ring by
ring (:func:`widening_pass`); a region that needs one grid more or less has one carved out or
shared out (:class:`RepairSearch`); if local repair fails everywhere, grids are merged and re-split
(:meth:`RepairSearch.recreate`). The exact program of :mod:`gridmap.solve.fewestmoves` runs after
this search, only where it can still move fewer households, and its plan is kept when it does.
Where no compound is kept whole the program is also solved before the search, which it may
spare (:func:`repair_region`).
:func:`attempt_repair` first keeps compounds whole, then frees those around the repair, and
ranks plans by households out of bounds, compounds split and households moved.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from itertools import combinations

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from gridmap.constraints import Bounds, grid_count_range
from gridmap.constraints import relaxed_bounds as _relaxed_bounds
from gridmap.geometry.adjacency import CellGraph
from gridmap.geometry.units import contract, label_adjacency, label_totals
from gridmap.plans.jobs import CommunityJob
from gridmap.solve.fewestmoves import EMPTY_MOVE, RepairRegion, fewest_moves, moves_lower_bound
from gridmap.solve.search import connected, improve, recombine, stays_connected, violation

__all__ = [
    "attempt_repair",
    "blocks_can_balance",
    "repair_region",
    "RepairSearch",
    "return_home",
    "widening_pass",
]

_TRIES = 4  # local-search restarts per neighbourhood size
_ROUNDS = 3  # local repair then re-creation, at most this many times
_ITERATIONS_PER_UNIT = 150  # proposed moves per movable unit in one local search
_EXACT_FIRST_GRIDS = 12  # a program of at most this many grids is solved before the search
_RINGS = 2  # grids around the broken ones that the exact program repairs
# A larger program solved before the search: one ring, and units travel at most two steps
# (central Helsinki: 900-1,400 unit-grid pairs instead of 3,600-4,100, the same plans).
_FIRST_RINGS, _FIRST_REACH = 1, 2


def attempt_repair(
    graph: CellGraph, comp: np.ndarray, solid_old: np.ndarray, job: CommunityJob, rng
):
    """Repair on ``graph`` splitting as few compounds as it can, then moving few households.

    Compounds are first kept whole; then those in and next to the grids still broken (or, when
    all grids were repaired, next to the grids that changed) are freed, then all of them. A
    freed compound is not always split: a repair is kept when it leaves fewer grids out of
    bounds, or as many and fewer compounds split, or as many and fewer households moved.

    Returns the units, their labels and the plan's rank: (households out of bounds, compounds
    split, households moved, units moved).
    """
    key = np.array(
        [f"{c}|{g}" if c else "" for c, g in zip(comp, solid_old, strict=True)], dtype=object
    )
    has_compounds = bool((comp != "").any())
    units = contract(graph, key, job.hi)
    # Without compounds this is the only search: it may stop once no plan can move fewer
    # households (with compounds, stopping early would change what the next searches draw).
    labels, score = repair_region(_anchor(units, solid_old), units, job, rng,
                                  rounds=0 if has_compounds else _ROUNDS,
                                  stop_early=not has_compounds)  # fmt: skip
    best = (_rank(score, units, labels, comp, solid_old), units, labels)
    if not has_compounds:
        return units, labels, best[0]
    solid_labels = np.asarray(labels, dtype=np.int64)[units.unit_of_cell]
    if score[0] == 0:  # repaired: could freeing the compounds around the repair move fewer?
        near = _near_changed(solid_labels, solid_old, graph)
        steps = [set(comp[near].tolist()) - {""}]
    else:
        near = _near_broken(solid_labels, graph, units.unit_of_cell, units.tower, job)
        steps = [set(comp[near].tolist()) - {""}, set(comp.tolist()) - {""}]
    for free in steps:
        if not free:
            continue
        loose = contract(graph, np.where(np.isin(comp, sorted(free)), "", key), job.hi)
        labels2, score2 = repair_region(_anchor(loose, solid_old), loose, job, rng)
        rank = _rank(score2, loose, labels2, comp, solid_old)
        if rank < best[0]:
            best = (rank, loose, labels2)
        if best[0][0] == 0:
            break
    return best[1], best[2], best[0]


def blocks_can_balance(graph: CellGraph, job: CommunityJob) -> bool:
    """Whether every connected piece of ``graph`` holds households some grids can share.

    A necessary condition for a repair on ``graph`` with every grid within the bounds (those
    that :func:`repair_region` uses): each connected piece (on the street-block graph, a group
    of blocks joined by current grids) must hold a number of households that some number of
    grids can share. Buildings above the maximum are left out (each is a grid of its own).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> job = SimpleNamespace(lo=300, hi=500)
    >>> pieces = SimpleNamespace(n=3, weights=np.array([400, 200, 350]),
    ...                          edges=np.array([[0, 1]]).reshape(-1, 2))
    >>> blocks_can_balance(pieces, job)  # 600 and 350 households: 2 grids and 1
    True
    >>> blocks_can_balance(SimpleNamespace(n=3, weights=np.array([400, 150, 350]),
    ...                                    edges=pieces.edges), job)  # 550: neither 1 nor 2
    False
    """
    w = np.asarray(graph.weights, dtype=float)
    tower = w > job.hi
    total = float(w[~tower].sum())
    bounds = _relaxed_bounds(total, job.lo, job.hi) if total else Bounds(job.lo, job.hi)
    edges = np.asarray(graph.edges).reshape(-1, 2)
    adjacency = coo_array((np.ones(len(edges)), (edges[:, 0], edges[:, 1])),
                          shape=(graph.n, graph.n))  # fmt: skip
    _, piece = connected_components(adjacency, directed=False)
    held = np.bincount(piece[~tower], w[~tower], minlength=int(piece.max(initial=0)) + 1)
    return all(h <= 0 or len(grid_count_range(h, bounds.lo, bounds.hi)) for h in held.tolist())


def _rank(score, units, labels, comp: np.ndarray, solid_old: np.ndarray) -> tuple:
    """(households out of bounds, compounds split, households moved, units moved)."""
    solid_labels = np.asarray(labels, dtype=np.int64)[units.unit_of_cell]
    split = 0
    for c in set(comp.tolist()) - {""}:
        mask = comp == c
        split += len(set(solid_old[mask].tolist())) == 1 < len(set(solid_labels[mask].tolist()))
    return (score[0], split, *score[1:])


def _near_changed(solid_labels, solid_old, graph: CellGraph) -> np.ndarray:
    """Solids of grids that gained or lost a solid, and of the grids next to them."""
    grids = set(solid_labels[solid_labels != solid_old].tolist())
    grids |= set(solid_old[solid_labels != solid_old].tolist())
    a, b = solid_labels[graph.edges[:, 0]], solid_labels[graph.edges[:, 1]]
    grids |= set(b[np.isin(a, sorted(grids))].tolist()) | set(a[np.isin(b, sorted(grids))].tolist())
    return np.isin(solid_labels, sorted(grids))


def _anchor(units, solid_old: np.ndarray) -> list[int]:
    first = np.unique(units.unit_of_cell, return_index=True)[1]
    return solid_old[first].tolist()


def _near_broken(solid_labels, graph: CellGraph, unit_of, tower, job: CommunityJob) -> np.ndarray:
    """Solids in a grid out of bounds or next to one (towers' own grids are not broken)."""
    w = graph.weights
    totals = np.bincount(solid_labels, w)
    lone = np.zeros(len(totals), dtype=bool)
    lone[solid_labels[tower[unit_of]]] = True
    total = float(w[~tower[unit_of]].sum())
    bounds = _relaxed_bounds(total, job.lo, job.hi) if total else Bounds(job.lo, job.hi)
    bad = ~lone & ((totals < bounds.lo) | (totals > bounds.hi)) & (totals > 0)
    grids = set(np.flatnonzero(bad).tolist())
    a, b = solid_labels[graph.edges[:, 0]], solid_labels[graph.edges[:, 1]]
    grids |= set(b[np.isin(a, sorted(grids))].tolist()) | set(a[np.isin(b, sorted(grids))].tolist())
    return np.isin(solid_labels, sorted(grids))


def repair_region(
    anchor: list[int],
    units,
    job: CommunityJob,
    rng,
    rounds: int = _ROUNDS,
    stop_early: bool = False,
) -> tuple:
    """Labels per unit (the anchor where grids are valid, repaired where they are not), score.

    Each broken grid is repaired together with the grids around it; the region widens ring by
    ring (up to the whole community) until its grids can be brought within the bounds. When
    the region's households need more (or fewer) grids than it has, a new grid is carved out
    of the fullest grids (or the emptiest grid is shared out among its neighbours) before the
    local search. The score is (households outside the bounds, households moved, units moved).

    With ``stop_early`` (when nothing draws from ``rng`` after this search), the search stops
    as soon as a plan moves no more households than any repair must
    (:func:`gridmap.solve.fewestmoves.moves_lower_bound`), and the exact program is solved
    before the local search: its plan spares the search when it reaches that bound, or, on a
    region of more than ``_EXACT_FIRST_GRIDS`` grids, when it is within the bounds at all.
    The exact program runs after the search only when the bound leaves room to move fewer.
    """
    weights = units.weights
    anchor = _split_towers(anchor, units)
    towers = _tower_labels(anchor, units)
    total = sum(w for v, w in enumerate(weights) if not units.tower[v])
    bounds = _relaxed_bounds(total, job.lo, job.hi) if total else Bounds(job.lo, job.hi)
    if 0 < total < job.lo:  # too few households for any grid in bounds: one grid, as partition
        held = label_totals(anchor, weights)
        keep = max(set(anchor) - towers, key=lambda g: (held[g], -g))
        return [g if g in towers else keep for g in anchor], (0.0, 0.0, 0)
    if not violation(anchor, weights, bounds, towers):
        return anchor, (0.0, 0.0, 0)  # nothing to repair
    scale = sum(c for cs in units.costs for c in cs) + 1.0
    repair = RepairRegion(anchor, units, bounds, towers, rings=_RINGS)
    floor = moves_lower_bound(repair)
    region = repair.grids
    search = RepairSearch(units, bounds, towers, anchor, rng,
                     [scale * (w if w > 0 else EMPTY_MOVE) for w in weights],
                     floor=floor if stop_early else None, program=region)  # fmt: skip
    large = len(region) > _EXACT_FIRST_GRIDS  # the flow program never runs on it
    if stop_early:
        # The program is solved first (without the flow program, which needs the search's
        # plan as a cap; on a large region a smaller one, see _FIRST_RINGS). Its plan
        # ends the repair when it moves as few households as any repair can, and on a large
        # region whenever it is within the bounds: there the local search cost as much as the
        # program and its plans lost to the program's on every central Helsinki change (159,
        # 172, 201 households against 151, 153, 195, which one ring finds as well as two).
        smaller = replace(repair, rings=_FIRST_RINGS, reach=_FIRST_REACH) if large else repair
        first = _settled(fewest_moves(smaller, exact_grids=0), search)
        if first and (search.optimal(first[0]) or large and search.score(first[0])[0] == 0):
            return first[0], search.score(first[0])
    lab = widening_pass(list(anchor), search)
    for _ in range(rounds):
        if not violation(lab, weights, bounds, towers):
            break
        lab = search.recreate(lab)  # local repair failed everywhere: re-create grids
        lab = widening_pass(lab, search)
    lab = return_home(lab, units, anchor, bounds, towers)
    done = search.score(lab)
    beat = done[1] if done[0] == 0 else None  # the program runs only where it can do better
    exact = []
    if beat is None or beat > floor + 1e-9:  # else no repair moves fewer households
        exact = _settled(fewest_moves(repair, beat=beat), search)
    for plan in exact:
        if search.score(plan) < search.score(lab):
            lab = plan
    return lab, search.score(lab)


def _settled(plans: list[list[int]], search: RepairSearch) -> list[list[int]]:
    """The program's plans after :func:`return_home`, fewest households moved first."""
    u, a, b, t = search.units, search.anchor, search.bounds, search.towers
    return sorted((return_home(p, u, a, b, t) for p in plans), key=search.score)


def return_home(
    lab: list[int], units, anchor: list[int], bounds: Bounds, towers: frozenset[int] = frozenset()
) -> list[int]:
    """Move units back to their ``anchor`` grid, alone or in exchange for one unit.

    The local search moves one unit at a time and never leaves the bounds, so once grid A has
    given a building to B and B one to A it cannot undo the pair. Here each moved unit is tried
    back in its original grid, alone when both grids stay within the bounds, else together with
    one unit of that grid going the other way (for example A's building back from B and B's
    building back from A). A step is taken only when both grids stay connected and within the
    bounds (or no further out than before) and fewer households (then fewer units) are moved.

    Parameters
    ----------
    lab : list of int
        Grid label of each unit after repair.
    units
        Contracted units (``weights``, ``nbrs``, ``tower``).
    anchor : list of int
        Original grid of each unit.
    bounds : Bounds
    towers : frozenset of int
        Grids that neither give nor take units.

    Returns
    -------
    list of int
        Labels moving no more households than ``lab``, with no grid further out of bounds.

    Examples
    --------
    A 2 × 2 block (top row grid 0, bottom row grid 1) whose grids swapped a unit each, so
    that each now holds a column; no unit can go back alone within 300–400 households:

    >>> from types import SimpleNamespace
    >>> units = SimpleNamespace(weights=[200, 150, 150, 200],
    ...                         nbrs=[[1, 2], [0, 3], [0, 3], [1, 2]], tower=[False] * 4)
    >>> return_home([0, 1, 0, 1], units, [0, 0, 1, 1], Bounds(300, 400))
    [0, 0, 1, 1]
    """
    w = units.weights
    lab = list(lab)
    totals = label_totals(lab, w)
    members: dict[int, set[int]] = {}
    for v, g in enumerate(lab):
        members.setdefault(g, set()).add(v)

    def cost(x: int, g: int) -> tuple[float, int]:  # households and units moved if x is in g
        return (w[x], 1) if g != anchor[x] else (0.0, 0)

    def fits(g: int, new: float) -> bool:
        return bounds.violation(new) <= bounds.violation(totals[g]) + 1e-9

    for _ in range(len(lab)):  # each round takes at least one step, or we stop
        pairs: dict[tuple[int, int], list[int]] = {}
        for v in range(len(lab)):
            g, h = lab[v], anchor[v]
            if g != h and h in members and not ({g, h} & towers) and not units.tower[v]:
                pairs.setdefault((g, h), []).append(v)
        best = None
        for (g, h), away in sorted(pairs.items()):
            step = _best_exchange(g, h, away, lab, members, totals, units, cost, fits)
            if step is not None and (best is None or step[0] < best[0]):
                best = step
        if best is None:
            break
        _, home, back, g, h = best
        for v in home:
            _relabel(lab, members, totals, w, v, h)
        for x in back:
            _relabel(lab, members, totals, w, x, g)
    return lab


def _best_exchange(g, h, away, lab, members, totals, units, cost, fits):
    """Best (gain, home, back, g, h): units of ``away`` home to ``h``, ``back`` from h to g."""
    w, nbrs = units.weights, units.nbrs
    near_h = [v for v in away if any(lab[y] == h for y in nbrs[v])]
    homes = [(v,) for v in near_h] + list(combinations(near_h, 2))
    border = sorted(
        x for x in members[h] if not units.tower[x] and any(lab[y] == g for y in nbrs[x])
    )
    backs = [(), *((x,) for x in border), *combinations(border, 2)]
    best = None
    for home in homes:
        if len(members[g]) <= len(home):
            continue
        wh = sum(w[v] for v in home)
        for back in backs:
            wb = sum(w[x] for x in back)
            gain = (
                sum(cost(x, g)[0] - cost(x, h)[0] for x in back) - wh,
                sum(cost(x, g)[1] - cost(x, h)[1] for x in back) - len(home),
            )
            if gain >= (0.0, 0) or (best is not None and gain >= best[0]):
                continue
            if not (fits(g, totals[g] - wh + wb) and fits(h, totals[h] + wh - wb)):
                continue
            if connected(members[g] - set(home) | set(back), nbrs) and connected(
                members[h] - set(back) | set(home), nbrs
            ):
                best = (gain, home, back, g, h)
    return best


def _relabel(lab, members, totals, w, v: int, g: int) -> None:
    old = lab[v]
    lab[v] = g
    members[old].discard(v)
    members[g].add(v)
    totals[old] -= w[v]
    totals[g] += w[v]


def _split_towers(anchor: list[int], units) -> list[int]:
    """A tower (one building above the maximum) sharing a grid with households gets its own."""
    out = list(anchor)
    fresh = max(out, default=-1) + 1
    for t in np.flatnonzero(units.tower).tolist():
        g = out[t]
        others = [v for v, lab in enumerate(out) if lab == g and v != t and units.weights[v] > 0]
        if others:
            out[t] = fresh
            fresh += 1
    return out


def widening_pass(lab: list[int], search: RepairSearch) -> list[int]:
    """Repair each broken grid with the grids around it, widening the region while that fails.

    Once a region is repaired, the region one ring wider is tried too and kept if it moves
    fewer households: more grids around a broken one can often share its surplus out in
    smaller pieces than a tight ring that has to pass buildings along a chain. A wider ring
    within the grids of the exact program (``search.program``) is not tried: the program,
    which runs after the search on those grids, seeks the plan moving the fewest households
    there itself (on central Helsinki it beat those tries anyway).
    """
    weights, bounds, nbrs = search.units.weights, search.bounds, search.units.nbrs
    for _ in range(len(set(lab))):  # each repair fixes at least one grid, or we stop
        totals = label_totals(lab, weights)
        broken = [g for g in totals if g not in search.towers and bounds.violation(totals[g])]
        if not broken:
            break
        g = max(broken, key=lambda h: (bounds.violation(totals[h]), -h))
        everything = set(totals) - search.towers
        region, fixed = {g}, None
        while fixed is None:
            adjacency = label_adjacency(lab, nbrs)
            wider = region | {h for r in region for h in adjacency.get(r, ())} - search.towers
            if wider == region:
                wider = everything  # an island of grids: take the whole community
            region = wider
            candidate = search.fix(lab, region)
            if candidate is not None and search.score(candidate, region)[0] == 0:
                fixed = candidate
                if search.optimal(fixed):
                    return fixed  # every grid within the bounds, as few households moved as can be
                if region < everything:  # one ring wider may need fewer moves
                    adjacency = label_adjacency(lab, nbrs)
                    wider = region | {h for r in region for h in adjacency.get(r, ())}
                    wider -= search.towers
                    # Within the exact program's grids the program seeks that plan itself.
                    left = search.program is not None and wider <= search.program
                    other = None if left else search.fix(lab, wider)
                    if (
                        other is not None
                        and search.score(other, wider)[0] == 0
                        and (search.score(other) < search.score(fixed))
                    ):
                        fixed = other
            elif region >= everything:
                break
        if fixed is None or search.score(fixed)[0] >= search.score(lab)[0]:
            break  # no region around this grid can be repaired: re-create grids
        lab = fixed
    return lab


class RepairSearch:
    """Local search from a plan towards the bounds, with a cost on every household moved."""

    def __init__(
        self,
        units,
        bounds: Bounds,
        towers,
        anchor,
        rng,
        move_cost,
        floor: float | None = None,
        program: frozenset[int] | None = None,
    ) -> None:
        self.units, self.bounds, self.towers, self.anchor = units, bounds, towers, anchor
        self.move_cost = move_cost
        # One draw from ``rng`` (at the first try) seeds every random choice of this search:
        # each carving try, local-search restart and re-creation draws from its own child
        # generator, keyed by its input plan, region and try number. Cutting work in one place
        # (a restart less) then leaves what every other try draws unchanged.
        self._rng = rng
        self._root: int | None = None
        self.floor = floor  # households any repair moves at least; None: never stop early
        # The grids the exact program repairs after the search (None: unknown): a region
        # within them is left to it rather than tried one ring wider.
        self.program = program
        self._checked: tuple[tuple[int, ...], bool] | None = None  # the last plan optimal() saw

    def child(self, stage: int, lab: list[int], region: set[int] | None, attempt: int):
        """The generator of one try: a child of this search's seed, keyed by what it starts from."""
        if self._root is None:
            self._root = int(self._rng.integers(2**63))
        key = [stage, _crc(lab), _crc(sorted(region)) if region is not None else 0, attempt]
        return np.random.default_rng(np.random.SeedSequence(self._root, spawn_key=key))

    def optimal(self, lab: list[int]) -> bool:
        """Whether ``lab`` has every grid within the bounds and, once units went home
        (:func:`return_home`), moves no more households than any repair must: no search
        can do better."""
        if self.floor is None:
            return False
        key = tuple(lab)
        if self._checked is None or self._checked[0] != key:  # the best of tries is seen often
            done = self.score(lab)
            if done[0] == 0 and done[1] > self.floor + 1e-9:
                home = return_home(lab, self.units, self.anchor, self.bounds, self.towers)
                done = self.score(home)
            self._checked = (key, done[0] == 0 and done[1] <= self.floor + 1e-9)
        return self._checked[1]

    def score(self, lab: list[int], region: set[int] | None = None) -> tuple:
        """(violation in ``region`` or everywhere, households moved, units moved)."""
        w = self.units.weights
        fixed = self.towers | (frozenset(set(lab) - region) if region is not None else set())
        moved = [v for v in range(len(lab)) if lab[v] != self.anchor[v]]
        return (round(violation(lab, w, self.bounds, frozenset(fixed)), 6),
                sum(w[v] for v in moved), len(moved))  # fmt: skip

    def fix(self, lab: list[int], region: set[int]) -> list[int] | None:
        """Bring the grids of ``region`` within the bounds, adding or removing grids if needed.

        ``None`` when no number of grids can hold the region's households.
        """
        w, b = self.units.weights, self.bounds
        totals = label_totals(lab, w)
        held = sum(totals[g] for g in region)
        counts = grid_count_range(held, b.lo, b.hi)
        if not len(counts):
            return None
        k = min(counts, key=lambda c: (abs(c - len(region)), c))
        best = None
        for attempt in range(_TRIES if k != len(region) else 1):
            out, reg = list(lab), set(region)
            rng = self.child(1, lab, region, attempt)
            while len(reg) < k and self._carve(out, reg, rng):
                pass
            while len(reg) > k and self._dissolve(out, reg):
                pass
            out = self.local(out, reg, salt=attempt)
            if best is None or self.score(out, reg) < self.score(best[0], best[1]):
                best = (out, reg)
            if best[0] is out and self.score(out, reg)[0] == 0 and k == len(region):
                break
        assert best is not None  # at least one try
        return best[0]

    def _carve(self, lab: list[int], region: set[int], rng) -> bool:
        """Grow a new grid in ``region`` from the fullest grid, taking what the others spare."""
        u, b = self.units, self.bounds
        members: dict[int, set[int]] = {}
        for v, g in enumerate(lab):
            if g in region:
                members.setdefault(g, set()).add(v)
        totals = {g: sum(u.weights[v] for v in m) for g, m in members.items()}
        donor = max(totals, key=lambda g: (totals[g], -g))
        pool = [v for v in members[donor] if u.weights[v] > 0 and not u.tower[v]]
        pool = pool or [v for v in members[donor] if not u.tower[v]]
        if len(members[donor]) < 2 or not pool:
            return False
        new = max(lab) + 1
        seed = pool[int(rng.integers(len(pool)))]
        lab[seed] = new
        members[donor].discard(seed)
        totals[donor] -= u.weights[seed]
        mine, got = {seed}, u.weights[seed]
        while True:
            excess = {g: totals[g] - b.hi for g in totals}
            if got >= b.lo and all(e <= 0 for e in excess.values()):
                break
            best = None
            for v in {x for m in mine for x in u.nbrs[m]} - mine:
                g = lab[v]
                if g not in members or u.tower[v] or len(members[g]) < 2:
                    continue
                wv = u.weights[v]
                if got + wv > b.hi:
                    continue
                if excess[g] > 0:
                    key = (0, -excess[g], -wv)
                elif totals[g] - wv >= b.lo and got < b.lo:
                    key = (1, -(totals[g] - wv), wv)
                elif wv == 0 and got < b.lo:
                    key = (2, 0, 0)
                else:
                    continue
                if (best is None or key < best[0]) and stays_connected(v, g, lab, u.nbrs):
                    best = (key, v)
            if best is None:
                break
            v = best[1]
            g = lab[v]
            lab[v] = new
            members[g].discard(v)
            totals[g] -= u.weights[v]
            mine.add(v)
            got += u.weights[v]
        region.add(new)
        return True

    def _dissolve(self, lab: list[int], region: set[int]) -> bool:
        """Share the emptiest grid of ``region`` out among its neighbours in the region."""
        u = self.units
        totals = label_totals(lab, u.weights)
        g = min(region, key=lambda h: (totals.get(h, 0.0), h))
        rest = region - {g}
        left = _members(lab, g)
        while left:
            placed = []
            for v in left:
                near = [lab[x] for x in u.nbrs[v] if lab[x] in rest]
                if near:
                    h = min(near, key=lambda x: (totals[x], x))
                    lab[v] = h
                    totals[h] += u.weights[v]
                    placed.append(v)
            if not placed:
                for v in left:  # no neighbour in the region: the grid stays
                    lab[v] = g
                return False
            left = [v for v in left if v not in placed]
        region.discard(g)
        return True

    def local(self, lab: list[int], region: set[int], salt: int = 0) -> list[int]:
        """Best of a few local searches that move units between the grids of ``region``.

        Each restart draws from its own child generator (``salt`` tells the callers' tries
        apart), so stopping early changes no other search's draws.
        """
        u = self.units
        fixed = frozenset(set(lab) - region) | self.towers
        frozen = [bool(t) or lab[v] in fixed for v, t in enumerate(u.tower)]
        iters = _ITERATIONS_PER_UNIT * max(1, frozen.count(False))
        best = None
        for restart in range(_TRIES):
            rng = self.child(2, lab, region, salt * _TRIES + restart)
            out = improve(lab, u, self.bounds, rng, frozen=frozen,
                          fixed_labels=fixed, anchor=self.anchor, move_cost=self.move_cost,
                          iterations=iters)  # fmt: skip
            if best is None or self.score(out, region) < self.score(best, region):
                best = out
            if self.score(best, region)[0] == 0 and self.score(lab, region)[0] == 0:
                break
            if self.optimal(best):
                break  # no other try can move fewer households
        assert best is not None  # _TRIES >= 1
        return best

    def recreate(self, lab: list[int]) -> list[int]:
        """Merge broken grids with neighbours and re-split them, then settle the moves."""
        u = self.units
        best = lab
        for attempt in range(_TRIES):
            rng = self.child(3, lab, None, attempt)
            out = recombine(lab, u, self.bounds, rng, fixed_labels=self.towers)
            out = _closest_labels(out, self.anchor, u.weights)
            touched = {out[v] for v in range(len(out)) if out[v] != lab[v]}
            touched |= {lab[v] for v in range(len(out)) if out[v] != lab[v]}
            region = touched | {h for g in touched for h in label_adjacency(out, u.nbrs).get(g, ())}
            out = self.local(out, (region & set(out)) - self.towers, salt=_TRIES + attempt)
            if self.score(out) < self.score(best):
                best = out
        return best


def _crc(values) -> int:
    return zlib.crc32(np.asarray(values, dtype=np.int64).tobytes())


def _closest_labels(lab: list[int], anchor: list[int], weights) -> list[int]:
    """Rename grids so each takes the anchor label it shares most households with."""
    shared: dict[tuple[int, int], float] = {}
    for v, (g, a) in enumerate(zip(lab, anchor, strict=True)):
        shared[g, a] = shared.get((g, a), 0.0) + weights[v] + 1e-6
    rename: dict[int, int] = {}
    taken: set[int] = set()
    for (g, a), _s in sorted(shared.items(), key=lambda kv: -kv[1]):
        if g not in rename and a not in taken:
            rename[g] = a
            taken.add(a)
    fresh = max([*lab, *anchor], default=-1) + 1
    for g in sorted(set(lab) - set(rename)):
        rename[g] = fresh
        fresh += 1
    return [rename[g] for g in lab]


def _tower_labels(anchor: list[int], units) -> frozenset[int]:
    """Grids made of one building above the maximum (and empty cells): never repaired."""
    out = set()
    for g in set(anchor):
        members = _members(anchor, g)
        if any(units.tower[v] for v in members) and all(
            units.tower[v] or units.weights[v] == 0 for v in members
        ):
            out.add(g)
    return frozenset(out)


def _members(labels: list[int], g: int) -> list[int]:
    return [v for v, lab in enumerate(labels) if lab == g]
