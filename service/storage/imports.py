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
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Table, delete, insert, literal, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gridmap.attach.report import Issue
from gridmap.streets import BOUNDARY_COLUMNS, BOUNDARY_TAGS, boundary_mask
from service.storage import models as m
from service.storage.bulk import Columns, bulk_insert, can_bulk_insert
from service.storage.errors import store_error
from service.storage.plans import publish_plan, save_plan
from service.storage.updates import (
    UPDATABLE,
    Changes,
    absent_columns,
    geometry_columns,
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
    located: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    """Entity → link column → ids of the records whose link (``community_code``, a building's
    ``compound_id``, a household's ``building_id``, a person's ``household_id``) the file leaves
    empty and the import finds by location: no value of the file. On update such a stored
    record keeps its stored link where none was found, and where its point was found far off
    its kept footprint."""


@dataclass
class ImportSummary:
    """What an import wrote: rows per table, the import run id and the plans created."""

    counts: dict[str, int]
    import_run_id: int
    plans: dict[str, int] = field(default_factory=dict)
    changes: dict[str, Changes] = field(default_factory=dict)
    """Entity → added / updated / unchanged / removed (every import fills it)."""
    issues: list[Issue] = field(default_factory=list)
    """Report lines of the update (buildings whose file point lies outside their kept
    footprint) and of the removals (links cleared, buildings retired)."""
    out_of_bounds: list[dict[str, Any]] = field(default_factory=list)
    """Published grids whose households now fall outside their bounds (see ``updates``)."""


# --------------------------------------------------------------------------- frame → rows
_Clean = Callable[[Any], Any]


def _fields(key: str, column: str, texts: tuple[str, ...] = (),
            ints: tuple[str, ...] = ()) -> dict[str, tuple[str, _Clean]]:  # fmt: skip
    """Store column → (frame column, cleaner): the id ``key`` from frame column ``column`` (it
    must be there), then text and whole-number columns named alike in the store and the frame."""
    return {key: (column, clean_text), **{k: (k, clean_text) for k in texts},
            **{k: (k, clean_int) for k in ints}}  # fmt: skip


_COMMUNITY_FIELDS = _fields("code", "community_code", ("name", "subdistrict"), ("code_year",))
_COMPOUND_FIELDS = _fields("id", "compound_id", ("name", "community_code", "property_company"))
_STREET_FIELDS = _fields("id", "street_id", ("name", "community_code"))
_BUILDING_FIELDS = _fields(
    "id", "building_id",
    ("code", "name", "address", "kind", "compound_id", "community_code"),
    ("floors", "units", "households"),
)  # fmt: skip
_HOUSEHOLD_FIELDS = _fields(
    "id", "household_id", ("building_id", "address", "unit", "floor", "room", "head_person_id"),
    ("size",),
)  # fmt: skip


def _texts(values: pd.Series) -> list[Any]:
    """:func:`clean_text` of every value (stripped text, blank → None), vectorised for text."""
    if isinstance(values.dtype, pd.StringDtype):
        stripped = values.str.strip()
        return list(stripped.mask(stripped.eq("")).to_numpy(dtype=object, na_value=None))
    return [clean_text(v) for v in values.tolist()]


def _ints(values: pd.Series) -> list[Any]:
    """:func:`clean_int` of every value, vectorised for integer columns."""
    if pd.api.types.is_integer_dtype(values.dtype):
        return list(values.astype("Int64").to_numpy(dtype=object, na_value=None))
    return [clean_int(v) for v in values.tolist()]


_VECTORISED: dict[_Clean, Callable[[pd.Series], list[Any]]] = {clean_text: _texts,
                                                                clean_int: _ints}  # fmt: skip


def _column(f: pd.DataFrame, column: str, clean: _Clean) -> list[Any]:
    if column not in f.columns:
        return [None] * len(f)
    return _VECTORISED[clean](f[column])


def _feature_columns(
    f: pd.DataFrame,
    fields: dict[str, tuple[str, _Clean]],
    shapes: dict[str, Callable[[Any], Any]],
) -> Columns:
    """Each store column from its frame column, cleaned (None where the frame lacks an optional
    column), then each ``shapes`` column: its shape of the (storage CRS) geometry."""
    out = {key: _column(f, column, clean) for key, (column, clean) in fields.items()}
    geoms = storage_geometries(f)
    for key, shape in shapes.items():
        out[key] = _points(geoms) if shape is as_point else [shape(g) for g in geoms]
    return out


def _points(geoms: list[Any]) -> list[Any]:
    """:func:`as_point` of every geometry at once (points kept, others a point on their surface)."""
    array = np.empty(len(geoms), dtype=object)
    array[:] = geoms
    missing = shapely.is_missing(array) | shapely.is_empty(array)
    other = ~missing & (shapely.get_type_id(array) != shapely.GeometryType.POINT)
    if other.any():
        array[other] = shapely.point_on_surface(array[other])
    array[missing] = None
    return list(array)


def _footprint(g: Any) -> Any:
    polygonal = g is not None and g.geom_type in ("Polygon", "MultiPolygon")
    return as_multipolygon(g) if polygonal else None


def _community_rows(f: gpd.GeoDataFrame) -> Columns:
    return _feature_columns(f, _COMMUNITY_FIELDS, {"geom": as_multipolygon})


def _compound_rows(f: gpd.GeoDataFrame) -> Columns:
    cols = _feature_columns(f, _COMPOUND_FIELDS, {"geom": as_multipolygon})
    # a compound without a name is called by its id
    cols["name"] = [name or i for name, i in zip(cols["name"], cols["id"], strict=True)]
    return cols


def _street_rows(f: gpd.GeoDataFrame) -> Columns:
    cols = _feature_columns(f, _STREET_FIELDS, {"geom": as_multiline})
    # whether it may bound a grid: its tags or boundary column, as gridmap partition reads them
    cols["boundary"] = boundary_mask(f).tolist()
    return cols


def _building_rows(f: gpd.GeoDataFrame) -> Columns:
    return _feature_columns(f, _BUILDING_FIELDS, {"geom": as_point, "footprint": _footprint})


def _household_rows(f: pd.DataFrame) -> Columns:
    return _feature_columns(f, _HOUSEHOLD_FIELDS, {"geom": as_point})


def _person_rows(f: pd.DataFrame) -> Columns:
    def tags(value: Any) -> str | None:
        if isinstance(value, list | tuple | set):
            return ",".join(str(v) for v in value) or None
        return clean_text(value)

    cols = {key: _column(f, column, clean_text) for key, column in _PERSON_FIELDS.items()}
    cols["birth_date"] = parse_dates(f["birth_date"]) if "birth_date" in f else [None] * len(f)
    if "tags" not in f.columns:
        cols["tags"] = [None] * len(f)
    elif isinstance(f["tags"].dtype, pd.StringDtype):
        cols["tags"] = _texts(f["tags"])
    else:
        cols["tags"] = [tags(v) for v in f["tags"].tolist()]
    return cols


_PERSON_FIELDS = {"id": "person_id", "household_id": "household_id", "name": "name",
                  "id_number": "id_number", "phone": "phone", "sex": "sex",
                  "relationship": "relationship", "population_type": "population_type"}  # fmt: skip
"""Person store column → frame column (text); ``birth_date`` and ``tags`` are parsed apart."""


def _made_of(fields: dict[str, tuple[str, _Clean]]) -> dict[str, tuple[str, ...]]:
    return {key: (column,) for key, (column, _) in fields.items()}


_BOUNDARY_SOURCES = (*BOUNDARY_COLUMNS, *BOUNDARY_TAGS)
"""The columns :func:`boundary_mask` reads: a street file with none says nothing of it."""
_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "community": _made_of(_COMMUNITY_FIELDS),
    "compound": _made_of(_COMPOUND_FIELDS),
    "street": {**_made_of(_STREET_FIELDS), "boundary": _BOUNDARY_SOURCES},
    "building": _made_of(_BUILDING_FIELDS),
    "household": _made_of(_HOUSEHOLD_FIELDS),
    "person": {**{key: (column,) for key, column in _PERSON_FIELDS.items()},
               "birth_date": ("birth_date",), "tags": ("tags",)},
    "staff": {"id": ("staff_id",), "name": ("name",), "role": ("role",), "phone": ("phone",),
              "community_code": ("community_code",), "grid_codes": ("grid_codes",)},
}  # fmt: skip
"""Entity → store column → the frame columns it is made of (``grid_codes``: the staff's grid
links), for :func:`~service.storage.updates.absent_columns`: an update keeps the stored values
of the columns a file lacks (and, record by record, a geometry the file leaves blank)."""


