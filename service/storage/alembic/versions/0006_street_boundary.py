"""Streets say whether they may bound a grid: ``street.boundary`` (NOT NULL, default true).

Set by import from :func:`gridmap.streets.boundary_mask` (tunnels, covered ways, a negative
layer, ``是否边界=否`` … are false), read back by :func:`service.storage.loads.load_streets` so
that partitioning from the store leaves those streets out as ``gridmap partition`` does from
the files. Streets stored before this revision may all bound a grid (true), as they did.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.add_column(
        "street", sa.Column("boundary", sa.Boolean(), nullable=False, server_default=sa.true())
    )


def downgrade() -> None:
    op.drop_column("street", "boundary")
