"""Schema migrations on both backends: up from empty, matching the ORM models, and down again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import inspect

from service.storage.migrate import (
    current_revision,
    downgrade_database,
    head_revision,
    upgrade_database,
)
from service.storage.models import TABLES_IN_LOAD_ORDER, Base
from service.storage.session import make_engine


def _include(obj, name, type_, reflected, compare_to):
    if type_ == "table" and reflected and compare_to is None:
        return False  # SpatiaLite / PostGIS own tables
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _schema_diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": _include, "compare_type": True}
        )
        return compare_metadata(ctx, Base.metadata)


def test_upgrade_from_empty_creates_the_models_schema(backend, make_store):
    engine = make_engine(make_store(migrated=False))
    try:
        assert current_revision(engine) is None
        assert not set(TABLES_IN_LOAD_ORDER) & set(inspect(engine).get_table_names())
        assert upgrade_database(engine) == head_revision()
        assert set(TABLES_IN_LOAD_ORDER) <= set(inspect(engine).get_table_names())
        assert _schema_diff(engine) == []
        # Running it again is a no-op.
        assert upgrade_database(engine) == head_revision()
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(backend, make_store):
    engine = make_engine(make_store())
    try:
        assert downgrade_database(engine) is None
        assert not set(TABLES_IN_LOAD_ORDER) & set(inspect(engine).get_table_names())
        assert upgrade_database(engine) == head_revision()
        assert _schema_diff(engine) == []
    finally:
        engine.dispose()


def test_spatial_columns_are_registered_with_srid_4326(engine, backend):
    from sqlalchemy import text

    query = (
        "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns"
        if backend == "spatialite"
        else "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns "
        "WHERE f_table_schema = current_schema()"
    )
    with engine.connect() as conn:
        rows = {(t, c): s for t, c, s in conn.execute(text(query))}
    assert rows == {
        ("community", "geom"): 4326,
        ("compound", "geom"): 4326,
        ("street", "geom"): 4326,
        ("building", "geom"): 4326,
        ("building", "footprint"): 4326,
        ("household", "geom"): 4326,
        ("grid", "geom"): 4326,
    }
