"""The tables of a plan, shared by partition and redistrict: grid rows and building assignments.

:func:`grid_rows` measures the grids of one community (households, buildings, status against
the bounds, Polsby-Popper, area, perimeter); :func:`grid_frame` turns the rows of all
communities into one GeoDataFrame sorted by grid code and its metrics table;
:func:`assignment_frame` and :func:`concat_assignments` give the building → grid table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.constraints import Bounds
from gridmap.geometry.metrics import polsby_popper
from gridmap.problems import Problem

__all__ = [
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


def grid_rows(
    community: str,
    codes: Sequence[str],
    geoms: np.ndarray,
    households: Sequence[float],
    buildings: Sequence[int],
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
    building_ids: np.ndarray, building_grid: Sequence[str | None], community: str
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
