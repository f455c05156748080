"""Residents of a grid and the grid archive (网格民情档案), scoped to the principal.

Every query joins person → household → building → the grid of its community's *published*
plan, and adds :func:`service.storage.auth.scope_clause` to the SQL: a grid worker reaches only
their grids, a community admin their community, a district admin their district; ``public``
reaches nobody. Values leave this module masked (:mod:`gridmap.privacy`); full values only
through :func:`reveal_person` / :func:`export_residents` with ``reveal=True``, which need the
``can_reveal`` permission and a reason, and write an audit record in the same transaction.

Searching by ID number or phone answers "is this the number?" even with masked results, so it
is treated like a reveal: it needs ``can_reveal`` and a reason and is audited (action
``search``, the grid, the fields searched). Reasons are stored with ID-number- and
phone-shaped digit runs masked (:func:`mask_personal_text`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from gridmap.errors import InputError
from gridmap.privacy import age_band, mask_id_number, mask_name, mask_phone, public_tags, split_tags
from gridmap.privacy import is_sensitive_tag as _sensitive
from service.storage import models as m
from service.storage.auth import (
    PermissionDenied,
    Principal,
    audit_rows,
    scope_clause,
    write_audit,
)
from service.storage.auth_models import AuditRecord, User, UserGrid
from service.storage.crypto import DataKeys, keys_of, search_hash
from service.storage.errors import NotFoundError

__all__ = [
    "REVEALABLE_FIELDS",
    "ResidentPage",
    "ResidentSearch",
    "list_residents",
    "grid_archive",
    "reveal_person",
    "export_residents",
    "mask_personal_text",
    "audit_scope",
    "list_scoped_audit",
]

REVEALABLE_FIELDS = ("name", "id_number", "phone", "birth_date", "tags")
MAX_LIMIT = 500
_ID_NUMBER_SHAPE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_SHAPE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
_MASK = "***"

_COLUMNS = (m.Person.id, m.Person.household_id, m.Household.building_id, m.Household.unit,
            m.Household.floor, m.Household.room, m.Person.name, m.Person.id_number,
            m.Person.phone, m.Person.sex, m.Person.birth_date, m.Person.relationship,
            m.Person.population_type, m.Person.tags, m.Grid.code)  # fmt: skip
_KEYS = ("person_id", "household_id", "building_id", "unit", "floor", "room", "name",
         "id_number", "phone", "sex", "birth_date", "relationship", "population_type", "tags",
         "grid_code")  # fmt: skip


@dataclass(frozen=True)
class ResidentSearch:
    """What to look for among a grid's residents: the start of a name, or an exact ID number or
    phone (matched through their keyed hashes; these two need a ``reason``, audited)."""

    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    reason: str | None = None

    def personal_fields(self) -> tuple[str, ...]:
        """The exact-value fields searched (``id_number``, ``phone``): they need the reveal."""
        return tuple(f for f, v in (("id_number", self.id_number), ("phone", self.phone)) if v)


@dataclass(frozen=True)
class ResidentPage:
    """One page of masked residents and the number matching the filters."""

    residents: list[dict[str, Any]]
    number_matched: int


def _base(principal: Principal) -> Select[*tuple[Any, ...]]:
    """Persons with their household and published grid, restricted to the principal's scope."""
    published = and_(m.Plan.id == m.Grid.plan_id, m.Plan.status == "published")
    return (
        select(*_COLUMNS)
        .join(m.Household, m.Household.id == m.Person.household_id)
        .join(m.GridBuilding, m.GridBuilding.building_id == m.Household.building_id)
        .join(m.Grid, m.Grid.id == m.GridBuilding.grid_id)
        .join(m.Plan, published)
        .where(
            scope_clause(principal, community_code=m.Grid.community_code, grid_code=m.Grid.code)
        )  # fmt: skip
    )


def _check_grid(session: Session, principal: Principal, grid_code: str) -> None:
    """404 if no published grid has this code; 403 if it is outside the principal's scope."""
    grid = (select(m.Grid.code).join(m.Plan, m.Plan.id == m.Grid.plan_id)
            .where(m.Grid.code == grid_code, m.Plan.status == "published"))  # fmt: skip
    if session.scalar(grid) is None:
        raise NotFoundError(f"Grid {grid_code!r} is not in any published plan.")
    scoped = grid.where(scope_clause(principal, community_code=m.Grid.community_code,
                                     grid_code=m.Grid.code))  # fmt: skip
    if session.scalar(scoped) is None:
        raise PermissionDenied(f"Grid {grid_code} is outside the scope of user "
                               f"{principal.username!r} ({principal.role}).")  # fmt: skip


