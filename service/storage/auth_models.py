"""ORM model of service users, their grid scope, and the audit log (same Base as the store).

Roles (least to most): ``public`` (aggregates only), ``grid_worker`` (their own grids, listed in
``app_user_grid``), ``community_admin`` (one community, ``community_code``), ``district_admin``
(every community whose code starts with ``district_code``, a 6-digit county code; all of them
when it is empty). ``can_reveal`` is the separate permission to see full personal values; every
use of it writes an :class:`AuditRecord`.
"""

from __future__ import annotations

import datetime as dt

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

from service.storage.models import Base

__all__ = ["ROLES", "User", "UserGrid", "AuditRecord"]

ROLES = ("public", "grid_worker", "community_admin", "district_admin")
"""Service roles, from least to most access."""


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
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    grids: Mapped[list[UserGrid]] = relationship(
        cascade="all, delete-orphan", order_by="UserGrid.grid_code", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint(
            "role IN ('public', 'grid_worker', 'community_admin', 'district_admin')",
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
