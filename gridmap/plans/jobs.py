"""Community jobs: input checks and the per-community work units of partition and redistrict.

:func:`check_columns` validates the layers, :func:`make_jobs` assigns buildings to communities
(one :class:`CommunityJob` each, picklable for worker processes), :func:`prepare_jobs` does both
after projecting the layers (repairing what offices draw wrong, each repair a problem the user
sees, and refusing a community without area), and :func:`run_jobs` plans the communities in
this process, in worker processes or on a Dask cluster (with the same result).
"""

from __future__ import annotations

import gc
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.constraints import Bounds
from gridmap.crs import check_same_crs, projected_crs_for
from gridmap.geometry.cells import representative_points
from gridmap.planerrors import plan_error
from gridmap.problems import (
    Problem,
    boundary_parts_message,
    footprint_repaired_message,
    outside_message,
)
from gridmap.streets import boundary_streets, street_names

__all__ = [
    "CommunityJob",
    "check_columns",
    "make_jobs",
    "prepare_jobs",
    "community_seed",
    "run_jobs",
]

_NO_AREA_M2 = 1.0  # a community smaller than this (m²) has no ground to split into grids
_REASONS = (("Self-intersection", "crosses"), ("Ring Self-intersection", "crosses"),
            ("Hole lies outside shell", "hole_outside"),
            ("Too few points", "few_points"))  # fmt: skip
"""Reasons of :func:`shapely.is_valid_reason` and the words of
:func:`gridmap.problems.footprint_repaired_message` for them (others: ``invalid``)."""

_Task = TypeVar("_Task")
_Out = TypeVar("_Out")


@dataclass
class CommunityJob:
    """Everything needed to plan one community, in the projected CRS (picklable).

    Attributes
    ----------
    code : str
        12-digit community code.
    boundary : shapely.Geometry
        Community (Multi)Polygon.
    geoms, ids, households : np.ndarray
        Buildings inside the community: geometry, ``building_id``, households.
    compound_ids : np.ndarray or None
        ``compound_id`` of each building (``""`` for none).
    streets : np.ndarray or None
        Street lines near the community.
    compounds, compound_polygon_ids : np.ndarray or None
        Compound polygons touching the community and their ids.
    lo, hi : int
        Household bounds.
    seed : int
        Seed of this community's random generator.
    street_names : np.ndarray or None
        Name (or id) of each street in ``streets``, for problem messages.
    """

    code: str
    boundary: BaseGeometry
    geoms: np.ndarray
    ids: np.ndarray
    households: np.ndarray
    compound_ids: np.ndarray | None
    streets: np.ndarray | None
    compounds: np.ndarray | None
    compound_polygon_ids: np.ndarray | None
    lo: int
    hi: int
    seed: int
    street_names: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Shapely pickles each geometry on its own (a Python call and a WKB string each): the
        # district's 35,000 footprints took the parent 0.2 s CPU to send and the workers 0.13 s
        # to read. The same WKB, written and read for a whole array at once, gives the same
        # geometries.
        state = dict(self.__dict__)
        for name in _GEOMETRY_ARRAYS:
            if state[name] is not None:
                state[name] = shapely.to_wkb(state[name], include_srid=True)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in _GEOMETRY_ARRAYS:
            if state[name] is not None:
                state[name] = shapely.from_wkb(state[name])
        self.__dict__.update(state)


_GEOMETRY_ARRAYS = ("geoms", "streets", "compounds")
"""The :class:`CommunityJob` fields pickled as arrays of WKB."""


