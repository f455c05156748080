"""Pydantic response models: OGC API – Features documents and the lookup answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CRS84",
    "CONFORMANCE_CLASSES",
    "Link",
    "LandingPage",
    "Conformance",
    "SpatialExtent",
    "Extent",
    "Collection",
    "Collections",
    "Feature",
    "FeatureCollection",
    "StaffOut",
    "LookupOut",
]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
_TMS = "http://www.opengis.net/spec/tms/2.0/conf"
CONFORMANCE_CLASSES = [
    *(f"{_CONF}/{c}" for c in ("core", "oas30", "html", "geojson")),
    *(f"{_TILES}/{c}" for c in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt")),
    *(f"{_TMS}/{c}" for c in ("tilematrixset", "json-tilematrixset")),
]
"""OGC API – Features (Core, OpenAPI 3.0, HTML, GeoJSON) and – Tiles (vector tiles, MVT)."""


class Link(BaseModel):
    """A link of an OGC API document."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    """The landing page (``/``)."""

    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """The conformance declaration (``/conformance``)."""

    conformsTo: list[str]


class SpatialExtent(BaseModel):
    """Spatial extent in CRS84."""

    bbox: list[list[float]]
    crs: str = CRS84


class Extent(BaseModel):
    """Extent of a collection."""

    spatial: SpatialExtent


class Collection(BaseModel):
    """One feature collection (``/collections/{collectionId}``)."""

    id: str
    title: str
    description: str
    links: list[Link]
    extent: Extent
    itemType: str = "feature"
    crs: list[str] = Field(default_factory=lambda: [CRS84])


class Collections(BaseModel):
    """All collections (``/collections``)."""

    links: list[Link]
    collections: list[Collection]


class Feature(BaseModel):
    """A GeoJSON feature (RFC 7946, lon/lat)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Feature"]
    id: str | int | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None


class FeatureCollection(BaseModel):
    """A page of features (``/collections/{collectionId}/items``)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection"]
    features: list[Feature]
    links: list[Link] = Field(default_factory=list)
    numberMatched: int | None = None
    numberReturned: int | None = None
    timeStamp: str | None = None


class StaffOut(BaseModel):
    """A grid staff member as shown publicly (no phone)."""

    name: str
    role: str | None  # null when the roster's role was not recognised


class LookupOut(BaseModel):
    """The community and grid at a point, and the grid's staff (事在格中办)."""

    lon: float
    lat: float
    community: Feature
    grid: Feature | None
    staff: list[StaffOut]
