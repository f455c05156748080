"""Write a whole import (communities … staff, existing grids) in ONE transaction.

:func:`import_bundle` takes frames with the canonical columns of :mod:`gridmap.schema` (as
:func:`gridmap.read_layer` gives them, validated and attached), checks ids and references so
that an error names the records, and writes every table; it lands whole or not at all. Existing
(hand-drawn) grids become one plan per community, published when the community has none.

Nothing here logs or returns personal values (names, ID numbers, phones).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, cast

import geopandas as gpd
import pandas as pd
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gridmap.attach.report import Issue
from gridmap.errors import ImportAborted
from service.storage import models as m
from service.storage.plans import publish_plan, save_plan
from service.storage.updates import (
    UPDATABLE,
    Changes,
    grids_out_of_bounds,
    remove_records,
    retired_buildings,
    split_rows,
    stored_ids,
    write_changes,
)
from service.storage.values import (
    as_multiline,
    as_multipolygon,
    as_point,
    clean_int,
    clean_text,
    column_values,
    parse_dates,
    storage_geometries,
    to_wkb,
)

__all__ = ["STORE_KEYS", "ImportBundle", "ImportSummary", "ProgressCallback", "import_bundle"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
"""``progress(table, done, total)``, called while rows are written."""

_BATCH = 2000
_LIST_SPLIT = re.compile(r"[,;，；、\s]+")


@dataclass
class ImportBundle:
    """Frames of one import, canonical columns, already validated and attached."""

    communities: gpd.GeoDataFrame | None = None
    compounds: gpd.GeoDataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None
    households: gpd.GeoDataFrame | pd.DataFrame | None = None
    persons: pd.DataFrame | None = None
    staff: pd.DataFrame | None = None
    grids: gpd.GeoDataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)
    """Entity → source file name (names only, recorded in ``import_run``)."""
    update: bool = False
    """Add new records, update changed ones, keep the rest (else stored ids are refused)."""
    replace: frozenset[str] = frozenset()
    """Entities whose stored records missing from the file are removed (needs ``update``)."""
    deletions: dict[str, set[str]] = field(default_factory=dict)
    """Entity → ids to remove (needs ``update``)."""


@dataclass
class ImportSummary:
    """What an import wrote: rows per table, the import run id and the plans created."""

    counts: dict[str, int]
    import_run_id: int
    plans: dict[str, int] = field(default_factory=dict)
    changes: dict[str, Changes] = field(default_factory=dict)
    """Entity → added / updated / unchanged / removed (every import fills it)."""
    issues: list[Issue] = field(default_factory=list)
    """Report lines of the removals (links cleared, buildings retired)."""
    out_of_bounds: list[dict[str, Any]] = field(default_factory=list)
    """Published grids whose households now fall outside their bounds (see ``updates``)."""


# --------------------------------------------------------------------------- frame → rows
_Clean = Callable[[Any], Any]
_COMMUNITY_FIELDS: dict[str, tuple[str, _Clean]] = {
    "code": ("community_code", clean_text),
    "name": ("name", clean_text),
    "subdistrict": ("subdistrict", clean_text),
    "code_year": ("code_year", clean_int),
}
_COMPOUND_FIELDS: dict[str, tuple[str, _Clean]] = {
    "id": ("compound_id", clean_text),
    "name": ("name", clean_text),
    "community_code": ("community_code", clean_text),
    "property_company": ("property_company", clean_text),
}
_STREET_FIELDS: dict[str, tuple[str, _Clean]] = {
    "id": ("street_id", clean_text),
    "name": ("name", clean_text),
    "community_code": ("community_code", clean_text),
}
_BUILDING_FIELDS: dict[str, tuple[str, _Clean]] = {
    "id": ("building_id", clean_text),
    **{k: (k, clean_text) for k in ("code", "name", "address", "kind")},
    **{k: (k, clean_int) for k in ("floors", "units", "households")},
    "compound_id": ("compound_id", clean_text),
    "community_code": ("community_code", clean_text),
}
_HOUSEHOLD_FIELDS: dict[str, tuple[str, _Clean]] = {
    "id": ("household_id", clean_text),
    **{k: (k, clean_text) for k in ("building_id", "address", "unit", "floor", "room")},
    "head_person_id": ("head_person_id", clean_text),
    "size": ("size", clean_int),
}
"""Store column → (frame column, cleaner); the first frame column (the id) must be there."""


def _feature_rows(
    f: pd.DataFrame,
    fields: dict[str, tuple[str, _Clean]],
    shapes: dict[str, Callable[[Any], Any]],
) -> list[dict[str, Any]]:
    """One row per record: each store column from its frame column, cleaned (None where the
    frame lacks an optional column), then each ``shapes`` column: its shape of the
    geometry, as WKB."""
    (id_column, _), *rest = fields.values()
    values = [f[id_column].tolist(), *(column_values(f, c) for c, _ in rest)]
    cleaners = [(key, clean) for key, (_, clean) in fields.items()]
    return [
        {**{key: clean(v) for (key, clean), v in zip(cleaners, rec, strict=True)},
         **{key: to_wkb(shape(g)) for key, shape in shapes.items()}}
        for *rec, g in zip(*values, storage_geometries(f), strict=True)
    ]  # fmt: skip


def _footprint(g: Any) -> Any:
    polygonal = g is not None and g.geom_type in ("Polygon", "MultiPolygon")
    return as_multipolygon(g) if polygonal else None


def _community_rows(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return _feature_rows(f, _COMMUNITY_FIELDS, {"geom": as_multipolygon})


def _compound_rows(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    rows = _feature_rows(f, _COMPOUND_FIELDS, {"geom": as_multipolygon})
    for row in rows:  # a compound without a name is called by its id
        row["name"] = row["name"] or row["id"]
    return rows


def _street_rows(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return _feature_rows(f, _STREET_FIELDS, {"geom": as_multiline})


def _building_rows(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return _feature_rows(f, _BUILDING_FIELDS, {"geom": as_point, "footprint": _footprint})


def _household_rows(f: pd.DataFrame) -> list[dict[str, Any]]:
    return _feature_rows(f, _HOUSEHOLD_FIELDS, {"geom": as_point})


def _person_rows(f: pd.DataFrame) -> list[dict[str, Any]]:
    def tags(value: Any) -> str | None:
        if isinstance(value, list | tuple | set):
            return ",".join(str(v) for v in value) or None
        return clean_text(value)

    births = parse_dates(f["birth_date"]) if "birth_date" in f else [None] * len(f)
    return [
        {
            "id": clean_text(r["person_id"]),
            "household_id": clean_text(r["household_id"]),
            "name": clean_text(r.get("name")),
            "id_number": clean_text(r.get("id_number")),
            "phone": clean_text(r.get("phone")),
            "sex": clean_text(r.get("sex")),
            "birth_date": birth,
            "relationship": clean_text(r.get("relationship")),
            "population_type": clean_text(r.get("population_type")),
            "tags": tags(r.get("tags")),
        }
        for r, birth in zip(f.to_dict("records"), births, strict=True)
    ]


def _staff_rows(f: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    staff, links = [], []
    for r in f.to_dict("records"):
        sid = clean_text(r["staff_id"])
        staff.append(
            {
                "id": sid,
                "name": clean_text(r.get("name")),
                "role": clean_text(r.get("role")),
                "phone": clean_text(r.get("phone")),
                "community_code": clean_text(r.get("community_code")),
            }
        )
        codes = {c for c in _LIST_SPLIT.split(clean_text(r.get("grid_codes")) or "") if c}
        links += [{"staff_id": sid, "grid_code": c} for c in sorted(codes)]
    return staff, links


# --------------------------------------------------------------------------- import
def _check_file_ids(model: type[m.Base], key: str, rows: list[dict]) -> None:
    counts = Counter(r[key] for r in rows)
    dupes = sorted(i for i, n in counts.items() if n > 1)
    if not dupes:
        return
    listing = ", ".join(map(str, dupes[:10])) + (" …" if len(dupes) > 10 else "")
    raise ImportAborted(
        f"{model.__tablename__} id(s) {listing} appear more than once in the file; nothing was "
        "written. Remove the duplicates."
    )


def _check_not_stored(session: Session, model: type[m.Base], key: str, rows: list[dict]) -> None:
    existing = sorted(stored_ids(session, model, [r[key] for r in rows]))
    if existing:
        listing = ", ".join(map(str, existing[:10])) + (" …" if len(existing) > 10 else "")
        raise ImportAborted(
            f"{model.__tablename__} id(s) {listing} are already in the store; nothing was "
            "written. To add new records and update changed ones, import with --update "
            "(import_files(..., update=True)); or import into a fresh store."
        )


_REFERENCES: dict[str, tuple[tuple[str, type[m.Base], str], ...]] = {
    "compound": (("community_code", m.Community, "code"),),
    "building": (("compound_id", m.Compound, "id"), ("community_code", m.Community, "code")),
    "household": (("building_id", m.Building, "id"),),
    "person": (("household_id", m.Household, "id"),),
    "staff": (("community_code", m.Community, "code"),),
}
"""Foreign keys checked before writing, so an error names the records instead of a constraint."""


def _check_references(session: Session, table: str, key: str, rows: list[dict]) -> None:
    for column, target, target_key in _REFERENCES.get(table, ()):
        wanted = sorted({r[column] for r in rows if r[column] is not None})
        target_col = getattr(target, target_key)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found |= set(session.scalars(select(target_col).where(target_col.in_(chunk))))
        missing = set(wanted) - found
        if missing:
            bad = [str(r[key]) for r in rows if r[column] in missing]
            listing = ", ".join(bad[:10]) + (" …" if len(bad) > 10 else "")
            raise ImportAborted(
                f"{len(bad)} {table} record(s) ({listing}) "
                f"name a {column} that is neither in this import nor in the store "
                f"({', '.join(sorted(missing)[:10])}); nothing was written. Import the "
                f"{target.__tablename__} records first or fix the {column} values."
            )


def _insert(session: Session, model: type[m.Base], rows: list[dict], progress: Any) -> int:
    # Core INSERT of complete rows: one executemany per batch (psycopg 3 pipelines it; SQLite
    # steps one prepared statement). The ORM bulk insert split rows by which values are None,
    # which made thousands of small statements and round trips on PostGIS.
    table = model.__tablename__
    batch = _BATCH
    for start in range(0, len(rows), batch):
        session.execute(insert(cast(Table, model.__table__)), rows[start : start + batch])
        if progress:
            progress(table, min(start + batch, len(rows)), len(rows))
    log.info("Wrote %d %s row(s)", len(rows), table)
    return len(rows)


def import_bundle(
    *, session: Session, bundle: ImportBundle, progress: ProgressCallback | None = None
) -> ImportSummary:
    """Write ``bundle`` in one transaction; on any error nothing is written.

    If ``session`` has no transaction open, this commits; inside the caller's transaction it
    only flushes and the caller commits (or rolls back).

    Raises
    ------
    ImportAborted
        Duplicate or already-stored ids, or a database constraint failed; the transaction was
        rolled back and the message names the table (never personal values).
    """
    started = dt.datetime.now(dt.UTC)
    scope = nullcontext() if session.in_transaction() else session.begin()
    try:
        with scope:
            return _write_bundle(session, bundle, started, progress)
    except SQLAlchemyError as exc:
        session.rollback()
        raise ImportAborted(f"Import rolled back, nothing was written: {_describe(exc)}") from None
    except Exception:
        session.rollback()
        raise


def _describe(exc: SQLAlchemyError) -> str:
    # Database messages may quote whole rows (personal data): keep only class and constraint.
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    parts = [type(orig or exc).__name__]
    statement = getattr(exc, "statement", None) or ""
    target = re.match(r"\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", statement, re.I)
    if target and diag is None:
        parts.append(f"table {target.group(1)}")
    for attr in ("table_name", "constraint_name"):
        if diag is not None and getattr(diag, attr, None):
            parts.append(f"{attr.split('_')[0]} {getattr(diag, attr)}")
    if diag is None and orig is not None:  # SQLite messages name the constraint, not values
        parts.append(str(orig).split(":")[0])
    return "; ".join(parts) + ". Check the import report and the ids it names."


def _write_bundle(
    session: Session, bundle: ImportBundle, started: dt.datetime, progress: Any
) -> ImportSummary:
    if (bundle.replace or bundle.deletions) and not bundle.update:
        raise ImportAborted("Removing records (replace, deletions) needs update mode.")
    counts: dict[str, int] = {}
    changes: dict[str, Changes] = {}
    file_ids: dict[str, set[str]] = {}
    steps: list[tuple[str, pd.DataFrame | None, Callable[[Any], list]]] = [
        ("community", bundle.communities, _community_rows),
        ("compound", bundle.compounds, _compound_rows),
        ("street", bundle.streets, _street_rows),
        ("building", bundle.buildings, _building_rows),
        ("household", bundle.households, _household_rows),
        ("person", bundle.persons, _person_rows),
    ]
    for entity, frame, to_rows in steps:
        if frame is not None and len(frame):
            model = UPDATABLE[entity]
            rows = to_rows(frame)
            file_ids[entity] = {r[STORE_KEYS[entity]] for r in rows}
            changes[entity] = _write_table(
                session, model, STORE_KEYS[entity], rows, bundle, progress
            )
            counts[model.__tablename__] = changes[entity].added + changes[entity].updated
    if bundle.staff is not None and len(bundle.staff):
        staff, links = _staff_rows(bundle.staff)
        file_ids["staff"] = {r["id"] for r in staff}
        changes["staff"], counts["staff_grid"] = _write_staff(session, staff, links, bundle,
                                                              progress)  # fmt: skip
        counts["staff"] = changes["staff"].added + changes["staff"].updated
    issues = _remove(session, bundle, file_ids, changes) if bundle.update else []
    plans: dict[str, int] = {}
    if bundle.grids is not None and len(bundle.grids):
        session.flush()
        plans = _import_grids(session, bundle.grids, bundle.buildings, bundle.sources.get("grid"))
        counts["plan"] = len(plans)
        counts["grid"] = len(bundle.grids)
    session.flush()
    flagged = grids_out_of_bounds(session)
    audit = {**counts, "changes": {e: c.as_dict() for e, c in changes.items()}}
    run = m.ImportRun(started_at=started, finished_at=dt.datetime.now(dt.UTC),
                      sources=dict(bundle.sources), counts=audit)  # fmt: skip
    session.add(run)
    session.flush()
    return ImportSummary(counts=counts, import_run_id=run.id, plans=plans, changes=changes,
                         issues=issues, out_of_bounds=flagged)  # fmt: skip


STORE_KEYS = {"community": "code", "compound": "id", "street": "id", "building": "id",
         "household": "id", "person": "id", "staff": "id"}  # fmt: skip
"""Key of each entity's store rows."""


