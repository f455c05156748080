"""OGC API – Features on both backends: landing, conformance, collections, paging, bbox, 404s."""

from __future__ import annotations

import json

import pytest

from service.api.schemas import Collections, FeatureCollection

from .conftest import A, B

GEOJSON = "application/geo+json"
ALL_GRIDS = [f"{A}001", f"{A}002", f"{A}003", f"{B}001", f"{B}002"]


def _link(doc: dict, rel: str) -> str | None:
    return next((link["href"] for link in doc["links"] if link["rel"] == rel), None)


def test_landing_and_conformance(client):
    landing = client.get("/").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels
    conf = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf


def test_collections_with_extents(client):
    doc = Collections.model_validate(client.get("/collections").json())
    assert [c.id for c in doc.collections] == ["communities", "grids", "buildings"]
    grids = next(c for c in doc.collections if c.id == "grids")
    minx, miny, maxx, maxy = grids.extent.spatial.bbox[0]
    assert minx == pytest.approx(109.18) and maxx == pytest.approx(109.2)
    assert miny == pytest.approx(27.72) and maxy == pytest.approx(27.73)
    assert any(link.rel == "items" and link.type == GEOJSON for link in grids.links)


def test_grid_items_are_geojson_of_published_plans(client):
    response = client.get("/collections/grids/items", params={"limit": 100})
    assert response.status_code == 200
    assert response.headers["content-type"] == GEOJSON
    doc = FeatureCollection.model_validate(response.json())
    assert doc.numberMatched == 5 and doc.numberReturned == 5
    assert [f.id for f in doc.features] == ALL_GRIDS
    households = {f.id: f.properties["households"] for f in doc.features}
    assert households[f"{A}003"] == 520
    assert {f.properties["plan_status"] for f in doc.features} == {"published"}
    ring = doc.features[0].geometry["coordinates"][0][0]  # lon/lat, RFC 7946
    assert min(x for x, _ in ring) == pytest.approx(109.18)
    assert min(y for _, y in ring) == pytest.approx(27.72)


def test_paging_follows_next_and_prev_links(client):
    seen, url, pages = [], "/collections/grids/items?limit=2", 0
    while url:
        doc = client.get(url).json()
        pages += 1
        assert doc["numberMatched"] == 5
        assert doc["numberReturned"] == len(doc["features"]) <= 2
        assert (_link(doc, "prev") is None) == (pages == 1)
        seen += [f["id"] for f in doc["features"]]
        url = _link(doc, "next")
    assert pages == 3 and seen == ALL_GRIDS
    last = client.get("/collections/grids/items?limit=2&offset=4").json()
    assert "offset=2" in _link(last, "prev")


def test_bbox_selects_intersecting_features(client):
    east = client.get("/collections/grids/items", params={"bbox": "109.196,27.721,109.199,27.729"})
    assert [f["id"] for f in east.json()["features"]] == [f"{B}002"]
    across = client.get(
        "/collections/grids/items", params={"bbox": "109.184,27.721,109.191,27.722"}
    )
    assert [f["id"] for f in across.json()["features"]] == [f"{A}002", f"{A}003", f"{B}001"]
    assert across.json()["numberMatched"] == 3
    far = client.get("/collections/grids/items", params={"bbox": "100,20,100.1,20.1"}).json()
    assert far["numberMatched"] == 0 and far["features"] == []
    buildings = client.get("/collections/buildings/items",
                           params={"bbox": "109.190,27.720,109.200,27.730"}).json()  # fmt: skip
    assert {f["properties"]["community_code"] for f in buildings["features"]} == {B}


@pytest.mark.parametrize(
    ("bbox", "message"),
    [("1,2,3", "bbox needs 4 numbers"), ("a,b,c,d", "Invalid bbox"), ("10,0,5,1", "antimeridian")],
)
def test_bad_bbox_is_400_with_reason(client, bbox, message):
    response = client.get("/collections/grids/items", params={"bbox": bbox})
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_draft_plan_by_id_is_not_public(client):
    # Staff of the community see it: tests/service/api/test_drafts.py.
    assert client.get("/collections/grids/items", params={"plan_id": 2}).status_code == 404
    one = client.get(f"/collections/grids/items/{A}001", params={"plan_id": 2})
    assert one.status_code == 404 and one.json()["detail"] == "Plan 2 not found."


def test_single_items_and_buildings_of_a_grid(client):
    grid = client.get(f"/collections/grids/items/{A}002")
    assert grid.status_code == 200 and grid.headers["content-type"] == GEOJSON
    assert grid.json()["properties"]["households"] == 410
    community = client.get(f"/collections/communities/items/{A}").json()
    assert community["properties"]["grids"] == 3
    assert community["properties"]["community_name"] == "测试社区甲"
    buildings = client.get("/collections/buildings/items", params={"grid_code": f"{A}002"}).json()
    assert buildings["numberMatched"] == 2
    assert {f["properties"]["grid_code"] for f in buildings["features"]} == {f"{A}002"}
    kinds = {f["geometry"]["type"] for f in buildings["features"]}
    assert kinds == {"MultiPolygon", "Point"}  # footprint when known, else the point


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/collections/roads/items", "Collection 'roads' not found; available: "
                                     "communities, grids, buildings."),
        ("/collections/grids/items/520602001001999",
         "Grid '520602001001999' not found in any published plan."),
        ("/collections/communities/items/520602001999", "Community '520602001999' not found."),
        ("/collections/buildings/items/nope", "Building 'nope' not found."),
        ("/collections/grids/items?plan_id=99", "Plan 99 not found."),
        (f"/collections/grids/items?community_code={A}&plan_id=3",
         f"Plan 3 belongs to community {B}, not {A}."),
    ],
)  # fmt: skip
def test_missing_things_are_404_with_clear_detail(client, path, detail):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": detail}


def test_html_views(client):
    page = client.get("/collections/grids/items", params={"f": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert f"{A}003" in page.text and "520" in page.text
    browser = client.get("/collections", headers={"Accept": "text/html,application/xhtml+xml"})
    assert browser.headers["content-type"].startswith("text/html")
    assert "grids" in browser.text


def test_openapi_is_3_0(client):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.0.")
    text = json.dumps(doc)
    assert '"type": "null"' not in text and "jsonSchemaDialect" not in text
    assert "/collections/{collection_id}/items" in doc["paths"]
