"""Building edits made in a notebook, written back to the store (new counts, new, demolished).

An analyst loads a community's buildings (:func:`~service.storage.loads.load_buildings`),
changes household counts, adds new buildings and drops demolished ones, then re-districts.
:func:`apply_building_edits` writes those edits in the caller's transaction, so the plan saved
in the same transaction counts the same households as the stored buildings.

A demolished building is not deleted: its households and the plans of the past still refer to
it. It leaves its community (``community_code`` empty), its household count becomes 0 and its
``kind`` becomes ``demolished``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gridmap.crs import to_storage_crs
from service.storage import models as m
from service.storage.errors import store_error
from service.storage.loads import load_buildings, load_community
from service.storage.values import as_multipolygon, as_point, to_wkb

__all__ = ["BuildingEdits", "DEMOLISHED", "apply_building_edits", "building_edits"]

log = logging.getLogger(__name__)

DEMOLISHED = "demolished"
"""``kind`` of a building that was demolished."""


@dataclass
class BuildingEdits:
    """What differs between edited buildings and the stored ones of a community.

    Attributes
    ----------
    households : dict of str to int
        Building id → new household count, for stored buildings whose count changed.
    added : list of str
        Buildings not stored yet.
    demolished : list of str
        Stored buildings of the community missing from the edited frame.
    """

    households: dict[str, int] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    demolished: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to write."""
        return not (self.households or self.added or self.demolished)


def _checked(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    missing = [c for c in ("building_id", "households") if c not in buildings.columns]
    if missing:
        raise store_error("edit_lacks_columns", missing=missing)
    frame = buildings.copy()
    frame["building_id"] = frame["building_id"].astype(str)
    dup = frame["building_id"][frame["building_id"].duplicated()].unique().tolist()
    if dup:
        raise store_error("edit_repeats_ids", ids=dup[:10])
    hh = pd.to_numeric(frame["households"], errors="coerce")
    bad = hh.isna() | (hh < 0) | (hh != hh.round())
    if bad.any():
        raise store_error("edit_bad_households", ids=frame["building_id"][bad].tolist()[:10])
    frame["households"] = hh.astype(int)
    return frame


def building_edits(
    *, session: Session, community_code: str, buildings: gpd.GeoDataFrame
) -> BuildingEdits:
    """Compare edited ``buildings`` with the stored buildings of ``community_code`` (no writes)."""
    load_community(session=session, code=community_code)  # raises NotFoundError
    frame = _checked(buildings)
    stored = load_buildings(session=session, community_code=community_code)
    now = stored.set_index("building_id")["households"].astype(int)
    edited = frame.set_index("building_id")["households"]
    both = edited.index.intersection(now.index)
    changed = both[edited[both].to_numpy() != now[both].to_numpy()]
    extra = edited.index.difference(now.index).tolist()
    elsewhere = sorted(session.scalars(select(m.Building.id).where(m.Building.id.in_(extra))))
    if elsewhere:
        raise store_error("edit_ids_elsewhere", ids=elsewhere[:10], community_code=community_code)
    return BuildingEdits(
        households={str(b): int(edited[b]) for b in changed},
        added=sorted(extra),
        demolished=sorted(now.index.difference(edited.index).astype(str)),
    )


def apply_building_edits(
    *, session: Session, community_code: str, buildings: gpd.GeoDataFrame
) -> BuildingEdits:
    """Write the edits of ``buildings`` to the store, in the caller's transaction.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    community_code : str
    buildings : geopandas.GeoDataFrame
        All buildings of the community as they are now: ``building_id``, ``households``; new
        buildings need a geometry (point or footprint, with a CRS) and may carry ``kind``,
        ``name``, ``address``, ``floors``, ``units`` and ``compound_id``.

    Returns
    -------
    BuildingEdits
        What was written.

    Raises
    ------
    InputError
        Missing columns, repeated ids, bad household counts, a new building without geometry.
    """
    edits = building_edits(session=session, community_code=community_code, buildings=buildings)
    frame = _checked(buildings).set_index("building_id", drop=False)
    for bid, households in edits.households.items():
        session.execute(
            update(m.Building).where(m.Building.id == bid).values(households=households)
        )
    if edits.added:
        _insert_new(session, community_code, frame.loc[edits.added])
    if edits.demolished:
        session.execute(
            update(m.Building)
            .where(m.Building.id.in_(edits.demolished))
            .values(households=0, community_code=None, kind=DEMOLISHED)
        )
    session.flush()
    log.info(
        "Community %s: %d household count(s) changed, %d building(s) added, %d demolished",
        community_code, len(edits.households), len(edits.added), len(edits.demolished),
    )  # fmt: skip
    return edits


def _insert_new(session: Session, community_code: str, new: gpd.GeoDataFrame) -> None:
    if not isinstance(new, gpd.GeoDataFrame) or new.crs is None:
        raise store_error("new_without_crs", ids=new["building_id"].tolist()[:10])
    new = to_storage_crs(new)
    empty = new.geometry.isna() | new.geometry.is_empty
    if empty.any():
        raise store_error("new_without_geometry", ids=new["building_id"][empty].tolist()[:10])
    compounds = set(session.scalars(select(m.Compound.id)))
    for rec, geom in zip(new.to_dict("records"), new.geometry, strict=True):
        compound = rec.get("compound_id")
        compound = str(compound) if isinstance(compound, str) and compound in compounds else None
        session.add(m.Building(
            id=rec["building_id"], households=int(rec["households"]),
            community_code=community_code, compound_id=compound,
            kind=_text(rec.get("kind")) or "residential", name=_text(rec.get("name")),
            address=_text(rec.get("address")), floors=_int(rec.get("floors")),
            units=_int(rec.get("units")), geom=to_wkb(as_point(geom)),
            footprint=to_wkb(as_multipolygon(geom)) if geom.geom_type != "Point" else None,
        ))  # fmt: skip


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _int(value: Any) -> int | None:  # a pandas cell
    return None if value is None or pd.isna(value) else int(value)