def _masked(row: dict[str, Any], today: dt.date) -> dict[str, Any]:
    tags = split_tags(row["tags"])
    return {
        "person_id": row["person_id"], "household_id": row["household_id"],
        "building_id": row["building_id"], "grid_code": row["grid_code"],
        "unit": row["unit"], "floor": row["floor"], "room": row["room"],
        "name": mask_name(row["name"]), "id_number": mask_id_number(row["id_number"]),
        "phone": mask_phone(row["phone"]), "sex": row["sex"],
        "age_band": age_band(row["birth_date"], today), "relationship": row["relationship"],
        "population_type": row["population_type"], "tags": public_tags(tags),
        "has_sensitive_tags": any(_sensitive(t) for t in tags),
    }  # fmt: skip


def _filters(query: Select[Any], keys: DataKeys, search: ResidentSearch) -> Select[Any]:
    if search.name:
        query = query.where(m.Person.name.startswith(search.name.strip(), autoescape=True))
    if search.id_number:
        wanted = search_hash(search.id_number, purpose="id_number", keys=keys)
        query = query.where(m.Person.id_number_hash == wanted)
    if search.phone:
        wanted = search_hash(search.phone, purpose="phone", keys=keys)
        query = query.where(m.Person.phone_hash == wanted)
    return query


def mask_personal_text(text: str) -> str:
    """``text`` with digit runs shaped like an ID number or a mobile number replaced by ``***``."""
    return _MOBILE_SHAPE.sub(_MASK, _ID_NUMBER_SHAPE.sub(_MASK, text))


def _audit(session: Session, principal: Principal, *, action: str, record_type: str,
           record_id: str, reason: str | None, fields: tuple[str, ...]) -> None:  # fmt: skip
    """Write an audit record with the reason's personal-looking digits masked."""
    write_audit(session=session, principal=principal, action=action, record_type=record_type,
                record_id=record_id, reason=mask_personal_text(reason or ""),
                fields=fields)  # fmt: skip


