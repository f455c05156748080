"""Schema migrations (Alembic), callable from code and from the ``alembic`` CLI.

``upgrade_database(engine)`` brings an empty or older SpatiaLite/PostGIS store to the newest
schema; it is what the service, the importer and the test fixtures call. ``open_store(url)``
returns an engine on a migrated store whose data key has been checked; with ``spatial=False``
(the ``gridmap user`` commands) a store already at :data:`HEAD_REVISION` is opened without
Alembic, GeoAlchemy2, mod_spatialite or GDAL, which keeps those commands quick to start.
Alembic is imported when a migration runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from service.settings import Settings
from service.storage.crypto import check_store_key
from service.storage.direct import HEAD_REVISION
from service.storage.errors import store_error
from service.storage.session import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "ALEMBIC_DIR",
    "HEAD_REVISION",
    "alembic_config",
    "upgrade_database",
    "downgrade_database",
    "current_revision",
    "head_revision",
    "is_at_head",
    "open_store",
]

log = logging.getLogger(__name__)

ALEMBIC_DIR = Path(__file__).with_name("alembic")


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic :class:`Config` for the gridmap migrations (no ini file needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(engine: Engine, *, revision: str = "head") -> str | None:
    """Migrate the store behind ``engine`` up to ``revision`` in one transaction.

    Returns the revision the store is at afterwards.

    Raises
    ------
    gridmap.errors.InputError
        The store is at a revision this gridmap does not know (``store_newer``: a later
        gridmap migrated it); nothing is changed.
    """
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    cfg = alembic_config()
    now = current_revision(engine)
    if now is not None:  # a revision this gridmap does not know: a later gridmap's
        script = ScriptDirectory.from_config(cfg)
        try:
            script.get_revision(now)
        except CommandError:
            raise store_error("store_newer", revision=now, head=script.get_current_head()) from None
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        check_store_key(conn)  # the store's data key, or nothing is committed
    current = current_revision(engine)
    log.info("Database schema at revision %s", current)
    return current


def downgrade_database(engine: Engine, *, revision: str = "base") -> str | None:
    """Migrate the store behind ``engine`` down to ``revision`` (default: empty)."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """Return the store's schema revision, or ``None`` for an unmigrated store."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """Return the newest revision shipped with this code (Alembic reads every migration)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_at_head(engine: Engine) -> bool:
    """Whether the store behind ``engine`` is at :data:`HEAD_REVISION` (read without Alembic)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return versions == [HEAD_REVISION]


def open_store(
    url: str | None = None, *, settings: Settings | None = None, spatial: bool = True
) -> Engine:
    """Return an engine (:func:`~service.storage.session.make_engine`) on the store at ``url``,
    migrated to the newest schema, its data key checked (:func:`check_store_key`).

    ``spatial=False`` is for work on the tables without geometry only (users, audit, store
    facts, encrypted values): a store already at :data:`HEAD_REVISION` gets an engine without
    mod_spatialite and is not handed to Alembic; a store that needs migrating gets the spatial
    engine, as with ``spatial=True``. The caller disposes of the engine.

    Raises
    ------
    DataKeyError
        The data key is not the store's (nothing is committed).
    """
    settings = settings or Settings()
    engine = make_engine(url, settings=settings, spatial=spatial)
    try:
        if not spatial and is_at_head(engine):
            with engine.begin() as conn:
                check_store_key(conn)
            return engine
        if not spatial:
            engine.dispose()
            engine = make_engine(url, settings=settings)
        upgrade_database(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
