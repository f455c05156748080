"""Links that files leave out, made by location: each record's community and compound.

Offices' building files often have no community column (社区) and no compound column (小区);
GeoJSON from OpenStreetMap never has them. These functions fill a missing ``community_code``
or ``compound_id`` from where the record lies:

* a building goes to the polygon containing its point (a footprint's representative point);
* a compound (polygon) goes to the community holding most of its area;
* a street (line) goes to the community holding most of its length.

Ties (a point on a shared edge, equal shares) go to the lowest code. Areas and lengths are
measured in :func:`gridmap.crs.projected_crs_for`. Links given in the file are never changed.
Records needing a link that lie in no polygon keep an empty link and become report lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.attach.report import Issue, record_labels
from gridmap.crs import check_same_crs, projected_crs_for
from gridmap.schema import BUILDING, COMPOUND, STREET, Entity

__all__ = ["LinkResult", "best_target", "blank_as_none", "link_community", "link_compound",
           "missing_links"]  # fmt: skip

_ENTITIES: dict[str, Entity] = {"building": BUILDING, "compound": COMPOUND, "street": STREET}
_AREAL, _LINEAR = (3, 6), (1, 2, 5)  # shapely type ids: (Multi)Polygon; (Multi)LineString, ring


@dataclass
class LinkResult:
    """A frame with a link column filled by location, how many were linked, the report lines."""

    frame: gpd.GeoDataFrame
    linked: int = 0
    issues: list[Issue] = field(default_factory=list)


def missing_links(frame: pd.DataFrame, column: str) -> pd.Series:
    """True for records whose ``column`` is absent or empty (what linking may fill)."""
    if column not in frame:
        return pd.Series(True, index=frame.index)
    values = frame[column]
    blank = values.astype("string").str.strip().eq("").fillna(False).astype(bool)
    return values.isna() | blank


def blank_as_none(frame: pd.DataFrame, column: str) -> pd.Series:
    """``column`` of ``frame`` as objects, its blank values (:func:`missing_links`) as None; an
    absent column as all None."""
    if column not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    return frame[column].astype(object).where(~missing_links(frame, column), None)


def link_community(
    frame: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, entity: str
) -> LinkResult:
    """Fill a missing ``community_code`` of buildings, compounds or streets by location.

    Parameters
    ----------
    frame : GeoDataFrame
        Buildings (points or footprints), compounds (polygons) or streets (lines).
    communities : GeoDataFrame
        ``community_code`` and polygon geometry (those of the import and/or the store).
    entity : {"building", "compound", "street"}

    Returns
    -------
    LinkResult
        The frame with ``community_code`` filled where it was missing; one report line per
        record needing a community that lies in none (``"outside communities"``) or has no
        geometry (``"not located"``).

    Examples
    --------
    >>> from shapely import Point, box
    >>> com = gpd.GeoDataFrame({"community_code": ["520602001001", "520602001002"]},
    ...                        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    >>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2", "B3"]},
    ...                      geometry=[Point(0.5, 0.5), Point(1.5, 0.5), Point(5, 5)], crs=4326)
    >>> out = link_community(b, com, "building")
    >>> out.frame["community_code"].tolist(), out.linked, [i.reason for i in out.issues]
    (['520602001001', '520602001002', None], 2, ['outside communities'])
    """
    return _link(frame, communities, entity, "community_code", "communities")


def link_compound(buildings: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame) -> LinkResult:
    """Fill a missing ``compound_id`` of buildings with the compound containing their point.

    Compounds without a polygon are skipped. A building in no compound keeps an empty
    ``compound_id`` without a report line: many buildings stand outside any compound (散居楼).
    """
    polygons = compounds[geometry_present(compounds)]
    result = _link(buildings, polygons, "building", "compound_id", "compounds")
    result.issues = []
    return result


def _link(
    frame: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, entity: str, column: str, targets_name: str
) -> LinkResult:
    ent = _ENTITIES[entity]
    todo = missing_links(frame, column)
    out = frame.copy()
    out[column] = blank_as_none(frame, column)
    if not todo.any():
        return LinkResult(out)
    present = geometry_present(frame)
    located = todo & present
    found = pd.Series(None, index=frame.index, dtype=object)
    if located.any() and len(targets):
        check_same_crs(frame, targets, names=[f"{entity}s", targets_name])
        found[located] = best_target(frame.geometry[located], targets, column, entity)
    filled = out[column].where(~todo, found).astype(object)
    out[column] = filled.where(filled.notna(), None)
    labels = record_labels(frame, ent)
    outside = located & found.isna()
    issues = [
        Issue.of(entity, i, "outside_targets", column=column, targets=targets_name)
        for i in labels[outside]
    ] + [
        Issue.of(entity, i, "not_located", column=column) for i in labels[todo & ~present]
    ]  # fmt: skip
    return LinkResult(out, int(found.notna().sum()), issues)


def best_target(
    geoms: gpd.GeoSeries, targets: gpd.GeoDataFrame, column: str, entity: str
) -> np.ndarray:
    """Code of the target holding each geometry: by point, or by largest area / length share.

    Both sides are made valid first (a bow-tie polygon would make the intersection a GEOS
    error); the share is measured by the kind each geometry was given as.
    """
    crs = projected_crs_for(targets)
    areas = targets[[column, targets.geometry.name]].to_crs(crs).reset_index(drop=True)
    shapes = geoms.to_crs(crs).to_numpy()
    kinds = shapely.get_type_id(shapes)
    if entity == "building":  # a footprint counts where its representative point is
        shapes = np.where(np.isin(kinds, _AREAL), shapely.point_on_surface(shapes), shapes)
    valid = shapely.make_valid(shapes)
    polygons = shapely.make_valid(areas.geometry.to_numpy())
    g_idx, t_idx = shapely.STRtree(polygons).query(valid, predicate="intersects")
    parts = shapely.intersection(valid[g_idx], polygons[t_idx])
    kind = pd.Series(shapely.get_type_id(shapes[g_idx]))
    share = np.where(
        kind.isin(_AREAL), shapely.area(parts),
        np.where(kind.isin(_LINEAR), shapely.length(parts), 1.0),
    )  # fmt: skip
    return largest_share(g_idx, areas[column].to_numpy()[t_idx], share, len(shapes))


def largest_share(rows: np.ndarray, codes: np.ndarray, share: np.ndarray, n: int) -> np.ndarray:
    """For each of ``n`` records, the code it shares most with (ties: the lowest code).

    The pair ``i`` is record ``rows[i]``, code ``codes[i]`` and ``share[i]`` (an area, a length,
    or 1.0 for a point inside); a record without a positive share gets ``None``.
    """
    pairs = pd.DataFrame({"row": rows, "code": codes, "share": share})
    pairs = pairs[pairs["share"] > 0].sort_values(
        ["row", "share", "code"], ascending=[True, False, True]
    )
    first = pairs.drop_duplicates("row")
    best = np.full(n, None, dtype=object)
    best[first["row"].to_numpy()] = first["code"].to_numpy()
    return best


def geometry_present(frame: pd.DataFrame) -> pd.Series:
    """True for records with a geometry that is not empty (all False for a plain frame)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return pd.Series(False, index=frame.index)
    return frame.geometry.notna() & ~frame.geometry.is_empty
