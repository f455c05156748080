"""Communities, grids and buildings as features: paged listings and lookups by id.

Every function takes a :class:`~sqlalchemy.orm.Session` and keyword arguments and returns
:class:`~service.storage.paging.Feature` / :class:`~service.storage.paging.FeaturePage`, so
routes stay thin and never build SQL. Grids come from each community's *published* plan unless a
``plan_id`` is given, which selects that plan whatever its status (a draft under review, a
superseded plan). Persons are only ever counted.

Who may ask for which plan is decided by :func:`require_plan_visible` (the web service calls it
for every ``plan_id``): published plans are public; other plans only for staff of the plan's
community (its community admin and grid workers) and district admins of its district.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from service.storage.auth import Principal
from service.storage.errors import NotFoundError
from service.storage.models import Building, Community, Compound, Grid, GridBuilding, Plan, Street
from service.storage.paging import (
    Feature,
    FeaturePage,
    bbox_clause,
    fetch_page,
    geometry_out,
    geometry_value,
    validate_bbox,
)

__all__ = [
    "COLLECTIONS",
    "PlanRef",
    "resolve_plan",
    "may_see_unpublished",
    "require_plan_visible",
    "list_communities",
    "get_community",
    "list_grids",
    "get_grid",
    "list_buildings",
    "get_building",
    "iter_grids",
    "iter_buildings",
    "list_streets",
    "list_compounds",
]

COLLECTIONS = ("communities", "grids", "buildings")


@dataclass(frozen=True)
class PlanRef:
    """The plan a grid listing comes from."""

    id: int
    community_code: str
    status: str
    name: str | None = None


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


def may_see_unpublished(principal: Principal, community_code: str) -> bool:
    """Whether ``principal`` may see the unpublished (draft, superseded) plans of a community."""
    if principal.role == "district_admin":
        return not principal.district_code or community_code.startswith(principal.district_code)
    if principal.role == "community_admin":
        return principal.community_code == community_code
    if principal.role == "grid_worker":
        return any(g.startswith(community_code) for g in principal.grid_codes)
    return False


def require_plan_visible(session: Session, *, plan_id: int, principal: Principal) -> PlanRef:
    """Plan ``plan_id`` if ``principal`` may see it; else :class:`NotFoundError`.

    A plan hidden from the principal answers exactly like a plan that does not exist, so plan
    ids (sequential) do not tell which drafts exist.
    """
    plan = session.get(Plan, plan_id)
    if plan is None or (
        plan.status != "published" and not may_see_unpublished(principal, plan.community_code)
    ):
        raise NotFoundError(f"Plan {plan_id} not found.")
    return PlanRef(plan.id, plan.community_code, plan.status, plan.name)


def _require_community(session: Session, code: str | None) -> None:
    if code is None or session.get(Community, code) is None:
        raise NotFoundError(f"Community {code!r} not found.")


PlanParam = int | BindParameter[int] | None
"""A plan id, a bound parameter standing for one (statements compiled once), or ``None``."""


def _check_scope(session: Session, community_code: str | None, plan_id: int | None) -> None:
    """NotFoundError unless the community (when given) and the plan (when given) exist."""
    if community_code is not None:
        _require_community(session, community_code)
    if plan_id is not None:
        resolve_plan(session, community_code=community_code, plan_id=plan_id)


def _plan_filter(plan_id: PlanParam) -> ColumnElement[bool]:
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
            geometry_out(Community.geom, as_geojson),
        )
        .outerjoin(published, published.c.code == Community.code)
        .outerjoin(buildings, buildings.c.code == Community.code)
    )


def _community_feature(row: Sequence[Any], as_geojson: bool) -> Feature:
    code, name, subdistrict, year, grids, households, buildings, persons, plan_id, geom = row
    return Feature(
        id=code,
        geometry=geometry_value(geom, as_geojson),
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
        stmt = stmt.where(bbox_clause(session, Community.geom, validate_bbox(bbox)))
    rows, matched = fetch_page(session, stmt, Community.code, limit, offset)
    return FeaturePage([_community_feature(r, as_geojson) for r in rows], matched, limit, offset)


def get_community(session: Session, code: str, *, as_geojson: bool = True) -> Feature:
    """One community by its 12-digit code; :class:`NotFoundError` if absent."""
    row = session.execute(_community_stmt(as_geojson).where(Community.code == code)).first()
    if row is None:
        raise NotFoundError(f"Community {code!r} not found.")
    return _community_feature(row, as_geojson)


# --------------------------------------------------------------------------- grids


def grid_statement(as_geojson: bool) -> Select[Any]:
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
        geometry_out(Grid.geom, as_geojson),
    ).join(Plan, Plan.id == Grid.plan_id)


def grid_feature(row: Sequence[Any], as_geojson: bool) -> Feature:
    code, community, plan_id, status, name, kind, households, buildings, persons, geom = row
    return Feature(
        id=code,
        geometry=geometry_value(geom, as_geojson),
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
    _check_scope(session, community_code, plan_id)
    stmt = grid_statement(as_geojson).where(_plan_filter(plan_id))
    if community_code is not None:
        stmt = stmt.where(Grid.community_code == community_code)
    if bbox is not None:
        stmt = stmt.where(bbox_clause(session, Grid.geom, validate_bbox(bbox)))
    rows, matched = fetch_page(session, stmt, Grid.code, limit, offset)
    return FeaturePage([grid_feature(r, as_geojson) for r in rows], matched, limit, offset)


def get_grid(
    session: Session, code: str, *, plan_id: int | None = None, as_geojson: bool = True
) -> Feature:
    """One grid by code, from its community's published plan or from plan ``plan_id``."""
    row = session.execute(
        grid_statement(as_geojson).where(Grid.code == code, _plan_filter(plan_id))
    ).first()
    if row is None:
        where = f"plan {plan_id}" if plan_id is not None else "any published plan"
        raise NotFoundError(f"Grid {code!r} not found in {where}.")
    return grid_feature(row, as_geojson)


