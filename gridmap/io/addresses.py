"""Household ids made from a roster's address, for offices that keep no household numbers.

A household roster (住户, 户籍) without a 户号 column, or with blank 户号 cells, still says where
each household lives: building (楼栋编号), unit (单元), floor (楼层) and room (房号, 门牌号,
室号). :func:`address_keys` makes one id of them, the same for every roster that says the same
address, so a persons roster with these columns and no 户号 links to the households, and a
second import (``--update``) finds the same households again:

* ``<building>-<unit>-<room>`` (``B00001-2-301``); without a unit ``<building>-<room>``;
* the floor goes in before the room (``B00001-2-3-01``) when the room number does not carry
  it: floor ``3`` and room ``301`` or ``31`` need no floor, room ``1`` or ``01`` does;
* each part is read as an office types it (:mod:`gridmap.io.addressparts`): full-width
  characters and spaces dropped, Chinese numerals as digits; a building without 第 and the
  word after its number (``3栋``, ``第三栋``, ``三号楼``, ``3#楼``, ``3座`` are ``3``; ``A栋`` is
  ``A``); a unit or floor as a number (``二单元``, ``02`` are ``2``; ``1F``, ``一楼`` are ``1``); a
  basement ``B1`` (``负一层``, ``地下一层``, ``-1``), never floor 1; a room without 室
  (``三零一室`` is ``301``; ``301a`` is ``301A``); a 房号 cell holding the unit (and floor) too,
  ``3-301`` or ``1单元301``, fills a blank 单元 (楼层);
* parts that disagree are not guessed (:func:`address_conflicts`, noted by data row by
  :func:`address_notes`): 楼层 4 with 房号 301 makes ``…-4-301``, a 房号 ``3-301`` with 单元 2
  makes ``…-2-3-301``, both apart from ``…-301``;
* a record without building or room gets no id (:func:`lacking_parts` says which is blank);
  a household without the building but with the room and an address or coordinates
  (:func:`waits_for_building`) gets it once the attach chain has found its building by address
  or location (:func:`ids_once_placed`), with the same rule.

Two households of one roster at one address get ``-2``, ``-3`` … in file order
(:func:`household_ids`); persons at one address are one household and all get its id.

A persons roster that names no building, only where each lives as free text (现住址) and
perhaps coordinates (:func:`waits_for_household`), is linked by the attach chain
(:func:`gridmap.attach.chain.attach_persons`): to the household whose address is the same once
both are written alike (:func:`dwelling_addresses`, :mod:`gridmap.io.addresstext`: exact,
never a near match), else to
``<building found by location>-<unit>-<room>``; a person then gets the id
``<household_id>-<n>`` (:func:`person_ids`). A household's 楼栋编号 names the building of
that id, else the one building whose id, 楼栋代码 or name reads the same (:func:`buildings_named`:
``3栋`` and ``三号楼`` name the building ``3``, ``3栋`` or ``3号楼``; one reading as several
buildings is reported, not guessed).

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

from collections.abc import Callable, Collection, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.io.addressparts import (
    building_part,
    carries_floor,
    chinese_number,
    floor_part,
    implied_floor,
    room_part,
    split_room,
    unit_part,
)
from gridmap.io.addresstext import dwelling_addresses, normalise_address
from gridmap.io.notes import ROWS_SHOWN, ReadNote
from gridmap.schema import Entity

__all__ = ["ADDRESS_COLUMNS", "ADDRESS_NEEDED", "address_conflicts", "address_keys",
           "address_notes", "buildings_named", "chinese_number", "dwelling_addresses",
           "finds_households", "household_ids", "households_of_persons", "ids_once_placed",
           "lacking_parts", "makes_household_ids", "missing_address_columns", "normalise_address",
           "person_ids", "takes_address_ids", "waits_for_building",
           "waits_for_household"]  # fmt: skip

ADDRESS_COLUMNS = ("building_id", "unit", "floor", "room")
"""The columns a household id is made of when a roster has none (in id order, floor aside)."""
ADDRESS_NEEDED = ("building_id", "room")
"""The columns without which no household id can be made."""

_ROOM_PARTS = ("room", "unit", "floor")


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


_READERS: dict[str, Callable[[object], str | None]] = {
    "building_id": building_part, "unit": unit_part, "floor": floor_part,
    "room": room_part}  # fmt: skip
"""How each address column is read (:mod:`gridmap.io.addressparts`)."""


def _read_column(
    frame: pd.DataFrame, column: str, reader: Callable[[object], object] | None = None
) -> pd.Series:
    """``column`` of ``frame`` read by ``reader`` (else :data:`_READERS`), each distinct value
    once (a roster of a million persons has some thousands of buildings and rooms); missing
    where blank."""
    if column not in frame.columns:
        return pd.Series(None, index=frame.index, dtype="str" if reader is None else object)
    codes, uniques = pd.factorize(frame[column])
    read = np.empty(len(uniques) + 1, dtype=object)
    read[:] = [*map(reader or _READERS[column], uniques), None]
    return pd.Series(read[codes], index=frame.index, dtype="str" if reader is None else object)


def _pairs(first: pd.Series, second: pd.Series, test: Callable[[str, str], bool]) -> pd.Series:
    """``test(first, second)`` where both are given, each distinct pair tried once; else False."""
    both = first.notna() & second.notna()
    pairs = pd.DataFrame({"a": first[both], "b": second[both]})
    distinct = pairs.drop_duplicates()
    distinct["ok"] = [test(a, b) for a, b in zip(distinct["a"], distinct["b"], strict=True)]
    found = pairs.merge(distinct, on=["a", "b"], how="left")["ok"].to_numpy()
    out = pd.Series(False, index=first.index)
    out[both] = found.astype(bool)
    return out


def _disagrees(room: str, floor: str) -> bool:
    """True if ``room`` says a floor (``301``: 3) that is not ``floor``."""
    said = implied_floor(room)
    return said is not None and not carries_floor(room, floor)


def _room_cells(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The room, unit and floor each 房号 cell holds (:func:`split_room`), each distinct cell
    read once; missing where blank or not held."""
    if "room" not in frame.columns:
        return {part: _blank(frame) for part in _ROOM_PARTS}
    codes, uniques = pd.factorize(frame["room"])
    cells = [*map(split_room, uniques), split_room(None)]  # code -1 (blank): the last
    out = {}
    for i, part in enumerate(_ROOM_PARTS):
        read = np.empty(len(cells), dtype=object)
        read[:] = [cell[i] for cell in cells]
        out[part] = pd.Series(read[codes], index=frame.index, dtype="str")
    return out


