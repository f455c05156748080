"""Draft plans are for staff of their community and district admins (issue 12, item 7).

The toy district's plan 2 is a draft of community A. Every route taking ``plan_id`` answers an
anonymous request for it, or one by staff of another community or district, with the same 404
as a plan that does not exist; published plans stay public.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api.main import create_app
from service.settings import Settings
from service.storage.auth import create_user
from tests.service.api.conftest import A, B
from tests.service.residents_seed import password, residents_session

DRAFT, PUBLISHED, ABSENT = 2, 1, 99
A1 = f"{A}001"
ROUTES = [
    "/collections/grids/items?plan_id={p}",
    "/collections/buildings/items?plan_id={p}",
    f"/collections/buildings/items?community_code={A}&plan_id={{p}}",
    f"/collections/grids/items/{A1}?plan_id={{p}}",
    f"/downloads/communities/{A}/grids.geojson?plan_id={{p}}",
    f"/downloads/communities/{A}/buildings.csv?plan_id={{p}}",
    f"/downloads/grids/{A1}/buildings.geojson?plan_id={{p}}",
    f"/maps/communities/{A}?plan_id={{p}}",
    f"/maps/grids/{A1}?plan_id={{p}}",
    f"/maps/data/communities/{A}/grids.geojson?plan_id={{p}}",
    f"/maps/data/communities/{A}/buildings.geojson?plan_id={{p}}",
    f"/maps/data/grids/{A1}.geojson?plan_id={{p}}",
    f"/maps/data/grids/{A1}/buildings.geojson?plan_id={{p}}",
]
B_ADMIN_PASSWORD = "Tamarind-Kettle-42-b"


@pytest.fixture
def api(store_url, monkeypatch):
    with residents_session(store_url, monkeypatch) as s:
        create_user(session=s, username="badmin", password=B_ADMIN_PASSWORD,
                    role="community_admin", community_code=B)  # fmt: skip
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        yield client


def _headers(api, user):
    if user is None:
        return {}
    secret = B_ADMIN_PASSWORD if user == "badmin" else password(user)
    r = api.post("/auth/token", data={"username": user, "password": secret})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.parametrize("route", ROUTES)
def test_drafts_are_hidden_from_the_public_like_absent_plans(api, route):
    draft = api.get(route.format(p=DRAFT))
    absent = api.get(route.format(p=ABSENT))
    assert draft.status_code == absent.status_code == 404, (route, draft.status_code)
    assert draft.json()["detail"] == f"Plan {DRAFT} not found."
    assert absent.json()["detail"] == f"Plan {ABSENT} not found."
    assert api.get(route.format(p=PUBLISHED)).status_code == 200, route


@pytest.mark.parametrize(
    ("user", "sees"),
    [
        (None, False),
        ("citizen", False),
        ("badmin", False),  # community admin of B
        ("otherdistrict", False),  # district admin of 520603
        ("cadmin", True),  # community admin of A
        ("worker", True),  # grid worker of a grid of A
        ("dadmin", True),  # district admin of 520602
    ],
)
def test_who_sees_a_draft(api, user, sees):
    headers = _headers(api, user)
    for route in ROUTES:
        r = api.get(route.format(p=DRAFT), headers=headers)
        assert r.status_code == (200 if sees else 404), (user, route, r.status_code)
    if sees:
        body = api.get(f"/collections/grids/items?plan_id={DRAFT}", headers=headers).json()
        assert [f["properties"]["households"] for f in body["features"]] == [600, 650]
        assert {f["properties"]["plan_status"] for f in body["features"]} == {"draft"}
        one = api.get(f"/collections/grids/items/{A1}?plan_id={DRAFT}", headers=headers)
        assert one.json()["properties"]["households"] == 600
        files = api.get(f"/downloads/communities/{A}/grids.geojson?plan_id={DRAFT}",
                        headers=headers).json()  # fmt: skip
        assert [f["properties"]["households"] for f in files["features"]] == [600, 650]
