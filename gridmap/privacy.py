"""Personal-data protection (PIPL): masking, age bands, sensitive tags, de-identification.

Household and person records are personal information; health status, special-population tags
and children under 14 are *sensitive*. Staff see values masked by default (phone
``138****5678``, ID number ``520602********1234``, name ``张*``); public outputs (maps, GeoJSON
downloads, published work orders) carry only aggregates and de-identified data, which is what
:func:`deidentify` makes of a roster.

Everything here is pure: no key, no database, no logging of values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from gridmap.schema import PERSONAL_FIELDS

__all__ = [
    "AGE_BANDS",
    "SENSITIVE_TAGS",
    "IDENTIFYING_FIELDS",
    "mask_phone",
    "mask_id_number",
    "mask_name",
    "age",
    "age_band",
    "is_minor_under_14",
    "split_tags",
    "is_sensitive_tag",
    "public_tags",
    "deidentify",
]

AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 14, "0-13"),
    (14, 18, "14-17"),
    (18, 35, "18-34"),
    (35, 60, "35-59"),
    (60, 80, "60-79"),
    (80, None, "80+"),
)
"""``(lowest age, first age not included, label)``; ``0-13`` are the sensitive children."""

SENSITIVE_TAGS: frozenset[str] = frozenset(
    {
        # health status
        "disabled", "残疾", "残疾人", "chronic_illness", "慢性病", "serious_illness", "重病",
        "大病", "mental_illness", "精神障碍", "严重精神障碍", "hiv", "艾滋病",
        "pregnant", "孕产妇",
        # special populations (特殊人群)
        "released_prisoner", "刑满释放", "刑满释放人员", "community_correction", "社区矫正",
        "社区矫正人员", "drug_user", "吸毒", "吸毒人员", "社区戒毒", "key_youth", "重点青少年",
        "petitioner", "信访", "cult", "邪教",
        # poverty and care
        "low_income", "低保", "低保户", "特困", "特困供养", "left_behind_child", "留守儿童",
        "orphan", "孤儿", "困境儿童",
    }
)  # fmt: skip
"""Person tags that are sensitive personal information (health, special populations, hardship).

