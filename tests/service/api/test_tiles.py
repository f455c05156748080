"""Vector tiles (OGC API – Tiles, MVT) on both backends: a tile holds the features of its box.

Every tile over the toy district is decoded (``mapbox_vector_tile``) and compared with the items
endpoint asked for the tile's bbox: the same features, the same public properties, and
geometries where the items' geometries fall in the tile (projected to EPSG:3857 with pyproj and
scaled to tile units with morecantile's tile bounds, independently of the server's arithmetic).
"""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from service.api.main import create_app
from service.settings import Settings
from tests.service.api.conftest import PERSONAL_VALUES, A
from tests.service.residents_seed import password, seed_residents
from tests.service.residents_seed import use_fast_password_hashing as _fast

TMS = morecantile.tms.get("WebMercatorQuad")
MVT = "application/vnd.mapbox-vector-tile"
KEY = {"communities": "community_code", "grids": "grid_code", "buildings": "building_id"}
TOY = (109.18, 27.72, 109.20, 27.73)
ZOOMS = {"communities": [12, 14], "grids": [14, 15], "buildings": [15, 16]}
EXTENT, BUFFER = 4096, 256
_TO_3857 = Transformer.from_crs(4326, 3857, always_xy=True)


def _url(cid: str, z: int, x: int, y: int) -> str:
    return f"/collections/{cid}/tiles/WebMercatorQuad/{z}/{x}/{y}"


def _decode(data: bytes) -> list[dict]:
    layers = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    assert len(layers) <= 1
    return next(iter(layers.values()))["features"] if layers else []