def _parts(frame: pd.DataFrame) -> tuple[dict[str, pd.Series], pd.Series]:
    """Each record's building, unit, floor and room as read (:mod:`gridmap.io.addressparts`):
    a unit or floor the 房号 cell holds (``3-301``, ``1单元301``) fills a blank 单元/楼层; one
    that differs from the 单元/楼层 given keeps the cell whole as the room. Also, True where
    the cell and the columns differ so."""
    parts = {c: _read_column(frame, c) for c in ("building_id", "unit", "floor")}
    held = _room_cells(frame)
    clash = pd.Series(False, index=frame.index)
    for part in ("unit", "floor"):
        given, said = parts[part], held[part]
        clash |= (given.notna() & said.notna() & given.ne(said)).fillna(False).astype(bool)
    if not clash.any():
        for part in ("unit", "floor"):
            parts[part] = parts[part].fillna(held[part]).astype("str")
        return {**parts, "room": held["room"]}, clash
    for part in ("unit", "floor"):
        parts[part] = parts[part].fillna(held[part].where(~clash)).astype("str")
    parts["room"] = held["room"].mask(clash, _read_column(frame, "room")).astype("str")
    return parts, clash


def address_keys(frame: pd.DataFrame) -> pd.Series:
    """The household id each record's address makes (missing without building or room)."""
    parts, _ = _parts(frame)
    building, room = parts["building_id"], parts["room"]
    floor = parts["floor"].mask(_pairs(room, parts["floor"], carries_floor))
    key = building
    for part in (parts["unit"], floor, room):
        key = key + ("-" + part).fillna("")
    return key.where(building.notna() & room.notna()).astype("str")


