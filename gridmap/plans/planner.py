"""Plan one group of street blocks: towers alone, compounds whole where possible, balanced grids.

:func:`plan_group` works on the cells of one group (:mod:`gridmap.geometry.blocks`): it contracts
towers and fitting compounds into units (:mod:`gridmap.geometry.units`), plans each connected piece
by tree bisection and local search (:mod:`gridmap.solve.search`) and, when chunky compounds leave a
grid out of bounds, frees only the compounds in and next to the broken grids (then, if that is not
enough, every compound of the group) and re-plans that part. Problems are returned as
:class:`gridmap.problems.PlanProblem` about local grid labels, worded once grids have codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridmap.constraints import Bounds, relaxed_bounds
from gridmap.geometry.adjacency import CellGraph, subgraph
from gridmap.geometry.units import OPEN_GROUND, Units, contract
from gridmap.plans.jobs import CommunityJob
from gridmap.problems import (
    PlanProblem,
    compound_split_message,
    infeasible_message,
    no_buildings_message,
    over_max_message,
    unbalanced_message,
    under_min_message,
)
from gridmap.solve.search import bisect_plan, improve, plan_cost, recombine, violation

__all__ = ["GroupPlan", "plan_group", "SearchBudget"]

_RESTART_CELLS = 500  # restarts per piece = this // cells of the community, in [1, _MAX_RESTARTS]
_MAX_RESTARTS = 12
_MOVE_CELLS = 8000  # local-search moves per unit = this // cells, in [_MIN_MOVES, _MAX_MOVES]
_MIN_MOVES, _MAX_MOVES = 40, 200
_RECOMBINE_ROUNDS = 10  # merge-and-resplit rounds per attempt on a piece
# A plan still out of bounds after recombination gets 1/this of the moves: its repair walk
# (three times the moves) rarely finds the bounds when recombination could not.
_UNBALANCED_SHARE = 2
_FREE_DEPTH = 2  # compounds freed in broken grids and up to this many grids away, before all


@dataclass(frozen=True)
class SearchBudget:
    """How much search each piece of a community gets.

    Attributes
    ----------
    restarts : int
        Independent constructions (bisection + local search) per piece; the best is kept.
    moves_per_unit : int
        Local-search moves per unit and restart.
    """

    restarts: int = 1
    moves_per_unit: int = 40

    def for_piece(self, n: int) -> tuple[int, int]:
        """``(restarts, moves)`` for a piece of ``n`` units."""
        return self.restarts, self.moves_per_unit * n

    @classmethod
    def for_community(cls, n_cells: int) -> SearchBudget:
        """Spend about the same work on any community: more restarts when it is small.

        Examples
        --------
        >>> SearchBudget.for_community(40).restarts, SearchBudget.for_community(550).restarts
        (12, 1)
        """
        n = max(n_cells, 1)
        return cls(
            restarts=min(_MAX_RESTARTS, max(1, _RESTART_CELLS // n)),
            moves_per_unit=min(_MAX_MOVES, max(_MIN_MOVES, _MOVE_CELLS // n)),
        )


@dataclass
class GroupPlan:
    """The plan of one group of blocks.

    Attributes
    ----------
    cells : np.ndarray
        Cell indices of the group (sorted).
    labels : np.ndarray
        Grid label of each of these cells, ``0..k-1``.
    violation : float
        Households outside ``[lo, hi]`` over all grids that are not a lone tower.
    problems : list of PlanProblem
    """

    cells: np.ndarray
    labels: np.ndarray
    violation: float
    problems: list[PlanProblem] = field(default_factory=list)


def plan_group(
    cells: np.ndarray,
    graph: CellGraph,
    cell_compound: np.ndarray,
    job: CommunityJob,
    rng: np.random.Generator,
    budget: SearchBudget = SearchBudget(),
    *,
    whole: bool = False,
) -> GroupPlan:
    """Plan the cells of one group of street blocks into grids.

    Parameters
    ----------
    cells : np.ndarray
        Sorted cell indices of the group.
    graph : CellGraph
        The community's cell graph.
    cell_compound : np.ndarray
        Compound id of each cell of the community (``""`` for none).
    job : CommunityJob
    rng : numpy.random.Generator
    budget : SearchBudget
    whole : bool
        Whether the group is the whole community (for the wording of problems).

    Returns
    -------
    GroupPlan
    """
    cells = np.asarray(cells, dtype=np.int64)
    sub = subgraph(graph, cells)
    comp = np.asarray(cell_compound, dtype=object)[cells]
    units = contract(sub, comp, job.hi)
    unit_labels, problems, excess = _label_units(units, job, rng, budget, whole)
    labels = np.asarray(unit_labels, dtype=np.int64)[units.unit_of_cell]
    plan = GroupPlan(cells, labels, _violation(labels, sub.weights, job), problems)
    if excess > 0 and (comp != "").any():
        plan = _free_compounds(plan, sub, comp, job, rng, budget, whole)
    return plan


def _violation(labels: np.ndarray, weights: np.ndarray, job: CommunityJob) -> float:
    totals = np.bincount(labels, weights)
    tower = np.zeros(len(totals), dtype=bool)
    tower[labels[weights > job.hi]] = True
    over = np.maximum(0, totals - job.hi) + np.maximum(0, job.lo - totals)
    return float(over[~tower & (totals > 0)].sum())


def _components(units: Units) -> list[list[int]]:
    seen = units.tower.copy()
    comps = []
    for s in range(units.n):
        if seen[s]:
            continue
        seen[s] = True
        comp, stack = [s], [s]
        while stack:
            v = stack.pop()
            for u in units.nbrs[v]:
                if not seen[u]:
                    seen[u] = True
                    comp.append(u)
                    stack.append(u)
        comps.append(comp)
    return comps


def _label_units(units: Units, job: CommunityJob, rng, budget: SearchBudget, whole: bool):
    """Labels per unit, problems, and households outside the bounds each piece was planned to."""
    labels = [-1] * units.n
    problems: list[PlanProblem] = []
    excess = 0.0
    next_label = 0
    for t in np.flatnonzero(units.tower).tolist():
        labels[t] = next_label
        problems.append(_tower_problem(units, t, job, next_label))
        next_label += 1
    comps = _components(units)
    for comp in comps:
        total = sum(units.weights[v] for v in comp)
        if total == 0:
            towers = [u for v in comp for u in units.nbrs[v] if units.tower[u]]
            label = labels[towers[0]] if towers else next_label
            next_label += label == next_label
            for v in comp:
                labels[v] = label
            if not towers:
                facts: dict[str, Any] = {"code": job.code}
                problems.append(PlanProblem("no_buildings", no_buildings_message, facts, label))
            continue
        if total < job.lo or len(comp) == 1:
            for v in comp:
                labels[v] = next_label
            alone = whole and len(comps) == 1 and not units.tower.any()
            if total < job.lo:
                facts = {"code": job.code, "total": int(total), "lo": job.lo, "whole": alone}
                problems.append(PlanProblem("under_min", under_min_message, facts, next_label))
            next_label += 1
            continue
        parts, bounds = _plan_piece(comp, units, job, rng, budget)
        problems += _balance_problems(job, total, bounds, parts, units, next_label)
        for part in parts:
            w = sum(units.weights[v] for v in part)
            excess += bounds.violation(w)
            for v in part:
                labels[v] = next_label
            next_label += 1
    return labels, problems, excess


def _plan_piece(comp, units: Units, job: CommunityJob, rng, budget: SearchBudget):
    bounds = relaxed_bounds(sum(units.weights[v] for v in comp), job.lo, job.hi)
    frozen = np.ones(units.n, dtype=bool)
    frozen[comp] = False
    restarts, moves = budget.for_piece(len(comp))
    comp_w = [units.weights[v] for v in comp]
    best = None
    for _ in range(restarts):
        parts = bisect_plan(comp, units, bounds, rng)
        lab = np.full(units.n, -1, dtype=np.int64)
        lab[units.tower] = -2 - np.flatnonzero(units.tower)
        for i, part in enumerate(parts):
            lab[part] = i
        fixed = frozenset(lab[units.tower].tolist()) | {-1}
        out = lab.tolist()
        for attempt in range(2):
            before = violation([out[v] for v in comp], comp_w, bounds)
            if before:
                out = recombine(out, units, bounds, rng, fixed_labels=fixed,
                                rounds=_RECOMBINE_ROUNDS)  # fmt: skip
            after = violation([out[v] for v in comp], comp_w, bounds) if before else 0.0
            if attempt and after >= before:
                # The local search already ran from this plan: a second walk on the same
                # plateau almost never fits it to the bounds (repair walks on pieces that
                # cannot be balanced were over nine tenths of a district's search).
                break
            steps = moves // _UNBALANCED_SHARE if after else moves
            out = improve(out, units, bounds, rng, frozen=frozen, fixed_labels=fixed,
                          iterations=steps)  # fmt: skip
            if not violation([out[v] for v in comp], comp_w, bounds):
                break
        score = (
            violation([out[v] for v in comp], comp_w, bounds),
            plan_cost(out, units.nbrs, units.costs),
        )
        if best is None or score < best[0]:
            best = (score, out)
    assert best is not None  # the loop above runs at least once
    groups: dict[int, list[int]] = {}
    for v in comp:
        groups.setdefault(best[1][v], []).append(v)
    return list(groups.values()), bounds


def _tower_problem(units: Units, t: int, job: CommunityJob, label: int) -> PlanProblem:
    big = np.flatnonzero(job.households > job.hi)
    rows = [r for r in big.tolist() if job.households[r] == units.weights[t]] or big.tolist()[:1]
    facts = {"ids": job.ids[rows].tolist(), "households": int(units.weights[t]), "hi": job.hi}
    return PlanProblem("over_max", over_max_message, facts, label)


def _unbalanced(households: float, job: CommunityJob, label: int) -> PlanProblem:
    facts = {"households": int(households), "lo": job.lo, "hi": job.hi}
    return PlanProblem("unbalanced", unbalanced_message, facts, label)


def _balance_problems(
    job, total, bounds: Bounds, parts, units: Units, first_label: int
) -> list[PlanProblem]:
    if bounds.lo != job.lo or bounds.hi != job.hi:  # relaxed: no plan can meet the bounds
        facts = {"code": job.code, "total": int(total), "lo": job.lo, "hi": job.hi}
        return [PlanProblem("infeasible", infeasible_message, facts)]
    out = []
    for label, part in enumerate(parts, start=first_label):
        w = sum(units.weights[v] for v in part)
        if not job.lo <= w <= job.hi:
            out.append(_unbalanced(w, job, label))
    return out


def _free_compounds(plan: GroupPlan, sub: CellGraph, comp, job, rng, budget, whole) -> GroupPlan:
    """Split compounds only in and next to the broken grids; wider, then all, if needed."""
    labels, w = plan.labels, sub.weights
    totals = np.bincount(labels, w)
    tower = np.zeros(len(totals), dtype=bool)
    tower[labels[w > job.hi]] = True
    broken = np.flatnonzero(~tower & ((totals < job.lo) | (totals > job.hi)) & (totals > 0))
    a, b = labels[sub.edges[:, 0]], labels[sub.edges[:, 1]]
    near = set(broken.tolist())
    regions = []
    for _depth in range(_FREE_DEPTH):
        arr = np.array(sorted(near))
        near |= set(b[np.isin(a, arr)].tolist()) | set(a[np.isin(b, arr)].tolist())
        near -= set(np.flatnonzero(tower).tolist())
        regions.append(np.isin(labels, sorted(near)))
    regions.append(np.ones(len(labels), dtype=bool))
    best = plan
    for cells_free in regions:
        freed = set(comp[cells_free].tolist()) - {""}
        if not freed:
            continue
        loose = np.where(np.isin(comp, sorted(freed)), "", comp).astype(object)
        units = contract(sub, loose, job.hi)
        if cells_free.all():
            unit_labels, problems, _ = _label_units(units, job, rng, budget, whole)
            new = np.asarray(unit_labels, dtype=np.int64)[units.unit_of_cell]
        else:
            new = _replan_region(labels, units, cells_free, job, rng, budget)
            problems = [p for p in plan.problems if p.kind != "unbalanced"]
            problems += _unbalanced_after(new, w, job)
        cand = GroupPlan(plan.cells, new, _violation(new, w, job), problems)
        cand.problems += _split_problems(
            comp, w, new, labels, totals, broken.tolist(), sub.edges, job
        )

        if cand.violation < best.violation:
            best = cand
        if best.violation == 0:
            break
    return best


def _replan_region(labels, units: Units, cells_free, job, rng, budget) -> np.ndarray:
    """Plan the units of the freed region afresh; grids outside it keep their labels."""
    first = np.zeros(units.n, dtype=np.int64)
    first[units.unit_of_cell[::-1]] = np.arange(len(labels))[::-1]
    movable = cells_free[first] & ~units.tower
    out = labels[first].copy()
    nxt = int(labels.max()) + 1
    seen = ~movable
    for s in np.flatnonzero(movable).tolist():
        if seen[s]:
            continue
        seen[s] = True
        piece, stack = [s], [s]
        while stack:
            for u in units.nbrs[stack.pop()]:
                if not seen[u]:
                    seen[u] = True
                    piece.append(u)
                    stack.append(u)
        total = sum(units.weights[v] for v in piece)
        parts = [piece] if total < job.lo else _plan_piece(piece, units, job, rng, budget)[0]
        for part in parts:
            out[part] = nxt
            nxt += 1
    return out[units.unit_of_cell]


def _unbalanced_after(labels: np.ndarray, w: np.ndarray, job) -> list[PlanProblem]:
    totals = np.bincount(labels, w)
    tower = np.zeros(len(totals), dtype=bool)
    tower[labels[w > job.hi]] = True
    out = []
    for g in np.flatnonzero(~tower & (totals > 0)).tolist():
        if not job.lo <= totals[g] <= job.hi:
            out.append(_unbalanced(totals[g], job, g))
    return out


def _split_problems(comp, w, new, old, old_totals, broken, edges, job) -> list[PlanProblem]:
    """One problem per fitting compound spread over several grids, with the broken grid's size."""
    out = []
    for cid in sorted(set(comp.tolist()) - {""}):
        if cid.startswith(OPEN_GROUND):
            continue
        mask = comp == cid
        total = int(w[mask].sum())
        grids = np.unique(new[mask])
        if total > job.hi or len(grids) < 2:
            continue
        cells = np.flatnonzero(mask)
        touch = np.isin(edges[:, 0], cells) | np.isin(edges[:, 1], cells)
        near = set(old[edges[touch].ravel()].tolist()) | set(old[mask].tolist())
        bad = [int(old_totals[g]) for g in broken if g in near] or [
            int(old_totals[g]) for g in broken
        ]
        worst = max(bad, key=lambda t: max(job.lo - t, t - job.hi)) if bad else total
        facts = {"compound": cid, "households": total, "broken": worst, "lo": job.lo, "hi": job.hi}
        label = tuple(grids.tolist())
        out.append(PlanProblem("compound_split", compound_split_message, facts, label))
    return out
