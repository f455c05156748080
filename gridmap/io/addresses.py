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
  a floor's leading zeros too (``03`` is ``3``); a unit or floor in Chinese numerals is a
  number (``一单元`` is ``1``, ``第十二层`` is ``12``, :func:`chinese_number`);
* a record without building or room gets no id (:func:`lacking_parts` says which is blank);
  a household without the building but with the room and an address or coordinates
  (:func:`waits_for_building`) gets it once the attach chain has found its building by address
  or location (:func:`ids_once_placed`), with the same rule.

Two households of one roster at one address get ``-2``, ``-3`` … in file order
(:func:`household_ids`); persons at one address are one household and all get its id.

A persons roster that names no building, only where each lives as free text (现住址) and
perhaps coordinates (:func:`waits_for_household`), is linked by the attach chain
(:func:`gridmap.attach.chain.attach_persons`): to the household whose address is the same once
both are written alike (:func:`dwelling_addresses`: exact, never a near match), else to
``<building found by location>-<unit>-<room>``; a person then gets the id
``<household_id>-<n>`` (:func:`person_ids`).

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
from collections.abc import Callable, Collection, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridmap.schema import Entity

__all__ = ["ADDRESS_COLUMNS", "ADDRESS_NEEDED", "address_keys", "chinese_number",
           "dwelling_addresses", "finds_households", "household_ids", "households_of_persons",
           "ids_once_placed", "lacking_parts", "makes_household_ids", "missing_address_columns",
           "normalise_address", "person_ids", "takes_address_ids", "waits_for_building",
           "waits_for_household"]  # fmt: skip

ADDRESS_COLUMNS = ("building_id", "unit", "floor", "room")
"""The columns a household id is made of when a roster has none (in id order, floor aside)."""
ADDRESS_NEEDED = ("building_id", "room")
"""The columns without which no household id can be made."""

_SUFFIX = re.compile(r"(?:单元|室|号|层|楼)$")
_SPACES = re.compile(r"\s+")
_ORDINAL = re.compile(r"^第")
_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_NUMERAL_DIGITS = re.compile(r"[零〇一二两三四五六七八九]+")
_NUMERAL_TENS = re.compile(
    r"(?:([一二两三四五六七八九])百)?(?:[零〇]?([一二两三四五六七八九])?(十))?[零〇]?([一二三四五六七八九])?"
)
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


def chinese_number(text: str) -> str:
    """``text`` in digits if it is a number in Chinese numerals (一 … 九十九, 一百 …, or digit by
    digit: 一二 is 12), else as it is.

    Examples
    --------
    >>> numbers = ["一", "十", "十二", "二十", "三十五", "一百零一", "一二", "B1"]
    >>> [chinese_number(t) for t in numbers]
    ['1', '10', '12', '20', '35', '101', '12', 'B1']
    """
    if _NUMERAL_DIGITS.fullmatch(text):
        return "".join(str(_DIGITS[c]) for c in text)
    match = _NUMERAL_TENS.fullmatch(text) if text else None
    if match is None or not any(match.groups()):
        return text
    hundreds, tens, ten, ones = match.groups()
    value = _DIGITS.get(hundreds or "", 0) * 100 + (_DIGITS.get(tens or "一", 1) * 10 if ten else 0)
    return str(value + _DIGITS.get(ones or "", 0))


def _part(value: object) -> str | None:
    """One part of an address as typed: NFKC, no spaces, no trailing 单元/室/号/层/楼."""
    if not isinstance(value, str):
        return None
    text = _SUFFIX.sub("", _SPACES.sub("", unicodedata.normalize("NFKC", value)))
    return text or None


def _unit(value: object) -> str | None:
    """A unit as typed: as :func:`_part`, without a leading 第, Chinese numerals as digits."""
    text = _part(value)
    return None if text is None else chinese_number(_ORDINAL.sub("", text)) or None


