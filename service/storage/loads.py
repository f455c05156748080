"""Loads of stored communities, buildings and plan assignments as (Geo)DataFrames.

Every function is keyword-only and takes an open :class:`~sqlalchemy.orm.Session`; frames go
out with the canonical columns of :mod:`gridmap.schema` in EPSG:4326 and carry no personal
values (persons are only counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridmap.crs import STORAGE_CRS
from service.storage import models as m
from service.storage.errors import store_error
from service.storage.values import shapes_from_wkb

__all__ = [
    "load_communities",
    "load_community",
    "load_buildings",
    "load_streets",
    "load_compounds",
    "load_assignment",
    "table_counts",
]


def load_communities(*, session: Session) -> gpd.GeoDataFrame:
    """All communities: ``community_code, name, subdistrict, code_year, geometry``."""
    return _communities(session, None)


def load_community(*, session: Session, code: str) -> gpd.GeoDataFrame:
    """One community as a one-row GeoDataFrame; :class:`NotFoundError` if it is not stored."""
    frame = _communities(session, code)
    if frame.empty:
        raise store_error("no_community", community_code=code)
    return frame


def _communities(session: Session, code: str | None) -> gpd.GeoDataFrame:
    query = select(m.Community.code, m.Community.name, m.Community.subdistrict,
                   m.Community.code_year, m.Community.geom).order_by(m.Community.code)  # fmt: skip
    if code is not None:
        query = query.where(m.Community.code == code)
    rows = session.execute(query).all()
    return _frame(rows, ["community_code", "name", "subdistrict", "code_year"])


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
    points, polys = shapes_from_wkb(r[-2] for r in rows), shapes_from_wkb(r[-1] for r in rows)
    geometry = np.where(pd.isna(polys), points, polys) if footprints else points
    frame = gpd.GeoDataFrame(pd.DataFrame([r[:-2] for r in rows], columns=names),
                             geometry=list(geometry), crs=STORAGE_CRS)  # fmt: skip
    if plan_id is not None:
        frame["grid_code"] = frame["building_id"].map(
            load_assignment(session=session, plan_id=plan_id)
        )
    return frame


def load_streets(*, session: Session, community_code: str | None = None) -> gpd.GeoDataFrame:
    """Street centrelines (``street_id, name, boundary``), those meeting community
    ``community_code``.

    ``boundary`` says whether the street may bound a grid (set by import,
    :func:`gridmap.streets.boundary_mask`): :func:`gridmap.streets.boundary_streets` leaves the
    others out, as from the files. Lines are returned whole (not clipped): the partition engine
    nodes them with the boundary.
    """
    s = m.Street
    query = select(s.id, s.name, s.boundary, s.geom).order_by(s.id)
    if community_code is not None:
        area = select(m.Community.geom).where(m.Community.code == community_code)
        query = query.where(func.ST_Intersects(s.geom, area.scalar_subquery()))
    return _frame(session.execute(query).all(), ["street_id", "name", "boundary"])


def load_compounds(*, session: Session, community_code: str | None = None) -> gpd.GeoDataFrame:
    """Compounds with a polygon (``compound_id, name, community_code, property_company``)."""
    query = (
        select(m.Compound.id, m.Compound.name, m.Compound.community_code,
               m.Compound.property_company, m.Compound.geom)
        .where(m.Compound.geom.is_not(None))
        .order_by(m.Compound.id)
    )  # fmt: skip
    if community_code is not None:
        query = query.where(m.Compound.community_code == community_code)
    rows = session.execute(query).all()
    return _frame(rows, ["compound_id", "name", "community_code", "property_company"])


def _frame(rows: Sequence[Any], columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        pd.DataFrame([r[:-1] for r in rows], columns=columns),
        geometry=shapes_from_wkb(r[-1] for r in rows),
        crs=STORAGE_CRS,
    )


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


def table_counts(*, session: Session) -> dict[str, int]:
    """Row count of every gridmap table, in load order."""
    tables = m.Base.metadata.tables
    return {
        name: int(session.scalar(select(func.count()).select_from(tables[name])) or 0)
        for name in m.TABLES_IN_LOAD_ORDER
    }
