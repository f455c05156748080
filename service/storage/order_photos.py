"""Photos of work orders: stored in the database (``work_order_photo.data``), checked by content.

Only JPEG, PNG and WebP (recognised by their first bytes, not by the name or the declared type)
of at most :data:`MAX_PHOTO_BYTES`. Staff in the order's scope upload and read them; a photo is
public (shown on the board once the order is published) only when a community or district admin
marks it so, because photos may show people.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from gridmap.errors import InputError
from service.storage.auth import PermissionDenied, Principal
from service.storage.errors import NotFoundError
from service.storage.order_models import Order, OrderPhoto
from service.storage.orders import _now, _record, _scoped_order, actor_role, utc

__all__ = ["MAX_PHOTO_BYTES", "PhotoInfo", "photo_type", "add_photo", "list_photos",
           "get_photo", "set_photo_public", "public_photo"]  # fmt: skip

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS_PER_ORDER = 20
_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


@dataclass(frozen=True)
class PhotoInfo:
    """A photo's metadata (no bytes)."""

    id: int
    order_id: int
    content_type: str
    size: int
    public: bool
    uploaded_by: str
    uploaded_at: dt.datetime


def photo_type(data: bytes) -> str | None:
    """``image/jpeg``, ``image/png`` or ``image/webp`` from the first bytes, else None."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _info(photo: OrderPhoto) -> PhotoInfo:
    return PhotoInfo(photo.id, photo.order_id, photo.content_type, photo.size, bool(photo.public),
                     photo.uploaded_by, utc(photo.uploaded_at))  # fmt: skip


def add_photo(session: Session, principal: Principal, *, order_id: int, data: bytes,
              now: dt.datetime | None = None) -> PhotoInfo:  # fmt: skip
    """Store a photo of an order in scope (not public); flushed, the caller commits."""
    at, role = _now(now), actor_role(principal)
    order = _scoped_order(session, principal, order_id)
    if len(data) > MAX_PHOTO_BYTES:
        raise InputError(f"The photo has {len(data)} bytes; at most {MAX_PHOTO_BYTES}.")
    kind = photo_type(data)
    if kind is None:
        raise InputError("The file is not a JPEG, PNG or WebP photo.")
    count = len(session.scalars(select(OrderPhoto.id).where(OrderPhoto.order_id == order.id)).all())
    if count >= MAX_PHOTOS_PER_ORDER:
        raise InputError(f"Order {order.id} already has {count} photos (the most allowed).")
    photo = OrderPhoto(order_id=order.id, content_type=kind, size=len(data),
                       sha256=hashlib.sha256(data).hexdigest(), data=data,
                       uploaded_by=principal.username, uploaded_at=at, public=False)  # fmt: skip
    session.add(photo)
    session.flush()
    _record(session, order.id, "photo", order.state, order.state, principal.username, role, at,
            f"photo {photo.id}", None)  # fmt: skip
    return _info(photo)


def list_photos(session: Session, principal: Principal, *, order_id: int) -> list[PhotoInfo]:
    """Metadata of an order's photos (scoped)."""
    order = _scoped_order(session, principal, order_id)
    rows = session.scalars(select(OrderPhoto).where(OrderPhoto.order_id == order.id)
                           .order_by(OrderPhoto.id))  # fmt: skip
    return [_info(p) for p in rows]


def _photo(session: Session, order_id: int, photo_id: int) -> OrderPhoto:
    photo = session.scalar(
        select(OrderPhoto)
        .options(undefer(OrderPhoto.data))
        .where(OrderPhoto.id == photo_id, OrderPhoto.order_id == order_id)
    )
    if photo is None:
        raise NotFoundError(f"Photo {photo_id} of work order {order_id} not found.")
    return photo


def get_photo(session: Session, principal: Principal, *, order_id: int,
              photo_id: int) -> tuple[PhotoInfo, bytes]:  # fmt: skip
    """A photo's metadata and bytes (scoped)."""
    order = _scoped_order(session, principal, order_id)
    photo = _photo(session, order.id, photo_id)
    return _info(photo), photo.data


def set_photo_public(session: Session, principal: Principal, *, order_id: int, photo_id: int,
                     public: bool) -> PhotoInfo:  # fmt: skip
    """Mark a photo public (or not); community and district admins only; flushed."""
    if principal.role not in ("community_admin", "district_admin"):
        raise PermissionDenied("Only a community or district admin decides which photos are "
                               "public.")  # fmt: skip
    order = _scoped_order(session, principal, order_id)
    photo = _photo(session, order.id, photo_id)
    photo.public = bool(public)
    session.flush()
    return _info(photo)


def public_photo(session: Session, *, photo_id: int) -> tuple[PhotoInfo, bytes]:
    """A photo marked public of a published order (else :class:`NotFoundError`)."""
    photo = session.scalar(select(OrderPhoto).options(undefer(OrderPhoto.data))
                           .join(Order, Order.id == OrderPhoto.order_id)
                           .where(OrderPhoto.id == photo_id, OrderPhoto.public,
                                  Order.state == "published"))  # fmt: skip
    if photo is None:
        raise NotFoundError(f"Photo {photo_id} is not public.")
    return _info(photo), photo.data
