"""Plans: store a draft, publish it, load plans and list a community's plan history.

:func:`save_plan` stores a draft (grids + the building → grid assignment);
:func:`publish_plan` makes it the community's published plan in the session's transaction and
keeps the previous one as ``superseded`` history. Grid codes are the community's 12-digit code
plus a 3-digit sequence (made where missing by :func:`gridmap.attach.gridcodes.fill_grid_codes`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any, cast

import geopandas as gpd
import pandas as pd
from geoalchemy2 import Geometry
from sqlalchemy import ARRAY, Table, bindparam, func, insert, select, update
from sqlalchemy import cast as sa_cast
from sqlalchemy.orm import Session

from gridmap.attach.gridcodes import fill_grid_codes
from gridmap.constraints import household_bounds
from gridmap.crs import STORAGE_CRS, to_storage_crs
from gridmap.geometry.snapping import LONLAT_GRID_SIZE, snap_grids
from gridmap.plans.currentplan import assign_by_location
from gridmap.problems import Problem
from service.storage import models as m
from service.storage.errors import store_error
from service.storage.loads import load_buildings, load_community
from service.storage.values import (
    as_multipolygon,
    clean_int,
    clean_text,
    column_values,
    shapes_from_wkb,
    to_wkb,
)

__all__ = [
    "save_plan",
    "publish_plan",
    "publish_plans",
    "load_plan",
    "list_plans",
    "plan_overview",
    "grid_status_now",
    "plan_bounds",
    "problems_to_params",
    "problems_from_params",
    "DEFAULT_BOUNDS",
]

DEFAULT_BOUNDS = (300, 500)
"""Household bounds of a plan whose parameters do not name them."""

log = logging.getLogger(__name__)


def _assign_by_location(buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.Series:
    """Stored building → the grid holding its point (:func:`assign_by_location`; the grids are
    in the store's CRS)."""
    return assign_by_location(buildings, grids.set_crs(STORAGE_CRS, allow_override=True))


def save_plan(
    *,
    session: Session,
    community_code: str,
    grids: gpd.GeoDataFrame,
    assignment: pd.Series | None = None,
    params: dict[str, Any] | None = None,
    name: str | None = None,
    source: str = "partition",
    reuse: bool = False,
) -> int:
    """Store a draft plan of ``community_code``'s grids and return its id.

    Parameters
    ----------
    grids
        One row per grid: ``geometry`` (polygon), optional ``grid_code`` (those missing made
        by :func:`gridmap.attach.gridcodes.fill_grid_codes`: the number of the grid's name,
        else a free number by position, as every grid gridmap numbers), ``name``, ``kind``.
    assignment
        Building id → grid code. Default: each stored building of the community goes to the
        grid containing its point.
    params
        The plan's parameters (JSON-serialisable), e.g. household bounds.
    reuse
        If a draft of the community holds exactly this plan (same grids, geometries, counts,
        links, parameters, name and source), return its id and write nothing: saving a run
        again after a failure makes no duplicate drafts. Published and superseded plans are
        never reused (saving a plan like the published one gives a new draft).

    The grids' counts (buildings, households, persons) are derived from the assignment and the
    stored households; when the community has no stored buildings, counts given in ``grids``
    are kept. The rows are written in bulk: one plan row, one ``INSERT`` executemany of the
    grids (geometry as WKB) and one executemany ``INSERT`` per batch of building links.
    """
    _check_community(session, community_code)
    grids = grids.copy()
    grids = to_storage_crs(grids) if grids.crs is not None else grids.set_crs(STORAGE_CRS)
    if "grid_code" not in grids or grids["grid_code"].isna().any():
        grids["grid_code"] = fill_grid_codes(community_code, grids)
    grids["grid_code"] = grids["grid_code"].map(clean_text)
    # stored as written to files: rounded to the output precision as one coverage, each grid
    # still one valid polygon (a grid given a detached part keeps one polygon per part)
    grids["geometry"] = snap_grids(grids.geometry.to_numpy(), LONLAT_GRID_SIZE)
    bad = [c for c in grids["grid_code"] if not (len(c) == 15 and c.startswith(community_code))]
    if bad:
        raise store_error("bad_grid_codes", codes=bad[:10], community_code=community_code)
    buildings = _community_buildings(session, community_code, points=assignment is None)
    if assignment is None:
        assignment = _assign_by_location(cast(gpd.GeoDataFrame, buildings), grids)
    rows = _grid_rows(grids, buildings, _grid_counts(buildings, assignment), community_code)
    codes = {row["code"] for row in rows}
    links = sorted((str(b), g) for b, g in zip(assignment.index.tolist(), assignment.tolist(),
                                                strict=True) if g in codes)  # fmt: skip
    digest = _digest(rows, links, params, name, source)
    if reuse:
        same = _plan_with_digest(session, community_code, digest)
        if same is not None:
            log.info("Draft plan %d of %s is this plan already; nothing written", same,
                     community_code)  # fmt: skip
            return same
    plan_id = session.execute(
        insert(m.Plan).values(community_code=community_code, name=name, status="draft",
                              source=source, params={**(params or {}), _DIGEST: digest})
        .returning(m.Plan.id)
    ).scalar_one()  # fmt: skip
    for row in rows:
        row["plan_id"] = plan_id
    _insert_rows(session, _GRID, rows)
    grid_ids = dict(
        session.execute(select(m.Grid.code, m.Grid.id).where(m.Grid.plan_id == plan_id)).all()
    )
    _insert_rows(session, _GRID_BUILDING, [
        {"plan_id": plan_id, "building_id": b, "grid_id": grid_ids[g]} for b, g in links
    ])  # fmt: skip
    log.info("Saved draft plan %d of %s: %d grid(s), %d building link(s)", plan_id,
             community_code, len(rows), len(links))  # fmt: skip
    return int(plan_id)


_DIGEST = "_digest"
"""Key of a plan's params holding the digest of its content (left out of :func:`_plan_dict`)."""
_BATCH = 5_000
"""Rows per ``INSERT`` executemany."""
_GRID = cast(Table, m.Grid.__table__)
_GRID_BUILDING = cast(Table, m.GridBuilding.__table__)


def _check_community(session: Session, code: str) -> None:
    if session.scalar(select(m.Community.code).where(m.Community.code == code)) is None:
        raise store_error("no_community", community_code=code)


def _community_buildings(session: Session, code: str, *, points: bool) -> pd.DataFrame:
    """The community's buildings: ``building_id, households, persons`` (and, with ``points``,
    their points as a GeoDataFrame's geometry).

    The counts are those of :func:`~service.storage.loads.load_buildings` (the households given
    for a building, else its stored households; the persons of those households), counted over
    this community's buildings only.
    """
    b, hh, p = m.Building, m.Household, m.Person
    # per building, through the indexes on household.building_id and person.household_id
    # (COALESCE skips the household count of a building whose households are given)
    n_hh = select(func.count()).where(hh.building_id == b.id).scalar_subquery()
    n_pp = (select(func.count()).select_from(hh).join(p, p.household_id == hh.id)
            .where(hh.building_id == b.id).scalar_subquery())  # fmt: skip
    columns = [b.id, func.coalesce(b.households, n_hh, 0), n_pp]
    rows = session.execute(
        select(*columns, *([b.geom] if points else []))
        .where(b.community_code == code).order_by(b.id)
    ).all()  # fmt: skip
    names = ["building_id", "households", "persons"]
    values = list(zip(*rows, strict=True)) or [()] * (len(names) + points)
    frame = pd.DataFrame({"building_id": pd.Series(values[0], dtype=object),
                          "households": pd.Series(values[1], dtype="int64"),
                          "persons": pd.Series(values[2], dtype="int64")})  # fmt: skip
    if not points:
        return frame
    return gpd.GeoDataFrame(frame, geometry=shapes_from_wkb(values[3]), crs=STORAGE_CRS)


_COUNTS = ("buildings", "households", "persons")


def _grid_rows(
    grids: gpd.GeoDataFrame, buildings: pd.DataFrame, counts: pd.DataFrame, community_code: str
) -> list[dict[str, Any]]:
    """One ``grid`` row per grid (without ``plan_id``), its geometry as WKB."""
    codes = grids["grid_code"].tolist()
    if buildings.empty:  # nothing to derive from: keep the counts given with the grids
        given = [[clean_int(v) or 0 for v in column_values(grids, k)] for k in _COUNTS]
    else:
        derived = counts.reindex(codes)[list(_COUNTS)].fillna(0).astype(int)
        given = [derived[k].tolist() for k in _COUNTS]
    names, kinds = column_values(grids, "name"), column_values(grids, "kind")
    return [
        {"code": code, "community_code": community_code, "name": clean_text(name),
         "kind": clean_text(kind) or "basic", "geom": to_wkb(as_multipolygon(geom)),
         **dict(zip(_COUNTS, values, strict=True))}
        for code, name, kind, geom, *values in zip(codes, names, kinds, grids.geometry, *given,
                                                    strict=True)
    ]  # fmt: skip


def _digest(
    rows: list[dict[str, Any]], links: list[tuple[str, str]], params: dict[str, Any] | None,
    name: str | None, source: str,
) -> str:  # fmt: skip
    """SHA-256 of a plan's content: its grid rows (geometry WKB included), links and record."""
    h = hashlib.sha256()
    record = {"params": params, "name": name, "source": source, "links": links,
              "grids": [{k: v for k, v in r.items() if k != "geom"} for r in rows]}  # fmt: skip
    h.update(json.dumps(record, sort_keys=True, default=str).encode())
    for row in rows:
        h.update(b"" if row["geom"] is None else bytes(row["geom"].data))
    return h.hexdigest()


def _plan_with_digest(session: Session, community_code: str, digest: str) -> int | None:
    """A draft of the community whose content has ``digest``."""
    plans = session.execute(
        select(m.Plan.id, m.Plan.params).where(
            m.Plan.community_code == community_code, m.Plan.status == "draft"
        ).order_by(m.Plan.id)
    ).all()  # fmt: skip
    return next((int(i) for i, p in plans if (p or {}).get(_DIGEST) == digest), None)


def _insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert complete rows in batches of :data:`_BATCH`, no statement per row.

    SQLite: one ``INSERT`` executemany per batch (in-process, each row one step of a prepared
    statement). PostgreSQL: for tables without geometry, one ``INSERT … SELECT unnest(…)`` per
    batch with each column sent as one array: the server parses, plans and checks the batch
    once instead of one bound execution per row (the building links of a full district: about
    a tenth of the server's CPU); rows with geometry go as executemany.
    """
    if not rows:
        return
    columns = list(rows[0])
    arrays = session.get_bind().dialect.name == "postgresql" and not any(
        isinstance(table.c[c].type, Geometry) for c in columns
    )
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        if not arrays:
            session.execute(insert(table), batch)
            continue
        unnest = [
            func.unnest(sa_cast(bindparam(None, [r[c] for r in batch]), ARRAY(table.c[c].type)))
            for c in columns
        ]
        session.execute(insert(table).from_select(columns, select(*unnest)))


def _grid_counts(buildings: pd.DataFrame, assignment: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame({"households": buildings["households"].to_numpy(),
                          "persons": buildings["persons"].to_numpy()},
                         index=buildings["building_id"].to_numpy())  # fmt: skip
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
    publish_plans(session=session, plan_ids=[plan_id])


def publish_plans(*, session: Session, plan_ids: Iterable[int]) -> list[int]:
    """Publish plans of different communities at once; the ids that were not published yet.

    Set-based, in the session's transaction: one ``UPDATE`` marks the communities' published
    plans ``superseded``, one ``UPDATE … WHERE id IN (…)`` publishes the new ones (per 500
    plans). Readers see every old plan or every new one, never a mix. An unknown id, or two
    plans of one community, is refused before anything changes.
    """
    ids = list(dict.fromkeys(int(p) for p in plan_ids))
    found: dict[int, tuple[str, str]] = {}
    for part in _chunks(ids):
        rows = session.execute(
            select(m.Plan.id, m.Plan.community_code, m.Plan.status).where(m.Plan.id.in_(part))
        ).all()
        found |= {i: (c, s) for i, c, s in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise store_error("no_plans", plan_ids=missing[:10])
    by_community: dict[str, list[int]] = {}
    for i in ids:
        by_community.setdefault(found[i][0], []).append(i)
    twice = next((c for c, some in by_community.items() if len(some) > 1), None)
    if twice is not None:
        raise store_error("one_per_community", plan_ids=by_community[twice], community_code=twice)
    new = [i for i in ids if found[i][1] != "published"]
    now = dt.datetime.now(dt.UTC)
    for part in _chunks(new):  # first every old plan of these communities ...
        session.execute(
            update(m.Plan)
            .where(m.Plan.community_code.in_([found[i][0] for i in part]),
                   m.Plan.status == "published")
            .values(status="superseded")
        )  # fmt: skip
    for part in _chunks(new):  # ... then the new ones (one published plan per community)
        session.execute(
            update(m.Plan).where(m.Plan.id.in_(part))
            .values(status="published", published_at=now)
        )  # fmt: skip
    if new:
        log.info("Published %d plan(s): %s", len(new), ", ".join(map(str, new[:20])))
    return new


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


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
        if plan_id is not None:
            raise store_error("no_plan", plan_id=plan_id)
        raise store_error("no_published_plan", community_code=community_code)
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
        geometry=shapes_from_wkb(r[-1] for r in rows), crs=STORAGE_CRS,
    )  # fmt: skip
    frame.attrs["plan"] = _plan_dict(plan)
    return frame


def _plan_dict(plan: m.Plan) -> dict[str, Any]:
    params = plan.params
    if params is not None and _DIGEST in params:  # internal: the digest of the plan's content
        params = {k: v for k, v in params.items() if k != _DIGEST} or None
    return {"id": plan.id, "community_code": plan.community_code, "name": plan.name,
            "status": plan.status, "source": plan.source, "params": params,
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


# --------------------------------------------------------------------------- status and problems
def plan_bounds(params: dict[str, Any] | None) -> tuple[int, int]:
    """The household bounds a plan was made for (its params), else :data:`DEFAULT_BOUNDS`."""
    params = params or {}
    lo = params.get("min_households", DEFAULT_BOUNDS[0])
    hi = params.get("max_households", DEFAULT_BOUNDS[1])
    return int(lo), int(hi)


def problems_to_params(problems: list[Problem]) -> list[dict[str, Any]]:
    """``problems`` as JSON-ready dicts for a plan's ``params["problems"]`` (duplicates dropped).

    Every field of :class:`~gridmap.problems.Problem` is kept (tuples as lists).
    """
    out: list[dict[str, Any]] = []
    for p in dict.fromkeys(problems):
        row = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}
        out.append({k: list(v) if isinstance(v, tuple) else v for k, v in row.items()})
    return out


def problems_from_params(params: dict[str, Any] | None) -> list[Problem]:
    """The problems stored with a plan by :func:`problems_to_params` (none for older plans).

    Fields this version of :class:`~gridmap.problems.Problem` does not know are ignored.
    """
    fields = {f.name for f in dataclasses.fields(Problem)}
    out = []
    for row in (params or {}).get("problems") or []:
        known: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in row.items() if k in fields
        }
        out.append(Problem(**{"kind": "", "message": "", **known}))
    return out


def _households_now():
    """Households of each building now: the count given for it, else its stored households."""
    hh = (select(m.Household.building_id, func.count().label("n"))
          .group_by(m.Household.building_id).subquery())  # fmt: skip
    return hh, func.coalesce(m.Building.households, hh.c.n, 0)


def grid_status_now(*, session: Session, plan_ids: list[int] | None = None) -> pd.DataFrame:
    """Every grid of the plans with its households as stored in the plan and as they are now.

    Columns ``plan_id, grid_code, households, households_now, buildings_now, new_buildings,
    status_now``. ``households_now`` sums the current counts of the buildings assigned to the
    grid (what an ``import --update`` changed) and of the buildings of the community the plan
    does not assign (added since) whose point lies in the grid (``new_buildings`` of them);
    ``status_now`` compares it with the plan's own bounds.
    """
    hh, now = _households_now()
    query = (
        select(m.Grid.plan_id, m.Grid.code, m.Grid.households,
               func.coalesce(func.sum(now), 0), func.count(m.Building.id))
        .outerjoin(m.GridBuilding, m.GridBuilding.grid_id == m.Grid.id)
        .outerjoin(m.Building, m.Building.id == m.GridBuilding.building_id)
        .outerjoin(hh, hh.c.building_id == m.Building.id)
        .group_by(m.Grid.id, m.Grid.plan_id, m.Grid.code, m.Grid.households)
        .order_by(m.Grid.plan_id, m.Grid.code)
    )  # fmt: skip
    if plan_ids is not None:
        query = query.where(m.Grid.plan_id.in_(plan_ids))
    columns = ["plan_id", "grid_code", "households", "households_now", "buildings_now"]
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    for column in columns[2:]:
        frame[column] = pd.to_numeric(frame[column]).fillna(0).astype(int)
    new = _new_buildings(session, sorted(set(frame["plan_id"])))
    frame = frame.merge(new, on=["plan_id", "grid_code"], how="left")
    frame[["new_buildings", "new_households"]] = (
        frame[["new_buildings", "new_households"]].fillna(0).astype(int)
    )
    frame["households_now"] += frame.pop("new_households")
    frame["buildings_now"] += frame["new_buildings"]
    bounds = {
        p.id: household_bounds(*plan_bounds(p.params))
        for p in session.scalars(select(m.Plan).where(m.Plan.id.in_(set(frame["plan_id"]))))
    }
    frame["status_now"] = [
        bounds[p].status(h) for p, h in zip(frame["plan_id"], frame["households_now"], strict=True)
    ]
    return frame


def _new_buildings(session: Session, plan_ids: list[int]) -> pd.DataFrame:
    """Per plan and grid: buildings of the community the plan does not assign, by location."""
    columns = ["plan_id", "grid_code", "new_buildings", "new_households"]
    empty = pd.DataFrame({"plan_id": pd.Series(dtype="int64"), "grid_code": pd.Series(dtype=object),
                          "new_buildings": pd.Series(dtype="int64"),
                          "new_households": pd.Series(dtype="int64")})  # fmt: skip
    if not plan_ids:
        return empty
    assigned = pd.DataFrame(
        session.execute(select(m.GridBuilding.plan_id, m.GridBuilding.building_id)
                        .where(m.GridBuilding.plan_id.in_(plan_ids))).all(),
        columns=["plan_id", "building_id"],
    )  # fmt: skip
    plans = dict(session.execute(
        select(m.Plan.id, m.Plan.community_code).where(m.Plan.id.in_(plan_ids))
    ).all())  # fmt: skip
    buildings = {
        code: load_buildings(session=session, community_code=code) for code in set(plans.values())
    }
    parts = []
    for plan_id, code in plans.items():
        taken = set(assigned.loc[assigned["plan_id"] == plan_id, "building_id"])
        bld = buildings[code]
        bld = bld[~bld["building_id"].isin(taken) & bld.geometry.notna()]
        if bld.empty:
            continue
        grids = load_plan(session=session, plan_id=plan_id)
        inside = _assign_by_location(bld, grids)
        if inside.empty:
            continue
        hh = bld.set_index("building_id")["households"].reindex(inside.index)
        grouped = pd.DataFrame({"grid_code": inside.to_numpy(), "hh": hh.to_numpy()})
        grouped = grouped.groupby("grid_code")["hh"].agg(["size", "sum"]).reset_index()
        grouped.columns = ["grid_code", "new_buildings", "new_households"]
        parts.append(grouped.assign(plan_id=plan_id)[columns])
    return pd.concat([empty, *parts], ignore_index=True) if parts else empty


def plan_overview(*, session: Session, community_code: str | None = None) -> pd.DataFrame:
    """All plans (of one community, if given), oldest first, with their grids and flagged grids.

    Columns ``id, community_code, name, status, source, created_at, published_at, grids,
    flagged``; ``flagged`` counts grids whose CURRENT household count is outside the plan's
    bounds (see :func:`grid_status_now`).
    """
    query = select(m.Plan).order_by(m.Plan.id)
    if community_code is not None:
        load_community(session=session, code=community_code)  # raises NotFoundError
        query = query.where(m.Plan.community_code == community_code)
    plans = session.scalars(query).all()
    status = grid_status_now(session=session, plan_ids=[p.id for p in plans])
    grouped = status.groupby("plan_id")
    n_grids = grouped.size()
    flagged = status[status["status_now"] != "ok"].groupby("plan_id").size()
    rows = []
    for p in plans:
        row = {k: v for k, v in _plan_dict(p).items() if k != "params"}
        row["grids"] = int(n_grids.get(p.id, 0))
        row["flagged"] = int(flagged.get(p.id, 0))
        rows.append(row)
    columns = ["id", "community_code", "name", "status", "source", "created_at", "published_at",
               "grids", "flagged"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
