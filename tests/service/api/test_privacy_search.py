"""The search oracle and personal values in URLs and logs (issue 12, High 1 and 2), both backends.

- Searching by ID number or phone needs ``reveal_personal`` and a reason and is audited like a
  reveal; every search is rate-limited per user (429 with Retry-After).
- Personal values travel in bodies only: the old query parameters are refused with 400.
- uvicorn's access log masks personal query values; database errors never show bound values.
- Reasons are stored with ID-number- and phone-shaped digits masked (item 11).
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.api.access_log import MaskPersonalQuery, mask_url, uvicorn_log_config
from service.api.limits import RateLimiter
from service.api.main import create_app
from service.settings import Settings
from service.storage.auth import Principal, write_audit
from service.storage.auth_models import AuditRecord
from service.storage.session import make_engine, session_scope
from tests.service.api.browsing import serving
from tests.service.residents_seed import GRID_A1, GRID_A2, password, seed_residents
from tests.service.residents_seed import use_fast_password_hashing as _fast

ID_PA5 = "520602197104041231"
PHONE_PA4 = "13700004444"
WHY = "家访核对住户信息"


@pytest.fixture
def app(store_url, monkeypatch):
    _fast(monkeypatch)
    seed_residents(store_url)
    return create_app(Settings(database_url=store_url))


@pytest.fixture
def api(app):
    with TestClient(app) as client:
        yield client


def _auth(api, user):
    r = api.post("/auth/token", data={"username": user, "password": password(user)})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _search(api, user, grid=GRID_A2, **body):
    return api.post(f"/grids/{grid}/residents/search", json=body, headers=_auth(api, user))


def _audit(api):
    return api.get("/audit", headers=_auth(api, "dadmin")).json()


def _ids(response):
    assert response.status_code == 200, response.text
    return [p["person_id"] for p in response.json()["residents"]]


# --------------------------------------------------------------------------- the search oracle


def test_id_number_and_phone_search_need_the_reveal_permission(api):
    for user in ("cadmin", "worker2"):  # in scope of GRID_A2, without reveal_personal
        for body in ({"id_number": ID_PA5}, {"phone": PHONE_PA4}):
            r = _search(api, user, **body, reason=WHY)
            assert r.status_code == 403, r.text
            assert "reveal_personal" in r.json()["detail"]
    assert _audit(api) == []  # refused before anything was compared


def test_name_search_needs_no_permission_and_stays_masked(api):
    r = _search(api, "worker2", name="钱")
    assert _ids(r) == ["pA4", "pA5"]
    assert {p["name"] for p in r.json()["residents"]} == {"钱*"}
    assert ID_PA5 not in r.text and PHONE_PA4 not in r.text
    assert _audit(api) == []


def test_id_number_search_is_audited_like_a_reveal(api):
    assert _search(api, "revealer", id_number=ID_PA5).status_code == 422  # no reason
    assert _ids(_search(api, "revealer", id_number=ID_PA5, reason=WHY)) == ["pA5"]
    assert _ids(_search(api, "revealer", phone=PHONE_PA4, reason=WHY)) == ["pA4"]
    miss = _search(api, "revealer", phone="13700009999", reason=WHY)
    assert _ids(miss) == []
    rows = _audit(api)
    assert [(a["username"], a["action"], a["record_type"], a["record_id"], a["fields"])
            for a in rows] == [("revealer", "search", "grid", GRID_A2, "phone")] * 2 + [
        ("revealer", "search", "grid", GRID_A2, "id_number")]  # fmt: skip
    assert all(a["reason"] == WHY and a["at"] for a in rows)


def test_search_needs_something_to_search_and_refuses_unknown_fields(api):
    assert _search(api, "revealer").status_code == 422
    assert _search(api, "revealer", name="钱", id_numbr=ID_PA5).status_code == 422


def test_searches_are_rate_limited_per_user(app, api):
    app.state.search_limiter = RateLimiter(3, window_s=60.0)
    headers = _auth(api, "worker2")
    url = f"/grids/{GRID_A2}/residents/search"
    codes = [api.post(url, json={"name": "钱"}, headers=headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = api.post(url, json={"name": "钱"}, headers=headers)
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    assert "worker2" in r.json()["detail"]
    # Each user has their own quota.
    assert _search(api, "revealer", name="钱").status_code == 200


def test_rate_limiter_window_slides():
    now = [1000.0]
    limiter = RateLimiter(2, window_s=10.0, clock=lambda: now[0])
    assert limiter.hit("a") is None and limiter.hit("a") is None
    assert limiter.hit("a") == 10 and limiter.hit("b") is None
    now[0] += 9.5
    assert limiter.hit("a") == 1
    now[0] += 0.6
    assert limiter.hit("a") is None


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (f"/grids/{GRID_A2}/residents", {"id_number": ID_PA5}),
        (f"/grids/{GRID_A2}/residents", {"phone": PHONE_PA4}),
        (f"/grids/{GRID_A2}/residents", {"name": "钱"}),
        (f"/grids/{GRID_A2}/residents.csv", {"reveal": "true", "reason": WHY}),
    ],
)
def test_personal_values_in_the_query_string_are_refused(api, path, params):
    r = api.get(path, params=params, headers=_auth(api, "dadmin"))
    assert r.status_code == 400, r.text
    assert f"POST /grids/{GRID_A2}/residents" in r.json()["detail"]
    assert ID_PA5 not in r.text and PHONE_PA4 not in r.text
    assert _audit(api) == []


def test_reveal_export_takes_its_reason_in_the_body(api):
    r = api.post(f"/grids/{GRID_A2}/residents.csv", json={"reason": WHY},
                 headers=_auth(api, "revealer"))  # fmt: skip
    assert r.status_code == 200 and ID_PA5 in r.text
    assert [(a["action"], a["reason"]) for a in _audit(api)] == [("export", WHY)]
    r = api.post(f"/grids/{GRID_A2}/residents.csv", json={"reason": WHY},
                 headers=_auth(api, "cadmin"))  # fmt: skip
    assert r.status_code == 403


def test_reasons_are_stored_with_personal_digits_masked(api):
    reason = f"核对 {ID_PA5} 的电话 +86{PHONE_PA4}，门牌 301"
    r = api.post("/residents/pA5/reveal", json={"reason": reason, "fields": ["phone"]},
                 headers=_auth(api, "revealer"))  # fmt: skip
    assert r.status_code == 200
    stored = _audit(api)[0]["reason"]
    assert stored == "核对 *** 的电话 ***，门牌 301"


# --------------------------------------------------------------------------- logs


def test_mask_url_masks_personal_values_and_id_shaped_digits():
    masked = mask_url(f"/grids/{GRID_A1}/residents?name=%E7%8E%8B&id_number={ID_PA5}&limit=5")
    assert masked == f"/grids/{GRID_A1}/residents?name=***&id_number=***&limit=5"
    assert mask_url(f"/x/{ID_PA5}?q2={PHONE_PA4}") == "/x/***?q2=***"
    # Codes that are not ID numbers or phones stay readable.
    building = "52060200100100100000"
    assert mask_url(f"/collections/buildings/items/{building}?grid_code={GRID_A1}") == (
        f"/collections/buildings/items/{building}?grid_code={GRID_A1}"
    )


def test_the_app_installs_the_filter_and_serve_uses_it_on_the_handler(app):
    assert any(
        isinstance(f, MaskPersonalQuery) for f in logging.getLogger("uvicorn.access").filters
    )
    config = uvicorn_log_config()
    assert "mask_personal" in config["handlers"]["access"]["filters"]


def test_access_log_never_holds_a_personal_query_value(app):
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    access = logging.getLogger("uvicorn.access")
    # added once the server runs: uvicorn's logging set-up replaces the access log's handlers
    with serving(app, log_level="info") as base:
        access.addHandler(handler)
        try:
            login = {"username": "dadmin", "password": password("dadmin")}
            token = httpx.post(f"{base}/auth/token", data=login).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            params = {"id_number": ID_PA5, "phone": PHONE_PA4, "name": "钱五", "limit": 5}
            r = httpx.get(f"{base}/grids/{GRID_A2}/residents", params=params, headers=headers)
            assert r.status_code == 400
            httpx.get(f"{base}/grids/{GRID_A2}/residents.csv", params={"reason": f"找{ID_PA5}"},
                      headers=headers)  # fmt: skip
        finally:
            access.removeHandler(handler)
    logged = "\n".join(lines)
    assert f"/grids/{GRID_A2}/residents?" in logged  # the requests were logged...
    for secret in (ID_PA5, PHONE_PA4, "钱五", "%E9%92%B1"):  # ...without their values
        assert secret not in logged, logged


def test_database_errors_never_show_bound_parameters(store_url):
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError) as caught:
            conn.execute(text("SELECT id FROM no_such_table WHERE phone = :v"), {"v": PHONE_PA4})
    finally:
        engine.dispose()
    assert PHONE_PA4 not in str(caught.value)
    assert "hidden" in str(caught.value)


# --------------------------------------------------------------------------- audit scope


def test_audit_log_is_scoped_to_the_district(app, api, store_url):
    """dadmin (520602) reads its district's rows; otherdistrict (520603) only its own."""
    reveal = {"reason": WHY, "fields": ["phone"]}
    assert api.post("/residents/pA5/reveal", json=reveal, headers=_auth(api, "revealer")).is_success
    engine = make_engine(store_url)
    with session_scope(engine) as s:
        other = Principal(username="someone", role="district_admin", district_code="520603")
        write_audit(session=s, principal=other, action="export", record_type="grid",
                    record_id="520603001001001", reason=WHY)  # fmt: skip
        s.add(AuditRecord(at=dt.datetime.now(dt.UTC), username="worker", action="signin_failed",
                          record_type="client", record_id="127.0.0.1", reason="wrong"))  # fmt: skip
    engine.dispose()

    def seen(user):
        rows = api.get("/audit", headers=_auth(api, user)).json()
        return sorted((r["record_type"], r["record_id"]) for r in rows)

    assert seen("dadmin") == [("client", "127.0.0.1"), ("person", "pA5")]
    assert seen("otherdistrict") == [("grid", "520603001001001")]
    assert api.get("/audit", headers=_auth(api, "revealer")).status_code == 403
