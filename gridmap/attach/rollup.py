"""Roll counts up the attach chain: households per building; households, persons per grid.

Pure functions on the frames returned by :mod:`gridmap.attach.chain`.
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

    Buildings without ``grid_code`` (see :func:`gridmap.attach_buildings`) count in no
    grid; a building whose household count is unknown (not given, no household records) adds 0.
    Grid counts are recomputed from the buildings, replacing counts the grid file carried.
    """
    buildings = buildings.copy()
    given = buildings.get("households", pd.NA)
    buildings["households"] = pd.Series(given, index=buildings.index).astype("Int64")
    if households is not None:
        per_building = households.groupby("building_id").size()
        counted = buildings["building_id"].map(per_building).fillna(0).astype("Int64")
        buildings["households"] = buildings["households"].fillna(counted)
    if grids is None or "grid_code" not in buildings:
        return buildings, grids, communities
    grids = grids.copy()
    in_grid = buildings[buildings["grid_code"].notna()]
    by_grid = in_grid.groupby("grid_code")
    codes = grids["grid_code"]
    grids["households"] = codes.map(by_grid["households"].sum()).fillna(0).astype("Int64")
    grids["buildings"] = codes.map(by_grid.size()).fillna(0).astype("Int64")
    if persons is not None and households is not None:
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
