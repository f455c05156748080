"""Alembic environment for the gridmap store (SpatiaLite and PostGIS).

Run from code with :func:`service.storage.migrate.upgrade_database`, which hands a connection in
``config.attributes["connection"]``; otherwise the URL comes from ``sqlalchemy.url`` or
``GRIDMAP_DATABASE_URL``.
"""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from service.storage import (
    auth_models,  # noqa: F401  (users and audit tables, same Base)
    order_models,  # noqa: F401  (work orders, same Base)
)
from service.storage.models import Base
from service.storage.session import make_engine

config = context.config
target_metadata = Base.metadata


def _include_object(obj, name, type_, reflected, compare_to):
    # Skip SpatiaLite's own metadata tables and the R*Tree tables behind spatial indexes.
    if type_ == "table" and reflected and compare_to is None:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=_include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run against a database.")
run_migrations_online()
