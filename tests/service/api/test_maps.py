"""Map pages and their data endpoints on both backends: no CDN, no inlined data, GCJ-02 shift."""

from __future__ import annotations

import json
import re

import pytest

from gridmap.coords import wgs84_to_gcj02

from .conftest import A

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
