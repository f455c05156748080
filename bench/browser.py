"""Debian's Chromium through Playwright, with every request off 127.0.0.1 blocked (no internet).

Shared by ``bench/map_first_draw.py`` and ``scripts/screenshots.py``. Never a downloaded
browser: ``executable_path`` is the ``chromium`` on the PATH.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

__all__ = ["CHROMIUM_ARGS", "local_only_page", "wait_drawn"]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]  # fmt: skip


@contextmanager
def local_only_page(width: int = 1280, height: int = 860, scale: float = 1.0) -> Iterator[Any]:
    """Yield a Playwright page of Debian's Chromium that can reach only 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=scale
        )

        def only_local(route: Any) -> None:
            if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", only_local)
        try:
            yield context.new_page()
        finally:
            browser.close()


def wait_drawn(
    page: Any, keys: Sequence[str], timeout_ms: int = 60_000, what: str = "drawn"
) -> dict[str, int]:
    """Wait until every layer in ``keys`` has drawn; return, for each, ms since navigation
    (``what="drawn"``) or ms from its data's arrival to its paint (``what="draw-ms"``)."""
    selector = ".folium-map" + "".join(f"[data-{k}-drawn]" for k in keys)
    page.wait_for_selector(selector, timeout=timeout_ms, state="attached")
    box = page.locator(".folium-map")
    return {k: int(box.get_attribute(f"data-{k}-{what}")) for k in keys}
