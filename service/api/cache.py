"""Published layers rendered once: ``ETag``, ``Last-Modified``, 304, gzip and brotli, in one place.

A published plan never changes, and neither does anything public until the next commit of
public data (a publish, an import, building edits): the store's *revision*
(:mod:`service.storage.revision`), a random token that every such commit replaces. A public
answer is therefore rendered once per URL and revision, kept with its gzip and brotli
encodings in a per-process cache bounded in bytes (:class:`ResponseCache`), and served with

- ``ETag: "<hash of URL and revision>"`` (``-gzip`` / ``-br`` appended for those encodings:
  strong tags differ between encodings) and ``Last-Modified`` (the revision's commit time);
- 304 Not Modified when ``If-None-Match`` names the tag (in any encoding), or, without
  ``If-None-Match``, when ``If-Modified-Since`` is not older than ``Last-Modified``;
- ``Content-Encoding: br`` or ``gzip`` as ``Accept-Encoding`` allows (brotli preferred);
- ``Cache-Control: public, no-cache`` (any cache may keep it, and revalidates it: a publish
  shows at once) and ``Vary: Accept-Encoding`` (``, Authorization`` when the URL names a
  ``plan_id``: who asks decides whether a draft is answered).

Anything not public is never kept: a draft or superseded plan's layer (``plan_id`` of a plan
that is not published) is rendered per request with ``Cache-Control: private, no-store`` and
no ``ETag``; :class:`~service.api.headers.SecurityHeaders` makes every answer to a request
with an ``Authorization`` header ``no-store`` (shared caches never see personal answers).

Several worker processes each keep their own cache; they agree because the key is the
store's revision, checked *before* the data is read (a commit seen by any worker is a new key
for all), and the tags are computed from the URL and revision, not from the bytes. The revision
is kept in the process (:class:`~service.storage.revision.RevisionWatch`, ``app.state.
revision_watch``: a PostgreSQL notification or SQLite's ``data_version`` says when it changed),
so a request that is answered from the cache opens no database transaction.

:class:`CachedAnswers` (a middleware) answers a request whose public answer is kept before
routing, dependencies and the session: the same bytes and headers as the route would send,
304s included. It serves only what a route answered from the cache for the very same request
(address, ``Host``, the headers the route varies on) under the current revision, and never a
request with an ``Authorization`` header.

Using it in a route (the vector tiles route, say)::

    from service.api.cache import cached_response

    @router.get("/collections/{collection_id}/tiles/WebMercatorQuad/{z}/{x}/{y}")
    def tile(request: Request, session: SessionDep, collection_id: str, z: int, x: int,
             y: int, plan_id: VisiblePlan) -> Response:
        return cached_response(
            request, session,
            render=lambda: render_tile(session, collection_id, z, x, y, plan_id),  # bytes
            media_type="application/vnd.mapbox-vector-tile",
            plan_id=plan_id,  # None: the published plans
        )

``render`` runs only on a miss (once per key even when many requests miss together) and may
raise (a 404 is not kept); ``empty_status=204`` answers an empty body with 204 No Content.
The key is the request's address (host, path, sorted query string;
``key=`` to choose another). For answers too large to keep (a province's buildings),
:func:`streamed_response` gives the same tags, 304s and encodings to a body streamed in
chunks. The app creates the cache (``app.state.response_cache``, ``GRIDMAP_RESPONSE_CACHE_MB``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import gzip
import hashlib
import threading
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import brotli
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from service.storage.models import Plan
from service.storage.revision import Revision, RevisionWatch, read_revision

__all__ = [
    "ResponseCache",
    "CachedAnswers",
    "answer_before_routing",
    "cached_response",
    "published_response",
    "streamed_response",
    "current_revision",
    "public_revision_time",
    "choose_encoding",
    "PUBLIC",
    "PRIVATE",
]

PUBLIC = "public, no-cache"
"""Cache-Control of a public layer: storable by any cache, revalidated (ETag) before use."""
PRIVATE = "private, no-store"
"""Cache-Control of a draft's layer: never stored."""
GZIP_LEVEL, BROTLI_QUALITY = 6, 5  # rendered once: compress well; br 5 beats gzip 9, fast
_STREAM_BROTLI_QUALITY = 4
_ENCODINGS = ("br", "gzip")
_STRIPES = 64
_MAX_ADDRESSES = 16_384
"""Requests remembered for :class:`CachedAnswers` (all forgotten at once beyond it)."""
_ADDRESS = "gridmap.cache_address"  # scope key: the address CachedAnswers computed


