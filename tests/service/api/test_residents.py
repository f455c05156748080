"""Residents API on both backends: sign-in, scope, masking, reveal with audit, exports, limits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api.main import create_app
from service.settings import Settings
from tests.service.residents_seed import (
    GRID_A1,
    GRID_A2,
    GRID_B1,
    SECRETS,
    password,
    seed_residents,
    use_fast_password_hashing,
)


@pytest.fixture
def api(store_url, monkeypatch):
    use_fast_password_hashing(monkeypatch)
    seed_residents(store_url)
    settings = Settings(database_url=store_url, max_body_bytes=4096)
    with TestClient(create_app(settings)) as client:
        yield client


def _auth(api, user):
    r = api.post("/auth/token", data={"username": user, "password": password(user)})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _no_secret(text):
    assert not [s for s in SECRETS if s in text]


def test_sign_in_and_me(api):
    r = api.post("/auth/token", data={"username": "worker", "password": "nope-nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    me = api.get("/auth/me", headers=_auth(api, "worker")).json()
    assert me["role"] == "grid_worker" and me["grid_codes"] == [GRID_A1]


def test_residents_need_a_valid_token(api):
    assert api.get(f"/grids/{GRID_A1}/residents").status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    r = api.get(f"/grids/{GRID_A1}/residents", headers=bad)
    assert r.status_code == 401 and "not valid" in r.json()["detail"]


def test_worker_sees_own_grid_masked(api):
    r = api.get(f"/grids/{GRID_A1}/residents", headers=_auth(api, "worker"))
    assert r.status_code == 200
    body = r.json()
    assert body["numberMatched"] == 4
    pa1 = next(p for p in body["residents"] if p["person_id"] == "pA1")
    assert (pa1["name"], pa1["id_number"], pa1["phone"]) == (
        "赵*", "520602********1235", "137****1111")  # fmt: skip
    assert "low_income" not in pa1["tags"] and pa1["has_sensitive_tags"]
    _no_secret(r.text)


def test_scope_errors_are_403_and_unknown_grids_404(api):
    headers = _auth(api, "worker")
    r = api.get(f"/grids/{GRID_B1}/residents", headers=headers)
    assert r.status_code == 403 and GRID_B1 in r.json()["detail"]
    assert api.get(f"/grids/{GRID_A2}/archive", headers=headers).status_code == 403
    assert api.get(f"/grids/{GRID_A1}/residents", headers=_auth(api, "citizen")).status_code == 403
    assert api.get("/grids/520602001001099/residents", headers=headers).status_code == 404
    assert api.get("/grids/12345/residents", headers=headers).status_code == 422


def test_search_by_id_number_and_phone(api):
    headers = _auth(api, "revealer")
    url, why = f"/grids/{GRID_A2}/residents/search", "核对住户信息"
    r = api.post(url, json={"id_number": "520602197104041231", "reason": why}, headers=headers)
    assert [p["person_id"] for p in r.json()["residents"]] == ["pA5"]
    r = api.post(url, json={"phone": "13700004444", "reason": why}, headers=headers)
    assert [p["person_id"] for p in r.json()["residents"]] == ["pA4"]


def test_archive(api):
    r = api.get(f"/grids/{GRID_A1}/archive", headers=_auth(api, "worker"))
    assert r.status_code == 200
    assert r.json()["persons"] == 4 and r.json()["by_age_band"]["0-13"] == 1


def test_reveal_flow(api):
    body = {"reason": "入户走访核实身份", "fields": ["id_number"]}
    r = api.post("/residents/pA1/reveal", json=body, headers=_auth(api, "cadmin"))
    assert r.status_code == 403 and "reveal_personal" in r.json()["detail"]
    headers = _auth(api, "revealer")
    r = api.post("/residents/pA1/reveal", json={"reason": "x"}, headers=headers)
    assert r.status_code == 422  # reason too short
    r = api.post("/residents/pA1/reveal", json=body, headers=headers)
    assert r.status_code == 200
    assert r.json()["id_number"] == "520602198001011235" and r.json()["name"] == "赵*"
    assert api.post("/residents/pB1/reveal", json=body, headers=headers).status_code == 404
    log = api.get("/audit", headers=_auth(api, "dadmin")).json()
    assert [(a["username"], a["record_id"], a["fields"]) for a in log] == [
        ("revealer", "pA1", "id_number")]  # fmt: skip
    assert log[0]["reason"] == "入户走访核实身份"
    assert api.get("/audit", headers=headers).status_code == 403


def test_export_masked_by_default_and_audited_when_revealed(api):
    headers = _auth(api, "dadmin")
    r = api.get(f"/grids/{GRID_A2}/residents.csv", headers=headers)
    assert r.status_code == 200 and "钱*" in r.text
    _no_secret(r.text)
    r = api.post(f"/grids/{GRID_A2}/residents.csv", json={}, headers=headers)
    assert r.status_code == 422 and "reason" in r.text
    r = api.post(f"/grids/{GRID_A2}/residents.csv", json={"reason": "年度核查"}, headers=headers)
    assert r.status_code == 200 and "520602197003031230" in r.text
    assert [a["action"] for a in api.get("/audit", headers=headers).json()] == ["export"]


def test_public_outputs_carry_no_personal_value(api):
    for url in ["/downloads/communities.geojson", f"/downloads/grids/{GRID_A1}/buildings.csv",
                "/lookup?lon=109.181&lat=27.725", "/collections/grids/items"]:  # fmt: skip
        r = api.get(url)
        assert r.status_code == 200, url
        text = r.text
        assert not [s for s in SECRETS - {"王五"} if s in text], url
        for tag in ("low_income", "disabled", "留守儿童"):
            assert tag not in text, url


def test_oversized_body_is_413(api):
    r = api.post("/auth/token", content=b"x" * 5000,
                 headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 413 and "4096 bytes" in r.json()["detail"]


def test_wrong_content_type_and_malformed_json_are_4xx(api):
    headers = _auth(api, "revealer")
    r = api.post("/residents/pA1/reveal", content=b"{not json", headers={
        **headers, "content-type": "application/json"})  # fmt: skip
    assert r.status_code == 422
    r = api.post("/residents/pA1/reveal", content=b"reason=abcd",
                 headers={**headers, "content-type": "text/plain"})  # fmt: skip
    assert r.status_code == 422
