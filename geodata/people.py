"""Fake but well-formed personal records for the sample: names, ID numbers, phones, ages.

Everything here is synthetic. ID numbers follow GB 11643-1999 (6-digit address code,
8-digit birth date, 3-digit sequence whose parity gives the sex, ISO 7064 MOD 11-2 check
character); phone numbers use real mobile prefixes. No real person is described.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = [
    "REFERENCE_DATE",
    "id_check_character",
    "valid_id_number",
    "make_id_number",
    "fake_name",
    "fake_phone",
    "age_on",
]

REFERENCE_DATE = dt.date(2024, 6, 30)
"""The date ages in the sample refer to."""

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Common surnames, weighted towards those frequent in Tongren (Tujia, Miao, Dong and Han families).
_SURNAMES = (
    "杨", "吴", "龙", "田", "张", "王", "李", "刘", "陈", "石", "罗", "周", "黄", "徐", "胡",
    "彭", "向", "冉", "滕", "麻", "姚", "唐", "肖", "谢", "何", "邓", "舒", "蒋", "赵", "袁",
)  # fmt: skip
_SURNAME_WEIGHTS = np.array(
    [9, 7, 6, 6, 6, 6, 6, 5, 5, 4, 4, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1],
    dtype=float,
)
_GIVEN_MALE = tuple("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆文博志建国庆林峰")
_GIVEN_FEMALE = tuple("芳娟敏静丽艳娜秀英霞燕玲桂兰红梅琳婷雪慧莉萍洁倩颖佳欣怡晶蓉")
_GIVEN_ANY = tuple("小永晓金春海云德玉子思雨嘉安")
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182",
    "183", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip


def id_check_character(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits of an ID number.

    Examples
    --------
    >>> id_check_character("11010519491231002")
    'X'
    """
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_id_number(value: str) -> bool:
    """Return True if ``value`` is an 18-character ID number with a valid date and check character.

    Examples
    --------
    >>> valid_id_number("11010519491231002X")
    True
    >>> valid_id_number("110105194912310021")
    False
    """
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_check_character(value[:17]) == value[17].upper()


def make_id_number(area: str, birth: dt.date, sequence: int, male: bool) -> str:
    """Build an 18-character ID number; the sequence is made odd for men and even for women."""
    seq = sequence % 1000
    if (seq % 2 == 1) != male:
        seq = (seq + 1) % 1000
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_character(first17)


def fake_name(rng: np.random.Generator, male: bool, surname: str | None = None) -> str:
    """Return a plausible two- or three-character Chinese name."""
    if surname is None:
        p = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()
        surname = _SURNAMES[rng.choice(len(_SURNAMES), p=p)]
    pool = _GIVEN_MALE if male else _GIVEN_FEMALE
    if rng.random() < 0.35:
        return surname + pool[rng.integers(len(pool))]
    first = (
        _GIVEN_ANY[rng.integers(len(_GIVEN_ANY))]
        if rng.random() < 0.3
        else pool[rng.integers(len(pool))]
    )
    return surname + first + pool[rng.integers(len(pool))]


def fake_phone(rng: np.random.Generator) -> str:
    """Return an 11-digit mainland mobile number ``1[3-9]x xxxx xxxx``."""
    prefix = _MOBILE_PREFIXES[rng.integers(len(_MOBILE_PREFIXES))]
    return prefix + f"{rng.integers(0, 10**8):08d}"


def age_on(birth: dt.date, day: dt.date = REFERENCE_DATE) -> int:
    """Whole years between ``birth`` and ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
