"""Import office files into the store: read, validate, attach, write — in ONE transaction.

:func:`import_files` reads each given file with :func:`gridmap.read_layer`, validates and
attaches the layers with :func:`gridmap.attach_all` (persons → households → buildings →
grids), then writes everything with :func:`service.storage.imports.import_bundle` in one
transaction: the import lands whole or not at all. Records that could not be attached are kept
(with an empty link) and listed in the report, written as CSV and JSON next to each other;
records with an unusable geometry and exact copies of a record are left out and listed too.
Conflicting duplicate ids, a missing column or CRS refuse the whole import. A refusal leaves
nothing behind: the files are read before the store is opened or migrated; a SQLite store file,
a schema and a data key file that a refused import made are removed again.

Layers given without their parents attach to what is already stored: households imported on
their own attach to the stored buildings, persons to the stored households; persons imported
with a households file attach to its households and to the stored ones. A persons roster
without 户号, whose household ids were made of the address (:mod:`gridmap.io.addresses`), given
without a households file, also makes one household per address the store lacks. Buildings,
compounds and streets without a community, and buildings without a compound, are linked by
location (:mod:`gridmap.attach.linking`) to the communities and compounds of the import or the
store. Such a link (and a household's building or a person's household found by the point or
address) is no value of the file: an update keeps the stored one where none is found (a row
without coordinates) and where a building's point lies far off the footprint it keeps
(:mod:`service.storage.updates`). Grids drawn without codes (奥维, Google Earth: names only) get
their community by location and their codes as gridmap makes them
(:mod:`gridmap.attach.gridcodes`); a grid in no community is left out and is a report line.

``update=True`` adds new records, updates changed ones and keeps the others (by id); with
``replace`` (entities whose layer replaces the stored one whole) and ``deletions`` (entity → ids)
it also removes records (:mod:`service.storage.updates`). Without it, ids already stored refuse
the import. Either way the result lists added / updated / unchanged / removed per entity and the
published grids whose households now fall outside their bounds.

``dry_run=True`` does all of it — reading, checks, refusals, writing in the transaction, the
summary and the report (named ``import-report-dry-run-…``) — and rolls the transaction back
instead of committing, so it cannot differ from the real import: nothing is kept. A store that
did not exist (no SQLite file, no schema) is made for the dry run and removed again, as after a
refusal (:attr:`ImportResult.new_store` says so). A store at an older schema is refused (a dry
run does not migrate it); one at the newest schema is not touched by Alembic. A dry run that
would make the data key file (no key yet, a store bound to none) uses a throwaway key held in
memory instead: no key file is written or announced, and what it encrypted is rolled back.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, Integer, String, select, text
from sqlalchemy.engine import make_url

from gridmap.attach.chain import attach_all
from gridmap.attach.geomrepair import REJECTED_REASONS
from gridmap.attach.gridcodes import code_grids
from gridmap.attach.linking import geometry_present, link_community, link_compound, missing_links
from gridmap.attach.report import AttachReport, Issue, record_labels
from gridmap.attach.validate import validate_layer
from gridmap.crs import STORAGE_CRS, to_storage_crs
from gridmap.errors import InputError
from gridmap.io.addresses import households_of_persons
from gridmap.io.layers import read_layer
from gridmap.io.notes import ReadNote
from gridmap.io.readerrors import read_error
from gridmap.schema import ENTITIES
from service.settings import Settings, normalise_database_url
from service.storage import crypto
from service.storage import models as m
from service.storage.crypto import EncryptedString, check_store_key, settings_of
from service.storage.errors import store_error
from service.storage.imports import STORE_KEYS, ImportBundle, ProgressCallback, import_bundle
from service.storage.keys import DataKeyError, announce_new_key, new_key_unannounced
from service.storage.loads import load_buildings, load_communities, load_compounds
from service.storage.migrate import (
    current_revision,
    downgrade_database,
    refuse_newer,
    upgrade_database,
)
from service.storage.session import make_engine, session_scope
from service.storage.updates import UPDATABLE, Changes
from service.storage.values import clean_int, clean_text

__all__ = ["ENTITY_ORDER", "ImportResult", "read_sources", "read_deletions", "entity_name",
           "import_files"]  # fmt: skip

log = logging.getLogger(__name__)

ENTITY_ORDER = ("community", "compound", "street", "building", "household", "person", "staff",
                "grid")  # fmt: skip
"""Entities an import can load, in the order they are read and written."""

StepCallback = Callable[[str], None]


@dataclass
class ImportResult:
    """What an import did: records read per entity, rows written per table, the report."""

    read: dict[str, int]
    counts: dict[str, int]
    report: AttachReport
    import_run_id: int
    plans: dict[str, int] = field(default_factory=dict)
    report_paths: dict[str, Path] = field(default_factory=dict)
    linked: dict[str, int] = field(default_factory=dict)
    """Records linked by location: ``"building → community"`` … → count."""
    changes: dict[str, Changes] = field(default_factory=dict)
    """Entity → added / updated / unchanged / removed."""
    out_of_bounds: list[dict[str, Any]] = field(default_factory=list)
    """Published grids whose households now fall outside their bounds (to re-district)."""
    notes: list[ReadNote] = field(default_factory=list)
    """What reading the files detected (text encoding, layer chosen, ids generated), once each."""
    dry_run: bool = False
    """Nothing was kept: the import was rolled back (``import_run_id`` and ``plans`` are 0:
    no run or plan was recorded)."""
    new_store: bool = False
    """A dry run on a store that did not exist: it was made for the dry run and removed again."""


def read_sources(
    sources: Mapping[str, str | Path],
    *,
    layers: Mapping[str, str] | None = None,
    mapping: Mapping[str, str] | str | Path | None = None,
    crs: str | int | Mapping[str, str] | None = None,
    encoding: str | None = None,
    step: StepCallback | None = None,
    notes: list[ReadNote] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read each ``entity → file`` of ``sources`` into canonical frames (no validation yet).

    Every file goes through :func:`gridmap.read_layer`, as in ``gridmap partition``:
    ``layers`` names the GeoPackage layer / XLSX sheet / shapefile in a zip per entity (a layer
    named like the entity is found without it), ``crs`` is the CRS of files that declare none
    (or entity → CRS, ``""`` for the others), ``encoding`` overrides the detected text
    encoding. The problems of all files are raised together in one
    :class:`~gridmap.errors.InputError`; each frame's ``attrs["notes"]`` says what was detected,
    and goes to ``notes`` (if given) as soon as the file is read, so that a refused import
    can still say it.
    """
    unknown = sorted(set(sources) - set(ENTITY_ORDER))
    if unknown:
        raise store_error("import_unknown_entities", unknown=unknown, known=list(ENTITY_ORDER))
    frames: dict[str, pd.DataFrame] = {}
    errors: list[InputError] = []
    for entity in ENTITY_ORDER:
        if entity not in sources:
            continue
        path = Path(sources[entity])
        if step:
            step(f"read {entity} ({path.name})")
        try:
            frames[entity] = read_layer(
                path, entity, layer=(layers or {}).get(entity), mapping=mapping,
                crs=crs.get(entity, crs.get("")) if isinstance(crs, Mapping) else crs,
                encoding=encoding, keep_extra=entity == "street",  # tunnel/layer/boundary …
                required=_REQUIRED_ON_IMPORT.get(entity),
            )  # fmt: skip
        except InputError as exc:  # CRSError included: gather every file's problems
            errors.append(exc)
            continue
        if notes is not None:
            notes += frames[entity].attrs.get("notes", [])
    if errors:
        raise InputError.gather(errors)
    return frames


