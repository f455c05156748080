"""Fixtures shared by the storage tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from service.storage.session import make_engine, make_sessionmaker
from tests.service.residents_seed import seed_residents, use_fast_password_hashing


@pytest.fixture
def db(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A session on a store seeded with the toy residents (fast password hashing)."""
    use_fast_password_hashing(monkeypatch)
    seed_residents(store_url)
    engine = make_engine(store_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()
