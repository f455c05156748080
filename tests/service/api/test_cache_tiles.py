"""Tiles rendered per request cost one statement (issue 14 §4), on both backends.

The tile's lon/lat box is computed in closed form (as morecantile's WebMercatorQuad gives it);
on PostGIS the tile query runs on the tile pool's autocommit connection (no BEGIN, ROLLBACK or
pre-ping; a connection the server closed is replaced); an answer the cache will not keep is
encoded only as the request asks.
"""

from __future__ import annotations

import random
from typing import Any

import morecantile
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from service.api import cache as cache_module
from service.api.main import create_app
from service.settings import Settings
from service.storage import tiles
from tests.service.api.conftest import A

# The toy district's grids at zoom 14 (see test_tiles.py); found by asking the items' extent.
_ZOOM = 14


def _tiles_with_features(client: TestClient) -> list[str]:
    bbox = client.get("/collections/grids").json()["extent"]["spatial"]["bbox"][0]
    west, south, east, north = bbox
    found = morecantile.tms.get("WebMercatorQuad").tiles(west, south, east, north, [_ZOOM])
    urls = [f"/collections/grids/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}" for t in found]
    full = [u for u in urls if client.get(u).status_code == 200]
    assert full, "the toy district has grids in some tile"
    return full


def test_tile_bounds_are_webmercatorquads():
    tms = morecantile.tms.get("WebMercatorQuad")
    rng = random.Random(7)
    for z in [0, 1, 5, 10, 14, 18, 22]:
        for _ in range(20):
            x, y = rng.randrange(2**z), rng.randrange(2**z)
            b = tms.bounds(morecantile.Tile(x, y, z))
            ours = tiles.tile_bounds(z, x, y)
            assert ours == pytest.approx((b.left, b.bottom, b.right, b.top), abs=1e-9), (z, x, y)


@pytest.fixture
def render_client(toy_url: str):
    """The app with its response cache off: every tile is rendered."""
    with TestClient(create_app(Settings(database_url=toy_url, response_cache_mb=0))) as client:
        yield client


def _tile_pids(engine) -> list[int]:
    """Backends of the tile connections kept now: the event loop's and the worker threads'."""
    pids = [c.info.backend_pid for p in tiles._ASYNC_POOLS.get(engine, {}).values()
            for c in p._idle]  # fmt: skip
    if engine in tiles._TILE_POOLS:
        fairy = tiles._TILE_POOLS[engine].connect()
        conn: Any = fairy.driver_connection
        pids.append(conn.info.backend_pid)
        assert conn.autocommit is True
        fairy.close()
    return pids


def test_a_rendered_tile_takes_no_connection_of_the_sessions(render_client, backend):
    urls = _tiles_with_features(render_client)
    planned = [f"{u}?plan_id=1" for u in urls]  # a published plan's: in a worker thread
    taken: list[int] = []
    engine = render_client.app.state.engine
    event.listen(engine, "checkout", lambda *_: taken.append(1))
    bodies = [render_client.get(u).content for u in urls * 2]
    assert all(bodies) and bodies[: len(urls)] == bodies[len(urls) :]
    if backend == "postgis":  # published tiles: one statement on the loop's own connection
        assert taken == []
        pools = tiles._ASYNC_POOLS[engine].values()
        assert all(c.autocommit for p in pools for c in p._idle)
    assert {render_client.get(u).status_code for u in planned} <= {200, 204}


@pytest.mark.parametrize("backend", [pytest.param("postgis", marks=pytest.mark.postgis)])
def test_a_tile_connection_closed_by_the_server_is_replaced(render_client, backend):
    """PostGIS only: a server closing a connection has no SpatiaLite counterpart."""
    url = _tiles_with_features(render_client)[0]
    urls = [url, f"{url}?plan_id=1"]
    first = [render_client.get(u).content for u in urls]
    engine = render_client.app.state.engine
    pids = _tile_pids(engine)
    assert len(pids) >= 2
    with engine.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    assert [render_client.get(u).content for u in urls] == first


def test_an_answer_not_kept_is_encoded_only_as_asked(render_client, monkeypatch):
    codings: list[str] = []
    real = cache_module._encode
    monkeypatch.setattr(cache_module, "_encode", lambda b, c: codings.append(c) or real(b, c))
    url = f"/downloads/communities/{A}/grids.geojson"
    br = render_client.get(url, headers={"Accept-Encoding": "br"})
    assert br.headers["content-encoding"] == "br" and codings == ["br"]
    plain = render_client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and codings == ["br"]
    assert br.json() == plain.json()  # httpx decodes br


