"""``import --update``: add new records, update changed ones, keep the rest, remove on request.

Used by :func:`service.storage.imports.import_bundle` inside its one transaction. Records are
matched by id. A stored record is *updated* when any stored value differs from the file's;
values are compared as read back through the column types, so encrypted ID numbers and phones
are compared decrypted (never ciphertext to clear text) and geometries as shapes. A column the
file does not fill (no ``kind`` in next month's buildings, no 是否边界 in the streets) keeps
its stored values: :func:`absent_columns` names those columns, and :func:`split_rows` neither
compares nor writes them. A record whose geometry the file leaves blank (a roster row without
经度/纬度, a blank WKT cell) keeps its stored geometry, whatever the entity; one the file gives
a geometry takes it, but a building given as a point keeps its stored footprint
(:mod:`service.storage.footprints`). A link the import found by location
(a building's community and compound, a household's building, a person's household) keeps
its stored value where none was found, and where a building's file point lies far off its kept
footprint. Records are removed only when asked: a replaced layer (``--replace building``)
loses the stored records missing from the file; a deletions file names ``entity,id`` pairs.

Removing what others refer to keeps the store consistent:

* a building that a plan assigns (``grid_building``, any plan, published or history) is
  *retired*, not deleted, as in :mod:`service.storage.edits`: kind ``demolished``, no household
  count (0), no community or compound. Old plans keep their assignment rows; the grid of the
  published plan loses its households and is listed if it falls out of bounds;
* households of a removed building, persons of a removed household and buildings of a removed
  compound lose that link (set empty) and each becomes a report line;
* a community still referred to (plans, buildings, compounds, staff) is not removed: the update
  is refused, naming it.

Nothing here logs personal values.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
import shapely
from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Table, bindparam, delete, func, inspect, select, update
from sqlalchemy.orm import Session

from gridmap.attach.report import Issue
from service.storage import models as m
from service.storage.crypto import keys_of, search_hash
from service.storage.edits import DEMOLISHED
from service.storage.errors import store_error
from service.storage.footprints import keep_footprints
from service.storage.plans import grid_status_now
from service.storage.values import shapes_from_wkb

__all__ = [
    "UPDATABLE",
    "HASH_COLUMNS",
    "Changes",
    "absent_columns",
    "geometry_columns",
    "split_rows",
    "write_changes",
    "remove_records",
    "retired_buildings",
    "stored_ids",
    "grids_out_of_bounds",
]

log = logging.getLogger(__name__)

UPDATABLE: dict[str, type[m.Base]] = {
    "community": m.Community, "compound": m.Compound, "street": m.Street,
    "building": m.Building, "household": m.Household, "person": m.Person, "staff": m.Staff,
}  # fmt: skip
"""Entities ``--update``, ``--replace`` and a deletions file work on, in load order."""

HASH_COLUMNS: dict[type[m.Base], dict[str, tuple[str, str]]] = {
    m.Person: {"id_number_hash": ("id_number", "id_number"), "phone_hash": ("phone", "phone")},
    m.Staff: {"phone_hash": ("phone", "phone")},
}
"""Hash column → (value column, purpose): a Core UPDATE must set the hash itself."""
_GEOMETRY_TOLERANCE = 1e-9
"""Degrees (~0.1 mm): coordinates closer than this are the same."""
_CHUNK = 500


@dataclass
class Changes:
    """Records of one entity added, updated, kept unchanged and removed (retired included)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    retired: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict (for JSON)."""
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed, "retired": self.retired}  # fmt: skip


def _key(model: type[m.Base]) -> Any:
    return inspect(model).primary_key[0]


def stored_ids(session: Session, model: type[m.Base], ids: Iterable[str] | None = None) -> set[str]:
    """Ids of ``model`` in the store (all, or those among ``ids``)."""
    column = _key(model)
    if ids is None:
        return set(session.scalars(select(column)))
    wanted, found = sorted(set(ids)), set()
    for start in range(0, len(wanted), _CHUNK):
        found |= set(
            session.scalars(select(column).where(column.in_(wanted[start : start + _CHUNK])))
        )
    return found


def _stored_rows(session: Session, model: type[m.Base], ids: list[str]) -> dict[str, dict]:
    table = cast(Table, model.__table__)
    key = _key(model)
    rows: dict[str, dict] = {}
    for start in range(0, len(ids), _CHUNK):
        result = session.execute(select(table).where(key.in_(ids[start : start + _CHUNK])))
        rows.update({r._mapping[key.name]: dict(r._mapping) for r in result})
    return rows


def _same(new: Any, old: Any) -> bool:
    if isinstance(new, WKBElement) or isinstance(old, WKBElement):
        if new is None or old is None:
            return new is None and old is None
        a, b = shapes_from_wkb([new, old])
        return bool(shapely.equals_exact(a, b, tolerance=_GEOMETRY_TOLERANCE))
    return new == old


def absent_columns(frame: pd.DataFrame, sources: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """The store columns ``frame`` says nothing of: none of their ``sources`` (store column →
    the frame columns it is made of) holds a value in any record. A column no record fills (a
    template column left empty, a column the import added without values) is as absent as a
    missing one. Geometries are kept record by record instead (:func:`split_rows`)."""
    filled = {c for c in {c for made_of in sources.values() for c in made_of} if _filled(frame, c)}
    return frozenset(c for c, made_of in sources.items() if filled.isdisjoint(made_of))


def geometry_columns(model: type[m.Base]) -> frozenset[str]:
    """The geometry columns of ``model``'s table (``geom``, a building's ``footprint``)."""
    table = cast(Table, model.__table__)
    return frozenset(c.name for c in table.columns if isinstance(c.type, Geometry))


def _filled(frame: pd.DataFrame, column: str) -> bool:
    """Whether some record of ``frame`` has a value (not blank text) in ``column``."""
    if column not in frame.columns:
        return False
    values = frame[column].dropna()
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return len(values) > 0
    return any(str(v).strip() for v in values)  # stops at the first filled value


def split_rows(
    session: Session, model: type[m.Base], rows: list[dict[str, Any]],
    absent: Iterable[str] = (), issues: list[Issue] | None = None,
    located: Mapping[str, Collection[str]] | None = None,
) -> tuple[list[dict], list[dict], int]:  # fmt: skip
    """Split file rows into (new, changed, number unchanged) against the stored records.

    The store columns ``absent`` from the file (:func:`absent_columns`) keep their stored
    values: the changed rows lack them (new rows keep them), so they are neither compared nor
    written by :func:`write_changes`. So do the geometry columns of a stored record whose row
    has no geometry (blank in the file): the file says nothing of where it is, and a blank row
    with nothing else changed is unchanged. Buildings the file gives a point for keep their
    stored footprint and point (:func:`~service.storage.footprints.keep_footprints`); the
    report lines of those whose file point lies far outside it go to ``issues``.

    ``located``: link column → ids of the records whose link the file left empty and the import
    found by location. Such a link is no value of the file: a stored record keeps its stored
    link where none was found, and where its building's file point lies far outside the kept
    footprint (the link was found by that point, not by the footprint that stays).
    """
    key = _key(model).name
    stored = _stored_rows(session, model, [r[key] for r in rows])
    hashes = HASH_COLUMNS.get(model, {})
    kept = set(absent) - {key}
    shapes = geometry_columns(model)
    far: set[str] = set()
    if model is m.Building:
        rows, moved = keep_footprints(rows, stored)
        far = {i.record_id for i in moved}
        if issues is not None:
            issues += moved
    new, changed = [], []
    for row in rows:
        old = stored.get(row[key])
        if old is None:
            new.append(row)
            continue
        keep = kept | _links_kept(row[key], row, row[key] in far, located or {})
        if all(row.get(c) is None for c in shapes):  # blank in the file: no place given
            keep |= shapes
        given = {c: v for c, v in row.items() if c not in keep}
        if any(not _same(v, old.get(c)) for c, v in given.items() if c not in hashes):
            changed.append(given)
    return new, changed, len(rows) - len(new) - len(changed)


def _links_kept(
    rid: str, row: dict[str, Any], far: bool, located: Mapping[str, Collection[str]]
) -> set[str]:
    """The link columns of the stored record ``rid`` that keep their stored values: those of
    ``row`` found by location (``located``) that are empty, or all of them where they were
    found by a point ``far`` off the kept footprint."""
    return {c for c, ids in located.items() if rid in ids and (far or row.get(c) is None)}


def write_changes(session: Session, model: type[m.Base], rows: list[dict[str, Any]]) -> None:
    """UPDATE the stored records of ``rows``, hashes included; rows that lack a column (its
    stored value kept, see :func:`split_rows`) are written apart from those that have it."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    key = _key(model)
    keys = keys_of(session)
    params: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        values = {c: v for c, v in row.items() if c != key.name}
        for hash_column, (source, purpose) in HASH_COLUMNS.get(model, {}).items():
            if source in values:
                values[hash_column] = search_hash(values[source], purpose=purpose, keys=keys)
        params.setdefault(tuple(values), []).append({**values, "pk_": row[key.name]})
    for same_columns in params.values():
        session.execute(update(table).where(key == bindparam("pk_")), same_columns)