@dataclass
class _Entry:
    body: bytes
    media_type: str
    headers: dict[str, str]
    encoded: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    """200, or the ``empty_status`` of an empty body (204 for an empty tile)."""
    validity: _Validity | None = None
    """The tag, revision and Vary of the answer (set when kept)."""
    _raw: dict[str, list[tuple[bytes, bytes]]] = field(default_factory=dict)
    """The answer's headers per coding, built once."""

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(b) for b in self.encoded.values())


class ResponseCache:
    """Rendered bodies (with their encodings) by key, least recently used first out.

    Bounded by ``max_bytes`` (bodies and encodings); an entry larger than half of it is not
    kept. Thread-safe: routes run in worker threads, and concurrent misses of one key render
    it once (the others wait for it).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._addresses: dict[tuple[Any, ...], tuple[str, str]] = {}
        self.vary_names: tuple[bytes, ...] = ()
        """Request headers some kept answer varies on (besides the negotiated encoding)."""

    @property
    def size(self) -> int:
        """Bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> _Entry | None:
        """The entry of ``key`` (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: _Entry) -> None:
        """Keep ``entry`` under ``key``, evicting the least recently used beyond the bound."""
        if entry.size > self.max_bytes // 2:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes += entry.size - (old.size if old else 0)
            self._entries[key] = entry
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    def get_or_render(self, key: str, render: Callable[[], _Entry]) -> _Entry:
        """The entry of ``key``; on a miss ``render()`` it (once for concurrent misses)."""
        entry = self.get(key)
        if entry is not None:
            return entry
        with self._stripes[hash(key) % _STRIPES]:
            entry = self.get(key)
            if entry is None:
                entry = render()
                self.put(key, entry)
            return entry

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._addresses.clear()
            self._bytes = 0

    def remember(self, address: tuple[Any, ...], key: str, token: str) -> None:
        """Note that a request at ``address`` is answered by the entry ``key`` at ``token``."""
        if len(self._addresses) >= _MAX_ADDRESSES:
            self._addresses.clear()
        self._addresses[address] = (key, token)

    def recall(self, address: tuple[Any, ...], token: str) -> _Entry | None:
        """The entry answering a request at ``address`` at revision ``token``, if kept."""
        found = self._addresses.get(address)
        if found is None or found[1] != token:
            return None
        return self.get(found[0])

    def add_vary(self, names: Iterable[str]) -> bool:
        """Vary on ``names`` too; False if one of them was new (addresses computed so far
        lack it)."""
        wanted = {n.lower().encode("latin-1") for n in names} - {b"accept-encoding",
                                                                  b"authorization"}  # fmt: skip
        if wanted <= set(self.vary_names):
            return True
        self.vary_names = tuple(sorted({*self.vary_names, *wanted}))
        return False


# --------------------------------------------------------------------------- negotiation


@functools.lru_cache(maxsize=256)
def choose_encoding(accept_encoding: str | None) -> str:
    """``"br"``, ``"gzip"`` or ``"identity"``: the best coding ``Accept-Encoding`` allows.

    >>> choose_encoding("gzip, deflate, br"), choose_encoding("br;q=0, gzip"), choose_encoding("")
    ('br', 'gzip', 'identity')
    """
    weights: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        name, _, params = part.strip().partition(";")
        if not name:
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[name.strip().lower()] = weight
    star = weights.get("*", 0.0)
    best = max(_ENCODINGS, key=lambda c: weights.get(c, star))  # br first on a tie
    return best if weights.get(best, star) > 0 else "identity"


def _encode(body: bytes, coding: str) -> bytes:
    if coding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY)
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def _compressible(media_type: str) -> bool:
    """Text-like types; not zip or Parquet (compressed inside already)."""
    packed = "zip" in media_type or "parquet" in media_type
    return media_type.startswith(("text/", "application/")) and not packed


# --------------------------------------------------------------------------- validators


def current_revision(request: Request, session: Session) -> Revision:
    """The store's revision, read once per request (before any data: see the module doc)."""
    revision = getattr(request.state, "gridmap_revision", None)
    if revision is None:
        watch: RevisionWatch | None = getattr(request.app.state, "revision_watch", None)
        revision = watch.current() if watch is not None else None
        if revision is None:
            revision = read_revision(session)
        request.state.gridmap_revision = revision
    return revision


def public_revision_time(
    request: Request, session: Session, plan_id: int | None
) -> dt.datetime | None:
    """When the store's public data last changed, if the answer is public (None for a draft's):
    a time to write into a kept file instead of the time of writing."""
    if not _is_public(session, plan_id):
        return None
    return current_revision(request, session).changed_at


