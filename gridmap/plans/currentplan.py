"""The current plan a re-districting starts from, and how the repaired plan relates to it.

Checking the plan (:func:`check_plan`), its building → grid assignment
(:func:`current_assignment`; by location where none is given: :func:`assign_by_location`),
giving repaired grids the current codes by a maximum-weight matching on shared households
(:func:`match_codes`), and the buildings that changed grid (:func:`moved_buildings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from gridmap.errors import CRSError, DuplicateIdError, InputError

__all__ = ["CurrentGrids", "assign_by_location", "check_plan", "current_assignment", "match_codes",
           "moved_buildings"]  # fmt: skip


@dataclass
class CurrentGrids:
    codes: np.ndarray
    geoms: np.ndarray  # projected
    storage_geoms: np.ndarray  # EPSG:4326, the exact output for kept grids


def check_plan(plan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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


def assign_by_location(buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.Series:
    """Building id → ``grid_code`` of the grid holding the building's point: the point given, or
    a point on its footprint (:func:`shapely.point_on_surface`, as the plans place a building).

    A point on the edge two grids share goes to the first of them in ``grids``; buildings
    without geometry or in no grid are left out. ``grids`` without a CRS are taken to be in the
    buildings' CRS. The store assigns the buildings of a plan saved without assignment so too.

    Examples
    --------
    >>> from shapely import box, points
    >>> grids = gpd.GeoDataFrame({"grid_code": ["520602001001001", "520602001001002"]},
    ...                          geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=4545)
    >>> b = gpd.GeoDataFrame({"building_id": ["a", "b", "c", "d"]}, crs=4545,
    ...                      geometry=[box(8, 1, 14, 3), *points([(10, 5), (30, 5)]), None])
    >>> assign_by_location(b, grids).to_dict()
    {'a': '520602001001002', 'b': '520602001001001'}
    """
    shapes = buildings.geometry
    located = buildings[(shapes.notna() & ~shapes.is_empty).to_numpy()]
    if located.empty or grids.empty:
        return pd.Series(dtype=object)
    points = gpd.GeoSeries(shapely.point_on_surface(np.asarray(located.geometry.values)),
                           crs=located.crs)  # fmt: skip
    if grids.crs is not None and points.crs is not None:
        points = points.to_crs(grids.crs)
    tree = shapely.STRtree(np.asarray(grids.geometry.values))
    b, g = tree.query(np.asarray(points.values), predicate="intersects")
    order = np.lexsort((g, b))  # each building's grids in the order of ``grids``
    b, g = b[order], g[order]
    first = np.unique(b, return_index=True)[1]
    return pd.Series(grids["grid_code"].to_numpy()[g[first]],
                     index=located["building_id"].to_numpy()[b[first]])  # fmt: skip


def current_assignment(assignments, buildings: gpd.GeoDataFrame, plan) -> pd.Series:
    """The plan's assignment as building id → grid code (text); by location
    (:func:`assign_by_location`) when ``assignments`` is None."""
    if assignments is None:
        by_place = assign_by_location(buildings, plan)
        return pd.Series(by_place.astype(str).to_numpy(), index=by_place.index.astype(str))
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


def match_codes(labels, cell_labels, cell_old, weight, old_codes) -> dict[int, str]:
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
    bipartite: nx.Graph[int] = nx.Graph()  # new grid g is node g, current grid i is node -1 - i
    for gi, i in zip(g_idx.tolist(), o_idx.tolist(), strict=True):
        g = labels[gi]
        bipartite.add_edge(g, -1 - i, weight=float(shared[g, i]))
    out: dict[int, str] = {}
    for a, b in nx.max_weight_matching(bipartite):
        g, i = (a, -1 - b) if a >= 0 else (b, -1 - a)
        out[g] = str(old_codes[i])
    return out


def moved_buildings(old: pd.Series, assignments: pd.DataFrame, buildings) -> tuple:
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
