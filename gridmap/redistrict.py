"""Minimal-change re-districting (网格调整): repair a published plan after the community changed.

:func:`redistrict` starts from the current plan. The community is tessellated as for
:func:`gridmap.partition.partition`, with the current grid boundaries added as cutting lines, so
every cell lies in exactly one current grid. Grids that are still within the household bounds
and still tile the community keep their code and their exact shape. Each grid that now breaks
the bounds is repaired together with the grids around it: the region widens ring by ring (up to
the whole community) until its households fit its grids. Local search
(:func:`gridmap.search.improve`) moves buildings between the region's grids with a cost on every
household moved, so as few households as possible change grid (the first region that can be
repaired and the one a ring wider are both tried); when the region needs one grid
more (or less), a new grid is first carved out of the fullest grids (or the emptiest is shared
out among its neighbours). Only if that fails everywhere are grids merged and re-split
(:func:`gridmap.search.recombine`). A building above the maximum becomes a grid of its own and
a community under the minimum one grid, both reported as for partition (``over_max``,
``under_min``, with ``message_zh``). Codes go to the repaired grids by a maximum-weight
matching on the households they share with the current grids, so the most households keep
their code; a grid left without one gets a new code, after every code the community has ever
used; a retired code is never reused.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from gridmap.adjacency import CellGraph, cell_graph
from gridmap.blocks import street_blocks
from gridmap.cells import tessellate
from gridmap.constraints import STATUS_OK, grid_count_range, household_bounds
from gridmap.crs import STORAGE_CRS, check_same_crs, projected_crs_for
from gridmap.errors import CRSError, DuplicateIdError, InputError
from gridmap.jobs import CommunityJob as _Job
from gridmap.jobs import check_columns as _check_columns
from gridmap.jobs import make_jobs as _make_jobs
from gridmap.jobs import relaxed_bounds as _relaxed_bounds
from gridmap.metrics import polsby_popper, street_straddle
from gridmap.numbering import MAX_GRIDS_PER_COMMUNITY, grid_codes
from gridmap.partition import GRID_COLUMNS
from gridmap.partition import _street_names as _street_names
from gridmap.problems import Problem
from gridmap.search import Bounds, improve, recombine, violation
from gridmap.units import contract

__all__ = ["redistrict", "RedistrictResult", "CHANGE_KEPT", "CHANGE_CHANGED", "CHANGE_NEW"]

logger = logging.getLogger(__name__)

CHANGE_KEPT = "kept"
"""Grid kept with its code and exact shape."""
CHANGE_CHANGED = "changed"
"""Grid kept its code, but its boundary (and buildings) changed."""
CHANGE_NEW = "new"
"""Grid re-created with a new code."""

_TRIES = 4  # local-search restarts per neighbourhood size
_ROUNDS = 3  # local repair then re-creation, at most this many times
_MAX_DEPTH = 3  # grids this many steps from a broken grid may give or take buildings
_ITERATIONS_PER_UNIT = 150  # proposed moves per movable unit in one local search
_EMPTY_MOVE = 0.5  # moving a cell without households costs like half a household
_SLIVER_WIDTH_M = 0.1  # an empty cell thinner than this on average (m) is a sliver
_SNAP_M = 0.05  # the plan's lines this close to the boundary, a street or a wall are dropped
_FILE_GRID_DEG = 1e-7  # coordinates of an RFC 7946 file (GDAL writes 7 decimals)
_NECK_M = 0.05  # cells sharing less boundary than this (m) are not neighbours
_SHAPE_TOLERANCE_M = 0.05  # mean offset (m) under which a grid still tiles as before


@dataclass
class RedistrictResult:
    """A repaired plan and what changed against the plan it started from.

    Attributes
    ----------
    grids : geopandas.GeoDataFrame
        One row per grid (EPSG:4326): ``grid_code, community_code, households, buildings,
        status, polsby_popper, change, geometry``; ``change`` is ``kept``, ``changed`` or
        ``new``. Kept grids have the exact geometry of the input plan.
    assignments : pandas.DataFrame
        ``building_id, grid_code, community_code`` for every building inside a community.
    metrics : pandas.DataFrame
        Per grid: ``grid_code, households, buildings, status, polsby_popper, change, area_m2,
        perimeter_m``.
    moved : pandas.DataFrame
        Buildings whose grid changed: ``building_id, from_grid, to_grid, households``.
    retired_codes : list of str
        Codes of the input plan that no longer exist.
    new_buildings, removed_buildings : list of str
        Buildings without a previous grid, and previous buildings that are gone.
    problems : list of Problem
    crs : pyproj.CRS
        The projected CRS the plan was computed in.
    """

    grids: gpd.GeoDataFrame
    assignments: pd.DataFrame
    metrics: pd.DataFrame
    moved: pd.DataFrame
    retired_codes: list[str] = field(default_factory=list)
    new_buildings: list[str] = field(default_factory=list)
    removed_buildings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    crs: object = None

    @property
    def ok(self) -> bool:
        """Whether every grid is within the household bounds."""
        return bool((self.grids["status"] == STATUS_OK).all())

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


def redistrict(
    plan: gpd.GeoDataFrame,
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
) -> RedistrictResult:
    """Repair ``plan`` for the current ``buildings``, moving as few households as possible.

    Parameters
    ----------
    plan : geopandas.GeoDataFrame
        The current grids: ``grid_code`` (15 digits) and polygon geometry; ``community_code``
        is taken from the first 12 digits of the code when missing.
    buildings : geopandas.GeoDataFrame
        The buildings now: ``building_id``, ``households``, optional ``compound_id``.
    assignments : DataFrame or Series, optional
        The plan's building → grid assignment (``building_id, grid_code`` or a Series indexed
        by building id). Default: each building in the grid holding its point. Used to report
        moved, new and removed buildings.
    communities : geopandas.GeoDataFrame, optional
        ``community_code`` and boundary; default: the union of each community's grids.
    streets, compounds : optional
        As for :func:`gridmap.partition.partition`.
    min_households, max_households : int
        Household bounds per grid.
    retired_codes : iterable of str
        Codes used by earlier plans; new grids are numbered after all of them.
    seed : int
        Seed of the random generator; equal seeds give equal plans.

    Returns
    -------
    RedistrictResult

    Raises
    ------
    InputError
        Missing columns, bad codes or household counts, duplicate ids, invalid geometry or CRS.

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
    plan = _check_plan(plan)
    out_geoms = plan.to_crs(STORAGE_CRS).geometry  # kept grids keep these exact shapes
    if communities is None:
        plan = plan.to_crs(buildings.crs) if buildings.crs is not None else plan
        communities = plan.dissolve("community_code", as_index=False)[
            ["community_code", "geometry"]
        ]
    _check_columns(communities, buildings, compounds)
    check_same_crs(
        communities,
        buildings,
        streets,
        compounds,
        names=["communities", "buildings", "streets", "compounds"],
    )
    crs = projected_crs_for(communities)
    str_geoms = None if streets is None else np.asarray(streets.to_crs(crs).geometry.values)
    cmp = None if compounds is None else compounds.to_crs(crs)
    jobs, problems, _ = _make_jobs(
        communities.to_crs(crs),
        buildings.to_crs(crs),
        str_geoms,
        cmp,
        bounds.lo,
        bounds.hi,
        seed,
        street_names=_street_names(streets),
    )
    retired = {str(c) for c in retired_codes}
    plan_proj = plan.to_crs(crs)
    parts = []
    for job in jobs:
        rows = np.flatnonzero(plan["community_code"].to_numpy() == job.code)
        old = _OldGrids(
            plan["grid_code"].to_numpy()[rows],
            np.asarray(plan_proj.geometry.values)[rows],
            np.asarray(out_geoms.values)[rows],
        )
        parts.append(_redistrict_community(job, old, retired))
    old_assign = _old_assignment(assignments, buildings, plan)
    grid_size = _file_precision(np.asarray(out_geoms.values))
    return _assemble(parts, problems, crs, old_assign, buildings, plan, grid_size)