# --------------------------------------------------------------------------- removals
def remove_records(
    session: Session, removals: dict[str, set[str]]
) -> tuple[dict[str, tuple[int, int]], list[Issue]]:
    """Remove the given ids per entity, children first; return (removed, retired) and issues."""
    done: dict[str, tuple[int, int]] = {}
    issues: list[Issue] = []
    for entity in reversed(list(UPDATABLE)):
        ids = sorted(removals.get(entity, ()))
        if not ids:
            continue
        remover = _REMOVERS.get(entity, _delete_only)
        done[entity] = remover(session, UPDATABLE[entity], ids, issues)
        removed, retired = done[entity]
        log.info("Removed %d %s record(s) (%d retired)", removed, entity, retired)
    return done, issues


def retired_buildings(session: Session) -> set[str]:
    """Buildings kept only for the plans that assign them (removed by an earlier update)."""
    return set(session.scalars(select(m.Building.id).where(m.Building.kind == DEMOLISHED)))


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _unlink(
    session: Session, child: type[m.Base], column: str, ids: list[str], entity: str, what: str,
    issues: list[Issue],
) -> None:  # fmt: skip
    """Clear ``child.column`` where it names a removed record; one issue per child."""
    col = getattr(child, column)
    key = _key(child)
    for chunk in _chunks(ids):
        hit = session.execute(select(key, col).where(col.in_(chunk)).order_by(key)).all()
        issues += [
            Issue(entity, str(c), f"{what} removed", f"{what} {p} was removed; {column} cleared")
            for c, p in hit
        ]
        session.execute(update(child).where(col.in_(chunk)).values({column: None}))


