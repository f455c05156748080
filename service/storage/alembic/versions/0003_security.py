"""Security: person tags encrypted at rest, token versions of users, the store's key fingerprint.

- ``person.tags`` (health, hardship, special populations) is encrypted like ID numbers and
  phones (purpose ``tags``); downgrading decrypts it again.
- ``app_user.token_version``: a random value in every access token, replaced on a password or
  role change, so older tokens stop working (existing users get one each).
- ``store_meta``: facts about the store; ``data_key_fingerprint`` is recorded by
  :func:`service.storage.crypto.check_store_key` after the upgrade.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "store_meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    # Plain ALTER TABLE (no batch copy: on SQLite that drops app_user, cascading to its grids).
    op.add_column(
        "app_user", sa.Column("token_version", sa.String(32), nullable=False, server_default="")
    )
    users = sa.table("app_user", sa.column("id"), sa.column("token_version"))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        version = secrets.token_hex(16)
        conn.execute(sa.update(users).where(users.c.id == user_id).values(token_version=version))
    _convert_tags(encrypting=True)


def downgrade() -> None:
    _convert_tags(encrypting=False)
    op.drop_column("app_user", "token_version")
    op.drop_table("store_meta")


def _convert_tags(*, encrypting: bool) -> None:
    """Encrypt clear ``person.tags``, or decrypt encrypted ones, row by row."""
    from service.storage import crypto

    conn = op.get_bind()
    person = sa.table("person", sa.column("id"), sa.column("tags"))
    rows = conn.execute(sa.select(person.c.id, person.c.tags).where(person.c.tags.is_not(None)))
    for row_id, value in rows.all():
        if encrypting == crypto.is_encrypted(value):
            continue  # already in the wanted form
        keys = crypto.keys_of(conn)  # only when there is a value: a new store has no key yet
        if encrypting:
            new = crypto.encrypt(value, purpose="tags", keys=keys)
        else:
            new = crypto.decrypt(value, purpose="tags", keys=keys)
        conn.execute(sa.update(person).where(person.c.id == row_id).values(tags=new))
