"""Stored XSS (issue 12, item 9): an imported id holding markup is shown as text, never run.

Real browser (Debian's Chromium, Playwright), as in test_browser.py: the OGC HTML pages draw
features with ``static/gridmap/ogc.js``, whose tooltips take HTML; the Jinja tables escape.
"""

from __future__ import annotations

import shutil

import pytest
from geoalchemy2.shape import from_shape
from shapely import Point

from service.storage import models as m
from service.storage.session import make_engine, session_scope

from .conftest import A
from .test_browser import page  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed"),
]
EVIL = "<img src=x onerror=window.__xss=1>"


@pytest.fixture
def evil_building(toy_url: str) -> str:
    """A building whose id and name are markup, in the toy district."""
    engine = make_engine(toy_url)
    with session_scope(engine) as s:
        s.add(m.Building(id=EVIL, name=EVIL, community_code=A, households=1,
                         geom=from_shape(Point(109.1815, 27.7251), srid=4326)))  # fmt: skip
    engine.dispose()
    return EVIL


def test_markup_in_an_id_is_text_in_tooltips_and_tables(evil_building, live_server, page):  # noqa: F811
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/collections/buildings/items?f=html&limit=100")
    page.wait_for_selector("#gridmap-features[data-count]", timeout=15_000)
    assert page.locator("table").inner_text().count(EVIL) == 3  # id, building_id, name: as text
    shapes = page.locator("#gridmap-features path.leaflet-interactive")
    tips = []
    for i in range(shapes.count()):
        shapes.nth(i).hover(force=True)
        tip = page.locator(".leaflet-tooltip").last
        tip.wait_for(state="visible")
        tips.append(tip.inner_text())
    assert EVIL in tips  # the markup shown as text...
    assert page.locator(".leaflet-tooltip img").count() == 0  # ...not made into an element
    assert page.evaluate("window.__xss") is None
    assert not errors
