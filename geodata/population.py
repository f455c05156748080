"""Synthetic households, persons and staff at district scale (vectorised, streamable).

Nothing here describes a real person. Names are drawn from the sample's surname and given-name
pools, ID numbers follow GB 11643-1999 (address code, birth date, a sequence whose parity gives
the sex, ISO 7064 MOD 11-2 check character) and are unique within a district set, phones use
mobile prefixes. Persons are generated in batches of households, each batch from its own
generator (seeded by the district seed and the batch number), so a district's million persons
stream to a file without being held in memory, and the output does not depend on how it is read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from geodata.people import (
    _GIVEN_ANY,
    _GIVEN_FEMALE,
    _GIVEN_MALE,
    _ID_CHECK,
    _ID_WEIGHTS,
    _MOBILE_PREFIXES,
    _SURNAME_WEIGHTS,
    _SURNAMES,
    REFERENCE_DATE,
)

__all__ = [
    "HOUSEHOLD_BATCH",
    "HOUSEHOLD_SIZE_P",
    "floating_areas",
    "make_households",
    "PersonStream",
    "make_staff",
    "fake_names",
    "id_numbers",
]

HOUSEHOLD_BATCH = 20_000  # households per persons batch (one generator each)
HOUSEHOLD_SIZE_P = (0.25, 0.30, 0.22, 0.15, 0.08)  # sizes 1-5: mean 2.51 persons per household
POPULATION_P = {"registered": 0.70, "resident": 0.15, "floating": 0.15}
HOUSEHOLDS_PER_GRID = 400  # for the expected number of grids when sizing staff
HOUSEHOLDS_PER_LIAISON = 20  # 联户长: one per 15-30 households in practice
_FLOATING_PER_DISTRICT = 6  # home-area codes of one district's floating population
_FLOATING_PROVINCES = (43, 50, 51, 53, 45, 42, 44, 36, 35, 33, 32, 41, 37, 34, 13, 61)
_REF = np.datetime64(REFERENCE_DATE.isoformat(), "D")
_EPOCH = np.datetime64("1920-01-01", "D")  # earliest birth date the sequence counter covers
_DAYS = int((_REF - _EPOCH).astype(int)) + 1
_SURNAME_P = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()


def floating_areas(index: int, exclude: set[str]) -> list[str]:
    """The six home-area codes (other provinces' counties) of district ``index``'s floating people.

    Districts of one set get disjoint lists (for up to ~140 districts), so ID numbers stay unique
    across the set although every district numbers its own people.
    """
    codes = [
        f"{p}{pref:02d}{county:02d}"
        for p in _FLOATING_PROVINCES
        for pref in range(1, 10)
        for county in range(2, 9)
    ]
    codes = [c for c in codes if c not in exclude]
    start = (index * _FLOATING_PER_DISTRICT) % len(codes)
    return [codes[(start + k) % len(codes)] for k in range(_FLOATING_PER_DISTRICT)]


# --------------------------------------------------------------------------- households


def make_households(
    buildings: pd.DataFrame, district_code: str, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per dwelling of every building (unit, floor, room, address, size, type).

    ``buildings`` needs ``building_id, address, kind, floors, units, per_floor, households``.
    Ids are ``H`` + district code + 7 digits; ``head_person_id`` is the id the head gets in
    :class:`PersonStream` (persons are numbered in household order, head first).
    """
    b = buildings[buildings["households"] > 0]
    counts = b["households"].to_numpy()
    per_floor = np.repeat(b["per_floor"].to_numpy(), counts)
    first_floor = np.repeat(np.where(b["kind"].to_numpy() == "mixed", 2, 1), counts)
    floors = np.repeat(b["floors"].to_numpy(), counts) - first_floor + 1
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    unit = k // (floors * per_floor) + 1
    floor = (k % (floors * per_floor)) // per_floor + first_floor
    room = (floor * 100 + k % per_floor + 1).astype(str)
    n = len(k)
    out = pd.DataFrame(
        {
            "household_id": _ids("H", district_code, np.arange(1, n + 1), 7),
            "building_id": np.repeat(b["building_id"].to_numpy(), counts),
            "unit": unit,
            "floor": floor,
            "room": room,
        }
    )
    address = pd.Series(np.repeat(b["address"].to_numpy(), counts))
    out["address"] = address + out["unit"].astype(str) + "单元" + out["room"] + "室"
    size = rng.choice(np.arange(1, 6), size=n, p=HOUSEHOLD_SIZE_P)
    out["size"] = size
    out["head_person_id"] = _ids("P", district_code, np.cumsum(size) - size + 1, 8)
    out["population_type"] = rng.choice(list(POPULATION_P), size=n, p=list(POPULATION_P.values()))
    return out


def _ids(prefix: str, code: str, numbers: np.ndarray, width: int) -> np.ndarray:
    digits = np.char.zfill(np.asarray(numbers).astype(str), width)
    return np.char.add(prefix + code, digits).astype(object)


# --------------------------------------------------------------------------- persons


class PersonStream:
    """Persons of a district's households, generated batch by batch in household order.

    Parameters
    ----------
    households : pandas.DataFrame
        From :func:`make_households` (``household_id``, ``size``, ``population_type``).
    district_code : str
        Address code of registered and resident people.
    floating : list of str
        Home-area codes of floating people (:func:`floating_areas`).
    seed : int
        With the batch number, seeds each batch's generator.
    """

    def __init__(
        self, households: pd.DataFrame, district_code: str, floating: list[str], seed: int
    ) -> None:
        self.households = households
        self.areas = [district_code, *floating]
        self.code = district_code
        self.seed = seed

    def __len__(self) -> int:
        return int(self.households["size"].sum())

    def __iter__(self) -> Iterator[pd.DataFrame]:
        counter = np.zeros(len(self.areas) * _DAYS * 2, dtype=np.int64)
        first = 1
        for batch, start in enumerate(range(0, len(self.households), HOUSEHOLD_BATCH)):
            part = self.households.iloc[start : start + HOUSEHOLD_BATCH]
            rng = np.random.default_rng([self.seed, int(self.code), batch])
            frame = self._batch(part, rng, counter)
            frame.insert(
                0, "person_id", _ids("P", self.code, np.arange(first, first + len(frame)), 8)
            )
            first += len(frame)
            yield frame

    def _batch(
        self, part: pd.DataFrame, rng: np.random.Generator, counter: np.ndarray
    ) -> pd.DataFrame:
        size = part["size"].to_numpy()
        n_h = len(part)
        head_male = rng.random(n_h) < 0.6
        head_age = np.clip(rng.normal(50, 15, n_h), 20, 95).astype(int)
        elderly_alone = (size == 1) & (rng.random(n_h) < 0.4)
        head_age = np.where(elderly_alone, rng.integers(62, 95, n_h), head_age)
        spouse = rng.random(n_h) < 0.85
        hh = np.repeat(np.arange(n_h), size)
        pos = np.arange(len(hh)) - np.repeat(np.cumsum(size) - size, size)
        rel, age, male = _members(rng, pos, spouse[hh], head_age[hh], head_male[hh])
        birth = _REF - np.round(age * 365.25).astype("timedelta64[D]")
        birth = birth - rng.integers(0, 365, len(hh)).astype("timedelta64[D]")
        birth = np.maximum(birth, _EPOCH)
        ptype = part["population_type"].to_numpy()[hh]
        area_idx = np.where(
            ptype == "floating", 1 + rng.integers(0, len(self.areas) - 1, n_h)[hh], 0
        )
        ids = id_numbers(np.asarray(self.areas)[area_idx], birth, male,
                         _sequence(area_idx, birth, male, counter))  # fmt: skip
        surname = np.asarray(_SURNAMES)[rng.choice(len(_SURNAMES), n_h, p=_SURNAME_P)][hh]
        own = np.isin(rel, ["户主", "子女", "孙子女", "兄弟姐妹"]) | ((rel == "父母") & male)
        # numpy's stubs take no None scalar; it is a valid object value (no surname)
        names = fake_names(rng, male, np.where(own, surname, None))  # type: ignore[call-overload]
        real_age = _age_on(birth)
        low_income = (rng.random(n_h) < 0.025)[hh]
        tags = _tags(rng, real_age, size[hh], male, low_income)
        phone = _phones(rng, len(hh))
        has_phone = (real_age >= 16) & (rng.random(len(hh)) < 0.95)
        return pd.DataFrame(
            {
                "household_id": part["household_id"].to_numpy()[hh],
                "name": names,
                "id_number": ids,
                "sex": np.where(male, "男", "女").astype(object),
                "birth_date": np.datetime_as_string(birth, unit="D").astype(object),
                "phone": np.where(has_phone, phone, None),  # type: ignore[call-overload]
                "relationship": rel.astype(object),
                "population_type": ptype,
                "tags": tags,
            }
        )


def _members(
    rng: np.random.Generator,
    pos: np.ndarray,
    spouse: np.ndarray,
    head_age: np.ndarray,
    head_male: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relationship, age and sex of every member (position 0 is the head)."""
    n = len(pos)
    r = rng.random(n)
    is_spouse = (pos == 1) & spouse
    parent = ~is_spouse & (pos > 0) & (head_age < 50) & (r < 0.25)
    grandchild = ~is_spouse & (pos > 0) & (head_age >= 58) & (r < 0.45)
    child = ~is_spouse & (pos > 0) & ~parent & ~grandchild & (head_age >= 22)
    rel = np.select(
        [pos == 0, is_spouse, parent, grandchild, child],
        ["户主", "配偶", "父母", "孙子女", "子女"],
        "兄弟姐妹",
    )
    age = np.select(
        [pos == 0, is_spouse, parent, grandchild, child],
        [
            head_age,
            np.clip(head_age + rng.integers(-5, 4, n), 20, 99),
            np.minimum(head_age + rng.integers(22, 34, n), 99),
            np.maximum(head_age - rng.integers(45, 60, n), 0),
            np.maximum(head_age - rng.integers(22, 36, n), 0),
        ],
        head_age + rng.integers(-3, 4, n),
    )
    male = np.where(pos == 0, head_male, np.where(is_spouse, ~head_male, rng.random(n) < 0.5))
    return rel, age, male


def _sequence(
    area_idx: np.ndarray, birth: np.ndarray, male: np.ndarray, counter: np.ndarray
) -> np.ndarray:
    """Sequence codes unique per (area, birth date, sex), odd for men; ``counter`` is updated."""
    day = (birth - _EPOCH).astype(int)
    key = (area_idx * _DAYS + day) * 2 + male
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    rank_sorted = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    rank += counter[key]
    np.add.at(counter, key, 1)
    if rank.size and rank.max() >= 500:
        raise ValueError("More than 500 people of one sex share an area code and birth date.")
    return 2 * rank + male


def id_numbers(
    areas: np.ndarray, birth: np.ndarray, male: np.ndarray, sequence: np.ndarray
) -> np.ndarray:
    """18-character ID numbers with GB 11643 check characters (vectorised).

    Examples
    --------
    >>> import numpy as np
    >>> id_numbers(np.array(["110105"]), np.array(["1949-12-31"], dtype="datetime64[D]"),
    ...            np.array([False]), np.array([2]))[0]
    '11010519491231002X'
    """
    dates = pd.DatetimeIndex(birth)
    body = np.char.add(
        np.char.add(np.asarray(areas).astype("U6"), np.asarray(dates.strftime("%Y%m%d"), "U8")),
        np.char.zfill(np.asarray(sequence).astype("U3"), 3),
    )
    digits = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17) - 48
    check = np.asarray(list(_ID_CHECK))[(digits.astype(np.int64) @ np.asarray(_ID_WEIGHTS)) % 11]
    del male  # the sex is already in the sequence's parity
    return np.char.add(body, check).astype(object)


def fake_names(
    rng: np.random.Generator, male: np.ndarray, surnames: np.ndarray | None = None
) -> np.ndarray:
    """Two- or three-character Chinese names (``surnames`` None entries get a drawn surname)."""
    n = len(male)
    drawn = np.asarray(_SURNAMES)[rng.choice(len(_SURNAMES), n, p=_SURNAME_P)]
    sur = drawn if surnames is None else np.where(pd.isna(surnames), drawn, surnames)
    m_pool, f_pool, any_pool = (np.asarray(p) for p in (_GIVEN_MALE, _GIVEN_FEMALE, _GIVEN_ANY))
    last = np.where(male, m_pool[rng.integers(len(m_pool), size=n)],
                    f_pool[rng.integers(len(f_pool), size=n)])  # fmt: skip
    middle = np.where(
        rng.random(n) < 0.3,
        any_pool[rng.integers(len(any_pool), size=n)],
        np.where(male, m_pool[rng.integers(len(m_pool), size=n)],
                 f_pool[rng.integers(len(f_pool), size=n)]),
    )  # fmt: skip
    middle = np.where(rng.random(n) < 0.35, "", middle)
    return np.char.add(np.char.add(sur.astype("U1"), middle.astype("U1")), last).astype(object)


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.asarray(_MOBILE_PREFIXES)[rng.integers(len(_MOBILE_PREFIXES), size=n)]
    rest = np.char.zfill(rng.integers(0, 10**8, n).astype("U8"), 8)
    return np.char.add(prefix, rest).astype(object)


def _age_on(birth: np.ndarray) -> np.ndarray:
    d = pd.DatetimeIndex(birth)
    ref = pd.Timestamp(_REF)
    before = (d.month > ref.month) | ((d.month == ref.month) & (d.day > ref.day))
    return (ref.year - d.year - before).to_numpy()


def _tags(
    rng: np.random.Generator,
    age: np.ndarray,
    size: np.ndarray,
    male: np.ndarray,
    low_income: np.ndarray,
) -> np.ndarray:
    n = len(age)
    flags = {
        "elderly": (age >= 80) | ((age >= 65) & (size == 1)),
        "disabled": rng.random(n) < 0.015,
        "low_income": low_income,
        "veteran": male & (age >= 40) & (rng.random(n) < 0.01),
    }
    out = np.full(n, "", dtype=object)
    for tag, mask in flags.items():
        out[mask] = np.where(out[mask] == "", tag, out[mask] + ";" + tag)
    return np.where(out == "", None, out)  # type: ignore[call-overload]  # None: object value


# --------------------------------------------------------------------------- staff


def make_staff(
    households_per_community: pd.Series, district_code: str, rng: np.random.Generator
) -> pd.DataFrame:
    """Grid staff per community, sized by its expected grids (as the sample); grids left empty."""
    rows: list[tuple[str, str]] = []
    for code, n in households_per_community.items():
        grids = max(1, round(int(n) / HOUSEHOLDS_PER_GRID))
        counts = {
            "grid_head": math.ceil(grids / 3),
            "grid_worker": grids,
            "party_leader": grids,
            "assistant": math.ceil(grids / 2),
            "liaison_head": max(1, round(int(n) / HOUSEHOLDS_PER_LIAISON)),
        }
        rows += [(str(code), role) for role, k in counts.items() for _ in range(k)]
    frame = pd.DataFrame(rows, columns=["community_code", "role"])
    male = rng.random(len(frame)) < 0.45
    frame.insert(0, "staff_id", _ids("S", district_code, np.arange(1, len(frame) + 1), 5))
    frame.insert(1, "name", fake_names(rng, male))
    frame["phone"] = _phones(rng, len(frame))
    frame["grid_codes"] = None
    return frame[["staff_id", "name", "role", "phone", "community_code", "grid_codes"]]
