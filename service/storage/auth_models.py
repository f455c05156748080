"""ORM model of service users, their grid scope, and the audit log (same Base as the store).

Roles (least to most): ``public`` (aggregates only), ``party_member`` (work orders of the grids
in ``app_user_grid``, no residents), ``grid_worker`` (their own grids, listed in
``app_user_grid``), ``community_admin`` (one community, ``community_code``), ``district_admin``
(every community whose code starts with ``district_code``, a 6-digit county code; all of them
when it is empty). ``can_reveal`` is the separate permission to see full personal values; every
use of it writes an :class:`AuditRecord`, and so does every failed sign-in.

``token_version`` is a random value replaced whenever the user's password or role changes; access
tokens carry it, so older tokens stop working, and a user removed and added again under the same
name gets a new one. :class:`StoreMeta` holds facts about the store itself, such as the
fingerprint of its data key (:func:`service.storage.crypto.check_store_key`).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.storage.base import Base
from service.storage.roles import ROLES

__all__ = ["ROLES", "User", "UserGrid", "AuditRecord", "StoreMeta", "new_token_version"]


def new_token_version() -> str:
    """A fresh random token version (32 hex digits)."""
    return secrets.token_hex(16)


class User(Base):
    """A person who signs in to the service (a password hash, never the password)."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(12))
    district_code: Mapped[str | None] = mapped_column(String(6))
    can_reveal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    token_version: Mapped[str] = mapped_column(String(32), default=new_token_version)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    grids: Mapped[list[UserGrid]] = relationship(
        cascade="all, delete-orphan", order_by="UserGrid.grid_code", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint(
            "role IN ('public', 'party_member', 'grid_worker', 'community_admin', "
            "'district_admin')",
            name="ck_app_user_role",
        ),
    )


class UserGrid(Base):
    """The grids (15-digit codes, stable across plans) a grid worker serves."""

    __tablename__ = "app_user_grid"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    grid_code: Mapped[str] = mapped_column(String(15), primary_key=True)


class AuditRecord(Base):
    """Who saw or exported which full personal values, when, and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    fields: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)


class StoreMeta(Base):
    """A fact about the store (``data_key_fingerprint``: which key its data was written with)."""

    __tablename__ = "store_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
