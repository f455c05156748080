"""Round a plan's grids to the output precision without breaking them (one coverage)."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["LONLAT_GRID_SIZE", "snap_grids"]

LONLAT_GRID_SIZE = 1e-7
"""Output precision of lon/lat grids (degrees): RFC 7946 GeoJSON's 7 decimals, about 1 cm."""
_SNAP_SLIVER_SHARE = 1e-4  # a part rounding created below this share of its grid is a sliver


def snap_grids(geoms: np.ndarray, grid_size: float) -> np.ndarray:
    """Round the grids of a plan to ``grid_size`` (the output precision) as one coverage.

    Every vertex is snapped to the ``grid_size`` grid (shared edges snap alike, so neighbours
    still meet exactly); a ring that the rounding makes touch or cross itself is repaired; a
    part that only the rounding created and smaller than 1/10,000 of its grid (a sliver) is
    dropped, so a grid that was one polygon stays one polygon. Writers then store exactly these
    coordinates (RFC 7946 GeoJSON rounds to 7 decimals: ``grid_size=1e-7`` in lon/lat).

    Examples
    --------
    >>> a = shapely.Polygon([(0, 0), (1, 0), (1.00000004, 0.5), (1, 1), (0, 1)])
    >>> b = shapely.Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1.00000004, 0.5)])
    >>> out = snap_grids(np.array([a, b]), 1e-7)
    >>> [g.geom_type for g in out], bool(shapely.is_valid(out).all())
    (['Polygon', 'Polygon'], True)
    """
    geoms = np.asarray(geoms, dtype=object)
    # Plain rounding keeps every vertex in place and order (a kept grid is written byte for
    # byte as before); only grids it leaves invalid are snap-rounded and repaired.
    out = shapely.set_precision(geoms, grid_size, mode="pointwise")
    bad = np.flatnonzero(~shapely.is_valid(out))
    if len(bad) == 0:
        return out
    snapped = shapely.set_precision(geoms[bad], grid_size, mode="valid_output")
    for i, before, after in zip(bad.tolist(), geoms[bad], snapped, strict=True):
        parts = shapely.get_parts(after)
        parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        parts = shapely.get_parts(parts)
        keep = max(len(shapely.get_parts(before)), 1)
        if len(parts) > keep:  # parts the rounding created: drop the slivers among them
            area = shapely.area(parts)
            order = np.argsort(-area, kind="stable")
            big = area >= _SNAP_SLIVER_SHARE * area.sum()
            big[order[:keep]] = True
            parts = parts[np.sort(np.flatnonzero(big))]
        if len(parts):
            out[i] = parts[0] if len(parts) == 1 else shapely.multipolygons(parts)
    return out