def _columns(rows: list[dict[str, Any]]) -> Columns:
    """Row dicts (the same keys in each) as columns."""
    return {key: [r[key] for r in rows] for key in rows[0]} if rows else {}


def _records(model: type[m.Base], cols: Columns) -> list[dict[str, Any]]:
    """Columns as row dicts, geometries as WKB elements (what the update comparison reads)."""
    shapes = geometry_columns(model)
    values = [[to_wkb(g) for g in v] if k in shapes else v for k, v in cols.items()]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def _select(cols: Columns, keep: list[bool]) -> Columns:
    return {k: [v for v, ok in zip(vs, keep, strict=True) if ok] for k, vs in cols.items()}


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
def _check_file_ids(model: type[m.Base], ids: list[Any]) -> None:
    counts = Counter(ids)
    dupes = sorted(i for i, n in counts.items() if n > 1) if len(counts) < len(ids) else []
    if not dupes:
        return
    raise store_error("repeated_in_file", table=model.__tablename__, ids=dupes)


def _is_empty(session: Session, model: type[m.Base]) -> bool:
    table = cast(Table, model.__table__)
    return session.execute(select(literal(1)).select_from(table).limit(1)).first() is None


def _check_not_stored(session: Session, model: type[m.Base], ids: list[Any]) -> None:
    if _is_empty(session, model):  # a fresh table: no id can be there (and no query per id)
        return
    existing = sorted(stored_ids(session, model, ids))
    if existing:
        raise store_error("already_stored", table=model.__tablename__, ids=existing)