def check_columns(
    communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame | None
) -> None:
    """Check required columns, unique ids, community codes, household counts and geometries.

    Raises
    ------
    InputError
        Naming the offending records and the fix (``DuplicateIdError``,
        ``InvalidGeometryError`` are subclasses).
    """
    for frame, name, cols in (
        (communities, "communities", ["community_code"]),
        (buildings, "buildings", ["building_id", "households"]),
        (compounds, "compounds", ["compound_id"]),
    ):
        if frame is None:
            continue
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise plan_error("lack_columns", name=name, missing=missing)
    _check_unique(communities["community_code"].astype(str), "community_code", "communities")
    _check_unique(buildings["building_id"].astype(str), "building_id", "buildings")
    bad_code = ~communities["community_code"].astype(str).str.fullmatch(r"\d{12}")
    if bad_code.any():
        codes = communities["community_code"][bad_code].astype(str).tolist()
        raise plan_error("bad_community_codes", codes=codes[:5])
    hh = pd.to_numeric(buildings["households"], errors="coerce")
    bad = hh.isna() | (hh < 0) | (hh != np.floor(hh))
    if bad.any():
        ids = buildings["building_id"][bad].astype(str).tolist()
        raise plan_error("bad_households", n=int(bad.sum()), ids=ids[:10])
    for frame, name, idcol in (
        (communities, "communities", "community_code"),
        (buildings, "buildings", "building_id"),
    ):
        geom = frame.geometry
        empty = geom.isna() | geom.is_empty
        if empty.any():
            ids = frame[idcol][empty].astype(str).tolist()[:10]
            raise plan_error("empty_geometry", name=name, ids=ids)


def _check_unique(values: pd.Series, column: str, name: str) -> None:
    dup = values[values.duplicated()].unique().tolist()
    if dup:
        raise plan_error("duplicate_ids", name=name, column=column, ids=dup[:10])


def make_jobs(
    comm: gpd.GeoDataFrame,
    bld: gpd.GeoDataFrame,
    str_geoms: np.ndarray | None,
    cmp: gpd.GeoDataFrame | None,
    lo: int,
    hi: int,
    seed: int,
    *,
    street_names: np.ndarray | None = None,
) -> tuple[list[CommunityJob], list[Problem], np.ndarray]:
    """Assign buildings to communities and build one job per community.

    All layers must already be in the same projected CRS. ``street_names`` (aligned with
    ``str_geoms``) name the streets in problem messages.

    Returns
    -------
    jobs : list of CommunityJob
    problems : list of Problem
        Buildings outside every community.
    inside : np.ndarray
        Whether each building lies in a community.
    """
    problems: list[Problem] = []
    bounds_geom = shapely.make_valid(np.asarray(comm.geometry.values))
    points = representative_points(np.asarray(bld.geometry.values))
    tree = shapely.STRtree(bounds_geom)
    pi, ci = tree.query(points, predicate="intersects")
    owner = np.full(len(bld), -1, dtype=np.int64)
    first = np.unique(pi, return_index=True)[1]
    owner[pi[first]] = ci[first]
    ids = bld["building_id"].astype(str).to_numpy()
    if (owner < 0).any():
        out = ids[owner < 0].tolist()
        en, zh = outside_message(out)
        problems.append(Problem("outside", en, building_ids=tuple(out), message_zh=zh))
    hh = pd.to_numeric(bld["households"]).astype(np.int64).to_numpy()
    cids = (
        bld["compound_id"]
        .astype(object)
        .where(bld["compound_id"].notna(), "")
        .astype(str)
        .to_numpy()
        if "compound_id" in bld.columns
        else None
    )
    str_tree = shapely.STRtree(str_geoms) if str_geoms is not None and len(str_geoms) else None
    cmp_geoms = None if cmp is None else np.asarray(cmp.geometry.values)
    cmp_tree = shapely.STRtree(cmp_geoms) if cmp_geoms is not None and len(cmp_geoms) else None
    codes = comm["community_code"].astype(str).tolist()
    jobs = []
    for i, code in enumerate(codes):
        rows = np.flatnonzero(owner == i)
        near = None if str_tree is None else str_tree.query(bounds_geom[i])
        s = None if near is None or str_geoms is None else str_geoms[near]
        ci_ = None if cmp_tree is None else cmp_tree.query(bounds_geom[i], predicate="intersects")
        jobs.append(
            CommunityJob(
                code=code,
                boundary=bounds_geom[i],
                geoms=np.asarray(bld.geometry.values)[rows],
                ids=ids[rows],
                households=hh[rows],
                compound_ids=None if cids is None else cids[rows],
                streets=s,
                compounds=None if ci_ is None or cmp_geoms is None else cmp_geoms[ci_],
                compound_polygon_ids=None
                if ci_ is None or cmp is None
                else cmp["compound_id"].astype(str).to_numpy()[ci_],
                lo=lo,
                hi=hi,
                seed=community_seed(seed, code),
                street_names=None
                if near is None or street_names is None
                else np.asarray(street_names, dtype=object)[near],
            )
        )
    return jobs, problems, owner >= 0


