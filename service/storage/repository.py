"""Write side of the store, and the loads the library and notebooks need.

Every function is keyword-only and takes an open :class:`~sqlalchemy.orm.Session`; frames come
in with the canonical columns of :mod:`gridmap.schema` (as :func:`gridmap.io.read_layer` gives
them) and go out as GeoDataFrames in EPSG:4326.

:func:`import_bundle` writes a whole import in ONE transaction: it lands whole or not at all.
Plans: :func:`save_plan` stores a draft (grids + the building → grid assignment),
:func:`publish_plan` makes it the community's published plan in one transaction and keeps the
previous one as ``superseded`` history.

No function here logs or returns personal values (names, ID numbers, phones).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gridmap.crs import STORAGE_CRS, to_storage_crs
from gridmap.errors import GridmapError, ImportAborted, InputError
from service.storage import models as m

__all__ = [
    "ImportBundle",
    "ImportSummary",
    "NotFoundError",
    "import_bundle",
    "save_plan",
    "publish_plan",
    "load_plan",
    "list_plans",
    "load_assignment",
    "load_community",
    "list_communities",
    "load_buildings",
    "table_counts",
    "number_grids",
]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
"""``progress(table, done, total)``, called while rows are written."""

_BATCH = 2000
_LIST_SPLIT = re.compile(r"[,;，；、\s]+")


class NotFoundError(GridmapError, LookupError):
    """A community or plan asked for is not in the store."""


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


@dataclass
class ImportSummary:
    """What an import wrote: rows per table, the import run id and the plans created."""

    counts: dict[str, int]
    import_run_id: int
    plans: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- value helpers
def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else int(number)


def _dates(values: pd.Series) -> list[dt.date | None]:
    """Dates from ISO (``1981-04-22``), ``19810422`` or ``1981/04/22`` text; others → None."""
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    for fmt in ("%Y%m%d", "%Y/%m/%d", "%Y.%m.%d"):
        missing = parsed.isna() & text.notna()
        if not missing.any():
            break
        parsed[missing] = pd.to_datetime(text[missing], errors="coerce", format=fmt)
    return [None if pd.isna(v) else v.date() for v in parsed]


def _col(frame: pd.DataFrame, column: str) -> list[Any]:
    return frame[column].tolist() if column in frame.columns else [None] * len(frame)


def _multipolygon(geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = shapely.get_parts(geom)
    polys = [p for part in parts for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polys) if polys else None


def _multiline(geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    lines = [p for p in shapely.get_parts(geom) if p.geom_type == "LineString"]
    return shapely.MultiLineString(lines) if lines else None


def _point(geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    return geom if geom.geom_type == "Point" else geom.point_on_surface()


def _wkb(geom: BaseGeometry | None) -> Any:
    return None if geom is None else from_shape(geom, srid=m.SRID)


def _geoms(frame: pd.DataFrame) -> list[BaseGeometry | None]:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        return [None] * len(frame)
    frame = to_storage_crs(frame) if frame.crs is not None else frame
    return [None if g is None or g.is_empty else g for g in frame.geometry]


def _shapes(values: Iterable[Any]) -> np.ndarray:
    # WKBElement data is bytes/memoryview (PostGIS) or a hex string (SpatiaLite).
    raw = [None if v is None else v.data if isinstance(v.data, str) else bytes(v.data)
           for v in values]  # fmt: skip
    return shapely.from_wkb(raw)


# --------------------------------------------------------------------------- frame → rows
def _community_rows(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return [
        {"code": _text(c), "name": _text(n), "subdistrict": _text(s), "code_year": _int(y),
         "geom": _wkb(_multipolygon(g))}
        for c, n, s, y, g in zip(f["community_code"], _col(f, "name"), _col(f, "subdistrict"),
                                 _col(f, "code_year"), _geoms(f), strict=True)
    ]  # fmt: skip


def _compound_rows(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return [
        {"id": _text(i), "name": _text(n) or _text(i), "community_code": _text(c),
         "property_company": _text(p), "geom": _wkb(_multipolygon(g))}
        for i, n, c, p, g in zip(f["compound_id"], _col(f, "name"), _col(f, "community_code"),
                                 _col(f, "property_company"), _geoms(f), strict=True)
    ]  # fmt: skip


def _street_rows(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return [
        {"id": _text(i), "name": _text(n), "geom": _wkb(_multiline(g))}
        for i, n, g in zip(f["street_id"], _col(f, "name"), _geoms(f), strict=True)
    ]


def _building_rows(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    rows = []
    for rec, g in zip(f.to_dict("records"), _geoms(f), strict=True):
        polygonal = g is not None and g.geom_type in ("Polygon", "MultiPolygon")
        rows.append({
            "id": _text(rec["building_id"]), "code": _text(rec.get("code")),
            "name": _text(rec.get("name")), "address": _text(rec.get("address")),
            "kind": _text(rec.get("kind")), "floors": _int(rec.get("floors")),
            "units": _int(rec.get("units")), "households": _int(rec.get("households")),
            "compound_id": _text(rec.get("compound_id")),
            "community_code": _text(rec.get("community_code")),
            "geom": _wkb(_point(g)), "footprint": _wkb(_multipolygon(g) if polygonal else None),
        })  # fmt: skip
    return rows


def _household_rows(f: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for rec, g in zip(f.to_dict("records"), _geoms(f), strict=True):
        rows.append({
            "id": _text(rec["household_id"]), "building_id": _text(rec.get("building_id")),
            "address": _text(rec.get("address")), "unit": _text(rec.get("unit")),
            "floor": _text(rec.get("floor")), "room": _text(rec.get("room")),
            "head_person_id": _text(rec.get("head_person_id")), "size": _int(rec.get("size")),
            "geom": _wkb(_point(g)),
        })  # fmt: skip
    return rows


def _person_rows(f: pd.DataFrame) -> list[dict[str, Any]]:
    def tags(value: Any) -> str | None:
        if isinstance(value, list | tuple | set):
            return ",".join(str(v) for v in value) or None
        return _text(value)

    births = _dates(f["birth_date"]) if "birth_date" in f else [None] * len(f)
    return [
        {"id": _text(r["person_id"]), "household_id": _text(r["household_id"]),
         "name": _text(r.get("name")), "id_number": _text(r.get("id_number")),
         "phone": _text(r.get("phone")), "sex": _text(r.get("sex")),
         "birth_date": birth, "relationship": _text(r.get("relationship")),
         "population_type": _text(r.get("population_type")), "tags": tags(r.get("tags"))}
        for r, birth in zip(f.to_dict("records"), births, strict=True)
    ]  # fmt: skip


def _staff_rows(f: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    staff, links = [], []
    for r in f.to_dict("records"):
        sid = _text(r["staff_id"])
        staff.append({"id": sid, "name": _text(r.get("name")), "role": _text(r.get("role")),
                      "phone": _text(r.get("phone")),
                      "community_code": _text(r.get("community_code"))})  # fmt: skip
        codes = {c for c in _LIST_SPLIT.split(_text(r.get("grid_codes")) or "") if c}
        links += [{"staff_id": sid, "grid_code": c} for c in sorted(codes)]
    return staff, links


# --------------------------------------------------------------------------- import
def _check_new_ids(session: Session, model: type[m.Base], key: str, rows: list[dict]) -> None:
    ids = [r[key] for r in rows]
    dupes = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) < len(ids) else []
    column = getattr(model, key)
    existing: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        existing += session.scalars(select(column).where(column.in_(chunk))).all()
    table = model.__tablename__
    if dupes or existing:
        listing = ", ".join(map(str, (dupes or sorted(existing))[:10]))
        what = "appear more than once in the file" if dupes else "are already in the store"
        raise ImportAborted(
            f"{table} id(s) {listing}{' …' if len(dupes or existing) > 10 else ''} {what}; "
            "nothing was written. Remove the duplicates or import into a fresh store."
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
    table = model.__tablename__
    batch = _BATCH
    for start in range(0, len(rows), batch):
        session.execute(insert(model), rows[start : start + batch])
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
    counts: dict[str, int] = {}
    steps: list[tuple[type[m.Base], str, pd.DataFrame | None, Callable[[Any], list]]] = [
        (m.Community, "code", bundle.communities, _community_rows),
        (m.Compound, "id", bundle.compounds, _compound_rows),
        (m.Street, "id", bundle.streets, _street_rows),
        (m.Building, "id", bundle.buildings, _building_rows),
        (m.Household, "id", bundle.households, _household_rows),
        (m.Person, "id", bundle.persons, _person_rows),
    ]
    for model, key, frame, to_rows in steps:
        if frame is not None and len(frame):
            rows = to_rows(frame)
            _check_new_ids(session, model, key, rows)
            session.flush()
            _check_references(session, model.__tablename__, key, rows)
            counts[model.__tablename__] = _insert(session, model, rows, progress)
    if bundle.staff is not None and len(bundle.staff):
        staff, links = _staff_rows(bundle.staff)
        _check_new_ids(session, m.Staff, "id", staff)
        _check_references(session, "staff", "id", staff)
        counts["staff"] = _insert(session, m.Staff, staff, progress)
        counts["staff_grid"] = _insert(session, m.StaffGrid, links, progress) if links else 0
    plans: dict[str, int] = {}
    if bundle.grids is not None and len(bundle.grids):
        session.flush()
        plans = _import_grids(session, bundle.grids, bundle.buildings, bundle.sources.get("grid"))
        counts["plan"] = len(plans)
        counts["grid"] = len(bundle.grids)
    run = m.ImportRun(started_at=started, finished_at=dt.datetime.now(dt.UTC),
                      sources=dict(bundle.sources), counts=counts)  # fmt: skip
    session.add(run)
    session.flush()
    return ImportSummary(counts=counts, import_run_id=run.id, plans=plans)


def _import_grids(
    session: Session, grids: gpd.GeoDataFrame, buildings: pd.DataFrame | None, source: str | None
) -> dict[str, int]:
    """Existing (hand-drawn) grids become one plan per community, published if none is.

    Buildings attached to grids (a ``grid_code`` column, see :func:`gridmap.attach.attach_all`)
    keep that assignment; otherwise each stored building goes to the grid containing its point.
    """
    assignment = None
    if buildings is not None and "grid_code" in buildings:
        linked = buildings[buildings["grid_code"].notna()]
        assignment = pd.Series(
            linked["grid_code"].map(_text).to_numpy(), index=linked["building_id"].map(_text)
        )
    plans = {}
    for code, part in grids.groupby(grids["community_code"].map(_text), sort=True):
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


# --------------------------------------------------------------------------- plans
def number_grids(grids: gpd.GeoDataFrame, community_code: str) -> pd.Series:
    """Grid codes for ``grids``: community code + 001…, numbered north→south, west→east.

    Grids are put in rows by the latitude of a point inside them (rows as tall as the median
    grid), each row numbered west to east.
    """
    points = grids.geometry.representative_point()
    heights = grids.geometry.bounds.eval("maxy - miny")
    band = float(np.median(heights)) or 1e-9
    rows = np.floor((points.y.max() - points.y) / band)
    order = np.lexsort((points.x.to_numpy(), rows.to_numpy()))
    codes = pd.Series("", index=grids.index, dtype=object)
    codes.iloc[order] = [f"{community_code}{i + 1:03d}" for i in range(len(grids))]
    return codes


def _assign_by_location(buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.Series:
    located = buildings[buildings.geometry.notna()]
    if located.empty:
        return pd.Series(dtype=object)
    joined = gpd.sjoin(
        located[["building_id", "geometry"]],
        grids[["grid_code", "geometry"]].set_crs(STORAGE_CRS, allow_override=True),
        how="inner",
        predicate="intersects",
    )
    joined = joined.drop_duplicates("building_id")  # on a shared edge: the first grid
    return pd.Series(joined["grid_code"].to_numpy(), index=joined["building_id"].to_numpy())


def save_plan(
    *,
    session: Session,
    community_code: str,
    grids: gpd.GeoDataFrame,
    assignment: pd.Series | None = None,
    params: dict[str, Any] | None = None,
    name: str | None = None,
    source: str = "partition",
) -> int:
    """Store a draft plan of ``community_code``'s grids and return its id.

    Parameters
    ----------
    grids
        One row per grid: ``geometry`` (polygon), optional ``grid_code`` (numbered with
        :func:`number_grids` when missing), ``name``, ``kind``.
    assignment
        Building id → grid code. Default: each stored building of the community goes to the
        grid containing its point.
    params
        The plan's parameters (JSON-serialisable), e.g. household bounds.

    The grids' counts (buildings, households, persons) are derived from the assignment and the
    stored households; when the community has no stored buildings, counts given in ``grids``
    are kept.
    """
    load_community(session=session, code=community_code)  # raises NotFoundError
    grids = grids.copy()
    grids = to_storage_crs(grids) if grids.crs is not None else grids.set_crs(STORAGE_CRS)
    if "grid_code" not in grids or grids["grid_code"].isna().any():
        grids["grid_code"] = number_grids(grids, community_code)
    grids["grid_code"] = grids["grid_code"].map(_text)
    bad = [c for c in grids["grid_code"] if not (len(c) == 15 and c.startswith(community_code))]
    if bad:
        raise InputError(
            f"Grid code(s) {bad[:10]} of community {community_code} are not its 12-digit code "
            "followed by a 3-digit sequence; fix them or leave grid_code empty to number them."
        )
    buildings = load_buildings(session=session, community_code=community_code)
    if assignment is None:
        assignment = _assign_by_location(buildings, grids)
    counts = _grid_counts(buildings, assignment)
    plan = m.Plan(community_code=community_code, name=name, status="draft", source=source,
                  params=params)  # fmt: skip
    session.add(plan)
    session.flush()
    grid_ids: dict[str, int] = {}
    for rec, geom in zip(grids.to_dict("records"), grids.geometry, strict=True):
        code = rec["grid_code"]
        if buildings.empty:  # nothing to derive from: keep the counts given with the grids
            values = {k: _int(rec.get(k)) or 0 for k in ("buildings", "households", "persons")}
        else:
            values = {
                k: int(counts.at[code, k]) if code in counts.index else 0
                for k in ("buildings", "households", "persons")
            }
        grid = m.Grid(plan_id=plan.id, code=code, community_code=community_code,
                      name=_text(rec.get("name")), kind=_text(rec.get("kind")) or "basic",
                      geom=_wkb(_multipolygon(geom)), **values)  # fmt: skip
        session.add(grid)
        session.flush()
        grid_ids[code] = grid.id
    links = [
        {"plan_id": plan.id, "building_id": b, "grid_id": grid_ids[g]}
        for b, g in assignment.items()
        if g in grid_ids
    ]
    if links:
        session.execute(insert(m.GridBuilding), links)
    log.info("Saved draft plan %d of %s: %d grid(s)", plan.id, community_code, len(grid_ids))
    return plan.id


def _grid_counts(buildings: gpd.GeoDataFrame, assignment: pd.Series) -> pd.DataFrame:
    frame = buildings.set_index("building_id")[["households", "persons"]]
    frame = frame.join(assignment.rename("grid_code"), how="inner")
    grouped = frame.groupby("grid_code")
    return pd.DataFrame({
        "buildings": grouped.size(),
        "households": grouped["households"].sum(),
        "persons": grouped["persons"].sum(),
    })  # fmt: skip


def publish_plan(*, session: Session, plan_id: int) -> None:
    """Publish ``plan_id``; the community's previously published plan becomes ``superseded``.

    Both changes are made in the session's transaction, so readers see the old plan or the new
    one, never a mix. The database allows at most one published plan per community.
    """
    plan = session.get(m.Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"Plan {plan_id} not found; list plans with list_plans().")
    if plan.status == "published":
        return
    session.execute(
        update(m.Plan)
        .where(m.Plan.community_code == plan.community_code, m.Plan.status == "published")
        .values(status="superseded")
    )
    session.flush()
    plan.status = "published"
    plan.published_at = dt.datetime.now(dt.UTC)
    session.flush()
    log.info("Published plan %d of community %s", plan_id, plan.community_code)


def _plan_for(session: Session, plan_id: int | None, community_code: str | None) -> m.Plan:
    if plan_id is not None:
        plan = session.get(m.Plan, plan_id)
    else:
        plan = session.scalar(
            select(m.Plan).where(
                m.Plan.community_code == community_code, m.Plan.status == "published"
            )
        )
    if plan is None:
        what = f"Plan {plan_id}" if plan_id is not None else f"Published plan of {community_code}"
        raise NotFoundError(f"{what} not found; list plans with list_plans().")
    return plan


def load_plan(
    *, session: Session, plan_id: int | None = None, community_code: str | None = None
) -> gpd.GeoDataFrame:
    """Grids of a plan (by id, or the published plan of a community), ordered by code.

    Columns ``grid_code, name, kind, community_code, buildings, households, persons,
    geometry``; ``frame.attrs["plan"]`` holds the plan's id, status, source, params and times.
    """
    plan = _plan_for(session, plan_id, community_code)
    rows = session.execute(
        select(m.Grid.code, m.Grid.name, m.Grid.kind, m.Grid.community_code, m.Grid.buildings,
               m.Grid.households, m.Grid.persons, m.Grid.geom)
        .where(m.Grid.plan_id == plan.id).order_by(m.Grid.code)
    ).all()  # fmt: skip
    columns = ["grid_code", "name", "kind", "community_code", "buildings", "households",
               "persons"]  # fmt: skip
    frame = gpd.GeoDataFrame(
        pd.DataFrame([r[:-1] for r in rows], columns=columns),
        geometry=_shapes(r[-1] for r in rows), crs=STORAGE_CRS,
    )  # fmt: skip
    frame.attrs["plan"] = _plan_dict(plan)
    return frame


def _plan_dict(plan: m.Plan) -> dict[str, Any]:
    return {"id": plan.id, "community_code": plan.community_code, "name": plan.name,
            "status": plan.status, "source": plan.source, "params": plan.params,
            "created_at": plan.created_at, "published_at": plan.published_at}  # fmt: skip


def list_plans(*, session: Session, community_code: str) -> pd.DataFrame:
    """All plans of a community, oldest first (published, drafts and superseded history)."""
    plans = session.scalars(
        select(m.Plan).where(m.Plan.community_code == community_code).order_by(m.Plan.id)
    ).all()
    return pd.DataFrame(
        [_plan_dict(p) for p in plans],
        columns=["id", "community_code", "name", "status", "source", "params", "created_at",
                 "published_at"],
    )  # fmt: skip


def load_assignment(*, session: Session, plan_id: int) -> pd.Series:
    """Building id → grid code of ``plan_id`` (what minimal-change re-districting starts from)."""
    rows = session.execute(
        select(m.GridBuilding.building_id, m.Grid.code)
        .join(m.Grid, m.Grid.id == m.GridBuilding.grid_id)
        .where(m.GridBuilding.plan_id == plan_id)
        .order_by(m.GridBuilding.building_id)
    ).all()
    return pd.Series([r[1] for r in rows], index=[r[0] for r in rows], name="grid_code",
                     dtype=object)  # fmt: skip


# --------------------------------------------------------------------------- loads
def list_communities(*, session: Session) -> gpd.GeoDataFrame:
    """All communities: ``community_code, name, subdistrict, code_year, geometry``."""
    return _communities(session, None)


def load_community(*, session: Session, code: str) -> gpd.GeoDataFrame:
    """One community as a one-row GeoDataFrame; :class:`NotFoundError` if it is not stored."""
    frame = _communities(session, code)
    if frame.empty:
        raise NotFoundError(f"Community {code!r} not found; import it with `gridmap import`.")
    return frame


def _communities(session: Session, code: str | None) -> gpd.GeoDataFrame:
    query = select(m.Community.code, m.Community.name, m.Community.subdistrict,
                   m.Community.code_year, m.Community.geom).order_by(m.Community.code)  # fmt: skip
    if code is not None:
        query = query.where(m.Community.code == code)
    rows = session.execute(query).all()
    return gpd.GeoDataFrame(
        pd.DataFrame([r[:-1] for r in rows],
                     columns=["community_code", "name", "subdistrict", "code_year"]),
        geometry=_shapes(r[-1] for r in rows), crs=STORAGE_CRS,
    )  # fmt: skip


def load_buildings(
    *, session: Session, community_code: str | None = None, plan_id: int | None = None,
    footprints: bool = False,
) -> gpd.GeoDataFrame:  # fmt: skip
    """Buildings with their household and person counts (no personal data).

    ``households`` is the count given for the building or, when none was given, the number of
    its stored households; ``persons`` counts the persons of its households. With ``plan_id``
    a ``grid_code`` column gives each building's grid in that plan. ``footprints=True`` uses the
    footprint polygon as geometry where there is one (else the point).
    """
    hh = (select(m.Household.building_id, func.count().label("n"))
          .group_by(m.Household.building_id).subquery())  # fmt: skip
    pp = (select(m.Household.building_id, func.count().label("n"))
          .join(m.Person, m.Person.household_id == m.Household.id)
          .group_by(m.Household.building_id).subquery())  # fmt: skip
    b = m.Building
    cols = [b.id, b.code, b.name, b.address, b.kind, b.floors, b.units,
            func.coalesce(b.households, hh.c.n, 0), func.coalesce(pp.c.n, 0),
            b.compound_id, b.community_code, b.geom, b.footprint]  # fmt: skip
    query = (select(*cols).outerjoin(hh, hh.c.building_id == b.id)
             .outerjoin(pp, pp.c.building_id == b.id).order_by(b.id))  # fmt: skip
    if community_code is not None:
        query = query.where(b.community_code == community_code)
    rows = session.execute(query).all()
    names = ["building_id", "code", "name", "address", "kind", "floors", "units", "households",
             "persons", "compound_id", "community_code"]  # fmt: skip
    points, polys = _shapes(r[-2] for r in rows), _shapes(r[-1] for r in rows)
    geometry = np.where(pd.isna(polys), points, polys) if footprints else points
    frame = gpd.GeoDataFrame(pd.DataFrame([r[:-2] for r in rows], columns=names),
                             geometry=list(geometry), crs=STORAGE_CRS)  # fmt: skip
    if plan_id is not None:
        frame["grid_code"] = frame["building_id"].map(
            load_assignment(session=session, plan_id=plan_id)
        )
    return frame


def table_counts(*, session: Session) -> dict[str, int]:
    """Row count of every gridmap table, in load order."""
    tables = m.Base.metadata.tables
    return {
        name: int(session.scalar(select(func.count()).select_from(tables[name])) or 0)
        for name in m.TABLES_IN_LOAD_ORDER
    }
