"""Compare plans: a per-grid diff of two plans, and the best plan at each number of grids.

A *plan* here is anything with ``grids`` (GeoDataFrame with ``grid_code``, ``households`` and
polygons) and ``assignments`` (``building_id, grid_code``) attributes — a
:class:`~gridmap.partition.PartitionResult`, a :class:`~gridmap.redistrict.RedistrictResult`,
a stored plan — or a ``(grids, assignments)`` tuple.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.constraints import grid_count_range, household_bounds
from gridmap.crs import projected_crs_for
from gridmap.errors import InputError
from gridmap.metrics import polsby_popper
from gridmap.partition import PartitionResult, partition

__all__ = [
    "PlanDiff",
    "GridCountOptions",
    "compare_plans",
    "plans_by_grid_count",
    "MATCH_CODE",
    "MATCH_OVERLAP",
]

MATCH_CODE = "code"
"""Grids of the two plans are the same grid when they have the same code."""
MATCH_OVERLAP = "overlap"
"""Grids are paired by the households they share (for plans numbered independently)."""

_MOVED_TOLERANCE = 1e-4  # a boundary moved when the changed area exceeds this share of the grid
_DIFF_COLUMNS = [
    "grid_before",
    "grid_after",
    "households_before",
    "households_after",
    "polsby_popper_before",
    "polsby_popper_after",
    "boundary_moved",
    "status_after",
]


@dataclass
class PlanDiff:
    """What changes from plan ``a`` to plan ``b``.

    Attributes
    ----------
    grids : pandas.DataFrame
        One row per pair of matched grids (and per grid found in one plan only):
        ``grid_before, grid_after, households_before, households_after, polsby_popper_before,
        polsby_popper_after, boundary_moved, status_after``.
    moved : pandas.DataFrame
        Buildings that change grid: ``building_id, from_grid, to_grid, households``.
    households_total : int
        Households of the buildings assigned in both plans.
    """

    grids: pd.DataFrame
    moved: pd.DataFrame
    households_total: int

    @property
    def households_moved(self) -> int:
        """Households whose building changes grid."""
        return int(self.moved["households"].sum())

    @property
    def share_moved(self) -> float:
        """Share of households that change grid (0 when there are none)."""
        return self.households_moved / self.households_total if self.households_total else 0.0

    def summary(self) -> dict[str, Any]:
        """Headline figures: grids before/after, grids whose boundary moved, moves."""
        g = self.grids
        after = g[g["grid_after"].notna()]
        return {
            "grids_before": int(g["grid_before"].notna().sum()),
            "grids_after": int(len(after)),
            "boundaries_moved": int(g["boundary_moved"].sum()),
            "grids_in_bounds_after": float((after["status_after"] == "ok").mean())
            if len(after)
            else 0.0,
            "buildings_moved": int(len(self.moved)),
            "households_moved": self.households_moved,
            "share_moved": round(self.share_moved, 4),
        }


def _parts(plan: Any) -> tuple[gpd.GeoDataFrame, pd.Series]:
    if isinstance(plan, tuple):
        grids, assignments = plan
    else:
        grids, assignments = plan.grids, plan.assignments
    if isinstance(assignments, pd.DataFrame):
        assignments = pd.Series(
            assignments["grid_code"].to_numpy(), index=assignments["building_id"].to_numpy()
        )
    assignments = assignments[assignments.notna()]
    assignments = pd.Series(assignments.astype(str).to_numpy(), index=assignments.index.astype(str))
    return grids, assignments


def compare_plans(
    a: Any,
    b: Any,
    *,
    buildings: pd.DataFrame,
    match: str = MATCH_CODE,
    min_households: int = 300,
    max_households: int = 500,
) -> PlanDiff:
    """Diff plan ``a`` (before) against plan ``b`` (after).

    Parameters
    ----------
    a, b : plan or (grids, assignments)
        See the module docstring.
    buildings : DataFrame
        ``building_id`` and ``households`` (current counts), to count the households moved.
    match : {"code", "overlap"}
        Pair grids by code (re-districting keeps codes), or by shared households (two
        independent partitions, whose codes say nothing about each other).
    min_households, max_households : int
        Bounds for ``status_after``.

    Returns
    -------
    PlanDiff

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> g = gpd.GeoDataFrame({"grid_code": ["x1", "x2"], "households": [350, 450]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=4545)
    >>> g2 = g.assign(households=[450, 350])
    >>> g2.geometry = [shapely.box(0, 0, 130, 100), shapely.box(130, 0, 200, 100)]
    >>> b = pd.DataFrame({"building_id": ["a", "d"], "households": [350, 100]})
    >>> d = compare_plans((g, pd.Series({"a": "x1", "d": "x2"})),
    ...                   (g2, pd.Series({"a": "x1", "d": "x1"})), buildings=b)
    >>> d.grids[["grid_before", "boundary_moved"]].values.tolist(), d.households_moved
    ([['x1', True], ['x2', True]], 100)
    """
    if match not in (MATCH_CODE, MATCH_OVERLAP):
        raise InputError(f"match must be {MATCH_CODE!r} or {MATCH_OVERLAP!r}, not {match!r}.")
    grids_a, assign_a = _parts(a)
    grids_b, assign_b = _parts(b)
    hh = pd.Series(
        pd.to_numeric(buildings["households"]).fillna(0).to_numpy(),
        index=buildings["building_id"].astype(str).to_numpy(),
    )
    both = assign_a.index.intersection(assign_b.index).intersection(hh.index)
    codes_a = grids_a["grid_code"].astype(str).tolist()
    codes_b = grids_b["grid_code"].astype(str).tolist()
    if match == MATCH_CODE:
        pairs = {c: c for c in codes_a if c in set(codes_b)}
    else:
        pairs = _overlap_pairs(assign_a[both], assign_b[both], hh[both])
    partner = assign_a[both].map(pairs)
    moving = partner.isna() | (partner != assign_b[both])
    ids = both[moving.to_numpy()]
    moved = pd.DataFrame(
        {
            "building_id": ids,
            "from_grid": assign_a[ids].to_numpy(),
            "to_grid": assign_b[ids].to_numpy(),
            "households": hh[ids].astype(int).to_numpy(),
        },
        columns=["building_id", "from_grid", "to_grid", "households"],
    )
    table = _grid_table(grids_a, grids_b, pairs, min_households, max_households)
    return PlanDiff(table, moved.reset_index(drop=True), int(hh[both].sum()))


def _overlap_pairs(a: pd.Series, b: pd.Series, hh: pd.Series) -> dict[str, str]:
    """Pair grids greedily by the households they share (largest first)."""
    shared = pd.DataFrame({"a": a, "b": b, "h": hh}).groupby(["a", "b"])["h"].sum()
    shared = shared.sort_values(ascending=False, kind="stable")
    out: dict[str, str] = {}
    taken: set[str] = set()
    for (ga, gb), _h in shared.items():
        if ga not in out and gb not in taken:
            out[ga] = gb
            taken.add(gb)
    return out


def _grid_table(grids_a, grids_b, pairs, lo: int, hi: int) -> pd.DataFrame:
    crs = projected_crs_for(grids_a if len(grids_a) else grids_b)
    ga = grids_a.to_crs(crs).set_index(grids_a["grid_code"].astype(str).to_numpy())
    gb = grids_b.to_crs(crs).set_index(grids_b["grid_code"].astype(str).to_numpy())
    pp_a = pd.Series(polsby_popper(np.asarray(ga.geometry.values)), index=ga.index)
    pp_b = pd.Series(polsby_popper(np.asarray(gb.geometry.values)), index=gb.index)
    bounds = household_bounds(lo, hi)
    rows = []
    for ca in ga.index:
        cb = pairs.get(ca)
        rows.append((ca, cb))
    rows += [(None, cb) for cb in gb.index if cb not in set(pairs.values())]
    out = []
    for ca, cb in rows:
        geom_a = ga.geometry[ca] if ca is not None else None
        geom_b = gb.geometry[cb] if cb is not None else None
        moved = True
        if geom_a is not None and geom_b is not None:
            changed = shapely.area(shapely.symmetric_difference(geom_a, geom_b))
            moved = bool(changed > _MOVED_TOLERANCE * max(shapely.area(geom_a), 1.0))
        hb = int(gb.at[cb, "households"]) if cb is not None else None
        out.append(
            {
                "grid_before": ca,
                "grid_after": cb,
                "households_before": int(ga.at[ca, "households"]) if ca is not None else None,
                "households_after": hb,
                "polsby_popper_before": round(float(pp_a[ca]), 4) if ca is not None else None,
                "polsby_popper_after": round(float(pp_b[cb]), 4) if cb is not None else None,
                "boundary_moved": moved,
                "status_after": bounds.status(hb) if hb is not None else None,
            }
        )
    return pd.DataFrame(out, columns=_DIFF_COLUMNS)


@dataclass
class GridCountOptions:
    """The best plan found at each allowed number of grids, and a table to choose from.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per number of grids ``k``: ``k, grids, in_bounds, households_min,
        households_max, households_std, polsby_popper_mean, polsby_popper_min,
        boundary_km``.
    plans : dict
        ``k`` → :class:`~gridmap.partition.PartitionResult`.
    """

    table: pd.DataFrame
    plans: dict[int, PartitionResult] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


def plans_by_grid_count(
    community: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    min_households: int = 300,
    max_households: int = 500,
    seed: int = 0,
) -> GridCountOptions:
    """Partition one community once per allowed number of grids and tabulate the plans.

    The allowed numbers run from ``ceil(H / max)`` to ``floor(H / min)`` for ``H`` households.
    For each ``k`` the bounds are narrowed so that only ``k`` grids fit (never wider than
    ``min``–``max``), and :func:`~gridmap.partition.partition` finds the best plan within them.

    Parameters
    ----------
    community : geopandas.GeoDataFrame
        One row: ``community_code`` and boundary.
    buildings, streets, compounds, min_households, max_households, seed
        As for :func:`~gridmap.partition.partition`.

    Returns
    -------
    GridCountOptions

    Raises
    ------
    InputError
        If ``community`` has not exactly one row.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> c = gpd.GeoDataFrame({"community_code": ["520602001001"]},
    ...                      geometry=[shapely.box(0, 0, 400, 100)], crs=4545)
    >>> b = gpd.GeoDataFrame({"building_id": list("abcdefgh"), "households": [150] * 8},
    ...     geometry=shapely.points([(25 + 50 * i, 50) for i in range(8)]), crs=4545)
    >>> options = plans_by_grid_count(c, b)
    >>> options.table[["k", "grids"]].values.tolist(), options.table["in_bounds"].tolist()
    ([[3, 3], [4, 4]], [1.0, 1.0])
    """
    if len(community) != 1:
        raise InputError(
            f"plans_by_grid_count takes one community, got {len(community)} rows; select one "
            "with communities[communities.community_code == code]."
        )
    inside = _buildings_inside(community, buildings)
    total = int(pd.to_numeric(inside["households"]).sum())
    rows, plans = [], {}
    for k in grid_count_range(total, min_households, max_households):
        lo = max(min_households, math.floor(total / (k + 1)) + 1)
        hi = max_households if k == 1 else min(max_households, math.ceil(total / (k - 1)) - 1)
        result = partition(community, buildings, streets=streets, compounds=compounds,
                           min_households=lo, max_households=max(hi, lo), seed=seed)  # fmt: skip
        plans[k] = result
        rows.append({"k": k, **_plan_metrics(result, min_households, max_households)})
    columns = ["k", "grids", "in_bounds", "households_min", "households_max", "households_std",
               "polsby_popper_mean", "polsby_popper_min", "boundary_km"]  # fmt: skip
    return GridCountOptions(pd.DataFrame(rows, columns=columns), plans)


def _buildings_inside(community: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame):
    pts = buildings.to_crs(community.crs).geometry.representative_point()
    return buildings[pts.intersects(community.geometry.iloc[0]).to_numpy()]


def _plan_metrics(result: PartitionResult, lo: int, hi: int) -> dict[str, Any]:
    m = result.metrics
    bounds = household_bounds(lo, hi)
    hh = m["households"]
    return {
        "grids": len(m),
        "in_bounds": round(float(hh.map(bounds).mean()), 4) if len(m) else 0.0,
        "households_min": int(hh.min()) if len(m) else 0,
        "households_max": int(hh.max()) if len(m) else 0,
        "households_std": round(float(hh.std(ddof=0)), 1) if len(m) else 0.0,
        "polsby_popper_mean": round(float(m["polsby_popper"].mean()), 4) if len(m) else 0.0,
        "polsby_popper_min": round(float(m["polsby_popper"].min()), 4) if len(m) else 0.0,
        "boundary_km": round(_internal_boundary(result) / 1000, 3),
    }


def _internal_boundary(result: PartitionResult) -> float:
    """Length of boundary between grids (metres): half of perimeters minus the outline."""
    if not len(result.grids):
        return 0.0
    geoms = np.asarray(result.grids.to_crs(result.crs).geometry.values)
    outline = shapely.length(shapely.coverage_union_all(geoms))
    return float((shapely.length(geoms).sum() - outline) / 2)