Tags are compared case-insensitively; anything not listed (``elderly``, ``veteran``, ``党员`` …)
is still personal data but not *sensitive*. Neither kind reaches a public output.
"""

IDENTIFYING_FIELDS: frozenset[str] = PERSONAL_FIELDS | frozenset(
    {"person_id", "household_id", "id_number_hash", "phone_hash", "address", "unit", "floor",
     "room", "staff_id"}
)  # fmt: skip
"""Columns :func:`deidentify` drops: personal fields, record ids, keyed hashes, dwelling units."""

_TAG_SPLIT = re.compile(r"[,;，；、|\s]+")
_NOT_DIGIT = re.compile(r"\D")


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _keep_ends(text: str, head: int, tail: int, shortest: int = 0) -> str:
    """``text`` with every character but the first ``head`` and the last ``tail`` starred;
    all of it starred when it is shorter than ``shortest``."""
    if len(text) < shortest:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def mask_phone(value: str | None) -> str | None:
    """Mask a phone number: keep the first 3 and last 4 digits.

    China's country code (86 before 11 digits) is dropped; a value of fewer than 8 digits is
    not a phone number and is starred whole.

    Examples
    --------
    >>> [mask_phone(v) for v in ("13812345678", "+86 138-1234-5678", "0856-5221234", "12345")]
    ['138****5678', '138****5678', '085****1234', '*****']
    >>> mask_phone(None) is None
    True
    """
    if _missing(value):
        return None
    digits = _NOT_DIGIT.sub("", str(value))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) < 8:  # not a phone number: hide it whole
        return "*" * len(str(value).strip())
    return _keep_ends(digits, 3, 4)


def mask_id_number(value: str | None) -> str | None:
    """Mask a resident ID number: keep the 6-digit region code and the last 4 characters.

    A value of fewer than 11 characters is not an ID number and is starred whole.

    Examples
    --------
    >>> mask_id_number("52060219900101123X")
    '520602********123X'
    >>> mask_id_number("520602900101123")
    '520602*****1123'
    >>> mask_id_number("abc")
    '***'
    """
    return None if _missing(value) else _keep_ends(str(value).strip().upper(), 6, 4, shortest=11)


def mask_name(value: str | None) -> str | None:
    """Mask a name: keep the first character (the surname), star the rest.

    A name of one character is starred whole.

    Examples
    --------
    >>> mask_name("张三")
    '张*'
    >>> mask_name("欧阳娜娜")
    '欧***'
    >>> mask_name("李")
    '*'
    """
    return None if _missing(value) else _keep_ends(str(value).strip(), 1, 0, shortest=2)


def _as_date(value: object) -> dt.date | None:
    if _missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    stamp = pd.to_datetime(str(value), errors="coerce")
    return None if pd.isna(stamp) else stamp.date()


def age(birth_date: object, on: dt.date | None = None) -> int | None:
    """Age in whole years on ``on`` (default: today); ``None`` if the date is missing or bad.

    Examples
    --------
    >>> age("2010-06-30", on=dt.date(2024, 6, 29))
    13
    >>> age(dt.date(2010, 6, 30), on=dt.date(2024, 6, 30))
    14
    """
    born = _as_date(birth_date)
    if born is None:
        return None
    on = on or dt.date.today()
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return years if years >= 0 else None


def age_band(birth_date: object, on: dt.date | None = None) -> str | None:
    """The :data:`AGE_BANDS` label of a birth date on ``on`` (default: today).

    Examples
    --------
    >>> age_band("1950-01-01", on=dt.date(2024, 1, 1))
    '60-79'
    >>> age_band("2012-05-01", on=dt.date(2024, 1, 1))
    '0-13'
    >>> age_band(None) is None
    True
    """
    years = age(birth_date, on)
    if years is None:
        return None
    return next(label for lo, hi, label in AGE_BANDS if years >= lo and (hi is None or years < hi))


def is_minor_under_14(birth_date: object, on: dt.date | None = None) -> bool:
    """Whether the person is under 14 on ``on`` (sensitive under PIPL art. 28).

    Examples
    --------
    >>> is_minor_under_14("2011-03-01", on=dt.date(2025, 2, 28))
    True
    >>> is_minor_under_14("2011-03-01", on=dt.date(2025, 3, 1))
    False
    """
    years = age(birth_date, on)
    return years is not None and years < 14


def split_tags(value: object) -> list[str]:
    """Tags of a person as a list (``"elderly;disabled"``, ``"低保、残疾"`` or a list).

    Examples
    --------
    >>> split_tags("elderly; 低保、残疾")
    ['elderly', '低保', '残疾']
    >>> split_tags(None)
    []
    """
    if isinstance(value, list | tuple | set | np.ndarray):
        items: Iterable[object] = value
    elif _missing(value):
        return []
    else:
        items = _TAG_SPLIT.split(str(value))
    return [str(t).strip() for t in items if str(t).strip()]


def is_sensitive_tag(tag: str) -> bool:
    """Whether ``tag`` is one of :data:`SENSITIVE_TAGS` (case-insensitive).

    Examples
    --------
    >>> is_sensitive_tag("Disabled"), is_sensitive_tag("elderly")
    (True, False)
    """
    return tag.strip().lower() in SENSITIVE_TAGS


def public_tags(value: object) -> list[str]:
    """The tags of ``value`` that are not sensitive.

    Examples
    --------
    >>> public_tags("elderly;low_income;veteran")
    ['elderly', 'veteran']
    """
    return [t for t in split_tags(value) if not is_sensitive_tag(t)]


def deidentify(frame: pd.DataFrame, *, on: dt.date | None = None) -> pd.DataFrame:
    """A de-identified copy of a household or person roster, fit for public outputs.

    Drops every column of :data:`IDENTIFYING_FIELDS` (names, ID numbers, phones, tags, ids,
    dwelling units, keyed hashes) and replaces ``birth_date`` with ``age_band``; children under
    14 keep only the ``0-13`` band. Other columns (building, grid, population type, sex …) and
    the index are kept. Sensitive tags never survive: ``tags`` is dropped whole.

    Parameters
    ----------
    frame
        Rows of :data:`gridmap.schema.PERSON` or ``HOUSEHOLD`` columns (a GeoDataFrame keeps
        its geometry: use building points, never dwelling positions, in public outputs).
    on
        Reference date of the age bands (default: today).

    Examples
    --------
    >>> roster = pd.DataFrame({"person_id": ["P1"], "name": ["张三"], "phone": ["13812345678"],
    ...                        "birth_date": ["1950-01-01"], "tags": ["disabled"], "sex": ["男"],
    ...                        "building_id": ["B1"]})
    >>> deidentify(roster, on=dt.date(2024, 1, 1))
      sex building_id age_band
    0   男          B1    60-79
    """
    out = frame.copy()
    if "birth_date" in out.columns:
        out["age_band"] = [age_band(v, on) for v in out["birth_date"]]
    drop = [c for c in out.columns if c in IDENTIFYING_FIELDS]
    return out.drop(columns=drop)
