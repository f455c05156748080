"""Minimal-change re-districting (网格调整): repair a published plan after the community changed.

:func:`redistrict` starts from the current plan. The community is tessellated as for
:func:`gridmap.plans.partition.partition`, with the current grid boundaries added as cutting lines,
so every cell lies in exactly one current grid. Grids that are still within the household bounds
and still tile the community keep their code and their exact shape. Each grid that now breaks
the bounds is repaired together with the grids around it: the region widens ring by ring (up to
the whole community) until its households fit its grids. Local search
(:func:`gridmap.solve.search.improve`) moves buildings between the region's grids with a cost on
every household moved, so as few households as possible change grid (the first region that can be
repaired and the one a ring wider are both tried); when the region needs one grid
more (or less), a new grid is first carved out of the fullest grids (or the emptiest is shared
out among its neighbours). Only if that fails everywhere are grids merged and re-split
(:func:`gridmap.solve.search.recombine`). After the local search, an integer program
(:func:`gridmap.solve.fewestmoves.fewest_moves`) looks for a repair around the broken grids that
moves fewer households with every grid connected, only where one can exist; the better plan is
kept (without compounds the program is solved first, and its plan within the bounds spares the
local search where the program covers more than twelve grids). Plans are ranked by households
out of bounds, then compounds split, then households moved
(:func:`gridmap.plans.planrepair.attempt_repair`); a repair crosses a street only when none
within the street blocks brings the grids within bounds (the crossing repair is tried first
when a group of street blocks holds households no number of grids can share,
:func:`gridmap.plans.planrepair.blocks_can_balance`). Communities are repaired one by one or in
``n_jobs`` processes, with the same result. A building above the maximum becomes a grid of its
own and a community under the minimum one grid, both reported as for partition (``over_max``,
``under_min``, with ``message_zh``). Codes go to the repaired grids by a maximum-weight
matching on the households they share with the current grids, so the most households keep
their code; a grid left without one gets a new code, after every code the community has ever
used; a retired code is never reused.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.constraints import STATUS_OK, Bounds, grid_count_range, household_bounds
from gridmap.crs import STORAGE_CRS
from gridmap.errors import InputError
from gridmap.geometry.adjacency import cell_graph
from gridmap.geometry.blocks import street_blocks
from gridmap.geometry.cells import Tessellation, tessellate
from gridmap.geometry.metrics import street_straddle
from gridmap.geometry.numbering import MAX_GRIDS_PER_COMMUNITY, grid_codes
from gridmap.plans import tables
from gridmap.plans.currentplan import (
    CurrentGrids,
    check_plan,
    current_assignment,
    match_codes,
    moved_buildings,
)
from gridmap.plans.jobs import CommunityJob, prepare_jobs, run_jobs
from gridmap.plans.planlines import (
    absorb_slivers,
    cells_in_grids,
    file_precision,
    keep_edges,
    on_file_grid,
    plan_lines,
    street_lines,
)
from gridmap.plans.planrepair import attempt_repair, blocks_can_balance
from gridmap.plans.tables import GRID_COLUMNS, PlanResult
from gridmap.problems import (
    Problem,
    repair_crossing_message,
    repair_infeasible_message,
    repair_over_max_message,
    repair_split_message,
    repair_under_min_message,
    unrepaired_message,
)

__all__ = ["redistrict", "RedistrictResult", "CHANGE_KEPT", "CHANGE_CHANGED", "CHANGE_NEW"]

logger = logging.getLogger(__name__)

CHANGE_KEPT = "kept"
"""Grid kept with its code and exact shape."""
CHANGE_CHANGED = "changed"
"""Grid kept its code, but its boundary (and buildings) changed."""
CHANGE_NEW = "new"
"""Grid re-created with a new code."""

_SHAPE_TOLERANCE_M = 0.05  # mean offset (m) under which a grid still tiles as before


@dataclass
class RedistrictResult(PlanResult):
    """A repaired plan and what changed against the plan it started from.

    Attributes
    ----------
    grids, assignments, metrics, problems, crs
        As for :class:`gridmap.plans.tables.PlanResult`; ``grids`` and ``metrics`` have a
        column ``change`` after ``polsby_popper``: ``kept``, ``changed`` or ``new``. Kept grids
        have the exact geometry of the input plan.
    moved : pandas.DataFrame
        Buildings whose grid changed: ``building_id, from_grid, to_grid, households``.
    retired_codes : list of str
        Codes of the input plan that no longer exist.
    new_buildings, removed_buildings : list of str
        Buildings without a previous grid, and previous buildings that are gone.
    """

    moved: pd.DataFrame = field(kw_only=True)
    retired_codes: list[str] = field(default_factory=list, kw_only=True)
    new_buildings: list[str] = field(default_factory=list, kw_only=True)
    removed_buildings: list[str] = field(default_factory=list, kw_only=True)

    @property
    def households_moved(self) -> int:
        """Households whose building changed grid."""
        return int(self.moved["households"].sum())

    @property
    def changed_grids(self) -> list[str]:
        """Codes of grids that changed or are new."""
        return self.grids.loc[self.grids["change"] != CHANGE_KEPT, "grid_code"].tolist()

    @property
    def kept_grids(self) -> list[str]:
        """Codes of grids kept with their exact shape."""
        return self.grids.loc[self.grids["change"] == CHANGE_KEPT, "grid_code"].tolist()


@dataclass(frozen=True)
class GridCodes:
    """The repaired grids of one community by label: code, kind of change and geometry.

    ``geoms`` are the dissolved cells (projected CRS); ``kept_geoms`` the input plan's exact
    storage geometry of each grid kept as it was.
    """

    labels: list[int]
    code_of: dict[int, str]
    change: dict[int, str]
    geoms: dict[int, shapely.Geometry]
    kept_geoms: dict[int, shapely.Geometry]


@dataclass(frozen=True)
class RepairPart:
    """What a worker process returns: the repaired grids of one community and what changed.

    Attributes
    ----------
    code, bounds : str, Bounds
        Community code and household bounds.
    grids : GridCodes
    cell_labels : np.ndarray
        Grid label of each cell of ``tess``.
    tess : Tessellation
    building_ids : np.ndarray
    old_codes : list of str
        Codes of the community's grids in the input plan.
    split_compounds : list of str
        Compounds whole in one grid before and split after.
    crossed : dict
        Grid label → ``(street name, metres)`` of the streets it newly spans.
    towers : dict
        Grid label → ids of its buildings above the maximum.
    total : int
        Households of the community outside those buildings.
    """

    code: str
    bounds: Bounds
    grids: GridCodes
    cell_labels: np.ndarray
    tess: Tessellation
    building_ids: np.ndarray
    old_codes: list[str]
    split_compounds: list[str]
    crossed: dict[int, list[tuple[str, float]]]
    towers: dict[int, list[str]]
    total: int


def redistrict(
    plan: gpd.GeoDataFrame | PlanResult,
    buildings: gpd.GeoDataFrame,
    *,
    assignments: pd.DataFrame | pd.Series | None = None,
    communities: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    min_households: int = 300,
    max_households: int = 500,
    retired_codes: Iterable[str] = (),
    seed: int = 0,
    n_jobs: int = 1,
    progress: Callable[[str], None] | None = None,
    scheduler: object | None = None,
) -> RedistrictResult:
    """Repair ``plan`` for the current ``buildings``, moving as few households as possible.

    Grids that are still within the household bounds and still tile the community keep their
    code and exact shape; each grid that breaks the bounds is repaired together with the grids
    around it, and a grid left without a code gets a new one, after every code the community
    has used (how: :mod:`gridmap.plans.redistrict`).

    Parameters
    ----------
    plan : geopandas.GeoDataFrame or PlanResult
        The current grids: ``grid_code`` (15 digits) and polygon geometry; ``community_code``
        is taken from the first 12 digits of the code when missing. A
        :class:`~gridmap.plans.tables.PlanResult` (a partition or an earlier redistrict)
        brings its own assignments, unless ``assignments`` is given.
    buildings : geopandas.GeoDataFrame
        The buildings now: ``building_id``, ``households``, optional ``compound_id``.
    assignments : DataFrame or Series, optional
        The plan's building → grid assignment (``building_id, grid_code`` or a Series indexed
        by building id). Default: each building in the grid holding its point, or a point on
        its footprint (:func:`~gridmap.plans.currentplan.assign_by_location`); a building in no
        grid is then one of ``new_buildings``. Used to report moved, new and removed buildings.
    communities : geopandas.GeoDataFrame, optional
        ``community_code`` and boundary; default: the union of each community's grids.
    retired_codes : iterable of str
        Codes used by earlier plans; new grids are numbered after all of them.
    streets, compounds, min_households, max_households, seed, n_jobs, progress, scheduler
        As for :func:`gridmap.plans.partition.partition` (equal seeds give equal plans
        whatever ``n_jobs`` and the machine's speed: the searches are limited by work, not by
        time).

    Returns
    -------
    RedistrictResult

    Raises
    ------
    InputError
        Missing columns, bad codes or household counts, duplicate ids, invalid geometry or CRS;
        a community without area. Invalid building footprints and communities drawn as
        collections are repaired as for partition, each a problem
        (:func:`gridmap.plans.jobs.prepare_jobs`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> plan = gpd.GeoDataFrame({"grid_code": ["520602001001001", "520602001001002"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=4545)
    >>> b = gpd.GeoDataFrame({"building_id": list("abcdef"),
    ...     "households": [150, 150, 50, 100, 200, 150]}, crs=4545,
    ...     geometry=shapely.points([(20, 50), (60, 50), (90, 50), (120, 50), (150, 50),
    ...                              (180, 50)]))
    >>> r = redistrict(plan, b)
    >>> r.grids[["grid_code", "households", "change"]].values.tolist()
    [['520602001001001', 350, 'kept'], ['520602001001002', 450, 'kept']]
    >>> b.loc[5, "households"] = 220  # a building grows: grid 002 is now over 500
    >>> r = redistrict(plan, b)
    >>> r.grids[["grid_code", "households", "change"]].values.tolist()
    [['520602001001001', 450, 'changed'], ['520602001001002', 420, 'changed']]
    >>> r.moved[["building_id", "from_grid", "to_grid", "households"]].values.tolist()
    [['d', '520602001001002', '520602001001001', 100]]
    """
    bounds = household_bounds(min_households, max_households)
    if isinstance(plan, PlanResult):
        assignments = plan.assignments if assignments is None else assignments
        plan = plan.grids
    plan = check_plan(plan)
    out_geoms = plan.to_crs(STORAGE_CRS).geometry  # kept grids keep these exact shapes
    if communities is None:
        plan = plan.to_crs(buildings.crs) if buildings.crs is not None else plan
        communities = plan.dissolve("community_code", as_index=False)[
            ["community_code", "geometry"]
        ]
    jobs, problems, _, crs = prepare_jobs(communities, buildings, streets, compounds, bounds, seed)
    retired = {str(c) for c in retired_codes}
    plan_proj = plan.to_crs(crs)
    tasks = []
    for job in jobs:
        rows = np.flatnonzero(plan["community_code"].to_numpy() == job.code)
        old = CurrentGrids(
            plan["grid_code"].to_numpy()[rows],
            np.asarray(plan_proj.geometry.values)[rows],
            np.asarray(out_geoms.values)[rows],
        )
        tasks.append((job, old, retired))
    parts = run_jobs(
        _redistrict_task, tasks, [job.code for job in jobs], n_jobs, progress, scheduler
    )
    old_assign = current_assignment(assignments, buildings, plan)
    grid_size = file_precision(np.asarray(out_geoms.values))
    return _assemble(parts, problems, crs, old_assign, buildings, grid_size)


def _redistrict_task(task: tuple) -> RepairPart:
    return _redistrict_community(*task)


def _redistrict_community(job: CommunityJob, old: CurrentGrids, retired: set[str]) -> RepairPart:
    """Labels per cell, codes, change kinds and geometries of one community."""
    rng = np.random.default_rng(job.seed)
    # The plan's lines as one geometry: the tessellation tests each line against all of them,
    # and the many short pieces cost 0.5 of 3.6 s on central Helsinki (same cells and plans).
    lines = plan_lines(old.geoms, job)
    if len(lines):
        lines = np.array([shapely.multilinestrings(shapely.get_parts(lines))], dtype=object)
    cut = lines if job.streets is None else np.concatenate([job.streets, lines])
    tess = tessellate(
        job.boundary,
        job.geoms,
        job.households,
        compound_ids=job.compound_ids,
        streets=cut if len(cut) else None,
        compounds=job.compounds,
        compound_polygon_ids=job.compound_polygon_ids,
    )
    # The plan's own lines cut cells, but only real streets count as streets in the graph.
    tess = dataclasses.replace(tess, streets=street_lines(job.streets))
    cell_graph_ = cell_graph(tess)
    cell_old = cells_in_grids(tess.cells, old.geoms, cell_graph_)
    solid_of, rep, graph = absorb_slivers(tess, cell_graph_)
    solid_old = cell_old[rep]
    cell_old = solid_old[solid_of]
    comp = np.asarray(tess.cell_compound, dtype=object)[rep]
    strict = None
    if tess.streets is not None:
        # A repair may not take buildings across a street, unless the grid already spans it.
        block = street_blocks(graph)
        a, b = graph.edges[:, 0], graph.edges[:, 1]
        strict = keep_edges(graph, (block[a] == block[b]) | (solid_old[a] == solid_old[b]))
    # A repair within the street blocks first; across streets only when none brings every
    # grid within the bounds. When the blocks cannot balance at all (a group of blocks holds
    # households no number of grids can share), the crossing repair is tried first.
    tries = [graph] if strict is None else [strict, graph]
    if strict is not None and not blocks_can_balance(strict, job):
        tries.reverse()
    best = None
    for g in tries:
        found = attempt_repair(g, comp, solid_old, job, rng)
        if best is None or found[2] < best[2]:
            best = found
        if best[2][0] == 0:
            break
    assert best is not None  # at least one attempt
    units, labels, rank = best
    solid_labels = np.asarray(labels, dtype=np.int64)[units.unit_of_cell]
    cell_labels = solid_labels[solid_of]
    grids = _finish(job, tess, old, cell_old, cell_labels, retired)
    towers: dict[int, list[str]] = {}
    for t in np.flatnonzero(units.tower).tolist():
        cells = np.flatnonzero(units.unit_of_cell[solid_of] == t)
        ids = [str(job.ids[b]) for c in cells for b in tess.cell_buildings[c]
               if job.households[b] > job.hi]  # fmt: skip
        towers.setdefault(labels[t], []).extend(ids)
    return RepairPart(
        code=job.code,
        bounds=household_bounds(job.lo, job.hi),
        grids=grids,
        cell_labels=cell_labels,
        tess=tess,
        building_ids=job.ids,
        old_codes=old.codes.tolist(),
        split_compounds=_split_compounds(tess.cell_compound, cell_old, cell_labels),
        crossed=(
            _new_crossings(graph, block, solid_old, solid_labels, grids, job)
            if strict is not None
            else {}
        ),
        towers=towers,
        total=int(sum(w for v, w in enumerate(units.weights) if not units.tower[v])),
    )


def _new_crossings(
    graph, block, solid_old, solid_labels, grids: GridCodes, job
) -> dict[int, list[tuple[str, float]]]:
    """Grids that now span a street they did not span before: label → ``(name, metres)``
    pieces (``""`` for a street without a name; ids never stand in for names)."""
    a, b = graph.edges[:, 0], graph.edges[:, 1]
    new = (block[a] != block[b]) & (solid_labels[a] == solid_labels[b])
    new &= solid_old[a] != solid_old[b]
    labels = sorted(set(solid_labels[a[new]].tolist()))
    if not labels:
        return {}
    geoms = np.array([grids.geoms[g] for g in labels], dtype=object)
    gi, si, length = street_straddle(geoms, job.streets)
    out: dict[int, list[tuple[str, float]]] = {g: [] for g in labels}
    for g, s, ln in zip(gi.tolist(), si.tolist(), length.tolist(), strict=True):
        name = None if job.street_names is None else job.street_names[s]
        out[labels[g]].append((str(name) if name not in (None, "") else "", float(ln)))
    return {g: v or [("", 0.0)] for g, v in out.items()}


def _split_compounds(cell_compound, cell_old, cell_labels) -> list[str]:
    """Compounds that were whole in one grid and are now split between grids."""
    out = []
    for c in sorted(set(cell_compound.tolist()) - {""}):
        mask = cell_compound == c
        if len(set(cell_old[mask].tolist())) == 1 and len(set(cell_labels[mask].tolist())) > 1:
            out.append(str(c))
    return out


def _finish(
    job: CommunityJob, tess, old: CurrentGrids, cell_old, cell_labels, retired: set[str]
) -> GridCodes:
    """Match new grids to current ones, give codes, and build geometries."""
    labels = np.unique(cell_labels).tolist()
    weight = tess.cell_households + 1e-6 * shapely.area(tess.cells)
    code_of = match_codes(labels, cell_labels, cell_old, weight, old.codes)
    geoms = tess.dissolve(cell_labels)
    area_old = shapely.area(old.geoms) if len(old.codes) else np.array([])
    change, kept = {}, {}
    for g in labels:
        code = code_of.get(g)
        mask = cell_labels == g
        if code is None:
            change[g] = CHANGE_NEW
            continue
        i = int(np.flatnonzero(old.codes == code)[0])
        same = bool((cell_old[mask] == i).all() and (cell_labels[cell_old == i] == g).all())
        # Still tiles as before: the same shape up to the rounding of a file (GeoJSON keeps
        # 7 decimals of a degree, about 1 cm).
        off = float(shapely.area(shapely.symmetric_difference(geoms[g], old.geoms[i])))
        tiles = off <= _SHAPE_TOLERANCE_M * float(shapely.length(old.geoms[i]))
        change[g] = CHANGE_KEPT if same and tiles else CHANGE_CHANGED
        if change[g] == CHANGE_KEPT:
            kept[g] = old.storage_geoms[i]
    new = [g for g in labels if code_of.get(g) is None]
    used = set(old.codes.tolist()) | {c for c in retired if c.startswith(job.code)}
    start = max((int(c[12:]) for c in used), default=0)
    if new:
        if start + len(new) > MAX_GRIDS_PER_COMMUNITY:
            raise InputError(
                f"Community {job.code} has used grid codes up to {job.code}{start:03d}; "
                f"{len(new)} new grid(s) would pass {MAX_GRIDS_PER_COMMUNITY}. Renumber the "
                "community's grids with a fresh `gridmap partition` plan."
            )
        pts = shapely.point_on_surface(np.array([geoms[g] for g in new], dtype=object))
        order = grid_codes(job.code, shapely.get_x(pts), shapely.get_y(pts),
                           row_height=math.sqrt(float(np.median(area_old))) if len(area_old)
                           else 1.0)  # fmt: skip
        for g, c in zip(new, order, strict=True):
            code_of[g] = f"{job.code}{start + int(c[12:]):03d}"
    return GridCodes(labels, code_of, change, geoms, kept)


def _assemble(
    parts: list[RepairPart], problems, crs, old_assign: pd.Series, buildings, grid_size: float = 0.0
) -> RedistrictResult:
    rows, assign, retired_all, flagged = [], [], [], []
    for part in parts:
        mine = _part_rows(part)
        rows += mine
        flagged += [_flag(part, label, row) for label, row in zip(part.grids.labels, mine,
                    strict=True) if row["status"] != STATUS_OK]  # fmt: skip
        code_of, cell_labels = part.grids.code_of, part.cell_labels
        building_grid = [code_of[int(cell_labels[c])] if c >= 0 else None
                         for c in part.tess.building_cell]  # fmt: skip
        assign.append(tables.assignment_frame(part.building_ids, building_grid, part.code))
        now = set(code_of.values())
        retired_all += [c for c in part.old_codes if c not in now]
    frame, metrics = tables.grid_frame(rows, crs, extra=["change"], hidden=["_storage"])
    storage = frame.geometry.to_crs(STORAGE_CRS)
    if grid_size:
        storage = gpd.GeoSeries([on_file_grid(g, grid_size) for g in storage], crs=STORAGE_CRS)
    keep = frame["_storage"].notna()
    storage[keep] = frame.loc[keep, "_storage"].to_numpy()
    grids = gpd.GeoDataFrame(frame[[*GRID_COLUMNS, "change"]], geometry=storage.values,
                             crs=STORAGE_CRS)  # fmt: skip
    assignments = tables.concat_assignments(assign)
    moved, new_b, removed = moved_buildings(old_assign, assignments, buildings)
    problems += flagged
    for part in parts:
        problems += _part_problems(part)
    tables.log_problems(logger, problems)
    return RedistrictResult(grids, assignments, metrics, problems, crs, moved=moved,
                            retired_codes=sorted(retired_all), new_buildings=new_b,
                            removed_buildings=removed)  # fmt: skip


def _part_rows(part: RepairPart) -> list[dict]:
    """The grid rows of one repaired community, in label order."""
    grids = part.grids
    households, buildings = part.tess.totals(part.cell_labels, grids.labels)
    return tables.grid_rows(
        part.code,
        [grids.code_of[g] for g in grids.labels],
        np.array([grids.geoms[g] for g in grids.labels], dtype=object),
        households,
        buildings,
        part.bounds,
        change=[grids.change[g] for g in grids.labels],
        _storage=[grids.kept_geoms.get(g) for g in grids.labels],
    )


def _part_problems(part: RepairPart) -> list[Problem]:
    """Compounds a repair split and grids it took across a street."""
    lo, hi = part.bounds.lo, part.bounds.hi
    out = []
    if part.split_compounds:
        en, zh = repair_split_message(part.code, part.split_compounds, lo, hi)
        out.append(Problem("compound_split", en, part.code, message_zh=zh))
    for label, pieces in part.crossed.items():
        code = part.grids.code_of[label]
        en, zh = repair_crossing_message(pieces, lo, hi, grid=code)
        streets = tuple(dict.fromkeys(n for n, _ in pieces if n))
        out.append(Problem("street_crossed", en, part.code, code, message_zh=zh, streets=streets))
    return out


def _flag(part: RepairPart, label: int, row: dict) -> Problem:
    """Why the grid of ``row`` is outside the bounds, in plain words (English and Chinese)."""
    community, total, lo, hi = part.code, part.total, part.bounds.lo, part.bounds.hi
    code, households, status = row["grid_code"], row["households"], row["status"]
    if label in part.towers:
        ids = part.towers[label]
        en, zh = repair_over_max_message(ids, households, hi, grid=code)
        return Problem("over_max", en, community, code, tuple(ids), message_zh=zh)
    if total < lo:
        kind, (en, zh) = (
            "under_min",
            repair_under_min_message(community, total, lo, households, grid=code),
        )
    elif not len(grid_count_range(total, lo, hi)):
        kind, (en, zh) = (
            "infeasible",
            repair_infeasible_message(community, total, lo, hi, households, status, grid=code),
        )
    else:
        kind, (en, zh) = "unrepaired", unrepaired_message(households, status, lo, hi, grid=code)
    return Problem(kind, en, community, code, message_zh=zh)