def _floor(value: object) -> str | None:
    text = _unit(value)
    if text is None or not text.isdigit():
        return text
    return text.lstrip("0") or "0"


def _carries_floor(room: str, floor: str) -> bool:
    """True if ``room`` starts with ``floor`` and adds a door number of one or two digits."""
    door = room.lstrip("0")
    return door.startswith(floor) and len(door) - len(floor) in _FLOOR_DIGITS


_READERS: dict[str, Callable[[object], str | None]] = {
    "building_id": _part, "unit": _unit, "floor": _floor, "room": _part}  # fmt: skip
"""How each address column is read (:func:`_part` and the numerals of units and floors)."""


def _read_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """``column`` of ``frame`` read by :data:`_READERS`, each distinct value once (a roster of a
    million persons has some thousands of buildings and rooms); missing where blank."""
    if column not in frame.columns:
        return pd.Series(None, index=frame.index, dtype="str")
    codes, uniques = pd.factorize(frame[column])
    read = np.array([*map(_READERS[column], uniques), None], dtype=object)
    return pd.Series(read[codes], index=frame.index, dtype="str")  # code -1 (blank): None


def _floors_carried(room: pd.Series, floor: pd.Series) -> pd.Series:
    """True where the room number carries the floor (:func:`_carries_floor`), each distinct
    pair of room and floor tried once."""
    both = room.notna() & floor.notna()
    pairs = pd.DataFrame({"room": room[both], "floor": floor[both]})
    distinct = pairs.drop_duplicates()
    rooms, floors = distinct["room"], distinct["floor"]
    distinct["carried"] = [_carries_floor(r, f) for r, f in zip(rooms, floors, strict=True)]
    carried = pairs.merge(distinct, on=["room", "floor"], how="left")["carried"].to_numpy()
    out = pd.Series(False, index=room.index)
    out[both] = carried.astype(bool)
    return out


def address_keys(frame: pd.DataFrame) -> pd.Series:
    """The household id each record's address makes (missing without building or room)."""
    parts = {c: _read_column(frame, c) for c in ADDRESS_COLUMNS}
    building, room = parts["building_id"], parts["room"]
    floor = parts["floor"].mask(_floors_carried(room, parts["floor"]))
    key = building
    for part in (parts["unit"], floor, room):
        key = key + ("-" + part).fillna("")
    return key.where(building.notna() & room.notna()).astype("str")


def household_ids(
    frame: pd.DataFrame, taken: Collection[str] = ()
) -> tuple[pd.Series, dict[str, list[int]]]:
    """Household ids from the address, a repeated address numbered ``-2``, ``-3`` … in file
    order; and each repeated address's id → its data rows (1-based, ``index + 1``).

    ``taken`` are ids the roster already holds (given, or made before): an address id equal to
    one is numbered on, past the numbers taken too.
    """
    keys = address_keys(frame)
    made = _numbered_in_file_order(keys)
    # the (few) ids made against the (many) taken: Series.isin of an Arrow string column would
    # make one pyarrow scalar per taken id (1.8 s for 358,000)
    if made.dropna().is_unique and set(taken).isdisjoint(made.dropna().tolist()):
        ids = made  # no id met twice: what numbering row by row would give, without the loop
    else:
        ids = _numbered_past_taken(keys, taken)
    found = keys.notna() & keys.duplicated(keep=False)
    rows = (keys.index[found] + 1).astype(int).to_series(index=keys.index[found])
    by_key = rows.groupby(keys[found], sort=False)
    repeated = {key: [int(r) for r in group] for key, group in by_key}
    return ids, repeated


def _numbered_in_file_order(keys: pd.Series) -> pd.Series:
    """``key``, ``key-2``, ``key-3`` … for the first, second, third … record of each key."""
    n = keys.groupby(keys, sort=False, dropna=False).cumcount() + 1
    numbered = keys.where(n == 1, keys + "-" + n.astype(str))
    return numbered.where(keys.notna()).astype("str")


