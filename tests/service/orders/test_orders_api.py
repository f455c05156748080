"""Work-order API on both backends: submit, receipt, scoped staff moves, board, statistics."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.api.main import create_app
from service.settings import Settings
from tests.service.orders.conftest import POINT_A1, POINT_A2, POINT_B1
from tests.service.residents_seed import (
    GRID_A1,
    GRID_A2,
    SECRETS,
    password,
    seed_residents,
)

REPORTER_NAME, REPORTER_PHONE = "欧阳明珠", "13612345678"
PLANTED = [REPORTER_NAME, REPORTER_PHONE, "6123", *SECRETS]


@pytest.fixture
def api(residents_api):
    return residents_api  # tests/service/conftest.py


def _auth(api, user):
    tokens = api.__dict__.setdefault("_tokens", {})
    if user not in tokens:
        r = api.post("/auth/token", data={"username": user, "password": password(user)})
        assert r.status_code == 200, r.text
        tokens[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return tokens[user]


def _submit(api, point=POINT_A1, **extra):
    body = {"lon": point[0], "lat": point[1], "category": "repairs",
            "description": "3栋楼道灯坏了", "reporter_name": REPORTER_NAME,
            "reporter_phone": REPORTER_PHONE, **extra}  # fmt: skip
    r = api.post("/orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _move(api, user, order_id, to, status=200, **extra):
    r = api.post(f"/orders/{order_id}/transitions", json={"to": to, **extra},
                 headers=_auth(api, user))  # fmt: skip
    assert r.status_code == status, r.text
    return r.json()


def _full_flow(api, order, worker="worker"):
    oid = order["id"]
    _move(api, "cadmin", oid, "accepted")
    _move(api, "cadmin", oid, "dispatched")
    _move(api, worker, oid, "claimed")
    _move(api, worker, oid, "in_progress")
    _move(api, worker, oid, "done", note=f"已更换灯泡，联系人{REPORTER_NAME} {REPORTER_PHONE}")
    _move(api, "cadmin", oid, "verified")
    _move(api, "cadmin", oid, "closed")
    r = api.post(f"/orders/receipt/{order['receipt_code']}/rating", json={"rating": 4})
    assert r.status_code == 200, r.text
    return _move(api, "cadmin", oid, "published", note="楼道灯已修复")


def test_submit_routes_and_receipt(api):
    order = _submit(api)
    assert (order["community_code"], order["grid_code"], order["state"]) == (
        GRID_A1[:12], GRID_A1, "submitted")  # fmt: skip
    assert order["community_name"] == "测试社区甲"
    receipt = api.get(f"/orders/receipt/{order['receipt_code'].lower()}").json()
    assert receipt["id"] == order["id"] and receipt["state_label"] == "已提交"
    assert not [p for p in PLANTED if p in str(receipt)]
    assert api.get("/orders/receipt/AAAA-BBBB-CCCC-DDDD").status_code == 404


def test_submit_by_building_and_refusals(api):
    order = _submit(api, point=(None, None), building_id="B00120")
    assert order["grid_code"] == GRID_A2
    outside = api.post("/orders", json={"lon": 100.0, "lat": 30.0, "category": "repairs",
                                        "description": "x"})  # fmt: skip
    assert outside.status_code == 422 and "outside every community" in outside.json()["detail"]
    bad = api.post("/orders", json={"lon": POINT_A1[0], "lat": POINT_A1[1],
                                    "category": "fireworks", "description": "x"})  # fmt: skip
    assert bad.status_code == 422 and "Unknown category 'fireworks'" in bad.json()["detail"]
    assert "repairs (维修)" in bad.json()["detail"]


def test_staff_scope_and_status_codes(api):
    a1, b1 = _submit(api), _submit(api, point=POINT_B1)
    assert api.get("/orders").status_code == 401
    mine = api.get("/orders", headers=_auth(api, "worker")).json()
    assert [o["id"] for o in mine["orders"]] == [a1["id"]]
    assert mine["orders"][0]["reporter_phone"] == "136****5678"
    assert api.get(f"/orders/{b1['id']}", headers=_auth(api, "worker")).status_code == 403
    r = api.post(f"/orders/{b1['id']}/transitions", json={"to": "accepted"},
                 headers=_auth(api, "cadmin"))  # fmt: skip
    assert r.status_code == 403  # community B is not cadmin's
    r = api.post(f"/orders/{a1['id']}/transitions", json={"to": "accepted"},
                 headers=_auth(api, "worker"))  # fmt: skip
    assert r.status_code == 403 and "only: community admin, district admin" in r.json()["detail"]
    r = api.post(f"/orders/{a1['id']}/transitions", json={"to": "claimed"},
                 headers=_auth(api, "cadmin"))  # fmt: skip
    assert r.status_code == 409
    assert r.json()["detail"] == (f"Order {a1['id']} is 'submitted' and cannot go to 'claimed'; "
                                  "allowed next states: accepted, merged, declined.")  # fmt: skip
    assert api.get("/orders", headers=_auth(api, "citizen")).json()["numberMatched"] == 0
    district = api.get("/orders", headers=_auth(api, "dadmin")).json()
    assert district["numberMatched"] == 2


def test_flow_history_board_and_photos(api):
    order = _submit(api)
    oid = order["id"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    up = api.post(f"/orders/{oid}/photos", files={"photo": ("x.png", png, "image/png")},
                  headers=_auth(api, "worker"))  # fmt: skip
    assert up.status_code == 201 and up.json()["public"] is False
    fake = api.post(f"/orders/{oid}/photos", files={"photo": ("x.png", b"<svg/>", "image/png")},
                    headers=_auth(api, "worker"))  # fmt: skip
    assert fake.status_code == 422
    published = _full_flow(api, order)
    assert published["state"] == "published" and published["rating"] == 4
    assert [h["to_state"] for h in published["history"] if h["kind"] == "transition"] == [
        "submitted", "accepted", "dispatched", "claimed", "in_progress", "done", "verified",
        "closed", "rated", "published"]  # fmt: skip
    board = api.get("/board")
    assert board.headers["content-type"].startswith("application/geo+json")
    feature = board.json()["features"][0]
    assert feature["properties"]["outcome"] == "楼道灯已修复"
    assert feature["properties"]["photos"] == []
    assert feature["geometry"]["coordinates"] != [POINT_A1[0], POINT_A1[1]]
    photo_id = up.json()["id"]
    assert api.get(f"/board/photos/{photo_id}").status_code == 404
    r = api.put(f"/orders/{oid}/photos/{photo_id}/public", json={"public": True},
                headers=_auth(api, "worker"))  # fmt: skip
    assert r.status_code == 403
    r = api.put(f"/orders/{oid}/photos/{photo_id}/public", json={"public": True},
                headers=_auth(api, "cadmin"))  # fmt: skip
    assert r.status_code == 200
    assert api.get("/board").json()["features"][0]["properties"]["photos"] == [
        f"/board/photos/{photo_id}"]  # fmt: skip
    assert api.get(f"/board/photos/{photo_id}").content == png


def test_public_outputs_carry_no_personal_data(api):
    """Planted reporter names and phones (also in notes) never reach the board or statistics."""
    for point, worker in ((POINT_A1, "worker"), (POINT_A2, "worker2")):
        _full_flow(api, _submit(api, point=point), worker)
    order = _submit(api)  # published without a public note: the board says only 已办结
    oid = order["id"]
    for user, to, extra in (("cadmin", "accepted", {}), ("cadmin", "dispatched", {}),
                            ("worker", "claimed", {}), ("worker", "in_progress", {}),
                            ("worker", "done", {"note": f"回访{REPORTER_PHONE}"}),
                            ("cadmin", "verified", {}), ("cadmin", "closed", {}),
                            ("cadmin", "published", {})):  # fmt: skip
        _move(api, user, oid, to, **extra)
    dadmin = _auth(api, "dadmin")
    levels = ("grid", "community", "subdistrict", "staff")
    outputs = [api.get("/board").text, api.get("/orders/statistics/grids", headers=dadmin).text]
    outputs += [api.get(f"/orders/statistics?level={lv}&f={f}", headers=dadmin).text
                for lv in levels for f in ("json", "csv")]  # fmt: skip
    features = api.get("/board").json()["features"]
    assert [f["properties"]["outcome"] for f in features] == [
        "已办结",
        "楼道灯已修复",
        "楼道灯已修复",
    ]
    for text in outputs:
        # Times carry microseconds, which may spell a planted digit run ("08:14:39.326123").
        text = re.sub(r"\d{4}-\d\d-\d\d[T ][\d:.]+(?:[+-]\d\d:\d\d|Z)?", "<time>", text)
        assert not [p for p in PLANTED if p in text], text[:300]
        assert "3栋楼道灯坏了" not in text  # descriptions stay internal


def test_statistics_for_district_admins(api):
    _full_flow(api, _submit(api))
    _submit(api, point=POINT_B1)
    assert api.get("/orders/statistics", headers=_auth(api, "cadmin")).status_code == 403
    body = api.get("/orders/statistics?level=community", headers=_auth(api, "dadmin")).json()
    rows = {r["community_code"]: r for r in body["rows"]}
    assert rows[GRID_A1[:12]]["state_published"] == 1 and rows[GRID_A1[:12]]["mean_rating"] == 4
    assert rows["520602001002"]["state_submitted"] == 1
    staff = api.get("/orders/statistics?level=staff", headers=_auth(api, "dadmin")).json()
    assert staff["rows"] == [{"actor": "worker", "actor_role": "grid_worker", "taken": 1,
                              "done": 1}]  # fmt: skip
    csv_text = api.get("/orders/statistics?f=csv", headers=_auth(api, "dadmin")).text
    assert csv_text.splitlines()[0].lstrip("\ufeff").startswith("grid_code,orders,open,")
    grids = api.get("/orders/statistics/grids", headers=_auth(api, "dadmin")).json()
    by_code = {f["id"]: f["properties"] for f in grids["features"]}
    assert by_code[GRID_A1]["published"] == 1 and by_code["520602001002001"]["open"] == 1


def test_reporter_contact_only_with_reveal_and_audited(api):
    oid = _submit(api)["id"]
    body = {"reason": "回访核实情况"}
    assert api.post(f"/orders/{oid}/reporter", json=body,
                    headers=_auth(api, "cadmin")).status_code == 403  # fmt: skip
    r = api.post(f"/orders/{oid}/reporter", json=body, headers=_auth(api, "revealer"))
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.json() == {"reporter_name": REPORTER_NAME, "reporter_phone": REPORTER_PHONE}
    audit = api.get("/audit", params={"record_id": str(oid)}, headers=_auth(api, "dadmin")).json()
    assert [(a["action"], a["record_type"], a["username"]) for a in audit] == [
        ("reveal", "work_order", "revealer")]  # fmt: skip


def test_submissions_are_rate_limited(api):
    from service.api.limits import RateLimiter

    api.app.state.order_limiter = RateLimiter(2, 3600.0)
    _submit(api)
    _submit(api)
    r = api.post("/orders", json={"lon": POINT_A1[0], "lat": POINT_A1[1],
                                  "category": "repairs", "description": "x"})  # fmt: skip
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_configured_categories(store_url, tmp_path):
    import pydantic

    path = tmp_path / "categories.json"
    path.write_text('[{"code": "parking", "zh": "停车", "en": "parking", "claim_hours": 2, '
                    '"close_hours": 8}]', encoding="utf-8")  # fmt: skip
    seed_residents(store_url)
    settings = Settings(database_url=store_url, order_categories_file=str(path))
    with TestClient(create_app(settings)) as api:
        assert [c["code"] for c in api.get("/orders/categories").json()] == ["parking"]
        assert _submit(api, category="parking")["grid_code"] == GRID_A1
        r = api.post("/orders", json={"lon": POINT_A1[0], "lat": POINT_A1[1],
                                      "category": "repairs", "description": "x"})  # fmt: skip
        assert r.status_code == 422 and "use one of: parking (停车)" in r.json()["detail"]
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(pydantic.ValidationError, match="must hold a JSON list of objects"):
        Settings(database_url=store_url, order_categories_file=str(path))
