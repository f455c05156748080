"""Reading users from a store through its DB-API driver alone: ``gridmap user list`` in a blink.

Importing SQLAlchemy costs about 0.4 s of CPU on a slow machine, pydantic-settings 0.3 s: more
than listing a handful of users should take. :func:`read_users` reads them with the store's
driver (``sqlean`` for a SQLite file, psycopg for PostgreSQL) and the settings of
:mod:`service.environment`, when the store is plainly ready: at :data:`HEAD_REVISION` (read from
``alembic_version``), its data key's fingerprint recorded in ``store_meta`` and equal to that of
the key in use. Anything else (a store to create or migrate, a key to check against the stored
values or to record, a wrong key, a URL or driver error) answers ``None``, and the caller takes
the full path (:func:`service.storage.migrate.open_store`, :func:`service.storage.auth.list_users`),
which does what it always did and reports any problem in its own words. Only reads are made
here; the listing is the one the ORM makes (users by name, each with their grids by code).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridmap.errors import GridmapError
from service.environment import QuickSettings, normalise_database_url, quick_settings
from service.storage.keys import derive_keys, load_master_key

__all__ = ["HEAD_REVISION", "UserInfo", "read_users"]

HEAD_REVISION = "0006"
"""The newest revision in ``alembic/versions`` (a test checks it against Alembic's head: update
it with every new migration). :mod:`service.storage.migrate` exports it too."""

_SQLITE = "sqlite:///"
_POSTGRESQL = "postgresql+psycopg://"
_SQLITE_BUSY_TIMEOUT_S = 30  # as the engines of service.storage.session
_FINGERPRINT = "SELECT value FROM store_meta WHERE name = 'data_key_fingerprint'"
_USERS = ("SELECT id, username, role, community_code, district_code, can_reveal, created_at "
          "FROM app_user ORDER BY username")  # fmt: skip
_GRIDS = "SELECT user_id, grid_code FROM app_user_grid ORDER BY grid_code"


@dataclass(frozen=True)
class UserInfo:
    """A user as listed by :func:`~service.storage.auth.list_users` (no password hash)."""

    username: str
    role: str
    grid_codes: tuple[str, ...] = ()
    community_code: str | None = None
    district_code: str | None = None
    can_reveal: bool = False
    created_at: dt.datetime | None = field(default=None, compare=False)


def read_users(url: str | None = None) -> list[UserInfo] | None:
    """All users by name, read without SQLAlchemy, or ``None``: take the full path then.

    ``url`` as ``--db`` gives it (default: ``GRIDMAP_DATABASE_URL``, else the default store).
    """
    settings = quick_settings()
    if settings is None:
        return None
    connected = _connect(normalise_database_url(url or settings.database_url))
    if connected is None:
        return None
    conn, driver_error = connected
    try:
        if not _ready(conn, settings):
            return None
        return _users(conn)
    except (driver_error, GridmapError, OSError, ValueError):
        return None
    finally:
        conn.close()


def _connect(url: str) -> tuple[Any, type[Exception]] | None:
    """A DB-API connection to the store at ``url`` and its driver's error class, or ``None``."""
    if url.startswith(_SQLITE):
        path = url[len(_SQLITE) :]
        # Plain file paths only: URL options, escapes, "~" and in-memory stores take the full
        # path (which creates a missing file: so does a missing file).
        if not path or path == ":memory:" or path.startswith("file:") or set("?%~") & set(path):
            return None
        if not Path(path).is_file():
            return None
        import sqlean  # the driver of the store's engines (service.storage.session)

        try:
            conn = sqlean.connect(path, timeout=_SQLITE_BUSY_TIMEOUT_S)
            conn.isolation_level = None
            conn.execute("BEGIN")  # one snapshot for the few reads
        except sqlean.Error:
            return None
        return conn, sqlean.Error
    if url.startswith(_POSTGRESQL):
        import psycopg

        try:  # libpq reads the same URL (percent escapes, query parameters such as options)
            return psycopg.connect("postgresql://" + url[len(_POSTGRESQL) :]), psycopg.Error
        except psycopg.Error:
            return None
    return None


def _ready(conn: Any, settings: QuickSettings) -> bool:
    """Whether the store is at the newest schema and its recorded key is the key in use."""
    versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
    if versions != [HEAD_REVISION]:
        return False
    recorded = conn.execute(_FINGERPRINT).fetchone()
    if recorded is None:
        return False  # the full path checks the key against the stored values and records it
    return bool(recorded[0] == derive_keys(load_master_key(settings)).fingerprint)


def _users(conn: Any) -> list[UserInfo]:
    grids: dict[int, list[str]] = {}
    for user_id, grid_code in conn.execute(_GRIDS).fetchall():
        grids.setdefault(user_id, []).append(grid_code)
    return [
        UserInfo(username=username, role=role, grid_codes=tuple(grids.get(user_id, ())),
                 community_code=community_code, district_code=district_code,
                 can_reveal=bool(can_reveal), created_at=_datetime(created_at))
        for user_id, username, role, community_code, district_code, can_reveal, created_at
        in conn.execute(_USERS).fetchall()
    ]  # fmt: skip


def _datetime(value: object) -> dt.datetime | None:
    """``created_at`` as SQLAlchemy reads it (SQLite stores text, psycopg gives datetimes)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))
