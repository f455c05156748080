"""Features, pages and the spatial SQL shared by the read-side queries.

Geometry leaves the database either as GeoJSON text (``ST_AsGeoJSON``: fast paging for OGC API –
Features and downloads) or as shapely geometries (for maps, which simplify and shift them).
A bbox filter is ``ST_Intersects`` on PostGIS (which uses the GiST index) and, on SpatiaLite, a
lookup in its R*Tree (``SpatialIndex`` virtual table) plus ``ST_Intersects``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Select,
    and_,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy import column as sql_column
from sqlalchemy.orm import Session

from service.storage.models import SRID

__all__ = [
    "GEOJSON_PRECISION",
    "Feature",
    "FeaturePage",
    "validate_bbox",
    "is_sqlite",
    "bbox_clause",
    "geometry_out",
    "geometry_value",
    "fetch_page",
]

GEOJSON_PRECISION = 7
"""Decimal places of lon/lat in GeoJSON output (1e-7 degrees is about 1 cm)."""


@dataclass(frozen=True)
class Feature:
    """One feature: its id, geometry (GeoJSON text or shapely) and public properties."""

    id: str
    geometry: Any
    properties: dict[str, Any]


@dataclass(frozen=True)
class FeaturePage:
    """A page of features and the number of features matching the filter."""

    features: list[Feature]
    number_matched: int
    limit: int | None = None
    offset: int = 0


# --------------------------------------------------------------------------- helpers


def validate_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    """Return ``bbox`` as ``(minx, miny, maxx, maxy)`` lon/lat, or raise :class:`ValueError`.

    Six numbers (3-D boxes) are accepted and their heights dropped, as OGC API – Features allows.
    """
    values = [float(v) for v in bbox]
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4:
        raise ValueError(f"bbox needs 4 numbers minx,miny,maxx,maxy; got {len(values)}.")
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValueError(f"bbox {values} is not lon/lat (CRS84) within -180..180, -90..90.")
    if minx > maxx:
        raise ValueError(f"bbox {values} crosses the antimeridian (minx > maxx): not supported.")
    return minx, miny, maxx, maxy


def is_sqlite(session: Session) -> bool:
    """Whether ``session`` is bound to SpatiaLite (else PostGIS)."""
    return session.get_bind().dialect.name == "sqlite"


def _envelope(bbox: Sequence[float]) -> ColumnElement[Any]:
    minx, miny, maxx, maxy = bbox
    wkt = f"POLYGON(({minx} {miny},{maxx} {miny},{maxx} {maxy},{minx} {maxy},{minx} {miny}))"
    return func.ST_GeomFromText(wkt, SRID)


def bbox_clause(session: Session, geom: Any, bbox: Sequence[float]) -> ColumnElement[bool]:
    """Rows whose ``geom`` intersects ``bbox``, using the spatial index on both backends."""
    exact = func.ST_Intersects(geom, _envelope(bbox))
    if not is_sqlite(session):
        return exact
    minx, miny, maxx, maxy = bbox
    spatial_index = table(
        "SpatialIndex",
        sql_column("rowid"),
        sql_column("f_table_name"),
        sql_column("f_geometry_column"),
        sql_column("search_frame"),
    )
    candidates = select(spatial_index.c.rowid).where(
        spatial_index.c.f_table_name == geom.table.name,
        spatial_index.c.f_geometry_column == geom.name,
        spatial_index.c.search_frame == func.BuildMbr(minx, miny, maxx, maxy, SRID),
    )
    rowid: ColumnClause[int] = literal_column(f"{geom.table.name}.rowid")
    return and_(rowid.in_(candidates.scalar_subquery()), exact == 1)


def geometry_out(geom: Any, as_geojson: bool) -> Any:
    """``geom`` as GeoJSON text (7 decimals) or as it is stored."""
    return func.ST_AsGeoJSON(geom, GEOJSON_PRECISION) if as_geojson else geom


def geometry_value(value: Any, as_geojson: bool) -> Any:
    """A selected geometry as GeoJSON text or a shapely geometry."""
    if value is None:
        return None
    if as_geojson:
        return value
    return to_shape(value) if not isinstance(value, BaseGeometry) else value


def fetch_page(
    session: Session,
    stmt: Select[Any],
    order_by: Any,
    limit: int | None,
    offset: int,
) -> tuple[list[Any], int]:
    """Run one page of ``stmt`` and count all matches in the same query (``count(*) OVER ()``)."""
    paged = stmt.add_columns(func.count().over()).order_by(order_by).offset(offset)
    if limit is not None:
        paged = paged.limit(limit)
    rows = session.execute(paged).all()
    if rows:
        return [row[:-1] for row in rows], int(rows[0][-1])
    if offset == 0:
        return [], 0
    matched = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    return [], matched
