"""Check and repair the geometries of one layer, record by record (split from gridmap.validate).

* a geometry of the wrong kind (a point given for a grid) → fatal: the file is not that layer;
* an empty or missing geometry where the entity requires one (community, grid, street, compound)
  → the record is rejected: left out, one report line;
* an invalid geometry that :func:`shapely.make_valid` repairs with an area (or length) change of
  at most :data:`MAX_REPAIR_AREA_CHANGE` → kept repaired, a report line and a UserWarning;
* an invalid geometry whose repair would change it more (a bow-tie ring) → the record is rejected.

Records depending on a rejected one (households of a rejected building) are reported by the
attach chain as unattached.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.attach.report import Issue, record_labels
from gridmap.io.readerrors import read_error
from gridmap.schema import Entity, get_entity

__all__ = ["MAX_REPAIR_AREA_CHANGE", "REJECTED_REASONS", "GeometryRepairWarning",
           "repair_geometries", "rejected_ids"]  # fmt: skip

MAX_REPAIR_AREA_CHANGE = 0.01
"""A repair changing a polygon's area (or a line's length) by more than 1 % is refused."""

REJECTED_REASONS = ("missing geometry", "invalid geometry", "duplicate footprint")
"""Report reasons of records left out by :func:`repair_geometries` and, for a building drawn
twice, by :func:`gridmap.attach.validate.drop_duplicate_footprints` (their households are
reported as of a building left out)."""


class GeometryRepairWarning(UserWarning):
    """Invalid geometries were repaired; each is a report line too (``"geometry repaired"``),
    so the commands print the report, not the warning."""


_GEOMETRY_TYPES = {
    "polygon": {"Polygon", "MultiPolygon"},
    "line": {"LineString", "MultiLineString"},
    "point": {"Point"},
    "point-or-polygon": {"Point", "Polygon", "MultiPolygon"},
}


def repair_geometries(
    frame: gpd.GeoDataFrame, entity: str | Entity
) -> tuple[gpd.GeoDataFrame, list[Issue]]:
    """Reject missing (where required) and irreparable geometries, repair the others.

    Parameters
    ----------
    frame : GeoDataFrame
        One layer with canonical columns.
    entity : str or Entity
        Which layer it is.

    Returns
    -------
    frame : GeoDataFrame
        The records kept (repaired where needed), in input order.
    issues : list of Issue
        One per rejected or repaired record (reasons ``"missing geometry"``,
        ``"invalid geometry"``, ``"geometry repaired"``).

    Raises
    ------
    InvalidGeometryError
        Naming the records whose geometry is of the wrong kind for the layer.

    Warns
    -----
    UserWarning
        Naming the records that were repaired.
    """
    ent = get_entity(entity)
    labels = record_labels(frame, ent)
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    allowed = _GEOMETRY_TYPES[ent.geometry or "point-or-polygon"]
    wrong = ~missing & ~frame.geom_type.isin(list(allowed)).to_numpy()
    if wrong.any():
        ids = [str(v) for v in labels[wrong]]
        raise read_error("wrong_geometry_kind", file=str(frame.attrs.get("source") or ""),
                         entity=ent.name, ids=ids[:20], n=len(ids),
                         allowed=sorted(allowed))  # fmt: skip
    issues: list[Issue] = []
    reject = np.zeros(len(frame), dtype=bool)
    if ent.geometry_required:
        reject |= missing
        issues += [Issue.of(ent.name, i, "missing_geometry") for i in labels[missing]]
    invalid = ~missing & ~shapely.is_valid(geoms)
    out = frame
    if invalid.any():
        out, found, bad = _repair(frame, invalid, labels, ent)
        issues += found
        reject |= bad
    return out.loc[~reject], issues


def rejected_ids(issues: Iterable[Issue], entity: str) -> set[str]:
    """Ids of ``entity`` records that :func:`repair_geometries` left out, from its issues."""
    return {i.record_id for i in issues if i.entity == entity and i.reason in REJECTED_REASONS}


def _repair(
    frame: gpd.GeoDataFrame, invalid: np.ndarray, labels: pd.Series, ent: Entity
) -> tuple[gpd.GeoDataFrame, list[Issue], np.ndarray]:
    """Repair ``invalid`` records; return the frame, issues and a mask of records to reject."""
    before = frame.geometry.to_numpy()[invalid]
    # "structure" keeps polygons polygonal (no stray lines); the relative area change barely
    # depends on the CRS for features of building or grid size, so lon/lat is fine here.
    after = shapely.make_valid(before, method="structure", keep_collapsed=False)
    change = _relative_change(before, after)
    bad = change > MAX_REPAIR_AREA_CHANGE
    ids = labels[invalid]
    reasons = [re.sub(r"\[.*\]", "", r) for r in shapely.is_valid_reason(before)]
    if (~bad).any():
        warnings.warn(
            f"Repaired invalid geometry of {ent.name}(s) {_ids(ids[~bad])} with make_valid.",
            GeometryRepairWarning,
            stacklevel=4,
        )
    line = ent.geometry == "line"
    issues = [
        Issue.of(ent.name, i, "invalid_geometry", why=r, change=float(c),
                 limit=MAX_REPAIR_AREA_CHANGE, line=line)
        if b else
        Issue.of(ent.name, i, "geometry_repaired", why=r, change=float(c), line=line)
        for i, r, c, b in zip(ids, reasons, change, bad, strict=True)
    ]  # fmt: skip
    out = frame.copy()
    out.loc[invalid, out.geometry.name] = after
    reject = np.zeros(len(frame), dtype=bool)
    reject[np.flatnonzero(invalid)[bad]] = True
    return out, issues, reject


def _relative_change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Relative change of area (polygons) or length (lines); infinite if a size was zero.

    The area of an invalid ring is its shoelace area as drawn, so a bow-tie whose lobes cancel
    has area ~0 before repair and is refused.
    """
    polygonal = np.isin(shapely.get_type_id(before), (3, 6))  # Polygon, MultiPolygon
    size_before = np.where(polygonal, shapely.area(before), shapely.length(before))
    size_after = np.where(polygonal, shapely.area(after), shapely.length(after))
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.abs(size_after - size_before) / size_before
    return np.where(np.isfinite(change), change, np.inf)


def _ids(labels: pd.Series, limit: int = 20) -> str:
    items = [str(v) for v in labels]
    return ", ".join(items[:limit]) + (f" … ({len(items)} in all)" if len(items) > limit else "")