def prepare_jobs(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None,
    compounds: gpd.GeoDataFrame | None,
    bounds: Bounds,
    seed: int,
) -> tuple[list[CommunityJob], list[Problem], np.ndarray, object]:
    """Check the layers, repair what offices draw wrong, project them and build one job per
    community.

    A community drawn as a collection is planned from its polygons (its points and lines left
    out), invalid building footprints (a bow-tie, a ring touching itself) are made valid keeping
    all they cover: each a problem (``boundary_parts_dropped``, ``footprint_repaired``) before
    those of :func:`make_jobs`. Returns the jobs, the problems and ``inside`` of
    :func:`make_jobs`, and the projected CRS the jobs are in.

    Raises
    ------
    InputError
        As :func:`check_columns`; ``empty_geometry`` (with ``no_area``) for a community without
        area (a point, a line, a zero-area sliver).
    """
    check_columns(communities, buildings, compounds)
    communities, mixed = _polygons_only(communities)
    buildings, repaired = _valid_footprints(buildings)
    streets = boundary_streets(streets)  # tunnels, covered ways … never bound a grid
    check_same_crs(
        communities,
        buildings,
        streets,
        compounds,
        names=["communities", "buildings", "streets", "compounds"],
    )
    crs = projected_crs_for(communities)
    lines = None if streets is None else np.asarray(streets.to_crs(crs).geometry.values)
    jobs, problems, inside = make_jobs(
        communities.to_crs(crs),
        buildings.to_crs(crs),
        lines,
        None if compounds is None else compounds.to_crs(crs),
        bounds.lo,
        bounds.hi,
        seed,
        street_names=street_names(streets),
    )
    _check_areas(jobs)
    return jobs, _repair_problems(jobs, mixed, repaired) + problems, inside, crs


