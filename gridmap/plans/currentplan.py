"""The current plan a re-districting starts from, and how the repaired plan relates to it.

Checking the plan (:func:`check_plan`), its building → grid assignment
(:func:`current_assignment`), giving repaired grids the current codes by a maximum-weight matching
on shared households (:func:`match_codes`), and the buildings that changed grid
(:func:`moved_buildings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from gridmap.errors import CRSError, DuplicateIdError, InputError

__all__ = ["CurrentGrids", "check_plan", "current_assignment", "match_codes", "moved_buildings"]


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


def current_assignment(assignments, buildings: gpd.GeoDataFrame, plan) -> pd.Series:
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