def _file_precision(geoms: np.ndarray) -> float:
    """The coordinate grid of a plan read from an RFC 7946 file (7 decimals), else 0.

    Changed grids are put on the same grid: they share their vertices with the kept grids, and
    writing them to GeoJSON (which rounds to 7 decimals) moves no vertex, so no thin part
    collapses into a pinch or a stray line.
    """
    xy = shapely.get_coordinates(geoms) / _FILE_GRID_DEG
    if len(xy) == 0 or np.abs(xy - np.round(xy)).max() > 1e-3:
        return 0.0
    return _FILE_GRID_DEG


def _on_grid(geom, grid_size: float):
    """``geom`` with its coordinates on ``grid_size``, still one valid polygon if it was one."""
    for mode in ("valid_output", "pointwise"):
        try:
            out = shapely.set_precision(geom, grid_size, mode=mode)
        except shapely.errors.GEOSException:
            continue
        if shapely.is_valid(out) and shapely.get_type_id(out) == shapely.get_type_id(geom):
            return out
    return geom


@dataclass
class _OldGrids:
    codes: np.ndarray
    geoms: np.ndarray  # projected
    storage_geoms: np.ndarray  # EPSG:4326, the exact output for kept grids


def _check_plan(plan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if plan.crs is None:
        raise CRSError("The plan has no CRS; set it (GeoJSON plans are EPSG:4326).")
    if "grid_code" not in plan.columns:
        raise InputError(
            f"The plan lacks a grid_code column (columns: {list(plan.columns)}); "
            "give the file written by `gridmap partition`."
        )
    plan = plan.copy()
    plan["grid_code"] = plan["grid_code"].astype(str)
    bad = ~plan["grid_code"].str.fullmatch(r"\d{15}")
    if bad.any():
        raise InputError(
            f"Grid code(s) {plan['grid_code'][bad].tolist()[:10]} are not 15-digit codes "
            "(community code + 3-digit sequence); fix the plan's grid_code column."
        )
    dup = plan["grid_code"][plan["grid_code"].duplicated()].unique().tolist()
    if dup:
        raise DuplicateIdError(f"The plan repeats grid_code {dup[:10]}; codes must be unique.")
    if "community_code" not in plan.columns:
        plan["community_code"] = plan["grid_code"].str[:12]
    plan["community_code"] = plan["community_code"].astype(str)
    empty = plan.geometry.isna() | plan.geometry.is_empty
    if empty.any():
        raise InputError(
            f"Plan grids with empty geometry: {plan['grid_code'][empty].tolist()[:10]}. "
            "Draw them or drop them."
        )
    return plan


def _redistrict_community(job: _Job, old: _OldGrids, retired: set[str]) -> dict:
    """Labels per cell, codes, change kinds and geometries of one community."""
    rng = np.random.default_rng(job.seed)
    lines = _plan_lines(old.geoms, job)
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
    tess = dataclasses.replace(tess, streets=_street_lines(job.streets))
    cell_graph_ = cell_graph(tess)
    cell_old = _cells_in_grids(tess.cells, old.geoms, cell_graph_)
    solid_of, rep, graph = _absorb_slivers(tess, cell_graph_)
    solid_old = cell_old[rep]
    cell_old = solid_old[solid_of]
    comp = np.asarray(tess.cell_compound, dtype=object)[rep]
    strict = None
    if tess.streets is not None:
        # A repair may not take buildings across a street, unless the grid already spans it.
        block = street_blocks(graph)
        a, b = graph.edges[:, 0], graph.edges[:, 1]
        strict = _keep_edges(graph, (block[a] == block[b]) | (solid_old[a] == solid_old[b]))
    units, labels, score = _attempt(
        strict if strict is not None else graph, comp, solid_old, job, rng
    )
    if strict is not None and score[0] > 0:
        crossing = _attempt(graph, comp, solid_old, job, rng)
        if crossing[2] < score:
            units, labels, score = crossing
    solid_labels = np.asarray(labels, dtype=np.int64)[units.unit_of_cell]
    cell_labels = solid_labels[solid_of]
    part = _finish(job, tess, old, cell_old, cell_labels, retired)
    part["split_compounds"] = _split_compounds(tess.cell_compound, cell_old, cell_labels)
    part["crossed"] = (
        _new_crossings(graph, block, solid_old, solid_labels, part, job)
        if strict is not None
        else {}
    )
    towers: dict[int, list[str]] = {}
    for t in np.flatnonzero(units.tower).tolist():
        cells = np.flatnonzero(units.unit_of_cell[solid_of] == t)
        ids = [str(job.ids[b]) for c in cells for b in tess.cell_buildings[c]
               if job.households[b] > job.hi]  # fmt: skip
        towers.setdefault(labels[t], []).extend(ids)
    part["towers"] = towers
    part["total"] = int(sum(w for v, w in enumerate(units.weights) if not units.tower[v]))
    return part


def _attempt(graph: CellGraph, comp: np.ndarray, solid_old: np.ndarray, job: _Job, rng):
    """Repair on ``graph``: compounds kept whole, then split only around grids still broken.

    Returns the units, their labels and the score of :func:`_repair`.
    """
    key = np.array(
        [f"{c}|{g}" if c else "" for c, g in zip(comp, solid_old, strict=True)], dtype=object
    )
    has_compounds = bool((comp != "").any())
    units = contract(graph, key, job.hi)
    labels, score = _repair(_anchor(units, solid_old), units, job, rng,
                            rounds=0 if has_compounds else _ROUNDS)  # fmt: skip
    if score[0] == 0 or not has_compounds:
        return units, labels, score
    # Keeping compounds whole left grids out of bounds: split compounds (as partition does),
    # first only those in and next to the grids still broken, then all of them.
    solid_labels = np.asarray(labels, dtype=np.int64)[units.unit_of_cell]
    near = _near_broken(solid_labels, graph, units.unit_of_cell, units.tower, job)
    for free in (set(comp[near].tolist()) - {""}, set(comp.tolist()) - {""}):
        loose = contract(graph, np.where(np.isin(comp, sorted(free)), "", key), job.hi)
        labels2, score2 = _repair(_anchor(loose, solid_old), loose, job, rng)
        if score2 < score:
            units, labels, score = loose, labels2, score2
        if score[0] == 0:
            break
    return units, labels, score


def _anchor(units, solid_old: np.ndarray) -> list[int]:
    first = np.unique(units.unit_of_cell, return_index=True)[1]
    return solid_old[first].tolist()


def _near_broken(solid_labels, graph: CellGraph, unit_of, tower, job: _Job) -> np.ndarray:
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


def _street_lines(streets: np.ndarray | None):
    if streets is None or len(streets) == 0:
        return None
    streets = np.asarray(streets)
    streets = streets[~shapely.is_empty(streets) & ~shapely.is_missing(streets)]
    return shapely.union_all(streets) if len(streets) else None


def _absorb_slivers(tess, graph: CellGraph) -> tuple[np.ndarray, np.ndarray, CellGraph]:
    """Merge sliver cells into their host and drop pinch-thin adjacencies.

    A plan read from a file is rounded (GeoJSON: 7 decimals of a degree, about 1 cm), so its
    lines run a few millimetres beside the community boundary and the streets and cut thin
    empty cells off them. Such a cell (no building, mean width under
    :data:`_SLIVER_WIDTH_M`) is joined to the neighbour it shares the most boundary with, so it
    never becomes a grid's only link (a pinch). Edges shorter than :data:`_NECK_M` do not make
    two cells neighbours. The tessellation itself is left as it is: grids still dissolve from
    all of its faces, so they tile the community exactly.

    Returns
    -------
    solid_of : np.ndarray
        Solid (merged cell) of each cell.
    rep : np.ndarray
        The representative (non-sliver) cell of each solid.
    graph : CellGraph
        The graph of solids.
    """
    n = graph.n
    area, perim = shapely.area(tess.cells), shapely.length(tess.cells)
    empty = np.array([len(b) == 0 for b in tess.cell_buildings], dtype=bool)
    sliver = empty & (2 * area < _SLIVER_WIDTH_M * np.maximum(perim, 1e-12))
    host = np.arange(n)
    best = np.zeros(n)
    for (a, b), ln in zip(graph.edges.tolist(), graph.length.tolist(), strict=True):
        for x, y in ((a, b), (b, a)):
            if sliver[x] and (ln, not sliver[y]) > (best[x], not sliver[host[x]]):
                host[x], best[x] = y, ln
    for _ in range(8):  # a sliver next to a sliver: follow to a solid cell
        host = host[host]
    rep, solid_of = np.unique(host, return_inverse=True)
    solid_of = solid_of.ravel()
    ea, eb = solid_of[graph.edges[:, 0]], solid_of[graph.edges[:, 1]]
    inner = ea != eb
    pairs = np.stack([np.minimum(ea, eb), np.maximum(ea, eb)], axis=1)[inner]
    edges, inv = np.unique(pairs.reshape(-1, 2), axis=0, return_inverse=True)
    inv = inv.ravel()

    def summed(values: np.ndarray) -> np.ndarray:
        return np.bincount(inv, values[inner], minlength=len(edges))

    solid = CellGraph(
        n=len(rep),
        edges=edges.reshape(-1, 2).astype(np.int64),
        length=summed(graph.length),
        street_length=summed(graph.street_length),
        wall_length=summed(graph.wall_length),
        cost=summed(graph.cost),
        weights=np.bincount(solid_of, graph.weights, minlength=len(rep)).astype(np.int64),
    )
    return solid_of, rep, _keep_edges(solid, solid.length >= _NECK_M)


def _keep_edges(graph: CellGraph, keep: np.ndarray) -> CellGraph:
    return dataclasses.replace(
        graph,
        edges=graph.edges[keep].reshape(-1, 2),
        length=graph.length[keep],
        street_length=graph.street_length[keep],
        wall_length=graph.wall_length[keep],
        cost=graph.cost[keep],
    )


def _new_crossings(graph, block, solid_old, solid_labels, part, job) -> dict[int, str]:
    """Grids that now span a street they did not span before: label → street names."""
    a, b = graph.edges[:, 0], graph.edges[:, 1]
    new = (block[a] != block[b]) & (solid_labels[a] == solid_labels[b])
    new &= solid_old[a] != solid_old[b]
    labels = sorted(set(solid_labels[a[new]].tolist()))
    if not labels:
        return {}
    geoms = np.array([part["geoms"][g] for g in labels], dtype=object)
    gi, si, length = street_straddle(geoms, job.streets)
    out: dict[int, list[str]] = {g: [] for g in labels}
    for g, s, ln in zip(gi.tolist(), si.tolist(), length.tolist(), strict=True):
        name = None if job.street_names is None else job.street_names[s]
        out[labels[g]].append(f"{name if name not in (None, '') else 'a street'} ({ln:.0f} m)")
    return {g: ", ".join(v) or "a street" for g, v in out.items()}


def _plan_lines(grids: np.ndarray, job: _Job) -> np.ndarray:
    """The plan's grid boundaries as cutting lines, without their copies of existing lines.

    A plan read from a file is rounded (GeoJSON: 7 decimals of a degree, about 1 cm), so its
    outer edges run a few millimetres beside the community boundary, and its edges along
    streets and compound walls beside those lines. Cutting along both would leave long thin
    slivers spanning several grids. Those parts of the plan's lines (within
    :data:`_SNAP_M` of the boundary, a street or a wall) are left out, and each line end near
    one is joined to it, a little past it, so the lines still node with it.
    """
    if len(grids) == 0:
        return np.array([], dtype=object)
    refs = [shapely.boundary(job.boundary)]
    if job.streets is not None:
        refs += list(np.asarray(job.streets))
    if job.compounds is not None and len(job.compounds):
        refs += list(shapely.boundary(np.asarray(job.compounds)))
    ref = shapely.union_all(refs)
    shapely.prepare(ref)
    lines = shapely.union_all(shapely.boundary(grids))
    inner = shapely.get_parts(shapely.difference(lines, shapely.buffer(ref, _SNAP_M)))
    inner = inner[shapely.get_type_id(inner) == 1]
    if len(inner) == 0:
        return inner
    ends = np.concatenate([shapely.get_point(inner, 0), shapely.get_point(inner, -1)])
    ends = ends[shapely.dwithin(ref, ends, 2 * _SNAP_M)]
    links = []
    for end in ends:
        (x0, y0), (x1, y1) = shapely.get_coordinates(shapely.shortest_line(end, ref))
        d = math.hypot(x1 - x0, y1 - y0)
        if d > 0:
            over = _SNAP_M / 2 / d
            links.append(shapely.LineString([(x0, y0), (x1 + (x1 - x0) * over,
                                                        y1 + (y1 - y0) * over)]))  # fmt: skip
    return np.concatenate([inner, np.array(links, dtype=object)])


def _cells_in_grids(cells: np.ndarray, grids: np.ndarray, graph) -> np.ndarray:
    """Current grid of each cell; cells outside every grid join a neighbouring grid."""
    out = np.full(len(cells), -1, dtype=np.int64)
    if len(grids) == 0:
        return np.zeros(len(cells), dtype=np.int64)
    probe = shapely.point_on_surface(cells)
    pi, gi = shapely.STRtree(grids).query(probe, predicate="intersects")
    order = np.lexsort((gi, pi))
    first = np.unique(pi[order], return_index=True)[1]
    out[pi[order][first]] = gi[order][first]
    nbrs, _ = graph.neighbours()
    for _ in range(len(cells)):
        missing = np.flatnonzero(out < 0)
        if len(missing) == 0:
            break
        for c in missing.tolist():
            near = [int(out[u]) for u in nbrs[c] if out[u] >= 0]
            if near:
                out[c] = max(set(near), key=near.count)
        if (out[missing] < 0).all():
            out[missing] = 0  # an island with no grid around: the first grid
    return out


def _repair(anchor: list[int], units, job: _Job, rng, rounds: int = _ROUNDS) -> tuple:
    """Labels per unit (the anchor where grids are valid, repaired where they are not), score.

    Each broken grid is repaired together with the grids around it; the region widens ring by
    ring (up to the whole community) until its grids can be brought within the bounds. When
    the region's households need more (or fewer) grids than it has, a new grid is carved out
    of the fullest grids (or the emptiest grid is shared out among its neighbours) before the
    local search. The score is (households outside the bounds, households moved, units moved).
    """
    weights = units.weights
    anchor = _split_towers(anchor, units)
    towers = _tower_labels(anchor, units)
    total = sum(w for v, w in enumerate(weights) if not units.tower[v])
    bounds = _relaxed_bounds(total, job.lo, job.hi) if total else Bounds(job.lo, job.hi)
    if 0 < total < job.lo:  # too few households for any grid in bounds: one grid, as partition
        keep = max(set(anchor) - towers, key=lambda g: (_totals(anchor, weights)[g], -g))
        return [g if g in towers else keep for g in anchor], (0.0, 0.0, 0)
    if not violation(anchor, weights, bounds, towers):
        return anchor, (0.0, 0.0, 0)  # nothing to repair
    scale = sum(c for cs in units.costs for c in cs) + 1.0
    search = _Search(units, bounds, towers, anchor, rng,
                     [scale * (w if w > 0 else _EMPTY_MOVE) for w in weights])  # fmt: skip
    lab = _widening_pass(list(anchor), search)
    for _ in range(rounds):
        if not violation(lab, weights, bounds, towers):
            break
        lab = search.recreate(lab)  # local repair failed everywhere: re-create grids
        lab = _widening_pass(lab, search)
    return lab, search.score(lab)


def _split_compounds(cell_compound, cell_old, cell_labels) -> list[str]:
    """Compounds that were whole in one grid and are now split between grids."""
    out = []
    for c in sorted(set(cell_compound.tolist()) - {""}):
        mask = cell_compound == c
        if len(set(cell_old[mask].tolist())) == 1 and len(set(cell_labels[mask].tolist())) > 1:
            out.append(str(c))
    return out


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


def _widening_pass(lab: list[int], search: _Search) -> list[int]:
    """Repair each broken grid with the grids around it, widening the region while that fails.

    Once a region is repaired, the region one ring wider is tried too and kept if it moves
    fewer households: more grids around a broken one can often share its surplus out in
    smaller pieces than a tight ring that has to pass buildings along a chain.
    """
    weights, bounds, nbrs = search.units.weights, search.bounds, search.units.nbrs
    for _ in range(len(set(lab))):  # each repair fixes at least one grid, or we stop
        totals = _totals(lab, weights)
        broken = [g for g in totals if g not in search.towers and bounds.violation(totals[g])]
        if not broken:
            break
        g = max(broken, key=lambda h: (bounds.violation(totals[h]), -h))
        everything = set(totals) - search.towers
        region, fixed = {g}, None
        while fixed is None:
            adjacency = _grid_adjacency(lab, nbrs)
            wider = region | {h for r in region for h in adjacency.get(r, ())} - search.towers
            if wider == region:
                wider = everything  # an island of grids: take the whole community
            region = wider
            candidate = search.fix(lab, region)
            if candidate is not None and search.score(candidate, region)[0] == 0:
                fixed = candidate
                if region < everything:  # one ring wider may need fewer moves
                    adjacency = _grid_adjacency(lab, nbrs)
                    wider = region | {h for r in region for h in adjacency.get(r, ())}
                    wider -= search.towers
                    other = search.fix(lab, wider)
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


class _Search:
    """Local search from a plan towards the bounds, with a cost on every household moved."""

    def __init__(self, units, bounds: Bounds, towers, anchor, rng, move_cost) -> None:
        self.units, self.bounds, self.towers, self.anchor = units, bounds, towers, anchor
        self.rng, self.move_cost = rng, move_cost

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
        totals = _totals(lab, w)
        held = sum(totals[g] for g in region)
        counts = grid_count_range(held, b.lo, b.hi)
        if not len(counts):
            return None
        k = min(counts, key=lambda c: (abs(c - len(region)), c))
        best = None
        for _ in range(_TRIES if k != len(region) else 1):
            out, reg = list(lab), set(region)
            while len(reg) < k and self._carve(out, reg):
                pass
            while len(reg) > k and self._dissolve(out, reg):
                pass
            out = self.local(out, reg)
            if best is None or self.score(out, reg) < self.score(best[0], best[1]):
                best = (out, reg)
            if best[0] is out and self.score(out, reg)[0] == 0 and k == len(region):
                break
        return best[0]

    def _carve(self, lab: list[int], region: set[int]) -> bool:
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
        seed = pool[int(self.rng.integers(len(pool)))]
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
                if (best is None or key < best[0]) and _stays_connected(v, g, lab, u.nbrs):
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
        totals = _totals(lab, u.weights)
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

    def local(self, lab: list[int], region: set[int]) -> list[int]:
        """Best of a few local searches that move units between the grids of ``region``."""
        u = self.units
        fixed = frozenset(set(lab) - region) | self.towers
        frozen = [bool(t) or lab[v] in fixed for v, t in enumerate(u.tower)]
        iters = _ITERATIONS_PER_UNIT * max(1, frozen.count(False))
        best = None
        for _ in range(_TRIES):
            out = improve(lab, u.nbrs, u.costs, u.weights, self.bounds, self.rng, frozen=frozen,
                          fixed_labels=fixed, anchor=self.anchor, move_cost=self.move_cost,
                          iterations=iters)  # fmt: skip
            if best is None or self.score(out, region) < self.score(best, region):
                best = out
            if self.score(best, region)[0] == 0 and self.score(lab, region)[0] == 0:
                break
        return best

    def recreate(self, lab: list[int]) -> list[int]:
        """Merge broken grids with neighbours and re-split them, then settle the moves."""
        u = self.units
        best = lab
        for _ in range(_TRIES):
            out = recombine(lab, u.nbrs, u.costs, u.weights, self.bounds, self.rng,
                            fixed_labels=self.towers)  # fmt: skip
            out = _closest_labels(out, self.anchor, u.weights)
            touched = {out[v] for v in range(len(out)) if out[v] != lab[v]}
            touched |= {lab[v] for v in range(len(out)) if out[v] != lab[v]}
            region = touched | {h for g in touched for h in _grid_adjacency(out, u.nbrs).get(g, ())}
            out = self.local(out, (region & set(out)) - self.towers)
            if self.score(out) < self.score(best):
                best = out
        return best


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


def _stays_connected(v: int, g: int, lab: list[int], nbrs) -> bool:
    """Whether grid ``g`` stays connected when unit ``v`` leaves it."""
    near = [x for x in nbrs[v] if lab[x] == g]
    if len(near) <= 1:
        return True
    seen, stack = {v, near[0]}, [near[0]]
    while stack:
        x = stack.pop()
        for y in nbrs[x]:
            if y not in seen and lab[y] == g:
                seen.add(y)
                stack.append(y)
    return all(x in seen for x in near)


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


def _totals(labels: list[int], weights) -> dict[int, float]:
    out: dict[int, float] = {}
    for v, g in enumerate(labels):
        out[g] = out.get(g, 0.0) + weights[v]
    return out


def _grid_adjacency(labels: list[int], nbrs) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for v, nb in enumerate(nbrs):
        for u in nb:
            if labels[u] != labels[v]:
                out.setdefault(labels[v], set()).add(labels[u])
    return out


def _finish(job: _Job, tess, old: _OldGrids, cell_old, cell_labels, retired: set[str]) -> dict:
    """Match new grids to current ones, give codes, and build geometries."""
    labels = np.unique(cell_labels).tolist()
    weight = tess.cell_households + 1e-6 * shapely.area(tess.cells)
    code_of = _match_codes(labels, cell_labels, cell_old, weight, old.codes)
    geoms = tess.dissolve(cell_labels)
    area_old = shapely.area(old.geoms) if len(old.codes) else np.array([])
    change, out_geom = {}, {}
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
            out_geom[g] = old.storage_geoms[i]
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
    return {
        "code": job.code,
        "labels": labels,
        "code_of": code_of,
        "change": change,
        "geoms": geoms,
        "out_geom": out_geom,
        "cell_labels": cell_labels,
        "tess": tess,
        "building_ids": job.ids,
        "lo": job.lo,
        "hi": job.hi,
        "old_codes": old.codes.tolist(),
    }


def _match_codes(labels, cell_labels, cell_old, weight, old_codes) -> dict[int, str]:
    """Give grids the codes of the current grids so that the most households keep their code.

    A maximum-weight matching between new and current grids on the households they share
    (area for empty grids): every household whose grid keeps its code is a household that did
    not move, which is what the repair minimises. Grids sharing nothing with an unmatched
    current grid are new.
    """
    if len(old_codes) == 0:
        return {}
    n_old = len(old_codes)
    shared = np.zeros((max(labels) + 1, n_old))
    np.add.at(shared, (cell_labels, cell_old), weight)
    g_idx, o_idx = np.nonzero(shared[labels] > 0)
    bipartite = nx.Graph()  # new grid g is node g, current grid i is node -1 - i
    for gi, i in zip(g_idx.tolist(), o_idx.tolist(), strict=True):
        g = labels[gi]
        bipartite.add_edge(g, -1 - i, weight=float(shared[g, i]))
    out: dict[int, str] = {}
    for a, b in nx.max_weight_matching(bipartite):
        g, i = (a, -1 - b) if a >= 0 else (b, -1 - a)
        out[g] = str(old_codes[i])
    return out


def _old_assignment(assignments, buildings: gpd.GeoDataFrame, plan) -> pd.Series:
    if assignments is None:
        pts = buildings.to_crs(plan.crs)
        joined = gpd.sjoin(pts[["building_id", "geometry"]], plan[["grid_code", "geometry"]],
                           how="inner", predicate="intersects")  # fmt: skip
        joined = joined.drop_duplicates("building_id")
        return pd.Series(joined["grid_code"].astype(str).to_numpy(),
                         index=joined["building_id"].astype(str).to_numpy())  # fmt: skip
    if isinstance(assignments, pd.Series):
        series = assignments
    else:
        missing = [c for c in ("building_id", "grid_code") if c not in assignments.columns]
        if missing:
            raise InputError(
                f"The assignments lack column(s) {missing}; give the CSV written by "
                "`gridmap partition --assignments` (building_id, grid_code)."
            )
        series = pd.Series(assignments["grid_code"].to_numpy(),
                           index=assignments["building_id"].to_numpy())  # fmt: skip
    series = series[series.notna()]
    return pd.Series(series.astype(str).to_numpy(), index=series.index.astype(str))


def _assemble(
    parts, problems, crs, old_assign: pd.Series, buildings, plan, grid_size: float = 0.0
) -> RedistrictResult:
    rows, assign, retired_all, flagged = [], [], [], []
    for part in parts:
        tess, cell_labels, code_of = part["tess"], part["cell_labels"], part["code_of"]
        labels = part["labels"]
        geoms = np.array([part["geoms"][g] for g in labels], dtype=object)
        pp = polsby_popper(geoms)
        check = household_bounds(part["lo"], part["hi"])
        for i, g in enumerate(labels):
            mask = cell_labels == g
            hh = int(tess.cell_households[mask].sum())
            nb = int(sum(len(tess.cell_buildings[c]) for c in np.flatnonzero(mask)))
            if check.status(hh) != STATUS_OK:
                flagged.append(_flag(part, g, code_of[g], hh, check.status(hh)))
            rows.append({
                "grid_code": code_of[g], "community_code": part["code"], "households": hh,
                "buildings": nb, "status": check.status(hh),
                "polsby_popper": round(float(pp[i]), 4), "change": part["change"][g],
                "area_m2": float(shapely.area(geoms[i])),
                "perimeter_m": float(shapely.length(geoms[i])), "geometry": geoms[i],
                "_storage": part["out_geom"].get(g),
            })  # fmt: skip
        building_grid = [code_of[int(cell_labels[c])] if c >= 0 else None
                         for c in tess.building_cell]  # fmt: skip
        assign.append(
            pd.DataFrame(
                {
                    "building_id": part["building_ids"],
                    "grid_code": building_grid,
                    "community_code": part["code"],
                }
            )
        )
        now = set(code_of.values())
        retired_all += [c for c in part["old_codes"] if c not in now]
    columns = [*GRID_COLUMNS, "change", "area_m2", "perimeter_m", "geometry", "_storage"]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=crs)
    frame = frame.sort_values("grid_code").reset_index(drop=True)
    metrics = pd.DataFrame(frame.drop(columns=["geometry", "_storage"]))
    storage = frame.geometry.to_crs(STORAGE_CRS)
    if grid_size:
        storage = gpd.GeoSeries([_on_grid(g, grid_size) for g in storage], crs=STORAGE_CRS)
    keep = frame["_storage"].notna()
    storage[keep] = frame.loc[keep, "_storage"].to_numpy()
    grids = gpd.GeoDataFrame(frame[[*GRID_COLUMNS, "change"]], geometry=storage.values,
                             crs=STORAGE_CRS)  # fmt: skip
    assignments = (
        pd.concat(assign, ignore_index=True)
        if assign
        else pd.DataFrame(columns=["building_id", "grid_code", "community_code"])
    )
    moved, new_b, removed = _moves(old_assign, assignments, buildings)
    problems += flagged
    for part in parts:
        if part["split_compounds"]:
            ids = part["split_compounds"]
            problems.append(Problem(
                "compound_split",
                f"In community {part['code']} compound(s) {', '.join(ids)} (小区) had to be split "
                f"between grids: kept whole, they left grids outside {part['lo']}–{part['hi']} "
                "households.",
                part["code"],
                message_zh=f"社区 {part['code']} 的小区 {'、'.join(ids)} 不得不拆分到多个"
                f"网格：若保持完整，部分网格会超出 {part['lo']}–{part['hi']} 户的范围。",
            ))  # fmt: skip
        for label, street in part["crossed"].items():
            code, lo, hi = part["code_of"][label], part["lo"], part["hi"]
            street_zh = (
                street.replace("a street", "街道").replace(" m)", "米）").replace(" (", "（")
            )
            problems.append(Problem(
                "street_crossed",
                f"Grid {code} now crosses {street}: no repair that keeps every grid within its "
                f"street blocks brought the grids around it within {lo}–{hi} households, so "
                "buildings across the street joined it.",
                part["code"], code,
                message_zh=f"网格 {code} 跨越了{street_zh}：在不跨街道的前提下无法使附近网格回到 "
                f"{lo}–{hi} 户，因此将街道对面的楼栋并入该网格。",
            ))  # fmt: skip
    for p in problems:
        logger.info("%s: %s", p.kind, p.message)
    del plan
    return RedistrictResult(grids, assignments, metrics, moved, sorted(retired_all), new_b,
                            removed, problems, crs)  # fmt: skip


