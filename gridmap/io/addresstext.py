"""Addresses as free text (地址, 现住址) written alike, for exact matching.

An office types where a household lives as one text: ``清水塘小区3栋2单元301室``,
``清水塘小区３号楼 二单元 301``, ``清水塘小区3#楼2单元301``, ``清水塘小区3-2-301``. Written
alike (:func:`dwelling_addresses`) these are one text; a different flat, or the same flat with
part of the address left out (no 小区), stays different: the match is exact, never near.
:func:`normalise_address` is the looser form a household's address is matched to a building's by
(the building's address is a prefix of its households').
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridmap.io.addressparts import carries_floor, chinese_number

__all__ = ["dwelling_addresses", "normalise_address"]

_NUMERALS = "零〇一二两三四五六七八九十百"
_ADDRESS_DROP = re.compile(r"[\s,，.。·、#\-—_/()（）]")
_BUILDING_WORDS = r"号楼|幢|座|栋楼"
_HASH_BUILDING = r"(\d)#楼?"  # 3#楼, 3# are building 3 (before # is dropped)
_DWELLING_DROP = r"[\s,，.。·、#/()（）]"
_DWELLING_DASHES = r"[—–_~]+"
_ORDINAL_DIGITS = r"第(\d+)(栋|单元|层)"
_DASH_AFTER_WORD = r"(栋|单元|层)-"
_DASHED_FLAT = r"(^|[^0-9a-z\-])([0-9a-z]+)-(\d+)-(\d+[a-z]?)$"  # 3-2-301: building-unit-room
_UNIT_ZEROS = r"(^|[^0-9])0+(\d+单元)"
_SUFFIX = r"(?:室|号|户|单元)$"
_NUMERAL_WORDS = re.compile(rf"第?([{_NUMERALS}]+)(单元|层|栋|楼)")
_FLOOR_ROOM = re.compile(r"(?<!\d)(\d+)(?:层|楼)(\d+[a-z]?)$")
_NEEDS_PYTHON = rf"[{_NUMERALS}](?:单元|层|栋|楼)|\d(?:层|楼)\d+[a-z]?$"


def normalise_address(address: str) -> str:
    """Comparable form of an address: NFKC, case-folded, no spaces or punctuation, 幢/座/号楼/#楼
    → 栋, a building in Chinese numerals in digits (三栋 → 3栋).

    Examples
    --------
    >>> normalise_address(" 碧江区 清水塘路１２号３幢 "), normalise_address("清水塘小区第三栋")
    ('碧江区清水塘路12号3栋', '清水塘小区3栋')
    """
    text = re.sub(_HASH_BUILDING, r"\1栋", unicodedata.normalize("NFKC", address).casefold())
    text = re.sub(_BUILDING_WORDS, "栋", _ADDRESS_DROP.sub("", text))
    return _NUMERAL_WORDS.sub(_numeral_digits, text) if "栋" in text else text


def dwelling_addresses(addresses: pd.Series) -> pd.Series:
    """Comparable form of each dwelling's address (one flat), for exact matching; missing where
    blank. NFKC (full-width → half-width), lower case, no spaces or punctuation; dashes one
    ``-``; 幢/座/号楼/#楼/# → 栋; a building, unit or floor in Chinese numerals in digits (三栋 →
    3栋, 一单元 → 1单元, 第十二层 → 12层), a unit without leading zeros (02单元 → 2单元); a
    floor the room number carries dropped (3层301 → 301; 4层301 is kept); no trailing
    室/号/户/单元; ``3-2-301`` at the end is ``3栋2单元301``. Vectorised (Arrow compute); the
    numerals and floors are read in Python for the few distinct addresses holding them.

    Examples
    --------
    >>> dwelling_addresses(pd.Series(["某小区１栋 一单元 402室", "某小区1#楼1单元4层402",
    ...                               "某小区1-1-402", "某小区1栋1单元4-02", " ", None])).tolist()
    ['某小区1栋1单元402', '某小区1栋1单元402', '某小区1栋1单元402', '某小区1栋1单元4-02', nan, nan]
    """
    text = pa.array(addresses.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    text = pc.utf8_lower(pc.utf8_normalize(text, "NFKC"))
    for pattern, by in ((_HASH_BUILDING, r"\1栋"), (_DWELLING_DROP, ""), (_DWELLING_DASHES, "-"),
                        (_BUILDING_WORDS, "栋"), (_ORDINAL_DIGITS, r"\1\2"),
                        (_DASH_AFTER_WORD, r"\1"), (_SUFFIX, ""),
                        (_DASHED_FLAT, r"\1\2栋\3单元\4"), (_UNIT_ZEROS, r"\1\2")):  # fmt: skip
        text = pc.replace_substring_regex(text, pattern, by)
    python = pc.fill_null(pc.match_substring_regex(text, _NEEDS_PYTHON), False)
    if pc.any(python).as_py():
        distinct = pc.unique(pc.filter(text, python)).to_pylist()
        tidy = [_tidy(t) for t in distinct]
        found = pc.index_in(text, pa.array(distinct, type=pa.large_string()))
        text = pc.if_else(python, pc.take(pa.array(tidy, type=pa.large_string()), found), text)
    text = pc.replace_substring_regex(text, _SUFFIX, "")
    blank = pc.fill_null(pc.equal(pc.utf8_length(text), 0), True)
    out = pc.if_else(blank, pa.scalar(None, pa.large_string()), text)
    return pd.Series(out.to_numpy(zero_copy_only=False), index=addresses.index, dtype="str")


def _tidy(text: str) -> str:
    """Chinese numerals of building, unit and floor in digits; a floor the room carries dropped."""
    text = _NUMERAL_WORDS.sub(_numeral_digits, text)
    text = re.sub(_UNIT_ZEROS, r"\1\2", text)
    return _FLOOR_ROOM.sub(_floor_room, text)


def _numeral_digits(match: re.Match[str]) -> str:
    return chinese_number(match.group(1)) + match.group(2)


def _floor_room(match: re.Match[str]) -> str:
    floor, room = match.group(1).lstrip("0") or "0", match.group(2)
    return room if carries_floor(room, floor) else f"{floor}层{room}"
