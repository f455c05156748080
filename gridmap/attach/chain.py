"""The attach chain 人进户、户进房、房进网格、网格进图 as pure functions on frames.

persons → households by key, else (a roster without 户号) by the same dwelling address, else by
location and unit and room; households → buildings by building key, else by normalised
address, else by location (the footprint containing the point, else the nearest building within
``tolerance_m`` metres); buildings → grids by location (the grid holding most of the footprint; a
point building goes to the grid containing it). Counts then roll up to buildings, grids and
communities (:func:`gridmap.attach.rollup.roll_up_counts`). :func:`attach_all` runs validation, the
chain and the roll-up in one call and returns an :class:`AttachResult` with the report.

Each function returns ``(frame, issues)``: the input with its link column filled in (records
that cannot be attached keep a missing link) and one :class:`~gridmap.attach.report.Issue` per
record that could not be attached. No record is dropped. A household whose ``building_id`` names no
known building is reported and left unattached: an explicit but wrong key is a data error, so
no address or location fallback second-guesses it; one naming a building rejected by validation
(its geometry could not be used) is reported as such. A household attached by location to the
nearest footprint (its point lies in none) is attached but still reported, with the distance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.attach.coverage import community_overlaps, grid_tiling_issues
from gridmap.attach.crosscheck import (
    buildings_crossing_streets,
    buildings_outside_communities,
    dwelling_out_of_range,
    grids_of_unknown_communities,
    household_count_mismatches,
)
from gridmap.attach.geomrepair import rejected_ids
from gridmap.attach.linking import geometry_present, largest_share
from gridmap.attach.report import AttachReport, Issue, record_labels
from gridmap.attach.rollup import roll_up_counts
from gridmap.attach.validate import validate_layer
from gridmap.crs import check_same_crs, projected_crs_for
from gridmap.io.addresses import (
    address_keys,
    buildings_named,
    dwelling_addresses,
    ids_once_placed,
    normalise_address,
    person_ids,
    waits_for_household,
)
from gridmap.schema import BUILDING, HOUSEHOLD, PERSON

__all__ = [
    "DEFAULT_TOLERANCE_M",
    "normalise_address",
    "attach_persons",
    "attach_households",
    "attach_buildings",
    "roll_up_counts",
    "AttachResult",
    "attach_all",
]

logger = logging.getLogger(__name__)

DEFAULT_TOLERANCE_M = 30.0
"""Largest distance (m) from a household point to the nearest building it may attach to."""
_MIN_ADDRESS_PREFIX = 4


# --- persons → households ----------------------------------------------------------------------


def _isin(key: pd.Series, known: Collection[object]) -> pd.Series:
    """``key.isin(known)`` for a large ``known``: pandas makes one pyarrow scalar per value of
    ``known`` for an Arrow string column (0.5 s for 90,000 ids); object values hash at once."""
    return key.astype(object).isin(known)


def attach_persons(
    persons: pd.DataFrame,
    households: pd.DataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> tuple[pd.DataFrame, list[Issue]]:
    """Check each person's ``household_id`` against ``households``; clear and report unknown ones.

    A person without ``household_id`` but with an address or a point
    (:func:`gridmap.io.addresses.waits_for_household`: a roster without 户号 or 楼栋编号) is
    linked to the one household whose address is the same once both are written alike
    (:func:`gridmap.io.addresses.dwelling_addresses`; never a near match), else, with a point,
    to the household ``<building>-<unit>-<room>`` of the building found by location as
    households are (the footprint holding the point, else the nearest within ``tolerance_m``)
    and the person's unit, floor and room (:func:`gridmap.io.addresses.address_keys`). A person
    linked so without person id gets ``<household_id>-<n>``, numbered past the household's ids
    taken (:func:`gridmap.io.addresses.person_ids`). Adds ``attached_by`` (``"key"``,
    ``"address"``, ``"location"``, ``"nearest"`` or missing). A person found by neither keeps
    no household; the report line says what was tried (``"unhoused"`` when it has no person id:
    :func:`attach_all` skips it).

    Examples
    --------
    >>> persons = pd.DataFrame({"person_id": ["P1", "P2", None],
    ...                         "household_id": ["H1", "H9", None],
    ...                         "address": [None, None, "清水塘1栋 一单元 301室"]})
    >>> households = pd.DataFrame({"household_id": ["H1", "B1-1-301"],
    ...                            "address": ["清水塘1栋1单元302室", "清水塘1栋1单元301"]})
    >>> out, issues = attach_persons(persons, households)
    >>> out["household_id"].tolist(), out["person_id"].tolist(), [i.reason for i in issues]
    (['H1', nan, 'B1-1-301'], ['P1', 'P2', 'B1-1-301-1'], ['unknown household'])
    """
    key = persons["household_id"] if "household_id" in persons else _na(persons)
    known_ids = set(households["household_id"].dropna())
    known = _isin(key, known_ids)
    waiting = waits_for_household(persons)
    missing, unknown = key.isna() & ~waiting, key.notna() & ~known
    issues = [
        Issue.of("person", i, "no_household_key") for i in record_labels(persons[missing], PERSON)
    ] + [
        Issue.of("person", i, "unknown_household", household_id=k)
        for i, k in zip(record_labels(persons[unknown], PERSON), key[unknown], strict=True)
    ]
    result = key.where(known)
    by = _na(persons).mask(known, "key")
    if waiting.any():
        found = _find_households(persons.loc[waiting], households, known_ids, buildings,
                                 tolerance_m)  # fmt: skip
        result, by = result.fillna(found.household_id), by.fillna(found.how)
        issues += _unhoused_persons(persons, found, tolerance_m)
    ids = persons["person_id"] if "person_id" in persons else _na(persons)
    numbered = ids.isna() & result.notna()
    if numbered.any():
        ids = ids.where(~numbered, person_ids(result[numbered], taken=ids.dropna()))
    out = persons.assign(person_id=ids.astype("str"), household_id=result.astype("str"),
                         attached_by=by)  # fmt: skip
    return out[["person_id", *[c for c in out.columns if c != "person_id"]]], issues


@dataclass
class _Found:
    """Households found for persons without 户号: id and route per person, what failed."""

    household_id: pd.Series
    how: pd.Series
    tried: dict[object, list[str]]
    made: pd.Series  # the household id made by location that no household holds


def _find_households(
    persons: pd.DataFrame,
    households: pd.DataFrame,
    known_ids: set[object],
    buildings: gpd.GeoDataFrame | None,
    tolerance_m: float,
) -> _Found:
    """Each person's household by address, else by location; what was tried for those found
    by neither (a code of the report per route tried: ``address_none``, ``point_far`` …)."""
    found, by_address = _households_by_address(persons, households)
    how = _na(persons).mask(found.notna(), "address")
    has_point = geometry_present(persons) & found.isna()
    located, made, by_point = _households_by_location(persons.loc[has_point], known_ids,
                                                      buildings, tolerance_m)  # fmt: skip
    found = found.fillna(located["household_id"]).astype("str")
    how = how.fillna(located["how"]).astype("str")
    tried = {
        i: [r for r in (by_address.get(i), by_point.get(i)) if isinstance(r, str)]
        for i in found.index[found.isna()]
    }
    return _Found(found, how, tried, made.reindex(persons.index).astype("str"))


def _households_by_address(
    persons: pd.DataFrame, households: pd.DataFrame
) -> tuple[pd.Series, pd.Series]:
    """The one household whose dwelling address is the person's; for the persons with an
    address found so by none, why (``address_several`` or ``address_none``)."""
    if "address" not in persons or "address" not in households:
        return _na(persons), pd.Series(dtype="str")
    theirs = dwelling_addresses(households["address"])
    counts = theirs.value_counts()
    single = theirs[theirs.map(counts).eq(1).fillna(False).astype(bool)]
    lookup = pd.Series(households.loc[single.index, "household_id"].to_numpy(),
                       index=single.to_numpy())  # fmt: skip
    mine = dwelling_addresses(persons["address"])
    found = mine.map(lookup).astype("str")
    failed = mine.notna() & found.isna()
    several = _isin(mine[failed], set(counts.index[counts > 1]))
    return found, pd.Series(np.where(several, "address_several", "address_none"),
                            index=several.index, dtype="str")  # fmt: skip


def _households_by_location(
    persons: gpd.GeoDataFrame,
    known_ids: set[object],
    buildings: gpd.GeoDataFrame | None,
    tolerance_m: float,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The household ``<building>-<unit>-<room>`` of the building holding (or nearest to) each
    person's point, when it is one household of ``known_ids``: ``household_id`` and ``how``;
    the ids made that are none; why each person was not found (a report code)."""
    none = pd.DataFrame({"household_id": _na(persons), "how": _na(persons)})
    if not len(persons):
        return none, _na(persons), pd.Series(dtype="str")
    if buildings is None or not geometry_present(buildings).any():
        return none, _na(persons), pd.Series("no_buildings", index=persons.index, dtype="str")
    building, how, _ = _match_locations(persons, buildings, tolerance_m)
    keys = address_keys(persons.loc[building.index].assign(building_id=building))
    several = _isin(keys + "-2", known_ids)
    fits = _isin(keys, known_ids) & ~several
    reason = np.select([keys.isna(), several], ["room_missing", "household_several"],
                       "household_none")  # fmt: skip
    why = pd.Series(reason, index=keys.index, dtype="str")[~fits]
    far = persons.index.difference(building.index)
    why = pd.concat([why, pd.Series("point_far", index=far, dtype="str")])
    found = pd.DataFrame({"household_id": keys[fits], "how": how[fits]}).reindex(persons.index)
    return found, keys[~fits], why