# --------------------------------------------------------------------------- buildings


def _assignment(plan_id: PlanParam) -> Any:
    return (
        select(GridBuilding.building_id, Grid.code.label("grid_code"))
        .join(Grid, Grid.id == GridBuilding.grid_id)
        .join(Plan, Plan.id == GridBuilding.plan_id)
        .where(_plan_filter(plan_id))
        .subquery()
    )


def _building_stmt(assign: Any, as_geojson: bool, *, inner: bool) -> Select[*tuple[Any, ...]]:
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
        geometry_out(geom, as_geojson),
    )
    on = assign.c.building_id == Building.id
    return stmt.join(assign, on) if inner else stmt.outerjoin(assign, on)


def _building_feature(row: Sequence[Any], as_geojson: bool) -> Feature:
    (bid, code, name, address, kind, floors, units, households, compound, community, grid, geom) = (
        row
    )
    return Feature(
        id=bid,
        geometry=geometry_value(geom, as_geojson),
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
    _check_scope(session, community_code, plan_id)
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
                bbox_clause(session, Building.geom, box),
                bbox_clause(session, Building.footprint, box),
            )
        )
    rows, matched = fetch_page(session, stmt, Building.id, limit, offset)
    return FeaturePage([_building_feature(r, as_geojson) for r in rows], matched, limit, offset)


def get_building(session: Session, building_id: str, *, as_geojson: bool = True) -> Feature:
    """One building by id with its grid in the published plan; :class:`NotFoundError` if absent."""
    stmt = _building_stmt(_assignment(None), as_geojson, inner=False)
    row = session.execute(stmt.where(Building.id == building_id)).first()
    if row is None:
        raise NotFoundError(f"Building {building_id!r} not found.")
    return _building_feature(row, as_geojson)


# --------------------------------------------------------------------------- streamed layers

STREAM_BATCH = 2000
"""Rows fetched at a time by :func:`iter_grids` and :func:`iter_buildings`."""


