"""``gridmap serve``: a slowloris connection is closed; complete requests still work."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from service.api.slow_clients import header_timeout_protocol, slow_client_limits
from tests.service.api.browsing import serving

HEAD_TIMEOUT_S = 0.5


async def _hello(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture
def server() -> Iterator[int]:
    with serving(_hello, lifespan="off", **slow_client_limits(HEAD_TIMEOUT_S)) as base:
        yield int(base.rsplit(":", 1)[1])


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes ``sock`` (recv gives EOF) within a generous 15 s."""
    sock.settimeout(15)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_connection_that_never_finishes_its_headers_is_closed(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a")  # never the blank line
        assert _closed_by_server(sock)


def test_a_silent_connection_is_closed(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        assert _closed_by_server(sock)


def test_complete_requests_are_served_and_keep_alive_still_works(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.settimeout(15)
        for _ in range(2):
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"hello" in _chunked_answer(sock)


def _chunked_answer(sock: socket.socket) -> bytes:
    """One whole chunked answer: headers and body may come in separate reads."""
    answer = b""
    while not answer.endswith(b"0\r\n\r\n"):
        part = sock.recv(4096)
        assert part, f"connection closed mid-answer: {answer!r}"
        answer += part
    return answer


def test_the_timeout_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        header_timeout_protocol(0)
