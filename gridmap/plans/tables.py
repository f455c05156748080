"""The tables of a plan, shared by partition and redistrict: grid rows and building assignments.

:class:`PlanResult` holds them with the plan's problems;
:func:`grid_rows` measures the grids of one community (households, buildings, status against
the bounds, Polsby-Popper, area, perimeter); :func:`grid_frame` turns the rows of all
communities into one GeoDataFrame sorted by grid code and its metrics table;
:func:`assignment_frame` and :func:`concat_assignments` give the building → grid table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.constraints import STATUS_OK, Bounds
from gridmap.geometry.metrics import polsby_popper
from gridmap.problems import Problem, problems_table, report_lines

__all__ = [
    "PlanResult",
    "GRID_COLUMNS",
    "ASSIGNMENT_COLUMNS",
    "grid_rows",
    "grid_frame",
    "assignment_frame",
    "concat_assignments",
    "log_problems",
]

GRID_COLUMNS = ["grid_code", "community_code", "households", "buildings", "status", "polsby_popper"]
"""Columns of a plan's grids (before ``geometry``)."""
ASSIGNMENT_COLUMNS = ["building_id", "grid_code", "community_code"]
"""Columns of a plan's building assignment."""
_MEASURES = ["area_m2", "perimeter_m"]


@dataclass
class PlanResult:
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

    def problems_table(self) -> pd.DataFrame:
        """The problems, one row per community, grid and kind (see
        :func:`gridmap.problems.problems_table`)."""
        return problems_table(self.problems)

    def report(self, lang: str = "zh", verbose: bool = False) -> list[str]:
        """The problem lines a person reads (see :func:`gridmap.problems.report_lines`)."""
        return report_lines(self.problems, lang, verbose)


def grid_rows(
    community: str,
    codes: Sequence[str],
    geoms: np.ndarray,
    households: Sequence[float] | np.ndarray,
    buildings: Sequence[int] | np.ndarray,
    bounds: Bounds,
    **extra: Sequence,
) -> list[dict]:
    """One row per grid of ``community`` (projected ``geoms``); ``extra`` adds columns.

    Examples
    --------
    >>> from gridmap.constraints import household_bounds
    >>> rows = grid_rows("520602001001", ["520602001001001"], np.array([shapely.box(0, 0, 10, 10)]),
    ...                  [280], [3], household_bounds(300, 500), change=["new"])
    >>> [rows[0][k] for k in ("households", "status", "polsby_popper", "area_m2", "change")]
    [280, 'under_min', 0.7854, 100.0, 'new']
    """
    pp = polsby_popper(geoms)
    rows = []
    for i, code in enumerate(codes):
        h = int(households[i])
        rows.append({
            "grid_code": code, "community_code": community, "households": h,
            "buildings": int(buildings[i]), "status": bounds.status(h),
            "polsby_popper": round(float(pp[i]), 4), "area_m2": float(shapely.area(geoms[i])),
            "perimeter_m": float(shapely.length(geoms[i])), "geometry": geoms[i],
            **{name: values[i] for name, values in extra.items()},
        })  # fmt: skip
    return rows


def grid_frame(
    rows: list[dict], crs, extra: Sequence[str] = (), hidden: Sequence[str] = ()
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The rows as a GeoDataFrame in ``crs`` sorted by grid code, and its metrics table.

    Columns: :data:`GRID_COLUMNS`, ``extra``, ``area_m2, perimeter_m, geometry``, ``hidden``;
    the metrics table has all but ``geometry`` and ``hidden``.
    """
    columns = [*GRID_COLUMNS, *extra, *_MEASURES, "geometry", *hidden]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=crs)
    frame = frame.sort_values("grid_code").reset_index(drop=True)
    return frame, pd.DataFrame(frame.drop(columns=["geometry", *hidden]))


def assignment_frame(
    building_ids: np.ndarray, building_grid: Sequence[str | None] | np.ndarray, community: str
) -> pd.DataFrame:
    """``building_id, grid_code, community_code`` of one community's buildings."""
    return pd.DataFrame(
        {"building_id": building_ids, "grid_code": building_grid, "community_code": community}
    )


def concat_assignments(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The assignments of all communities as one table (empty with the columns if none)."""
    if not frames:
        return pd.DataFrame(columns=ASSIGNMENT_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def log_problems(logger: logging.Logger, problems: Iterable[Problem]) -> None:
    """Log each problem (kind and English message) at INFO."""
    for p in problems:
        logger.info("%s: %s", p.kind, p.message)