def _write_table(
    session: Session, model: type[m.Base], key: str, rows: list[dict], bundle: ImportBundle,
    progress: Any,
) -> Changes:  # fmt: skip
    """Insert new rows; in update mode also update changed ones (unchanged ones are kept)."""
    _check_file_ids(model, key, rows)
    if bundle.update:
        new, changed, same = split_rows(session, model, rows)
    else:
        _check_not_stored(session, model, key, rows)
        new, changed, same = rows, [], 0
    session.flush()
    _check_references(session, model.__tablename__, key, new + changed)
    _insert(session, model, new, progress)
    write_changes(session, model, changed)
    return Changes(added=len(new), updated=len(changed), unchanged=same)


def _write_staff(
    session: Session, staff: list[dict], links: list[dict], bundle: ImportBundle, progress: Any
) -> tuple[Changes, int]:
    """Staff and their grid links; a staff member whose links changed counts as updated."""
    _check_file_ids(m.Staff, "id", staff)
    if not bundle.update:
        _check_not_stored(session, m.Staff, "id", staff)
        _check_references(session, "staff", "id", staff)
        _insert(session, m.Staff, staff, progress)
        return Changes(added=len(staff)), _insert(session, m.StaffGrid, links, progress)
    new, changed, _ = split_rows(session, m.Staff, staff)
    wanted: dict[str, set[str]] = {}
    for link in links:
        wanted.setdefault(link["staff_id"], set()).add(link["grid_code"])
    ids = [r["id"] for r in staff]
    stored: dict[str, set[str]] = {}
    for sid, code in session.execute(
        select(m.StaffGrid.staff_id, m.StaffGrid.grid_code).where(m.StaffGrid.staff_id.in_(ids))
    ):
        stored.setdefault(sid, set()).add(code)
    touched = {r["id"] for r in new + changed}
    changed += [
        r for r in staff if r["id"] not in touched and wanted.get(r["id"]) != stored.get(r["id"])
    ]
    _check_references(session, "staff", "id", new + changed)
    _insert(session, m.Staff, new, progress)
    write_changes(session, m.Staff, changed)
    redo = [r["id"] for r in changed]
    if redo:
        session.execute(delete(m.StaffGrid).where(m.StaffGrid.staff_id.in_(redo)))
    relinked = [link for link in links if link["staff_id"] in touched | set(redo)]
    written = _insert(session, m.StaffGrid, relinked, progress)
    same = len(staff) - len(new) - len(changed)
    return Changes(added=len(new), updated=len(changed), unchanged=same), written


