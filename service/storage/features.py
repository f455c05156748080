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

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, func, or_, select
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
    "list_features",
    "list_grids",
    "get_grid",
    "list_buildings",
    "get_building",
    "iter_features",
    "iter_grids",
    "iter_buildings",
    "list_layer",
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


# The statements below select each property under its name (the first is the feature's id),
# then the geometry, last; :func:`_feature` turns a row of any of them into a feature.


def _names(stmt: Select[Any]) -> tuple[str, ...]:
    """The property names of a statement's rows (the columns but the geometry)."""
    return tuple(stmt.selected_columns.keys())[:-1]


def _feature(
    names: Sequence[str], row: Sequence[Any], as_geojson: bool, ints: Sequence[str] = ()
) -> Feature:
    """The feature of a row with these property names (``ints``: given as Python ints)."""
    *values, geom = row
    properties = dict(zip(names, values, strict=True))
    for name in ints:
        properties[name] = int(properties[name])
    return Feature(values[0], geometry_value(geom, as_geojson), properties)


def _maker(
    names: Sequence[str], as_geojson: bool, ints: Sequence[str] = ()
) -> Callable[[Sequence[Any]], Feature]:
    """What makes the feature of a row with these property names (:func:`_feature`)."""
    return functools.partial(_feature, names, as_geojson=as_geojson, ints=ints)


def _page(
    session: Session,
    stmt: Select[Any],
    order_by: Any,
    limit: int | None,
    offset: int,
    make: Callable[[Sequence[Any]], Feature],
) -> FeaturePage:
    """One page of ``stmt``'s features (all without a limit) and the number matched."""
    rows, matched = fetch_page(session, stmt, order_by, limit, offset)
    return FeaturePage([make(r) for r in rows], matched, limit, offset)


def _one(session: Session, stmt: Select[Any], make: Callable[[Sequence[Any]], Feature],
         missing: str, params: dict[str, Any] | None = None) -> Feature:  # fmt: skip
    """The feature of ``stmt``'s first row (with ``params``); :class:`NotFoundError` saying
    ``missing`` if none."""
    row = session.execute(stmt, params).first()
    if row is None:
        raise NotFoundError(missing)
    return make(row)


# --------------------------------------------------------------------------- communities


_COUNTS = ("grids", "households", "buildings", "persons")


@functools.cache
def _community_stmt(as_geojson: bool, one: bool = False) -> Select[Any]:
    """Communities with their counts; ``one``: the community of the bound parameter ``code``
    only (its grids and buildings alone grouped). Built once (statements are immutable)."""
    grids = (
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
    )
    counted = select(
        Building.community_code.label("code"),
        func.count(Building.id).label("buildings"),
        func.coalesce(func.sum(Building.households), 0).label("households"),
    ).group_by(Building.community_code)
    if one:
        grids = grids.where(Grid.community_code == bindparam("code"))
        counted = counted.where(Building.community_code == bindparam("code"))
    published, buildings = grids.subquery(), counted.subquery()
    stmt = (
        select(
            Community.code.label("community_code"),
            Community.name.label("community_name"),
            Community.subdistrict,
            Community.code_year,
            func.coalesce(published.c.grids, 0).label("grids"),
            func.coalesce(buildings.c.households, published.c.households, 0).label("households"),
            func.coalesce(buildings.c.buildings, 0).label("buildings"),
            func.coalesce(published.c.persons, 0).label("persons"),
            published.c.plan_id,
            geometry_out(Community.geom, as_geojson),
        )
        .outerjoin(published, published.c.code == Community.code)
        .outerjoin(buildings, buildings.c.code == Community.code)
    )
    return stmt.where(Community.code == bindparam("code")) if one else stmt


_COMMUNITY_NAMES = _names(_community_stmt(True))


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
    make = _maker(_COMMUNITY_NAMES, as_geojson, ints=_COUNTS)
    return _page(session, stmt, Community.code, limit, offset, make)


