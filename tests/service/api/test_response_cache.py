"""The response cache itself: bounded in bytes, least recently used out, one render per key."""

from __future__ import annotations

import threading
import time

from service.api.cache import ResponseCache, _Entry, choose_encoding


def _entry(n: int) -> _Entry:
    return _Entry(b"x" * n, "application/geo+json", {})


def test_the_cache_is_bounded_in_bytes_and_drops_the_least_recently_used():
    cache = ResponseCache(max_bytes=1000)
    for key in "abc":
        cache.put(key, _entry(300))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", _entry(300))
    assert cache.get("b") is None and cache.get("a") is not None
    assert cache.size == 900 and len(cache) == 3
    cache.put("huge", _entry(600))  # over half the bound: served, never kept
    assert cache.get("huge") is None and cache.size <= 1000


def test_concurrent_misses_render_once():
    cache = ResponseCache(max_bytes=10_000)
    calls = []

    def render() -> _Entry:
        calls.append(1)
        time.sleep(0.05)
        return _entry(10)

    threads = [threading.Thread(target=cache.get_or_render, args=("k", render)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1


def test_accept_encoding_negotiation():
    assert choose_encoding("gzip, deflate, br") == "br"
    assert choose_encoding("gzip") == "gzip"
    assert choose_encoding("br;q=0.5, gzip;q=0.8") == "gzip"
    assert choose_encoding("br;q=0, gzip;q=0") == "identity"
    assert choose_encoding("*") == "br"
    assert choose_encoding(None) == choose_encoding("identity") == "identity"
