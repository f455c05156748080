"""Open311 GeoReport v2: services, requests (filters, states, de-identification), POST.

Read with the ``georeport`` client (services, requests, one request) and submitted with the
``civicbot`` Open311 client (``georeport`` cannot create requests), both from PyPI, against a
live uvicorn server on both backends; the details with the TestClient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gridmap.orders import STATES
from service import open311 as o311
from service.api.main import create_app
from service.settings import Settings
from service.storage import orders as store
from service.storage.auth import Principal
from service.storage.session import make_engine, session_scope
from tests.service.api.orders_seed import A1, A2, B1, PLANTED, PUBLIC_OUTCOME, seed_orders
from tests.service.residents_seed import password, seed_residents, use_fast_password_hashing

from .browsing import serving


@pytest.fixture
def seeded(store_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, int]]:
    use_fast_password_hashing(monkeypatch)
    seed_residents(store_url)
    return store_url, seed_orders(store_url)


@pytest.fixture
def client(seeded) -> Iterator[TestClient]:
    url, _ids = seeded
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        yield test_client


@pytest.fixture
def server(seeded) -> Iterator[str]:
    url, _ids = seeded
    with serving(create_app(Settings(database_url=url))) as base:
        yield f"{base}/open311/v2"


def test_every_state_has_exactly_one_open311_reading():
    assert set(o311.STATES) == set(STATES)
    assert {m.status for m in o311.STATES.values()} == {"open", "closed"}
    assert o311.STATES["merged"].fixmystreet == "duplicate"
    assert o311.STATES["declined"].fixmystreet == "not responsible"
    assert o311.STATES["claimed"].fixmystreet == "action scheduled"
    assert [s for s, m in o311.STATES.items() if m.status == "open"] == [
        "submitted", "accepted", "dispatched", "claimed", "in_progress"]  # fmt: skip


def test_real_clients_read_services_and_requests_and_submit(server, seeded):
    from civicbot import Endpoint, HttpTransport, Open311Client
    from civicbot.http import RateLimiter
    from georeport import GeoReport

    _url, ids = seeded
    reader = GeoReport(server)
    services = reader.get_service_list()
    assert {s["service_code"] for s in services} >= {"repairs", "environment", "elderly_care"}
    repairs = next(s for s in services if s["service_code"] == "repairs")
    assert repairs["service_name"] == "维修" and repairs["metadata"] is False

    everything = reader.get_service_requests()
    assert {int(r["service_request_id"]) for r in everything} == set(ids.values())
    closed = reader.get_service_requests(status="closed")
    assert {int(r["service_request_id"]) for r in closed} == {
        ids["published"], ids["declined"], ids["merged"]}  # fmt: skip
    one = reader.get_service_request(str(ids["published"]))
    assert one["status"] == "closed" and one["extended_status"] == "fixed"
    assert PUBLIC_OUTCOME in one["status_notes"]

    endpoint = Endpoint(id="gridmap-test", name="gridmap", base_url=server, write=True,
                        api_key_required_for_write=False)  # fmt: skip
    writer = Open311Client(endpoint, transport=HttpTransport(rate_limiter=RateLimiter(0.0)))
    sent = writer.create_request("safety", dry_run=False, confirm="SEND", lat=27.7255,
                                 lng=109.1850, description="路灯不亮 13700009999",
                                 first_name="三", last_name="张", phone="13700009999",
                                 validate_remote=True)  # fmt: skip
    [answer] = sent.response
    new_id = answer["service_request_id"]
    assert answer["receipt_code"] and answer["receipt_code"] in answer["service_notice"]
    mine = writer.get_request(new_id)
    assert mine["status"] == "open" and mine["extended_status"] == "for triage"
    assert mine["grid_code"] == A2 and mine["service_code"] == "safety"
    assert "13700009999" not in str(mine) and "张三" not in str(mine)
    assert [r["service_request_id"] for r in writer.list_requests(service_request_ids=[new_id])] \
        == [new_id]  # fmt: skip


POST_ERRORS = [
    ({"lat": "27.725", "long": "109.1815", "description": "x"}, "service_code is required"),
    ({"service_code": "nope", "lat": "27.725", "long": "109.1815", "description": "x"},
     "Unknown category 'nope'"),
    ({"service_code": "repairs", "address_string": "幸福路8号", "description": "x"},
     "lat and long, or address_id"),
    ({"service_code": "repairs", "lat": "1", "long": "2", "description": "x"},
     "outside every community"),
    ({"service_code": "repairs", "lat": "north", "long": "2", "description": "x"},
     "lat 'north' is not a number"),
    ({"service_code": "repairs", "lat": "27.725", "long": "109.1815"}, "description is empty"),
    ({"service_code": "repairs", "address_id": "NOPE", "description": "x"},
     "Building 'NOPE' is not in the store"),
    ({"service_code": "repairs", "lat": "27.725", "long": "109.1815", "description": "x",
      "attribute[urgency]": "soon"}, "Unknown urgency 'soon'"),
]  # fmt: skip


def _order(url: str, order_id: str):
    engine = make_engine(url)
    with session_scope(engine) as s:
        dadmin = Principal("d", "district_admin", district_code="520602")
        view = store.get_order(s, dadmin, order_id=int(order_id))
    engine.dispose()
    return view


def test_post_form_encoded_json_by_building_and_by_staff(client, seeded):
    url, _ids = seeded
    form = client.post("/open311/v2/requests.json", data={
        "service_code": "environment", "lat": "27.725", "long": "109.1815",
        "description": "路边积水", "api_key": "anything"})  # fmt: skip
    assert form.status_code == 201, form.text
    as_json = client.post("/open311/v2/requests.json", json={
        "service_code": "repairs", "address_id": "B00120", "description": "门禁坏了",
        "attribute[urgency]": "urgent"})  # fmt: skip
    assert as_json.status_code == 201, as_json.text
    first = _order(url, form.json()[0]["service_request_id"])
    second = _order(url, as_json.json()[0]["service_request_id"])
    assert (first.category, first.grid_code, first.state) == ("environment", A1, "submitted")
    assert first.submitted_by is None  # anonymous: an api_key is not an account
    assert (second.building_id, second.grid_code, second.urgency) == ("B00120", A2, "urgent")
    # A signed-in grid worker entering a matter for a resident is recorded as such.
    token = client.post("/auth/token", data={"username": "worker", "password": password("worker")})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    staff = client.post("/open311/v2/requests.json", headers=headers, data={
        "service_code": "elderly_care", "lat": "27.725", "long": "109.1815",
        "description": "代居民提交：需要助餐", "first_name": "三", "last_name": "张"})  # fmt: skip
    assert staff.status_code == 201
    entered = _order(url, staff.json()[0]["service_request_id"])
    assert entered.submitted_by == "worker" and entered.reporter_name == "张*"


def test_post_errors_are_georeport_error_lists(client):
    for body, message in POST_ERRORS:
        r = client.post("/open311/v2/requests.json", data=body)
        assert r.status_code == 400, body
        [error] = r.json()
        assert error["code"] == 400 and message in error["description"], (body, error)
    r = client.post("/open311/v2/requests.json", content=b"[1]",
                    headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and "object" in r.json()[0]["description"]
    r = client.post(
        "/open311/v2/requests.json", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 400 and "form-encoded" in r.json()[0]["description"]
    assert client.get("/open311/v2/requests.json?status=open").json()[0]["service_code"] != "nope"


def test_public_requests_carry_no_personal_data_and_no_reported_point(client, seeded):
    _url, ids = seeded
    r = client.get("/open311/v2/requests.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    single = [client.get(f"/open311/v2/requests/{i}.json").text for i in ids.values()]
    for value in PLANTED:
        assert value not in r.text and not any(value in text for text in single), value
    by_id = {int(x["service_request_id"]): x for x in r.json()}
    submitted = by_id[ids["submitted"]]
    assert submitted["description"] == "维修事项" and submitted["address"] == "测试社区甲第1网格"
    assert submitted["address_id"] is None and submitted["media_url"] is None
    # Placed at a point of its grid, never at the reported point (109.1815, 27.725).
    assert (submitted["long"], submitted["lat"]) != (109.1815, 27.725)
    assert 109.180 < submitted["long"] < 109.18333 and 27.72 < submitted["lat"] < 27.73
    assert by_id[ids["merged"]]["duplicate_of"] == str(ids["submitted"])
    assert by_id[ids["declined"]]["extended_status"] == "not responsible"
    assert by_id[ids["open"]]["status_notes"] == "已派单"
    assert by_id[ids["community_b"]]["grid_code"] == B1
    # Only the note the community published with is public (not the worker's note at done).
    assert by_id[ids["published"]]["status_notes"] == f"已晒单：{PUBLIC_OUTCOME}"
    [one] = client.get(f"/open311/v2/requests/{ids['other']}.json").json()
    assert (one["status"], one["extended_status"], one["service_name"]) == (
        "open", "action scheduled", "安全")  # fmt: skip
    assert one["expected_datetime"].endswith("Z")
    for missing in ("99999", "abc", "1,2"):
        r = client.get(f"/open311/v2/requests/{missing}.json")
        assert r.status_code == 404 and r.json()[0]["code"] == 404
    _check_filters_ids_and_dates(client, ids)


FILTERS = [
    ("status=open", ["submitted", "open", "assigned", "other", "community_b"]),
    ("status=closed", ["published", "declined", "merged"]),
    ("status=action_scheduled", ["open", "assigned", "other"]),
    ("status=duplicate,in progress", ["merged", "community_b"]),
    ("service_code=repairs", ["submitted", "published", "merged"]),
    ("service_code=safety,disputes&status=open", ["other"]),
]
BAD_FILTERS = [
    ("status=pending", "status pending is not known"),
    ("start_date=yesterday", "start_date 'yesterday' is not a W3C date-time"),
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "at most 90 days"),
    ("start_date=2026-02-01&end_date=2026-01-01", "end_date is before start_date"),
    ("service_request_id=1,x", "'x' is not a request id"),
]


def _check_filters_ids_and_dates(client, ids):
    for query, keys in FILTERS:
        r = client.get(f"/open311/v2/requests.json?{query}")
        assert r.status_code == 200, r.text
        got = sorted(int(x["service_request_id"]) for x in r.json())
        assert got == sorted(ids[k] for k in keys), query
    for query, message in BAD_FILTERS:
        r = client.get(f"/open311/v2/requests.json?{query}")
        assert r.status_code == 400 and message in r.json()[0]["description"], query
    # service_request_id overrides the other filters (GeoReport v2)
    wanted = f"{ids['published']},{ids['open']}"
    r = client.get(f"/open311/v2/requests.json?service_request_id={wanted}&status=open")
    assert sorted(int(x["service_request_id"]) for x in r.json()) == sorted(
        [ids["published"], ids["open"]])  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    past = (now - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = (now - dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    # "+" of the offset encoded as %2B, or sent raw (then it arrives as a space)
    bounded = {"start_date": past, "end_date": before}
    assert client.get("/open311/v2/requests.json", params=bounded).json() == []
    assert client.get(f"/open311/v2/requests.json?start_date={past}&end_date={before}").json() == []
    assert len(client.get(f"/open311/v2/requests.json?start_date={past}").json()) == len(ids)


def test_post_shares_the_submission_quota_of_post_orders(client):
    from service.api.limits import RateLimiter

    client.app.state.order_limiter = RateLimiter(2, 3600.0)
    form = {"service_code": "repairs", "lat": "27.725", "long": "109.1815", "description": "灯坏了"}
    assert client.post("/open311/v2/requests.json", data=form).status_code == 201
    order = {"lon": 109.1815, "lat": 27.725, "category": "repairs", "description": "灯坏了"}
    assert client.post("/orders", json=order).status_code == 201
    r = client.post("/open311/v2/requests.json", data=form)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
