"""Streets get a community: the one holding most of their length (set by import, by location).

``street.community_code`` is informative (a street may cross several communities; the partition
engine still takes every street meeting a community's boundary). No foreign key: a plain
ALTER TABLE on SQLite cannot add one, and a batch copy would rebuild the spatial table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("street", sa.Column("community_code", sa.String(12), nullable=True))
    op.create_index("ix_street_community_code", "street", ["community_code"])


def downgrade() -> None:
    op.drop_index("ix_street_community_code", table_name="street")
    op.drop_column("street", "community_code")
