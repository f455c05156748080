"""Kept answers without a transaction (issue 14 §4): the store's revision is kept per process.

A hit opens no database connection; a commit in *another process* (another worker, the command
line) is seen on the next request (SQLite: ``data_version``; PostgreSQL: a notification, which
crosses the socket within milliseconds); kept answers are sent before routing only to the very
request they answer.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from service.api import cache as cache_module
from service.api.main import create_app
from service.settings import Settings
from service.storage.revision import INITIAL, RevisionWatch
from service.storage.session import make_engine
from tests.service.api.conftest import A

GRIDS = f"/maps/data/communities/{A}/grids.geojson"
ITEMS = "/collections/grids/items?limit=100"
_NOTIFIED_WITHIN_S = 5.0  # PostgreSQL: the notification is in flight for a moment at most


@pytest.fixture(autouse=True)
def _no_periodic_reads(monkeypatch):
    """Only a notification (or data_version) may reveal a commit here, not the periodic read."""
    monkeypatch.setattr(RevisionWatch, "MAX_AGE_S", 3600.0)


def _households(response) -> list[int]:
    return [f["properties"]["households"] for f in response.json()["features"]]


def _publish_in_another_process(url: str, plan_id: int) -> None:
    code = textwrap.dedent(f"""
        from service.storage.plans import publish_plan
        from service.storage.session import make_engine, session_scope
        engine = make_engine({url!r})
        with session_scope(engine) as session:
            publish_plan(session=session, plan_id={plan_id})
        engine.dispose()
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def _checkouts(app) -> list[int]:
    taken: list[int] = []
    event.listen(app.state.engine, "checkout", lambda *_: taken.append(1))
    return taken


def _until_changed(client: TestClient, url: str, etag: str):
    deadline = time.monotonic() + _NOTIFIED_WITHIN_S
    while True:
        answer = client.get(url, headers={"If-None-Match": etag})
        if answer.status_code != 304 or time.monotonic() > deadline:
            return answer
        time.sleep(0.01)


def test_a_kept_answer_opens_no_database_connection(client):
    first = client.get(GRIDS)
    taken = _checkouts(client.app)
    for headers in ({}, {"Accept-Encoding": "br"}, {"If-None-Match": first.headers["etag"]}):
        assert client.get(GRIDS, headers=headers).status_code in (200, 304)
    assert taken == []  # no BEGIN, no revision read, no ROLLBACK
    assert client.app.state.revision_watch.current() is not None


def test_a_publish_in_another_process_is_seen_on_the_next_request(client, toy_url, backend):
    first = client.get(GRIDS)
    assert _households(first) == [320, 410, 520]
    kept = client.get(GRIDS, headers={"If-None-Match": first.headers["etag"]})
    assert kept.status_code == 304
    _publish_in_another_process(toy_url, plan_id=2)
    after = (
        client.get(GRIDS, headers={"If-None-Match": first.headers["etag"]})
        if backend == "spatialite"  # data_version: at once
        else _until_changed(client, GRIDS, first.headers["etag"])
    )
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    assert _households(after) == [600, 650]
    assert client.get(GRIDS).content == after.content  # kept again, at the new revision


def test_two_workers_agree_after_a_publish(toy_url, backend):
    apps = [create_app(Settings(database_url=toy_url)) for _ in range(2)]
    with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
        tags = {one.get(GRIDS).headers["etag"], two.get(GRIDS).headers["etag"]}
        assert len(tags) == 1  # the tag is the URL's and the revision's, not the process's
        _publish_in_another_process(toy_url, plan_id=2)
        old = tags.pop()
        answers = [_until_changed(c, GRIDS, old) for c in (one, two)]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].headers["etag"] == answers[1].headers["etag"] != old
        assert _households(answers[0]) == _households(answers[1]) == [600, 650]


