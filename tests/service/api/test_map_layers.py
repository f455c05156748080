"""Community map streets and compounds layers, the legend clear of the scale bar, and the small
Leaflet maps of the OGC HTML pages (both backends; the browser tests use Debian's Chromium)."""

from __future__ import annotations

import shutil

import pytest
from geoalchemy2.shape import from_shape
from shapely import MultiLineString, MultiPolygon, box

from service.storage import models as m
from service.storage.session import make_engine, session_scope

from .browsing import local_page
from .conftest import Y0, Y1, A, B

MID = (Y0 + Y1) / 2


def _add_streets_and_compounds(url: str) -> None:
    """A street across A, one across B only, one far away; compounds of A with/without outline."""
    lines = {
        "S-A": [(109.181, Y0 - 0.001), (109.182, Y1 + 0.001)],
        "S-B": [(109.196, Y0 - 0.001), (109.197, Y1 + 0.001)],
        "S-far": [(110.5, 28.5), (110.6, 28.6)],
    }
    engine = make_engine(url)
    with session_scope(engine) as s:
        s.add_all(
            m.Street(id=sid, name=f"{sid}路", geom=from_shape(MultiLineString([line]), srid=4326))
            for sid, line in lines.items()
        )
        outline = MultiPolygon([box(109.1805, Y0 + 0.001, 109.1825, MID)])
        s.add_all([
            m.Compound(id="XQ-A1", name="甲一小区", community_code=A, property_company="某物业",
                       geom=from_shape(outline, srid=4326)),
            m.Compound(id="XQ-A2", name="甲二小区", community_code=A),  # no outline
            m.Compound(id="XQ-B1", name="乙一小区", community_code=B,
                       geom=from_shape(MultiPolygon([box(109.191, Y0, 109.192, MID)]), srid=4326)),
        ])  # fmt: skip
    engine.dispose()


@pytest.fixture
def layered_url(toy_url: str) -> str:
    _add_streets_and_compounds(toy_url)
    return toy_url


@pytest.fixture
def layered_client(layered_url: str, client):
    return client


def test_streets_data_holds_the_streets_crossing_the_community(layered_client):
    data = layered_client.get(f"/maps/data/communities/{A}/streets.geojson").json()
    assert [f["id"] for f in data["features"]] == ["S-A"]
    props = data["features"][0]["properties"]
    assert props["street_name"] == "S-A路" and data["features"][0]["geometry"]["type"] in (
        "LineString",
        "MultiLineString",
    )
    other = layered_client.get(f"/maps/data/communities/{B}/streets.geojson").json()
    assert [f["id"] for f in other["features"]] == ["S-B"]


def test_compounds_data_holds_the_outlined_compounds_of_the_community(layered_client):
    data = layered_client.get(f"/maps/data/communities/{A}/compounds.geojson").json()
    assert [f["id"] for f in data["features"]] == ["XQ-A1"]
    assert data["features"][0]["properties"]["compound_name"] == "甲一小区"
    assert data["features"][0]["properties"]["property_company"] == "某物业"


def test_community_without_streets_or_compounds_gives_empty_layers(client):
    for kind in ("streets", "compounds"):
        data = client.get(f"/maps/data/communities/{A}/{kind}.geojson").json()
        assert data == {"type": "FeatureCollection", "features": []}


@pytest.mark.parametrize("kind", ["streets", "compounds"])
def test_layers_of_an_unknown_community_are_404(client, kind):
    response = client.get(f"/maps/data/communities/520602999999/{kind}.geojson")
    assert response.status_code == 404
    assert "520602999999" in response.json()["detail"]


def test_community_page_offers_streets_and_compounds_layers(client):
    text = client.get(f"/maps/communities/{A}", params={"basemap": "amap"}).text
    assert f"/maps/data/communities/{A}/streets.geojson?offset=gcj02" in text
    assert f"/maps/data/communities/{A}/compounds.geojson?offset=gcj02" in text
    english = client.get(f"/maps/communities/{A}", params={"lang": "en"}).text
    assert '"Streets"' in english and '"Compounds"' in english


def test_ogc_html_pages_embed_a_local_leaflet_map(client):
    for path in ("/collections/grids/items", f"/collections/grids/items/{A}001"):
        text = client.get(path, params={"f": "html"}).text
        assert 'id="gridmap-features"' in text
        assert '<script src="/static/vendor/leaflet/leaflet.js">' in text
        assert '<script src="/static/gridmap/ogc.js">' in text
    assert client.get("/static/gridmap/ogc.js").status_code == 200


# --------------------------------------------------------------------------- real browser
browser = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium missing")


@pytest.fixture
def page():
    with local_page(viewport={"width": 1200, "height": 800}) as tab:
        yield tab


@pytest.fixture
def layered_server(layered_url: str, live_server: str) -> str:
    return live_server


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@browser
@pytest.mark.browser
def test_community_map_legend_clear_of_scale_and_layers_toggle(layered_server, page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{layered_server}/maps/communities/{A}?basemap=none")
    page.wait_for_selector(".folium-map[data-streets-count][data-compounds-count]", timeout=15_000)
    container = page.locator(".folium-map")
    assert container.get_attribute("data-streets-count") == "1"
    assert container.get_attribute("data-compounds-count") == "1"
    legend = page.locator(".gridmap-legend").bounding_box()
    scale = page.locator(".leaflet-control-scale").bounding_box()
    viewport = page.viewport_size
    assert legend and scale and not _overlap(legend, scale)
    assert legend["y"] + legend["height"] <= viewport["height"]
    assert page.locator(".gridmap-legend").inner_text().count("户") >= 4
    streets = page.locator(".leaflet-gridmap-streets-pane path")
    assert streets.count() == 1
    page.locator(".leaflet-control-layers label", has_text="街路").click()
    assert streets.count() == 0
    compounds = page.locator(".leaflet-gridmap-compounds-pane path")
    assert compounds.count() == 1
    assert errors == []


@browser
@pytest.mark.browser
def test_ogc_items_page_draws_its_features(live_server, page):
    page.goto(f"{live_server}/collections/grids/items?f=html&community_code={A}")
    page.wait_for_selector("#gridmap-features[data-count]", timeout=15_000)
    assert page.locator("#gridmap-features").get_attribute("data-count") == "3"
    assert page.locator("#gridmap-features path.leaflet-interactive").count() == 3
    page.locator("#gridmap-features path.leaflet-interactive").first.click()
    page.wait_for_url("**/collections/grids/items/*f=html", timeout=10_000)
    assert A in page.url