def _remove(
    session: Session, bundle: ImportBundle, file_ids: dict[str, set[str]],
    changes: dict[str, Changes],
) -> list[Issue]:  # fmt: skip
    """Remove replaced layers' missing records and the deletions; fill ``changes``."""
    removals: dict[str, set[str]] = {}
    issues: list[Issue] = []
    for entity in sorted(bundle.replace):
        if entity not in file_ids:
            raise ImportAborted(
                f"--replace {entity} needs the {entity} file (the layer that replaces the "
                "stored one); nothing was written."
            )
        removals[entity] = stored_ids(session, UPDATABLE[entity]) - file_ids[entity]
        if entity == "building":  # retired by an earlier update: already gone from the layer
            removals[entity] -= retired_buildings(session)
    for entity, ids in sorted(bundle.deletions.items()):
        both = sorted(set(ids) & file_ids.get(entity, set()))
        if both:
            raise ImportAborted(
                f"{entity} id(s) {', '.join(both[:10])} are both in the deletions file and in "
                f"the {entity} file; nothing was written. Keep each in one place."
            )
        found = stored_ids(session, UPDATABLE[entity], ids)
        issues += [Issue(entity, i, "not in the store", "listed for deletion but not stored")
                   for i in sorted(set(ids) - found)]  # fmt: skip
        removals[entity] = removals.get(entity, set()) | found
    session.flush()
    done, removal_issues = remove_records(session, removals)
    for entity, (removed, retired) in done.items():
        entry = changes.setdefault(entity, Changes())
        entry.removed, entry.retired = removed, retired
    return issues + removal_issues


