"""Request limits: body size (pure ASGI middleware, 413) and per-user rates (429).

Declared ``Content-Length`` is checked before the app runs; chunked bodies are counted as they
stream and cut off at the limit. :class:`RateLimiter` counts calls per key (a user name) in a
sliding window, in memory: one limiter per app and process.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

__all__ = ["BodySizeLimit", "RateLimiter", "SEARCHES_PER_MINUTE"]

SEARCHES_PER_MINUTE = 20
"""Resident searches a user may make per minute (each one can test a name, ID number or phone)."""

Scope = dict[str, Any]


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Reject HTTP requests whose body exceeds ``max_bytes`` with ``413`` and a JSON detail."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._reject(send)
            return
        received = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send: Any) -> None:
        body = json.dumps(
            {"detail": f"Request body larger than {self.max_bytes} bytes; send a smaller file."}
        ).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """At most ``max_calls`` per key in any ``window_s`` seconds (sliding window, thread-safe)."""

    def __init__(
        self, max_calls: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_calls = max_calls
        self.window_s = window_s
        self._clock = clock
        self._calls: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count a call of ``key``; ``None`` if allowed, else the seconds to wait (Retry-After)."""
        now = self._clock()
        with self._lock:
            calls = self._calls[key]
            while calls and calls[0] <= now - self.window_s:
                calls.popleft()
            if len(calls) >= self.max_calls:
                return max(1, math.ceil(calls[0] + self.window_s - now))
            calls.append(now)
            return None
