"""Security headers on every response, and no caching of anything personal.

:class:`SecurityHeaders` (pure ASGI middleware) adds

- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (URLs of staff pages
  never leave the site), ``X-Frame-Options: SAMEORIGIN``;
- a ``Content-Security-Policy``: for JSON, files and the rest ``default-src 'none'``; for HTML
  pages, scripts only from the app itself (``'self'``) plus the inline ``<script>`` elements the
  page was served with, each allowed by its SHA-256 hash (folium maps and ``/docs`` have inline
  scripts). Event-handler attributes (``onerror=``) and scripts a page inserts into itself later
  (DOM XSS) do not run; text put into HTML on the server must still be escaped (Jinja
  autoescape), since a ``<script>`` element in the served page would get a hash. Styles may be
  inline (Leaflet positions its panes with them); images may come from HTTPS tile servers;
  ``frame-ancestors 'self'`` keeps the pages out of other sites' frames;
- ``Cache-Control: no-store`` on answers that may hold personal data or credentials: every
  request with an ``Authorization`` header, ``/auth/…``, resident, archive and audit routes;
- ``Vary`` names ``Authorization`` on every answer to a request naming a ``plan_id`` (a hidden
  draft's 404, API error or map page, is its staff's 200), added to what the route varies on.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from service.api.middleware import HTTPMiddleware

__all__ = ["SecurityHeaders", "API_POLICY", "page_policy", "inline_script_hashes", "is_private"]

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""Content-Security-Policy of every answer that is not an HTML page."""
_PAGE_POLICY = (
    "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PRIVATE_PATH = re.compile(r"^/(auth/|audit\b|residents/|grids/[^/]+/(residents|archive))")
_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(rb"\bsrc\s*=", re.IGNORECASE)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP sources (``'sha256-…'``) of the inline ``<script>`` elements of ``html``, in order.

    >>> inline_script_hashes(b"<script>alert(1)</script><script src='/a.js'></script>")
    ["'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"]
    """
    out = []
    for attributes, body in _INLINE_SCRIPT.findall(html):
        if _SRC.search(attributes):
            continue
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
        out.append(f"'sha256-{digest}'")
    return list(dict.fromkeys(out))


def page_policy(hashes: Iterable[str]) -> str:
    """The Content-Security-Policy of an HTML page whose inline scripts have ``hashes``."""
    joined = "".join(f" {h}" for h in hashes)
    return _PAGE_POLICY.format(hashes=joined)


def is_private(scope: Scope) -> bool:
    """Whether the answer to this request must not be stored by any cache."""
    if any(name == b"authorization" for name, _ in scope.get("headers", ())):
        return True
    return bool(_PRIVATE_PATH.match(scope.get("path", "")))


class SecurityHeaders(HTTPMiddleware):
    """Add the security headers above to every HTTP response."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        private = is_private(scope)
        # A plan_id is answered by who asks (a draft: its staff only, 404 to others), 404s too.
        names_plan = b"plan_id=" in scope.get("query_string", b"")
        held: list[Message] = []  # the start of an HTML answer, then its body parts

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(_COMMON)
                if private:
                    headers.update(_NO_STORE)
                if names_plan:
                    _vary_on_authorization(headers)
                if headers.get("content-type", "").startswith("text/html"):
                    held.append(message)  # its policy depends on the body
                    return
                headers["Content-Security-Policy"] = API_POLICY
            elif held:
                held.append(message)
                if message.get("more_body", False):
                    return
                await _send_page(held, send)
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _vary_on_authorization(headers: MutableHeaders) -> None:
    """Add ``Authorization`` to the answer's ``Vary`` unless it is named already."""
    vary = headers.get("vary")
    if vary is None:
        headers["Vary"] = "Authorization"
    elif "authorization" not in (v.strip().lower() for v in vary.split(",")):
        headers["Vary"] = f"{vary}, Authorization"


async def _send_page(held: list[Message], send: Send) -> None:
    """Send a held HTML answer with the hashes of its inline scripts in its policy."""
    start, parts = held[0], held[1:]
    body = b"".join(part.get("body", b"") for part in parts)
    MutableHeaders(scope=start)["Content-Security-Policy"] = page_policy(inline_script_hashes(body))
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