def list_residents(
    session: Session,
    principal: Principal,
    *,
    grid_code: str,
    search: ResidentSearch | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ResidentPage:
    """Masked residents of a grid (those matching ``search``), by household then person id.

    The search's ``name`` matches the start of the name; ``id_number`` and ``phone`` match
    exactly (through their keyed hashes: the clear values are never compared in the database).
    A search by ``id_number`` or ``phone`` needs ``can_reveal`` and a ``reason`` and writes an
    audit record (flushed; the caller commits).
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    search = search or ResidentSearch()
    searched = search.personal_fields()
    if searched:
        _require_reveal(principal, f"search residents by {' and '.join(searched)}")
    _check_grid(session, principal, grid_code)
    if searched:
        _audit(session, principal, action="search", record_type="grid", record_id=grid_code,
               reason=search.reason, fields=searched)  # fmt: skip
    query = _filters(_base(principal).where(m.Grid.code == grid_code), keys_of(session), search)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(m.Person.household_id, m.Person.id).limit(limit).offset(max(0, offset))
    ).all()
    today = dt.date.today()
    return ResidentPage([_masked(dict(zip(_KEYS, r, strict=True)), today) for r in rows], total)


def grid_archive(session: Session, principal: Principal, *, grid_code: str) -> dict[str, Any]:
    """The grid archive: counts of buildings, households and persons by type, age band and tag.

    Only counts leave this function (sensitive tags included, for staff in scope).
    """
    _check_grid(session, principal, grid_code)
    rows = session.execute(
        _base(principal)
        .with_only_columns(m.Person.household_id, m.Household.building_id, m.Person.sex,
                           m.Person.birth_date, m.Person.population_type, m.Person.tags)
        .where(m.Grid.code == grid_code)
    ).all()  # fmt: skip
    today = dt.date.today()
    tags: Counter[str] = Counter(t for r in rows for t in set(split_tags(r[5])))
    grid = session.execute(
        select(m.Grid.community_code, m.Grid.households, m.Grid.buildings)
        .join(m.Plan, m.Plan.id == m.Grid.plan_id)
        .where(m.Grid.code == grid_code, m.Plan.status == "published")
    ).one()
    return {
        "grid_code": grid_code, "community_code": grid[0],
        "households_planned": grid[1], "buildings": grid[2],
        "households": len({r[0] for r in rows}), "persons": len(rows),
        "by_population_type": dict(Counter(r[4] or "unknown" for r in rows)),
        "by_sex": dict(Counter(r[2] or "unknown" for r in rows)),
        "by_age_band": dict(Counter(age_band(r[3], today) or "unknown" for r in rows)),
        "by_tag": dict(sorted(tags.items())),
        "sensitive_tag_persons": sum(any(_sensitive(t) for t in split_tags(r[5])) for r in rows),
    }  # fmt: skip


def _require_reveal(principal: Principal, what: str = "see full values") -> None:
    if not principal.can_reveal:
        raise PermissionDenied(
            f"User {principal.username!r} lacks the reveal_personal permission needed to {what}; "
            "ask an administrator (gridmap user add --can-reveal)."
        )


def reveal_person(
    session: Session,
    principal: Principal,
    *,
    person_id: str,
    reason: str,
    fields: tuple[str, ...] = REVEALABLE_FIELDS,
) -> dict[str, Any]:
    """Full values of one person in scope; writes an audit record (flushed, caller commits).

    Raises
    ------
    PermissionDenied
        No ``can_reveal`` permission.
    NotFoundError
        No such person in the principal's scope (outside the scope looks like absent).
    InputError
        Missing reason or unknown field.
    """
    _require_reveal(principal)
    unknown = sorted(set(fields) - set(REVEALABLE_FIELDS))
    if unknown or not fields:
        raise InputError(f"Fields {unknown or '[]'} cannot be revealed; choose from "
                         f"{', '.join(REVEALABLE_FIELDS)}.")  # fmt: skip
    row = session.execute(_base(principal).where(m.Person.id == person_id)).first()
    if row is None:
        raise NotFoundError(f"Person {person_id!r} is not among the residents you may see.")
    record = dict(zip(_KEYS, row, strict=True))
    _audit(
        session,
        principal,
        action="reveal",
        record_type="person",
        record_id=person_id,
        reason=reason,
        fields=fields,
    )
    out = _masked(record, dt.date.today())
    for f in fields:
        value = record[f]
        out[f] = split_tags(value) if f == "tags" else value
    return out


def export_residents(
    session: Session,
    principal: Principal,
    *,
    grid_code: str,
    reveal: bool = False,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """All residents of a grid for export: masked, or full values when ``reveal`` (audited)."""
    if reveal:
        _require_reveal(principal)
    _check_grid(session, principal, grid_code)
    query = _base(principal).where(m.Grid.code == grid_code).order_by(m.Person.id)
    records = [dict(zip(_KEYS, r, strict=True)) for r in session.execute(query)]
    today = dt.date.today()
    if not reveal:
        return [_masked(r, today) for r in records]
    _audit(
        session,
        principal,
        action="export",
        record_type="grid",
        record_id=grid_code,
        reason=reason,
        fields=REVEALABLE_FIELDS,
    )
    return [{**_masked(r, today), **{f: r[f] for f in REVEALABLE_FIELDS}} for r in records]


def audit_scope(principal: Principal) -> ColumnElement[bool]:
    """SQL condition on :class:`AuditRecord`: the rows a district admin may read.

    A district admin of district ``D`` reads the rows about grids and persons of ``D`` and the
    rows written by users whose scope lies in ``D`` (their sign-ins); one without a district
    reads every row; other roles none.
    """
    if principal.role != "district_admin":
        return false()
    district = principal.district_code
    if not district:
        return true()
    persons = (
        select(m.Person.id)
        .join(m.Household, m.Household.id == m.Person.household_id)
        .join(m.Building, m.Building.id == m.Household.building_id)
        .where(m.Building.community_code.startswith(district, autoescape=True))
    )
    grid_users = select(UserGrid.user_id).where(
        UserGrid.grid_code.startswith(district, autoescape=True)
    )
    users = select(User.username).where(
        or_(
            User.district_code == district,
            User.community_code.startswith(district, autoescape=True),
            User.id.in_(grid_users),
        )
    )
    return or_(
        and_(AuditRecord.record_type == "grid",
             AuditRecord.record_id.startswith(district, autoescape=True)),
        and_(AuditRecord.record_type == "person", AuditRecord.record_id.in_(persons)),
        AuditRecord.username.in_(users),
    )  # fmt: skip


def list_scoped_audit(
    session: Session, principal: Principal, *, record_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Newest audit records first that ``principal`` may read (:func:`audit_scope`).

    Raises
    ------
    PermissionDenied
        The principal is not a district admin.
    """
    if principal.role != "district_admin":
        raise PermissionDenied(f"Only district admins may read the audit log, not user "
                               f"{principal.username!r} ({principal.role}).")  # fmt: skip
    query = select(AuditRecord).where(audit_scope(principal))
    return audit_rows(session, query, record_id=record_id, limit=limit)
