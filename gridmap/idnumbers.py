"""Citizen ID numbers (GB 11643) and phone numbers: pure checks, no pandas, no logging.

Used by :mod:`gridmap.attach.validate` (clear a malformed value) and by :mod:`gridmap.io.layers`
(refuse a column of ID numbers or phones as a record id: the clear value would become a key in the
store, the audit log and URLs).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import numpy as np

__all__ = [
    "gb11643_check_digit",
    "gb11643_check_digits",
    "id_number_problem",
    "valid_id_number",
    "valid_phone",
    "is_mobile_phone",
]

_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK = "10X98765432"  # index = weighted sum mod 11 (ISO 7064 MOD 11-2)
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:0\d{2,3}-?)?[2-9]\d{6,7}(?:-\d{1,6})?$")


def gb11643_check_digit(id17: str) -> str:
    """Check character of the first 17 digits of a citizen ID number (GB 11643-1999).

    Raises
    ------
    ValueError
        ``id17`` is not exactly 17 digits.

    Examples
    --------
    >>> gb11643_check_digit("11010519491231002")
    'X'
    """
    if len(id17) != 17 or not id17.isdigit():
        raise ValueError("GB 11643 needs exactly 17 digits before the check character.")
    return _GB11643_CHECK[sum(int(d) * w for d, w in zip(id17, _GB11643_WEIGHTS, strict=True)) % 11]


def gb11643_check_digits(id17s: Sequence[str]) -> np.ndarray:
    """:func:`gb11643_check_digit` of many values at once; each must be 17 ASCII digits.

    Examples
    --------
    >>> gb11643_check_digits(["11010519491231002", "44030019900101123"]).tolist()
    ['X', '8']
    """
    if not len(id17s):
        return np.array([], dtype="<U1")
    digits = np.frombuffer("".join(id17s).encode("ascii"), dtype=np.uint8).reshape(-1, 17)
    sums = (digits.astype(np.int64) - 48) @ np.array(_GB11643_WEIGHTS)
    return np.array(list(_GB11643_CHECK))[sums % 11]


def id_number_problem(value: str) -> str | None:
    """Why ``value`` is not a valid 18-character ID number, or ``None`` if it is.

    Examples
    --------
    >>> id_number_problem("11010519491231002X") is None
    True
    >>> id_number_problem("110105194912310021")
    'invalid ID number check digit'
    """
    s = value.strip().upper()
    if len(s) == 15 and s.isdigit():
        return "obsolete 15-digit ID number"
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return "invalid ID number format"
    try:
        date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return "invalid ID number birth date"
    if gb11643_check_digit(s[:17]) != s[17]:
        return "invalid ID number check digit"
    return None


def valid_id_number(value: str) -> bool:
    """True if ``value`` is an 18-character ID number with a valid birth date and check digit."""
    return isinstance(value, str) and id_number_problem(value) is None


def valid_phone(value: str) -> bool:
    """True for a mainland mobile (optionally +86) or a landline with optional area code.

    Examples
    --------
    >>> [valid_phone(p) for p in ("138 0000 1234", "0856-5221234", "12345")]
    [True, True, False]
    """
    s = re.sub(r"[\s()（）]", "", value)
    return bool(_MOBILE.match(s.replace("-", "")) or _LANDLINE.match(s))


def is_mobile_phone(value: str) -> bool:
    """True for a mainland mobile number (11 digits from 13–19, optionally +86).

    Landlines are left out on purpose: a 7- or 8-digit record id would look like one.

    Examples
    --------
    >>> [is_mobile_phone(p) for p in ("13800001234", "+86 138-0000-1234", "5221234")]
    [True, True, False]
    """
    return isinstance(value, str) and bool(_MOBILE.match(re.sub(r"[\s\-()（）]", "", value)))
