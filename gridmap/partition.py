"""Partition communities into grids of ``min``–``max`` households (网格划分).

``partition()`` validates the layers, projects them, assigns buildings to communities and plans
each community independently (optionally in parallel processes): tessellate into cells
(:mod:`gridmap.cells`), build the cell graph (:mod:`gridmap.adjacency`), contract towers and
compounds into units (:mod:`gridmap.units`), construct and improve a plan per connected part
(:mod:`gridmap.search`), then dissolve, number and measure the grids.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.adjacency import cell_graph
from gridmap.cells import tessellate
from gridmap.constraints import STATUS_OK, household_bounds
from gridmap.crs import STORAGE_CRS, check_same_crs, projected_crs_for
from gridmap.jobs import CommunityJob, check_columns, make_jobs, relaxed_bounds
from gridmap.metrics import polsby_popper
from gridmap.numbering import grid_codes
from gridmap.problems import Problem
from gridmap.search import Bounds, bisect_plan, improve, plan_cost, recombine, violation
from gridmap.units import Units, contract

__all__ = ["partition", "PartitionResult", "Problem", "GRID_COLUMNS"]

logger = logging.getLogger(__name__)

GRID_COLUMNS = ["grid_code", "community_code", "households", "buildings", "status", "polsby_popper"]
_RESTART_BUDGET = 600  # restarts per component = budget // units, between 1 and _MAX_RESTARTS
_MAX_RESTARTS = 8


@dataclass
class PartitionResult:
    """Grids, building assignment, per-grid metrics and problems of a plan.

    Attributes
    ----------
    grids : geopandas.GeoDataFrame
        One row per grid (EPSG:4326): ``grid_code, community_code, households, buildings,
        status, polsby_popper, geometry``.
    assignments : pandas.DataFrame
        ``building_id, grid_code, community_code`` for every building inside a community.
    metrics : pandas.DataFrame
        Per grid: ``grid_code, households, buildings, status, polsby_popper, area_m2,
        perimeter_m``.
    problems : list of Problem
    crs : pyproj.CRS
        The projected CRS the plan was computed in.
    """

    grids: gpd.GeoDataFrame
    assignments: pd.DataFrame
    metrics: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    crs: object = None

    @property
    def ok(self) -> bool:
        """Whether every grid is within the household bounds."""
        return bool((self.grids["status"] == STATUS_OK).all())


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

    Returns
    -------
    PartitionResult

    Raises
    ------
    InputError
        Missing columns, bad household counts, duplicate ids, invalid geometry or CRS.

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
    check_columns(communities, buildings, compounds)
    check_same_crs(
        communities,
        buildings,
        streets,
        compounds,
        names=["communities", "buildings", "streets", "compounds"],
    )
    crs = projected_crs_for(communities)
    comm = communities.to_crs(crs)
    bld = buildings.to_crs(crs)
    str_geoms = None if streets is None else np.asarray(streets.to_crs(crs).geometry.values)
    cmp = None if compounds is None else compounds.to_crs(crs)
    jobs, problems, inside = make_jobs(comm, bld, str_geoms, cmp, bounds.lo, bounds.hi, seed)
    plans = _run(jobs, n_jobs, progress)
    return _assemble(plans, problems, crs, bounds.hi, inside)


def _run(jobs: list[CommunityJob], n_jobs: int, progress) -> list[dict]:
    if n_jobs <= 1 or len(jobs) <= 1:
        out = []
        for job in jobs:
            out.append(_plan_community(job))
            if progress:
                progress(job.code)
        return out
    with ProcessPoolExecutor(max_workers=n_jobs) as pool:
        out = []
        for job, plan in zip(jobs, pool.map(_plan_community, jobs), strict=True):
            out.append(plan)
            if progress:
                progress(job.code)
        return out


def _plan_community(job: CommunityJob) -> dict:
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
    units = contract(graph, tess.cell_compound, job.hi)
    unit_labels, problems = _label_units(units, job, rng)
    cell_labels = np.asarray(unit_labels, dtype=np.int64)[units.unit_of_cell]
    if any(p[0] == "unbalanced" for p in problems) and (tess.cell_compound != "").any():
        # Keeping every compound whole left grids out of bounds: allow splitting compounds.
        loose = contract(graph, np.full(graph.n, "", dtype=object), job.hi)
        labels2, problems2 = _label_units(loose, job, rng)
        cells2 = np.asarray(labels2, dtype=np.int64)[loose.unit_of_cell]
        if _cell_violation(cells2, tess, job) < _cell_violation(cell_labels, tess, job):
            cell_labels, problems = cells2, problems2 + [_compound_problem(job)]
    geoms = tess.dissolve(cell_labels)
    labels = sorted(geoms)
    grid_geoms = np.array([geoms[g] for g in labels], dtype=object)
    hh = np.array([tess.cell_households[cell_labels == g].sum() for g in labels], dtype=np.int64)
    nb = np.array(
        [
            sum(len(tess.cell_buildings[c]) for c in np.flatnonzero(cell_labels == g))
            for g in labels
        ],
        dtype=np.int64,
    )
    rep = shapely.point_on_surface(grid_geoms)
    cent = shapely.centroid(grid_geoms)
    x = np.where(shapely.contains(grid_geoms, cent), shapely.get_x(cent), shapely.get_x(rep))
    y = np.where(shapely.contains(grid_geoms, cent), shapely.get_y(cent), shapely.get_y(rep))
    row = math.sqrt(float(np.median(shapely.area(grid_geoms)))) if len(labels) else 1.0
    codes = grid_codes(job.code, x, y, row_height=row)
    code_of = dict(zip(labels, codes, strict=True))
    building_grid = np.array(
        [code_of[int(cell_labels[c])] for c in tess.building_cell], dtype=object
    )
    problems = [_with_code(p, code_of) for p in problems]
    return {
        "code": job.code,
        "grid_geoms": grid_geoms,
        "codes": codes,
        "households": hh,
        "buildings": nb,
        "building_ids": job.ids,
        "building_grid": building_grid,
        "problems": problems,
        "lo": job.lo,
        "hi": job.hi,
    }


def _cell_violation(cell_labels: np.ndarray, tess, job: CommunityJob) -> float:
    totals = np.bincount(cell_labels, tess.cell_households)
    ok = household_bounds(job.lo, job.hi)
    towers = set(tess.cell_households[tess.cell_households > job.hi].tolist())
    return float(sum(ok.violation(t) for t in totals if t not in towers))


def _compound_problem(job: CommunityJob) -> tuple:
    return (
        "compound_split",
        f"In community {job.code} some compounds (小区) had to be split between grids: kept "
        f"whole, they left grids outside {job.lo}–{job.hi} households.",
        None,
        (),
    )


def _with_code(p: tuple, code_of: dict[int, str]) -> Problem:
    kind, message, label, ids = p
    code = code_of.get(label) if label is not None else None
    if code:
        message = message.replace("{grid}", code)
    return Problem(kind, message, grid_code=code, building_ids=tuple(ids))


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


def _label_units(
    units: Units, job: CommunityJob, rng: np.random.Generator
) -> tuple[list[int], list]:
    labels = [-1] * units.n
    problems: list = []
    next_label = 0
    for t in np.flatnonzero(units.tower).tolist():
        labels[t] = next_label
        next_label += 1
        problems.append(_tower_problem(units, t, job, labels[t]))
    for comp in _components(units):
        total = sum(units.weights[v] for v in comp)
        if total == 0:
            towers = [u for v in comp for u in units.nbrs[v] if units.tower[u]]
            label = labels[towers[0]] if towers else next_label
            next_label += label == next_label
            for v in comp:
                labels[v] = label
            if not towers:
                problems.append(("no_buildings", _empty_message(job, units, comp), label, ()))
            continue
        if total < job.lo or len(comp) == 1:
            for v in comp:
                labels[v] = next_label
            problems.append(_small_problem(job, total, next_label, units, comp))
            next_label += 1
            continue
        parts, bounds = _plan_component(comp, units, job, rng)
        problems += _balance_problems(job, total, bounds, parts, units, next_label)
        for part in parts:
            for v in part:
                labels[v] = next_label
            next_label += 1
    return labels, problems


def _plan_component(comp, units: Units, job: CommunityJob, rng) -> tuple[list[list[int]], Bounds]:
    bounds = relaxed_bounds(sum(units.weights[v] for v in comp), job.lo, job.hi)
    frozen = np.ones(units.n, dtype=bool)
    frozen[comp] = False
    restarts = min(_MAX_RESTARTS, max(1, _RESTART_BUDGET // len(comp)))
    comp_w = [units.weights[v] for v in comp]
    best = None
    for _ in range(restarts):
        parts = bisect_plan(comp, units.nbrs, units.costs, units.weights, bounds, rng)
        lab = np.full(units.n, -1, dtype=np.int64)
        lab[units.tower] = -2 - np.flatnonzero(units.tower)
        for i, part in enumerate(parts):
            lab[part] = i
        fixed = frozenset(lab[units.tower].tolist()) | {-1}
        out = lab.tolist()
        for _attempt in range(2):
            if violation([out[v] for v in comp], comp_w, bounds):
                out = recombine(
                    out, units.nbrs, units.costs, units.weights, bounds, rng, fixed_labels=fixed
                )
            out = improve(
                out,
                units.nbrs,
                units.costs,
                units.weights,
                bounds,
                rng,
                frozen=frozen,
                fixed_labels=fixed,
                iterations=60 * len(comp),
            )
            if not violation([out[v] for v in comp], comp_w, bounds):
                break
        score = (
            violation([out[v] for v in comp], comp_w, bounds),
            plan_cost(out, units.nbrs, units.costs),
        )
        if best is None or score < best[0]:
            best = (score, out)
    out = best[1]
    groups: dict[int, list[int]] = {}
    for v in comp:
        groups.setdefault(out[v], []).append(v)
    return list(groups.values()), bounds


def _tower_problem(units: Units, t: int, job: CommunityJob, label: int) -> tuple:
    # The tower unit is one cell holding (usually) one building above the maximum.
    big = np.flatnonzero(job.households > job.hi)
    rows = [r for r in big.tolist() if job.households[r] == units.weights[t]] or big.tolist()[:1]
    ids = job.ids[rows].tolist()
    return (
        "over_max",
        f"Building {', '.join(ids)} has {int(units.weights[t])} households, more than the "
        f"maximum of {job.hi} for one grid; it forms grid {{grid}} on its own. Make it a "
        "dedicated grid (专属网格) or split it by stairwell (单元) if one worker cannot serve it.",
        label,
        ids,
    )


def _empty_message(job: CommunityJob, units: Units, comp) -> str:
    del units, comp
    return (
        f"Part of community {job.code} has no buildings with households; it forms grid {{grid}} "
        "with 0 households. Check whether buildings are missing there, or merge it by hand."
    )


def _small_problem(job: CommunityJob, total: float, label: int, units: Units, comp) -> tuple:
    del units, comp
    return (
        "under_min",
        f"Community {job.code} (or a separate part of it) has only {int(total)} households, "
        f"fewer than the minimum of {job.lo}; it forms grid {{grid}} on its own. Merge it "
        "with a neighbouring grid by hand if that suits the community.",
        label,
        (),
    )


def _balance_problems(
    job: CommunityJob, total: float, bounds: Bounds, parts, units: Units, first_label: int
) -> list:
    out = []
    if bounds.lo != job.lo or bounds.hi != job.hi:
        out.append(
            (
                "infeasible",
                f"Community {job.code} (or a separate part of it) has {int(total)} households: "
                f"no number of grids of {job.lo}–{job.hi} households adds up to that, so some "
                f"grids are outside the range. Adjust the range or the boundary.",
                None,
                (),
            )
        )
    for label, part in enumerate(parts, start=first_label):
        w = sum(units.weights[v] for v in part)
        if job.lo <= w <= job.hi or bounds.lo != job.lo or bounds.hi != job.hi:
            continue
        out.append(
            (
                "unbalanced",
                f"Grid {{grid}} has {int(w)} households, outside {job.lo}–{job.hi}: the "
                "buildings and compounds there are too large to combine into balanced grids "
                "(for example several towers that only fit two to a grid, or a compound kept "
                "whole). Check the household counts of the large buildings or adjust the "
                "range.",
                label,
                (),
            )
        )
    return out


def _assemble(plans: list[dict], problems: list[Problem], crs, hi: int, inside) -> PartitionResult:
    del hi, inside
    rows, assign = [], []
    for plan in plans:
        for p in plan["problems"]:
            problems.append(Problem(p.kind, p.message, plan["code"], p.grid_code, p.building_ids))
        pp = polsby_popper(plan["grid_geoms"])
        for i, code in enumerate(plan["codes"]):
            h = int(plan["households"][i])
            status = household_bounds(plan["lo"], plan["hi"]).status(h)
            rows.append(
                {
                    "grid_code": code,
                    "community_code": plan["code"],
                    "households": h,
                    "buildings": int(plan["buildings"][i]),
                    "status": status,
                    "polsby_popper": round(float(pp[i]), 4),
                    "area_m2": float(shapely.area(plan["grid_geoms"][i])),
                    "perimeter_m": float(shapely.length(plan["grid_geoms"][i])),
                    "geometry": plan["grid_geoms"][i],
                }
            )
        assign.append(
            pd.DataFrame(
                {
                    "building_id": plan["building_ids"],
                    "grid_code": plan["building_grid"],
                    "community_code": plan["code"],
                }
            )
        )
    frame = pd.DataFrame(rows, columns=[*GRID_COLUMNS, "area_m2", "perimeter_m", "geometry"])
    grids = gpd.GeoDataFrame(frame, geometry="geometry", crs=crs).sort_values("grid_code")
    grids = grids.reset_index(drop=True)
    metrics = pd.DataFrame(grids.drop(columns="geometry"))
    out = grids[[*GRID_COLUMNS, "geometry"]].to_crs(STORAGE_CRS)
    assignments = (
        pd.concat(assign, ignore_index=True)
        if assign
        else pd.DataFrame(columns=["building_id", "grid_code", "community_code"])
    )
    for p in problems:
        logger.info("%s: %s", p.kind, p.message)
    return PartitionResult(out, assignments, metrics, problems, crs)
