"""A header read timeout for ``gridmap serve``: slow clients cannot hold connections open.

uvicorn times out *idle* keep-alive connections (``timeout_keep_alive``) and caps the size of
an unfinished request head (``h11_max_incomplete_event_size``), but a client that opens a
connection and sends its request line and headers a byte at a time (slowloris) is waited for
forever. :func:`header_timeout_protocol` makes an h11 protocol class that closes a connection
whose request head is not complete within ``seconds`` of the connection opening (or of the
first byte of a following keep-alive request). Once the head is in, the request runs as usual;
large uploads are not cut off.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["header_timeout_protocol", "slow_client_limits", "MAX_HEAD_BYTES", "KEEP_ALIVE_S"]

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 16 * 1024
"""Largest request line + headers accepted (``h11_max_incomplete_event_size``)."""
KEEP_ALIVE_S = 5
"""Seconds an idle keep-alive connection is kept (``timeout_keep_alive``)."""


class _HeaderTimeoutH11Protocol(H11Protocol):
    header_timeout: float = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._between_requests():
            self._arm()  # the first bytes of a following request start its clock
        super().data_received(data)
        if not self._between_requests():
            self._disarm()  # the head is in: a request cycle has started

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._between_requests() and not self.transport.is_closing():
            log.info("Closed a connection that sent no complete request head in %s s",
                     self.header_timeout)  # fmt: skip
            self.transport.close()


def header_timeout_protocol(seconds: float) -> type[Any]:
    """An h11 protocol class for ``uvicorn.Config(http=...)`` with a ``seconds`` head timeout."""
    if seconds <= 0:
        raise ValueError("The header timeout must be positive.")
    return type("HeaderTimeoutH11Protocol", (_HeaderTimeoutH11Protocol,),
                {"header_timeout": float(seconds)})  # fmt: skip


def slow_client_limits(header_timeout_s: float) -> dict[str, Any]:
    """``uvicorn.run``/``uvicorn.Config`` keyword arguments that bound what slow clients hold."""
    return {"http": header_timeout_protocol(header_timeout_s), "timeout_keep_alive": KEEP_ALIVE_S,
            "h11_max_incomplete_event_size": MAX_HEAD_BYTES}  # fmt: skip