def get_community(session: Session, code: str, *, as_geojson: bool = True) -> Feature:
    """One community by its 12-digit code; :class:`NotFoundError` if absent."""
    make = _maker(_COMMUNITY_NAMES, as_geojson, ints=_COUNTS)
    return _one(session, _community_stmt(as_geojson, one=True), make,
                f"Community {code!r} not found.", {"code": code})  # fmt: skip


# --------------------------------------------------------------------------- grids


def grid_statement(as_geojson: bool) -> Select[Any]:
    return select(
        Grid.code.label("grid_code"),
        Grid.community_code,
        Grid.plan_id,
        Plan.status.label("plan_status"),
        Grid.name.label("grid_name"),
        Grid.kind,
        Grid.households,
        Grid.buildings,
        Grid.persons,
        geometry_out(Grid.geom, as_geojson),
    ).join(Plan, Plan.id == Grid.plan_id)


def grid_feature(row: Sequence[Any], as_geojson: bool) -> Feature:
    """A grid feature from a row of :func:`grid_statement`."""
    return _feature(_GRID_NAMES, row, as_geojson)


_GRID_NAMES = _names(grid_statement(True))


def get_grid(
    session: Session, code: str, *, plan_id: int | None = None, as_geojson: bool = True
) -> Feature:
    """One grid by code, from its community's published plan or from plan ``plan_id``."""
    stmt = grid_statement(as_geojson).where(Grid.code == code, _plan_filter(plan_id))
    where = f"plan {plan_id}" if plan_id is not None else "any published plan"
    return _one(session, stmt, _maker(_GRID_NAMES, as_geojson),
                f"Grid {code!r} not found in {where}.")  # fmt: skip


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
        Building.id.label("building_id"),
        Building.code.label("building_code"),
        Building.name.label("building_name"),
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


_BUILDING_NAMES = _names(_building_stmt(_assignment(None), True, inner=False))


def get_building(session: Session, building_id: str, *, as_geojson: bool = True) -> Feature:
    """One building by id with its grid in the published plan; :class:`NotFoundError` if absent."""
    stmt = _building_stmt(_assignment(None), as_geojson, inner=False)
    make = _maker(_BUILDING_NAMES, as_geojson)
    return _one(session, stmt.where(Building.id == building_id), make,
                f"Building {building_id!r} not found.")  # fmt: skip


# --------------------------------------------------------------------------- grids or buildings


@dataclass(frozen=True)
class _Query:
    """The statement of a grid or building listing, its order and its rows' features."""

    stmt: Select[Any]
    order: Any
    make: Callable[[Sequence[Any]], Feature]

    @classmethod
    def of(
        cls,
        collection: Literal["grids", "buildings"],
        plan_id: int | None,
        community_code: str | None,
        as_geojson: bool,
        *,
        grid_code: str | None = None,
    ) -> _Query:
        """Grids of the published plans (or plan ``plan_id``) or buildings with their grid
        there, of one community when given, of one grid (buildings) when given."""
        community: Any  # the community code column
        if collection == "grids":
            stmt = grid_statement(as_geojson).where(_plan_filter(plan_id))
            community, order, names = Grid.community_code, Grid.code, _GRID_NAMES
        else:
            assign = _assignment(plan_id)
            stmt = _building_stmt(assign, as_geojson, inner=grid_code is not None)
            if grid_code is not None:
                stmt = stmt.where(assign.c.grid_code == grid_code)
            community, order, names = Building.community_code, Building.id, _BUILDING_NAMES
        if community_code is not None:
            stmt = stmt.where(community == community_code)
        return cls(stmt, order, _maker(names, as_geojson))