_REQUIRED_ON_IMPORT: dict[str, tuple[str, ...]] = {"grid": ()}
"""Entity → the columns an import needs where it needs fewer than the entity's ``required``:
grids drawn in 奥维 or Google Earth have neither grid code nor community code; the import
makes them (:func:`_code_grids`)."""


# A key file made for an import is said once data is stored with it, never when the import is
# refused or a dry run (it is removed again).
@new_key_unannounced()
def import_files(
    sources: Mapping[str, str | Path],
    *,
    engine: Engine | None = None,
    url: str | None = None,
    layers: Mapping[str, str] | None = None,
    mapping: Mapping[str, str] | str | Path | None = None,
    crs: str | int | Mapping[str, str] | None = None,
    encoding: str | None = None,
    report_dir: str | Path | None = None,
    migrate: bool = True,
    step: StepCallback | None = None,
    progress: ProgressCallback | None = None,
    update: bool = False,
    replace: Collection[str] = (),
    deletions: Mapping[str, Collection[str]] | str | Path | None = None,
    lang: str = "zh",
    notes: list[ReadNote] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import files into the store in one transaction and write the report.

    Parameters
    ----------
    sources
        Entity → file, e.g. ``{"building": "bijiang.gpkg", "household": "户籍.xlsx"}``.
    engine, url
        The store (default: ``GRIDMAP_DATABASE_URL``). It is migrated first unless
        ``migrate=False``.
    layers, mapping, crs, encoding
        See :func:`read_sources` and :func:`gridmap.read_layer`.
    report_dir
        Where ``import-report-<time>.csv`` and ``.json`` are written (default: not written).
    lang
        The language of the report files' words (``"zh"`` Chinese, ``"en"``); their
        ``entity`` and ``reason`` columns are codes either way.
    step, progress
        Progress hooks: ``step(description)`` per stage, ``progress(table, done, total)`` per
        batch of rows written.
    update
        Add new records, update changed ones, keep unchanged ones (by id). Without it, ids
        already stored refuse the import.
    replace
        Entities whose file replaces the stored layer whole: stored records missing from the
        file are removed (needs ``update``).
    deletions
        Entity → ids to remove, or a CSV file with columns ``entity,id`` (needs ``update``).
    notes
        A list that gets what reading the files noticed (:class:`~gridmap.io.notes.ReadNote`)
        as it is noticed, also when the import is refused afterwards: a note may say why
        (``gridmap import`` prints them before the refusal). :attr:`ImportResult.notes` holds
        them either way.
    dry_run
        Do everything and roll the transaction back: the result and report say what the import
        would do; nothing is kept (see the module's description).

    Raises
    ------
    gridmap.errors.InputError
        A file is unreadable or has fatal problems (nothing written).
    gridmap.errors.ImportAborted
        Writing failed; the transaction was rolled back (nothing written).
    """
    removals = _check_removals(update, replace, deletions, sources)
    notes = [] if notes is None else notes
    # The files are read before the store is touched: a file refused leaves no store file,
    # schema or data key behind.
    frames = read_sources(sources, layers=layers, mapping=mapping, crs=crs,
                          encoding=encoding, step=step, notes=notes)  # fmt: skip
    own_engine = engine is None
    store_files = _new_store_files(url) if own_engine else []
    engine = engine or make_engine(url)
    made = _Made(store_files, _new_key_file(engine))
    kept_settings = None  # the engine's settings while a dry run uses a throwaway key
    try:
        new = bool(store_files)
        if dry_run and migrate and made.key_files and not _store_has_key(engine, new=new):
            kept_settings, made.key_files = _use_throwaway_key(engine), []
        migrated = False
        if migrate:
            current = current_revision(engine)
            made.schema = current is None
            migrated = _migrate(engine, current, dry_run=dry_run and not made.schema)
        read = {entity: len(frame) for entity, frame in frames.items()}
        with session_scope(engine, commit=not dry_run) as session:
            if migrate and not migrated:  # the key check of a migration, rolled back with it
                check_store_key(session.connection())
            bundle, report, linked = _prepare(session, frames, step, notes)
            _fit_store_columns(bundle, report)
            bundle.sources = {e: Path(p).name for e, p in sources.items()}
            bundle.update, bundle.deletions = update, removals
            bundle.located = _links_left_empty(frames)
            bundle.replace = frozenset(entity_name(e) for e in replace)
            if step:
                step("write to the store")
            summary = import_bundle(session=session, bundle=bundle, progress=progress)
        new_store = bool(made.store_files or made.schema)
        if dry_run:  # rolled back: what the import made for it goes too
            made.undo(engine, own_engine=own_engine)
        elif made.key_files and made.key_files[-1].exists():
            announce_new_key(made.key_files[-1])
        made = _Made()  # committed (or undone): nothing left to undo
        report.extend(summary.issues)
        result = ImportResult(read=read, counts=summary.counts, report=report,
                              import_run_id=0 if dry_run else summary.import_run_id,
                              plans=(dict.fromkeys(summary.plans, 0) if dry_run else summary.plans),
                              linked=linked, changes=summary.changes,
                              out_of_bounds=summary.out_of_bounds,
                              notes=list(dict.fromkeys(notes)), dry_run=dry_run,
                              new_store=dry_run and new_store)  # fmt: skip
        if report_dir is not None:
            result.report_paths = _write_report(report, Path(report_dir), lang, dry_run=dry_run)
        log.info("Import %s %s %s; %d report line(s)", result.import_run_id or "(dry run)",
                 "would write" if dry_run else "wrote", result.counts, len(report))  # fmt: skip
        return result
    except BaseException:
        made.undo(engine, own_engine=own_engine)
        raise
    finally:
        if kept_settings is not None:  # the engine's own key again; the throwaway forgotten
            crypto.use_settings(engine, kept_settings)
            crypto.forget_keys()
        if own_engine:
            engine.dispose()


def _store_has_key(engine: Engine, *, new: bool) -> bool:
    """Whether the store (``new``: a SQLite file not made yet) is bound to a key already."""
    if new:  # connecting would make the file
        return False
    with engine.connect() as connection:
        return crypto.store_has_key(connection)


def _use_throwaway_key(engine: Engine) -> Settings:
    """Give ``engine`` a new key held in memory only, for a dry run that would make the key
    file: no file is written and no new key announced (what the dry run encrypts with it is
    rolled back). Returns the engine's settings, to give back after the dry run."""
    settings = settings_of(engine)
    crypto.use_settings(engine, settings.model_copy(update={"data_key": crypto.generate_key()}))
    return settings


@dataclass
class _Made:
    """What a refused import made before it was refused, to be undone so that a refusal leaves
    nothing behind: the SQLite store file (and its folders) it created, the schema it migrated
    a store to that had none, and the data key file created for them. A key made for a store
    that keeps its schema is kept (the store has recorded its fingerprint)."""

    store_files: list[Path] = field(default_factory=list)
    """Store file, journals and folders missing before the import, outermost first."""
    key_files: list[Path] = field(default_factory=list)
    """The data key file and its folders, if missing before the import."""
    schema: bool = False
    """The store had no schema before this import migrated it."""

    def undo(self, engine: Engine, *, own_engine: bool) -> None:
        removed = own_engine and bool(self.store_files)
        unmigrated = False
        if self.schema and not removed:
            unmigrated = _unmigrate(engine)
        if own_engine:
            engine.dispose()
        paths = self.store_files if removed else []
        if removed or unmigrated:
            paths = paths + [p for p in self.key_files if p not in paths]
            if self.key_files:  # a later import in this process must not use a removed key
                crypto.forget_keys()
        for path in reversed(paths):
            try:
                if path.is_dir():
                    path.rmdir()  # only if empty: never a folder someone filled meanwhile
                elif path.exists():
                    path.unlink()
            except OSError as exc:
                log.warning("Could not remove %s after the refused import: %s", path, exc)


def _migrate(engine: Engine, current: str | None, *, dry_run: bool) -> bool:
    """Migrate the store at revision ``current`` (True) or, for a dry run on a store with a
    schema, check it is the newest (False: the dry run checks the data key in its own
    transaction). A store newer than this gridmap is refused alike (``store_newer``)."""
    if not dry_run:
        upgrade_database(engine)
        return True
    state, head = refuse_newer(current)
    if state != "current":
        raise store_error("dry_run_needs_migration", current=current, head=head)
    return False


def _unmigrate(engine: Engine) -> bool:
    """Take a store this import migrated back to no schema; False if that failed."""
    try:
        downgrade_database(engine, revision="base")
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    except Exception as exc:  # the refusal is what the user must hear, not this
        log.warning("Could not take the store back to no schema after the refused import: %s",
                    exc)  # fmt: skip
        return False
    return True


def _new_store_files(url: str | None) -> list[Path]:
    """The SQLite store file of ``url`` (with its journals and folders) if it does not exist
    yet; nothing for PostgreSQL or an existing file."""
    database = make_url(normalise_database_url(url or Settings().database_url))
    name = database.database
    if database.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return []
    store = Path(name).expanduser().absolute()
    if store.exists():
        return []
    return _missing_parts(store) + [store.with_name(store.name + s) for s in _SQLITE_SIDE_FILES]


def _new_key_file(engine: Engine) -> list[Path]:
    """The data key file of ``engine`` and its folders if it does not exist yet."""
    try:
        settings = settings_of(engine)
    except DataKeyError:  # an engine not made by make_engine: its key is not this import's
        return []
    if settings.data_key:
        return []
    key = Path(settings.data_key_file).expanduser().absolute()
    return [] if key.exists() else _missing_parts(key)


_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")


def _missing_parts(path: Path) -> list[Path]:
    """``path`` and those of its folders that do not exist, outermost first."""
    missing = [path]
    for parent in path.parents:
        if parent.exists():
            break
        missing.insert(0, parent)
    return missing


def _prepare(
    session: Any,
    frames: dict[str, pd.DataFrame],
    step: StepCallback | None,
    notes: list[ReadNote],
) -> tuple[ImportBundle, AttachReport, dict[str, int]]:
    """Validate, attach and link the frames (to stored parents where a layer is missing); what
    was noticed on the way goes to ``notes``."""
    report = AttachReport()
    simple: dict[str, pd.DataFrame | None] = {}
    for entity in ("compound", "staff"):
        if entity in frames:
            if step:
                step(f"validate {entity}")
            simple[entity], issues = validate_layer(frames[entity], entity)
            report.extend(issues)
    made = _make_households_of_persons(session, frames, notes)
    grids_linked = _code_grids(session, frames, report, notes)
    given = {e: frames.get(e) for e in ("community", "grid", "building", "household", "person")}
    stored = _stored_parents(session, given, households_made=made)
    result = attach_all(
        communities=given["community"], grids=given["grid"],
        buildings=given["building"] if given["building"] is not None else stored.get("building"),
        households=(given["household"] if given["household"] is not None
                    else stored.get("household")),
        persons=given["person"], streets=frames.get("street"), progress=step,
        buildings_for_persons=stored.get("buildings_for_persons"),
        households_for_persons=stored.get("households_for_persons"),
    )  # fmt: skip
    report.extend(result.report.issues)
    persons = result.persons
    if given["person"] is not None and given["household"] is None and persons is not None:
        _check_persons_housed(persons, given["person"], report)
    if given["person"] is not None and given["household"] is not None and persons is not None:
        persons = _house_in_store(session, persons, report)
    bundle = ImportBundle(
        communities=result.communities if given["community"] is not None else None,
        compounds=simple.get("compound"), streets=result.streets,
        buildings=result.buildings if given["building"] is not None else None,
        households=result.households if given["household"] is not None else None,
        persons=persons, staff=simple.get("staff"),
        grids=result.grids if given["grid"] is not None else None,
    )  # fmt: skip
    _check_rejected_communities(session, bundle, report)
    linked = _link_by_location(session, bundle, report, step)
    return bundle, report, {**linked, **grids_linked}


def _code_grids(
    session: Any, frames: dict[str, pd.DataFrame], report: AttachReport, notes: list[ReadNote]
) -> dict[str, int]:
    """Grids without grid code or community code (drawn in 奥维 or Google Earth): their
    community found by location among the communities of the import and the store, their codes
    made as gridmap makes them (:func:`gridmap.attach.gridcodes.code_grids`); a note says what
    was made, a grid in no community is left out with a report line. Returns what was linked by
    location (``"grid → community"``)."""
    grids = frames.get("grid")
    if not isinstance(grids, gpd.GeoDataFrame) or not len(grids):
        return {}
    if not (missing_links(grids, "grid_code") | missing_links(grids, "community_code")).any():
        return {}
    given = frames.get("community")
    if isinstance(given, gpd.GeoDataFrame):
        given = given[geometry_present(given) & ~missing_links(given, "community_code")]
    communities = _link_targets(given, load_communities(session=session), "community_code")
    out = code_grids(to_storage_crs(grids, layer="grid"), communities)
    frames["grid"] = out.frame
    report.extend(out.issues)
    note = out.note(str(grids.attrs.get("source") or "grids"))
    if note is not None:
        notes.append(note)
    return {"grid → community": out.located} if out.located else {}


def _check_rejected_communities(session: Any, bundle: ImportBundle, report: AttachReport) -> None:
    """Refuse records naming a community of this import that was left out (a boundary that
    crosses itself beyond repair, no geometry) and is not stored, saying why it was left out;
    else the store refuses them for a community "neither in this import nor in the store"."""
    left_out = {i.record_id: i for i in report
                if i.entity == "community" and i.reason in REJECTED_REASONS}  # fmt: skip
    if left_out:
        query = select(m.Community.code).where(m.Community.code.in_(sorted(left_out)))
        for code in session.scalars(query):
            left_out.pop(code, None)
    if not left_out:
        return
    named: list[tuple[str, tuple[str, str], str, list[str], int]] = []
    for entity, attr in (("compound", "compounds"), ("street", "streets"),
                         ("building", "buildings"), ("grid", "grids")):  # fmt: skip
        frame = getattr(bundle, attr)
        if frame is None or "community_code" not in frame.columns:
            continue
        naming = frame["community_code"].isin(set(left_out))
        if not naming.any():
            continue
        labels = record_labels(frame[naming], ENTITIES[entity]).astype(str)
        for code, ids in labels.groupby(frame.loc[naming, "community_code"], sort=True):
            why = left_out[str(code)]
            named.append((str(code), (why.message("en"), why.message("zh")), entity,
                          ids.tolist()[:10], len(ids)))  # fmt: skip
    if named:
        raise store_error("communities_left_out", left_out=named)


def _check_persons_housed(persons: pd.DataFrame, read: pd.DataFrame, report: AttachReport) -> None:
    """Refuse persons imported without households when none of them names a stored household:
    the households were not imported yet (a report line per person would hide that)."""
    unknown = sum(1 for i in report if i.entity == "person" and i.reason == "unknown household")
    if unknown and not persons["household_id"].notna().any():
        file = str(read.attrs.get("source") or "persons")
        raise store_error("persons_without_households", file=file, n=unknown, total=len(persons))


def _make_households_of_persons(
    session: Any, frames: dict[str, pd.DataFrame], notes: list[ReadNote]
) -> bool:
    """A persons roster without 户号 and no household roster: one household per address the
    persons' household ids were made of and the store lacks (:mod:`gridmap.io.addresses`), added
    to ``frames``, and a note saying so to ``notes``. True if it made any."""
    persons = frames.get("person")
    if persons is None or "household" in frames:
        return False
    made = households_of_persons(persons)
    if not len(made):
        return False
    stored = _stored_household_ids(session, made["household_id"])
    new = made[~made["household_id"].isin(stored)].reset_index(drop=True)
    if not len(new):
        return False
    households = gpd.GeoDataFrame(new, geometry=[None] * len(new), crs=STORAGE_CRS)
    file = str(persons.attrs.get("source") or "persons")
    notes.append(ReadNote.of("households_of_persons", file, n=len(new), stored=len(stored)))
    frames["household"] = households
    return True


def _stored_household_ids(session: Any, ids: Collection[str]) -> set[str]:
    """Those of ``ids`` the store holds as households (looked up 500 at a time)."""
    wanted = sorted(set(ids))
    stored: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        stored |= set(session.scalars(select(m.Household.id).where(m.Household.id.in_(chunk))))
    return stored


def _house_in_store(session: Any, persons: pd.DataFrame, report: AttachReport) -> pd.DataFrame:
    """Persons imported with a households file keep a household the file lacks but the store
    holds (an office adds a few households and gives its whole roster): their household is set
    back and their ``unknown household`` line dropped. Only the households named are looked up."""
    named = {i.record_id: str(dict(i.values)["household_id"]) for i in report
             if i.entity == "person" and i.code == "unknown_household"}  # fmt: skip
    if not named:
        return persons
    stored = _stored_household_ids(session, named.values())
    housed = {record: key for record, key in named.items() if key in stored}
    if not housed:
        return persons
    found = record_labels(persons, ENTITIES["person"]).astype(str).map(housed)
    report.issues[:] = [i for i in report if not (i.entity == "person" and
                        i.code == "unknown_household" and i.record_id in housed)]  # fmt: skip
    return persons.assign(household_id=persons["household_id"].where(found.isna(), found))


def _link_by_location(
    session: Any, bundle: ImportBundle, report: AttachReport, step: StepCallback | None
) -> dict[str, int]:
    """Fill missing communities (and buildings' compounds) by location; count what was linked."""
    layers = {"compound": bundle.compounds, "street": bundle.streets,
              "building": bundle.buildings}  # fmt: skip
    needing = {e: f for e, f in layers.items()
               if isinstance(f, gpd.GeoDataFrame) and len(f)
               and missing_links(f, "community_code").any()}  # fmt: skip
    linked: dict[str, int] = {}
    if needing:
        if step:
            step("link by location")
        communities = _link_targets(bundle.communities, load_communities(session=session),
                                    "community_code")  # fmt: skip
        if not len(communities):  # none imported or stored yet: nothing to link to
            needing = {}
        for entity, frame in needing.items():
            out = link_community(to_storage_crs(frame, layer=entity), communities, entity)
            setattr(bundle, _BUNDLE_LAYERS[entity], out.frame)
            linked[f"{entity} → community"] = out.linked
            _extend_once(report, out.issues)
    buildings = bundle.buildings
    if (isinstance(buildings, gpd.GeoDataFrame) and len(buildings)
            and missing_links(buildings, "compound_id").any()):  # fmt: skip
        compounds = _link_targets(bundle.compounds, load_compounds(session=session),
                                  "compound_id")  # fmt: skip
        if len(compounds):
            out = link_compound(to_storage_crs(buildings, layer="building"), compounds)
            bundle.buildings = out.frame
            linked["building → compound"] = out.linked
    return {k: v for k, v in linked.items() if v}


_FOUND_BY_LOCATION = {"compound": ("community_code",), "street": ("community_code",),
                      "building": ("community_code", "compound_id"),
                      "household": ("building_id",), "person": ("household_id",)}  # fmt: skip
"""Entity → the links the import finds by location where a file leaves them empty
(:func:`_link_by_location`, a building's community also by its grid, a household's building
and a person's household by the point or address in :func:`gridmap.attach_all`)."""


def _links_left_empty(frames: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, frozenset[str]]]:
    """Entity → link column → ids of the records whose link the file (as read) leaves empty:
    what the import fills for them is found, not given (:attr:`ImportBundle.located`)."""
    out: dict[str, dict[str, frozenset[str]]] = {}
    for entity, columns in _FOUND_BY_LOCATION.items():
        frame = frames.get(entity)
        id_column = ENTITIES[entity].id_column
        if frame is None or id_column not in frame:
            continue
        ids = frame[id_column].map(clean_text)
        out[entity] = {c: frozenset(ids[missing_links(frame, c) & ids.notna()]) for c in columns}
    return out


def _link_targets(
    given: gpd.GeoDataFrame | None, stored: gpd.GeoDataFrame, key: str
) -> gpd.GeoDataFrame:
    """Polygons of the import, plus the stored ones the import does not replace (EPSG:4326)."""
    if not isinstance(given, gpd.GeoDataFrame) or not len(given):
        return stored
    given = to_storage_crs(given[[key, given.geometry.name]])
    given = given.rename_geometry("geometry") if given.geometry.name != "geometry" else given
    rest = stored[~stored[key].isin(set(given[key]))][[key, "geometry"]]
    return gpd.GeoDataFrame(pd.concat([given, rest], ignore_index=True), crs=given.crs)


def _extend_once(report: AttachReport, issues: list[Issue]) -> None:
    """Add ``issues`` not already in ``report`` (the cross-checks also list buildings outside)."""
    seen = {(i.entity, i.record_id, i.reason) for i in report}
    report.extend(i for i in issues if (i.entity, i.record_id, i.reason) not in seen)


def _stored_parents(
    session: Any, given: dict[str, pd.DataFrame | None], *, households_made: bool = False
) -> dict[str, Any]:
    """Stored buildings / household ids, for children imported without their parents (and the
    households' addresses and the buildings, for persons without 户号 found by theirs or by
    their point). Persons whose roster made new households (``households_made``) are linked
    to the stored households too (``households_for_persons``)."""
    stored: dict[str, Any] = {}
    if given["household"] is not None and given["building"] is None:
        buildings = load_buildings(session=session, footprints=True)
        if len(buildings):
            stored["building"] = buildings[["building_id", "address", "community_code",
                                            "geometry"]]  # fmt: skip
    if given["person"] is not None and (given["household"] is None or households_made):
        columns: list[Any] = [m.Household.id]
        if "address" in given["person"].columns:  # persons without 户号 found by address
            columns.append(m.Household.address)
        rows = session.execute(select(*columns)).all()
        households = pd.DataFrame(
            rows, columns=["household_id", "address"][: len(columns)], dtype="str"
        )
        stored["households_for_persons" if households_made else "household"] = households
        if households_made:  # the stored buildings are loaded above, for the households made
            return stored
        if isinstance(given["person"], gpd.GeoDataFrame):  # persons found by their point
            buildings = load_buildings(session=session, footprints=True)
            stored["buildings_for_persons"] = buildings[["building_id", "geometry"]]
    return stored


_BUNDLE_LAYERS = {"community": "communities", "compound": "compounds", "street": "streets",
                  "building": "buildings", "household": "households", "person": "persons",
                  "staff": "staff"}  # fmt: skip
_INT32 = (-(2**31), 2**31 - 1)


def _fit_store_columns(bundle: ImportBundle, report: AttachReport) -> None:
    """Clear (and report) values the store's columns cannot hold: over-long text, huge numbers.

    Both backends then behave alike (SQLite would store them, PostgreSQL refuse the whole
    transaction). An over-long id, reference or required value (a community's name) refuses
    the import with an InputError naming it.
    """
    bad_keys: list[tuple[str, str, str, str]] = []
    for entity, attr in _BUNDLE_LAYERS.items():
        frame = getattr(bundle, attr)
        if frame is None or not len(frame):
            continue
        ent = ENTITIES[entity]
        table = UPDATABLE[entity].__table__
        for col in frame.columns:
            target = table.c.get(STORE_KEYS[entity] if col == ent.id_column else col)
            if target is None or isinstance(target.type, EncryptedString):
                continue
            too_big, limit = _out_of_range(frame[col], target.type)
            if not too_big.any():
                continue
            labels = record_labels(frame[too_big], ent).map(lambda v: str(v)[:24])
            if col == ent.id_column or target.foreign_keys or not target.nullable:
                bad_keys += [(entity, str(i), col, limit) for i in labels]
                continue
            frame = frame.assign(**{col: frame[col].astype(object).where(~too_big, None)})
            setattr(bundle, attr, frame)
            lo, _, hi = limit.partition("..")
            report.extend(
                Issue.of(entity, i, "out_of_store_range", column=col, lo=int(lo), hi=int(hi))
                if hi else Issue.of(entity, i, "too_long", column=col, limit=int(limit))
                for i in labels
            )  # fmt: skip
    if bad_keys:
        raise store_error("too_long_for_store", items=bad_keys[:10], n=len(bad_keys))


def _out_of_range(values: pd.Series, kind: Any) -> tuple[pd.Series, str]:
    """Which values a column of type ``kind`` cannot hold, and the limit: ``"N"`` characters
    or the range ``"lo..hi"``."""
    if isinstance(kind, String) and kind.length:
        n = kind.length
        if isinstance(values.dtype, pd.StringDtype):  # the whole column at once
            return values.str.strip().str.len().gt(n).fillna(False).astype(bool), str(n)
        return values.map(lambda v: isinstance(v, str) and len(v.strip()) > n).astype(bool), str(n)
    if isinstance(kind, Integer):
        lo, hi = _INT32
        if pd.api.types.is_integer_dtype(values.dtype):
            return (values.lt(lo) | values.gt(hi)).fillna(False).astype(bool), f"{lo}..{hi}"

        def outside(v: Any) -> bool:
            number = clean_int(v)
            return number is not None and not lo <= number <= hi

        return values.map(outside).astype(bool), f"{lo}..{hi}"
    return pd.Series(False, index=values.index), ""


def entity_name(text: str) -> str:
    """``"Buildings"`` → ``"building"``: the entity a user wrote, singular or plural."""
    name = str(text).strip().lower()
    plural = {layer: entity for entity, layer in _BUNDLE_LAYERS.items()}
    return plural.get(name, name)


def read_deletions(path: str | Path) -> dict[str, set[str]]:
    """Entity → ids from a deletions CSV with columns ``entity,id`` (UTF-8 or GB18030).

    Raises
    ------
    InputError
        Missing columns, unknown entities or empty ids, naming the rows.
    """
    path = Path(path)
    if not path.is_file():
        raise read_error("file_not_found", path=str(path))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise read_error("not_text", file=path.name) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise read_error("table_unreadable", file=path.name, detail=str(exc)) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if not {"entity", "id"} <= set(frame.columns):
        raise read_error("deletions_lack_columns", file=path.name, found=list(frame.columns))
    entity = frame["entity"].map(entity_name)
    ids = frame["id"].str.strip()
    bad = [int(i) + 2 for i in frame.index[~entity.isin(list(UPDATABLE)) | ids.eq("")]]
    if bad:
        raise read_error("deletions_bad_rows", file=path.name, rows=bad[:10], n_rows=len(bad),
                         known=list(UPDATABLE))  # fmt: skip
    out: dict[str, set[str]] = {}
    for e, i in zip(entity, ids, strict=True):
        out.setdefault(e, set()).add(i)
    return out


def _check_removals(
    update: bool,
    replace: Collection[str],
    deletions: Mapping[str, Collection[str]] | str | Path | None,
    sources: Mapping[str, Any],
) -> dict[str, set[str]]:
    """The deletions as entity → ids, after checking the removal options fit together."""
    if (replace or deletions is not None) and not update:
        raise store_error("removal_needs_update")
    replace = [entity_name(e) for e in replace]
    unknown = sorted(set(replace) - set(UPDATABLE))
    if unknown:
        raise store_error("replace_unknown", entities=unknown, known=list(UPDATABLE))
    missing = sorted(set(replace) - set(sources))
    if missing:
        raise store_error("replace_without_file", entities=missing)
    if deletions is None:
        return {}
    if isinstance(deletions, str | Path):
        return read_deletions(deletions)
    return {e: {str(i) for i in ids} for e, ids in deletions.items()}


def _write_report(
    report: AttachReport, directory: Path, lang: str, *, dry_run: bool = False
) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    base = directory / f"import-report-{'dry-run-' if dry_run else ''}{stamp}"
    return {
        "csv": report.to_csv(base.with_suffix(".csv"), lang),
        "json": report.to_json(base.with_suffix(".json"), lang),
    }