_REFERENCES: dict[str, tuple[tuple[str, type[m.Base], str], ...]] = {
    "compound": (("community_code", m.Community, "code"),),
    "building": (("compound_id", m.Compound, "id"), ("community_code", m.Community, "code")),
    "household": (("building_id", m.Building, "id"),),
    "person": (("household_id", m.Household, "id"),),
    "staff": (("community_code", m.Community, "code"),),
}
"""Foreign keys checked before writing, so an error names the records instead of a constraint."""


def _check_references(
    session: Session, table: str, key: str, cols: Columns, written: dict[str, set[Any]]
) -> None:
    """Refuse records naming a parent neither written by this import (``written``: table →
    ids) nor stored; only the parents not written by the import are looked up."""
    for column, target, target_key in _REFERENCES.get(table, ()):
        if column not in cols:
            continue
        values = cols[column]
        wanted = sorted(set(values) - {None} - written.get(target.__tablename__, set()))
        target_col = getattr(target, target_key)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found |= set(session.scalars(select(target_col).where(target_col.in_(chunk))))
        missing = set(wanted) - found
        if missing:
            bad = [str(i) for i, v in zip(cols[key], values, strict=True) if v in missing]
            raise store_error("unknown_references", table=table, column=column,
                              target=target.__tablename__, records=bad[:10], n=len(bad),
                              missing=sorted(missing)[:10])  # fmt: skip


def _check_required(model: type[m.Base], key: str, cols: Columns) -> None:
    """Refuse records without a value the store requires, naming them (before the database
    refuses the whole insert without saying which record)."""
    table = cast(Table, model.__table__)
    for column in table.columns:
        if column.nullable or column.primary_key or column.server_default is not None:
            continue
        values = cols.get(column.name)
        if values is None or column.default is not None:
            continue
        bad = [str(i) for i, v in zip(cols[key], values, strict=True) if v is None]
        if bad:
            raise store_error("required_missing", table=table.name, column=column.name,
                              records=bad[:10], n=len(bad))  # fmt: skip


