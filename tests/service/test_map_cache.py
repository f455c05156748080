"""Rendered map pages are reused for identical arguments and rebuilt when anything changes."""

from __future__ import annotations

from service import maps


def _page(title: str) -> maps.MapPage:
    return maps.MapPage(title=title, bounds=(109.18, 27.70, 109.21, 27.74))


def _layer(breaks: list[float]) -> maps.DataLayer:
    return maps.DataLayer(
        key="grids", name="网格", url="/maps/data/x.geojson", fields=[], breaks=breaks
    )


def test_identical_arguments_reuse_the_rendered_page(monkeypatch):
    calls = []
    real = maps._render_map
    monkeypatch.setattr(maps, "_render_map", lambda *a: calls.append(a) or real(*a))
    maps._page_cache.clear()
    first = maps.render_map(_page("广场社区"), [_layer([300, 500])])
    again = maps.render_map(_page("广场社区"), [_layer([300, 500])])
    assert again == first and len(calls) == 1


def test_any_changed_argument_renders_anew(monkeypatch):
    maps._page_cache.clear()
    base = maps.render_map(_page("广场社区"), [_layer([300, 500])])
    other_title = maps.render_map(_page("南门社区"), [_layer([300, 500])])
    other_breaks = maps.render_map(_page("广场社区"), [_layer([300, 450])])
    assert "南门社区" in other_title and "南门社区" not in base
    assert other_breaks != base and len(maps._page_cache) == 3


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(maps, "PAGE_CACHE_SIZE", 2)
    maps._page_cache.clear()
    for title in ("a", "b", "c"):
        maps.render_map(_page(title), [])
    assert len(maps._page_cache) == 2
