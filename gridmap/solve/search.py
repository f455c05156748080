"""Construct a balanced plan on a weighted graph, then improve it by local search.

The graph (:class:`WeightedGraph`) is given as adjacency lists (``nbrs[v]`` neighbour ids,
``costs[v]`` cut costs) and household weights. Construction is recursive bisection over random
maximum spanning trees (strong bonds inside, cheap street edges left for the cut) with a
balance test that knows both bounds: a piece of ``W`` households is only cut off when some
number of grids can hold it. Local search moves single boundary units between neighbouring
grids, keeping every grid connected and never increasing the household violation, and
minimises cut cost (plus an optional cost for moving a unit away from its original grid) by
simulated annealing.

Both steps are pure functions of their inputs and an explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from gridmap.constraints import Bounds, grid_count_range

__all__ = [
    "WeightedGraph",
    "bisect_plan",
    "connected",
    "improve",
    "recombine",
    "plan_cost",
    "stays_connected",
    "violation",
]

_TREE_TRIES = 12
_CANDIDATES = 12
_BALANCE_SLACK = 0.35  # in grids: candidates this close to the best balance compete on cut cost
_ITERATIONS_PER_UNIT = 60
_T_START = 0.5  # times the median edge cost
_T_END = 0.005
_REPAIR_FACTOR = 3  # repair walk may take this many times the annealing moves
_CHUNK = 4096  # draws of a repair walk converted to Python numbers at a time
# A repair walk whose violation has not fallen for this many proposed moves (or this many per
# movable unit, if more) stops: on a district the violation, when it fell at all, fell again
# within 374 moves, and nine tenths of the repair moves came after the last fall.
_STALL_MOVES = 1000
_STALL_PER_UNIT = 10


def violation(
    labels: Sequence[int],
    weights: Sequence[float],
    bounds: Bounds,
    fixed: frozenset[int] = frozenset(),
) -> float:
    """Total households outside the bounds over all grids not in ``fixed``."""
    totals: dict[int, float] = {}
    for v, lab in enumerate(labels):
        totals[lab] = totals.get(lab, 0.0) + weights[v]
    return sum(bounds.violation(w) for lab, w in totals.items() if lab not in fixed)


def plan_cost(
    labels: Sequence[int], nbrs: Sequence[Sequence[int]], costs: Sequence[Sequence[float]]
) -> float:
    """Total cost of the edges cut by ``labels``."""
    total = 0.0
    for v, (nb, cs) in enumerate(zip(nbrs, costs, strict=True)):
        for u, c in zip(nb, cs, strict=True):
            if u > v and labels[u] != labels[v]:
                total += c
    return total


class WeightedGraph(Protocol):
    """The units the search plans: :class:`~gridmap.geometry.units.Units` is one."""

    @property
    def nbrs(self) -> Sequence[Sequence[int]]:
        """Neighbours of each unit."""

    @property
    def costs(self) -> Sequence[Sequence[float]]:
        """Cost of cutting each unit's edge to each of its neighbours (same order)."""

    @property
    def weights(self) -> Sequence[float]:
        """Households of each unit."""


def bisect_plan(
    nodes: Sequence[int], graph: WeightedGraph, bounds: Bounds, rng: np.random.Generator
) -> list[list[int]]:
    """Split a connected set of units into connected parts within ``bounds`` where possible.

    Parameters
    ----------
    nodes : sequence of int
        A connected set of units of ``graph``.
    graph : WeightedGraph
        Adjacency lists, cut costs and households per unit.
    bounds : Bounds
    rng : numpy.random.Generator

    Returns
    -------
    list of list of int
        The parts; each is connected.
    """
    nbrs, costs, weights = graph.nbrs, graph.costs, graph.weights
    out: list[list[int]] = []
    stack = [list(nodes)]
    target = (bounds.lo + bounds.hi) / 2
    while stack:
        part = stack.pop()
        total = sum(weights[v] for v in part)
        if total <= bounds.hi or len(part) == 1:
            out.append(part)
            continue
        split = _best_split(part, total, nbrs, costs, weights, bounds, target, rng)
        if split is None:
            out.append(part)
        else:
            stack.extend(split)
    return out


def _edge_list(part: list[int], nbrs, costs) -> tuple[list[int], list[int], np.ndarray]:
    """Edges inside ``part`` once each: both ends as positions in ``part``, and cut costs."""
    at = {v: i for i, v in enumerate(part)}
    at_u, at_v, ws = [], [], []
    for i, v in enumerate(part):
        for u, c in zip(nbrs[v], costs[v], strict=True):
            if u > v and u in at:
                at_u.append(i)
                at_v.append(at[u])
                ws.append(c)
    return at_u, at_v, np.asarray(ws, dtype=float)


