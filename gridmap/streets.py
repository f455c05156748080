"""Street names for messages: each street's ``name``, ``street_name`` or ``street_id``."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["STREET_NAME_COLUMNS", "street_names"]

STREET_NAME_COLUMNS = ("name", "street_name", "street_id")
"""Columns a street's name is read from, first filled one wins."""


def street_names(streets: gpd.GeoDataFrame | gpd.GeoSeries | None) -> np.ndarray | None:
    """Per street the first filled column of :data:`STREET_NAME_COLUMNS` (``""`` if none).

    ``None`` when ``streets`` is missing or a bare GeoSeries.

    Examples
    --------
    >>> import shapely
    >>> s = gpd.GeoDataFrame({"name": ["中山路", None], "street_id": ["S1", "S2"]},
    ...                      geometry=[shapely.LineString([(0, 0), (1, 0)])] * 2)
    >>> street_names(s).tolist()
    ['中山路', 'S2']
    """
    if streets is None or not isinstance(streets, gpd.GeoDataFrame):
        return None
    columns = [c for c in STREET_NAME_COLUMNS if c in streets.columns]
    names = []
    for row in streets[columns].itertuples(index=False):
        filled = [str(v) for v in row if not pd.isna(v) and str(v) != ""]
        names.append(filled[0] if filled else "")
    return np.array(names, dtype=object)
