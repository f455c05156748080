"""Real browser: Debian's Chromium (headless, Playwright) with every non-local request blocked."""

from __future__ import annotations

import shutil

import pytest

from .browsing import local_page
from .conftest import A

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed"),
]
GRIDS = [f"{A}001", f"{A}002", f"{A}003"]


@pytest.fixture
def page():
    with local_page() as tab:
        yield tab


def test_community_map_draws_one_polygon_per_grid_with_tooltips(live_server, page):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/maps/communities/{A}")
    page.wait_for_selector(".folium-map[data-grids-count]", timeout=15_000)
    polygons = page.locator(".leaflet-gridmap-grids-pane path.leaflet-interactive")
    assert polygons.count() == len(GRIDS)
    labels = page.locator(".gridmap-label").all_inner_texts()
    assert sorted(labels) == ["第1网格", "第2网格", "第3网格"]  # the full code is in the tooltip
    tooltips = {}
    for i in range(polygons.count()):
        polygons.nth(i).hover()
        tip = page.locator(".leaflet-tooltip").last
        tip.wait_for(state="visible")
        text = tip.inner_text()
        code = next(c for c in GRIDS if c in text)
        tooltips[code] = text
    assert sorted(tooltips) == GRIDS
    assert "张三" in tooltips[f"{A}001"] and "网格员" in tooltips[f"{A}001"]
    assert "520" in tooltips[f"{A}003"]
    assert "13800001111" not in page.content()
    assert errors == []
    # The OSM basemap tiles were requested and blocked, yet the grids drew.
    assert any("openstreetmap" in url for url in page.context.blocked)


def test_click_looks_up_the_grid_and_its_staff(live_server, page):
    page.goto(f"{live_server}/maps/communities/{A}?lang=en&basemap=none")
    page.wait_for_selector(".folium-map[data-grids-count]", timeout=15_000)
    polygons = page.locator(".leaflet-gridmap-grids-pane path.leaflet-interactive")
    box = polygons.first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=10_000)
    text = popup.inner_text()
    assert "测试社区甲" in text and any(code in text for code in GRIDS)


def test_a_page_asks_the_app_for_nothing_it_lacks_its_icon_included(live_server, page):
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(f"{live_server}/maps/communities/{A}?basemap=none")
    page.wait_for_selector(".folium-map[data-grids-count]", timeout=15_000)
    icon = page.request.get(f"{live_server}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/svg+xml"
    page.wait_for_timeout(500)  # the browser's own request for the icon, after the page
    assert failed == []