def test_a_kept_answer_is_sent_before_routing_to_the_same_request_only(client, monkeypatch):
    calls = []  # answers made by a route (cached_response), not before routing
    real = cache_module._negotiate
    monkeypatch.setattr(cache_module, "_negotiate", lambda *a: calls.append(1) or real(*a))
    routed = client.get(GRIDS, headers={"Accept-Encoding": "gzip"})
    early = client.get(GRIDS, headers={"Accept-Encoding": "gzip"})
    assert len(calls) == 1
    same = {"content-type", "content-encoding", "etag", "last-modified", "vary", "cache-control",
            "content-length", "content-security-policy", "x-content-type-options"}  # fmt: skip
    assert {k: early.headers.get(k) for k in same} == {k: routed.headers.get(k) for k in same}
    assert early.content == routed.content
    # Another encoding, a 304: still from the kept entry.
    assert client.get(GRIDS, headers={"Accept-Encoding": "identity"}).json() == routed.json()
    not_modified = client.get(GRIDS, headers={"If-None-Match": routed.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert len(calls) == 1


def test_the_early_answer_respects_accept_and_authorization(client):
    json_page = client.get(ITEMS)
    assert client.get(ITEMS).json() == json_page.json()  # kept
    html = client.get(ITEMS, headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")  # the route, not the JSON
    signed = client.get(ITEMS, headers={"Authorization": "Bearer not-a-token"})
    assert signed.status_code == 401  # reached the route's sign-in check


def test_a_draft_is_never_sent_early(client):
    url = f"/maps/data/communities/{A}/buildings.geojson?plan_id=2"  # a draft: anonymous 404
    assert [client.get(url).status_code for _ in range(2)] == [404, 404]


def test_the_watch_reads_the_revision_again_after_its_connection_is_lost(toy_url, backend):
    engine = make_engine(toy_url)
    watch = RevisionWatch(engine)
    try:
        first = watch.current()
        assert first is not None and first != INITIAL  # the toy district was committed
        if backend == "postgis":
            pid = watch._conn.info.backend_pid
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            deadline = time.monotonic() + 5
            while watch._conn is not None and time.monotonic() < deadline:
                watch.current()  # None while it cannot check: callers read per request
                time.sleep(0.05)
            assert watch._conn is None
            time.sleep(1.05)  # it connects again at most once a second
        else:
            watch.close()
        assert watch.current() == first
    finally:
        watch.close()
        engine.dispose()


def test_commits_to_another_store_do_not_make_the_watch_read_again(
    toy_url, backend, monkeypatch, tmp_path
):
    """PostgreSQL: a notification names its store's schema, and a watch reads again only for
    its own (stores in other schemas of one database, e.g. the test workers', used to make each
    other's kept answers go through the route); SQLite: another file's commit is not seen."""
    seen: list[tuple[str, bool]] = []
    notified = RevisionWatch._notified

    def recorded(self, notify):
        notified(self, notify)
        seen.append((notify.payload, self.stale))

    monkeypatch.setattr(RevisionWatch, "_notified", recorded)
    engine = make_engine(toy_url)
    watch = RevisionWatch(engine)
    try:
        first = watch.current()
        assert first is not None and not watch.stale
        if backend == "postgis":
            with engine.connect() as conn:
                schema = conn.execute(text("SELECT current_schema()")).scalar_one()
                for payload in ("another_store", schema):  # delivered in this order
                    conn.execute(text("SELECT pg_notify('gridmap_revision', :p)"), {"p": payload})
                    conn.commit()
            deadline = time.monotonic() + _NOTIFIED_WITHIN_S
            while len(seen) < 2 and time.monotonic() < deadline:
                watch.current(wait=False)
                time.sleep(0.02)
            assert seen == [("another_store", False), (schema, True)]
        else:
            with sqlite3.connect(tmp_path / "another.sqlite") as other:
                other.execute("CREATE TABLE t (x)")
            assert watch.current(wait=False) == first
    finally:
        watch.close()
        engine.dispose()


def test_an_in_memory_store_has_no_watch():
    engine = make_engine("sqlite://")
    assert RevisionWatch(engine).current() is None  # read per request instead
    engine.dispose()


@pytest.mark.parametrize("names", [("Accept",), ("Accept", "Accept-Language")])
def test_a_new_vary_header_is_never_answered_from_older_addresses(names):
    from service.api.cache import ResponseCache

    cache = ResponseCache(1000)
    assert cache.add_vary(()) is True
    assert cache.add_vary(names) is False  # addresses computed so far lack these values
    assert cache.add_vary(names) is True
    assert set(cache.vary_names) == {n.lower().encode() for n in names}


def test_the_event_loop_never_waits_for_the_revision(toy_url):
    engine = make_engine(toy_url)
    watch = RevisionWatch(engine)
    try:
        assert watch.current(wait=False) is None  # no connection yet: not opened on the loop
        first = watch.current()
        assert first is not None and watch.current(wait=False) == first
        watch.stale = True  # a commit seen: the revision must be read again
        assert watch.current(wait=False) is None
        assert watch.current() == first and watch.current(wait=False) == first
        with watch._lock:  # another thread checking: the loop does not wait for it
            assert watch.current(wait=False) is None
    finally:
        watch.close()
        engine.dispose()
