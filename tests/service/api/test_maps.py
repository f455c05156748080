"""Map pages and their data endpoints on both backends: no CDN, no inlined data, GCJ-02 shift."""

from __future__ import annotations

import json
import re

import pytest

from gridmap.coords import wgs84_to_gcj02

from .conftest import PERSONAL_VALUES, A

PAGES = ["/maps", f"/maps/communities/{A}", f"/maps/grids/{A}002"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_assets_from_the_app_only(client, path):
    page = client.get(path)
    assert page.status_code == 200
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/") for s in sources)
    for src in sources:
        assert client.get(src).status_code == 200, src
    assert "cdn" not in page.text.lower() and "jquery" not in page.text.lower()
    assert '"coordinates"' not in page.text  # no feature inlined: the page fetches them
    assert len(page.content) < 30_000


def test_community_page_has_layers_legend_and_chinese_labels(client):
    text = client.get(f"/maps/communities/{A}").text
    assert f"/maps/data/communities/{A}/grids.geojson?offset=wgs84" in text
    assert f"/maps/data/communities/{A}/buildings.geojson" in text
    for label in ("网格", "楼栋", "网格编号", "户数", "网格员", "测试社区甲", "gridmapLegend("):
        assert _shown(label, text)
    english = client.get(f"/maps/communities/{A}", params={"lang": "en"}).text
    assert "Grid codes" in english and "Households" in english and "grid worker" in english
    assert not _shown("网格编号", english)


def _shown(label: str, text: str) -> bool:
    """Whether ``label`` is in the page as HTML text or as a JSON string in a script."""
    return label in text or json.dumps(label)[1:-1] in text


def test_amap_basemap_shifts_overlays_to_gcj02(client):
    text = client.get(f"/maps/communities/{A}", params={"basemap": "amap"}).text
    assert "autonavi.com" in text and "offset=gcj02" in text
    plain = client.get(f"/maps/data/communities/{A}/grids.geojson").json()
    shifted = client.get(f"/maps/data/communities/{A}/grids.geojson?offset=gcj02").json()
    x0, y0 = _first_position(plain["features"][0]["geometry"])
    x1, y1 = _first_position(shifted["features"][0]["geometry"])
    ex, ey = wgs84_to_gcj02(x0, y0)
    assert x1 == pytest.approx(float(ex), abs=2e-6) and y1 == pytest.approx(float(ey), abs=2e-6)


def test_basemap_none_has_no_tiles(client):
    text = client.get("/maps", params={"basemap": "none"}).text
    assert "L.tileLayer" not in text and "tile.openstreetmap.org" not in text


def test_grid_page_data_has_building_details(client):
    data = client.get(f"/maps/data/grids/{A}002/buildings.geojson").json()
    assert len(data["features"]) == 2
    props = data["features"][0]["properties"]
    assert {"floors", "units", "households", "label_lon", "label_lat"} <= set(props)


def test_district_data_is_simplified_and_rounded(client):
    data = client.get("/maps/data/communities.geojson").json()
    assert [f["id"] for f in data["features"]] == [A, "520602001002"]
    x, y = _first_position(data["features"][0]["geometry"])
    assert len(repr(x).split(".")[-1]) <= 6 and len(repr(y).split(".")[-1]) <= 6


def _first_position(geometry):
    coords = geometry["coordinates"]
    while isinstance(coords[0], list):
        coords = coords[0]
    return coords


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/maps/communities/520602001999", "Community '520602001999' not found."),
        ("/maps/grids/520602001001999", "Grid '520602001001999' not found in any published plan."),
        (f"/maps/communities/{A}?plan_id=42", "Plan 42 not found."),
    ],
)
def test_missing_pages_are_404(client, path, detail):
    response = client.get(path)
    assert response.status_code == 404 and response.json() == {"detail": detail}


# --------------------------------------------------------------------------- labels and base


