"""Fixtures shared by the service tests (API, orders)."""

from __future__ import annotations

import pytest

from tests.service.residents_seed import seed_residents, use_fast_password_hashing


@pytest.fixture
def residents_api(store_url, monkeypatch):
    """A test client of the app on the seeded toy district, its staff users signing in with
    test-sized password hashing. The app is imported here: collecting the tests loads no web
    library (the CLI start-up tests check what ``gridmap`` imports)."""
    from fastapi.testclient import TestClient

    from service.api.main import create_app
    from service.settings import Settings

    use_fast_password_hashing(monkeypatch)
    seed_residents(store_url)
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        yield client