def _numbered_past_taken(keys: pd.Series, taken: Collection[str]) -> pd.Series:
    """As :func:`_numbered_in_file_order`, each id numbered on while it is taken or made
    before (row by row: only when an address id meets another)."""
    used = set(taken)
    seen: dict[str, int] = {}
    ids: list[str | None] = []
    for key in keys:
        if pd.isna(key):
            ids.append(None)
            continue
        n = seen.get(key, 0) + 1
        while (made := key if n == 1 else f"{key}-{n}") in used:
            n += 1
        seen[key] = n
        used.add(made)
        ids.append(made)
    return pd.Series(ids, index=keys.index, dtype="str")


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
                            taken=set(ids.dropna().tolist()))  # fmt: skip
    return ids.where(~placed, made).astype("str")


def _blank(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(None, index=frame.index, dtype="str")


def lacking_parts(frame: pd.DataFrame) -> pd.Series:
    """For each record, the :data:`ADDRESS_NEEDED` columns that are blank (empty tuple: none)."""
    building, room = (_read_column(frame, c).isna().to_numpy() for c in ADDRESS_NEEDED)
    shapes = np.empty(4, dtype=object)
    shapes[:] = [(), ("room",), ("building_id",), ADDRESS_NEEDED]
    return pd.Series(shapes[building * 2 + room], index=frame.index, dtype=object)


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
    columns = ["household_id", *[c for c in ADDRESS_COLUMNS if c in persons.columns]]
    if not makes_household_ids(persons.columns) or "household_id" not in persons.columns:
        return pd.DataFrame(columns=columns, dtype="str")  # nothing made of the address
    keys = address_keys(persons)
    made = persons["household_id"].notna() & persons["household_id"].eq(keys)
    households = persons.loc[made.fillna(False).astype(bool), columns]
    return households.drop_duplicates("household_id").reset_index(drop=True)


# --- addresses as free text --------------------------------------------------------------------

_ADDRESS_DROP = re.compile(r"[\s,，.。·、#\-—_/()（）]")
_ADDRESS_BUILDING_WORDS = re.compile(r"号楼|幢|座")
_DWELLING_DROP = r"[\s,，.。·、#/()（）]"
_DWELLING_DASHES = r"[—–_~]+"
_DWELLING_NUMERALS = re.compile(r"第?([零〇一二两三四五六七八九十百]+)(单元|层)")
_HAS_DWELLING_NUMERALS = r"[零〇一二两三四五六七八九十百](?:单元|层)"
_DWELLING_SUFFIX = r"(?:室|号|户|单元)$"


def normalise_address(address: str) -> str:
    """Comparable form of an address: NFKC, case-folded, no spaces or punctuation, 幢/座/号楼 → 栋.

    Examples
    --------
    >>> normalise_address(" 碧江区 清水塘路１２号３幢 ")
    '碧江区清水塘路12号3栋'
    """
    text = unicodedata.normalize("NFKC", address).casefold()
    return _ADDRESS_BUILDING_WORDS.sub("栋", _ADDRESS_DROP.sub("", text))


def dwelling_addresses(addresses: pd.Series) -> pd.Series:
    """Comparable form of each dwelling's address (one flat), for exact matching: NFKC
    (full-width → half-width), lower case, no spaces or punctuation, dashes one ``-`` (kept: they
    separate numbers), 幢/座/号楼 → 栋, a unit or floor in Chinese numerals in digits (一单元 →
    1单元, 第十二层 → 12层), no trailing 室/号/户/单元; missing where blank. Vectorised (Arrow
    compute); the numerals are read in Python for the few distinct addresses holding them.

    Examples
    --------
    >>> dwelling_addresses(pd.Series(["清水塘小区１栋 一单元 402室", "清水塘小区1幢1单元402",
    ...                               "清水塘小区1栋1单元4-02", " ", None])).tolist()
    ['清水塘小区1栋1单元402', '清水塘小区1栋1单元402', '清水塘小区1栋1单元4-02', nan, nan]
    """
    text = pa.array(addresses.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    text = pc.utf8_lower(pc.utf8_normalize(text, "NFKC"))
    for pattern, by in ((_DWELLING_DROP, ""), (_DWELLING_DASHES, "-"),
                        (_ADDRESS_BUILDING_WORDS.pattern, "栋")):  # fmt: skip
        text = pc.replace_substring_regex(text, pattern, by)
    numerals = pc.fill_null(pc.match_substring_regex(text, _HAS_DWELLING_NUMERALS), False)
    if pc.any(numerals).as_py():
        distinct = pc.unique(pc.filter(text, numerals)).to_pylist()
        digits = [_DWELLING_NUMERALS.sub(_numeral_digits, t) for t in distinct]
        found = pc.index_in(text, pa.array(distinct, type=pa.large_string()))
        text = pc.if_else(numerals, pc.take(pa.array(digits, type=pa.large_string()), found), text)
    text = pc.replace_substring_regex(text, _DWELLING_SUFFIX, "")
    blank = pc.fill_null(pc.equal(pc.utf8_length(text), 0), True)
    out = pc.if_else(blank, pa.scalar(None, pa.large_string()), text)
    return pd.Series(out.to_numpy(zero_copy_only=False), index=addresses.index, dtype="str")


def _numeral_digits(match: re.Match[str]) -> str:
    return chinese_number(match.group(1)) + match.group(2)


# --- persons found by address or location ------------------------------------------------------


def finds_households(columns: Iterable[object]) -> bool:
    """True when a persons frame with ``columns`` can find its households without 户号 or
    楼栋编号: it has the address as text (coordinates and the room are the other way; the attach
    chain tells each person which it tried)."""
    return "address" in set(columns)


def waits_for_household(frame: pd.DataFrame) -> pd.Series:
    """True for the persons without household id who have an address or a point: the attach
    chain finds their household by them (:func:`gridmap.attach.chain.attach_persons`).

    Examples
    --------
    >>> rows = pd.DataFrame({"household_id": [None, None, "B1-1-301"],
    ...                      "address": ["清水塘1栋1单元301室", None, "清水塘1栋1单元301室"]})
    >>> waits_for_household(rows).tolist()
    [True, False, False]
    """
    no = pd.Series(False, index=frame.index)
    missing = frame["household_id"].isna() if "household_id" in frame.columns else ~no
    found_by = frame["address"].notna() if "address" in frame.columns else no
    if isinstance(frame, gpd.GeoDataFrame):
        found_by = found_by | ~(frame.geometry.isna() | frame.geometry.is_empty)
    return (missing & found_by).astype(bool)


_NUMBER_END = r"-\d+$"  # <household_id>-<n>: the household id is what is before it
_UP_TO_NUMBER = r"^.*-"


def person_ids(households: pd.Series, taken: Collection[str] = ()) -> pd.Series:
    """``<household_id>-<n>`` for each person of ``households`` (missing without household):
    ``n`` counts the household's persons in file order, past the numbers of the ``taken`` ids
    of that household (persons given or numbered before keep theirs).

    Examples
    --------
    >>> person_ids(pd.Series(["H1", "H2", "H1", None]), taken=["H1-1", "P7"]).tolist()
    ['H1-2', 'H2-1', 'H1-3', nan]
    """
    n = households.groupby(households, sort=False, dropna=False).cumcount() + 1
    if len(taken):
        ids = pd.Series(taken if isinstance(taken, pd.Series) else list(taken), dtype="str")
        household = ids.str.replace(_NUMBER_END, "", regex=True)
        ours = household != ids
        numbers = ids[ours].str.replace(_UP_TO_NUMBER, "", regex=True).astype(int)
        past = numbers.groupby(household[ours].to_numpy()).max()
        n += households.map(past).fillna(0).astype(int)
    return (households + "-" + n.astype(str)).where(households.notna()).astype("str")
