"""Cross-layer checks run after the attach chain: report lines only, nothing is changed.

* a building outside every community polygon;
* a building whose given household count differs from the household records attached to it;
* a household whose floor or unit exceeds its building's ``floors`` or ``units``.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gridmap.report import Issue
from gridmap.schema import BUILDING, HOUSEHOLD
from gridmap.validate import record_labels

__all__ = ["buildings_outside_communities", "household_count_mismatches", "dwelling_out_of_range"]


def buildings_outside_communities(
    buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame
) -> list[Issue]:
    """One issue per located building that intersects no community polygon."""
    present = buildings.geometry.notna() & ~buildings.geometry.is_empty
    geoms = buildings.geometry[present].to_numpy()
    hit, _ = communities.sindex.query(geoms, predicate="intersects")
    outside = buildings.index[present][~pd.Index(range(len(geoms))).isin(hit)]
    labels = record_labels(buildings, BUILDING)
    return [
        Issue("building", str(labels[i]), "outside communities", "building lies in no community")
        for i in outside
    ]


def household_count_mismatches(
    given: pd.Series, buildings: pd.DataFrame, households: pd.DataFrame
) -> list[Issue]:
    """Buildings whose given count (``given``, aligned on ``buildings``) ≠ records attached."""
    counted = buildings["building_id"].map(households.groupby("building_id").size()).fillna(0)
    bad = given.notna() & (given != counted)
    labels = record_labels(buildings, BUILDING)
    return [
        Issue("building", str(labels[i]), "household count mismatch",
              f"households says {given[i]} but {int(counted[i])} household record(s) attached")
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
            Issue("household", str(labels[i]), f"{col} out of range",
                  f"{col} {int(value[i])} above the building's {limit} ({int(cap[i])})")
            for i in households.index[bad]
        ]  # fmt: skip
    return issues