def _is_public(session: Session, plan_id: int | None) -> bool:
    if plan_id is None:
        return True
    plan = session.get(Plan, plan_id)
    return plan is not None and plan.status == "published"


def _request_key(request: Request) -> str:
    """Scheme, host, root path, path and sorted query: bodies may hold absolute links."""
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
    return f"{str(request.base_url).rstrip('/')}{request.url.path}?{query}"


def _tag(key: str, revision: Revision) -> str:
    return hashlib.blake2b(f"{key}\n{revision.token}".encode(), digest_size=12).hexdigest()


def _etag(base: str, coding: str) -> str:
    return f'"{base}"' if coding == "identity" else f'"{base}-{coding}"'


def _matches(if_none_match: str, base: str) -> bool:
    """Whether ``If-None-Match`` names ``base`` in any encoding (weak comparison)."""
    for tag in if_none_match.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag == "*" or tag in (base, f"{base}-gzip", f"{base}-br"):
            return True
    return False


def _not_modified(
    if_none_match: str | None, since: str | None, base: str, revision: Revision
) -> bool:
    if if_none_match is not None:
        return _matches(if_none_match, base)
    if since is None or revision.changed_at is None:
        return False
    try:
        return revision.changed_at <= email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class _Validity:
    """What the headers of one answer say: its tag (None: private), revision and Vary."""

    base: str | None
    revision: Revision | None
    vary: str

    def headers(self, coding: str) -> dict[str, str]:
        out = {"Vary": self.vary}
        if self.base is None:
            out["Cache-Control"] = PRIVATE
            return out
        out["Cache-Control"] = PUBLIC
        out["ETag"] = _etag(self.base, coding)
        changed = self.revision.changed_at if self.revision is not None else None
        if changed is not None:
            out["Last-Modified"] = email.utils.format_datetime(changed, usegmt=True)
        return out


def _validity(
    request: Request, session: Session, plan_id: int | None, vary: tuple[str, ...], key: str | None
) -> tuple[_Validity, str]:
    """The answer's validity and its cache key (public: URL and revision; private: "")."""
    fields = ("Accept-Encoding", *vary, *(("Authorization",) if plan_id is not None else ()))
    if not _is_public(session, plan_id):
        return _Validity(None, None, ", ".join(fields)), ""
    revision = current_revision(request, session)
    cache_key = key or _request_key(request)
    return _Validity(_tag(cache_key, revision), revision, ", ".join(fields)), cache_key


def _not_modified_response(
    validity: _Validity, coding: str, if_none_match: str | None, since: str | None
) -> Response | None:
    if validity.base is None or validity.revision is None:
        return None
    if not _not_modified(if_none_match, since, validity.base, validity.revision):
        return None
    return Response(status_code=304, headers=validity.headers(coding))


def _negotiate(
    request: Request,
    session: Session,
    media_type: str,
    plan_id: int | None,
    vary: tuple[str, ...],
    key: str | None,
) -> tuple[str, _Validity, str, Response | None]:
    """The coding, validity and cache key of an answer, and its 304 when the client has it."""
    coding = choose_encoding(request.headers.get("accept-encoding"))
    validity, cache_key = _validity(request, session, plan_id, vary, key)
    if validity.base is not None and not _compressible(media_type):
        coding = "identity"
    headers = request.headers
    not_modified = _not_modified_response(
        validity, coding, headers.get("if-none-match"), headers.get("if-modified-since")
    )
    return coding, validity, cache_key, not_modified


# --------------------------------------------------------------------------- responses


def cached_response(
    request: Request,
    session: Session,
    *,
    render: Callable[[], bytes | str],
    media_type: str,
    plan_id: int | None = None,
    headers: dict[str, str] | None = None,
    vary: tuple[str, ...] = (),
    key: str | None = None,
    empty_status: int | None = None,
) -> Response:
    """The body ``render()`` makes, rendered once per key and revision when public.

    ``plan_id``: the plan the answer shows (None: the published plans); the answer is public
    when it is None or a published plan. ``headers`` (``Content-Disposition`` …) are sent
    with the body and kept with it; ``vary`` names further request headers the answer
    depends on (``("Accept",)`` where it may be HTML instead). ``empty_status``: the status
    of an empty body (no content, no encoding), e.g. 204.
    """
    coding, validity, cache_key, not_modified = _negotiate(
        request, session, media_type, plan_id, vary, key
    )
    if validity.base is None:
        entry = _make_entry(render, media_type, headers, (coding,), empty_status)
        return _send(entry, coding, validity)
    if not_modified is not None:
        return not_modified
    cache: ResponseCache = request.app.state.response_cache
    token = validity.revision.token if validity.revision else ""
    entry_key = f"{cache_key}\n{token}"

    def make() -> _Entry:
        body = render()
        # An answer the cache will not keep is encoded only as this request asks.
        kept = len(body) <= cache.max_bytes // 2
        codings = _ENCODINGS if kept else (coding,)
        return _make_entry(lambda: body, media_type, headers, codings, empty_status, validity)

    entry = cache.get_or_render(entry_key, make)
    _remember(request, cache, vary, entry, entry_key)
    return _send(entry, coding, validity)


