"""Schema migrations on both backends: up from empty, matching the ORM models, and down again."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import inspect, text

from service.storage import crypto
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


@pytest.mark.parametrize(
    ("revision", "clear"),
    [
        ("0001", {"id_number": "520602199001011234", "phone": "13912345678"}),  # 0002 encrypts
        ("0002", {"tags": "disabled;低保"}),  # 0003 encrypts
    ],
)
def test_migration_encrypts_existing_clear_values_and_downgrade_decrypts(
    make_store, revision, clear
):
    """Clear personal values stored before the migration come out encrypted (ID numbers and
    phones with their search hash), and clear again after downgrading."""
    hashed = [c for c in clear if c in ("id_number", "phone")]
    columns = ", ".join([*clear, *(f"{c}_hash" for c in hashed)])
    engine = make_engine(make_store())
    try:
        downgrade_database(engine, revision=revision)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO household (id) VALUES ('h')"))
            names, values = ", ".join(clear), ", ".join(f":{c}" for c in clear)
            insert = f"INSERT INTO person (id, household_id, {names}) VALUES ('p', 'h', {values})"
            conn.execute(text(insert), clear)
        upgrade_database(engine)
        keys = crypto.keys_of(engine)
        with engine.connect() as conn:
            raw = conn.execute(text(f"SELECT {columns} FROM person")).one()._mapping
        for column, value in clear.items():
            assert crypto.is_encrypted(raw[column])
            assert crypto.decrypt(raw[column], purpose=column, keys=keys) == value
        for column in hashed:
            assert raw[f"{column}_hash"] == crypto.search_hash(clear[column], purpose=column,
                                                               keys=keys)  # fmt: skip
        downgrade_database(engine, revision=revision)
        with engine.connect() as conn:
            raw = conn.execute(text(f"SELECT {columns} FROM person")).one()._mapping
        assert dict(raw) == {**clear, **{f"{c}_hash": None for c in hashed}}
    finally:
        engine.dispose()
