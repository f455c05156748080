"""Partition communities into grids of ``min``–``max`` households (网格划分).

``partition()`` validates the layers, projects them, assigns buildings to communities and plans
each community independently (optionally in parallel processes): tessellate into cells
(:mod:`gridmap.geometry.cells`), build the cell graph (:mod:`gridmap.geometry.adjacency`), contract
towers and compounds into units (:mod:`gridmap.geometry.units`), construct and improve a plan per
connected part (:mod:`gridmap.solve.search`), then dissolve, number and measure the grids.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.constraints import Bounds, household_bounds
from gridmap.crs import STORAGE_CRS
from gridmap.geometry.adjacency import cell_graph
from gridmap.geometry.blocks import Merge, block_frontage, group_blocks, street_blocks
from gridmap.geometry.cells import tessellate
from gridmap.geometry.metrics import street_straddle
from gridmap.geometry.numbering import codes_by_position
from gridmap.geometry.units import fitting_compounds, open_ground_units
from gridmap.plans.jobs import CommunityJob, prepare_jobs, run_jobs
from gridmap.plans.planner import GroupPlan, SearchBudget, plan_group
from gridmap.plans.tables import (
    GRID_COLUMNS,
    PlanResult,
    assignment_frame,
    concat_assignments,
    grid_frame,
    grid_rows,
    log_problems,
)
from gridmap.problems import (
    PlanProblem,
    Problem,
    crossing_message,
    detached_part_message,
    street_list,
    through_building_message,
)
from gridmap.streets import UNNAMED_STREET

__all__ = ["partition", "PartitionResult", "Problem", "GRID_COLUMNS"]

logger = logging.getLogger(__name__)

_MAX_FALLBACK_MERGES = 20  # groups joined across a street because their buildings cannot balance
_FALLBACK_TRIES = 3  # neighbouring groups tried for each
_MIN_CROSSING_M = 1.0  # street pieces shorter than this inside a grid are not named
_CUT_SHARE = 0.01  # a footprint with more than this share outside its grid is cut
_EDGE_M = 0.5  # a street within this of a footprint's outline does not cross it
_SLIVER_M2 = 1.0  # a part of a grid smaller than this (m²) is a noding sliver


@dataclass
class PartitionResult(PlanResult):
    """Grids, building assignment, per-grid metrics and problems of a new plan (the attributes
    of :class:`gridmap.plans.tables.PlanResult`)."""


@dataclass(frozen=True)
class CommunityPlan:
    """The plan of one community, in its projected CRS (what a worker process returns).

    Attributes
    ----------
    code : str
        Community code.
    grid_geoms, codes, households, buildings : np.ndarray
        Per grid: geometry, code, households and number of buildings.
    building_ids, building_grid : np.ndarray
        Per building of the community: id and grid code.
    problems : list of Problem
        Worded with grid codes; ``community_code`` and ``households`` are filled in later.
    bounds : Bounds
        The household bounds the grids were planned to.
    """

    code: str
    grid_geoms: np.ndarray
    codes: list[str]
    households: np.ndarray
    buildings: np.ndarray
    building_ids: np.ndarray
    building_grid: np.ndarray
    problems: list[Problem]
    bounds: Bounds


def partition(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    min_households: int = 300,
    max_households: int = 500,
    seed: int = 0,
    n_jobs: int = 1,
    progress: Callable[[str], None] | None = None,
    scheduler: object | None = None,
) -> PartitionResult:
    """Split communities into contiguous grids of ``min_households``–``max_households``.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        ``community_code`` (12-digit string) and (Multi)Polygon geometry.
    buildings : geopandas.GeoDataFrame
        ``building_id``, ``households`` (integer >= 0), optional ``compound_id``; footprints
        or points.
    streets : GeoDataFrame or GeoSeries, optional
        Street centrelines; grid boundaries follow them where a balanced plan allows.
    compounds : geopandas.GeoDataFrame, optional
        ``compound_id`` and polygon of each compound (小区); a compound of at most
        ``max_households`` stays in one grid.
    min_households, max_households : int
        Household bounds per grid.
    seed : int
        Seed of the random generator; equal seeds give equal plans.
    n_jobs : int
        Processes for planning communities in parallel (1 = in this process).
    progress : callable, optional
        Called with each community code when it is done.
    scheduler : str or distributed.Client, optional
        A Dask distributed scheduler (``tcp://host:8786``, or a ``Client``/``LocalCluster``):
        the communities are planned on its workers, one task per community carrying only that
        community's data; a community whose worker is lost is run again. Same plans as in this
        process. Needs ``dask.distributed`` (``pip install 'gridmap[dask]'``).

    Returns
    -------
    PartitionResult

    Raises
    ------
    InputError
        Missing columns, bad household counts, duplicate ids, invalid geometry or CRS; a
        community without area (a point, a line, a zero-area sliver). Invalid building
        footprints are made valid, and the points and lines of a community drawn as a
        collection left out, each a problem (:func:`gridmap.plans.jobs.prepare_jobs`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> c = gpd.GeoDataFrame({"community_code": ["520602001001"]},
    ...                      geometry=[shapely.box(0, 0, 200, 100)], crs=4545)
    >>> b = gpd.GeoDataFrame({"building_id": ["a", "b", "c", "d"], "households": [200] * 4},
    ...     geometry=shapely.points([(30, 50), (80, 50), (120, 50), (170, 50)]), crs=4545)
    >>> r = partition(c, b)
    >>> r.grids[["grid_code", "households", "status"]].values.tolist()
    [['520602001001001', 400, 'ok'], ['520602001001002', 400, 'ok']]
    """
    bounds = household_bounds(min_households, max_households)
    jobs, problems, inside, crs = prepare_jobs(
        communities, buildings, streets, compounds, bounds, seed
    )
    plans = run_jobs(_plan_community, jobs, [job.code for job in jobs], n_jobs, progress, scheduler)
    return _assemble(plans, problems, crs)


def _plan_community(job: CommunityJob) -> CommunityPlan:
    """Plan one community: labels per cell, grid geometries, problems (projected CRS)."""
    rng = np.random.default_rng(job.seed)
    tess = tessellate(
        job.boundary,
        job.geoms,
        job.households,
        compound_ids=job.compound_ids,
        streets=job.streets,
        compounds=job.compounds,
        compound_polygon_ids=job.compound_polygon_ids,
    )
    graph = cell_graph(tess)
    cell_block = street_blocks(graph)
    groups, merges = _group(graph, tess.cell_compound, cell_block, job)
    whole = len(groups) == 1
    budget = SearchBudget.for_community(graph.n)
    units = open_ground_units(tess)
    plans = [plan_group(g, graph, units, job, rng, budget, whole=whole) for g in groups]
    plans = _merge_unbalanced(plans, graph, units, cell_block, merges, job, rng, budget)
    cell_labels, problems = _combine(plans, graph.n)
    cell_labels, problems = _join_empty_parts(tess, cell_labels, problems, job)
    geoms = _merge_slivers(tess.dissolve(cell_labels))
    labels = sorted(geoms)
    grid_geoms = np.array([geoms[g] for g in labels], dtype=object)
    problems += _crossings(graph, cell_block, cell_labels, merges, grid_geoms, labels, job)
    problems += _through_buildings(tess, cell_labels, grid_geoms, labels, job)
    hh, nb = tess.totals(cell_labels, labels)
    codes = codes_by_position(job.code, grid_geoms)
    code_of = dict(zip(labels, codes, strict=True))
    building_grid = np.array(
        [code_of[int(cell_labels[c])] for c in tess.building_cell], dtype=object
    )
    return CommunityPlan(
        code=job.code,
        grid_geoms=grid_geoms,
        codes=codes,
        households=hh,
        buildings=nb,
        building_ids=job.ids,
        building_grid=building_grid,
        problems=[p.problem(code_of) for p in problems],
        bounds=household_bounds(job.lo, job.hi),
    )


def _group(graph, cell_compound, cell_block, job: CommunityJob):
    """Cells of each group of street blocks, and the merges that formed the groups."""
    n_blocks = int(cell_block.max()) + 1 if graph.n else 0
    small = graph.weights <= job.hi
    totals = np.bincount(cell_block, graph.weights * small, minlength=n_blocks)
    towers = np.bincount(cell_block, ~small, minlength=n_blocks) > 0
    comp = np.asarray(cell_compound, dtype=object)
    joined = []
    for cid in sorted(set(comp.tolist()) - {""}):
        mask = comp == cid
        blocks = np.unique(cell_block[mask])
        if len(blocks) > 1 and graph.weights[mask].sum() <= job.hi:
            joined += [(int(blocks[0]), int(b)) for b in blocks[1:]]
    groups, merges = group_blocks(
        totals,
        block_frontage(graph, cell_block),
        job.lo,
        job.hi,
        tower_only=towers & (totals == 0),
        joined=joined,
    )
    return [np.flatnonzero(np.isin(cell_block, g)) for g in groups], merges


def _merge_unbalanced(plans, graph, cell_compound, cell_block, merges, job, rng, budget):
    """Join a group its buildings cannot balance with a neighbouring group, across a street.

    A neighbour is not tried when none of its cells touches the group's broken grids or the
    grids next to them (the merged search would meet those grids with the same neighbours), nor
    when the same union already failed. On the full district such attempts all failed: they
    were a third of the time of the merges. A broken grid made only of compounds that fit (units
    the search keeps whole, such as a compound of ~200 households whose only neighbour in the
    group is a full grid) can be mended from afar only by reshaping that neighbour, which the
    group's own search could not do: once a neighbour reaching it only that way has failed, the
    others reaching it only that way are not tried (neighbours touching a broken grid, or a
    grid next to one with loose households, still are). On the district (scales 0.5 and 1,
    seeds 0-5) 6 of 121 attempts reaching a broken grid only that way lowered the violation
    (52 of 55 of the others), so the first is kept; leaving out the later ones gave the same
    violation on all twelve plans.
    """
    failed: set[bytes] = set()
    for _ in range(_MAX_FALLBACK_MERGES):
        bad = sorted(
            (i for i, p in enumerate(plans) if p.violation > 0), key=lambda i: -plans[i].violation
        )
        done = False
        group_of = _group_of(plans, graph.n)  # the groups change only when a merge is kept
        for i in bad:
            blocks_i = set(np.unique(cell_block[plans[i].cells]).tolist())
            reach, promising = _near_broken(
                plans[i], graph, cell_compound, job, group_of, len(plans)
            )
            stuck = False
            for j in _neighbour_groups(plans, i, graph, group_of)[:_FALLBACK_TRIES]:
                if not reach[j] or (stuck and not promising[j]):
                    continue
                cells = np.union1d(plans[i].cells, plans[j].cells)
                key = cells.tobytes()
                if key in failed:
                    continue
                merged = plan_group(cells, graph, cell_compound, job, rng, budget)
                if merged.violation < plans[i].violation + plans[j].violation:
                    blocks_j = set(np.unique(cell_block[plans[j].cells]).tolist())
                    total = int(graph.weights[plans[i].cells].sum())
                    merges.append(
                        Merge(frozenset(blocks_i), frozenset(blocks_j), "unbalanced", total)
                    )
                    plans = [p for k, p in enumerate(plans) if k not in (i, j)] + [merged]
                    done = True
                    break
                failed.add(key)
                stuck |= not promising[j]
            if done:
                break
        if not done:
            break
    return plans


def _group_of(plans, n_cells: int) -> np.ndarray:
    """Group index of each cell (-1 for cells in no group)."""
    group_of = np.full(n_cells, -1, dtype=np.int64)
    for k, p in enumerate(plans):
        group_of[p.cells] = k
    return group_of


def _near_broken(
    plan, graph, cell_compound, job, group_of: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group: whether one of its cells touches a broken grid of ``plan`` (a grid outside
    the bounds that is not a lone tower) or a grid next to one; and whether it touches a broken
    grid or a grid next to a broken grid holding households outside compounds that fit (cells
    the search moves one by one). ``cell_compound`` None: no compounds."""
    w = graph.weights[plan.cells]
    totals = np.bincount(plan.labels, w)
    tower = np.zeros(len(totals), dtype=bool)
    tower[plan.labels[w > job.hi]] = True
    broken = ~tower & (totals > 0) & ((totals < job.lo) | (totals > job.hi))
    loose = broken
    if cell_compound is not None:
        code, fits = fitting_compounds(np.asarray(cell_compound)[plan.cells], w, job.hi)
        loose = broken & (np.bincount(plan.labels, w * ~fits[code], minlength=len(totals)) > 0)
    label = np.full(graph.n, -1, dtype=np.int64)
    label[plan.cells] = plan.labels
    a, b = graph.edges[:, 0], graph.edges[:, 1]
    la, lb = label[a], label[b]
    inner = (la >= 0) & (lb >= 0)
    out = []
    for seed in (broken, loose):
        near = broken.copy()
        near[lb[inner & seed[np.maximum(la, 0)]]] = True
        near[la[inner & seed[np.maximum(lb, 0)]]] = True
        at_a = (la >= 0) & near[np.maximum(la, 0)]
        at_b = (lb >= 0) & near[np.maximum(lb, 0)]
        reached = np.zeros(n_groups, dtype=bool)
        ga, gb = group_of[b[at_a]], group_of[a[at_b]]
        reached[ga[ga >= 0]] = True
        reached[gb[gb >= 0]] = True
        out.append(reached)
    return out[0], out[1]


def _neighbour_groups(plans, i, graph, group_of: np.ndarray) -> list[int]:
    """Groups sharing a street with group ``i``, shortest frontage first."""
    ga, gb = group_of[graph.edges[:, 0]], group_of[graph.edges[:, 1]]
    touch = ((ga == i) ^ (gb == i)) & (ga >= 0) & (gb >= 0)
    other = np.where(ga[touch] == i, gb[touch], ga[touch])
    front = np.bincount(other, graph.length[touch], minlength=len(plans))
    found = np.flatnonzero(front > 0)
    return found[np.argsort(front[found], kind="stable")].tolist()


def _combine(plans: list[GroupPlan], n_cells: int) -> tuple[np.ndarray, list[PlanProblem]]:
    """Global cell labels ``0..k-1`` and the problems with global labels."""
    raw = np.full(n_cells, -1, dtype=np.int64)
    problems: list[PlanProblem] = []
    offset = 0
    for p in plans:
        raw[p.cells] = p.labels + offset
        problems += [q.relabel(partial(operator.add, offset)) for q in p.problems]
        offset += int(p.labels.max()) + 1 if len(p.labels) else 0
    uniq, cell_labels = np.unique(raw, return_inverse=True)
    return cell_labels.ravel(), _compact(problems, uniq)


def _compact(problems: list[PlanProblem], uniq: np.ndarray) -> list[PlanProblem]:
    """The problems with labels ``uniq[i]`` as ``i`` (labels not in ``uniq`` dropped)."""
    remap = {int(u): i for i, u in enumerate(uniq.tolist())}
    return [q.relabel(remap.get) for q in problems]


def _crossings(
    graph, cell_block, cell_labels, merges, grid_geoms, labels, job
) -> list[PlanProblem]:
    """One problem per grid crossing streets, with every reason for it.

    A grid that crosses streets only because street blocks without households had to join a
    neighbour gets a routine notice (summarised in the report unless asked for). A community's
    only grid is the whole community: its crossings are no choice, and nothing is said.
    """
    if len(labels) < 2:
        return []
    a, b = graph.edges[:, 0], graph.edges[:, 1]
    cross = (cell_block[a] != cell_block[b]) & (cell_labels[a] == cell_labels[b])
    seen: dict[int, dict[tuple[str, int], None]] = {}
    for ea, eb in graph.edges[cross].tolist():
        ba, bb = int(cell_block[ea]), int(cell_block[eb])
        mg = next((m for m in merges if m.separates(ba, bb)), None)
        why = ("unbalanced", 0) if mg is None else (mg.kind, int(mg.households))
        seen.setdefault(int(cell_labels[ea]), {})[why] = None
    if not seen:
        return []
    # Only the grids that cross a street are measured (streets inside each grid, per grid).
    at = [i for i, label in enumerate(labels) if label in seen]
    pieces = _crossed_streets(grid_geoms[at], [labels[i] for i in at], job)
    out = []
    for label, whys in seen.items():
        real = [w for w in whys if w[0] != "empty"]
        found = pieces.get(label, [])
        facts = {"streets_en": street_list(found, "en"), "streets_zh": street_list(found, "zh"),
                 "reasons": real or list(whys), "lo": job.lo, "hi": job.hi}  # fmt: skip
        severity = "" if real else "routine"
        out.append(PlanProblem("street_crossed", crossing_message, facts, label,
                               severity=severity, streets=_named(found)))  # fmt: skip
    return out


def _named(pieces: list[tuple[str, float]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n, _ in pieces if n))


def _crossed_streets(grid_geoms, labels, job) -> dict[int, list[tuple[str, float]]]:
    """Per grid label the ``(street name, metres inside the grid)`` of the streets it spans."""
    if job.streets is None or len(job.streets) == 0:
        return {}
    gi, si, length = street_straddle(grid_geoms, job.streets)
    found: dict[int, list[tuple[str, float]]] = {}
    for g, s, ln in zip(gi.tolist(), si.tolist(), length.tolist(), strict=True):
        if ln < _MIN_CROSSING_M:
            continue
        name = "" if job.street_names is None else str(job.street_names[s] or "")
        found.setdefault(labels[g], []).append((name, ln))
    return found


def _through_buildings(tess, cell_labels, grid_geoms, labels, job) -> list[PlanProblem]:
    """Buildings whose footprint a street given as a boundary splits between grids."""
    if job.streets is None or len(job.streets) == 0 or len(job.geoms) == 0:
        return []
    polys = np.flatnonzero((shapely.get_type_id(job.geoms) != 0) & (tess.building_cell >= 0))
    if len(polys) == 0:
        return []
    index = {lab: i for i, lab in enumerate(labels)}
    own = np.array([index[int(cell_labels[tess.building_cell[r]])] for r in polys])
    # A footprint inside its grid is not cut: only the others are intersected (on the district,
    # the intersections of all 35,000 footprints with their grids were a tenth of the finishing).
    shapely.prepare(grid_geoms)
    edge = ~shapely.contains_properly(grid_geoms[own], job.geoms[polys])
    polys, own = polys[edge], own[edge]
    fp = job.geoms[polys]
    inside = shapely.area(shapely.intersection(fp, grid_geoms[own]))
    cut = inside < (1 - _CUT_SHARE) * shapely.area(fp)
    if not cut.any():
        return []
    rows, own = polys[cut], own[cut]
    eroded = shapely.buffer(job.geoms[rows], -_EDGE_M)
    bi, si = shapely.STRtree(job.streets).query(eroded, predicate="intersects")
    out = []
    for g in np.unique(own[bi]).tolist():
        mine = own[bi] == g
        ids = list(dict.fromkeys(job.ids[rows[bi[mine]]].tolist()))
        names = [
            ("" if job.street_names is None else str(job.street_names[s] or ""), 0.0)
            for s in dict.fromkeys(si[mine].tolist())
        ]
        facts = {"streets_en": _street_words(names, "en"), "streets_zh": _street_words(names, "zh"),
                 "ids": ids}  # fmt: skip
        out.append(PlanProblem("street_through_building", through_building_message, facts,
                               labels[g], tuple(ids), streets=_named(names)))  # fmt: skip
    return out


def _street_words(names: list[tuple[str, float]], lang: str) -> str:
    """Street names without lengths (``未命名道路`` for those without a name)."""
    named = list(dict.fromkeys(n for n, _ in names if n))
    if len(named) < len({n for n, _ in names}) or not named:
        named.append(UNNAMED_STREET[lang] if lang == "zh" else "an unnamed street")
    return ("、" if lang == "zh" else ", ").join(named)


def _join_empty_parts(
    tess, cell_labels: np.ndarray, problems: list[PlanProblem], job
) -> tuple[np.ndarray, list[PlanProblem]]:
    """Give each detached part without households to the nearest grid of the community."""
    totals = np.bincount(cell_labels, tess.cell_households)
    empty = [p for p in problems if p.kind == "no_buildings" and p.label is not None]
    if not empty or (totals > 0).sum() == 0:
        return cell_labels, problems
    cell_labels = cell_labels.copy()
    joined = []
    for p in empty:
        mine = cell_labels == p.label
        if totals[p.label] > 0 or mine.all():
            continue
        part = shapely.union_all(tess.cells[mine])
        others = np.flatnonzero(~mine & (tess.cell_households > 0))
        tree = shapely.STRtree(tess.cells[others])
        near = int(tree.query_nearest(part, return_distance=False)[0])
        target = int(cell_labels[others[near]])
        dist = float(shapely.distance(part, tess.cells[others[near]]))
        cell_labels[mine] = target
        facts = {"code": job.code, "area_m2": float(shapely.area(part)), "distance_m": dist}
        joined.append((p, PlanProblem("detached_part", detached_part_message, facts, target)))
    if not joined:
        return cell_labels, problems
    gone = {id(p) for p, _ in joined}
    problems = [q for q in problems if id(q) not in gone] + [q for _, q in joined]
    uniq, compact = np.unique(cell_labels, return_inverse=True)
    return compact.ravel(), _compact(problems, uniq)


def _merge_slivers(geoms: dict[int, BaseGeometry]) -> dict[int, BaseGeometry]:
    """Give each sliver part of a grid (under :data:`_SLIVER_M2`, left by noding) to the grid
    sharing the longest edge with it, so every grid is one polygon (or one per detached part)."""
    labels = list(geoms)
    arr = np.array([geoms[g] for g in labels], dtype=object)
    multi = np.flatnonzero(shapely.get_num_geometries(arr) > 1)
    if len(multi) == 0:
        return geoms
    out = dict(geoms)
    tree = shapely.STRtree(arr)
    for i in multi.tolist():
        parts = shapely.get_parts(out[labels[i]])
        tiny = shapely.area(parts) < _SLIVER_M2
        if not tiny.any() or tiny.all():
            continue
        for part in parts[tiny]:
            near = [j for j in tree.query(part, predicate="intersects").tolist() if j != i]
            shared = [shapely.length(shapely.intersection(part, out[labels[j]])) for j in near]
            if near and max(shared) > 0:
                j = near[int(np.argmax(shared))]
                out[labels[j]] = shapely.union(out[labels[j]], part)
        kept = parts[~tiny]
        out[labels[i]] = kept[0] if len(kept) == 1 else shapely.multipolygons(kept.tolist())
    return out


def _assemble(plans: list[CommunityPlan], problems: list[Problem], crs) -> PartitionResult:
    rows, assign = [], []
    for plan in plans:
        grid_hh: dict[str | None, int] = dict(
            zip(plan.codes, plan.households.tolist(), strict=True)
        )
        for p in plan.problems:
            hh = grid_hh.get(p.grid_code) if p.households is None else p.households
            problems.append(replace(p, community_code=plan.code, households=hh))
        rows += grid_rows(plan.code, plan.codes, plan.grid_geoms, plan.households,
                          plan.buildings, plan.bounds)  # fmt: skip
        assign.append(assignment_frame(plan.building_ids, plan.building_grid, plan.code))
    grids, metrics = grid_frame(rows, crs)
    out = grids[[*GRID_COLUMNS, "geometry"]].to_crs(STORAGE_CRS)
    log_problems(logger, problems)
    return PartitionResult(out, concat_assignments(assign), metrics, problems, crs)