def _remember(
    request: Request, cache: ResponseCache, vary: tuple[str, ...], entry: _Entry, key: str
) -> None:
    """Let :class:`CachedAnswers` answer this very request from ``entry`` from now on."""
    address = request.scope.get(_ADDRESS)
    validity = entry.validity
    revision = validity.revision if validity is not None else None
    if address is not None and revision is not None and cache.add_vary(vary):
        cache.remember(address, key, revision.token)


async def published_response(
    request: Request,
    *,
    render: Callable[[], Awaitable[bytes]],
    media_type: str,
    empty_status: int | None = None,
) -> Response | None:
    """:func:`cached_response` of published data (no ``plan_id``, no ``vary``) rendered by a
    coroutine, on the event loop; None when the revision cannot be checked without the
    database here (then use :func:`cached_response`). Concurrent misses may render twice."""
    watch: RevisionWatch | None = getattr(request.app.state, "revision_watch", None)
    revision = watch.current(wait=False) if watch is not None else None  # the event loop
    if revision is None:
        return None
    request.state.gridmap_revision = revision
    coding = choose_encoding(request.headers.get("accept-encoding"))
    if not _compressible(media_type):
        coding = "identity"
    cache_key = _request_key(request)
    validity = _Validity(_tag(cache_key, revision), revision, "Accept-Encoding")
    headers = request.headers
    not_modified = _not_modified_response(
        validity, coding, headers.get("if-none-match"), headers.get("if-modified-since")
    )
    if not_modified is not None:
        return not_modified
    cache: ResponseCache = request.app.state.response_cache
    entry_key = f"{cache_key}\n{revision.token}"
    entry = cache.get(entry_key)
    if entry is None:
        body = await render()
        codings = _ENCODINGS if len(body) <= cache.max_bytes // 2 else (coding,)
        entry = _make_entry(lambda: body, media_type, None, codings, empty_status, validity)
        cache.put(entry_key, entry)
    _remember(request, cache, (), entry, entry_key)
    return _send(entry, coding, validity)


def _make_entry(
    render: Callable[[], bytes | str],
    media_type: str,
    headers: dict[str, str] | None,
    codings: Iterable[str],
    empty_status: int | None = None,
    validity: _Validity | None = None,
) -> _Entry:
    body = render()
    data = body.encode("utf-8") if isinstance(body, str) else body
    entry = _Entry(data, media_type, dict(headers or {}), validity=validity)
    if not data and empty_status is not None:
        entry.status = empty_status
    elif _compressible(media_type):  # even small bodies: the tag of each encoding is then known
        entry.encoded = {c: _encode(data, c) for c in codings if c != "identity"}
    return entry


class _Prebuilt(Response):
    """A response of bytes and headers made before (no content-type or length worked out)."""

    def __init__(self, body: bytes, status_code: int, raw_headers: list[tuple[bytes, bytes]]):
        self.body = body
        self.status_code = status_code
        self.background = None
        self.raw_headers = raw_headers


def _send(entry: _Entry, coding: str, validity: _Validity) -> Response:
    """``entry`` in ``coding`` if it has that encoding (text-like types), else as it is."""
    if coding not in entry.encoded:
        coding = "identity"
    body = entry.encoded.get(coding, entry.body) if entry.status == 200 else b""
    if validity is not entry.validity and validity != entry.validity:  # a draft's: not kept
        return _response(entry, coding, body, validity)
    raw = entry._raw.get(coding)
    if raw is None:
        raw = entry._raw[coding] = _response(entry, coding, body, validity).raw_headers
    return _Prebuilt(body, entry.status, list(raw))  # a copy: middlewares add to it


def _response(entry: _Entry, coding: str, body: bytes, validity: _Validity) -> Response:
    if entry.status != 200:  # no body: only the validators
        return Response(status_code=entry.status, headers=validity.headers(coding))
    headers = {**entry.headers, **validity.headers(coding)}
    if coding != "identity":
        headers["Content-Encoding"] = coding
    return Response(body, media_type=entry.media_type, headers=headers)


