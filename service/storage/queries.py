"""Read-side queries of the web service: paged features, bbox filters, lookup by point, plans.

Every function takes a :class:`~sqlalchemy.orm.Session` and keyword arguments and returns plain
dataclasses, so routes stay thin and never build SQL. Geometry leaves the database either as
GeoJSON text (``ST_AsGeoJSON``: fast paging for OGC API – Features and downloads) or as shapely
geometries (for maps, which simplify and shift them).

Backend differences are hidden here: a bbox filter is ``ST_Intersects`` on PostGIS (which uses
the GiST index) and, on SpatiaLite, a lookup in its R*Tree (``SpatialIndex`` virtual table) plus
``ST_Intersects``.

Plans: grids come from each community's *published* plan unless a ``plan_id`` is given, which
selects that plan whatever its status (a draft under review, a superseded plan).

Public outputs carry no personal field: persons are only ever counted, and staff appear only
through :func:`grid_staff` (names and roles, never phones) for tooltips and the lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Select, and_, func, literal_column, or_, select, table
from sqlalchemy import column as sql_column
from sqlalchemy.orm import Session

from service.storage.models import (
    SRID,
    Building,
    Community,
    Grid,
    GridBuilding,
    Plan,
    Staff,
    StaffGrid,
)
from service.storage.repository import NotFoundError

__all__ = [
    "NotFoundError",
    "Feature",
    "FeaturePage",
    "PlanRef",
    "StaffMember",
    "LookupResult",
    "COLLECTIONS",
    "GEOJSON_PRECISION",
    "validate_bbox",
    "resolve_plan",
    "list_communities",
    "get_community",
    "list_grids",
    "get_grid",
    "list_buildings",
    "get_building",
    "grid_staff",
    "lookup_point",
    "collection_extent",
]

GEOJSON_PRECISION = 7
"""Decimal places of lon/lat in GeoJSON output (1e-7 degrees is about 1 cm)."""
COLLECTIONS = ("communities", "grids", "buildings")
_WORLD = (-180.0, -90.0, 180.0, 90.0)


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


@dataclass(frozen=True)
class PlanRef:
    """The plan a grid listing comes from."""

    id: int
    community_code: str
    status: str
    name: str | None = None


@dataclass(frozen=True)
class StaffMember:
    """A staff member as shown publicly: name and role only (no phone)."""

    name: str
    role: str


@dataclass(frozen=True)
class LookupResult:
    """The community and grid at a point, and the grid's staff (事在格中办)."""

    community: Feature
    grid: Feature | None
    staff: list[StaffMember] = field(default_factory=list)


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


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _envelope(bbox: Sequence[float]) -> ColumnElement[Any]:
    minx, miny, maxx, maxy = bbox
    wkt = f"POLYGON(({minx} {miny},{maxx} {miny},{maxx} {maxy},{minx} {maxy},{minx} {miny}))"
    return func.ST_GeomFromText(wkt, SRID)


def _bbox_clause(session: Session, geom: Any, bbox: Sequence[float]) -> ColumnElement[bool]:
    """Rows whose ``geom`` intersects ``bbox``, using the spatial index on both backends."""
    exact = func.ST_Intersects(geom, _envelope(bbox))
    if not _is_sqlite(session):
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
    rowid = literal_column(f"{geom.table.name}.rowid")
    return and_(rowid.in_(candidates.scalar_subquery()), exact == 1)


def _geometry_out(geom: Any, as_geojson: bool) -> Any:
    return func.ST_AsGeoJSON(geom, GEOJSON_PRECISION) if as_geojson else geom


def _geometry_value(value: Any, as_geojson: bool) -> Any:
    if value is None:
        return None
    if as_geojson:
        return value
    return to_shape(value) if not isinstance(value, BaseGeometry) else value


