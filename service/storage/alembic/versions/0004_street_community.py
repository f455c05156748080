"""Streets get a community: the one holding most of their length (set by import, by location).

``street.community_code`` is informative (a street may cross several communities; the partition
engine still takes every street meeting a community's boundary). No foreign key: a plain
ALTER TABLE on SQLite cannot add one, and a batch copy would rebuild the spatial table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("street", sa.Column("community_code", sa.String(12), nullable=True))
    op.create_index("ix_street_community_code", "street", ["community_code"])


def downgrade() -> None:
    op.drop_index("ix_street_community_code", table_name="street")
    op.drop_column("street", "community_code")