def _batches(
    session: Session, stmt: Select[Any], make: Any, batch: int | None
) -> Iterator[list[Feature]]:
    """Features of ``stmt`` in lists of ``batch``, from a server-side cursor (``yield_per``)."""
    result = session.execute(stmt, execution_options={"yield_per": batch or STREAM_BATCH})
    for rows in result.partitions():
        yield [make(row) for row in rows]


def iter_grids(
    session: Session,
    *,
    community_code: str | None = None,
    plan_id: int | None = None,
    as_geojson: bool = True,
    batch: int | None = None,
) -> Iterator[list[Feature]]:
    """Grids as :func:`list_grids` lists them, in batches, in constant memory (any number).

    The community and plan are checked now (:class:`NotFoundError`), the rows read as the
    batches are taken.
    """
    _check_scope(session, community_code, plan_id)
    stmt = grid_statement(as_geojson).where(_plan_filter(plan_id))
    if community_code is not None:
        stmt = stmt.where(Grid.community_code == community_code)
    make = lambda r: grid_feature(r, as_geojson)  # noqa: E731
    return _batches(session, stmt.order_by(Grid.code), make, batch)


def iter_buildings(
    session: Session,
    *,
    community_code: str | None = None,
    plan_id: int | None = None,
    as_geojson: bool = True,
    batch: int | None = None,
) -> Iterator[list[Feature]]:
    """Buildings as :func:`list_buildings` lists them, in batches, in constant memory.

    For downloads of whole provinces: rows come from a server-side cursor (PostgreSQL) or
    SQLite's incremental cursor, ``batch`` (default :data:`STREAM_BATCH`) at a time.
    """
    _check_scope(session, community_code, plan_id)
    stmt = _building_stmt(_assignment(plan_id), as_geojson, inner=False)
    if community_code is not None:
        stmt = stmt.where(Building.community_code == community_code)
    make = lambda r: _building_feature(r, as_geojson)  # noqa: E731
    return _batches(session, stmt.order_by(Building.id), make, batch)


# --------------------------------------------------------------------------- streets & compounds


def list_streets(
    session: Session, *, community_code: str | None = None, as_geojson: bool = True
) -> FeaturePage:
    """Streets (centre lines), all or those crossing or touching a community's boundary.

    Raises
    ------
    NotFoundError
        If ``community_code`` is given and not stored.
    """
    stmt = select(Street.id, Street.name, geometry_out(Street.geom, as_geojson))
    if community_code is not None:
        _require_community(session, community_code)
        area = select(Community.geom).where(Community.code == community_code).scalar_subquery()
        stmt = stmt.where(func.ST_Intersects(Street.geom, area))
    rows, matched = fetch_page(session, stmt, Street.id, None, 0)
    features = [
        Feature(sid, geometry_value(geom, as_geojson), {"street_id": sid, "street_name": name})
        for sid, name, geom in rows
    ]
    return FeaturePage(features, matched)


def list_compounds(
    session: Session, *, community_code: str | None = None, as_geojson: bool = True
) -> FeaturePage:
    """Compounds (小区) with an outline, all or those of one community.

    Raises
    ------
    NotFoundError
        If ``community_code`` is given and not stored.
    """
    stmt = select(
        Compound.id,
        Compound.name,
        Compound.community_code,
        Compound.property_company,
        geometry_out(Compound.geom, as_geojson),
    ).where(Compound.geom.is_not(None))
    if community_code is not None:
        _require_community(session, community_code)
        stmt = stmt.where(Compound.community_code == community_code)
    rows, matched = fetch_page(session, stmt, Compound.id, None, 0)
    features = [
        Feature(
            cid,
            geometry_value(geom, as_geojson),
            {
                "compound_id": cid,
                "compound_name": name,
                "community_code": community,
                "property_company": company,
            },
        )
        for cid, name, community, company, geom in rows
    ]
    return FeaturePage(features, matched)
