"""Schema migrations (Alembic), callable from code and from the ``alembic`` CLI.

``upgrade_database(engine)`` brings an empty or older SpatiaLite/PostGIS store to the newest
schema; it is what the service, the importer and the test fixtures call.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from service.storage.crypto import check_store_key

__all__ = [
    "ALEMBIC_DIR",
    "alembic_config",
    "upgrade_database",
    "downgrade_database",
    "current_revision",
    "head_revision",
]

log = logging.getLogger(__name__)

ALEMBIC_DIR = Path(__file__).with_name("alembic")


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic :class:`Config` for the gridmap migrations (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(engine: Engine, *, revision: str = "head") -> str | None:
    """Migrate the store behind ``engine`` up to ``revision`` in one transaction.

    Returns the revision the store is at afterwards.
    """
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
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """Return the store's schema revision, or ``None`` for an unmigrated store."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """Return the newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