def _insert(session: Session, model: type[m.Base], cols: Columns, progress: Any) -> int:
    """INSERT new rows given as columns: :func:`bulk_insert` (COPY on PostgreSQL, one prepared
    statement on SQLite), or a Core executemany per batch where it does not apply."""
    table = cast(Table, model.__table__)
    n = len(next(iter(cols.values()))) if cols else 0
    if not n:
        return 0
    if can_bulk_insert(table, list(cols)):
        step = (lambda done, total: progress(table.name, done, total)) if progress else None
        bulk_insert(session, table, cols, progress=step, chunk=_BATCH)
    else:
        rows = _records(model, cols)
        for start in range(0, n, _BATCH):
            session.execute(insert(table), rows[start : start + _BATCH])
            if progress:
                progress(table.name, min(start + _BATCH, n), n)
    log.info("Wrote %d %s row(s)", n, table.name)
    return n


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
        raise store_error("rolled_back", **_describe(exc)) from None
    except Exception:
        session.rollback()
        raise


def _describe(exc: SQLAlchemyError) -> dict[str, str]:
    """The values of STORE_ERRORS ``rolled_back``: the error's class, table and constraint.
    Database messages may quote whole rows (personal data): only these are kept."""
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    out = {"kind": type(orig or exc).__name__}
    statement = getattr(exc, "statement", None) or ""
    target = re.match(r"\s*(?:INSERT INTO|UPDATE|DELETE FROM|COPY)\s+\"?(\w+)", statement, re.I)
    if target and diag is None:
        out["table"] = target.group(1)
    for attr in ("table_name", "constraint_name"):
        if diag is not None and getattr(diag, attr, None):
            out[attr.split("_")[0]] = str(getattr(diag, attr))
    if diag is None and orig is not None:  # SQLite messages name the constraint, not values
        out["failed"] = str(orig).split(":")[0]
    return out


def _write_bundle(
    session: Session, bundle: ImportBundle, started: dt.datetime, progress: Any
) -> ImportSummary:
    if (bundle.replace or bundle.deletions) and not bundle.update:
        raise store_error("removal_needs_update")
    counts: dict[str, int] = {}
    changes: dict[str, Changes] = {}
    file_ids: dict[str, set[str]] = {}
    steps: list[tuple[str, pd.DataFrame | None, Callable[[Any], Columns]]] = [
        ("community", bundle.communities, _community_rows),
        ("compound", bundle.compounds, _compound_rows),
        ("street", bundle.streets, _street_rows),
        ("building", bundle.buildings, _building_rows),
        ("household", bundle.households, _household_rows),
        ("person", bundle.persons, _person_rows),
    ]
    written: dict[str, set[Any]] = {}  # table → ids this import wrote (or found unchanged)
    issues: list[Issue] = []  # report lines of the update (buildings' points far off)
    for entity, frame, to_rows in steps:
        if frame is not None and len(frame):
            model = UPDATABLE[entity]
            cols = to_rows(frame)
            file_ids[entity] = set(cols[STORE_KEYS[entity]])
            absent = absent_columns(frame, _SOURCES[entity])
            changes[entity] = _write_table(
                session, model, STORE_KEYS[entity], cols, bundle, progress, written, absent, issues,
                bundle.located.get(entity, {}),
            )  # fmt: skip
            written[model.__tablename__] = file_ids[entity]
            counts[model.__tablename__] = changes[entity].added + changes[entity].updated
    if bundle.staff is not None and len(bundle.staff):
        staff, links = _staff_rows(bundle.staff)
        file_ids["staff"] = {r["id"] for r in staff}
        absent = absent_columns(bundle.staff, _SOURCES["staff"])
        changes["staff"], counts["staff_grid"] = _write_staff(
            session, staff, links, bundle, progress, written, absent
        )
        counts["staff"] = changes["staff"].added + changes["staff"].updated
    issues += _remove(session, bundle, file_ids, changes) if bundle.update else []
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
    session: Session, model: type[m.Base], key: str, cols: Columns, bundle: ImportBundle,
    progress: Any, written: dict[str, set[Any]], absent: frozenset[str], issues: list[Issue],
    located: Mapping[str, frozenset[str]],
) -> Changes:  # fmt: skip
    """Insert new rows; in update mode also update changed ones (unchanged ones are kept, and
    so are the stored values of the columns ``absent`` from the file, and the links found by
    location that :func:`split_rows` keeps, ``located``); the update's report lines go to
    ``issues``."""
    ids = cols[key]
    _check_file_ids(model, ids)
    _check_required(model, key, cols)
    if bundle.update:
        new, changed, same = split_rows(session, model, _records(model, cols), absent, issues,
                                        located)  # fmt: skip
        session.flush()
        fresh = {r[key] for r in new}
        redone = fresh | {r[key] for r in changed}
        table = model.__tablename__
        _check_references(session, table, key, _select(cols, [i in redone for i in ids]), written)
        _insert(session, model, _select(cols, [i in fresh for i in ids]), progress)
        write_changes(session, model, changed)
        return Changes(added=len(new), updated=len(changed), unchanged=same)
    _check_not_stored(session, model, ids)
    session.flush()
    _check_references(session, model.__tablename__, key, cols, written)
    _insert(session, model, cols, progress)
    return Changes(added=len(ids))


