"""The community and grid at a point with the grid's staff, and collection extents.

Staff appear only by name and role (never phones): what the public lookup (事在格中办) and map
tooltips show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from service.storage.errors import NotFoundError
from service.storage.features import COLLECTIONS, get_community, grid_feature, grid_statement
from service.storage.models import SRID, Building, Community, Grid, Plan, Staff, StaffGrid
from service.storage.paging import Feature, bbox_clause, is_sqlite

__all__ = [
    "StaffMember",
    "LookupResult",
    "PointPlace",
    "grid_staff",
    "locate_point",
    "lookup_point",
    "collection_extent",
]

_WORLD = (-180.0, -90.0, 180.0, 90.0)


@dataclass(frozen=True)
class StaffMember:
    """A staff member as shown publicly: name and role only (no phone)."""

    name: str
    role: str | None  # NULL when the roster's role was not recognised


@dataclass(frozen=True)
class LookupResult:
    """The community and grid at a point, and the grid's staff (事在格中办)."""

    community: Feature
    grid: Feature | None
    staff: list[StaffMember] = field(default_factory=list)


# --------------------------------------------------------------------------- staff & lookup


def grid_staff(session: Session, grid_codes: Sequence[str]) -> dict[str, list[StaffMember]]:
    """Staff names and roles per grid code (phones are never read)."""
    if not grid_codes:
        return {}
    rows = session.execute(
        select(StaffGrid.grid_code, Staff.name, Staff.role)
        .join(Staff, Staff.id == StaffGrid.staff_id)
        .where(StaffGrid.grid_code.in_(list(grid_codes)))
        .order_by(StaffGrid.grid_code, Staff.role, Staff.id)
    ).all()
    staff: dict[str, list[StaffMember]] = {code: [] for code in grid_codes}
    for code, name, role in rows:
        staff[code].append(StaffMember(name=name, role=role))
    return staff


@dataclass(frozen=True)
class PointPlace:
    """The community and published grid at a point, as keys (no geometry, no counts)."""

    community_code: str
    grid_code: str | None = None
    grid_id: int | None = None
    plan_id: int | None = None


def locate_point(session: Session, *, lon: float, lat: float) -> PointPlace:
    """The community and published grid containing ``(lon, lat)``: the rule of ``/lookup``.

    A point on the line between two communities or two grids goes to the lower code, always.
    Work orders are routed with it (:mod:`service.storage.orders`).

    Raises
    ------
    NotFoundError
        If no community contains the point.
    """
    point = func.ST_GeomFromText(f"POINT({float(lon)} {float(lat)})", SRID)
    eps = 1e-9
    box = (lon - eps, lat - eps, lon + eps, lat + eps)
    code = session.scalars(
        select(Community.code)
        .where(bbox_clause(session, Community.geom, box), func.ST_Intersects(Community.geom, point))
        .order_by(Community.code)
    ).first()
    if code is None:
        raise NotFoundError(f"No community contains the point lon={lon}, lat={lat}.")
    row = session.execute(
        select(Grid.code, Grid.id, Grid.plan_id)
        .join(Plan, Plan.id == Grid.plan_id)
        .where(
            Grid.community_code == code,
            Plan.status == "published",
            bbox_clause(session, Grid.geom, box),
            func.ST_Intersects(Grid.geom, point),
        )
        .order_by(Grid.code)
    ).first()
    if row is None:
        return PointPlace(code)
    return PointPlace(code, row[0], row[1], row[2])


def lookup_point(session: Session, *, lon: float, lat: float) -> LookupResult:
    """Return the community and published grid containing ``(lon, lat)`` and the grid's staff.

    Raises
    ------
    NotFoundError
        If no community contains the point.
    """
    place = locate_point(session, lon=lon, lat=lat)
    community = get_community(session, place.community_code)
    if place.grid_id is None:
        return LookupResult(community, None, [])
    row = session.execute(grid_statement(True).where(Grid.id == place.grid_id)).one()
    grid = grid_feature(row, True)
    return LookupResult(community, grid, grid_staff(session, [grid.id])[grid.id])


def collection_extent(session: Session, collection: str) -> tuple[float, float, float, float]:
    """Lon/lat bounding box of a collection (the world if it is empty)."""
    geoms = {
        "communities": select(Community.geom),
        "grids": select(Grid.geom)
        .join(Plan, Plan.id == Grid.plan_id)
        .where(Plan.status == "published"),
        "buildings": select(func.coalesce(Building.footprint, Building.geom)),
    }
    if collection not in geoms:
        raise NotFoundError(f"Collection {collection!r} not found; use one of {COLLECTIONS}.")
    col = geoms[collection].subquery().c[0]
    names = ("MbrMinX", "MbrMinY", "MbrMaxX", "MbrMaxY")
    if not is_sqlite(session):
        names = ("ST_XMin", "ST_YMin", "ST_XMax", "ST_YMax")
    aggregates: tuple[Callable[[Any], ColumnElement[Any]], ...] = (
        func.min,
        func.min,
        func.max,
        func.max,
    )
    row = session.execute(
        select(
            *(agg(getattr(func, name)(col)) for agg, name in zip(aggregates, names, strict=True))
        )
    ).one()
    if row[0] is None:
        return _WORLD
    return tuple(float(v) for v in row)  # type: ignore[return-value]
