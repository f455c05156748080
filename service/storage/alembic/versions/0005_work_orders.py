"""Work orders (事项): orders, their immutable history, photos; the ``party_member`` role.

Points are two floats (lon, lat), not a geometry column: orders are found by community, grid
and state, never by a spatial query, and plain columns keep SQLite's batch mode away from
SpatiaLite's metadata. Reporter name and phone are stored encrypted, the receipt code as a hash.
``work_order_transition`` is append-only: triggers refuse UPDATE and DELETE on both backends.

``app_user.role`` may also be ``party_member`` (党员: takes work orders in their grids, sees no
residents). SQLite cannot alter a CHECK constraint: the table is rebuilt from its own SQL with
the new list, and the users' grids (deleted by the cascade when the old table is dropped) are
put back, all in the migration's transaction.
"""

import re

import sqlalchemy as sa
from alembic import op

from service.storage.ddl import reference, serial_id, timestamp

revision = "0005"
down_revision = "0004"

_OLD_ROLES = "role IN ('public', 'grid_worker', 'community_admin', 'district_admin')"
_NEW_ROLES = ("role IN ('public', 'party_member', 'grid_worker', 'community_admin', "
              "'district_admin')")  # fmt: skip
_STATES = ("submitted", "accepted", "merged", "declined", "dispatched", "claimed", "in_progress",
           "done", "verified", "closed", "rated", "published")  # fmt: skip


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return timestamp(name, nullable=nullable)


def upgrade() -> None:
    states = ", ".join(f"'{s}'" for s in _STATES)
    op.create_table(
        "work_order",
        serial_id(),
        sa.Column("receipt_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("category", sa.String(32), nullable=False, index=True),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("reporter_name", sa.String(255)),
        sa.Column("reporter_phone", sa.String(255)),
        sa.Column("submitted_by", sa.String(64)),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("building_id", sa.String(64)),
        reference("community_code", sa.String(12), "community.code", nullable=False, index=True),
        sa.Column("grid_code", sa.String(15), index=True),
        sa.Column("grid_id", sa.Integer),
        sa.Column("plan_id", sa.Integer),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("assignee", sa.String(64)),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("merged_into", sa.Integer),
        sa.Column("rating", sa.Integer),
        sa.Column("outcome", sa.Text),
        _ts("submitted_at"),
        _ts("updated_at"),
        _ts("claim_due_at"),
        _ts("close_due_at"),
        _ts("escalated_at", nullable=True),
        sa.CheckConstraint(f"state IN ({states})", name="ck_work_order_state"),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_work_order_rating"
        ),  # fmt: skip
    )
    op.create_table(
        "work_order_transition",
        serial_id(),
        reference("order_id", sa.Integer, "work_order.id", nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        timestamp("at", nullable=False, index=True),
        sa.Column("note", sa.Text),
        sa.Column("assignee", sa.String(64)),
    )
    op.create_table(
        "work_order_photo",
        serial_id(),
        reference("order_id", sa.Integer, "work_order.id", nullable=False, index=True),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        _ts("uploaded_at"),
        sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
    )

    _forbid_changes("work_order_transition")
    _set_roles(_OLD_ROLES, _NEW_ROLES)


def _set_roles(old: str, new: str) -> None:
    """Replace the CHECK constraint on ``app_user.role`` (``old`` → ``new`` expression)."""
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        op.drop_constraint("ck_app_user_role", "app_user", type_="check")
        op.create_check_constraint("ck_app_user_role", "app_user", new)
        return
    sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' "
                               "AND name = 'app_user'")).scalar_one()  # fmt: skip
    if old not in sql:
        raise RuntimeError("app_user.role's CHECK constraint is not the expected one; "
                           "nothing was changed.")  # fmt: skip
    grids = conn.execute(sa.text("SELECT user_id, grid_code FROM app_user_grid")).all()
    rebuilt, found = re.subn(r'^CREATE TABLE "?app_user"? \(', "CREATE TABLE app_user__new (",
                             sql.replace(old, new))  # fmt: skip
    if found != 1:
        raise RuntimeError("app_user's table definition is not the expected one; nothing was "
                           "changed.")  # fmt: skip
    op.execute(rebuilt)
    op.execute("INSERT INTO app_user__new SELECT * FROM app_user")
    op.execute("DROP TABLE app_user")
    op.execute("ALTER TABLE app_user__new RENAME TO app_user")
    if grids:
        conn.execute(sa.text("INSERT INTO app_user_grid (user_id, grid_code) VALUES (:u, :g)"),
                     [{"u": u, "g": g} for u, g in grids])  # fmt: skip


def _forbid_changes(table: str) -> None:
    """History rows can be added, never changed or deleted (a trigger on both backends)."""
    message = f"{table} is append-only, history entries are never changed or deleted"
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")  # fmt: skip
        return
    op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
               f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$")  # fmt: skip
    op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")  # fmt: skip


def downgrade() -> None:
    conn = op.get_bind()
    members = conn.execute(sa.text("SELECT count(*) FROM app_user WHERE role = 'party_member'"))
    if members.scalar_one():
        raise RuntimeError("Users with the party_member role exist: remove them (gridmap user "
                           "remove) before downgrading below 0005.")  # fmt: skip
    _set_roles(_NEW_ROLES, _OLD_ROLES)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS work_order_transition_append_only "
                   "ON work_order_transition")  # fmt: skip
        op.execute("DROP FUNCTION IF EXISTS work_order_transition_append_only()")
    op.drop_table("work_order_photo")
    op.drop_table("work_order_transition")
    op.drop_table("work_order")
