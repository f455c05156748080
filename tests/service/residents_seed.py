"""Residents for the privacy tests, on top of the API toy district (see tests/service/api/conftest).

Grid A001 (520602001001001): households h1 (p1, the toy district's person) and hA1 (3 persons,
one a child under 14 with a sensitive tag); grid A002: household hA2 (2 persons); grid B001 of
community B: household hB1 (1 person). Users: one per role, password :func:`password` of the name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.orm import Session

from service.settings import Settings
from service.storage import auth
from service.storage import models as m
from service.storage.auth import create_user
from service.storage.session import make_engine, session_scope
from tests.service.api.conftest import A, B, seed_toy_district

GRID_A1, GRID_A2, GRID_A3, GRID_B1 = f"{A}001", f"{A}002", f"{A}003", f"{B}001"
CHILD_BIRTH = dt.date.today().replace(day=1) - dt.timedelta(days=365 * 8)

PERSONS = [
    # id, household, name, id number, phone, birth date, population type, tags
    ("pA1", "hA1", "赵一", "520602198001011235", "13700001111", dt.date(1980, 1, 1),
     "registered", "elderly;low_income"),
    ("pA2", "hA1", "赵二", "52060219820202124X", "13700002222", dt.date(1982, 2, 2),
     "registered", None),
    ("pA3", "hA1", "赵小", None, None, CHILD_BIRTH, "registered", "留守儿童"),
    ("pA4", "hA2", "钱四", "520602197003031230", "13700004444", dt.date(1970, 3, 3),
     "floating", "veteran"),
    ("pA5", "hA2", "钱五", "520602197104041231", "13700005555", dt.date(1971, 4, 4),
     "floating", None),
    ("pB1", "hB1", "孙六", "520602196005051232", "13700006666", dt.date(1960, 5, 5),
     "resident", "disabled"),
]  # fmt: skip
SECRETS = {v for p in PERSONS for v in p[2:5] if v} | {"王五", "520602199001011234", "13912345678"}

USERS: dict[str, dict[str, Any]] = {
    "worker": {"role": "grid_worker", "grid_codes": [GRID_A1]},
    "worker2": {"role": "grid_worker", "grid_codes": [GRID_A2, GRID_B1]},
    "cadmin": {"role": "community_admin", "community_code": A},
    "revealer": {"role": "community_admin", "community_code": A, "can_reveal": True},
    "dadmin": {"role": "district_admin", "district_code": "520602", "can_reveal": True},
    "otherdistrict": {"role": "district_admin", "district_code": "520603"},
    "citizen": {"role": "public"},
}


_FAST_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


def use_fast_password_hashing(monkeypatch) -> None:
    """Argon2id with test-sized costs (the real costs take ~0.35 s per hash here)."""
    monkeypatch.setattr(auth, "_hasher", lambda: _FAST_HASHER)


def password(username: str) -> str:
    """A strong test password of ``username`` (passes gridmap's strength check)."""
    return "pw-" + hashlib.sha256(username.encode()).hexdigest()[:16]


@contextmanager
def residents_session(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """The residents seeded at ``url`` (fast password hashing), then a session on that store
    for a test's own changes, committed when the block ends."""
    use_fast_password_hashing(monkeypatch)
    seed_residents(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        yield session
    engine.dispose()


def seed_residents(url: str, settings: Settings | None = None) -> None:
    """Toy district + the households, persons and users above, in the store at ``url``.

    Personal values are encrypted with the key of ``settings`` (default: the environment's).
    """
    seed_toy_district(url, settings)
    engine = make_engine(url, settings=settings)
    with session_scope(engine) as s:
        s.add_all([
            m.Household(id="hA1", building_id="B00111", unit="1", floor="3", room="301", size=3),
            m.Household(id="hA2", building_id="B00120", unit="2", floor="1", room="101", size=2),
            m.Household(id="hB1", building_id="B00210", unit="1", floor="5", room="502", size=1),
        ])  # fmt: skip
        s.flush()
        s.add_all([
            m.Person(id=p, household_id=h, name=n, id_number=i, phone=ph, birth_date=b,
                     population_type=t, tags=tg, sex="F" if p.endswith("2") else "M")
            for p, h, n, i, ph, b, t, tg in PERSONS
        ])  # fmt: skip
        for name, spec in USERS.items():
            create_user(session=s, username=name, password=password(name), **spec)
    engine.dispose()
