"""Grid codes: the community's 12-digit code plus a 3-digit sequence, west→east, north→south."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely

from gridmap.planerrors import plan_error

__all__ = ["grid_codes", "codes_by_position", "MAX_GRIDS_PER_COMMUNITY"]

MAX_GRIDS_PER_COMMUNITY = 999


def grid_codes(
    community_code: str, x: np.ndarray, y: np.ndarray, *, row_height: float
) -> list[str]:
    """Number grids in rows from north to south, west to east inside a row.

    Parameters
    ----------
    community_code : str
        12-digit statistical division code of the community.
    x, y : np.ndarray
        Easting and northing (projected) of a point inside each grid.
    row_height : float
        Height of a row of grids (for example the square root of the median grid area).

    Returns
    -------
    list of str
        15-digit codes, aligned with ``x``.

    Examples
    --------
    >>> grid_codes("520602001001", np.array([0, 100, 0, 100]), np.array([100, 100, 0, 0]),
    ...            row_height=100)
    ['520602001001001', '520602001001002', '520602001001003', '520602001001004']
    """
    if not (
        isinstance(community_code, str) and len(community_code) == 12 and community_code.isdigit()
    ):
        raise plan_error("bad_community_code", community_code=community_code)
    n = len(x)
    if n > MAX_GRIDS_PER_COMMUNITY:
        raise plan_error(
            "too_many_grids", community_code=community_code, n=n, most=MAX_GRIDS_PER_COMMUNITY
        )
    y = np.asarray(y, dtype=float)
    height = row_height if row_height > 0 else 1.0
    rows = np.floor((y.max() - y) / height + 0.5) if n else y
    order = np.lexsort((np.asarray(x, dtype=float), rows))
    codes = [""] * n
    for seq, i in enumerate(order.tolist(), start=1):
        codes[i] = f"{community_code}{seq:03d}"
    return codes


def codes_by_position(community_code: str, grids: npt.NDArray[np.object_]) -> list[str]:
    """Codes for projected grid polygons by :func:`grid_codes`: each grid at its centroid
    (a point on its surface where the centroid falls outside it), rows as tall as the square
    root of the median grid area. How every grid gridmap draws or is given without a code is
    numbered.

    Examples
    --------
    >>> from shapely import box
    >>> codes_by_position("520602001001", np.array([box(1, 0, 2, 1), box(0, 0, 1, 1)]))
    ['520602001001002', '520602001001001']
    """
    centre = shapely.centroid(grids)
    points = np.where(shapely.contains(grids, centre), centre, shapely.point_on_surface(grids))
    row = math.sqrt(float(np.median(shapely.area(grids)))) if len(grids) else 1.0
    return grid_codes(community_code, shapely.get_x(points), shapely.get_y(points),
                      row_height=row)  # fmt: skip
