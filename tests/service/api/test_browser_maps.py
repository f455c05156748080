"""Readable maps in a real browser (Debian's Chromium, every non-local request blocked):
short grid labels that never overlap, and a base of buildings and streets with no internet."""

from __future__ import annotations

import re
import shutil
import time

import pytest
from geoalchemy2.shape import from_shape
from shapely import LineString, MultiLineString, MultiPolygon, Point, box

from service.storage import models as m
from service.storage.session import make_engine, session_scope

from .browsing import local_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed"),
]

C = "520602001003"
X0, Y0, CELL, N = 109.200, 27.720, 0.00125, 8  # an 8 × 8 block of ~110 m × 140 m cells
STREETS = 2


def _cells() -> list[tuple[float, float, float]]:
    """``(x, y, size)`` of each grid: the cells, those on the diagonal split into four."""
    out = []
    for i in range(N * N):
        x, y = X0 + (i % N) * CELL, Y0 + (i // N) * CELL
        if i % (N + 1):
            out.append((x, y, CELL))
        else:
            half = CELL / 2
            out += [(x + dx, y + dy, half) for dx in (0, half) for dy in (0, half)]
    return out


CELLS = _cells()  # 56 cells and 32 quarters: 88 grids


def _mp(x0: float, y0: float, x1: float, y1: float):
    return from_shape(MultiPolygon([box(x0, y0, x1, y1)]), srid=4326)


def _seed_dense_community(url: str) -> None:
    """Community C east of the toy district: 88 small grids, one building each, two streets."""
    x1, y1 = X0 + N * CELL, Y0 + N * CELL
    engine = make_engine(url)
    with session_scope(engine) as s:
        s.add(m.Community(code=C, name="测试社区丙", subdistrict="测试街道", code_year=2023,
                          geom=_mp(X0, Y0, x1, y1)))  # fmt: skip
        s.flush()
        s.add(m.Plan(id=10, community_code=C, status="published", name="C v1"))
        s.flush()
        for i, (x, y, size) in enumerate(CELLS):
            grid = m.Grid(plan_id=10, code=f"{C}{i + 1:03d}", community_code=C,
                          households=300 + i, buildings=1, persons=0,
                          geom=_mp(x, y, x + size, y + size))  # fmt: skip
            s.add(grid)
            s.flush()
            cx, cy, w, h = x + size / 2, y + size / 2, size * 0.24, size * 0.16
            foot = box(cx - w, cy - h, cx + w, cy + h)
            s.add(m.Building(id=f"BC{i:03d}", code=f"{C}{i + 1:03d}00001", households=300 + i,
                             community_code=C, geom=from_shape(Point(cx, cy), srid=4326),
                             footprint=from_shape(MultiPolygon([foot]), srid=4326)))  # fmt: skip
            s.flush()
            s.add(m.GridBuilding(plan_id=10, building_id=f"BC{i:03d}", grid_id=grid.id))
        mid_x, mid_y = X0 + N / 2 * CELL, Y0 + N / 2 * CELL
        for sid, line in (("SC1", [(mid_x, Y0 - 0.001), (mid_x, y1 + 0.001)]),
                          ("SC2", [(X0 - 0.001, mid_y), (x1 + 0.001, mid_y)])):  # fmt: skip
            geom = from_shape(MultiLineString([LineString(line)]), srid=4326)
            s.add(m.Street(id=sid, name=None, geom=geom))
    engine.dispose()


@pytest.fixture
def dense_server(toy_url: str, live_server: str) -> str:
    _seed_dense_community(toy_url)
    return live_server


@pytest.fixture
def page():
    with local_page(viewport={"width": 1000, "height": 760}) as tab:
        yield tab


def _labels(page) -> list[dict]:
    """Every grid label: its text, whether shown, and its box on screen."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.gridmap-label-text')].map((el) => {
            const r = el.getBoundingClientRect();
            return {text: el.textContent, shown: getComputedStyle(el).visibility === 'visible',
                    x0: r.left, x1: r.right, y0: r.top, y1: r.bottom};
        })"""
    )


def _in_view(label: dict, page) -> bool:
    size = page.viewport_size
    return (
        label["x1"] > 0
        and label["y1"] > 0
        and label["x0"] < size["width"]
        and (label["y0"] < size["height"])
    )


