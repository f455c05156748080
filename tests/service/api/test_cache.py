"""Published layers are rendered once and revalidated (issue 14 §4), on both backends.

ETag and 304s, a new ETag once a plan is published (or any public data changes), gzip and
brotli bodies equal to the plain one, drafts never kept or publicly cacheable.
"""

from __future__ import annotations

import email.utils
import gzip
import json

import brotli
import pytest
from fastapi.testclient import TestClient

from service.api.cache import PUBLIC
from service.api.main import create_app
from service.api.routes import maps as map_routes
from service.settings import Settings
from service.storage import models as m
from service.storage.plans import publish_plan
from service.storage.session import make_engine, session_scope
from tests.service.api.conftest import A
from tests.service.residents_seed import password, seed_residents
from tests.service.residents_seed import use_fast_password_hashing as _fast

CACHED = [
    "/collections/grids/items?limit=100",
    "/maps/data/grids.geojson",
    f"/maps/data/communities/{A}/buildings.geojson?plan_id=1",
    f"/downloads/communities/{A}/grids.geojson",
    f"/downloads/communities/{A}/buildings.csv",
]
STREAMED = ["/downloads/buildings.geojson", "/downloads/grids.fgb"]


def _households(response) -> list[int]:
    return [f["properties"]["households"] for f in response.json()["features"]]


def _commit(url: str, change) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        change(session)
    engine.dispose()


def test_a_matching_etag_is_answered_304(client):
    for url in CACHED + STREAMED:
        _check_revalidation(client, url)


def _check_revalidation(client, url):
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong
    assert first.headers["cache-control"] == PUBLIC
    assert "Accept-Encoding" in first.headers["vary"]
    assert email.utils.parsedate_to_datetime(first.headers["last-modified"])
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    listed = client.get(url, headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304  # weak comparison, any tag of the list
    changed = client.get(url, headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200 and changed.content == first.content
    since = client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    before = "Thu, 01 Jan 2015 00:00:00 GMT"
    assert client.get(url, headers={"If-Modified-Since": before}).status_code == 200


def test_a_published_layer_is_rendered_once(client, monkeypatch):
    calls = []
    real = map_routes.list_grids
    monkeypatch.setattr(map_routes, "list_grids", lambda *a, **k: calls.append(1) or real(*a, **k))
    bodies = {client.get("/maps/data/grids.geojson").content for _ in range(3)}
    plain = client.get("/maps/data/grids.geojson", headers={"Accept-Encoding": "identity"})
    assert len(calls) == 1 and len(bodies) == 1 and plain.status_code == 200
    assert len(client.app.state.response_cache) == 1


@pytest.mark.parametrize(
    "url",
    [f"/downloads/communities/{A}/grids.geojson", f"/maps/data/communities/{A}/grids.geojson"],
)
def test_publishing_gives_a_new_etag_and_the_new_plan(client, toy_url, url):
    first = client.get(url)
    assert _households(first) == [320, 410, 520]
    _commit(toy_url, lambda s: publish_plan(session=s, plan_id=2))
    after = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != first.headers["etag"]
    assert _households(after) == [600, 650]
    assert client.get(url, headers={"If-None-Match": after.headers["etag"]}).status_code == 304


def test_an_import_change_gives_a_new_etag(client, toy_url):
    url = f"/downloads/communities/{A}/buildings.geojson"
    first = client.get(url)

    def grow(session):
        session.get(m.Building, "B00110").households = 99

    _commit(toy_url, grow)
    after = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    homes = {f["id"]: f["properties"]["households"] for f in after.json()["features"]}
    assert homes["B00110"] == 99


def test_gzip_and_brotli_bodies_decode_to_the_same_json(client):
    for url in [
        "/collections/buildings/items?limit=100",
        f"/maps/data/communities/{A}/buildings.geojson",
        "/downloads/buildings.geojson",  # streamed, compressed on the fly
    ]:
        _check_encodings(client, url)


def _check_encodings(client, url):
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > 2000
    tags = {plain.headers["etag"]}
    for coding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        with client.stream("GET", url, headers={"Accept-Encoding": f"{coding}, identity"}) as r:
            raw = b"".join(r.iter_raw())
            assert r.headers["content-encoding"] == coding
            assert "Accept-Encoding" in r.headers["vary"]
            tags.add(r.headers["etag"])
        assert len(raw) < len(plain.content)
        assert json.loads(decode(raw)) == plain.json()
    assert len(tags) == 3  # a strong tag per encoding
    browser = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert browser.headers["content-encoding"] == "br"


@pytest.fixture
def staff_api(store_url, monkeypatch):
    _fast(monkeypatch)
    seed_residents(store_url)
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        token = client.post(
            "/auth/token", data={"username": "cadmin", "password": password("cadmin")}
        )
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


def test_drafts_are_not_publicly_cacheable(staff_api):
    for url in [
        f"/downloads/communities/{A}/grids.geojson?plan_id=2",
        f"/maps/data/communities/{A}/grids.geojson?plan_id=2",
        "/collections/grids/items?plan_id=2",
        "/downloads/grids.geojson?plan_id=2",
    ]:
        draft = staff_api.get(url)
        assert draft.status_code == 200 and _households(draft) == [600, 650], url
        assert "no-store" in draft.headers["cache-control"]
        assert "public" not in draft.headers["cache-control"]
        assert "etag" not in draft.headers and "last-modified" not in draft.headers
        assert "Authorization" in draft.headers["vary"]
        assert len(staff_api.app.state.response_cache) == 0  # nothing of a draft kept
    published = staff_api.get(f"/downloads/communities/{A}/grids.geojson?plan_id=1")
    assert "etag" in published.headers and "Authorization" in published.headers["vary"]


def test_a_hidden_draft_404_varies_on_authorization(staff_api):
    """Who asks decides between the draft and a 404: a cache must not give the 404 to staff."""
    anonymous = TestClient(staff_api.app)
    for url in [
        "/collections/grids/items?plan_id=2",
        f"/downloads/communities/{A}/grids.geojson?plan_id=2",
        "/collections/grids/tiles/WebMercatorQuad/15/26322/13755?plan_id=2",
    ]:
        hidden = anonymous.get(url)
        assert hidden.status_code == 404, url
        assert "Authorization" in [v.strip() for v in hidden.headers["vary"].split(",")], url
        assert staff_api.get(url).status_code in (200, 204), url


def test_a_kept_geopackage_is_the_same_bytes_in_every_worker(toy_url):
    """Two apps (two worker processes' caches) render the same GeoPackage at different times:
    the same bytes under the same ETag, the layer's last_change the store revision's time."""
    import io
    import sqlite3
    import tempfile
    import time

    url = f"/downloads/communities/{A}/grids.gpkg"
    answers = []
    for _ in range(2):
        with TestClient(create_app(Settings(database_url=toy_url))) as client:
            answers.append(client.get(url))
            time.sleep(0.01)  # GDAL stamps to the millisecond
    first, second = answers
    assert first.status_code == second.status_code == 200
    assert first.headers["etag"] == second.headers["etag"]
    assert first.content == second.content
    changed = email.utils.parsedate_to_datetime(first.headers["last-modified"])
    with tempfile.NamedTemporaryFile(suffix=".gpkg") as tmp:
        tmp.write(io.BytesIO(first.content).read())
        tmp.flush()
        conn = sqlite3.connect(tmp.name)
        (stamp,) = conn.execute("SELECT last_change FROM gpkg_contents").fetchone()
        conn.close()
    assert stamp.startswith(changed.strftime("%Y-%m-%dT%H:%M:%S")) and stamp.endswith("Z")
