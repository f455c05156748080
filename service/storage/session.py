"""Engines and sessions for SpatiaLite (the embedded default) and PostGIS.

``make_engine(url, settings=…)`` is the one way to connect; the engine uses the data key of its
settings (:func:`service.storage.crypto.use_settings`). For ``sqlite`` URLs it uses the ``sqlean``
driver (the stock ``sqlite3`` here cannot load extensions), loads ``mod_spatialite`` and turns on
foreign keys on every connection, initialises the spatial metadata once, and makes SQLite
transactions real (``BEGIN`` at the start, so a failed import rolls back whole). PostgreSQL URLs
use psycopg 3. ``make_engine(url, spatial=False)`` is for work on the tables without geometry
(users, audit, store facts, encrypted values) of a store already at the newest schema: its
SQLite connections load neither mod_spatialite nor GDAL, so a command that manages users starts
quickly (:func:`service.storage.migrate.open_store`).

Every engine hides bound parameters from error messages and logs (``hide_parameters``: a
failed query must not write a resident's name or phone to a log), and refuses text parameters
holding a NUL character with an :class:`~gridmap.errors.InputError` before they reach the
database, so both backends answer the same (PostgreSQL cannot store NUL in text; SQLite would).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from gridmap.errors import InputError
from service.settings import Settings, normalise_database_url
from service.storage import revision as _revision  # noqa: F401  (its session events)
from service.storage.crypto import use_settings

__all__ = [
    "SPATIALITE_MODULE",
    "SQLITE_BUSY_TIMEOUT_S",
    "make_engine",
    "make_sessionmaker",
    "session_scope",
    "backend_name",
    "load_spatialite",
    "NUL_MESSAGE",
]

log = logging.getLogger(__name__)

SPATIALITE_MODULE = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
"""Name or path of the SpatiaLite extension (override with ``SPATIALITE_LIBRARY_PATH``)."""

SQLITE_BUSY_TIMEOUT_S = 30
"""Seconds a SQLite connection waits for another's write lock before giving up."""

NUL_MESSAGE = "A text value contains a NUL character (U+0000), which cannot be stored; remove it."


def backend_name(engine: Engine) -> str:
    """Return ``"spatialite"`` or ``"postgis"`` for an engine made by :func:`make_engine`."""
    return "spatialite" if engine.dialect.name == "sqlite" else "postgis"


def make_engine(
    url: str | None = None,
    *,
    settings: Settings | None = None,
    spatial: bool = True,
    **kwargs: Any,
) -> Engine:
    """Create an engine for ``url`` (default: ``settings.database_url``).

    Parameters
    ----------
    url
        ``sqlite:///path/file.sqlite`` for SpatiaLite or ``postgresql://…`` for PostGIS.
        The parent directory of a SQLite file is created if missing.
    settings
        The data key of the engine (and its database without ``url``). Without them the
        ``GRIDMAP_*`` environment is read once, here: what the command line and scripts use;
        the app passes its own (``create_app(settings)``).
    spatial
        ``False``: SQLite connections do not load mod_spatialite (nor GDAL), so spatial functions
        are missing and writes to tables with geometry fail; only for the tables without
        geometry of a migrated store. The process may load GDAL and make spatial engines later.
        No effect on PostgreSQL.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.
    """
    settings = settings or Settings()
    url = normalise_database_url(url or settings.database_url)
    kwargs.setdefault("hide_parameters", True)
    if make_url(url).get_backend_name() == "sqlite":
        engine = _make_sqlite_engine(url, spatial=spatial, **kwargs)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    use_settings(engine, settings)
    return engine


def _refuse_nul(
    _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, many: bool
) -> None:
    """Raise :class:`InputError` if a bound text parameter holds a NUL character."""
    rows = parameters if many and isinstance(parameters, list | tuple) else (parameters,)
    for row in rows:
        values = row.values() if isinstance(row, dict) else row
        if not isinstance(values, str) and not hasattr(values, "__iter__"):
            continue
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise InputError(NUL_MESSAGE)


def load_spatialite(dbapi_conn: Any) -> None:
    """Load ``mod_spatialite`` into a ``sqlean`` connection, GDAL first.

    Use this, never ``load_extension("mod_spatialite")`` directly. SQLite opens extensions with
    ``RTLD_GLOBAL``, so mod_spatialite's system SQLite, PROJ and GEOS enter the global symbol
    scope; GDAL (the copy bundled with pyogrio) loaded *after* that binds to them and the
    process crashes on the next GeoPackage read or at exit ("double free or corruption",
    SIGSEGV), even when no GeoPackage was read. Importing pyogrio first keeps GDAL on its own
    libraries.
    """
    import pyogrio  # noqa: F401  (GDAL before mod_spatialite: see above)

    dbapi_conn.enable_load_extension(True)
    try:
        dbapi_conn.load_extension(SPATIALITE_MODULE)
    finally:
        dbapi_conn.enable_load_extension(False)


def _make_sqlite_engine(url: str, *, spatial: bool, **kwargs: Any) -> Engine:
    if spatial:
        import pyogrio  # noqa: F401  (GDAL before mod_spatialite: see load_spatialite)
    import sqlean  # the stock sqlite3 module cannot load extensions

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        _create_private(Path(database).expanduser())
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, **kwargs.pop("connect_args", {})}
    engine = create_engine(url, module=sqlean, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _on_spatialite_connect if spatial else _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _create_private(path: Path) -> None:
    """Create a missing store file readable by its owner only (0600; SQLite's journals follow)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level; SQLAlchemy's "begin" event emits BEGIN itself, so DDL and
    # DML share one real transaction (pysqlite's legacy implicit transactions do not).
    dbapi_conn.isolation_level = None
    dbapi_conn.execute("PRAGMA foreign_keys = ON")


def _on_spatialite_connect(dbapi_conn: Any, record: Any) -> None:
    _on_sqlite_connect(dbapi_conn, record)
    load_spatialite(dbapi_conn)
    if dbapi_conn.execute("SELECT CheckSpatialMetaData()").fetchone()[0] < 1:
        log.info("Initialising SpatiaLite metadata (WGS84 reference systems)")
        dbapi_conn.execute("SELECT InitSpatialMetaData(1, 'WGS84')")


def _on_sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, *, commit: bool = True) -> Iterator[Session]:
    """Yield a session in one transaction: committed on success, rolled back on any error.

    ``commit=False`` rolls it back on success too (a dry run: everything is done and checked
    as for real, the database constraints included, and nothing is kept)."""
    with make_sessionmaker(engine)() as session, session.begin():
        yield session
        if not commit:
            session.flush()  # what a commit would flush: its constraint errors are raised too
            session.rollback()
