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
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Connection, Engine, inspect, text

from service.settings import Settings
from service.storage.crypto import check_store_key
from service.storage.direct import HEAD_REVISION
from service.storage.errors import store_error
from service.storage.session import make_engine

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = [
    "ALEMBIC_DIR",
    "HEAD_REVISION",
    "alembic_config",
    "upgrade_database",
    "downgrade_database",
    "current_revision",
    "head_revision",
    "RevisionState",
    "revision_state",
    "refuse_newer",
    "is_at_head",
    "open_store",
]

log = logging.getLogger(__name__)

ALEMBIC_DIR = Path(__file__).with_name("alembic")

RevisionState = Literal["current", "behind", "newer"]
"""A store's revision against this gridmap's newest: the same; older (or no schema); one this
gridmap does not know (a later gridmap migrated the store)."""


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

    refuse_newer(current_revision(engine))
    cfg = alembic_config()
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


def current_revision(bind: Engine | Connection) -> str | None:
    """Return the store's schema revision, or ``None`` for an unmigrated store (read on the
    connection ``bind``, or on one of the engine ``bind``)."""
    from alembic.runtime.migration import MigrationContext

    if isinstance(bind, Connection):
        return MigrationContext.configure(bind).get_current_revision()
    with bind.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    """The migrations shipped with this code (Alembic reads them once, when first asked)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    """Return the newest revision shipped with this code (Alembic reads every migration)."""
    return _scripts().get_current_head()


def revision_state(revision: str | None) -> tuple[RevisionState, str]:
    """How the store's ``revision`` (:func:`current_revision`) stands to this gridmap's newest
    migration, and that one's revision."""
    head = head_revision() or ""
    if revision == head:
        return "current", head
    known = {r.revision for r in _scripts().walk_revisions()}
    return ("behind" if revision is None or revision in known else "newer"), head


def refuse_newer(revision: str | None) -> tuple[RevisionState, str]:
    """:func:`revision_state` of a store this gridmap can work on.

    Raises
    ------
    gridmap.errors.InputError
        ``store_newer``: ``revision`` is one this gridmap does not know (a later gridmap
        migrated the store).
    """
    state, head = revision_state(revision)
    if state == "newer":
        raise store_error("store_newer", revision=revision, head=head)
    return state, head


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