def _moves(old: pd.Series, assignments: pd.DataFrame, buildings) -> tuple:
    now = pd.Series(assignments["grid_code"].to_numpy(),
                    index=assignments["building_id"].astype(str).to_numpy())  # fmt: skip
    hh = pd.Series(pd.to_numeric(buildings["households"]).to_numpy(),
                   index=buildings["building_id"].astype(str).to_numpy())  # fmt: skip
    both = now.index.intersection(old.index)
    changed = [b for b in both if now[b] != old[b]]
    moved = pd.DataFrame({
        "building_id": changed,
        "from_grid": [old[b] for b in changed],
        "to_grid": [now[b] for b in changed],
        "households": [int(hh[b]) for b in changed],
    }, columns=["building_id", "from_grid", "to_grid", "households"])  # fmt: skip
    new_b = sorted(set(now.index) - set(old.index))
    removed = sorted(set(old.index) - set(hh.index))
    return moved, new_b, removed


def _flag(part: dict, label: int, code: str, households: int, status: str) -> Problem:
    """Why grid ``code`` is outside the bounds, in plain words (English and Chinese)."""
    community, lo, hi, total = part["code"], part["lo"], part["hi"], part["total"]
    if label in part["towers"]:
        ids = part["towers"][label]
        return Problem(
            "over_max",
            f"Building {', '.join(ids)} has {households} households, more than the maximum of "
            f"{hi} for one grid; it forms grid {code} on its own. Make it a dedicated grid "
            "(专属网格) or split it by stairwell (单元) if one worker cannot serve it.",
            community, code, tuple(ids),
            message_zh=f"楼栋 {'、'.join(ids)} 有 {households} 户，超过每个网格 {hi} 户的上限，"
            f"单独成为网格 {code}。可设为专属网格，或按单元拆分后再划分。",
        )  # fmt: skip
    if total < lo:
        return Problem(
            "under_min",
            f"Community {community} has only {total} households, fewer than the minimum of "
            f"{lo}; grid {code} holds {households} of them. Merge it with a neighbouring grid "
            "by hand if that suits the community, or lower the minimum.",
            community, code,
            message_zh=f"社区 {community} 仅有 {total} 户，少于每个网格 {lo} 户的下限；"
            f"网格 {code} 有 {households} 户。可与相邻网格合并，或降低下限。",
        )  # fmt: skip
    if not len(grid_count_range(total, lo, hi)):
        return Problem(
            "infeasible",
            f"Community {community} has {total} households: no number of grids of {lo}–{hi} "
            f"households adds up to that, so grid {code} has {households} ({status}). Adjust "
            "the range or the boundary.",
            community, code,
            message_zh=f"社区 {community} 共 {total} 户，无法分成若干个 {lo}–{hi} 户的网格，"
            f"网格 {code} 有 {households} 户。请调整户数范围或社区边界。",
        )  # fmt: skip
    return Problem(
        "unrepaired",
        f"Grid {code} has {households} households ({status}) and could not be brought within "
        f"{lo}–{hi} by moving buildings between grids: check the household counts of its "
        "large buildings and compounds, adjust the range, or run a fresh partition.",
        community, code,
        message_zh=f"网格 {code} 有 {households} 户，无法通过调整楼栋回到 {lo}–{hi} 户：请核对"
        "大楼栋和小区的户数，调整户数范围，或重新划分。",
    )  # fmt: skip