def _overlaps(labels: list[dict]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]
    ]


def _open_community(page, server: str) -> None:
    page.goto(f"{server}/maps/communities/{C}")
    page.wait_for_selector(".folium-map[data-grids-drawn][data-base-drawn]", timeout=20_000)
    page.wait_for_timeout(200)


def test_grid_labels_are_short_and_never_overlap(dense_server, page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _open_community(page, dense_server)
    labels = _labels(page)
    assert len(labels) == len(CELLS)
    expected = sorted(f"第{i}网格" for i in range(1, len(CELLS) + 1))
    assert sorted(lab["text"] for lab in labels) == expected
    assert not any(re.search(r"\d{6,}", lab["text"]) for lab in labels)
    shown = [lab for lab in labels if lab["shown"]]
    assert _overlaps(shown) == []
    # At the whole-community zoom the quarters' labels do not fit: they wait for a closer zoom.
    assert len(CELLS) - 32 <= len(shown) < len(CELLS)
    # The tooltip carries the full code.
    page.locator(".leaflet-gridmap-grids-pane path.leaflet-interactive").first.hover()
    tip = page.locator(".leaflet-tooltip").last
    tip.wait_for(state="visible")
    assert re.search(rf"{C}\d{{3}}", tip.inner_text())
    assert errors == []


def test_zooming_in_shows_every_label_in_view_without_overlap(dense_server, page):
    _open_community(page, dense_server)
    before = [lab for lab in _labels(page) if lab["shown"]]
    page.evaluate("() => { const m = Object.values(window).find((v) => v instanceof L.Map);"
                  " m.setZoom(m.getZoom() + 2, {animate: false}); }")  # fmt: skip
    page.wait_for_timeout(400)
    labels = _labels(page)
    in_view = [lab for lab in labels if _in_view(lab, page)]
    shown = [lab for lab in labels if lab["shown"]]
    assert in_view and all(lab["shown"] for lab in in_view)
    assert _overlaps(shown) == []
    assert len(before) < len(CELLS)


def _painted_pixels(page, pane: str) -> int:
    return page.evaluate(
        """(pane) => {
            let n = 0;
            for (const c of document.querySelectorAll(`.leaflet-${pane}-pane canvas`)) {
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            }
            return n;
        }""",
        pane,
    )


def _painted_pixels_once(page, pane: str, settled, timeout_s: float = 10.0) -> int:
    """Painted pixels of ``pane`` once ``settled(n)`` holds (Leaflet repaints a canvas on the
    next animation frame, not at once), or the last count after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        n = _painted_pixels(page, pane)
        if settled(n) or time.monotonic() > deadline:
            return n
        page.wait_for_timeout(50)


def test_base_of_buildings_and_streets_draws_without_internet(dense_server, page):
    _open_community(page, dense_server)
    box_ = page.locator(".folium-map")
    assert box_.get_attribute("data-base-count") == str(len(CELLS) + STREETS)
    # Drawn on a canvas beneath the grids (the basemap tiles were blocked, not drawn).
    painted = _painted_pixels_once(page, "gridmap-base", lambda n: n > 20_000)
    assert painted > 20_000  # 88 footprints of ~30-60 m and two streets across
    assert any("openstreetmap" in url for url in page.context.blocked)
    assert page.locator(".leaflet-tile-loaded").count() == 0
    # The base is a layer one can switch off: the canvas then holds nothing.
    page.locator(".leaflet-control-layers label", has_text="底图").click()
    assert _painted_pixels_once(page, "gridmap-base", lambda n: n == 0) == 0


def test_district_map_draws_base_and_grid_outlines(dense_server, page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{dense_server}/maps")
    page.wait_for_selector(
        ".folium-map[data-base-drawn][data-communities-drawn][data-grid_outlines-drawn]",
        timeout=20_000,
    )
    box_ = page.locator(".folium-map")
    assert box_.get_attribute("data-grid_outlines-count") == str(3 + 2 + len(CELLS))
    assert _painted_pixels(page, "gridmap-base") > 0
    assert _painted_pixels(page, "gridmap-grid_outlines") > 0
    # Communities stay clickable through the non-interactive canvases above them.
    page.locator(".leaflet-gridmap-communities-pane path.leaflet-interactive").last.click()
    page.wait_for_url("**/maps/communities/*", timeout=10_000)
    assert errors == []