def _unhoused_persons(persons: pd.DataFrame, found: _Found, tolerance_m: float) -> list[Issue]:
    """A report line per person without 户号 whose household was found neither way, saying what
    was tried; one without person id (it waited for its household) is ``unhoused``: skipped."""
    failed = persons.loc[list(found.tried)]
    ids = failed["person_id"] if "person_id" in failed else _na(failed)
    labels = record_labels(failed, PERSON)
    issues = []
    for i, tried in found.tried.items():
        code = "unhoused" if pd.isna(ids[i]) else "no_household"
        made = found.made.get(i)
        issues.append(Issue.of("person", labels[i], code, tried=tried,
                               tolerance=float(tolerance_m),
                               household_id=None if pd.isna(made) else str(made)))  # fmt: skip
    return issues


# --- households → buildings --------------------------------------------------------------------


def attach_households(
    households: gpd.GeoDataFrame | pd.DataFrame,
    buildings: gpd.GeoDataFrame | pd.DataFrame,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    rejected: Collection[str] = (),
) -> tuple[gpd.GeoDataFrame | pd.DataFrame, list[Issue]]:
    """Give each household a ``building_id``: by key, else address, else location.

    Adds ``attached_by`` (``"key"``, ``"address"``, ``"location"``, ``"nearest"`` or missing).
    A household without ``household_id`` whose address lacks only the building
    (:func:`gridmap.io.addresses.waits_for_building`) gets it once its building is found, by the
    rule of :func:`gridmap.io.addresses.ids_once_placed` (``<building>-<unit>-<room>``); one
    not found keeps none and is reported as ``"unplaced"`` (:func:`attach_all` then skips it).

    Parameters
    ----------
    households, buildings : GeoDataFrame or DataFrame
        Canonical frames; geometry is optional on both (needed only for location matching).
    tolerance_m : float, default 30
        Largest distance in metres to the nearest building when no footprint contains the point.
    rejected : collection of str
        Ids of buildings left out by validation; households naming them are reported as
        ``"building rejected"`` rather than ``"unknown building"``.
    """
    labels = record_labels(households, HOUSEHOLD)
    key = households["building_id"] if "building_id" in households else _na(households)
    named, several = buildings_named(key, buildings)  # 3栋, 三号楼 … name the building 3
    member = named.notna()
    # numpy's stubs take no None scalar; it is a valid object value (missing in a str Series)
    by = pd.Series(
        np.where(member, "key", None),  # type: ignore[call-overload]
        index=households.index,
        dtype="str",
    )
    unknown = key.notna() & ~member & ~households.index.isin(list(several))
    issues = [
        Issue.of("household", i, "building_rejected" if k in rejected else "unknown_building",
                 building_id=k)
        for i, k in zip(labels[unknown], key[unknown], strict=True)
    ] + [
        Issue.of("household", labels[i], "building_several", building_id=key[i], ids=", ".join(ids))
        for i, ids in several.items()
    ]  # fmt: skip
    result = named
    todo = key.isna()
    ambiguous: set[object] = set()
    if "address" in households and "address" in buildings:
        found, ambiguous = _match_addresses(households.loc[todo, "address"], buildings)
        result, by = result.fillna(found), by.mask(found.reindex(by.index).notna(), "address")
        todo &= result.isna()
    has_point = geometry_present(households) & todo
    far = pd.Series(dtype=float)
    if has_point.any() and geometry_present(buildings).any():
        found, how, far = _match_locations(households.loc[has_point], buildings, tolerance_m)
        result, by = result.fillna(found), by.fillna(how)
        todo &= result.isna()
    ids = ids_once_placed(households, result)
    labels = labels.where(ids.isna(), ids)  # the ids made now name their records
    issues += [
        Issue.of("household", labels[i], "outside_building", building_id=result[i],
                 distance=float(d))
        for i, d in far.items()
    ]  # fmt: skip
    issues += _unattached_households(households, labels, todo, ambiguous, tolerance_m, ids)
    out = households.assign(household_id=ids, building_id=result.astype("str"), attached_by=by)
    return out, issues