def address_conflicts(frame: pd.DataFrame) -> dict[str, list[int]]:
    """The data rows (1-based, ``index + 1``) whose address parts disagree, by kind: ``floor``,
    a room number saying another floor than 楼层 (楼层 4, 房号 301); ``room_cell``, a 房号 cell
    holding a unit or floor other than 单元/楼层 (单元 2, 房号 3-301). Neither is guessed: the
    id keeps both parts (``B1-1-4-301``, ``B1-2-3-301``), distinct from ``B1-1-301``.

    Examples
    --------
    >>> rows = pd.DataFrame({"building_id": ["B1"] * 3, "unit": ["1", "2", "1"],
    ...                      "floor": ["4", None, "3"], "room": ["301", "3-301", "301"]})
    >>> address_conflicts(rows), address_keys(rows).tolist()
    ({'floor': [1], 'room_cell': [2]}, ['B1-1-4-301', 'B1-2-3-301', 'B1-1-301'])
    """
    parts, clash = _parts(frame)
    floor = _pairs(parts["room"], parts["floor"], _disagrees) & ~clash
    found = {"floor": floor, "room_cell": clash}
    return {k: [int(i) + 1 for i in frame.index[v.to_numpy()]] for k, v in found.items() if v.any()}


def address_notes(frame: pd.DataFrame, file: str) -> list[ReadNote]:
    """A note (``address_conflict``) per kind of :func:`address_conflicts` in ``frame``, naming
    the data rows (never a person) and the id the first one gets."""
    keys = address_keys(frame)
    notes = []
    for kind, rows in address_conflicts(frame).items():
        example = str(keys.get(rows[0] - 1, ""))
        notes.append(ReadNote.of("address_conflict", file, kind=kind, rows=rows[:ROWS_SHOWN],
                                 n_rows=len(rows), example=example))  # fmt: skip
    return notes


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


_BUILDING_NAMES = ("building_id", "code", "name")
"""The columns of a building layer a roster's 楼栋编号 may name a building by."""


def buildings_named(
    named: pd.Series, buildings: pd.DataFrame
) -> tuple[pd.Series, dict[object, list[str]]]:
    """The ``building_id`` of the building each 楼栋编号 of ``named`` names: the building of
    that id; else the one building whose id, 楼栋代码 (``code``) or name reads the same by
    :func:`~gridmap.io.addressparts.building_part` (``3栋``, ``三号楼``, ``3#`` name the building
    ``3``, ``3栋`` or ``3号楼``); missing if none. A 楼栋编号 reading as several buildings is
    never guessed: also returns each such record's index → the ids of those buildings.

    Examples
    --------
    >>> buildings = pd.DataFrame({"building_id": ["3栋", "B7", "B8", "B9"],
    ...                           "name": [None, "A座", "清水塘小区1栋", "碧江小区1栋"]})
    >>> found, several = buildings_named(pd.Series(["3栋", "三号楼", "a座", "1栋", "9"]),
    ...                                  buildings)
    >>> found.tolist(), several
    (['3栋', '3栋', 'B7', nan, nan], {})
    """
    ids = buildings["building_id"]
    found = named.where(named.astype(object).isin(set(ids.dropna())))
    todo = named.notna() & found.isna()
    if not todo.any():
        return found.astype("str"), {}
    forms: dict[str, set[str]] = {}
    for column in (c for c in _BUILDING_NAMES if c in buildings.columns):
        values = buildings[column].map(lambda v: None if pd.isna(v) else str(v))
        read = _read_column(pd.DataFrame({"v": values}), "v", building_part)
        for form, bid in zip(read, ids, strict=True):
            if form is not None and isinstance(bid, str):
                forms.setdefault(form, set()).add(bid)
    mine = _read_column(pd.DataFrame({"v": named[todo]}), "v", building_part)
    hits = mine.map(lambda form: sorted(forms.get(form, ())) if form is not None else [])
    single = hits.map(len).eq(1)
    found = found.fillna(hits[single].str[0]).astype("str")
    return found, dict(hits[hits.map(len).gt(1)].items())


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