def _page(
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


# --------------------------------------------------------------------------- plans


def resolve_plan(
    session: Session, *, community_code: str | None = None, plan_id: int | None = None
) -> PlanRef:
    """Return plan ``plan_id``, else the published plan of ``community_code``.

    Raises
    ------
    NotFoundError
        If the plan does not exist, belongs to another community, or the community has no
        published plan.
    """
    if plan_id is not None:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFoundError(f"Plan {plan_id} not found.")
        if community_code is not None and plan.community_code != community_code:
            raise NotFoundError(
                f"Plan {plan_id} belongs to community {plan.community_code}, not {community_code}."
            )
    else:
        _require_community(session, community_code)
        plan = session.scalars(
            select(Plan).where(Plan.community_code == community_code, Plan.status == "published")
        ).first()
        if plan is None:
            raise NotFoundError(
                f"Community {community_code} has no published plan; publish one or pass plan_id."
            )
    return PlanRef(plan.id, plan.community_code, plan.status, plan.name)


def _require_community(session: Session, code: str | None) -> None:
    if code is None or session.get(Community, code) is None:
        raise NotFoundError(f"Community {code!r} not found.")


def _plan_filter(plan_id: int | None) -> ColumnElement[bool]:
    return Plan.id == plan_id if plan_id is not None else Plan.status == "published"


# --------------------------------------------------------------------------- communities


def _community_stmt(as_geojson: bool) -> Select[Any]:
    published = (
        select(
            Grid.community_code.label("code"),
            func.count(Grid.id).label("grids"),
            func.coalesce(func.sum(Grid.households), 0).label("households"),
            func.coalesce(func.sum(Grid.persons), 0).label("persons"),
            func.min(Plan.id).label("plan_id"),
        )
        .join(Plan, Plan.id == Grid.plan_id)
        .where(Plan.status == "published")
        .group_by(Grid.community_code)
        .subquery()
    )
    buildings = (
        select(
            Building.community_code.label("code"),
            func.count(Building.id).label("buildings"),
            func.coalesce(func.sum(Building.households), 0).label("households"),
        )
        .group_by(Building.community_code)
        .subquery()
    )
    return (
        select(
            Community.code,
            Community.name,
            Community.subdistrict,
            Community.code_year,
            func.coalesce(published.c.grids, 0),
            func.coalesce(buildings.c.households, published.c.households, 0),
            func.coalesce(buildings.c.buildings, 0),
            func.coalesce(published.c.persons, 0),
            published.c.plan_id,
            _geometry_out(Community.geom, as_geojson),
        )
        .outerjoin(published, published.c.code == Community.code)
        .outerjoin(buildings, buildings.c.code == Community.code)
    )


def _community_feature(row: Sequence[Any], as_geojson: bool) -> Feature:
    code, name, subdistrict, year, grids, households, buildings, persons, plan_id, geom = row
    return Feature(
        id=code,
        geometry=_geometry_value(geom, as_geojson),
        properties={
            "community_code": code,
            "community_name": name,
            "subdistrict": subdistrict,
            "code_year": year,
            "grids": int(grids),
            "households": int(households),
            "buildings": int(buildings),
            "persons": int(persons),
            "plan_id": plan_id,
        },
    )


def list_communities(
    session: Session,
    *,
    bbox: Sequence[float] | None = None,
    limit: int | None = None,
    offset: int = 0,
    as_geojson: bool = True,
) -> FeaturePage:
    """Communities with grid, household, building and person counts of the published plans."""
    stmt = _community_stmt(as_geojson)
    if bbox is not None:
        stmt = stmt.where(_bbox_clause(session, Community.geom, validate_bbox(bbox)))
    rows, matched = _page(session, stmt, Community.code, limit, offset)
    return FeaturePage([_community_feature(r, as_geojson) for r in rows], matched, limit, offset)


def get_community(session: Session, code: str, *, as_geojson: bool = True) -> Feature:
    """One community by its 12-digit code; :class:`NotFoundError` if absent."""
    row = session.execute(_community_stmt(as_geojson).where(Community.code == code)).first()
    if row is None:
        raise NotFoundError(f"Community {code!r} not found.")
    return _community_feature(row, as_geojson)


# --------------------------------------------------------------------------- grids


def _grid_stmt(as_geojson: bool) -> Select[Any]:
    return select(
        Grid.code,
        Grid.community_code,
        Grid.plan_id,
        Plan.status,
        Grid.name,
        Grid.kind,
        Grid.households,
        Grid.buildings,
        Grid.persons,
        _geometry_out(Grid.geom, as_geojson),
    ).join(Plan, Plan.id == Grid.plan_id)


def _grid_feature(row: Sequence[Any], as_geojson: bool) -> Feature:
    code, community, plan_id, status, name, kind, households, buildings, persons, geom = row
    return Feature(
        id=code,
        geometry=_geometry_value(geom, as_geojson),
        properties={
            "grid_code": code,
            "community_code": community,
            "plan_id": plan_id,
            "plan_status": status,
            "grid_name": name,
            "kind": kind,
            "households": households,
            "buildings": buildings,
            "persons": persons,
        },
    )


def list_grids(
    session: Session,
    *,
    community_code: str | None = None,
    plan_id: int | None = None,
    bbox: Sequence[float] | None = None,
    limit: int | None = None,
    offset: int = 0,
    as_geojson: bool = True,
) -> FeaturePage:
    """Grids of the published plans (or of plan ``plan_id``), optionally of one community.

    Raises
    ------
    NotFoundError
        If ``community_code`` or ``plan_id`` does not exist (an empty page is not an error).
    """
    if community_code is not None:
        _require_community(session, community_code)
    if plan_id is not None:
        resolve_plan(session, community_code=community_code, plan_id=plan_id)
    stmt = _grid_stmt(as_geojson).where(_plan_filter(plan_id))
    if community_code is not None:
        stmt = stmt.where(Grid.community_code == community_code)
    if bbox is not None:
        stmt = stmt.where(_bbox_clause(session, Grid.geom, validate_bbox(bbox)))
    rows, matched = _page(session, stmt, Grid.code, limit, offset)
    return FeaturePage([_grid_feature(r, as_geojson) for r in rows], matched, limit, offset)


def get_grid(
    session: Session, code: str, *, plan_id: int | None = None, as_geojson: bool = True
) -> Feature:
    """One grid by code, from its community's published plan or from plan ``plan_id``."""
    row = session.execute(
        _grid_stmt(as_geojson).where(Grid.code == code, _plan_filter(plan_id))
    ).first()
    if row is None:
        where = f"plan {plan_id}" if plan_id is not None else "any published plan"
        raise NotFoundError(f"Grid {code!r} not found in {where}.")
    return _grid_feature(row, as_geojson)


# --------------------------------------------------------------------------- buildings


def _assignment(plan_id: int | None) -> Any:
    return (
        select(GridBuilding.building_id, Grid.code.label("grid_code"))
        .join(Grid, Grid.id == GridBuilding.grid_id)
        .join(Plan, Plan.id == GridBuilding.plan_id)
        .where(_plan_filter(plan_id))
        .subquery()
    )


def _building_stmt(assign: Any, as_geojson: bool, *, inner: bool) -> Select[Any]:
    geom = func.coalesce(Building.footprint, Building.geom)
    stmt = select(
        Building.id,
        Building.code,
        Building.name,
        Building.address,
        Building.kind,
        Building.floors,
        Building.units,
        Building.households,
        Building.compound_id,
        Building.community_code,
        assign.c.grid_code,
        _geometry_out(geom, as_geojson),
    )
    on = assign.c.building_id == Building.id
    return stmt.join(assign, on) if inner else stmt.outerjoin(assign, on)


def _building_feature(row: Sequence[Any], as_geojson: bool) -> Feature:
    (bid, code, name, address, kind, floors, units, households, compound, community, grid, geom) = (
        row
    )
    return Feature(
        id=bid,
        geometry=_geometry_value(geom, as_geojson),
        properties={
            "building_id": bid,
            "building_code": code,
            "building_name": name,
            "address": address,
            "kind": kind,
            "floors": floors,
            "units": units,
            "households": households,
            "compound_id": compound,
            "community_code": community,
            "grid_code": grid,
        },
    )


def list_buildings(
    session: Session,
    *,
    community_code: str | None = None,
    grid_code: str | None = None,
    plan_id: int | None = None,
    bbox: Sequence[float] | None = None,
    limit: int | None = None,
    offset: int = 0,
    as_geojson: bool = True,
) -> FeaturePage:
    """Buildings (footprint, else point) with the grid they fall in under the chosen plan.

    ``grid_code`` restricts to the buildings assigned to that grid in the published plan of its
    community (or in plan ``plan_id``); :class:`NotFoundError` if there is no such grid.
    """
    if community_code is not None:
        _require_community(session, community_code)
    if plan_id is not None:
        resolve_plan(session, community_code=community_code, plan_id=plan_id)
    if grid_code is not None:
        get_grid(session, grid_code, plan_id=plan_id)
    assign = _assignment(plan_id)
    stmt = _building_stmt(assign, as_geojson, inner=grid_code is not None)
    if grid_code is not None:
        stmt = stmt.where(assign.c.grid_code == grid_code)
    if community_code is not None:
        stmt = stmt.where(Building.community_code == community_code)
    if bbox is not None:
        box = validate_bbox(bbox)
        stmt = stmt.where(
            or_(
                _bbox_clause(session, Building.geom, box),
                _bbox_clause(session, Building.footprint, box),
            )
        )
    rows, matched = _page(session, stmt, Building.id, limit, offset)
    return FeaturePage([_building_feature(r, as_geojson) for r in rows], matched, limit, offset)


def get_building(session: Session, building_id: str, *, as_geojson: bool = True) -> Feature:
    """One building by id with its grid in the published plan; :class:`NotFoundError` if absent."""
    stmt = _building_stmt(_assignment(None), as_geojson, inner=False)
    row = session.execute(stmt.where(Building.id == building_id)).first()
    if row is None:
        raise NotFoundError(f"Building {building_id!r} not found.")
    return _building_feature(row, as_geojson)


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


def lookup_point(session: Session, *, lon: float, lat: float) -> LookupResult:
    """Return the community and published grid containing ``(lon, lat)`` and the grid's staff.

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
        .where(
            _bbox_clause(session, Community.geom, box), func.ST_Intersects(Community.geom, point)
        )
        .order_by(Community.code)
    ).first()
    if code is None:
        raise NotFoundError(f"No community contains the point lon={lon}, lat={lat}.")
    community = get_community(session, code)
    row = session.execute(
        _grid_stmt(True).where(
            Grid.community_code == code,
            Plan.status == "published",
            _bbox_clause(session, Grid.geom, box),
            func.ST_Intersects(Grid.geom, point),
        )
    ).first()
    if row is None:
        return LookupResult(community, None, [])
    grid = _grid_feature(row, True)
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
    if not _is_sqlite(session):
        names = ("ST_XMin", "ST_YMin", "ST_XMax", "ST_YMax")
    aggregates = (func.min, func.min, func.max, func.max)
    row = session.execute(
        select(
            *(agg(getattr(func, name)(col)) for agg, name in zip(aggregates, names, strict=True))
        )
    ).one()
    if row[0] is None:
        return _WORLD
    return tuple(float(v) for v in row)  # type: ignore[return-value]