def test_a_kept_answer_has_every_encoding(client, monkeypatch):
    codings: list[str] = []
    real = cache_module._encode
    monkeypatch.setattr(cache_module, "_encode", lambda b, c: codings.append(c) or real(b, c))
    client.get(f"/downloads/communities/{A}/grids.geojson", headers={"Accept-Encoding": "br"})
    assert sorted(codings) == ["br", "gzip"]  # once, for every later request


def test_a_published_tile_is_answered_before_routing_as_the_route_would(
    render_client, backend, monkeypatch
):
    """PostGIS: a published tile asked without query string or token is answered before routing
    (``answer_before_routing``); the answer is the route's (same bytes, status and headers but
    the tag, whose key holds the query string). Anything else is left to the route."""
    answered: list[tuple[str, bytes, bool]] = []

    def spy(handler):
        async def wrapped(scope, receive, send):
            done = await handler(scope, receive, send)
            answered.append((scope["path"], scope["query_string"], done))
            return done

        return wrapped

    monkeypatch.setattr(cache_module, "_EARLY_ANSWERS",
                        [spy(h) for h in cache_module._EARLY_ANSWERS])  # fmt: skip
    urls = _tiles_with_features(render_client)
    answered.clear()
    far = morecantile.tms.get("WebMercatorQuad").tile(100.0, 20.0, _ZOOM)
    empty = f"/collections/grids/tiles/WebMercatorQuad/{far.z}/{far.x}/{far.y}"
    for url in [*urls, empty]:
        early = render_client.get(url)
        routed = render_client.get(f"{url}?unused=1")  # a query string: the route
        assert early.status_code == routed.status_code and early.content == routed.content
        for name in ("content-type", "cache-control", "vary", "content-security-policy"):
            assert early.headers.get(name) == routed.headers.get(name), (url, name)
        assert early.headers["etag"] and early.headers["etag"] != routed.headers["etag"]
    assert render_client.get(empty).status_code == 204
    assert {(path, query) for path, query, _ in answered} >= {(u, b"") for u in urls}
    for path, query, done in answered:  # on the event loop (PostGIS) and without a query
        assert done is (backend == "postgis" and not query), (path, query)
    answered.clear()
    token = {"Authorization": "Bearer nonsense"}
    assert render_client.get(urls[0], headers=token).status_code == 401
    bad = {"/collections/grids/tiles/WebMercatorQuad/9/0/0": 400,
           "/collections/grids/tiles/WebMercatorQuad/14/16384/0": 400,
           "/collections/streets/tiles/WebMercatorQuad/14/0/0": 404}  # fmt: skip
    for url, status in bad.items():
        assert render_client.get(url).status_code == status, url
    assert [done for *_, done in answered] == [False] * len(bad)


def test_the_linear_projection_is_within_its_tolerance_of_epsg_3857():
    """Where a tile's features are projected by ST_Affine, the map is within LINEAR_TOLERANCE
    tile units of EPSG:3857 (pyproj) all over the buffered tile; elsewhere it is not used."""
    from pyproj import Transformer

    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    tms = morecantile.tms.get("WebMercatorQuad")
    rng = random.Random(3)
    used = set()
    for z in [6, 10, 12, 13, 14, 16, 19, 22]:
        for lat in [-70.0, -27.7, 0.001, 27.7, 60.0, 84.0]:
            tile = tms.tile(rng.uniform(-179, 179), lat, z)
            p = tiles._linear_mercator(tile.z, tile.x, tile.y)
            if p["box_west"] is None:
                continue
            used.add(z)
            lon = np.array([rng.uniform(p["box_west"], p["box_east"]) for _ in range(200)])
            lats = np.array([rng.uniform(p["box_south"], p["box_north"]) for _ in range(200)])
            mx, my = to_3857.transform(lon, lats)
            unit = (tms.xy_bounds(tile).right - tms.xy_bounds(tile).left) / tiles.EXTENT
            err_x = np.abs(p["lin_x"] * lon - mx) / unit
            err_y = np.abs(p["lin_y"] * lats + p["lin_y0"] - my) / unit
            assert max(err_x.max(), err_y.max()) <= tiles.LINEAR_TOLERANCE, (z, lat)
            buffered = tms.bounds(tile)  # the box holds the tile and its buffer
            assert p["box_west"] < buffered.left and p["box_east"] > buffered.right
            assert p["box_south"] < buffered.bottom and p["box_north"] > buffered.top
    assert {14, 16, 19, 22} <= used
    for z in [6, 10, 12]:  # away from the equator a tile this large is transformed by PROJ
        tile = tms.tile(109.19, 27.72, z)
        assert tiles._linear_mercator(tile.z, tile.x, tile.y)["box_west"] is None, z
