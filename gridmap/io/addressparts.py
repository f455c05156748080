"""Each part of a dwelling's address read the way community offices write it.

A roster's 楼栋编号, 单元, 楼层 and 房号 cells are typed by hand, and two offices (or two clerks)
write one flat differently. Each reader here gives one form per part, so
:func:`gridmap.io.addresses.address_keys` makes one household id of every spelling:

* building (:func:`building_part`): ``3栋``, ``三栋``, ``第三栋``, ``3号楼``, ``三号楼``, ``3幢``,
  ``3座``, ``3#``, ``3#楼``, ``3 号`` are ``3``; ``A栋``, ``B座``, ``a座`` are ``A``, ``B``;
  other text (``B00001``, ``清水塘小区3``) as typed, upper case;
* unit (:func:`unit_part`): ``2单元``, ``二单元``, ``第二单元``, ``2``, ``02`` are ``2``;
* floor (:func:`floor_part`): ``1F``, ``一楼``, ``1层``, ``01`` are ``1``; a basement ``负一层``,
  ``地下一层``, ``-1层``, ``-1``, ``B1`` is ``B1``: never floor ``1``;
* room (:func:`room_part`): ``301``, ``301室``, ``三零一`` are ``301``; letters kept, upper case
  (``301a`` is ``301A``); a cell holding the unit too (``3-301``, ``1单元301``, ``一单元三层301室``)
  is split by :func:`split_room`.

Full-width characters and spaces are read as half-width and dropped (NFKC) everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

__all__ = ["RoomCell", "building_part", "carries_floor", "chinese_number", "floor_part",
           "implied_floor", "room_part", "split_room", "unit_part"]  # fmt: skip

_SPACES = re.compile(r"\s+")
_ORDINAL = re.compile(r"^第")
_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_NUMERAL_DIGITS = re.compile(r"[零〇一二两三四五六七八九]+")
_NUMERAL_TENS = re.compile(
    r"(?:([一二两三四五六七八九])百)?(?:[零〇]?([一二两三四五六七八九])?(十))?[零〇]?([一二三四五六七八九])?"
)
_NUMERAL = r"[0-9零〇一二两三四五六七八九十百]+"
_TRAILING_NUMERALS = re.compile(r"[零〇一二两三四五六七八九十百]+$")
_BUILDING_WORD = re.compile(r"(?:#楼|号楼|栋楼|幢楼|#|号|栋|幢|座|楼)$")
_UNIT_WORD = re.compile(r"(?:单元|号)$")
_FLOOR_WORD = re.compile(r"(?:层|楼|F)$")
_BASEMENT = re.compile(rf"^(?:负|地下|-|B)({_NUMERAL})$")
_ROOM_WORD = re.compile(r"(?:室|号|户)$")
_ROOM_DIGITS = re.compile(r"\d+")
_FLOOR_DIGITS = (1, 2)  # a room number carries its floor: floor + 1 or 2 digits (31, 301, 1203)
_ROOM_CELL = re.compile(
    rf"^(?:第?(?P<unit>{_NUMERAL})单元)?(?:第?(?P<floor>(?:负|地下|-)?{_NUMERAL})(?:层|楼))?"
    r"(?P<room>.+)$"
)
_UNIT_ROOM = re.compile(r"^(?P<unit>\d{1,2})-(?P<room>\d{3,4}[A-Z]?)$")


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


def _typed(value: object) -> str | None:
    """A cell as typed: NFKC (full-width → half-width), no spaces, upper case; None if blank."""
    if not isinstance(value, str):
        return None
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper() or None


def _number(text: str) -> str:
    """Chinese numerals in digits, a number's leading zeros dropped (``02`` is ``2``)."""
    text = chinese_number(text)
    return text.lstrip("0") or "0" if text.isdigit() else text


