"""Compare plans: a per-grid diff of two plans, and the best plan at each number of grids.

A *plan* here is anything with ``grids`` (GeoDataFrame with ``grid_code``, ``households`` and
polygons) and ``assignments`` (``building_id, grid_code``) attributes — a
:class:`~gridmap.plans.partition.PartitionResult`, a
:class:`~gridmap.plans.redistrict.RedistrictResult`, a stored plan — or a ``(grids, assignments)``
tuple.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.constraints import grid_count_range, household_bounds
from gridmap.crs import projected_crs_for
from gridmap.geometry.metrics import polsby_popper
from gridmap.planerrors import plan_error
from gridmap.plans.partition import PartitionResult, partition

__all__ = [
    "PlanDiff",
    "GridCountOptions",
    "compare_plans",
    "plans_by_grid_count",
    "plan_scores",
    "rank_plans",
    "PLAN_SCORE_WEIGHTS",
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
        raise plan_error("bad_match", match=match, choices=[MATCH_CODE, MATCH_OVERLAP])
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
    """The plan found at each number of grids asked for, and a table to choose from.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per number of grids asked for ``k``: ``k, grids, in_bounds, households_mean,
        households_min, households_max, households_std, polsby_popper_mean,
        polsby_popper_min, boundary_km, note``. ``grids`` always equals ``k`` when ``note`` is
        empty; otherwise no plan of ``k`` grids was found, ``note`` says why, ``grids`` is the
        count the search ended with and the other figures are empty.
    plans : dict
        ``k`` → :class:`~gridmap.plans.partition.PartitionResult`, only for plans of exactly ``k``
        grids.
    """

    table: pd.DataFrame
    plans: dict[int, PartitionResult] = field(default_factory=dict)

    @property
    def reasons(self) -> dict[int, str]:
        """``k`` → why no plan of exactly ``k`` grids was found."""
        missing = self.table[self.table["note"] != ""]
        return dict(zip(missing["k"].astype(int), missing["note"], strict=True))

    def ranked(self, weights: dict[str, float] | None = None) -> pd.DataFrame:
        """The plans found, best first, with their :func:`plan_scores` (see there)."""
        return rank_plans(self.table, weights)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


_TABLE_COLUMNS = ["k", "grids", "in_bounds", "households_mean", "households_min",
                  "households_max", "households_std", "polsby_popper_mean", "polsby_popper_min",
                  "boundary_km", "note"]  # fmt: skip


def plans_by_grid_count(
    community: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    counts: Iterable[int] | None = None,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    min_households: int = 300,
    max_households: int = 500,
    seed: int = 0,
) -> GridCountOptions:
    """Partition one community once per number of grids and tabulate the plans.

    By default every allowed number is tried: ``ceil(H / max)`` to ``floor(H / min)`` for
    the ``H`` households outside buildings above the maximum, plus one grid for each such
    building (a grid of its own). For each ``k`` the bounds are narrowed so that only ``k``
    grids fit (never wider than ``min``–``max``), and :func:`~gridmap.plans.partition.partition`
    finds the best plan within them. A count no plan can have (too few or too many grids for
    the households, or a large building that leaves too little for the other grids) is not
    run and ``note`` says why. A plan is kept only when it has exactly ``k`` grids; when the search
    ends with another count (a building too large for the narrowed bounds is a grid of its
    own, or a separate part of the community needs a grid of its own), it is run again with
    the next seeds, and if no run gives ``k`` grids the table says why in ``note``.

    Parameters
    ----------
    community : geopandas.GeoDataFrame
        One row: ``community_code`` and boundary.
    buildings, streets, compounds, min_households, max_households, seed
        As for :func:`~gridmap.plans.partition.partition`.
    counts : iterable of int, optional
        The numbers of grids to plan (default: every allowed number).

    Returns
    -------
    GridCountOptions

    Raises
    ------
    InputError
        If ``community`` has not exactly one row, or a count is below 1.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> c = gpd.GeoDataFrame({"community_code": ["520602001001"]},
    ...                      geometry=[shapely.box(0, 0, 400, 100)], crs=4545)
    >>> b = gpd.GeoDataFrame({"building_id": list("abcdefgh"), "households": [150] * 8},
    ...     geometry=shapely.points([(25 + 50 * i, 50) for i in range(8)]), crs=4545)
    >>> options = plans_by_grid_count(c, b, counts=[3, 4, 5])
    >>> options.table["grids"].tolist(), sorted(options.plans)
    ([3, 4, <NA>], [3, 4])
    >>> options.reasons[5]
    '5 grid(s) of at least 300 households need 1500, more than 1200.'
    """
    if len(community) != 1:
        raise plan_error("one_community", rows=len(community))
    inside = _buildings_inside(community, buildings)
    households = pd.to_numeric(inside["households"]).fillna(0)
    total = int(households.sum())
    allowed = _counts(households, min_households, max_households)
    n_towers = int((households > max_households).sum())  # each a grid of its own
    rest = total - int(households[households > max_households].sum())
    wanted = allowed if counts is None else [int(k) for k in counts]
    if any(k < 1 for k in wanted):
        raise plan_error("bad_counts", counts=wanted)
    rows, plans = [], {}
    for k in wanted:
        why = _impossible(k, inside, households, min_households, max_households)
        found = None
        if why is None:
            lo, hi = _narrowed(k - n_towers, rest, min_households, max_households)
            for attempt in range(_SEEDS_PER_COUNT):
                result = partition(community, buildings, streets=streets, compounds=compounds,
                                   min_households=lo, max_households=hi,
                                   seed=seed + attempt)  # fmt: skip
                found = len(result.grids)
                if found == k:
                    plans[k] = result
                    break
            if k not in plans:
                why = _why_not(k, found, result, lo, hi)
        if k in plans:
            rows.append({"k": k, **_plan_metrics(plans[k], min_households, max_households),
                         "note": ""})  # fmt: skip
        else:
            rows.append({"k": k, "grids": found, "note": why})
    table = pd.DataFrame(rows, columns=_TABLE_COLUMNS)
    table["note"] = table["note"].fillna("")
    table["grids"] = table["grids"].astype("Int64")
    return GridCountOptions(table, plans)


_SEEDS_PER_COUNT = 3  # runs (seeds seed, seed+1, …) before a count is given up


def _narrowed(k: int, total: int, lo: int, hi: int) -> tuple[int, int]:
    """Bounds within ``lo``–``hi`` that only ``k`` grids can meet (when any can)."""
    if k < 1 or total <= 0:
        return lo, hi
    lo_k = max(lo, math.floor(total / (k + 1)) + 1)
    hi_k = hi if k == 1 else min(hi, math.ceil(total / (k - 1)) - 1)
    return lo_k, max(hi_k, lo_k)


def _impossible(k: int, inside: pd.DataFrame, households: pd.Series, lo: int, hi: int):
    """Why no plan of ``k`` grids within ``lo``–``hi`` can exist, or None.

    A building above ``hi`` is a grid of its own; the other households must fill the other
    grids within the bounds, one of which holds the largest of the other buildings.
    """
    tower = (households > hi).to_numpy()
    k_rest, rest = k - int(tower.sum()), int(households[~tower].sum())
    own = ""
    if tower.any():
        ids = ", ".join(inside.loc[tower, "building_id"].astype(str))
        own = (f"building(s) {ids}, above {hi} households, are grids of their own, so the "
               f"other {rest} households have {k_rest} grid(s): ")  # fmt: skip
    if k_rest < 1 and rest > 0:
        return _sentence(own + "none is left for them.")
    if k_rest * lo > rest:
        return _sentence(own + f"{k_rest} grid(s) of at least {lo} households need "
                         f"{k_rest * lo}, more than {rest}.")  # fmt: skip
    if k_rest * hi < rest:
        return _sentence(own + f"{k_rest} grid(s) of at most {hi} households hold "
                         f"{k_rest * hi}, fewer than {rest}.")  # fmt: skip
    others = households[~tower]
    if len(others) and k_rest > 1 and lo <= int(others.max()):
        big, name = int(others.max()), inside.loc[others.idxmax(), "building_id"]
        if big + (k_rest - 1) * lo > rest:
            return _sentence(
                own + f"building {name} has {big} households, so its grid holds at least {big}; "
                f"the other {k_rest - 1} grid(s) need at least {(k_rest - 1) * lo} households, "
                f"but only {rest - big} are left."
            )
    return None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _counts(households: pd.Series, lo: int, hi: int) -> list[int]:
    """Every number of grids a plan within the bounds can have (towers alone)."""
    tower = households > hi
    rest = float(households[~tower].sum())
    return [int(tower.sum()) + k for k in grid_count_range(rest, lo, hi)] or (
        [int(tower.sum())] if tower.any() else []
    )


def _why_not(k: int, found: int | None, result: PartitionResult, lo: int, hi: int) -> str:
    """Why the search ended with ``found`` grids instead of ``k``."""
    flagged = result.metrics[result.metrics["status"] != "ok"]
    causes = []
    towers = flagged[flagged["status"] == "over_max"]
    if len(towers):
        causes.append(
            f"{len(towers)} grid(s) above {hi} households (a building too large "
            "for the bounds is a grid of its own)"
        )
    under = flagged[flagged["status"] == "under_min"]
    if len(under):
        causes.append(
            f"{len(under)} grid(s) under {lo} households (a separate part of the "
            "community, cut off by streets or its outline, is a grid of its own)"
        )
    detail = "; ".join(causes) or "the street blocks and compounds do not divide into that many"
    return (
        f"No plan of exactly {k} grids found (bounds {lo}–{hi}, which only {k} grids can "
        f"meet): the search ended with {found} grids — {detail}."
    )


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
        "households_mean": round(float(hh.mean()), 1) if len(m) else 0.0,
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


PLAN_SCORE_WEIGHTS: dict[str, float] = {
    "balance": 1.0,
    "polsby_popper_min": 1.0,
    "polsby_popper_mean": 1.0,
    "boundary": 1.0,
}
"""Default weights of the parts of :func:`plan_scores` (equal)."""


def plan_scores(table: pd.DataFrame, weights: dict[str, float] | None = None) -> pd.Series:
    """Score each plan of a :class:`GridCountOptions` table: 0–1, higher is better.

    The score is the weighted mean of four parts, each 0–1:

    - ``balance``: ``1 - households_std / households_mean`` (1 when every grid holds as many
      households; the spread of households);
    - ``polsby_popper_min``: compactness of the least compact grid (Polsby–Popper, 4πA/P²: 1
      for a circle, about 0.785 for a square, near 0 for a thin strip);
    - ``polsby_popper_mean``: mean compactness of the grids;
    - ``boundary``: the shortest total boundary between grids among the plans in ``table``
      divided by this plan's (1 for the plan with the least boundary to walk and to draw).

    Parameters
    ----------
    table : pandas.DataFrame
        ``households_mean, households_std, polsby_popper_min, polsby_popper_mean,
        boundary_km`` per plan (and ``note``: rows with a note have no plan and score NaN).
    weights : dict, optional
        Weight of each part (keys of :data:`PLAN_SCORE_WEIGHTS`; missing keys weigh 0).

    Returns
    -------
    pandas.Series
        The score of each row, on ``table``'s index.

    Examples
    --------
    A plan with one thin grid and long boundaries, against a compact one with half the
    boundary and a slightly wider spread of households:

    >>> import pandas as pd
    >>> t = pd.DataFrame({"households_mean": [400.0, 400.0], "households_std": [10.0, 40.0],
    ...     "polsby_popper_min": [0.075, 0.46], "polsby_popper_mean": [0.45, 0.58],
    ...     "boundary_km": [7.7, 3.8]})
    >>> plan_scores(t).round(3).tolist()
    [0.498, 0.735]
    """
    weights = PLAN_SCORE_WEIGHTS if weights is None else weights
    unknown = set(weights) - set(PLAN_SCORE_WEIGHTS)
    if unknown or sum(weights.values()) <= 0:
        raise plan_error("bad_weights", parts=sorted(PLAN_SCORE_WEIGHTS), weights=dict(weights))
    has_plan = table["note"].eq("") if "note" in table else pd.Series(True, index=table.index)
    num = table.apply(pd.to_numeric, errors="coerce") if len(table) else table
    boundary = num["boundary_km"].where(has_plan)
    parts = {
        "balance": (1 - num["households_std"] / num["households_mean"]).clip(0, 1),
        "polsby_popper_min": num["polsby_popper_min"].clip(0, 1),
        "polsby_popper_mean": num["polsby_popper_mean"].clip(0, 1),
        "boundary": (boundary.min() / boundary).where(boundary > 0, 1.0).clip(0, 1),
    }
    total = sum(weights.values())
    score = sum(w * parts[name] for name, w in weights.items()) / total
    return score.where(has_plan).astype(float)


def rank_plans(table: pd.DataFrame, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """The plans of ``table`` best first, with a ``score`` column (:func:`plan_scores`).

    Plans with every grid within the bounds come first (``in_bounds`` descending), then the
    higher score, then fewer grids. Rows without a plan (a ``note`` saying why) are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"k": [10, 11], "in_bounds": [1.0, 1.0], "households_mean": [400.0] * 2,
    ...     "households_std": [10.0, 40.0], "polsby_popper_min": [0.075, 0.46],
    ...     "polsby_popper_mean": [0.45, 0.58], "boundary_km": [7.7, 3.8], "note": ["", ""]})
    >>> rank_plans(t)[["k", "score"]].round(3).values.tolist()
    [[11.0, 0.735], [10.0, 0.498]]
    """
    out = table.assign(score=plan_scores(table, weights))
    out = out[out["score"].notna()]
    return out.sort_values(["in_bounds", "score", "k"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)  # fmt: skip