def _random_tree(n: int, edges: tuple, rng) -> tuple[list[int], list[int]]:
    """A random maximum spanning tree of a piece of ``n`` nodes (positions 0..n-1): BFS order
    and the parent of each node in that order (-1 for the root)."""
    at_u, at_v, ws = edges
    key = ws * np.exp(rng.normal(0.0, 0.7, len(ws)))
    uf = list(range(n))  # union-find
    tree: list[list[int]] = [[] for _ in range(n)]
    missing = n - 1
    for i in np.argsort(-key, kind="stable").tolist():
        a = x = at_u[i]
        b = y = at_v[i]
        while uf[a] != a:
            uf[a] = a = uf[uf[a]]
        while uf[b] != b:
            uf[b] = b = uf[uf[b]]
        if a != b:
            uf[a] = b
            tree[x].append(y)
            tree[y].append(x)
            missing -= 1
            if not missing:  # spanning: every later edge would close a cycle
                break
    root = int(rng.integers(n))
    parent = [-2] * n
    parent[root] = -1
    order = [root]
    for v in order:
        for u in tree[v]:
            if parent[u] == -2:
                parent[u] = v
                order.append(u)
    return order, [parent[v] for v in order]


def _children(order: list[int], parents: list[int]) -> dict[int, list[int]]:
    """Children of each node of the tree given by BFS ``order`` and ``parents``."""
    children: dict[int, list[int]] = {}
    for v, p in zip(reversed(order), reversed(parents), strict=True):
        if p >= 0:
            children.setdefault(p, []).append(v)
    return children


def _subtree(x: int, children: dict[int, list[int]]) -> list[int]:
    out, stack = [], [x]
    while stack:
        v = stack.pop()
        out.append(v)
        stack.extend(children.get(v, ()))
    return out


def _cut(members: set[int], inset: set[int], nbrs, costs) -> float:
    total = 0.0
    for v in members:
        for u, c in zip(nbrs[v], costs[v], strict=True):
            if u in inset and u not in members:
                total += c
    return total