def streamed_response(
    request: Request,
    session: Session,
    *,
    stream: Callable[[], Iterator[bytes]],
    media_type: str,
    plan_id: int | None = None,
    headers: dict[str, str] | None = None,
    vary: tuple[str, ...] = (),
    key: str | None = None,
) -> Response:
    """Like :func:`cached_response` for a body too large to keep: ``stream()`` yields it.

    The tags and 304s are the same (they need no body); the body is compressed on the fly
    when the client takes it and the media type is text-like.
    """
    coding, validity, _, not_modified = _negotiate(request, session, media_type, plan_id, vary,
                                                   key)  # fmt: skip
    if not_modified is not None:
        return not_modified
    if not _compressible(media_type):
        coding = "identity"
    out = {**(headers or {}), **validity.headers(coding)}
    if coding != "identity":
        out["Content-Encoding"] = coding
    return StreamingResponse(_compressed(stream(), coding), media_type=media_type, headers=out)


def _compressed(chunks: Iterator[bytes], coding: str) -> Iterator[bytes]:
    if coding == "identity":
        yield from chunks
        return
    compressor: Any = (
        brotli.Compressor(quality=_STREAM_BROTLI_QUALITY)
        if coding == "br"
        else zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    )
    for chunk in chunks:
        out = compressor.process(chunk) if coding == "br" else compressor.compress(chunk)
        if out:
            yield out
    yield compressor.finish() if coding == "br" else compressor.flush()


# --------------------------------------------------------------------------- before routing


EarlyAnswer = Callable[[Scope, Receive, Send], Awaitable[bool]]
_EARLY_ANSWERS: list[EarlyAnswer] = []


def answer_before_routing(handler: EarlyAnswer) -> EarlyAnswer:
    """Let ``handler`` answer public GETs that :class:`CachedAnswers` has not kept, before
    routing (a decorator). It gets only requests without ``Authorization``; it returns True
    when it answered, False (having sent nothing) to leave the request to the routes. For a
    route whose public answer is cheap to make on the event loop (a published vector tile)
    but costly to route: FastAPI's matching and dependencies cost ~0.3 ms of CPU a request."""
    if handler not in _EARLY_ANSWERS:
        _EARLY_ANSWERS.append(handler)
    return handler


class CachedAnswers:
    """Answer a GET whose public answer is kept, before routing (ASGI middleware).

    A route answering from the cache (:func:`cached_response`) notes the request's address:
    scheme, ``Host``, path, query string as sent, and the values of the request headers kept
    answers vary on (``Accept``). The next GET at that address, without ``Authorization``, is
    answered here with the kept bytes in the encoding it accepts, or 304, while the store's
    revision is the one the answer was kept at (checked with the app's
    :class:`~service.storage.revision.RevisionWatch`); anything else goes to the handlers of
    :func:`answer_before_routing`, then to the route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        cache: ResponseCache = state.response_cache
        wanted = cache.vary_names
        accept_encoding = if_none_match = since = host = None
        varying: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name == b"authorization":
                await self.app(scope, receive, send)  # never answered here, never noted
                return
            if name == b"accept-encoding":
                accept_encoding = value
            elif name == b"if-none-match":
                if_none_match = value
            elif name == b"if-modified-since":
                since = value
            elif name == b"host":
                host = value
            if name in wanted:
                varying[name] = varying.get(name, b"") + b"\n" + value
        server = scope.get("server")
        address = (scope["scheme"], host, server and tuple(server), scope.get("root_path", ""),
                   scope["path"], scope["query_string"],
                   *((n, varying.get(n)) for n in wanted))  # fmt: skip
        watch: RevisionWatch | None = getattr(state, "revision_watch", None)
        revision = watch.current(wait=False) if watch is not None else None  # the event loop
        entry = cache.recall(address, revision.token) if revision is not None else None
        validity = entry.validity if entry is not None else None
        if entry is None or validity is None:
            scope[_ADDRESS] = address
            for early in _EARLY_ANSWERS:
                if await early(scope, receive, send):
                    return
            await self.app(scope, receive, send)
            return
        coding = choose_encoding(accept_encoding.decode("latin-1") if accept_encoding else None)
        if not _compressible(entry.media_type):
            coding = "identity"
        response = _not_modified_response(
            validity,
            coding,
            if_none_match.decode("latin-1") if if_none_match is not None else None,
            since.decode("latin-1") if since is not None else None,
        ) or _send(entry, coding, validity)
        await response(scope, receive, send)
