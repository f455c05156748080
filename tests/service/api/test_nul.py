"""NUL and other control characters: 400 with one message on both backends, never a 500.

Regression cases of the schemathesis fuzz run (issue 10) and the NUL sweep (issue 12, item 8):
PostgreSQL text cannot hold U+0000, so before the fix every route below answered 500 on PostGIS
(and 404/200 on SpatiaLite). One explicit case per route; the storage guard has its own tests.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gridmap.errors import InputError
from service.api.inputs import control_character_problem
from service.storage import features
from service.storage import models as m
from service.storage.session import NUL_MESSAGE, make_engine, make_sessionmaker
from tests.service.api.conftest import A
from tests.service.residents_seed import GRID_A1, password, seed_residents

G = GRID_A1

GET_ROUTES = [
    "/?f=json%00",
    "/conformance?f=%00",
    "/collections?f=html%00",
    "/downloads/communities.geo%00json",
    "/maps/data/communities.geojson?offset=wgs84%00",
    "/auth/me?x=%00",
    f"/collections/communities/items/{A}%00",
    f"/collections/grids/items/{G}%00",
    "/collections/buildings/items/B0011%00",
    f"/collections/grids/items?community_code={A}%00",
    f"/collections/buildings/items?community_code={A}%00",
    f"/collections/buildings/items?grid_code={G}%00",
    "/collections/grids/items?bbox=1,2,3,4%00",
    "/collections/grid%00s",
    f"/downloads/communities/{A}%00/grids.geojson",
    f"/downloads/communities/{A}%00/buildings.csv",
    f"/downloads/grids/{G}%00/buildings.gpkg",
    f"/maps/communities/{A}%00",
    f"/maps/grids/{G}%00",
    f"/maps/data/communities/{A}%00/grids.geojson",
    f"/maps/data/communities/{A}%00/buildings.geojson",
    f"/maps/data/communities/{A}%00/streets.geojson",
    f"/maps/data/communities/{A}%00/compounds.geojson",
    f"/maps/data/grids/{G}%00.geojson",
    f"/maps/data/grids/{G}%00/buildings.geojson",
    "/maps?lang=zh%00",
    "/lookup?lon=109.18&lat=27.72&offset=wgs84%00",
    f"/grids/{G}/residents?limit=5%00",
    f"/grids/{G}%00/archive",
    f"/grids/{G}/residents.csv?x=%00",
    "/audit?record_id=p1%00",
]


@pytest.fixture
def api(residents_api):
    return residents_api  # tests/service/conftest.py


def _token(api, user="dadmin"):
    r = api.post("/auth/token", data={"username": user, "password": password(user)})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _assert_control_400(response):
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert "control character (U+0000)" in response.json()["detail"]


def test_sign_in_with_a_nul_in_the_user_name_is_400(api):
    _assert_control_400(api.post("/auth/token", data={"username": "d\x00admin", "password": "x"}))
    _assert_control_400(api.post("/auth/token", data={"username": "dadmin", "password": "a\x00"}))


@pytest.mark.parametrize("url", GET_ROUTES)
def test_nul_in_path_or_query_is_400(api, url):
    _assert_control_400(api.get(url))
    _assert_control_400(api.get(url, headers=_token(api)))


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (f"/grids/{G}/residents/search", {"name": "赵\x00", "reason": "家访核对住户信息"}),
        (f"/grids/{G}/residents/search", {"id_number": "5\x00", "reason": "家访核对住户信息"}),
        (f"/grids/{G}/residents/search", {"phone": "137\x00", "reason": "家访核对住户信息"}),
        (f"/grids/{G}/residents/search", {"name": "赵", "reason": "reason\x00here"}),
        ("/residents/pA1/reveal", {"reason": "家访核对\x00住户信息", "fields": ["name"]}),
        ("/residents/pA1/reveal", {"reason": "家访核对住户信息", "fields": ["na\x00me"]}),
        (f"/grids/{G}/residents.csv", {"reason": "导出\x00核对"}),
    ],
)
def test_nul_in_a_json_body_is_400(api, url, body):
    _assert_control_400(api.post(url, json=body, headers=_token(api)))


def test_other_controls_too_but_line_breaks_in_bodies_are_text():
    assert "U+001B" in control_character_problem("/maps", b"lang=%1B")
    assert "U+0007" in control_character_problem("/x\x07", b"")
    body = b'{"reason": "line one\\nline two\\ttabbed"}'
    assert control_character_problem("/x", b"", body, "application/json") is None
    bad = b'{"reason": "bell\\u0007"}'
    assert "field 'reason'" in control_character_problem("/x", b"", bad, "application/json")
    assert control_character_problem("/x", b"", b"not json\x00", "application/json") is None


def test_storage_refuses_nul_parameters_on_both_backends(store_url):
    """Second line of defence: the same InputError (422) from either database, no DataError."""
    seed_residents(store_url)
    engine = make_engine(store_url)
    try:
        with make_sessionmaker(engine)() as session:
            with pytest.raises(InputError, match="NUL character"):
                features.get_building(session, "B0011\x00")
            with pytest.raises(InputError, match="NUL character"):
                features.list_grids(session, community_code=f"{A}\x00")
            session.rollback()
            assert session.scalar(select(m.Person.id).where(m.Person.id == "pA1")) == "pA1"
    finally:
        engine.dispose()


def test_a_nul_the_request_check_cannot_see_is_never_a_500(api):
    """A multipart form is not read by the request check: the user name check (401) or the
    storage guard (422) answers, on both backends."""
    r = api.post("/auth/token", files={"username": (None, "d\x00admin"), "password": (None, "x")})
    assert r.status_code in (401, 422), r.text
    if r.status_code == 422:
        assert r.json()["detail"] == NUL_MESSAGE
