"""Household ids made from a roster's address, for offices that keep no household numbers.

A household roster (住户, 户籍) without a 户号 column, or with blank 户号 cells, still says where
each household lives: building (楼栋编号), unit (单元), floor (楼层) and room (房号, 门牌号,
室号). :func:`address_keys` makes one id of them, the same for every roster that says the same
address, so a persons roster with these columns and no 户号 links to the households, and a
second import (``--update``) finds the same households again:

* ``<building>-<unit>-<room>`` (``B00001-2-301``); without a unit ``<building>-<room>``;
* the floor goes in before the room (``B00001-2-3-01``) when the room number does not carry
  it: floor ``3`` and room ``301`` or ``31`` need no floor, room ``1`` or ``01`` does;
* each part is read as an office types it: full-width characters, spaces and a trailing
  ``单元``/``室``/``号``/``层``/``楼`` are dropped (``1单元`` is ``1``, ``301室`` is ``301``);
  a floor's leading zeros too (``03`` is ``3``);
* a record without building or room gets no id (:func:`lacking_parts` says which is blank);
  a household without the building but with the room and an address or coordinates
  (:func:`waits_for_building`) gets it once the attach chain has found its building by address
  or location (:func:`ids_once_placed`), with the same rule.

Two households of one roster at one address get ``-2``, ``-3`` … in file order
(:func:`household_ids`); persons at one address are one household and all get its id.

Examples
--------
>>> rows = pd.DataFrame({"building_id": ["B1", "B1", "B1", "B1", None],
...                      "unit": ["1", "1单元", None, "1", "2"],
...                      "floor": ["3", "3", "3", "3", "1"],
...                      "room": ["301", "301", "1", "302室", "101"]})
>>> address_keys(rows).tolist()
['B1-1-301', 'B1-1-301', 'B1-3-1', 'B1-1-302', nan]
>>> ids, repeated = household_ids(rows)
>>> ids.tolist(), repeated
(['B1-1-301', 'B1-1-301-2', 'B1-3-1', 'B1-1-302', nan], {'B1-1-301': [1, 2]})
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable

import geopandas as gpd
import pandas as pd

from gridmap.schema import Entity

__all__ = ["ADDRESS_COLUMNS", "ADDRESS_NEEDED", "address_keys", "household_ids",
           "households_of_persons", "ids_once_placed", "lacking_parts", "makes_household_ids",
           "missing_address_columns", "takes_address_ids", "waits_for_building"]  # fmt: skip

ADDRESS_COLUMNS = ("building_id", "unit", "floor", "room")
"""The columns a household id is made of when a roster has none (in id order, floor aside)."""
ADDRESS_NEEDED = ("building_id", "room")
"""The columns without which no household id can be made."""

_SUFFIX = re.compile(r"(?:单元|室|号|层|楼)$")
_SPACES = re.compile(r"\s+")
_FLOOR_DIGITS = (1, 2)  # a room number carries its floor: floor + 1 or 2 digits (31, 301, 1203)


def takes_address_ids(ent: Entity) -> bool:
    """True for the entities whose household id is made of the address when a file has none
    (households and persons)."""
    return "household_id" in ent.columns and set(ADDRESS_COLUMNS) <= set(ent.columns)


def missing_address_columns(columns: Iterable[object]) -> tuple[str, ...]:
    """Of :data:`ADDRESS_NEEDED`, the columns not among ``columns``."""
    present = set(columns)
    return tuple(c for c in ADDRESS_NEEDED if c not in present)


def makes_household_ids(columns: Iterable[object]) -> bool:
    """True when a frame with ``columns`` holds what household ids are made of."""
    return not missing_address_columns(columns)


def _part(value: object) -> str | None:
    """One part of an address as typed: NFKC, no spaces, no trailing 单元/室/号/层/楼."""
    if not isinstance(value, str):
        return None
    text = _SUFFIX.sub("", _SPACES.sub("", unicodedata.normalize("NFKC", value)))
    return text or None


def _floor(value: object) -> str | None:
    text = _part(value)
    if text is None or not text.isdigit():
        return text
    return text.lstrip("0") or "0"


def _carries_floor(room: str, floor: str) -> bool:
    """True if ``room`` starts with ``floor`` and adds a door number of one or two digits."""
    door = room.lstrip("0")
    return door.startswith(floor) and len(door) - len(floor) in _FLOOR_DIGITS


def _key(building: object, unit: object, floor: object, room: object) -> str | None:
    parts = [_part(building), _part(unit), _floor(floor), _part(room)]
    if parts[0] is None or parts[3] is None:
        return None
    if parts[2] is not None and _carries_floor(parts[3], parts[2]):
        parts[2] = None
    return "-".join(p for p in parts if p is not None)


def _column(frame: pd.DataFrame, column: str) -> list[object]:
    return frame[column].tolist() if column in frame.columns else [None] * len(frame)


def address_keys(frame: pd.DataFrame) -> pd.Series:
    """The household id each record's address makes (missing without building or room)."""
    columns = [_column(frame, c) for c in ADDRESS_COLUMNS]
    keys = [_key(*parts) for parts in zip(*columns, strict=True)]
    return pd.Series(keys, index=frame.index, dtype="str")


