"""What ``gridmap db`` tells an administrator about a store, read without changing it.

:func:`inspect_store` gives the store's place (SpatiaLite file, or PostGIS host, database and
schema; never a password), its schema revision against this gridmap's migrations (up to date,
behind, or newer than this gridmap: written by a later version), whether the data key in use is
the store's (:func:`~service.storage.crypto.store_key_state`: the fingerprint recorded in
``store_meta``, else a stored ciphertext tried, but nothing is recorded and no key file is made)
and how many records of each kind it holds. Only reads are made: a store at an older revision
is left at it (the commands migrate it, :mod:`service.storage.migrate`).

:func:`backup_spatialite` copies a SpatiaLite file with SQLite's online backup API: one
consistent snapshot of the committed data, while the service may be writing to it.
:func:`pg_dump_command` is what to run instead for a PostGIS store.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine, inspect, text

from service.storage.crypto import KeyState, store_key_state
from service.storage.migrate import RevisionState, current_revision, revision_state
from service.storage.session import SQLITE_BUSY_TIMEOUT_S

__all__ = ["COUNTED", "PLAN_STATUSES", "StoreFacts", "Place", "inspect_store", "store_place",
           "backup_spatialite", "pg_dump_command"]  # fmt: skip

COUNTED = ("community", "building", "household", "person", "staff", "grid")
"""The tables whose records are counted, in the order they are shown."""
PLAN_STATUSES = ("published", "draft", "superseded")


@dataclass(frozen=True)
class Place:
    """Where a store is: a SpatiaLite ``path``, or PostGIS ``host``/``port``/``database``/
    ``schema`` (and ``user``)."""

    backend: Literal["spatialite", "postgis"]
    path: str = ""
    host: str = ""
    port: int | None = None
    database: str = ""
    schema: str = ""
    user: str = ""


@dataclass(frozen=True)
class StoreFacts:
    """A store as :func:`inspect_store` read it."""

    place: Place
    revision: str | None
    head: str
    state: RevisionState
    key: KeyState
    key_fingerprint: str | None
    """The fingerprint of the key in use (``None``: no key set)."""
    store_fingerprint: str | None
    """The fingerprint the store records (``None``: none recorded)."""
    counts: dict[str, int | None]
    """Records by table (:data:`COUNTED`) and plans by ``plan:<status>``; ``None``: no table."""


def store_place(engine: Engine) -> Place:
    """Where ``engine``'s store is; asks PostgreSQL for the schema the store's tables are in."""
    url = engine.url
    if engine.dialect.name == "sqlite":
        return Place("spatialite", path=str(Path(url.database or "").expanduser().resolve()))
    with engine.connect() as conn:
        schema = str(conn.execute(text("SELECT current_schema()")).scalar() or "")
    return Place("postgis", host=url.host or "", port=url.port, database=url.database or "",
                 schema=schema, user=url.username or "")  # fmt: skip


def inspect_store(engine: Engine) -> StoreFacts:
    """The facts of the store behind ``engine``, read in one transaction that writes nothing."""
    place = store_place(engine)
    with engine.connect() as conn:
        revision = current_revision(conn)
        key = store_key_state(conn)
        counts = _counts(conn)
    state, head = revision_state(revision)
    return StoreFacts(place=place, revision=revision, head=head, state=state, key=key.state,
                      key_fingerprint=key.in_use, store_fingerprint=key.recorded,
                      counts=counts)  # fmt: skip


def _counts(conn: Connection) -> dict[str, int | None]:
    tables = set(inspect(conn).get_table_names())
    counts: dict[str, int | None] = {
        table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        if table in tables else None
        for table in COUNTED
    }  # fmt: skip
    by_status: dict[str, int] = {}
    if "plan" in tables:
        query = text("SELECT status, count(*) FROM plan GROUP BY status")
        by_status = {str(s): int(n) for s, n in conn.execute(query).all()}
    for status in PLAN_STATUSES:
        counts[f"plan:{status}"] = by_status.get(status, 0) if "plan" in tables else None
    return counts


def backup_spatialite(source: Path, target: Path) -> int:
    """Copy the SpatiaLite file ``source`` to the new file ``target`` (mode 0600, its folder
    made if missing) with SQLite's online backup API; returns the bytes written.

    The copy is one snapshot of the committed data: a writer's open transaction is not in it,
    and SQLite waits for (or starts over after) writes made while it copies. A failed copy
    leaves no file behind.

    Raises
    ------
    FileExistsError
        ``target`` exists (it is never overwritten).
    """
    import sqlean  # the driver of the store's engines (no extension is needed to copy pages)

    target.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        reader = sqlean.connect(str(source), timeout=SQLITE_BUSY_TIMEOUT_S)
        try:
            copy = sqlean.connect(str(target), timeout=SQLITE_BUSY_TIMEOUT_S)
            try:
                reader.backup(copy)  # all pages in one step: one consistent snapshot
            finally:
                copy.close()
        finally:
            reader.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target.stat().st_size


_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")


def pg_dump_command(place: Place, target: str) -> str:
    """The ``pg_dump`` command line that backs up the store at ``place`` (its schema only, in
    the custom format ``pg_restore`` reads) to ``target``; no password in it (libpq asks, or
    reads ``PGPASSWORD`` / ``~/.pgpass``)."""
    schema = place.schema if _PLAIN_NAME.fullmatch(place.schema) else (
        '"' + place.schema.replace('"', '""') + '"')  # fmt: skip
    words = ["pg_dump", "--format=custom", f"--schema={schema}", f"--file={target}"]
    if place.host:
        words.append(f"--host={place.host}")
    if place.port:
        words.append(f"--port={place.port}")
    if place.user:
        words.append(f"--username={place.user}")
    words.append(place.database)
    return shlex.join(words)
