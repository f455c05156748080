"""Sign-in throttling and auditing, and what a token must carry to be accepted (both backends)."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.api.main import create_app
from service.settings import Settings
from service.storage import crypto
from service.storage.auth import create_user, remove_user
from service.storage.auth_models import AuditRecord
from service.storage.migrate import upgrade_database
from service.storage.session import make_engine, make_sessionmaker, session_scope
from tests.service.residents_seed import (
    GRID_A1,
    password,
    seed_residents,
    use_fast_password_hashing,
)

OTHER_KEY = "b3RoZXIta2V5LWdyaWRtYXAtdGVzdHMtb25seS0zMiE="


@pytest.fixture
def api(store_url, monkeypatch):
    use_fast_password_hashing(monkeypatch)
    seed_residents(store_url)
    settings = Settings(database_url=store_url, signin_failures_per_user=3,
                        signin_failures_per_client=5)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield client


def _sign_in(api, user, secret=None):
    return api.post("/auth/token", data={"username": user, "password": secret or password(user)})


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _failures(url):
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.action == "signin_failed")).all()
        out = [(r.username, r.record_type, r.record_id, r.reason) for r in rows]
    engine.dispose()
    return out


# --------------------------------------------------------------------------- throttling, audit
def test_failed_sign_ins_are_audited_and_throttled_per_user(api, store_url):
    for _ in range(3):
        assert _sign_in(api, "worker", "wrong-password-1").status_code == 401
    r = _sign_in(api, "worker")  # even the right password waits now
    assert r.status_code == 429 and "this user name" in r.json()["detail"]
    assert 1 <= int(r.headers["retry-after"]) <= 15 * 60 + 1
    assert _sign_in(api, "cadmin").status_code == 200  # other users are not locked out
    failures = _failures(store_url)
    assert failures == [("worker", "client", "testclient", "wrong user name or password")] * 3
    assert not any("wrong-password-1" in str(f) for f in failures)


def test_sign_ins_are_throttled_per_client(api, store_url):
    for name in ("a1", "b2", "c3", "d4", "e5"):
        assert _sign_in(api, name, "guess-guess-guess").status_code == 401
    r = _sign_in(api, "cadmin")
    assert r.status_code == 429 and "this client" in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 1
    assert len(_failures(store_url)) == 5


def test_odd_user_names_are_a_401_and_audited_without_the_name(api, store_url):
    for name in ("nul\x00name", "x" * 500, "张三 李四"):
        r = _sign_in(api, name, "whatever-it-is")
        assert r.status_code in (400, 401, 422), (name, r.status_code)
    failures = _failures(store_url)
    assert len(failures) >= 2 and all(f[0] == "(invalid)" for f in failures)


# --------------------------------------------------------------------------- tokens
def test_tokens_are_not_cached_and_carry_version_issuer_audience(api):
    r = _sign_in(api, "worker")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["iss"] == "gridmap" and claims["aud"] == "gridmap-api"
    assert len(claims["ver"]) == 32 and claims["sub"] == "worker"


def _forge(api, **claims):
    now = dt.datetime.now(dt.UTC)
    body = {"sub": "dadmin", "iat": now, "exp": now + dt.timedelta(minutes=5), **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, crypto.keys_for(api.app.state.settings).tokens, algorithm="HS256")


def test_tokens_without_the_right_version_issuer_or_audience_are_refused(api):
    me = "/auth/me"
    good = jwt.decode(_sign_in(api, "dadmin").json()["access_token"],
                      options={"verify_signature": False})  # fmt: skip
    right = {"ver": good["ver"], "iss": "gridmap", "aud": "gridmap-api"}
    assert api.get(me, headers=_bearer(_forge(api, **right))).status_code == 200
    for wrong in ({"ver": None}, {"iss": None}, {"aud": None}, {"aud": "other-service"},
                  {"iss": "someone-else"}, {"ver": "0" * 32}):  # fmt: skip
        forged = _bearer(_forge(api, **{**right, **wrong}))
        assert api.get(me, headers=forged).status_code == 401, wrong


def test_a_removed_user_added_again_does_not_revive_old_tokens(api, store_url):
    token = _sign_in(api, "worker").json()["access_token"]
    assert api.get("/auth/me", headers=_bearer(token)).json()["role"] == "grid_worker"
    engine = make_engine(store_url)
    with session_scope(engine) as s:
        remove_user(session=s, username="worker")
    with session_scope(engine) as s:
        create_user(session=s, username="worker", password="Tamarind-Kettle-42",
                    role="community_admin", community_code=GRID_A1[:12])  # fmt: skip
    engine.dispose()
    r = api.get("/auth/me", headers=_bearer(token))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_a_store_with_another_key_accepts_no_token_of_this_one(api, make_store):
    token = _sign_in(api, "dadmin").json()["access_token"]
    other = Settings(database_url=make_store(migrated=False), data_key=OTHER_KEY)
    engine = make_engine(other.database_url, settings=other)
    upgrade_database(engine)  # the other store is written with the other key
    engine.dispose()
    seed_residents(other.database_url, other)  # same users, same names
    with TestClient(create_app(other)) as client:
        assert client.get("/auth/me", headers=_bearer(token)).status_code == 401
        assert _sign_in(client, "dadmin").status_code == 200