def _import_grids(
    session: Session, grids: gpd.GeoDataFrame, buildings: pd.DataFrame | None, source: str | None
) -> dict[str, int]:
    """Existing (hand-drawn) grids become one plan per community, published if none is.

    Buildings attached to grids (a ``grid_code`` column, see :func:`gridmap.attach_all`)
    keep that assignment; otherwise each stored building goes to the grid containing its point.
    """
    assignment = None
    if buildings is not None and "grid_code" in buildings:
        linked = buildings[buildings["grid_code"].notna()]
        assignment = pd.Series(
            linked["grid_code"].map(clean_text).to_numpy(),
            index=linked["building_id"].map(clean_text),
        )
    plans = {}
    for code, part in grids.groupby(grids["community_code"].map(clean_text), sort=True):
        published = session.scalar(
            select(m.Plan.id).where(m.Plan.community_code == code, m.Plan.status == "published")
        )
        part_assignment = (
            None if assignment is None else assignment[assignment.isin(part["grid_code"])]
        )
        plan_id = save_plan(
            session=session, community_code=code, grids=part, source="import",
            assignment=part_assignment,
            name=f"imported {source or 'grids'}", params={"source": source},
        )  # fmt: skip
        if published is None:
            publish_plan(session=session, plan_id=plan_id)
        plans[code] = plan_id
    return plans