def building_part(value: object) -> str | None:
    """A building as typed, without 第 and the word after its number (栋, 号楼, 幢, 座, #, #楼 …),
    Chinese numerals in digits; None if blank.

    Examples
    --------
    >>> typed = ["3栋", "第三栋", "三号楼", "3#楼", " b座", "B00001", "清水塘小区三栋"]
    >>> [building_part(v) for v in typed]
    ['3', '3', '3', '3', 'B', 'B00001', '清水塘小区3']
    """
    text = _typed(value)
    if text is None:
        return None
    bare = _ORDINAL.sub("", _BUILDING_WORD.sub("", text)) or text
    if bare == text:
        return chinese_number(text)
    numerals = _TRAILING_NUMERALS.search(bare)  # 清水塘小区三栋 is 清水塘小区3
    return bare[: numerals.start()] + chinese_number(numerals.group()) if numerals else bare


def unit_part(value: object) -> str | None:
    """A unit as typed, without 第 and 单元, as a number (``二单元``, ``02`` are ``2``)."""
    text = _typed(value)
    if text is None:
        return None
    return _number(_ORDINAL.sub("", _UNIT_WORD.sub("", text)) or text)


def floor_part(value: object) -> str | None:
    """A floor as a number (``1F``, ``一楼``, ``第一层`` are ``1``); a basement ``B<n>``
    (``负一层``, ``地下一层``, ``-1``, ``B1`` are ``B1``).

    Examples
    --------
    >>> [floor_part(v) for v in ["1F", "一楼", "03", "负一层", "地下二层", "-1", "B1", "1"]]
    ['1', '1', '3', 'B1', 'B2', 'B1', 'B1', '1']
    """
    text = _typed(value)
    if text is None:
        return None
    text = _ORDINAL.sub("", _FLOOR_WORD.sub("", text)) or text
    basement = _BASEMENT.fullmatch(text)
    return f"B{_number(basement.group(1))}" if basement else _number(text)


def room_part(value: object) -> str | None:
    """A room as typed, without 室/号/户, Chinese numerals in digits (``三零一室`` is ``301``),
    letters upper case (``301a`` is ``301A``)."""
    text = _typed(value)
    if text is None:
        return None
    return chinese_number(_ROOM_WORD.sub("", text) or text)


class RoomCell(NamedTuple):
    """What one 房号 cell says: the room, and the unit and floor when the cell holds them."""

    room: str | None
    unit: str | None = None
    floor: str | None = None


def split_room(value: object) -> RoomCell:
    """The unit and floor a 房号 cell holds besides the room: ``1单元301``, ``一单元三层301室``,
    ``3-301`` (unit 3, room 301: only a room of 3 or 4 digits, so ``4-02`` stays a room).

    Examples
    --------
    >>> split_room("3-301"), split_room("一单元301室")
    (RoomCell(room='301', unit='3', floor=None), RoomCell(room='301', unit='1', floor=None))
    >>> split_room("2单元十二层1203"), split_room("4-02")
    (RoomCell(room='1203', unit='2', floor='12'), RoomCell(room='4-02', unit=None, floor=None))
    """
    text = _typed(value)
    if text is None:
        return RoomCell(None)
    dashed = _UNIT_ROOM.fullmatch(text)
    if dashed:
        return RoomCell(room_part(dashed.group("room")), _number(dashed.group("unit")))
    cell = _ROOM_CELL.fullmatch(text)
    if cell is None or not (cell.group("unit") or cell.group("floor")):
        return RoomCell(room_part(text))
    unit, floor = cell.group("unit"), cell.group("floor")
    return RoomCell(room_part(cell.group("room")), unit and _number(unit),
                    floor and floor_part(floor))  # fmt: skip


def _door(room: str) -> str:
    """The room's number without leading zeros and letters after it (``0301A`` → ``301``)."""
    digits = _ROOM_DIGITS.match(room)
    return (digits.group() if digits else room).lstrip("0")


def carries_floor(room: str, floor: str) -> bool:
    """True if ``room`` starts with ``floor`` and adds a door number of one or two digits
    (``301``, ``301A`` and ``31`` carry floor 3; ``B101`` carries floor ``B1``)."""
    door = _door(room) if floor[:1].isdigit() else room
    return door.startswith(floor) and len(door) - len(floor) in _FLOOR_DIGITS


def implied_floor(room: str) -> str | None:
    """The floor a room number of 3 or 4 digits says (``301`` → ``3``, ``1203A`` → ``12``)."""
    door = _door(room)
    return door[:-2] if door.isdigit() and len(door) in (3, 4) else None