def test_grid_data_has_short_sequence_and_label_room(client):
    import shapely
    from shapely.geometry import shape

    data = client.get(f"/maps/data/communities/{A}/grids.geojson").json()
    by_id = {f["id"]: f for f in data["features"]}
    assert {code: f["properties"]["grid_seq"] for code, f in by_id.items()} == {
        f"{A}001": "001",
        f"{A}002": "002",
        f"{A}003": "003",
    }
    for feature in data["features"]:
        props, grid = feature["properties"], shape(feature["geometry"])
        label = shapely.Point(props["label_lon"], props["label_lat"])
        assert grid.contains(label)
        # The strip is ~330 m wide and 1.1 km tall: the label sits on its middle line, with
        # half the width as room (metres), not at an arbitrary point on the surface.
        x0, _, x1, _ = grid.bounds
        assert props["label_lon"] == pytest.approx((x0 + x1) / 2, abs=2e-5)
        assert props["label_r"] == pytest.approx((x1 - x0) / 2 * 111_320 * 0.8855, rel=0.03)


def test_grid_page_names_the_grid_by_sequence_and_full_code(client):
    text = client.get(f"/maps/grids/{A}002").text
    assert f"第2网格 {A}002" in text
    assert f"Grid 002 {A}002" in client.get(f"/maps/grids/{A}002?lang=en").text


def test_base_layer_holds_geometry_only(client):
    data = client.get(f"/maps/data/communities/{A}/base.geojson").json()
    layers = [f["properties"] for f in data["features"]]
    assert layers == [{"layer": "building"}] * 6  # 2 buildings in each of A's 3 grids
    kinds = sorted(f["geometry"]["type"] for f in data["features"])
    assert kinds == ["Point"] * 3 + ["Polygon"] * 3  # footprints where stored, else the point
    district = client.get("/maps/data/base.geojson").json()
    assert len(district["features"]) == 8  # A's 6 and B's 2
    for personal in PERSONAL_VALUES:
        assert personal not in json.dumps(district, ensure_ascii=False)


def test_pages_fetch_the_base_layer(client):
    assert "/maps/data/base.geojson?offset=wgs84" in client.get("/maps").text
    assert "/maps/data/grids.geojson?offset=wgs84" in client.get("/maps").text
    community = client.get(f"/maps/communities/{A}?basemap=amap").text
    assert f"/maps/data/communities/{A}/base.geojson?offset=gcj02" in community
    assert f"/maps/data/communities/{A}/base.geojson" in client.get(f"/maps/grids/{A}001").text
    grids = client.get("/maps/data/grids.geojson").json()["features"]
    # A's 3 and B's 2 published grids; A's draft (2 grids) is not on the district map.
    assert [f["properties"] for f in grids] == [{"layer": "grid"}] * 5


# --------------------------------------------------------------------------- missing Leaflet


@pytest.fixture
def client_without_vendor(toy_url, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from service import assets
    from service.api.main import create_app
    from service.settings import Settings

    monkeypatch.setattr(assets, "VENDOR_DIR", tmp_path / "no-vendor")
    monkeypatch.setattr(assets, "NODE_MODULES", tmp_path / "no-node-modules")
    with TestClient(create_app(Settings(database_url=toy_url))) as test_client:
        yield test_client


def test_missing_vendor_folder_is_404_and_the_page_says_what_to_do(client_without_vendor):
    client = client_without_vendor
    for path in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css"):
        assert client.get(path).status_code == 404
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200
        assert 'class="gridmap-missing"' in page.text
        assert "npm ci" in page.text and "Leaflet" in page.text
    english = client.get(PAGES[1], params={"lang": "en"}).text
    assert "The map cannot be drawn" in english
    # The small maps of the OGC API HTML pages say so too.
    for path in ("/collections/grids/items", f"/collections/grids/items/{A}001"):
        text = client.get(path, params={"f": "html"}).text
        assert 'class="gridmap-missing"' in text and "npm ci" in text
    assert client.get("/static/gridmap/map.js").status_code == 200


def test_installed_vendor_pages_have_no_missing_notice(client):
    assert "gridmap-missing" not in client.get(PAGES[1]).text
    assert "gridmap-missing" not in client.get("/collections/grids/items?f=html").text