def list_features(
    session: Session,
    collection: Literal["grids", "buildings"],
    *,
    community_code: str | None = None,
    grid_code: str | None = None,
    plan_id: int | None = None,
    bbox: Sequence[float] | None = None,
    limit: int | None = None,
    offset: int = 0,
    as_geojson: bool = True,
) -> FeaturePage:
    """Grids of the published plans (or of plan ``plan_id``), or buildings (footprint, else
    point) with the grid they fall in under that plan; optionally of one community.

    ``grid_code`` (buildings only) restricts to the buildings assigned to that grid in the
    published plan of its community (or in plan ``plan_id``).

    Raises
    ------
    NotFoundError
        If ``community_code``, ``plan_id`` or ``grid_code`` does not exist (an empty page is
        not an error).
    """
    if grid_code is not None and collection != "buildings":
        raise TypeError("grid_code restricts buildings only")
    _check_scope(session, community_code, plan_id)
    if grid_code is not None:
        get_grid(session, grid_code, plan_id=plan_id)
    query = _Query.of(collection, plan_id, community_code, as_geojson, grid_code=grid_code)
    stmt = query.stmt
    if bbox is not None:
        box = validate_bbox(bbox)
        geoms = (Grid.geom,) if collection == "grids" else (Building.geom, Building.footprint)
        stmt = stmt.where(or_(*(bbox_clause(session, g, box) for g in geoms)))
    return _page(session, stmt, query.order, limit, offset, query.make)


list_grids = functools.partial(list_features, collection="grids")
list_buildings = functools.partial(list_features, collection="buildings")


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


def iter_features(
    session: Session,
    collection: Literal["grids", "buildings"],
    *,
    community_code: str | None = None,
    plan_id: int | None = None,
    as_geojson: bool = True,
    batch: int | None = None,
) -> Iterator[list[Feature]]:
    """Grids or buildings as :func:`list_features` lists them, in batches, in constant memory
    (any number: downloads of whole provinces).

    The community and plan are checked now (:class:`NotFoundError`), the rows read as the
    batches are taken: from a server-side cursor (PostgreSQL) or SQLite's incremental cursor,
    ``batch`` (default :data:`STREAM_BATCH`) at a time.
    """
    _check_scope(session, community_code, plan_id)
    query = _Query.of(collection, plan_id, community_code, as_geojson)
    return _batches(session, query.stmt.order_by(query.order), query.make, batch)


iter_grids = functools.partial(iter_features, collection="grids")
iter_buildings = functools.partial(iter_features, collection="buildings")


# --------------------------------------------------------------------------- streets & compounds


def list_layer(
    session: Session,
    layer: Literal["streets", "compounds"],
    *,
    community_code: str | None = None,
    as_geojson: bool = True,
) -> FeaturePage:
    """Streets (centre lines, ``boundary``: whether each may bound a grid), all or those
    crossing or touching a community's boundary; or compounds (小区) with an outline, all or
    those of one community.

    Raises
    ------
    NotFoundError
        If ``community_code`` is given and not stored.
    """
    if community_code is not None:
        _require_community(session, community_code)
    if layer == "streets":
        stmt = select(Street.id.label("street_id"), Street.name.label("street_name"),
                      Street.boundary, geometry_out(Street.geom, as_geojson))  # fmt: skip
        if community_code is not None:
            area = select(Community.geom).where(Community.code == community_code)
            stmt = stmt.where(func.ST_Intersects(Street.geom, area.scalar_subquery()))
        order = Street.id
    else:
        stmt = select(
            Compound.id.label("compound_id"),
            Compound.name.label("compound_name"),
            Compound.community_code,
            Compound.property_company,
            geometry_out(Compound.geom, as_geojson),
        ).where(Compound.geom.is_not(None))
        if community_code is not None:
            stmt = stmt.where(Compound.community_code == community_code)
        order = Compound.id
    names = _names(stmt)
    return _page(session, stmt, order, None, 0, _maker(names, as_geojson))


list_streets = functools.partial(list_layer, layer="streets")
list_compounds = functools.partial(list_layer, layer="compounds")