def _best_split(part, total, nbrs, costs, weights, bounds: Bounds, target, rng):
    n = len(part)
    ks = grid_count_range(total, bounds.lo, bounds.hi)
    k = (
        min(max(round(total / target), ks.start), ks.stop - 1)
        if len(ks)
        else max(2, round(total / target))
    )
    share = total / k
    goals = {share * (k // 2), share * ((k + 1) // 2)}
    # The score of a cut depends only on the households it cuts off: computed once per total.
    scores: dict[float, tuple[float, float]] = {}
    distance = bounds.distance
    # Trees are built on positions in ``part``; a subtree's children are listed only for the
    # trees a cut is taken from.
    fallback: tuple[float, int, list[int], list[int]] | None = None
    edges = _edge_list(part, nbrs, costs)
    w = [weights[v] for v in part]

    for _ in range(_TREE_TRIES):
        order, parents = _random_tree(n, edges, rng)
        if len(order) < n:
            return None
        sub = [0.0] * n
        for v, p in zip(reversed(order), reversed(parents), strict=True):
            sub[v] += w[v]
            if p >= 0:
                sub[p] += sub[v]
        cands = []
        for v in order[1:]:
            s = sub[v]
            found = scores.get(s)
            if found is None:
                found = scores[s] = (
                    distance(s) + distance(total - s),
                    min(abs(s - g) for g in goals) / share,
                )
            bad, imbalance = found
            if bad == 0:
                cands.append((imbalance, v))
            elif fallback is None or bad + imbalance * 1e-3 < fallback[0]:
                fallback = (bad + imbalance * 1e-3, v, order, parents)
        if cands:
            inset = set(part)
            best_balance = min(c[0] for c in cands)
            near = [v for imb, v in cands if imb <= best_balance + _BALANCE_SLACK]
            near = near[:: max(1, len(near) // _CANDIDATES)][:_CANDIDATES]
            children = _children(order, parents)
            scored = []
            for v in near:
                members = {part[i] for i in _subtree(v, children)}
                scored.append((_cut(members, inset, nbrs, costs), members))
            members = min(scored, key=lambda t: t[0])[1]
            return [list(members), [v for v in part if v not in members]]
    if fallback is None:
        return None
    members = {part[i] for i in _subtree(fallback[1], _children(*fallback[2:]))}
    return [list(members), [v for v in part if v not in members]]


def improve(
    labels: Sequence[int],
    graph: WeightedGraph,
    bounds: Bounds,
    rng: np.random.Generator,
    *,
    frozen: Sequence[bool] | np.ndarray | None = None,
    fixed_labels: frozenset[int] = frozenset(),
    anchor: Sequence[int] | None = None,
    move_cost: Sequence[float] | None = None,
    iterations: int | None = None,
) -> list[int]:
    """Improve a plan by moving boundary units between neighbouring grids.

    Every move keeps both grids connected, never empties a grid and never increases the
    total household violation; cut cost (plus ``move_cost[v]`` for each unit not in its
    ``anchor`` grid) is minimised by simulated annealing. The best plan seen is returned.

    Parameters
    ----------
    labels : sequence of int
        Starting grid label of each unit; each grid must be connected.
    graph, bounds, rng
        As for :func:`bisect_plan`.
    frozen : sequence of bool, optional
        Units that must not move.
    fixed_labels : frozenset of int
        Grids that neither give nor receive units (for example a lone tower above the bound).
    anchor, move_cost : sequences, optional
        Original grid of each unit and the cost of moving it elsewhere (re-districting).
    iterations : int, optional
        Number of proposed moves (default 60 per unit).

    Returns
    -------
    list of int
        The improved labels.
    """
    nbrs, costs, weights = graph.nbrs, graph.costs, graph.weights
    lab = list(labels)
    n = len(lab)
    movable = [
        v for v in range(n) if (frozen is None or not frozen[v]) and lab[v] not in fixed_labels
    ]
    if not movable:
        return lab
    state = _State(lab, nbrs, costs, weights, bounds, fixed_labels, anchor, move_cost)
    all_costs = [c for cs in costs for c in cs]
    scale = float(np.median(all_costs)) if all_costs else 1.0
    iters = iterations if iterations is not None else _ITERATIONS_PER_UNIT * n
    if state.viol > 0:  # first restore the bounds, ignoring cost (a random walk on the plateau)
        hot, stall = math.inf, max(_STALL_MOVES, _STALL_PER_UNIT * len(movable))
        state.anneal(
            movable, _REPAIR_FACTOR * iters, hot, hot, rng, stop_feasible=True, stall=stall
        )
        state.lab, state.viol, state.cost = state.best[2].copy(), state.best[0], state.best[1]
        state.reset_members()
    state.anneal(movable, iters, _T_START * scale, _T_END * scale, rng)
    return state.best[2]


class _State:
    """Labels, grid totals and members of a plan under local search."""

    def __init__(self, lab, nbrs, costs, weights, bounds, fixed, anchor, move_cost):
        self.lab, self.nbrs, self.costs, self.weights = lab, nbrs, costs, weights
        self.bounds, self.fixed, self.anchor, self.move_cost = bounds, fixed, anchor, move_cost
        self.reset_members()
        self.viol = sum(bounds.violation(w) for g, w in self.totals.items() if g not in fixed)
        self.cost = plan_cost(lab, nbrs, costs) + _anchor_cost(lab, anchor, move_cost)
        self.best = (self.viol, self.cost, lab.copy())

    def reset_members(self) -> None:
        self.members: dict[int, set[int]] = {}
        self.totals: dict[int, float] = {}
        for v, g in enumerate(self.lab):
            self.members.setdefault(g, set()).add(v)
            self.totals[g] = self.totals.get(g, 0.0) + self.weights[v]

    def anneal(self, movable, iters, t0, t1, rng, *, stop_feasible=False, stall=0) -> None:
        """Propose ``iters`` moves from ``t0`` cooling to ``t1`` (infinite: any move keeping the
        violation). ``stop_feasible``: stop once within the bounds, or after ``stall`` moves
        (when positive) without the violation falling."""
        lab, nbrs, costs, weights = self.lab, self.nbrs, self.costs, self.weights
        members, totals, fixed = self.members, self.totals, self.fixed
        anchor, move_cost = self.anchor, self.move_cost
        moving = anchor is not None and move_cost is not None
        get = lab.__getitem__
        # The violation written out (Bounds.violation, same arithmetic): four calls per
        # proposed move were a fifth of the redistrict search (issue #11).
        inline = type(self.bounds).violation is Bounds.violation
        lo, hi, viol = self.bounds.lo, self.bounds.hi, self.bounds.violation

        hot = math.isinf(t0)
        decay = 1.0 if hot or t0 <= 0 else (t1 / t0) ** (1.0 / max(iters, 1))
        # A walk that stops once within the bounds (mostly long before ``iters`` moves) reads
        # its draws a chunk at a time and skips the acceptance draws it never uses; converting
        # every draw to Python numbers cost a tenth of a re-districting. The generator ends
        # where drawing them all would leave it, so plans do not change.
        pick_all = rng.integers(0, len(movable), iters)
        side_all = rng.random(iters)
        lazy = hot and stop_feasible and _skip_uniforms(rng, iters)
        accept = [] if lazy else rng.random(iters).tolist()
        pick, side, ready = [], [], 0
        if not lazy:
            pick, side, ready = pick_all.tolist(), side_all.tolist(), iters
        temp = t0
        last_gain = 0
        # Neighbours of each unit in another grid that may take it: a unit without any (inside
        # its grid, two thirds of the proposals) is passed over without listing its neighbours.
        foreign = [
            sum(1 for u in nb if lab[u] != g and lab[u] not in fixed)
            for g, nb in zip(lab, nbrs)  # noqa: B905 (equal lengths by construction)
        ]
        # Whether a unit can leave its grid depends only on the grid's members: a grid's answer
        # is kept until the grid changes (most cut units are proposed again and again).
        version: dict[int, int] = {}
        leaves: dict[int, tuple[int, int, bool]] = {}
        # The best plan is copied only when a move leaves it (not at every new best).
        best_v, best_c, at_best = self.best[0], self.best[1], False
        for it in range(iters):
            if stall and it - last_gain > stall:
                break
            if it == ready:
                pick += pick_all[ready : ready + _CHUNK].tolist()
                side += side_all[ready : ready + _CHUNK].tolist()
                ready = len(pick)
            temp *= decay
            v = movable[pick[it]]
            if not foreign[v]:
                continue
            a = lab[v]
            if len(members[a]) == 1:
                continue
            nb = nbrs[v]
            others = [x for x in map(get, nb) if x != a and x not in fixed]
            b = others[int(side[it] * len(others))]
            wv = weights[v]
            wa, wb = totals[a], totals[b]
            if inline:
                na, nb_ = wa - wv, wb + wv
                dv = (
                    ((lo - na) if na < lo else (na - hi) if na > hi else 0.0)
                    + ((lo - nb_) if nb_ < lo else (nb_ - hi) if nb_ > hi else 0.0)
                    - ((lo - wa) if wa < lo else (wa - hi) if wa > hi else 0.0)
                    - ((lo - wb) if wb < lo else (wb - hi) if wb > hi else 0.0)
                )
            else:
                dv = viol(wa - wv) + viol(wb + wv) - viol(wa) - viol(wb)
            if dv > 1e-9:
                continue
            dc = 0.0
            for u, c in zip(nb, costs[v]):  # noqa: B905 (equal lengths by construction)
                lu = lab[u]
                if lu == a:
                    dc += c
                elif lu == b:
                    dc -= c
            if moving:
                dc += move_cost[v] * ((b != anchor[v]) - (a != anchor[v]))
            if (
                not hot
                and dv > -1e-9
                and dc > 0
                and (temp <= 0 or accept[it] >= math.exp(-dc / temp))
            ):
                continue
            ver = version.get(a, 0)
            known = leaves.get(v)
            if known is not None and known[0] == a and known[1] == ver:
                ok = known[2]
            else:
                ok = stays_connected(v, a, lab, nbrs)
                leaves[v] = (a, ver, ok)
            if not ok:
                continue
            new_v, new_c = self.viol + dv, self.cost + dc
            better = (new_v, new_c) < (best_v, best_c)
            if at_best and not better:
                self.best = (best_v, best_c, lab.copy())
                at_best = False
            lab[v] = b
            members[a].discard(v)
            members[b].add(v)
            totals[a], totals[b] = wa - wv, wb + wv
            version[a], version[b] = ver + 1, version.get(b, 0) + 1
            n_out = 0
            for u in nb:
                lu = lab[u]
                if lu == a:
                    foreign[u] += 1
                    n_out += 1
                elif lu == b:
                    foreign[u] -= 1
                elif lu not in fixed:
                    n_out += 1
            foreign[v] = n_out
            self.viol, self.cost = new_v, new_c
            if dv < -1e-9:
                last_gain = it
            if better:
                best_v, best_c, at_best = new_v, new_c, True
            if stop_feasible and self.viol < 1e-9:
                break
        if at_best:
            self.best = (best_v, best_c, lab.copy())


def _skip_uniforms(rng: np.random.Generator, n: int) -> bool:
    """Move ``rng`` past ``n`` ``random()`` draws without making them (False: not possible).

    Each uniform takes one 64-bit draw, so the bit generator ``advance``-s by ``n``; the
    32-bit buffer bounded integers may leave behind is kept, as drawing would keep it.
    """
    bits = rng.bit_generator
    if not hasattr(bits, "advance"):
        return False
    state = bits.state
    bits.advance(n)
    moved = dict(bits.state)
    moved["has_uint32"], moved["uinteger"] = state["has_uint32"], state["uinteger"]
    bits.state = moved
    return True


def _anchor_cost(lab, anchor, move_cost) -> float:
    if anchor is None or move_cost is None:
        return 0.0
    return float(sum(m for g, a, m in zip(lab, anchor, move_cost, strict=True) if g != a))


def connected(nodes: set[int], nbrs) -> bool:
    """Whether ``nodes`` form one connected piece of the graph (an empty set does).

    Examples
    --------
    >>> nbrs = [[1], [0, 2], [1], []]
    >>> connected({0, 1, 2}, nbrs), connected({0, 2}, nbrs)
    (True, False)
    """
    if not nodes:
        return True
    start = next(iter(nodes))
    seen, stack = {start}, [start]
    while stack:
        x = stack.pop()
        for u in nbrs[x]:
            if u in nodes and u not in seen:
                seen.add(u)
                stack.append(u)
    return len(seen) == len(nodes)


def stays_connected(v: int, a: int, lab: list[int], nbrs) -> bool:
    """Whether grid ``a`` stays connected when unit ``v`` leaves it."""
    targets = [u for u in nbrs[v] if lab[u] == a]
    if len(targets) <= 1:
        return True
    # Most often the neighbours of v in the grid touch each other: then every path through v
    # has a way round it, and the grid stays connected without a search through it.
    if connected(set(targets), nbrs):
        return True
    need = set(targets[1:])
    seen = {v, targets[0]}
    stack = [targets[0]]
    while stack:
        x = stack.pop()
        for u in nbrs[x]:
            if u not in seen and lab[u] == a:
                if u in need:
                    need.discard(u)
                    if not need:
                        return True
                seen.add(u)
                stack.append(u)
    return not need


def recombine(
    labels: Sequence[int],
    graph: WeightedGraph,
    bounds: Bounds,
    rng: np.random.Generator,
    *,
    fixed_labels: frozenset[int] = frozenset(),
    rounds: int = 30,
) -> list[int]:
    """Repair grids outside the bounds by merging each with neighbours and re-splitting.

    A grid outside the bounds is merged with one neighbouring grid (then two) and the union is
    split again by :func:`bisect_plan`; the new pieces replace the old grids when the total
    violation drops (the ReCom move of GerryChain, aimed at the broken grids).

    Returns
    -------
    list of int
        Labels with violation no larger than before.
    """
    weights = graph.weights
    lab = list(labels)
    for _ in range(rounds):
        members: dict[int, list[int]] = {}
        for v, g in enumerate(lab):
            members.setdefault(g, []).append(v)
        totals = {g: sum(weights[v] for v in m) for g, m in members.items()}
        broken = [g for g, w in totals.items() if g not in fixed_labels and bounds.violation(w)]
        if not broken:
            return lab
        changed = False
        for g in rng.permutation(broken).tolist():
            if g not in members:
                continue
            if _recombine_one(g, lab, members, totals, graph, bounds, rng, fixed_labels):
                changed = True
                break
        if not changed:
            return lab
    return lab


def _recombine_one(g, lab, members, totals, graph, bounds, rng, fixed) -> bool:
    weights = graph.weights
    near = {lab[u] for v in members[g] for u in graph.nbrs[v]} - {g} - set(fixed)
    near_list = rng.permutation(sorted(near)).tolist()
    groups = [[g, h] for h in near_list]
    groups += [[g, h, k] for i, h in enumerate(near_list) for k in near_list[i + 1 :]][:20]
    for group in groups:
        nodes = [v for h in group for v in members[h]]
        before = sum(bounds.violation(totals[h]) for h in group)
        for _ in range(3):
            parts = bisect_plan(nodes, graph, bounds, rng)
            after = sum(bounds.violation(sum(weights[v] for v in p)) for p in parts)
            if after < before:
                fresh = max(members) + 1
                labels_out = group + list(range(fresh, fresh + max(0, len(parts) - len(group))))
                for label, part in zip(labels_out, parts, strict=False):
                    for v in part:
                        lab[v] = label
                return True
    return False