def household_ids(
    frame: pd.DataFrame, taken: Collection[str] = ()
) -> tuple[pd.Series, dict[str, list[int]]]:
    """Household ids from the address, a repeated address numbered ``-2``, ``-3`` … in file
    order; and each repeated address's id → its data rows (1-based, ``index + 1``).

    ``taken`` are ids the roster already holds (given, or made before): an address id equal to
    one is numbered on, past the numbers taken too.
    """
    keys = address_keys(frame)
    used = set(taken)
    seen: dict[str, int] = {}
    rows: dict[str, list[int]] = {}
    ids: list[str | None] = []
    for index, key in keys.items():
        if pd.isna(key):
            ids.append(None)
            continue
        n = seen.get(key, 0) + 1
        while (made := key if n == 1 else f"{key}-{n}") in used:
            n += 1
        seen[key] = n
        used.add(made)
        rows.setdefault(key, []).append(int(index) + 1)
        ids.append(made)
    repeated = {key: found for key, found in rows.items() if len(found) > 1}
    return pd.Series(ids, index=frame.index, dtype="str"), repeated


def waits_for_building(frame: pd.DataFrame) -> pd.Series:
    """True for the households whose id can be made once their building is found: no household
    id, the building blank, the room given, and an address or a point to find the building by
    (the attach chain does, :func:`gridmap.attach.chain.attach_households`).

    Examples
    --------
    >>> rows = pd.DataFrame({"household_id": [None, None, None, "H1"],
    ...                      "building_id": [None, None, None, None], "unit": ["1"] * 4,
    ...                      "room": ["301", "302", None, "303"],
    ...                      "address": ["清水塘小区1栋", None, "清水塘小区1栋", "清水塘小区1栋"]})
    >>> waits_for_building(rows).tolist()
    [True, False, False, False]
    """
    no = pd.Series(False, index=frame.index)
    if "room" not in frame.columns:
        return no
    missing = frame["household_id"].isna() if "household_id" in frame.columns else ~no
    only_building = lacking_parts(frame).map(lambda blank: blank == ("building_id",))
    found_by = frame["address"].notna() if "address" in frame.columns else no
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
    if geometry is not None:
        found_by = found_by | ~(geometry.isna() | geometry.is_empty)
    return (missing & only_building.astype(bool) & found_by).astype(bool)


def ids_once_placed(frame: pd.DataFrame, buildings: pd.Series) -> pd.Series:
    """The household ids of ``frame``, those missing made of the address now that ``buildings``
    (aligned on ``frame``) says in which building each household was found; the others, and
    those still without building, as they are. A repeated address is numbered past the ids the
    frame holds (:func:`household_ids`).

    Examples
    --------
    >>> rows = pd.DataFrame({"household_id": ["B1-1-301", None, None],
    ...                      "building_id": ["B1", None, None], "unit": ["1", "1", "2"],
    ...                      "room": ["301", "301", "101"]})
    >>> ids_once_placed(rows, pd.Series(["B1", "B1", None])).tolist()
    ['B1-1-301', 'B1-1-301-2', nan]
    """
    ids = frame["household_id"] if "household_id" in frame.columns else _blank(frame)
    placed = ids.isna() & buildings.notna()
    if not placed.any():
        return ids
    made, _ = household_ids(frame.loc[placed].assign(building_id=buildings[placed]),
                            taken=set(ids.dropna()))  # fmt: skip
    return ids.where(~placed, made).astype("str")


def _blank(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(None, index=frame.index, dtype="str")


def lacking_parts(frame: pd.DataFrame) -> pd.Series:
    """For each record, the :data:`ADDRESS_NEEDED` columns that are blank (empty tuple: none)."""
    needed = {c: [_part(v) is None for v in _column(frame, c)] for c in ADDRESS_NEEDED}
    blank = [tuple(c for c in ADDRESS_NEEDED if needed[c][i]) for i in range(len(frame))]
    return pd.Series(blank, index=frame.index, dtype=object)


def households_of_persons(persons: pd.DataFrame) -> pd.DataFrame:
    """One household per address of ``persons`` whose household id was made of it (a roster
    without 户号, no household roster): ``household_id`` and the address of its first person.

    Examples
    --------
    >>> persons = pd.DataFrame({"household_id": ["B1-1-301", "B1-1-301", "H9"],
    ...                         "building_id": ["B1", "B1", "B2"], "unit": ["1", "1", "1"],
    ...                         "room": ["301", "301", "101"]})
    >>> households_of_persons(persons)
      household_id building_id unit room
    0     B1-1-301          B1    1  301
    """
    keys = address_keys(persons)
    made = persons["household_id"].notna() & persons["household_id"].eq(keys)
    columns = ["household_id", *[c for c in ADDRESS_COLUMNS if c in persons.columns]]
    households = persons.loc[made.fillna(False).astype(bool), columns]
    return households.drop_duplicates("household_id").reset_index(drop=True)
