"""Work-order fixtures: the API toy district (two communities, grids A001-A003, B001-B002)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from service.storage.auth import Principal
from service.storage.session import make_engine, make_sessionmaker
from tests.service.api.conftest import A, B, toy_url  # noqa: F401 (the fixture, shared)

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
A1, A2, A3 = f"{A}001", f"{A}002", f"{A}003"
B1 = f"{B}001"
POINT_A1 = (109.1815, 27.725)
POINT_A2 = (109.185, 27.725)
POINT_B1 = (109.1925, 27.725)

ADMIN_A = Principal("admin_a", "community_admin", community_code=A)
ADMIN_B = Principal("admin_b", "community_admin", community_code=B)
DISTRICT = Principal("district", "district_admin")
WORKER_A1 = Principal("worker_a1", "grid_worker", grid_codes=(A1,))
WORKER_A1_BIS = Principal("worker_a1b", "grid_worker", grid_codes=(A1,))
PARTY_A1 = Principal("party_a1", "party_member", grid_codes=(A1,))
WORKER_A2 = Principal("worker_a2", "grid_worker", grid_codes=(A2,))


@pytest.fixture
def orders_session(toy_url: str) -> Iterator[Session]:  # noqa: F811 (the imported fixture)
    """A session on the toy district."""
    engine = make_engine(toy_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()
