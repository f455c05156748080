"""Two apps in one process, each made with its own settings: encryption at rest, search hashes
and access tokens follow the data key given to ``create_app``, never the process environment
(both backends)."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.api.main import create_app
from service.settings import Settings
from service.storage import crypto
from service.storage.migrate import upgrade_database
from service.storage.session import make_engine
from tests.service.residents_seed import (
    GRID_A2,
    password,
    seed_residents,
    use_fast_password_hashing,
)

KEYS = {name: base64.b64encode(f"app {name}: a public gridmap test key".encode()).decode()
        for name in ("a", "b")}  # fmt: skip
PHONE = "13700004444"  # pA4, in grid A002
WHY = "checking one household"


def _store(url: str, settings: Settings) -> None:
    engine = make_engine(url, settings=settings)
    upgrade_database(engine)  # records the fingerprint of this key
    engine.dispose()
    seed_residents(url, settings)


@pytest.fixture
def apps(make_store, monkeypatch):
    """``{"a": (settings, client), "b": (settings, client)}``: two stores, two keys, two apps."""
    use_fast_password_hashing(monkeypatch)
    out = {}
    for name, key in KEYS.items():
        settings = Settings(database_url=make_store(migrated=False), data_key=key)
        _store(settings.database_url, settings)
        out[name] = (settings, TestClient(create_app(settings)))
    with out["a"][1], out["b"][1]:
        yield out


def _token(client: TestClient, user: str = "dadmin") -> dict[str, str]:
    r = client.post("/auth/token", data={"username": user, "password": password(user)})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _stored_phone(settings: Settings) -> tuple[str, str]:
    engine = make_engine(settings.database_url, settings=settings)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT phone, phone_hash FROM person WHERE id = 'pA4'")).one()
    engine.dispose()
    return row[0], row[1]


def test_each_app_works_with_its_own_key(apps):
    for settings, client in apps.values():
        headers = _token(client)
        assert client.get("/auth/me", headers=headers).json()["username"] == "dadmin"
        found = client.post(f"/grids/{GRID_A2}/residents/search", headers=headers,
                            json={"phone": PHONE, "reason": WHY})  # fmt: skip
        assert found.status_code == 200, found.text
        assert [r["person_id"] for r in found.json()["residents"]] == ["pA4"]
        shown = client.post("/residents/pA4/reveal", headers=headers,
                            json={"reason": WHY, "fields": ["phone"]})  # fmt: skip
        assert shown.status_code == 200 and shown.json()["phone"] == PHONE
        assert client.app.state.settings is settings


def test_tokens_of_one_app_are_refused_by_the_other(apps):
    (_, a), (_, b) = apps["a"], apps["b"]
    for mine, other in ((a, b), (b, a)):
        r = other.get("/auth/me", headers=_token(mine))  # same user name in both stores
        assert r.status_code == 401 and "not valid" in r.json()["detail"]


def test_data_written_with_one_key_is_not_readable_with_the_other(apps):
    (settings_a, _), (settings_b, _) = apps["a"], apps["b"]
    stored, stored_hash = _stored_phone(settings_a)
    assert crypto.is_encrypted(stored) and PHONE not in stored
    assert crypto.decrypt(stored, purpose="phone", keys=crypto.keys_for(settings_a)) == PHONE
    for other in (settings_b, Settings()):  # app B's key, and the process environment's
        with pytest.raises(crypto.DataKeyError, match="cannot be decrypted"):
            crypto.decrypt(stored, purpose="phone", keys=crypto.keys_for(other))
        assert stored_hash != crypto.search_hash(PHONE, purpose="phone",
                                                 keys=crypto.keys_for(other))  # fmt: skip
    assert stored_hash == crypto.search_hash(PHONE, purpose="phone",
                                             keys=crypto.keys_for(settings_a))  # fmt: skip


def test_an_app_on_a_store_of_another_key_is_refused(apps):
    settings_a = apps["a"][0]
    wrong = Settings(database_url=settings_a.database_url, data_key=KEYS["b"])
    with pytest.raises(crypto.DataKeyError, match="Wrong data key"):
        create_app(wrong)


def test_an_engine_without_settings_cannot_encrypt():
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://")  # not made by make_engine: no data key
    with pytest.raises(crypto.DataKeyError, match="no data key"):
        crypto.keys_of(engine)
