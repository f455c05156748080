"""gridmap: community grid mapping (社区网格化服务管理).

A pure library: geopandas, shapely and pyproj in, GeoDataFrames out; no web server or database.
"""

from __future__ import annotations

from gridmap.errors import (
    CRSError,
    DuplicateIdError,
    GridmapError,
    InfeasiblePartitionError,
    InputError,
    InvalidGeometryError,
)

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "DuplicateIdError",
    "GridmapError",
    "InfeasiblePartitionError",
    "InputError",
    "InvalidGeometryError",
    "__version__",
]
