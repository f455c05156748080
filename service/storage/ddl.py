"""Column definitions the Alembic migrations share (``service/storage/alembic/versions``).

One spelling for the columns they declare again and again; each builds the very column the
migrations spelled out before (the DDL of a migrated store is unchanged, on both backends). Only
SQLAlchemy and GeoAlchemy2: a migration must not depend on the models as they are today.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry

__all__ = ["SRID", "serial_id", "timestamp", "reference", "geometry"]

SRID = 4326
"""The spatial reference of every geometry column (WGS 84 / CGCS2000 longitude, latitude)."""


def serial_id() -> sa.Column[Any]:
    """``id``: an auto-incremented integer primary key."""
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def timestamp(name: str, **kw: Any) -> sa.Column[Any]:
    """A date and time with its time zone."""
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def reference(
    name: str, type_: Any, target: str, *, cascade: bool = False, **kw: Any
) -> sa.Column[Any]:
    """A column referencing ``target`` (``table.column``); with ``cascade`` its rows are deleted
    with the row they reference."""
    key = sa.ForeignKey(target, ondelete="CASCADE") if cascade else sa.ForeignKey(target)
    return sa.Column(name, type_, key, **kw)


def geometry(kind: str, *, nullable: bool, name: str = "geom") -> sa.Column[Any]:
    """A geometry column of ``kind`` (``POINT``, ``MULTIPOLYGON`` …) with a spatial index."""
    return sa.Column(
        name, Geometry(geometry_type=kind, srid=SRID, spatial_index=True), nullable=nullable
    )