def _items_in_tile(client: TestClient, cid: str, tile: morecantile.Tile, **params) -> dict:
    b = TMS.bounds(tile)
    bbox = f"{b.left},{b.bottom},{b.right},{b.top}"
    headers = params.pop("headers", None)
    params = {"bbox": bbox, "limit": 10000, **params}
    r = client.get(f"/collections/{cid}/items", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return {f["properties"][KEY[cid]]: f for f in r.json()["features"]}


def _in_tile_units(geometry: dict, tile: morecantile.Tile) -> BaseGeometry:
    """A GeoJSON lon/lat geometry in the tile's units (y down), clipped to tile + buffer."""
    xy = TMS.xy_bounds(tile)
    scale = EXTENT / (xy.right - xy.left)

    def to_tile(coords: np.ndarray) -> np.ndarray:
        mx, my = _TO_3857.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([(mx - xy.left) * scale, (xy.top - my) * scale])

    geom = shapely.transform(shape(geometry), to_tile)
    return shapely.clip_by_rect(geom, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)


def _assert_same_geometry(got: dict, expected: dict, tile: morecantile.Tile, key: str) -> None:
    want = _in_tile_units(expected, tile)
    have = shape(got)
    if want.geom_type == "Point":
        assert have.distance(want) <= 1.0, key  # snapped to whole tile units
        return
    assert have.is_valid, key
    overlap = have.intersection(want).area / have.union(want).area
    assert overlap > 0.98, (key, overlap)


@pytest.mark.parametrize("cid", list(KEY))
def test_tiles_hold_exactly_the_features_of_their_bbox(client, cid):
    seen = set()
    for z in ZOOMS[cid]:
        for tile in TMS.tiles(*TOY, [z]):
            r = client.get(_url(cid, tile.z, tile.x, tile.y))
            expected = _items_in_tile(client, cid, tile)
            if not expected:
                assert r.status_code == 204 and r.content == b"", tile
                continue
            assert r.status_code == 200, (tile, r.text)
            assert r.headers["content-type"] == MVT
            features = _decode(r.content)
            got = {f["properties"][KEY[cid]]: f for f in features}
            assert len(got) == len(features), "a feature twice in one tile"
            assert set(got) == set(expected), tile
            for key, feature in got.items():
                props = {k: v for k, v in expected[key]["properties"].items() if v is not None}
                assert feature["properties"] == props, key
                _assert_same_geometry(feature["geometry"], expected[key]["geometry"], tile, key)
            seen |= set(got)
    everything = client.get(f"/collections/{cid}/items", params={"limit": 10000}).json()
    assert seen == {f["properties"][KEY[cid]] for f in everything["features"]}


def test_a_feature_across_tiles_is_in_each_clipped_to_it(client):
    """Grid A001 spans two z16 columns: each tile has its part, and the parts join up."""
    tiles = [t for t in TMS.tiles(*TOY, [16]) if t.y == TMS.tile(109.181, 27.725, 16).y]
    parts = []
    for tile in tiles:
        r = client.get(_url("grids", tile.z, tile.x, tile.y))
        for f in _decode(r.content):
            if f["properties"]["grid_code"] == f"{A}001":
                parts.append((tile, shape(f["geometry"])))
    assert len(parts) >= 2
    for _tile, part in parts:  # clipped: never more than tile + buffer
        minx, miny, maxx, maxy = part.bounds
        assert minx >= -BUFFER and maxx <= EXTENT + BUFFER
        assert miny >= -BUFFER and maxy <= EXTENT + BUFFER


def test_tiles_carry_no_personal_data(client):
    for cid in KEY:
        for tile in TMS.tiles(*TOY, [ZOOMS[cid][-1]]):
            data = client.get(_url(cid, tile.z, tile.x, tile.y)).content
            for value in PERSONAL_VALUES:
                assert value.encode() not in data, (cid, value)


def test_a_mixed_collection_keeps_its_area():
    from service.storage.tiles import _main_parts

    mixed = shapely.from_wkt(
        "GEOMETRYCOLLECTION(POLYGON((0 0, 8 0, 8 8, 0 8, 0 0)), LINESTRING(8 0, 20 0), POINT(3 3))"
    )
    assert _main_parts(mixed).equals(shapely.from_wkt("POLYGON((0 0, 8 0, 8 8, 0 8, 0 0))"))
    lines = shapely.from_wkt("GEOMETRYCOLLECTION(LINESTRING(0 0, 1 1), POINT(5 5))")
    assert _main_parts(lines).geom_type == "LineString"


def test_empty_and_invalid_tiles(client):
    far = TMS.tile(100.0, 20.0, 14)  # no feature there
    r = client.get(_url("grids", far.z, far.x, far.y))
    assert r.status_code == 204 and r.content == b""
    bad = {
        _url("grids", 14, 16384, 0): "x (column) and y (row) run from 0 to 16383",
        _url("grids", 14, 0, -1): "x (column) and y (row) run from 0 to 16383",
        _url("grids", 23, 0, 0): "Zoom 23 is outside this collection's tiles: zoom 10 to 22",
        _url("buildings", 12, 3290, 1719): "Zoom 12 is outside this collection's tiles: zoom 13",
    }
    for url, message in bad.items():
        r = client.get(url)
        assert r.status_code == 400, url
        assert message in r.json()["detail"], (url, r.json())
    assert client.get("/collections/grids/tiles/WebMercatorQuad/a/0/0").status_code == 422
    r = client.get(_url("streets", 14, 0, 0))
    assert r.status_code == 404 and "has no tiles" in r.json()["detail"]
    r = client.get("/collections/grids/tiles/WorldCRS84Quad/14/0/0")
    assert r.status_code == 404 and "WebMercatorQuad" in r.json()["detail"]


def test_published_tiles_are_rendered_once_with_etags(client):
    tile = TMS.tile(109.185, 27.725, 15)
    url = _url("grids", tile.z, tile.x, tile.y)
    first = client.get(url, headers={"Accept-Encoding": "br"})
    assert first.status_code == 200 and first.headers["content-encoding"] == "br"
    assert first.headers["cache-control"] == "public, no-cache"
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.content == first.content and "content-encoding" not in plain.headers
    far = TMS.tile(100.0, 20.0, 14)
    for coding in ("identity", "gzip", "br"):  # an empty tile is 204 in every encoding
        empty = client.get(_url("grids", far.z, far.x, far.y), headers={"Accept-Encoding": coding})
        assert empty.status_code == 204 and empty.content == b"" and empty.headers["etag"]


def test_tileset_metadata_and_links(client):
    collection = client.get("/collections/grids").json()
    tiles_link = next(
        link for link in collection["links"] if link["rel"].endswith("/tilesets-vector")
    )
    tilesets = client.get(tiles_link["href"]).json()["tilesets"]
    assert [t["tileMatrixSetURI"] for t in tilesets] == [TMS.uri]
    self_href = next(link["href"] for link in tilesets[0]["links"] if link["rel"] == "self")
    doc = client.get(self_href).json()
    assert doc["dataType"] == "vector" and doc["crs"].endswith("EPSG/0/3857")
    template = next(link for link in doc["links"] if link["rel"] == "item")
    assert template["type"] == MVT and template["templated"] is True
    limits = {lim["tileMatrix"]: lim for lim in doc["tileMatrixSetLimits"]}
    assert min(map(int, limits)) == 10 and max(map(int, limits)) == 22
    z15 = limits["15"]  # the toy district's published grids: columns 26321-26322, row 13755/6
    assert (z15["minTileCol"], z15["maxTileCol"]) == (26321, 26323)
    assert (z15["minTileRow"], z15["maxTileRow"]) == (13755, 13756)
    url = template["href"].replace("{tileMatrix}", "15").replace("{tileCol}", "26322")
    tile = client.get(url.replace("{tileRow}", "13755"))
    assert tile.status_code == 200 and _decode(tile.content)
    scheme = next(link["href"] for link in doc["links"] if link["rel"].endswith("tiling-scheme"))
    tms = client.get(scheme).json()
    assert tms["id"] == "WebMercatorQuad" and len(tms["tileMatrices"]) == 25
    listed = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == ["WebMercatorQuad"]
    conformance = client.get("/conformance").json()["conformsTo"]
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt"):
        assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}" in conformance
    landing = client.get("/").json()["links"]
    assert any(link["href"].endswith("/tileMatrixSets") for link in landing)


