"""Roll counts up the attach chain: households per building; households, persons per grid.

Pure functions on the frames returned by :mod:`gridmap.attach`.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["roll_up_counts"]


def roll_up_counts(
    buildings: pd.DataFrame,
    grids: pd.DataFrame | None = None,
    *,
    households: pd.DataFrame | None = None,
    persons: pd.DataFrame | None = None,
    communities: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Count households and persons up the chain.

    * ``buildings.households``: where missing, the number of attached household records;
    * ``grids.households`` (sum over its buildings), ``grids.buildings``, ``grids.persons``
      (persons whose household lies in a building of the grid; missing without persons);
    * ``communities`` gain ``grids``, ``buildings``, ``households`` and ``persons`` summed
      over their grids.

    Buildings without ``grid_code`` (see :func:`gridmap.attach.attach_buildings`) count in no grid.
    """
    buildings = buildings.copy()
    if households is not None:
        per_building = households.groupby("building_id").size()
        counted = buildings["building_id"].map(per_building).fillna(0).astype("Int64")
        current = buildings.get("households", pd.Series(pd.NA, index=buildings.index))
        buildings["households"] = pd.array(current, dtype="Int64").copy()
        buildings["households"] = buildings["households"].fillna(counted)
    if grids is None:
        return buildings, None, communities
    grids = grids.copy()
    in_grid = buildings[buildings["grid_code"].notna()] if "grid_code" in buildings else None
    by_grid = in_grid.groupby("grid_code") if in_grid is not None else None
    codes = grids["grid_code"]
    if by_grid is not None:
        grids["households"] = codes.map(by_grid["households"].sum()).fillna(0).astype("Int64")
        grids["buildings"] = codes.map(by_grid.size()).fillna(0).astype("Int64")
    if persons is not None and households is not None and in_grid is not None:
        hh_grid = households["building_id"].map(in_grid.set_index("building_id")["grid_code"])
        person_grid = persons["household_id"].map(
            pd.Series(hh_grid.to_numpy(), index=households["household_id"].to_numpy())
        )
        grids["persons"] = codes.map(person_grid.value_counts()).fillna(0).astype("Int64")
    if communities is not None:
        communities = _roll_up_communities(communities, grids)
    return buildings, grids, communities


def _roll_up_communities(communities: pd.DataFrame, grids: pd.DataFrame) -> pd.DataFrame:
    communities = communities.copy()
    by_community = grids.groupby("community_code")
    codes = communities["community_code"]
    communities["grids"] = codes.map(by_community.size()).fillna(0).astype("Int64")
    for col in ("buildings", "households", "persons"):
        if col in grids:
            totals = by_community[col].sum(min_count=1)
            communities[col] = codes.map(totals).astype("Int64")
    return communities
