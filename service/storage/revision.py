"""The store's public-data revision: one token that changes with every commit of public data.

Every :class:`~sqlalchemy.orm.Session` that commits a change to a table whose rows appear in a
public output (:data:`PUBLIC_TABLES`: communities, compounds, streets, buildings, plans, grids,
the building → grid assignment, staff names and roles) writes a new random token and the time to
``store_meta`` (row ``public_revision``) in the same transaction: a publish, an import, an
update, an analyst's building edits. Readers (the web service's response cache,
:mod:`service.api.cache`) read it with :func:`read_revision` *before* they read the data, so
whatever they render under a token is at least as new as that token; a process that renders a
layer once per token serves no stale layer once a commit is visible, whichever process made it.

Changes are noticed from the session: objects flushed by the unit of work and ``INSERT`` /
``UPDATE`` / ``DELETE`` statements run with ``session.execute`` (all of
:mod:`service.storage` writes that way). Writes made on a bare connection (a benchmark's bulk
load) are not: such a store keeps its last token until the next session commit.

A store that was never written through a session since this existed has no row:
:func:`read_revision` answers :data:`INITIAL` (token ``"0"``, no time).

A web process keeps the revision in memory (:class:`RevisionWatch`) instead of reading it in
every request, and learns of commits without opening a transaction:

- PostgreSQL: every commit that writes a new revision also sends ``NOTIFY gridmap_revision``
  with the store's schema as payload (delivered at commit, to every listening process); the
  watch's own connection listens, and before answering it reads what has arrived on its
  socket (no round trip). A notification for its schema (or without one) makes it read the
  revision again; stores in other schemas of the same database do not.
- SQLite: ``PRAGMA data_version`` on the watch's own connection changes whenever another
  connection (of any process) committed; it costs no I/O round trip and no transaction.
- Commits made by this process mark every watch of the process stale at once (the
  notification then only confirms it).

So a commit in one worker process is seen by the others from their next request (on
PostgreSQL, as soon as the notification has crossed the socket: microseconds on one host).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, event, text
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

__all__ = [
    "PUBLIC_TABLES",
    "Revision",
    "INITIAL",
    "CHANNEL",
    "read_revision",
    "bump_revision",
    "mark_changed",
    "RevisionWatch",
]

log = logging.getLogger(__name__)

PUBLIC_TABLES = frozenset({"community", "compound", "street", "building", "plan", "grid",
                           "grid_building", "staff", "staff_grid"})  # fmt: skip
"""Tables whose rows (or counts) appear in public outputs: a change to any of them is a new
revision. Households and persons only appear as counts stored with buildings and grids."""

_NAME = "public_revision"
_CHANGED = "gridmap_public_changed"  # key in Session.info
_BUMPED = "gridmap_public_bumped"  # key in Session.info: this transaction wrote a revision
CHANNEL = "gridmap_revision"
"""PostgreSQL notification channel of new revisions (sent in the committing transaction)."""
_SQL_READ = "SELECT value FROM store_meta WHERE name = 'public_revision'"
_READ = text("SELECT value FROM store_meta WHERE name = :n")
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', current_schema())")
_UPSERT = text(
    "INSERT INTO store_meta (name, value) VALUES (:n, :v) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


@dataclass(frozen=True)
class Revision:
    """A public-data revision: a random ``token`` and the time of its commit (UTC)."""

    token: str
    changed_at: dt.datetime | None


INITIAL = Revision("0", None)
"""The revision of a store in which no public change was committed through a session."""


def read_revision(session: Session) -> Revision:
    """The store's current public-data revision (one primary-key read)."""
    return _parse(session.execute(_READ, {"n": _NAME}).scalar())


def _parse(value: str | None) -> Revision:
    if not value:
        return INITIAL
    token, _, stamp = value.partition(" ")
    return Revision(token, dt.datetime.fromisoformat(stamp) if stamp else None)


