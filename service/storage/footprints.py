"""``import --update``: a building the file gives as a point keeps its stored footprint.

A district office updates household counts with a 楼栋 table that has coordinates (经度/纬度)
but no footprints, or with a point layer. The store keeps each building's footprint and its
point apart (:class:`~service.storage.models.Building`): the partition works on the footprints
and plans place buildings by their points, which is why a stored footprint's point is a point
on it. So, where the file gives a point for a stored building that has a footprint, the
update keeps both its footprint and its point (a record without any geometry keeps its stored
one, as every entity's does: :func:`service.storage.updates.split_rows`). A file's point more
than :data:`MOVED_M` metres outside the stored footprint
(the building moved, or the point or the footprint is wrong) becomes a report line naming the
building: the office gives the footprint to move it. A polygon replaces the footprint and the
point as before.

Nothing here logs personal values (a building has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gridmap.attach.report import Issue
from gridmap.crs import STORAGE_CRS, projected_crs_for
from service.storage.values import shapes_from_wkb

__all__ = ["MOVED_M", "keep_footprints"]

MOVED_M = 5.0
"""Metres a file's point may lie outside the stored footprint before it is reported (a point
at the door or from a phone's GPS lies a few metres off the outline)."""


def _moved(building_id: str, metres: float) -> Issue:
    return Issue.of("building", building_id, "point_outside_footprint", distance_m=round(metres, 1))


def keep_footprints(
    rows: list[dict[str, Any]], stored: Mapping[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Issue]]:
    """``rows`` (building store rows, geometries as WKB) with the stored ``geom`` and
    ``footprint`` of the stored buildings with a footprint the file gives a point for, and the
    report lines of those whose file point lies over :data:`MOVED_M` m outside it.

    ``stored``: the stored rows by id. Rows with a polygon or without a geometry, new rows and
    rows of buildings stored as a point only are returned as they are.
    """
    out, checked = list(rows), []
    for i, row in enumerate(rows):
        old, point = stored.get(row["id"]), row.get("geom")
        if old is None or old["footprint"] is None or point is None:
            continue  # new, a point for a point (the file's counts), or blank (kept anyway)
        if row.get("footprint") is not None:
            continue
        out[i] = {**row, "geom": old["geom"], "footprint": old["footprint"]}
        checked.append((row["id"], point, old["footprint"]))
    return out, _outside(checked)


def _outside(checked: list[tuple[str, Any, Any]]) -> list[Issue]:
    """Report lines of the (id, file point, stored footprint) whose point lies over
    :data:`MOVED_M` m outside the footprint (measured in a metric CRS of the points)."""
    if not checked:
        return []
    ids = np.array([b for b, _, _ in checked], dtype=object)
    points = shapes_from_wkb(p for _, p, _ in checked)
    footprints = shapes_from_wkb(f for _, _, f in checked)
    out = ~shapely.covers(footprints, points)
    if not out.any():
        return []
    near = gpd.GeoSeries(points[out], crs=STORAGE_CRS)
    crs = projected_crs_for(near)
    metres = near.to_crs(crs).distance(gpd.GeoSeries(footprints[out], crs=STORAGE_CRS).to_crs(crs),
                                       align=False).to_numpy()  # fmt: skip
    far = metres > MOVED_M
    return [_moved(str(b), d) for b, d in zip(ids[out][far], metres[far], strict=True)]