def _polygons_only(communities: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """``communities`` with the points and lines of a boundary drawn as a collection left out,
    and the codes of those communities. A point or a line without polygons is kept (refused by
    :func:`_check_areas`); a layer of polygons is returned as it is."""
    geoms = np.asarray(communities.geometry.values)
    odd = np.flatnonzero(~np.isin(shapely.get_type_id(geoms), (-1, 3, 6)))  # (Multi)Polygon
    fixed, mixed = geoms.copy(), []
    codes = communities["community_code"].astype(str).to_numpy()
    for i in odd.tolist():
        parts = shapely.get_parts(shapely.get_parts(geoms[i]))  # a collection's members' parts
        polygons = parts[shapely.get_type_id(parts) == 3]
        if len(polygons):
            fixed[i] = shapely.union_all(polygons)
            mixed.append(str(codes[i]))
    return (_with_geometry(communities, fixed) if mixed else communities), mixed


def _valid_footprints(buildings: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """``buildings`` with invalid footprints (a bow-tie, a ring touching itself, as offices
    draw them) made valid, keeping all they cover (the cells are cut around them), and what was
    wrong with each (building id → a reason of :data:`_REASONS` or ``invalid``). A valid layer
    is returned as it is."""
    geoms = np.asarray(buildings.geometry.values)
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if not invalid.any():
        return buildings, {}
    ids = buildings["building_id"].astype(str).to_numpy()[invalid].tolist()
    why = shapely.is_valid_reason(geoms[invalid]).tolist()
    reasons = {i: next((r for text, r in _REASONS if str(w).startswith(text + "[")), "invalid")
               for i, w in zip(ids, why, strict=True)}  # fmt: skip
    fixed = geoms.copy()
    fixed[invalid] = shapely.make_valid(geoms[invalid], method="structure")
    return _with_geometry(buildings, fixed), reasons


def _with_geometry(frame: gpd.GeoDataFrame, geoms: np.ndarray) -> gpd.GeoDataFrame:
    """A copy of ``frame`` with ``geoms`` in its geometry column (name and CRS kept)."""
    series = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
    return frame.assign(**{frame.geometry.name: series})


def _check_areas(jobs: list[CommunityJob]) -> None:
    """Refuse communities without area: a point, a line, or a ring of a zero-area sliver (a
    polygon drawn back over itself) has no ground to split into grids.

    Raises
    ------
    InvalidGeometryError
        ``empty_geometry`` with ``no_area``, naming the communities.
    """
    flat = [job.code for job in jobs if shapely.area(job.boundary) < _NO_AREA_M2]
    if flat:
        raise plan_error("empty_geometry", name="communities", ids=flat, no_area=True)


def _repair_problems(
    jobs: list[CommunityJob], mixed: list[str], repaired: dict[str, str]
) -> list[Problem]:
    """The repairs as problems: per community, its boundary's points and lines left out, and
    its buildings made valid, one problem per reason (buildings outside every community under
    none)."""
    out = []
    for code in mixed:
        en, zh = boundary_parts_message(code)
        out.append(Problem("boundary_parts_dropped", en, code, message_zh=zh))
    if not repaired:
        return out
    community = {str(b): job.code for job in jobs for b in job.ids if str(b) in repaired}
    groups: dict[tuple[str | None, str], list[str]] = {}
    for b, reason in repaired.items():
        groups.setdefault((community.get(b), reason), []).append(b)
    for (owner, reason), ids in groups.items():
        en, zh = footprint_repaired_message(reason, ids)
        out.append(Problem("footprint_repaired", en, owner, building_ids=tuple(ids),
                           message_zh=zh))  # fmt: skip
    return out


def community_seed(seed: int, code: str) -> int:
    """Seed of one community, derived from the run seed and its code."""
    return (int(seed) * 1_000_003 + int(code)) % (2**63)


def run_jobs(
    plan: Callable[[_Task], _Out],
    tasks: Sequence[_Task],
    codes: Sequence[str],
    n_jobs: int,
    progress: Callable[[str], None] | None,
    scheduler: Any = None,
) -> list[_Out]:
    """``plan`` each task, in this process, in ``n_jobs`` processes or on the Dask cluster of
    ``scheduler`` (:func:`gridmap.plans.cluster.run_on_cluster`), with the same result;
    ``progress`` is called with the community code of each task when it is done."""
    if scheduler is not None:
        from gridmap.plans.cluster import run_on_cluster

        return run_on_cluster(plan, tasks, codes, scheduler, progress)
    if n_jobs <= 1 or len(tasks) <= 1:
        here = map(plan, map(_as_sent, tasks))
        return [_done(out, code, progress) for out, code in zip(here, codes, strict=True)]
    # The workers are forked and share this process's pages until they write to them; the
    # cyclic collector writes to every object it visits, so a worker's first collections copied
    # the layers and jobs held here into it. Frozen objects are left alone (by the collector
    # here as well, until the workers are done).
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(tasks))) as pool:
            results = pool.map(plan, tasks)
            return [_done(out, code, progress) for out, code in zip(results, codes, strict=True)]
    finally:
        gc.unfreeze()


def _as_sent(task: _Task) -> _Task:
    """``task`` as a worker process receives it (pickled and back).

    Pickling keeps every coordinate but not the precision model GEOS may carry with a
    geometry (``shapely.set_precision``), and overlays snap their results to a fixed one: a
    community planned from such layers in this process came out a few ULPs apart from the
    same community planned in a worker. Planning from the same copy here makes the plans of
    one process, of ``n_jobs`` processes and of a Dask cluster identical.
    """
    return pickle.loads(pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL))


def _done(out: _Out, code: str, progress: Callable[[str], None] | None) -> _Out:
    if progress:
        progress(code)
    return out