@pytest.fixture
def staff_client(store_url, monkeypatch):
    _fast(monkeypatch)
    seed_residents(store_url)  # the toy district, its draft plan 2 of A, and staff users
    with TestClient(create_app(Settings(database_url=store_url))) as c:
        yield c


def test_plan_id_selects_the_plan_and_drafts_are_for_staff(staff_client):
    api = staff_client
    tile = TMS.tile(109.185, 27.725, 15)
    url = _url("grids", tile.z, tile.x, tile.y)
    published = {f["properties"]["grid_code"]: f for f in _decode(api.get(url).content)}
    assert {f["properties"]["plan_id"] for f in published.values()} == {1, 3}  # A's and B's
    assert api.get(url, params={"plan_id": 2}).status_code == 404  # anonymous: like no plan
    token = api.post("/auth/token", data={"username": "dadmin", "password": password("dadmin")})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    r = api.get(url, params={"plan_id": 2}, headers=headers)
    draft = {f["properties"]["grid_code"]: f for f in _decode(r.content)}
    expected = _items_in_tile(api, "grids", tile, plan_id=2, headers=headers)
    assert set(draft) == set(expected) and draft
    assert {f["properties"]["plan_status"] for f in draft.values()} == {"draft"}
    assert sorted(f["properties"]["households"] for f in draft.values()) == [600, 650]
    assert r.headers["cache-control"] == "no-store"  # a draft tile is never stored by caches
    buildings = _url("buildings", 16, *TMS.tile(109.182, 27.725, 16)[:2])
    in_draft = _decode(api.get(buildings, params={"plan_id": 2}, headers=headers).content)
    assert {f["properties"]["grid_code"] for f in in_draft} == {f"{A}001"}
