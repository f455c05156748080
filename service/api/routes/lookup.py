"""事在格中办: which community and grid is at a point, and who serves it."""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Query

from gridmap.coords import bd09_to_wgs84, gcj02_to_wgs84
from service.api.deps import SessionDep
from service.api.schemas import Feature, LookupOut, StaffOut
from service.storage.lookup import lookup_point
from service.storage.paging import Feature as StoredFeature

__all__ = ["router"]

router = APIRouter(tags=["Lookup"])


def _feature(feature: StoredFeature) -> Feature:
    geometry = json.loads(feature.geometry) if feature.geometry else None
    return Feature(type="Feature", id=feature.id, geometry=geometry, properties=feature.properties)


@router.get("/lookup", response_model=LookupOut, summary="Community and grid at a point")
def lookup(
    session: SessionDep,
    lon: float = Query(..., ge=-180, le=180, description="Longitude (WGS 84 / CGCS2000)"),
    lat: float = Query(..., ge=-90, le=90, description="Latitude"),
    offset: Literal["wgs84", "gcj02", "bd09"] = Query(
        "wgs84", description="Coordinates come from an AMap (gcj02) or Baidu (bd09) map"
    ),
) -> LookupOut:
    """The community and grid containing (lon, lat), with the grid's staff names and roles."""
    if offset == "gcj02":
        lon, lat = (float(v) for v in gcj02_to_wgs84(lon, lat))
    elif offset == "bd09":
        lon, lat = (float(v) for v in bd09_to_wgs84(lon, lat))
    found = lookup_point(session, lon=lon, lat=lat)
    return LookupOut(
        lon=lon,
        lat=lat,
        community=_feature(found.community),
        grid=_feature(found.grid) if found.grid else None,
        staff=[StaffOut(name=s.name, role=s.role) for s in found.staff],
    )
