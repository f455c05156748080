"""Work orders as public Open311 requests: the same de-identification as the board (晒单).

A public request carries no reporter name, phone, description, notes, building or reported
point: it is placed at a representative point of its grid (of its community when it has no
grid), as :func:`service.storage.order_stats.board_features` places published orders, and
the outcome is only the note the community published the order with (ID-number- and
phone-shaped digits masked), never a staff member's own note. Unlike the board it lists
orders in every state, so anyone can see whether a matter was already reported in a grid and
follow a request by its id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.storage.models import Community
from service.storage.order_models import Order
from service.storage.order_stats import _places, _publish_notes
from service.storage.orders import utc
from service.storage.residents import mask_personal_text

__all__ = ["PublicRequest", "public_requests"]


@dataclass(frozen=True)
class PublicRequest:
    """An order with public fields only; ``lon``/``lat`` are its grid's (or community's) point."""

    id: int
    state: str
    category: str
    community_code: str
    community_name: str | None
    grid_code: str | None
    lon: float | None
    lat: float | None
    submitted_at: dt.datetime
    updated_at: dt.datetime
    close_due_at: dt.datetime
    merged_into: int | None
    outcome: str | None


def _at(value: dt.datetime) -> dt.datetime:
    """A stored (non-null) moment as aware UTC."""
    moment = utc(value)
    assert moment is not None
    return moment


def public_requests(
    session: Session,
    *,
    ids: Collection[int] = (),
    categories: Collection[str] = (),
    states: Collection[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 1000,
) -> list[PublicRequest]:
    """Orders, newest submitted first, with public fields only.

    ``ids`` restricts to those orders (and the other filters still apply when given);
    ``states`` None is every state; ``start`` (inclusive) and ``end`` (exclusive) bound the
    submission time.
    """
    columns = (Order.id, Order.state, Order.category, Order.community_code, Order.grid_code,
               Order.grid_id, Order.submitted_at, Order.updated_at, Order.close_due_at,
               Order.merged_into)  # fmt: skip
    query = select(*columns)
    if ids:
        query = query.where(Order.id.in_(list(ids)))
    if categories:
        query = query.where(Order.category.in_(list(categories)))
    if states is not None:
        query = query.where(Order.state.in_(list(states)))
    if start is not None:
        query = query.where(Order.submitted_at >= start)
    if end is not None:
        query = query.where(Order.submitted_at < end)
    rows = session.execute(
        query.order_by(Order.submitted_at.desc(), Order.id.desc()).limit(max(1, limit))
    ).all()
    codes = {r.community_code for r in rows}
    names = dict(session.execute(select(Community.code, Community.name)
                                 .where(Community.code.in_(codes))).all())  # fmt: skip
    published = _publish_notes(session, [r.id for r in rows if r.state == "published"])
    places = _places(session, {r.grid_id for r in rows if r.grid_id is not None},
                     {r.community_code for r in rows if r.grid_id is None})  # fmt: skip
    out = []
    for r in rows:
        place = places.get(("grid", r.grid_id)) or places.get(("community", r.community_code))
        lon, lat = place["coordinates"] if place else (None, None)
        outcome = mask_personal_text(published[r.id]) if r.id in published else None
        out.append(PublicRequest(
            id=r.id, state=r.state, category=r.category, community_code=r.community_code,
            community_name=names.get(r.community_code), grid_code=r.grid_code, lon=lon, lat=lat,
            submitted_at=_at(r.submitted_at), updated_at=_at(r.updated_at),
            close_due_at=_at(r.close_due_at), merged_into=r.merged_into, outcome=outcome,
        ))  # fmt: skip
    return out