def _delete_only(
    session: Session,
    model: type[m.Base],
    ids: list[str],
    issues: list[Issue],  # noqa: ARG001
) -> tuple[int, int]:
    key = _key(model)
    if model is m.Staff:
        for chunk in _chunks(ids):
            session.execute(delete(m.StaffGrid).where(m.StaffGrid.staff_id.in_(chunk)))
    n = 0
    for chunk in _chunks(ids):
        n += getattr(session.execute(delete(model).where(key.in_(chunk))), "rowcount", 0) or 0
    return n, 0


def _remove_households(
    session: Session, model: type[m.Base], ids: list[str], issues: list[Issue]
) -> tuple[int, int]:
    _unlink(session, m.Person, "household_id", ids, "person", "household", issues)
    return _delete_only(session, model, ids, issues)


def _remove_compounds(
    session: Session, model: type[m.Base], ids: list[str], issues: list[Issue]
) -> tuple[int, int]:
    _unlink(session, m.Building, "compound_id", ids, "building", "compound", issues)
    return _delete_only(session, model, ids, issues)


def _remove_buildings(
    session: Session, model: type[m.Base], ids: list[str], issues: list[Issue]
) -> tuple[int, int]:
    _unlink(session, m.Household, "building_id", ids, "household", "building", issues)
    assigned: set[str] = set()
    for chunk in _chunks(ids):
        assigned |= set(session.scalars(
            select(m.GridBuilding.building_id).where(m.GridBuilding.building_id.in_(chunk))
        ))  # fmt: skip
    retire = sorted(assigned)
    for chunk in _chunks(retire):
        session.execute(
            update(m.Building).where(m.Building.id.in_(chunk))
            .values(kind=DEMOLISHED, households=0, community_code=None, compound_id=None)
        )  # fmt: skip
    issues += [
        Issue("building", b, "building retired",
              "removed from the file but assigned by a plan: kept as demolished (0 households) "
              "so the plans keep their assignment")
        for b in retire
    ]  # fmt: skip
    deleted, _ = _delete_only(session, model, [b for b in ids if b not in assigned], issues)
    return deleted + len(retire), len(retire)


def _remove_communities(
    session: Session, model: type[m.Base], ids: list[str], issues: list[Issue]
) -> tuple[int, int]:
    users = []
    for child, column in ((m.Plan, "community_code"), (m.Building, "community_code"),
                          (m.Compound, "community_code"), (m.Staff, "community_code")):  # fmt: skip
        col = getattr(child, column)
        hits = session.execute(
            select(col, func.count()).where(col.in_(ids)).group_by(col).order_by(col)
        ).all()
        users += [(code, n, child.__tablename__) for code, n in hits]
    if users:
        raise store_error("communities_in_use", users=users)
    return _delete_only(session, model, ids, issues)


_REMOVERS = {
    "household": _remove_households,
    "compound": _remove_compounds,
    "building": _remove_buildings,
    "community": _remove_communities,
}


# --------------------------------------------------------------------------- published grids
def grids_out_of_bounds(session: Session) -> list[dict[str, Any]]:
    """Grids of published plans whose households NOW fall outside their plan's bounds.

    Households are re-counted from each plan's building assignment and the current buildings
    (:func:`service.storage.plans.grid_status_now`). Each item: ``plan_id, community_code,
    grid_code, households`` (in the plan), ``households_now``, ``status_now``.
    """
    published = dict(session.execute(
        select(m.Plan.id, m.Plan.community_code).where(m.Plan.status == "published")
    ).all())  # fmt: skip
    if not published:
        return []
    status = grid_status_now(session=session, plan_ids=sorted(published))
    flagged = status[status["status_now"] != "ok"]
    return [
        {"plan_id": int(r.plan_id), "community_code": published[r.plan_id],
         "grid_code": r.grid_code, "households": int(r.households),
         "households_now": int(r.households_now), "status_now": r.status_now}
        for r in flagged.itertuples()
    ]  # fmt: skip
