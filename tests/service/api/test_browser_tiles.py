"""The district map draws large layers from vector tiles, in a real browser (Debian's Chromium,
every non-local request blocked): Leaflet.VectorGrid served by the app fetches
``/collections/{buildings,grids}/tiles/WebMercatorQuad/{z}/{x}/{y}`` and paints what they hold.

The toy district is under the threshold, so its map keeps GeoJSON layers (no tile request)
until the threshold is lowered to 0.
"""

from __future__ import annotations

import re
import shutil

import pytest

from service.api.routes import maps as map_routes

from .test_browser_maps import _painted_pixels_once, page  # noqa: F401 (the page fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed"),
]
TILE = re.compile(r"/collections/(buildings|grids)/tiles/WebMercatorQuad/(\d+)/(\d+)/(\d+)$")
MVT = "application/vnd.mapbox-vector-tile"


def _open_district(page, server: str) -> tuple[list, list[str], list[str]]:  # noqa: F811
    tiles, data, errors = [], [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def seen(response):
        path = response.url.split("?")[0]
        if TILE.search(path):
            tiles.append((TILE.search(path).group(1), response.status, response.headers))
        elif "/maps/data/" in path:
            data.append(path.split("/maps/data/", 1)[1])  # e.g. grids.geojson, orders/grids.geojson

    page.on("response", seen)
    page.goto(f"{server}/maps?basemap=none")  # no request may leave the machine
    page.wait_for_selector(".folium-map[data-communities-drawn]", timeout=20_000)
    return tiles, data, errors


def test_district_map_draws_large_layers_from_tiles(live_server, page, monkeypatch):  # noqa: F811
    # Under the threshold (the toy district): GeoJSON layers, no tile.
    tiles, data, errors = _open_district(page, live_server)
    page.wait_for_selector(".folium-map[data-base-drawn][data-grid_outlines-drawn]", timeout=20_000)
    assert errors == [] and tiles == []
    assert {"base.geojson", "grids.geojson"} <= set(data)

    monkeypatch.setattr(map_routes, "TILE_THRESHOLD", 0)
    tiles, data, errors = _open_district(page, live_server)
    page.wait_for_selector(
        ".folium-map[data-base-tiles][data-grid_outlines-tiles][data-base-drawn]", timeout=20_000
    )
    page.wait_for_load_state("networkidle")
    assert errors == []
    assert page.context.blocked == []  # Leaflet.VectorGrid comes from the app, not a CDN
    for collection in ("buildings", "grids"):
        answers = [(status, h) for c, status, h in tiles if c == collection]
        assert answers, f"no {collection} tile requested"
        assert {status for status, _h in answers} <= {200, 204}
        assert any(s == 200 and h["content-type"] == MVT for s, h in answers), collection
    # Tiles instead of the whole district's GeoJSON: streets only, no buildings or grids file.
    assert "streets.geojson" in data
    assert "base.geojson" not in data and "grids.geojson" not in data
    container = page.locator(".folium-map")
    # The 5 published grids and 7 buildings (a feature across two tiles is drawn in each).
    assert int(container.get_attribute("data-grid_outlines-tile-features")) >= 5
    assert int(container.get_attribute("data-base-tile-features")) >= 7
    for pane in ("gridmap-grid_outlines", "gridmap-base"):
        assert _painted_pixels_once(page, pane, lambda n: n > 500) > 500, pane