def _match_addresses(
    addresses: pd.Series, buildings: pd.DataFrame
) -> tuple[pd.Series, set[object]]:
    """Exact normalised address, else the longest building address that prefixes it."""
    index: dict[str, list[str]] = {}
    for bid, addr in zip(buildings["building_id"], buildings["address"], strict=True):
        if isinstance(addr, str) and isinstance(bid, str):
            index.setdefault(normalise_address(addr), []).append(bid)
    found: dict[object, str] = {}
    ambiguous: set[object] = set()
    for idx, addr in addresses.dropna().items():
        norm = normalise_address(addr)
        for end in range(len(norm), _MIN_ADDRESS_PREFIX - 1, -1):
            hits = index.get(norm[:end])
            if hits is None or (end < len(norm) and _splits_number(norm, end)):
                continue
            if len(hits) == 1:
                found[idx] = hits[0]
            else:
                ambiguous.add(idx)
            break
    return pd.Series(found, index=addresses.index, dtype="str"), ambiguous


def _splits_number(text: str, end: int) -> bool:
    """True if cutting ``text`` at ``end`` splits a number ("路1" is no prefix of "路12号")."""
    return text[end - 1].isdigit() and text[end].isdigit()


def _match_locations(
    points: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, tolerance_m: float
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Building containing each point, else the nearest one within ``tolerance_m``.

    Also returns the distance (m) of points attached to the nearest *footprint* (attaching to
    the nearest point building is the normal case when buildings are points, not a problem).
    """
    check_same_crs(points, buildings, names=["households", "buildings"])
    crs = projected_crs_for(buildings.loc[geometry_present(buildings)])
    pts = points[[points.geometry.name]].to_crs(crs)
    blds = buildings.loc[geometry_present(buildings), ["building_id", buildings.geometry.name]]
    blds = blds.to_crs(crs).sort_values("building_id")
    inside = gpd.sjoin(pts, blds, predicate="within", how="inner")
    inside = inside[~inside.index.duplicated(keep="first")]["building_id"]
    rest = pts.loc[~pts.index.isin(inside.index)]
    near = gpd.sjoin_nearest(
        rest, blds, how="inner", max_distance=tolerance_m, distance_col="distance"
    )
    near = near[~near.index.duplicated(keep="first")]
    footprint = blds.geom_type.isin(["Polygon", "MultiPolygon"])
    far = near.loc[near["index_right"].map(footprint).astype(bool), "distance"]
    near = near["building_id"]
    found = pd.concat([inside, near]).astype("str")
    how = pd.Series(["location"] * len(inside) + ["nearest"] * len(near), index=found.index)
    return found, how.astype("str"), far


def _unattached_households(
    households: pd.DataFrame,
    labels: pd.Series,
    todo: pd.Series,
    ambiguous: set[object],
    tolerance_m: float,
    ids: pd.Series,
) -> list[Issue]:
    """A report line per household not attached (``todo``) saying what was tried; one without
    id (it waited for its building) is ``unplaced``: it is skipped."""
    no_address = pd.Series(False, index=households.index)
    has_address = households["address"].notna() if "address" in households else no_address
    has_point = geometry_present(households)
    issues = []
    for idx in households.index[todo]:
        tried = []
        if idx in ambiguous:
            tried.append("address_ambiguous")
        elif has_address[idx]:
            tried.append("address_unknown")
        if has_point[idx]:
            tried.append("point_far")
        if not tried:
            tried.append("nothing")
        code = "unplaced" if pd.isna(ids[idx]) else "no_building"
        issues.append(Issue.of("household", labels[idx], code, tried=tried,
                               tolerance=float(tolerance_m)))  # fmt: skip
    return issues


# --- buildings → grids -------------------------------------------------------------------------


def attach_buildings(
    buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, list[Issue]]:
    """Give each building the ``grid_code`` of the grid holding most of its footprint.

    Point buildings go to the grid containing them (on a shared edge: the lowest grid code).
    Missing ``community_code`` values are filled from the grid. Buildings without geometry or
    outside every grid keep a missing ``grid_code`` and are reported, except buildings of a
    community that has no grids yet (nothing to be in; they are attached when grids are drawn).
    """
    check_same_crs(buildings, grids, names=["buildings", "grids"])
    labels = record_labels(buildings, BUILDING)
    present = geometry_present(buildings)
    crs = projected_crs_for(grids)
    grid_geoms = grids[["grid_code", grids.geometry.name]].to_crs(crs).reset_index(drop=True)
    blds = buildings.loc[present, [buildings.geometry.name]].to_crs(crs)
    best = _largest_overlap(blds, grid_geoms)
    codes = pd.Series(best, index=blds.index).reindex(buildings.index).astype("str")
    grid_community = dict(zip(grids["grid_code"], grids["community_code"], strict=True))
    out = buildings.assign(grid_code=codes)
    from_grid = codes.map(grid_community)
    out["community_code"] = (
        out["community_code"].fillna(from_grid) if "community_code" in out else from_grid
    ).astype("str")
    issues = [Issue.of("building", i, "no_geometry") for i in labels[~present]] + [
        Issue.of("building", i, "outside_grids")
        for i in labels[present & codes.isna() & _in_gridded_community(buildings, grids)]
    ]
    return out, issues


def _in_gridded_community(buildings: pd.DataFrame, grids: pd.DataFrame) -> pd.Series:
    """True unless the building's ``community_code`` names a community without grids."""
    if "community_code" not in buildings:
        return pd.Series(True, index=buildings.index)
    code = buildings["community_code"]
    return code.isna() | code.isin(set(grids["community_code"].dropna()))


def _largest_overlap(blds: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> np.ndarray:
    """Grid code per building: max intersection area for polygons, containment for points."""
    geoms = blds.geometry.to_numpy()
    b_idx, g_idx = grids.sindex.query(geoms, predicate="intersects")
    pair_geoms = geoms[b_idx]
    polygonal = np.isin(blds.geom_type.to_numpy()[b_idx], ("Polygon", "MultiPolygon"))
    area = np.where(
        polygonal,
        shapely.area(shapely.intersection(pair_geoms, grids.geometry.to_numpy()[g_idx])),
        1.0,
    )
    return largest_share(b_idx, grids["grid_code"].to_numpy()[g_idx], area, len(geoms))


# --- helpers -----------------------------------------------------------------------------------


def _na(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(None, index=frame.index, dtype="str")


# --- the whole chain ---------------------------------------------------------------------------


@dataclass
class AttachResult:
    """Validated and attached layers of one import, plus the report of every problem record.

    Layers not given to :func:`attach_all` are ``None``. Records are never dropped except those
    without id (each of those is a report line).
    """

    communities: gpd.GeoDataFrame | None
    grids: gpd.GeoDataFrame | None
    buildings: gpd.GeoDataFrame | None
    households: gpd.GeoDataFrame | None
    persons: pd.DataFrame | None
    report: AttachReport
    streets: gpd.GeoDataFrame | None = None


def attach_all(
    *,
    communities: gpd.GeoDataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    households: gpd.GeoDataFrame | pd.DataFrame | None = None,
    persons: pd.DataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    validate: bool = True,
    progress: Callable[[str], None] | None = None,
    buildings_for_persons: gpd.GeoDataFrame | None = None,
    households_for_persons: pd.DataFrame | None = None,
) -> AttachResult:
    """Validate the given layers, run the attach chain and roll up the counts.

    Pass the layers as read by :func:`gridmap.read_layer` (or loaded from the store: to add
    households to buildings already stored, pass those buildings). Each link is made when both
    ends are given. Streets are only checked against building footprints (a street through a
    footprint is a report line); grids against their communities (gaps, overlaps, see
    :mod:`gridmap.attach.coverage`).

    Parameters
    ----------
    tolerance_m : float, default 30
        See :func:`attach_households`.
    validate : bool, default True
        Run :func:`gridmap.attach.validate.validate_layer` on each layer first (turn off only for
        layers that were validated before, e.g. loaded from the store).
    progress : callable, optional
        Called with the name of each step (for a CLI progress display).
    buildings_for_persons : GeoDataFrame, optional
        Buildings (validated, e.g. stored) by which persons without 户号 but with coordinates
        find their household (:func:`attach_persons`) when no ``buildings`` are given.
    households_for_persons : DataFrame, optional
        Households (``household_id`` and ``address``, e.g. stored) persons may also be linked to
        besides ``households`` (a persons roster that makes new households links to the stored
        ones too); they are not attached or returned.

    Raises
    ------
    gridmap.errors.InputError
        On fatal problems (conflicting duplicate ids, geometries of the wrong kind, mixed
        CRSs): import nothing. Records with unusable geometries are left out and reported.
    """
    report = AttachReport()
    step = progress or (lambda _name: None)
    layers = {"community": communities, "grid": grids, "building": buildings,
              "household": households, "person": persons, "street": streets}  # fmt: skip
    for name, frame in layers.items():
        if frame is not None and not frame.index.is_unique:  # joins below align on the index
            layers[name] = frame.reset_index(drop=True)
    if validate:
        for name, frame in layers.items():
            if frame is not None:
                step(f"validate {name}s")
                placed_later = (name == "household" and layers["building"] is not None) or (
                    name == "person" and layers["household"] is not None
                )
                layers[name], issues = validate_layer(frame, name, placed_later=placed_later)
                report.extend(issues)
    rejected = rejected_ids(report, "building")
    communities, grids, buildings = layers["community"], layers["grid"], layers["building"]
    households, persons, streets = layers["household"], layers["person"], layers["street"]
    if communities is not None:
        step("check communities and grids")
        report.extend(community_overlaps(communities, grids=grids, buildings=buildings))
    if grids is not None and communities is not None:
        report.extend(grids_of_unknown_communities(grids, communities))
        report.extend(grid_tiling_issues(grids, communities))
    if households is not None and buildings is not None:  # first: it makes the ids that wait
        step("attach households to buildings")  # for the building (persons may name them)
        households, issues = attach_households(
            households, buildings, tolerance_m=tolerance_m, rejected=rejected
        )
        report.extend(issues)
        households = households[households["household_id"].notna()]  # "unplaced": skipped
    if persons is not None and households is not None:
        step("attach persons to households")
        located = buildings if buildings is not None else buildings_for_persons
        targets = households
        if households_for_persons is not None:
            others = households_for_persons[~_isin(households_for_persons["household_id"],
                                                   set(households["household_id"]))]  # fmt: skip
            targets = pd.concat([households.drop(columns="geometry", errors="ignore"), others],
                                ignore_index=True)  # fmt: skip
        persons, issues = attach_persons(persons, targets, buildings=located,
                                         tolerance_m=tolerance_m)  # fmt: skip
        report.extend(issues)
        persons = persons[persons["person_id"].notna()]  # "unhoused": skipped
    if buildings is not None and grids is not None:
        step("attach buildings to grids")
        buildings, issues = attach_buildings(buildings, grids)
        report.extend(issues)
    if buildings is not None:
        report.extend(_cross_checks(buildings, households, communities, streets, report))
        step("roll up counts")
        buildings, grids, communities = roll_up_counts(
            buildings, grids, households=households, persons=persons, communities=communities
        )
    logger.info("Attach finished with %d report line(s): %s", len(report), report.reasons())
    return AttachResult(communities, grids, buildings, households, persons, report, streets)


def _cross_checks(
    buildings: gpd.GeoDataFrame,
    households: pd.DataFrame | None,
    communities: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
    report: AttachReport,
) -> list[Issue]:
    issues: list[Issue] = []
    if isinstance(buildings, gpd.GeoDataFrame):
        if communities is not None:
            issues += buildings_outside_communities(buildings, communities)
        if streets is not None:
            issues += buildings_crossing_streets(buildings, streets)
    if households is not None:
        issues += dwelling_out_of_range(households, buildings)
        if "households" in buildings:
            reported = {i.record_id for i in [*report, *issues] if i.entity == "household"}
            issues += household_count_mismatches(
                buildings["households"], buildings, households, reported=reported
            )
    return issues
