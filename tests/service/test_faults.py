"""Faults: a process killed in the middle of an import or a publish leaves the store exactly as
before (both backends); a PostGIS restart under a running service gives fast 503s during the
outage and normal answers afterwards, without restarting the service.

The restart test runs its own PostgreSQL cluster (initdb in a temporary directory, another
port) so the shared server of the other tests is never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from service.storage import models as m
from service.storage.imports import ImportBundle, import_bundle
from service.storage.loads import table_counts
from service.storage.session import make_engine, make_sessionmaker
from tests.service.api.conftest import seed_toy_district
from tests.service.storage.toy import bundle

ROOT = Path(__file__).resolve().parents[2]

# The child pauses right after the statement matching PAUSE_AT ran inside its open transaction,
# tells the parent through the marker file, and waits to be killed.
_CHILD_PRELUDE = """
import pathlib, sys, time
from sqlalchemy import event
from service.storage.session import make_engine, make_sessionmaker
url, marker, pause_at = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
engine = make_engine(url)

@event.listens_for(engine, "after_cursor_execute")
def _pause(conn, cursor, statement, parameters, context, executemany):
    if statement.replace('"', "").lstrip().upper().startswith(pause_at):
        marker.write_text("paused inside the transaction")
        time.sleep(600)

session = make_sessionmaker(engine)()
"""
_IMPORT = (
    _CHILD_PRELUDE
    + """
from service.storage.imports import import_bundle
from tests.service.storage.toy import bundle
rest = bundle()
rest.communities = None  # already stored by the test
import_bundle(session=session, bundle=rest)
"""
)
_PUBLISH = (
    _CHILD_PRELUDE
    + """
from service.storage.plans import publish_plan
with session.begin():
    publish_plan(session=session, plan_id=2)
"""
)


def _kill_midway(script: str, url: str, pause_at: str, tmp_path: Path) -> None:
    marker = tmp_path / "paused"
    child = subprocess.Popen([sys.executable, "-c", script, url, str(marker), pause_at],
                             cwd=ROOT, env=os.environ.copy())  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, f"child ended early with {child.returncode}"
            assert time.monotonic() < deadline, "child never reached the pause point"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL


def _snapshot(url: str) -> tuple[dict[str, int], list[tuple]]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            counts = table_counts(session=s)
            plans = s.execute(select(m.Plan.id, m.Plan.status).order_by(m.Plan.id)).all()
            return counts, [tuple(p) for p in plans]
    finally:
        engine.dispose()


def test_import_killed_midway_leaves_the_store_as_before(store_url, tmp_path):
    engine = make_engine(store_url)
    with make_sessionmaker(engine)() as s:  # something stored already, which must stay as it is
        import_bundle(session=s, bundle=ImportBundle(communities=bundle().communities))
    engine.dispose()
    before = _snapshot(store_url)
    assert before[0]["community"] == 1 and before[0]["person"] == 0
    # Persons are written in bulk on the raw connection (COPY / executemany), out of sight of
    # SQLAlchemy's events; the store's revision is written last, after every row and before the
    # commit: the child is killed there, with the whole import written but not committed.
    _kill_midway(_IMPORT, store_url, "INSERT INTO STORE_META", tmp_path)
    assert _snapshot(store_url) == before
    # The store is not left locked or half-written: the same import now goes through whole.
    engine = make_engine(store_url)
    try:
        with make_sessionmaker(engine)() as s:
            rest = bundle()
            rest.communities = None
            assert import_bundle(session=s, bundle=rest).counts["person"] > 0
    finally:
        engine.dispose()


def test_publish_killed_midway_leaves_the_plans_as_before(store_url, tmp_path):
    seed_toy_district(store_url)
    before = _snapshot(store_url)
    assert before[1] == [(1, "published"), (2, "draft"), (3, "published")]
    _kill_midway(_PUBLISH, store_url, "UPDATE PLAN", tmp_path)
    assert _snapshot(store_url) == before


# --------------------------------------------------------------------------- PostGIS restart
def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _as_postgres(args: list[str], **kw) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, check=True, capture_output=True, text=True, **kw)


class PrivateCluster:
    """A throw-away PostgreSQL cluster with PostGIS on a free port."""

    def __init__(self, root: Path, bindir: Path) -> None:
        self.root, self.bin = root, bindir
        self.data = root / "data"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        root.chmod(0o700)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        _as_postgres([str(bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                      "postgres", "-E", "UTF8"])  # fmt: skip
        self.start()
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE gm"))
        admin.dispose()
        eng = create_engine(self.url("gm"))
        with eng.begin() as conn:
            conn.execute(text("CREATE EXTENSION postgis"))
        eng.dispose()

    def url(self, database: str = "gm") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-l", str(self.root / "log"), "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")


@pytest.fixture
def private_postgis():
    bindir = _pg_bin()
    if bindir is None or (os.geteuid() == 0 and not shutil.which("runuser")):
        pytest.skip("needs PostgreSQL server binaries (initdb) and runuser when root")
    # Not under pytest's tmp dir: the postgres user must be able to reach the directory.
    root = Path(tempfile.mkdtemp(prefix="gridmap-pg-"))
    try:
        cluster = PrivateCluster(root, bindir)
        yield cluster
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.postgis
@pytest.mark.slow
def test_postgis_restart_gives_503_then_recovers(private_postgis):
    from fastapi.testclient import TestClient

    from service.api.main import create_app
    from service.settings import Settings
    from service.storage.migrate import upgrade_database

    url = private_postgis.url()
    engine = make_engine(url)
    upgrade_database(engine)
    engine.dispose()
    seed_toy_district(url)
    urls = ["/collections/grids/items", "/lookup?lon=109.181&lat=27.725",
            "/downloads/communities.geojson"]  # fmt: skip
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert [client.get(u).status_code for u in urls] == [200, 200, 200]
        private_postgis.stop()
        for u in urls:
            started = time.monotonic()
            r = client.get(u)
            assert r.status_code == 503, (u, r.status_code, r.text)
            assert "database is unavailable" in r.json()["detail"]
            assert time.monotonic() - started < 10, "fail fast, not hang"  # not a benchmark
        private_postgis.start()
        assert [client.get(u).status_code for u in urls] == [200, 200, 200]
