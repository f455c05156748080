"""ORM model of the gridmap store (SQLAlchemy 2 typed declarative + GeoAlchemy2).

One schema for SpatiaLite and PostGIS. Geometries are stored in EPSG:4326 (lon/lat).

Keys: external identifiers from the offices' files are the primary keys (``community.code`` is
the 12-digit statistical code; ``building.id``, ``household.id``, ``person.id`` … are the ids of
the source files), so imports and API queries need no id mapping. Grids are versioned by plan:
``grid.id`` is a surrogate key and ``grid.code`` (15 digits) repeats across plans of a community.

Personal data (PIPL) lives only in ``person`` (and staff phone numbers): never log these columns,
never put them in a map or GeoJSON. ID numbers, phones and person tags are encrypted at rest
(:class:`service.storage.crypto.EncryptedString`); ``id_number_hash`` / ``phone_hash`` hold their
keyed hash for exact-match search, filled on INSERT (and on ORM updates).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.storage.base import Base
from service.storage.crypto import (
    EncryptedString,
    EncryptedText,
    hash_default,
    sync_hashes_on_update,
)

__all__ = [
    "Base",
    "SRID",
    "PLAN_STATUSES",
    "Community",
    "Compound",
    "Street",
    "Building",
    "Household",
    "Person",
    "Staff",
    "StaffGrid",
    "Plan",
    "Grid",
    "GridBuilding",
    "ImportRun",
    "TABLES_IN_LOAD_ORDER",
]

SRID = 4326
PLAN_STATUSES = ("draft", "published", "superseded")
"""A plan is drafted, published (at most one per community), then kept as superseded history."""


def _geom(kind: str) -> Any:
    return Geometry(geometry_type=kind, srid=SRID, spatial_index=True)


class Community(Base):
    """社区: a community with its 12-digit statistical code and boundary."""

    __tablename__ = "community"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    subdistrict: Mapped[str | None] = mapped_column(String(200))
    code_year: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(_geom("MULTIPOLYGON"), nullable=False)

    plans: Mapped[list[Plan]] = relationship(back_populates="community")

    __table_args__ = (CheckConstraint("length(code) = 12", name="ck_community_code_12"),)


class Compound(Base):
    """小区: a residential compound (optional polygon, property company)."""

    __tablename__ = "compound"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"), index=True)
    property_company: Mapped[str | None] = mapped_column(String(200))
    geom: Mapped[WKBElement | None] = mapped_column(_geom("MULTIPOLYGON"), nullable=True)


class Street(Base):
    """A street or other linear boundary (road, river, wall) used when drawing grids."""

    __tablename__ = "street"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # The community holding most of its length (informative: no foreign key, see 0004).
    community_code: Mapped[str | None] = mapped_column(String(12), index=True)
    # May it bound a grid? False for tunnels, covered ways … (gridmap.streets.boundary_mask).
    boundary: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    geom: Mapped[WKBElement] = mapped_column(_geom("MULTILINESTRING"), nullable=False)


class Building(Base):
    """A building: footprint polygon and/or point, household count, compound and community.

    ``geom`` is always a point (the given point, or a representative point of the footprint) so
    that every building can be placed; ``footprint`` is the polygon when one was given.
    ``households`` is the count given in the file, or derived from the household roster.
    """

    __tablename__ = "building"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str | None] = mapped_column(String(32))
    floors: Mapped[int | None] = mapped_column(Integer)
    units: Mapped[int | None] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    compound_id: Mapped[str | None] = mapped_column(ForeignKey("compound.id"), index=True)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"), index=True)
    geom: Mapped[WKBElement | None] = mapped_column(_geom("POINT"), nullable=True)
    footprint: Mapped[WKBElement | None] = mapped_column(_geom("MULTIPOLYGON"), nullable=True)


class Household(Base):
    """A household (户): building, unit/floor/room, head and size."""

    __tablename__ = "household"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    building_id: Mapped[str | None] = mapped_column(ForeignKey("building.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    unit: Mapped[str | None] = mapped_column(String(32))
    floor: Mapped[str | None] = mapped_column(String(32))
    room: Mapped[str | None] = mapped_column(String(32))
    # No foreign key: the head is a person of this household, loaded after it.
    head_person_id: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[WKBElement | None] = mapped_column(_geom("POINT"), nullable=True)


class Person(Base):
    """A person (人). Every column but the ids is personal data: never log or publish it."""

    __tablename__ = "person"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # NULL when the roster names a household that was not found (reported at import).
    household_id: Mapped[str | None] = mapped_column(ForeignKey("household.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(EncryptedString(255, "id_number"))
    id_number_hash: Mapped[str | None] = mapped_column(
        String(128), index=True, default=hash_default("id_number", "id_number")
    )
    phone: Mapped[str | None] = mapped_column(EncryptedString(255, "phone"))
    phone_hash: Mapped[str | None] = mapped_column(
        String(128), index=True, default=hash_default("phone", "phone")
    )
    sex: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    relationship: Mapped[str | None] = mapped_column(String(32))
    population_type: Mapped[str | None] = mapped_column(String(32))
    # Encrypted at rest, like ID numbers and phones: tags name health, hardship and special
    # populations (gridmap.privacy.SENSITIVE_TAGS). Counted in Python after decryption.
    tags: Mapped[str | None] = mapped_column(EncryptedText("tags"))


class Staff(Base):
    """Grid staff: 网格员, 网格长, party-group leader, 联户长, assistant."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # NULL when the roster's role was not recognised (cleared and reported at import).
    role: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(EncryptedString(255, "phone"))
    phone_hash: Mapped[str | None] = mapped_column(
        String(128), index=True, default=hash_default("phone", "phone")
    )
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"), index=True)


