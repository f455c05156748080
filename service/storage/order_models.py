"""ORM model of work orders (事项), their immutable history and photos (same Base as the store).

An order keeps the community, grid (code and the id of the grid in the plan published when it
was submitted) and point it was routed to: publishing a new plan later does not move it.
Reporter name and phone are personal data, encrypted at rest
(:class:`~service.storage.crypto.EncryptedString`) and never logged or published. The receipt
code given to the reporter is stored only as its SHA-256 hash.

``work_order_transition`` is append-only: the storage layer has no update or delete path for it
(:mod:`service.storage.orders` only inserts). Besides state changes it records notes,
escalations and photos (``kind``), with ``from_state == to_state``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.orders import STATES
from service.storage.crypto import EncryptedString
from service.storage.models import Base

__all__ = ["Order", "OrderTransition", "OrderPhoto", "EVENT_KINDS"]

EVENT_KINDS = ("transition", "note", "escalation", "photo")
_STATE_LIST = ", ".join(f"'{s}'" for s in STATES)


class Order(Base):
    """A work order: where, what, who reported it (encrypted), its state and deadlines."""

    __tablename__ = "work_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    description: Mapped[str] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(EncryptedString(255, "name"))
    reporter_phone: Mapped[str | None] = mapped_column(EncryptedString(255, "phone"))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    building_id: Mapped[str | None] = mapped_column(String(64))
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(Integer)
    plan_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True, default="submitted")
    assignee: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    merged_into: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    claim_due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    close_due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"state IN ({_STATE_LIST})", name="ck_work_order_state"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_work_order_rating"),
    )


class OrderTransition(Base):
    """One immutable entry of an order's history: who, when, from, to, note."""

    __tablename__ = "work_order_transition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="transition")
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(64))


class OrderPhoto(Base):
    """A photo of an order (bytes in the database); ``public`` only when the community says so."""

    __tablename__ = "work_order_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
