"""What ``gridmap db`` tells an administrator about a store, read without changing it.

:func:`inspect_store` gives the store's place (SpatiaLite file, or PostGIS host, database and
schema; never a password), its schema revision against this gridmap's migrations (up to date,
behind, or newer than this gridmap: written by a later version), whether the data key in use is
the store's (the fingerprint recorded in ``store_meta``, else a stored ciphertext tried, as
:func:`~service.storage.crypto.check_store_key` does, but nothing is recorded and no key file is
made) and how many records of each kind it holds. Only reads are made: a store at an older
revision is left at it (the commands migrate it, :mod:`service.storage.migrate`).

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

from service.storage.crypto import (
    _META_TABLE,
    DataKeyError,
    _recorded_fingerprint,
    _sample_ciphertext,
    decrypt,
    keys_of,
)
from service.storage.migrate import alembic_config

__all__ = ["COUNTED", "PLAN_STATUSES", "StoreFacts", "Place", "inspect_store", "store_place",
           "revision_state", "backup_spatialite", "pg_dump_command"]  # fmt: skip

COUNTED = ("community", "building", "household", "person", "staff", "grid")
"""The tables whose records are counted, in the order they are shown."""
PLAN_STATUSES = ("published", "draft", "superseded")

RevisionState = Literal["current", "behind", "newer"]
KeyState = Literal["matches", "wrong", "missing", "unbound"]
"""The data key in use is the store's; is not; no key is set (for a store bound to one); the
store is bound to no key yet (no fingerprint, no personal data: the next command records the
key in use)."""

_SQLITE_BUSY_TIMEOUT_S = 30  # as the engines of service.storage.session


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


def revision_state(revision: str | None) -> tuple[RevisionState, str]:
    """How ``revision`` stands to this gridmap's newest migration, and that one's revision."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head() or ""
    if revision == head:
        return "current", head
    known = {r.revision for r in script.walk_revisions()}
    return ("behind" if revision is None or revision in known else "newer"), head


def inspect_store(engine: Engine) -> StoreFacts:
    """The facts of the store behind ``engine``, read in one transaction that writes nothing."""
    from alembic.runtime.migration import MigrationContext

    place = store_place(engine)
    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
        key, key_fingerprint, store_fingerprint = _key_state(conn)
        counts = _counts(conn)
    state, head = revision_state(revision)
    return StoreFacts(place=place, revision=revision, head=head, state=state, key=key,
                      key_fingerprint=key_fingerprint, store_fingerprint=store_fingerprint,
                      counts=counts)  # fmt: skip


def _key_state(conn: Connection) -> tuple[KeyState, str | None, str | None]:
    try:
        keys = keys_of(conn)  # no key file is made here
    except DataKeyError:
        keys = None
    mine = keys.fingerprint if keys else None
    recorded = _recorded_fingerprint(conn) if inspect(conn).has_table(_META_TABLE) else None
    if recorded:
        state: KeyState = "missing" if mine is None else "matches" if recorded == mine else "wrong"
        return state, mine, recorded
    sample = _sample_ciphertext(conn)
    if sample is None:
        return "unbound", mine, None
    if keys is None:
        return "missing", None, None
    try:
        decrypt(sample[0], purpose=sample[1], keys=keys)
    except DataKeyError:
        return "wrong", mine, None
    return "matches", mine, None


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
        reader = sqlean.connect(str(source), timeout=_SQLITE_BUSY_TIMEOUT_S)
        try:
            copy = sqlean.connect(str(target), timeout=_SQLITE_BUSY_TIMEOUT_S)
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
