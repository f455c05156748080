"""Privacy: service users and their grid scope, the audit log, and ID numbers / phones
encrypted at rest with keyed search hashes.

Existing clear values of person.id_number, person.phone and staff.phone are encrypted (and their
``*_hash`` filled) with the configured GRIDMAP_DATA_KEY; downgrading decrypts them again.
"""

import sqlalchemy as sa
from alembic import op

from service.storage.ddl import reference, serial_id, timestamp

revision = "0002"
down_revision = "0001"

# (table, value column, hash column, purpose)
_ENCRYPTED = (
    ("person", "id_number", "id_number_hash", "id_number"),
    ("person", "phone", "phone_hash", "phone"),
    ("staff", "phone", "phone_hash", "phone"),
)


def upgrade() -> None:
    op.create_table(
        "app_user",
        serial_id(),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("community_code", sa.String(12)),
        sa.Column("district_code", sa.String(6)),
        sa.Column("can_reveal", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        timestamp("created_at", nullable=False, server_default=sa.func.current_timestamp()),
        sa.CheckConstraint(
            "role IN ('public', 'grid_worker', 'community_admin', 'district_admin')",
            name="ck_app_user_role",
        ),
    )
    op.create_table(
        "app_user_grid",
        reference("user_id", sa.Integer, "app_user.id", cascade=True, primary_key=True),
        sa.Column("grid_code", sa.String(15), primary_key=True),
    )
    op.create_table(
        "audit_log",
        serial_id(),
        timestamp("at", nullable=False),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False, index=True),
        sa.Column("fields", sa.String(200)),
        sa.Column("reason", sa.Text, nullable=False),
    )
    _convert(encrypting=True)


def downgrade() -> None:
    _convert(encrypting=False)
    op.drop_table("audit_log")
    op.drop_table("app_user_grid")
    op.drop_table("app_user")


def _convert(*, encrypting: bool) -> None:
    """Encrypt clear values (and hash them), or decrypt encrypted ones, row by row."""
    from service.storage import crypto

    conn = op.get_bind()
    for table_name, column, hash_column, purpose in _ENCRYPTED:
        table = sa.table(table_name, sa.column("id"), sa.column(column), sa.column(hash_column))
        rows = conn.execute(
            sa.select(table.c.id, table.c[column]).where(table.c[column].is_not(None))
        ).all()
        for row_id, value in rows:
            if encrypting == crypto.is_encrypted(value):
                continue  # already in the wanted form
            keys = crypto.keys_of(conn)  # only when there is a value: a new store has no key yet
            if encrypting:
                values = {
                    column: crypto.encrypt(value, purpose=purpose, keys=keys),
                    hash_column: crypto.search_hash(value, purpose=purpose, keys=keys),
                }
            else:
                values = {
                    column: crypto.decrypt(value, purpose=purpose, keys=keys),
                    hash_column: None,
                }
            conn.execute(sa.update(table).where(table.c.id == row_id).values(**values))
