"""The declarative base of every gridmap table (no GeoAlchemy2 here).

The spatial tables are in :mod:`service.storage.models`; users and audit
(:mod:`service.storage.auth_models`) use this base without them, so a process that only manages
users loads neither GeoAlchemy2 nor shapely.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base"]


class Base(DeclarativeBase):
    """Declarative base of all gridmap tables."""