def bump_revision(session: Session) -> Revision:
    """Write a new revision in the session's transaction and return it (on PostgreSQL with a
    notification to the other processes, delivered when the transaction commits)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    revision = Revision(secrets.token_hex(8), now)
    session.execute(_UPSERT, {"n": _NAME, "v": f"{revision.token} {now.isoformat()}"})
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY)
    session.info[_BUMPED] = True
    return revision


class RevisionWatch:
    """The store's revision kept in this process, checked per request without a transaction.

    :meth:`current` answers the revision, or None when it cannot be checked (an in-memory
    SQLite store, a lost connection): the caller then reads it with :func:`read_revision`. The
    watch opens its own connection on first use (re-opened after an error) and closes it with
    :meth:`close`. Thread-safe.
    """

    MAX_AGE_S = 5.0
    """Read the revision again at least this often, even without a sign of change (a
    connection that died silently is then noticed)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        database = engine.url.database
        self._enabled = self._postgres or bool(database and database != ":memory:")
        self._lock = threading.Lock()
        self._conn: Any = None
        self._revision: Revision | None = None
        self._checked = 0.0
        self._data_version: Any = None
        self._failed_at: float | None = None
        self._schema: str | None = None  # PostgreSQL: the store's schema, whose commits count
        self.stale = True
        """Set (by this process's commits, or a notification): read the revision again."""
        _WATCHES.add(self)

    def current(self, *, wait: bool = True) -> Revision | None:
        """The store's revision now, or None if it cannot be checked here.

        ``wait=False`` (on the event loop): None rather than anything that waits (a connection
        to open, the revision to read again after a change, another thread's check); the
        caller then goes the way that reads it in a worker thread.
        """
        if not self._enabled or not self._lock.acquire(blocking=wait):
            return None
        try:
            if self._conn is None:
                if not wait or (
                    self._failed_at is not None and time.monotonic() - self._failed_at < 1
                ):
                    return None  # not on the event loop; or tried less than a second ago
                self._connect()
                self._failed_at = None
            self._poll()
            if self.stale or time.monotonic() - self._checked > self.MAX_AGE_S:
                if not wait:
                    return None
                self.stale = False  # a commit from now on sets it again
                self._checked = time.monotonic()
                self._revision = _parse(self._fetch(_SQL_READ))
            return self._revision
        except Exception as exc:  # any driver error: answer None, connect again later
            if self._failed_at is None:
                log.warning("revision watch: %s; reading the revision per request for now",
                            type(exc).__name__)  # fmt: skip
            self._failed_at = time.monotonic()
            self._drop()
            return None
        finally:
            self._lock.release()

    def close(self) -> None:
        """Close the watch's connection (it is opened again if :meth:`current` is called)."""
        with self._lock:
            self._drop()

    def _connect(self) -> None:
        self.stale = True
        if self._postgres:
            fairy = self._engine.raw_connection()
            conn: Any = fairy.driver_connection
            fairy.detach()  # the watch's own, out of the pool
            conn.rollback()
            conn.autocommit = True
            conn.add_notify_handler(self._notified)
            self._schema = conn.execute("SELECT current_schema()").fetchone()[0]
            conn.execute(f"LISTEN {CHANNEL}")  # before the first read: nothing is missed
            self._conn = conn
        else:
            import sqlean

            self._conn = sqlean.connect(
                self._engine.url.database, check_same_thread=False, isolation_level=None
            )
            self._data_version = None

    def _notified(self, notify: Any) -> None:
        if notify.payload in ("", self._schema):  # "": a process from before schema payloads
            self.stale = True

    def _poll(self) -> None:
        """Take what has arrived: notifications (PostgreSQL), the data version (SQLite)."""
        if self._postgres:
            pgconn = self._conn.pgconn
            pgconn.consume_input()  # reads the socket if anything is there; never waits
            while (notify := pgconn.notifies()) is not None:
                pgconn.notify_handler(notify)  # psycopg's dispatch: calls _notified
            if self._conn.closed or self._conn.broken:
                raise ConnectionError("the revision watch's connection is closed")
            return
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self.stale = True

    def _fetch(self, sql: str) -> str | None:
        row = self._conn.execute(sql).fetchone()
        return row[0] if row else None

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._revision = None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a broken connection
                log.debug("revision watch: closing its connection failed", exc_info=True)


_WATCHES: weakref.WeakSet[RevisionWatch] = weakref.WeakSet()


def mark_changed(session: Session, tables: Any) -> None:
    """Note that ``session`` wrote to ``tables`` (names): if one is in :data:`PUBLIC_TABLES`,
    its commit writes a new revision. For writes the session does not see itself (a bulk load
    through its connection's DBAPI cursor)."""
    if not session.info.get(_CHANGED) and any(t in PUBLIC_TABLES for t in tables):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: UOWTransaction) -> None:
    objects = [*session.new, *session.dirty, *session.deleted]
    mark_changed(session, (getattr(o, "__tablename__", None) for o in objects))


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        mark_changed(state.session, [table.name] if isinstance(table, Table) else [])


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    session.flush()  # flushes pending objects now, so after_flush can mark them
    if session.info.pop(_CHANGED, False):
        bump_revision(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_BUMPED, False):
        for watch in list(_WATCHES):
            watch.stale = True


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_BUMPED, None)
