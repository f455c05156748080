"""Helpers of the real-browser and live-server tests: one way to serve an app and open a page.

:func:`serving` runs an app under uvicorn in a thread and yields its base URL;
:func:`local_context` opens a Chromium context (Debian's ``chromium``, headless) in which every
non-local request is blocked and recorded in ``context.blocked``; :func:`chromium` launches
the browser itself; :func:`record` makes a page keep its requests and errors.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]  # fmt: skip
"""Arguments of the test Chromium (no sandbox in containers, no network of its own)."""
_LOCAL = ("127.0.0.1", "localhost")
_CSP = "Content Security Policy"
_START_S = 20.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app: Any, *, log_level: str = "warning", **options: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread (``options`` as for ``uvicorn.Config``); yield
    ``http://127.0.0.1:PORT``."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level=log_level,
                            **options)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_S
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start within {_START_S:.0f} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, launched by Playwright; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def local_context(browser: Any, **options: Any) -> Any:
    """A new context of ``browser`` (``options`` as for ``new_context``) that aborts every
    request to a host other than this one; the aborted URLs are in ``context.blocked``."""
    context = browser.new_context(**options)
    context.blocked = []

    def only_local(route: Any) -> None:
        if urlparse(route.request.url).hostname in _LOCAL:
            route.continue_()
        else:
            context.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    return context


@contextmanager
def local_page(**options: Any) -> Iterator[Any]:
    """A page of a fresh Chromium in a :func:`local_context`."""
    with chromium() as browser:
        yield local_context(browser, **options).new_page()


def record(tab: Any) -> Any:
    """Make ``tab`` keep ``tab.requests`` (URL, Authorization header) and ``tab.errors`` (page
    errors and Content-Security-Policy violations, which are console errors)."""
    tab.requests, tab.errors = [], []
    tab.on("request", lambda r: tab.requests.append((r.url, r.headers.get("authorization"))))
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    tab.on("console", lambda m: _CSP in m.text and tab.errors.append(m.text))
    return tab