sync_hashes_on_update(Person, {"id_number_hash": ("id_number", "id_number"),
                               "phone_hash": ("phone", "phone")})  # fmt: skip
sync_hashes_on_update(Staff, {"phone_hash": ("phone", "phone")})


class StaffGrid(Base):
    """Many-to-many staff ↔ grid, by grid code (codes are stable across plans)."""

    __tablename__ = "staff_grid"

    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    grid_code: Mapped[str] = mapped_column(String(15), primary_key=True, index=True)


class Plan(Base):
    """One version of a community's grids: parameters, creation time, status.

    At most one plan per community is ``published`` (a partial unique index enforces it);
    publishing another marks the old one ``superseded``: it is kept, never overwritten.
    """

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    source: Mapped[str] = mapped_column(String(32), default="partition", server_default="partition")
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    community: Mapped[Community] = relationship(back_populates="plans")
    grids: Mapped[list[Grid]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Grid.code"
    )

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'superseded')", name="ck_plan_status"),
        Index(
            "uq_plan_one_published",
            "community_code",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )


class Grid(Base):
    """网格: a grid of one plan, with its 15-digit code and derived counts."""

    __tablename__ = "grid"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(15), index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="basic", server_default="basic")
    households: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    buildings: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    persons: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    geom: Mapped[WKBElement] = mapped_column(_geom("MULTIPOLYGON"), nullable=False)

    plan: Mapped[Plan] = relationship(back_populates="grids")

    __table_args__ = (
        UniqueConstraint("plan_id", "code", name="uq_grid_plan_code"),
        CheckConstraint("length(code) = 15", name="ck_grid_code_15"),
    )


class GridBuilding(Base):
    """The building → grid assignment of each plan (for minimal-change re-districting)."""

    __tablename__ = "grid_building"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True
    )
    building_id: Mapped[str] = mapped_column(ForeignKey("building.id"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id", ondelete="CASCADE"), index=True)


class ImportRun(Base):
    """One import: when, which files (names only), and the counts loaded (audit trail)."""

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sources: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)


TABLES_IN_LOAD_ORDER: tuple[str, ...] = (
    "community",
    "compound",
    "street",
    "building",
    "household",
    "person",
    "staff",
    "staff_grid",
    "plan",
    "grid",
    "grid_building",
    "import_run",
)
"""Table names in foreign-key order: load in this order, delete in reverse."""
