"""Cross-layer checks run after the attach chain: report lines only, nothing is changed.

* a building outside every community polygon;
* a building footprint crossing a street centre line;
* a building whose given household count differs from the household records attached to it
  (unless households already reported explain the difference);
* a household whose floor or unit exceeds its building's ``floors`` or ``units``.

Grid tiling and community overlaps are in :mod:`gridmap.attach.coverage`.
"""

from __future__ import annotations

from collections.abc import Collection

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.attach.report import Issue, record_labels
from gridmap.crs import check_same_crs, projected_crs_for
from gridmap.schema import BUILDING, GRID, HOUSEHOLD
from gridmap.streets import street_names

__all__ = [
    "buildings_outside_communities",
    "buildings_crossing_streets",
    "household_count_mismatches",
    "dwelling_out_of_range",
    "grids_of_unknown_communities",
    "STREET_EDGE_M",
]

STREET_EDGE_M = 0.5
"""A street centre line must run deeper than this (m) into a footprint to count as crossing it."""


def buildings_outside_communities(
    buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame
) -> list[Issue]:
    """One issue per located building that intersects no community polygon."""
    present = buildings.geometry.notna() & ~buildings.geometry.is_empty
    geoms = buildings.geometry[present].to_numpy()
    hit, _ = communities.sindex.query(geoms, predicate="intersects")
    outside = buildings.index[present][~pd.Index(range(len(geoms))).isin(hit)]
    labels = record_labels(buildings, BUILDING)
    return [Issue.of("building", labels[i], "outside_communities") for i in outside]


def buildings_crossing_streets(
    buildings: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, *, edge_m: float = STREET_EDGE_M
) -> list[Issue]:
    """One issue per building footprint whose interior a street centre line runs through.

    A street within ``edge_m`` metres inside a footprint's edge is not a crossing (digitising
    noise); point buildings are skipped. Measured in :func:`gridmap.crs.projected_crs_for`.

    Examples
    --------
    >>> from shapely import LineString, box
    >>> x, y = 500_000, 3_067_000  # Tongren, EPSG:4545
    >>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2"]}, crs=4545,
    ...                      geometry=[box(x, y, x + 10, y + 10), box(x + 20, y, x + 30, y + 10)])
    >>> line = LineString([(x + 5, y - 5), (x + 5, y + 15), (x + 20, y + 15), (x + 20, y)])
    >>> s = gpd.GeoDataFrame({"street_id": ["S1"], "name": ["环城北路"]}, crs=4545, geometry=[line])
    >>> [(i.record_id, i.detail) for i in buildings_crossing_streets(b, s)]
    [('B1', 'footprint crossed by street 环城北路')]
    """
    check_same_crs(buildings, streets, names=["buildings", "streets"])
    polygonal = buildings.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polygonal.any() or streets.empty:
        return []
    crs = projected_crs_for(buildings.loc[polygonal])
    # Eroded footprints: a centre line along an edge (or clipping it by centimetres after a
    # change of CRS) is not a crossing.
    geoms = shapely.buffer(buildings.geometry[polygonal].to_crs(crs).to_numpy(), -edge_m)
    lines = streets.geometry.to_crs(crs).to_numpy()
    b_idx, s_idx = shapely.STRtree(lines).query(geoms, predicate="intersects")
    labels = record_labels(buildings, BUILDING).to_numpy()[polygonal]
    names = street_names(streets, ids=True)
    assert names is not None  # None only for a missing or bare GeoSeries street layer
    pairs = pd.DataFrame({"b": b_idx, "name": names[s_idx], "row": s_idx + 1})
    return [
        Issue.of("building", labels[b], "crosses_street",
                 names=sorted(set(group["name"]) - {""}),
                 rows=sorted({int(r) for r in group.loc[group["name"] == "", "row"]}))
        for b, group in pairs.groupby("b", sort=True)
    ]  # fmt: skip


def household_count_mismatches(
    given: pd.Series,
    buildings: pd.DataFrame,
    households: pd.DataFrame,
    *,
    reported: Collection[str] = (),
) -> list[Issue]:
    """Buildings whose given count (``given``, aligned on ``buildings``) ≠ records attached.

    ``reported`` are ids of households already in the report (attached to the nearest building,
    floor out of range …). A building is not reported when its given count lies between the
    count of its unreported households and the count of all its households: the difference may
    be those households' doing, and they are already listed.
    """
    attached = households.loc[households["building_id"].notna()]
    doubtful = attached["household_id"].isin(set(reported))
    all_counted = buildings["building_id"].map(attached.groupby("building_id").size()).fillna(0)
    sure = attached.loc[~doubtful].groupby("building_id").size()
    sure_counted = buildings["building_id"].map(sure).fillna(0)
    bad = given.notna() & ((given < sure_counted) | (given > all_counted))
    labels = record_labels(buildings, BUILDING)
    return [
        Issue.of("building", labels[i], "count_mismatch", given=int(given[i]),
                 attached=int(all_counted[i]))
        for i in buildings.index[bad]
    ]  # fmt: skip


def dwelling_out_of_range(households: pd.DataFrame, buildings: pd.DataFrame) -> list[Issue]:
    """Households whose ``floor``/``unit`` number exceeds the building's ``floors``/``units``."""
    issues: list[Issue] = []
    labels = record_labels(households, HOUSEHOLD)
    by_id = buildings.set_index("building_id")
    for col, limit in (("floor", "floors"), ("unit", "units")):
        if col not in households or limit not in by_id:
            continue
        value = pd.to_numeric(households[col], errors="coerce")
        cap = pd.to_numeric(households["building_id"].map(by_id[limit]), errors="coerce")
        bad = value.notna() & cap.notna() & (value > cap)
        issues += [
            Issue.of("household", labels[i], "out_of_range", column=col, value=int(value[i]),
                     limit=limit, cap=int(cap[i]))
            for i in households.index[bad]
        ]  # fmt: skip
    return issues


def grids_of_unknown_communities(grids: pd.DataFrame, communities: pd.DataFrame) -> list[Issue]:
    """Grids whose ``community_code`` is not among ``communities``."""
    known = set(communities["community_code"].dropna())
    code = grids["community_code"]
    bad = ~code.isin(known)
    return [
        Issue.of("grid", g, "unknown_community", community_code=c)
        for g, c in zip(record_labels(grids, GRID)[bad], code[bad], strict=True)
    ]
