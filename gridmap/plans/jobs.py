"""Community jobs: input checks and the per-community work units of partition and redistrict.

:func:`check_columns` validates the layers, :func:`make_jobs` assigns buildings to communities
(one :class:`CommunityJob` each, picklable for worker processes), :func:`prepare_jobs` does both
after projecting the layers, and :func:`run_jobs` plans the communities in this process, in
worker processes or on a Dask cluster (with the same result).
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
from gridmap.problems import Problem, outside_message
from gridmap.streets import boundary_streets, street_names

__all__ = [
    "CommunityJob",
    "check_columns",
    "make_jobs",
    "prepare_jobs",
    "community_seed",
    "run_jobs",
]

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
    """Check the layers, project them and build one job per community.

    Returns the jobs, the problems and ``inside`` of :func:`make_jobs`, and the projected CRS
    the jobs are in.
    """
    check_columns(communities, buildings, compounds)
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
    return jobs, problems, inside, crs


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