def _write_staff(
    session: Session, staff: list[dict], links: list[dict], bundle: ImportBundle, progress: Any,
    written: dict[str, set[Any]], absent: frozenset[str],
) -> tuple[Changes, int]:  # fmt: skip
    """Staff and their grid links; a staff member whose links changed counts as updated. A
    roster without grid links (``grid_codes`` ``absent``) keeps the stored links on update."""
    _check_file_ids(m.Staff, [r["id"] for r in staff])
    _check_required(m.Staff, "id", _columns(staff))
    if not bundle.update:
        _check_not_stored(session, m.Staff, [r["id"] for r in staff])
        _check_references(session, "staff", "id", _columns(staff), written)
        _insert(session, m.Staff, _columns(staff), progress)
        return Changes(added=len(staff)), _insert(session, m.StaffGrid, _columns(links), progress)
    new, changed, _ = split_rows(session, m.Staff, staff, absent)
    _check_references(session, "staff", "id", _columns(new + changed), written)
    _insert(session, m.Staff, _columns(new), progress)
    write_changes(session, m.Staff, changed)
    touched = {r["id"] for r in new + changed}
    relinked: set[str] = set()  # without grid links in the file the stored ones stay
    if "grid_codes" not in absent:
        relinked = _links_changed(session, staff, links, touched)
        redo = sorted({r["id"] for r in changed} | relinked)
        if redo:
            session.execute(delete(m.StaffGrid).where(m.StaffGrid.staff_id.in_(redo)))
    links = [link for link in links if link["staff_id"] in touched | relinked]
    written_links = _insert(session, m.StaffGrid, _columns(links), progress)
    updated = len(changed) + len(relinked)
    same = len(staff) - len(new) - updated
    return Changes(added=len(new), updated=updated, unchanged=same), written_links


def _links_changed(
    session: Session, staff: list[dict], links: list[dict], touched: set[str]
) -> set[str]:
    """Staff not in ``touched`` whose stored grid links differ from the file's."""
    wanted: dict[str, set[str]] = {}
    for link in links:
        wanted.setdefault(link["staff_id"], set()).add(link["grid_code"])
    ids = [r["id"] for r in staff if r["id"] not in touched]
    stored: dict[str, set[str]] = {}
    for start in range(0, len(ids), 500):
        for sid, code in session.execute(
            select(m.StaffGrid.staff_id, m.StaffGrid.grid_code)
            .where(m.StaffGrid.staff_id.in_(ids[start : start + 500]))
        ):  # fmt: skip
            stored.setdefault(sid, set()).add(code)
    return {i for i in ids if wanted.get(i) != stored.get(i)}


def _remove(
    session: Session, bundle: ImportBundle, file_ids: dict[str, set[str]],
    changes: dict[str, Changes],
) -> list[Issue]:  # fmt: skip
    """Remove replaced layers' missing records and the deletions; fill ``changes``."""
    removals: dict[str, set[str]] = {}
    issues: list[Issue] = []
    for entity in sorted(bundle.replace):
        if entity not in file_ids:
            raise store_error("replace_without_file", entities=[entity])
        removals[entity] = stored_ids(session, UPDATABLE[entity]) - file_ids[entity]
        if entity == "building":  # retired by an earlier update: already gone from the layer
            removals[entity] -= retired_buildings(session)
    for entity, ids in sorted(bundle.deletions.items()):
        both = sorted(set(ids) & file_ids.get(entity, set()))
        if both:
            raise store_error("deleted_and_in_file", table=entity, ids=both)
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
