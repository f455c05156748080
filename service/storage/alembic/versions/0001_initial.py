"""Initial schema: communities, compounds, streets, buildings, households, persons, staff,
plans, grids, building->grid assignments and import runs.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from service.storage.ddl import geometry, reference, serial_id, timestamp

revision = "0001"
down_revision = None


def _source_id() -> sa.Column[Any]:
    """``id``: the identifier the offices' files give the record, its primary key."""
    return sa.Column("id", sa.String(64), primary_key=True)


def _with_hash(name: str) -> tuple[sa.Column[Any], sa.Column[Any]]:
    """``name`` (an ID number or phone) and ``{name}_hash``, its indexed search hash."""
    return sa.Column(name, sa.String(255)), sa.Column(f"{name}_hash", sa.String(128), index=True)


def _strings(**lengths: int) -> list[sa.Column[Any]]:
    """Optional text columns of these names and lengths, in this order."""
    return [sa.Column(name, sa.String(n)) for name, n in lengths.items()]


def upgrade() -> None:
    op.create_table(
        "community",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("subdistrict", sa.String(200)),
        sa.Column("code_year", sa.Integer),
        geometry("MULTIPOLYGON", nullable=False),
        sa.CheckConstraint("length(code) = 12", name="ck_community_code_12"),
    )
    op.create_table(
        "compound",
        _source_id(),
        sa.Column("name", sa.String(200), nullable=False),
        reference("community_code", sa.String(12), "community.code", index=True),
        sa.Column("property_company", sa.String(200)),
        geometry("MULTIPOLYGON", nullable=True),
    )
    op.create_table(
        "street",
        _source_id(),
        sa.Column("name", sa.String(200)),
        geometry("MULTILINESTRING", nullable=False),
    )
    op.create_table(
        "building",
        _source_id(),
        sa.Column("code", sa.String(64), index=True),
        *_strings(name=200, address=300, kind=32),
        sa.Column("floors", sa.Integer),
        sa.Column("units", sa.Integer),
        sa.Column("households", sa.Integer),
        reference("compound_id", sa.String(64), "compound.id", index=True),
        reference("community_code", sa.String(12), "community.code", index=True),
        geometry("POINT", nullable=True),
        geometry("MULTIPOLYGON", nullable=True, name="footprint"),
    )
    op.create_table(
        "household",
        _source_id(),
        reference("building_id", sa.String(64), "building.id", index=True),
        *_strings(address=300, unit=32, floor=32, room=32, head_person_id=64),
        sa.Column("size", sa.Integer),
        geometry("POINT", nullable=True),
    )
    op.create_table(
        "person",
        _source_id(),
        reference("household_id", sa.String(64), "household.id", index=True),
        sa.Column("name", sa.String(200)),
        *_with_hash("id_number"),
        *_with_hash("phone"),
        sa.Column("sex", sa.String(8)),
        sa.Column("birth_date", sa.Date),
        *_strings(relationship=32, population_type=32),
        sa.Column("tags", sa.Text),
    )
    op.create_table(
        "staff",
        _source_id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32)),
        *_with_hash("phone"),
        reference("community_code", sa.String(12), "community.code", index=True),
    )
    op.create_table(
        "staff_grid",
        reference("staff_id", sa.String(64), "staff.id", cascade=True, primary_key=True),
        sa.Column("grid_code", sa.String(15), primary_key=True, index=True),
    )
    op.create_table(
        "plan",
        serial_id(),
        reference("community_code", sa.String(12), "community.code", nullable=False, index=True),
        sa.Column("name", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("source", sa.String(32), nullable=False, server_default="partition"),
        sa.Column("params", sa.JSON),
        timestamp("created_at", nullable=False, server_default=sa.func.current_timestamp()),
        timestamp("published_at"),
        sa.CheckConstraint("status IN ('draft', 'published', 'superseded')", name="ck_plan_status"),
    )
    # At most one published plan per community, enforced by the database on both backends.
    op.create_index(
        "uq_plan_one_published",
        "plan",
        ["community_code"],
        unique=True,
        sqlite_where=sa.text("status = 'published'"),
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_table(
        "grid",
        serial_id(),
        reference("plan_id", sa.Integer, "plan.id", cascade=True, nullable=False, index=True),
        sa.Column("code", sa.String(15), nullable=False, index=True),
        reference("community_code", sa.String(12), "community.code", nullable=False, index=True),
        sa.Column("name", sa.String(200)),
        sa.Column("kind", sa.String(16), nullable=False, server_default="basic"),
        sa.Column("households", sa.Integer, nullable=False, server_default="0"),
        sa.Column("buildings", sa.Integer, nullable=False, server_default="0"),
        sa.Column("persons", sa.Integer, nullable=False, server_default="0"),
        geometry("MULTIPOLYGON", nullable=False),
        sa.UniqueConstraint("plan_id", "code", name="uq_grid_plan_code"),
        sa.CheckConstraint("length(code) = 15", name="ck_grid_code_15"),
    )
    op.create_table(
        "grid_building",
        reference("plan_id", sa.Integer, "plan.id", cascade=True, primary_key=True),
        reference("building_id", sa.String(64), "building.id", primary_key=True),
        reference("grid_id", sa.Integer, "grid.id", cascade=True, nullable=False, index=True),
    )
    op.create_table(
        "import_run",
        serial_id(),
        timestamp("started_at", nullable=False),
        timestamp("finished_at"),
        sa.Column("sources", sa.JSON),
        sa.Column("counts", sa.JSON),
    )


_SPATIAL_COLUMNS = (
    ("community", "geom"),
    ("compound", "geom"),
    ("street", "geom"),
    ("building", "geom"),
    ("building", "footprint"),
    ("household", "geom"),
    ("grid", "geom"),
)


def _drop_spatialite_columns() -> None:
    # op.drop_table does not know the geometry columns, so SpatiaLite's metadata and R*Tree
    # index tables are removed here by hand.
    for table, column in _SPATIAL_COLUMNS:
        op.execute(f"SELECT DisableSpatialIndex('{table}', '{column}')")
        op.execute(f'DROP TABLE IF EXISTS "idx_{table}_{column}"')
        op.execute(f"SELECT DiscardGeometryColumn('{table}', '{column}')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _drop_spatialite_columns()
    op.drop_index("uq_plan_one_published", table_name="plan")
    for table in (
        "import_run",
        "grid_building",
        "grid",
        "plan",
        "staff_grid",
        "staff",
        "person",
        "household",
        "building",
        "street",
        "compound",
        "community",
    ):
        op.drop_table(table)
