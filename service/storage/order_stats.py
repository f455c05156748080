"""Work-order outputs without personal data: the public board (晒单), statistics, grid aggregates.

Nothing here reads the reporter's name or phone, the description, notes or exact points:

- :func:`board_features`: published orders as GeoJSON features placed at a representative point
  of their grid (the community's when the order has no grid), never at the reported point; the
  public outcome is only the note the community wrote when publishing (staff notes, including
  the note on ``done``, stay internal), with ID-number- and phone-shaped digits masked; photos
  only when the community marked them public.
- :func:`statistics_frame`, :func:`staff_frame`: :func:`gridmap.orders.order_statistics` and
  :func:`~gridmap.orders.staff_statistics` over the orders in the principal's scope.
- :func:`grid_aggregates`: per grid of the published plans, its polygon and order counts (open,
  overdue, total) — the district map colours grids by open orders with it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridmap.orders import STATE_LABELS, order_statistics, staff_statistics
from service.storage.auth import Principal
from service.storage.models import Community, Grid, Plan
from service.storage.order_models import Order, OrderPhoto, OrderTransition
from service.storage.orders import _now, order_scope, utc
from service.storage.residents import mask_personal_text

__all__ = [
    "STAT_LEVELS",
    "board_features",
    "orders_frame",
    "transitions_frame",
    "statistics_frame",
    "staff_frame",
    "grid_aggregates",
]

STAT_LEVELS = {"grid": "grid_code", "community": "community_code", "subdistrict": "subdistrict"}
"""Statistics level → column of the orders frame."""
_BOARD_LIMIT = 1000
_DEFAULT_OUTCOME = "已办结"


def _rounded_point(geom: Any) -> dict[str, Any]:
    point = to_shape(geom).representative_point()
    return {"type": "Point", "coordinates": [round(point.x, 6), round(point.y, 6)]}


def _places(session: Session, grid_ids: set[int], communities: set[str]) -> dict[Any, Any]:
    """Representative points of the given grids (by id) and communities (by code)."""
    places: dict[Any, Any] = {}
    if grid_ids:
        for gid, geom in session.execute(select(Grid.id, Grid.geom).where(Grid.id.in_(grid_ids))):
            places[("grid", gid)] = _rounded_point(geom)
    if communities:
        rows = session.execute(select(Community.code, Community.geom)
                               .where(Community.code.in_(communities)))  # fmt: skip
        for code, geom in rows:
            places[("community", code)] = _rounded_point(geom)
    return places


def board_features(
    session: Session,
    *,
    community_code: str | None = None,
    category: str | None = None,
    limit: int = _BOARD_LIMIT,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Published orders, newest published first, as de-identified GeoJSON features; and the
    number matching."""
    query = select(Order).where(Order.state == "published")
    if community_code:
        query = query.where(Order.community_code == community_code)
    if category:
        query = query.where(Order.category == category)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    orders = session.scalars(query.order_by(Order.updated_at.desc(), Order.id.desc())
                             .limit(max(1, min(limit, _BOARD_LIMIT))).offset(max(0, offset))
                             ).all()  # fmt: skip
    ids = [o.id for o in orders]
    names = dict(session.execute(select(Community.code, Community.name)
                                 .where(Community.code.in_({o.community_code for o in orders}))
                                 ).all())  # fmt: skip
    places = _places(session, {o.grid_id for o in orders if o.grid_id is not None},
                     {o.community_code for o in orders if o.grid_id is None})  # fmt: skip
    closed = _first_times(session, ids, "closed")
    outcomes = _publish_notes(session, ids)
    photos: dict[int, list[int]] = {}
    for oid, pid in session.execute(select(OrderPhoto.order_id, OrderPhoto.id)
                                    .where(OrderPhoto.order_id.in_(ids), OrderPhoto.public)
                                    .order_by(OrderPhoto.id)):  # fmt: skip
        photos.setdefault(oid, []).append(pid)
    features = []
    for o in orders:
        place = places.get(("grid", o.grid_id)) or places.get(("community", o.community_code))
        features.append({"type": "Feature", "id": o.id, "geometry": place, "properties": {
            "id": o.id, "category": o.category, "community_code": o.community_code,
            "community_name": names.get(o.community_code), "grid_code": o.grid_code,
            "submitted_on": utc(o.submitted_at).date().isoformat(),
            "closed_on": closed[o.id].date().isoformat() if o.id in closed else None,
            "published_on": utc(o.updated_at).date().isoformat(),
            "outcome": mask_personal_text(outcomes.get(o.id) or _DEFAULT_OUTCOME),
            "rating": o.rating, "state_label": STATE_LABELS["published"][0],
            "photos": [f"/board/photos/{pid}" for pid in photos.get(o.id, [])],
        }})  # fmt: skip
    return features, int(total)


def _publish_notes(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The note each order was published with (the public outcome the community wrote)."""
    if not ids:
        return {}
    rows = session.execute(
        select(OrderTransition.order_id, OrderTransition.note)
        .where(OrderTransition.order_id.in_(ids), OrderTransition.to_state == "published",
               OrderTransition.kind == "transition")
        .order_by(OrderTransition.id)
    ).all()  # fmt: skip
    return {oid: note for oid, note in rows if note}


def _first_times(session: Session, ids: Sequence[int], state: str) -> dict[int, dt.datetime]:
    if not ids:
        return {}
    rows = session.execute(
        select(OrderTransition.order_id, func.min(OrderTransition.at))
        .where(OrderTransition.order_id.in_(ids), OrderTransition.to_state == state,
               OrderTransition.kind == "transition")
        .group_by(OrderTransition.order_id)
    ).all()  # fmt: skip
    return {oid: utc(at) for oid, at in rows}


# --------------------------------------------------------------------------- statistics
_ORDER_COLUMNS = (
    "id",
    "community_code",
    "grid_code",
    "category",
    "urgency",
    "state",
    "submitted_at",
    "claim_due_at",
    "close_due_at",
    "escalated_at",
    "rating",
)


def orders_frame(session: Session, principal: Principal | None = None) -> pd.DataFrame:
    """Orders in scope (all with ``principal`` None) without personal fields, with sub-district."""
    cols = [getattr(Order, c) for c in _ORDER_COLUMNS]
    query = select(*cols, Community.subdistrict).join(
        Community, Community.code == Order.community_code)  # fmt: skip
    if principal is not None:
        query = query.where(order_scope(principal))
    frame = pd.DataFrame(session.execute(query.order_by(Order.id)).all(),
                         columns=[*_ORDER_COLUMNS, "subdistrict"])  # fmt: skip
    for column in ("submitted_at", "claim_due_at", "close_due_at", "escalated_at"):
        frame[column] = pd.to_datetime(frame[column].map(utc), utc=True)
    frame["subdistrict"] = frame["subdistrict"].fillna("")
    return frame


def transitions_frame(session: Session, order_ids: Sequence[int]) -> pd.DataFrame:
    """State changes of the given orders: ``order_id``, ``to_state``, ``at``, ``actor``, role."""
    columns = ["order_id", "to_state", "at", "actor", "actor_role"]
    rows: list[Any] = []
    ids = list(order_ids)
    for start in range(0, len(ids), 5000):
        rows += session.execute(
            select(OrderTransition.order_id, OrderTransition.to_state, OrderTransition.at,
                   OrderTransition.actor, OrderTransition.actor_role)
            .where(OrderTransition.kind == "transition",
                   OrderTransition.order_id.in_(ids[start : start + 5000]))
        ).all()  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    frame["at"] = pd.to_datetime(frame["at"].map(utc), utc=True)
    return frame


def statistics_frame(session: Session, principal: Principal | None, *, level: str = "grid",
                     now: dt.datetime | None = None,
                     categories: Sequence[str] = ()) -> pd.DataFrame:  # fmt: skip
    """Orders per grid, community or sub-district (``level``): see
    :func:`gridmap.orders.order_statistics`."""
    column = STAT_LEVELS[level]
    orders = orders_frame(session, principal)
    moves = transitions_frame(session, orders["id"].tolist())
    if level == "grid":
        orders["grid_code"] = orders["grid_code"].fillna("")
    return order_statistics(orders, moves, by=column, now=_now(now), categories=categories)


def staff_frame(session: Session, principal: Principal | None) -> pd.DataFrame:
    """Orders taken and finished per staff member or party member (user names, no contacts)."""
    orders = orders_frame(session, principal)
    return staff_statistics(transitions_frame(session, orders["id"].tolist()))


def grid_aggregates(session: Session, principal: Principal | None = None, *,
                    now: dt.datetime | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """GeoJSON features of the published grids with their order counts (no personal fields)."""
    stats = statistics_frame(session, principal, level="grid", now=now).set_index("grid_code")
    rows = session.execute(
        select(Grid.code, Grid.community_code, Grid.name, func.ST_AsGeoJSON(Grid.geom))
        .join(Plan, Plan.id == Grid.plan_id).where(Plan.status == "published")
        .order_by(Grid.code)
    ).all()  # fmt: skip
    features = []
    for code, community, name, geometry in rows:
        row = stats.loc[code] if code in stats.index else None
        props = {"grid_code": code, "community_code": community, "grid_name": name,
                 "orders": 0, "open": 0, "overdue": 0, "published": 0,
                 "median_hours_to_close": None, "mean_rating": None}  # fmt: skip
        if row is not None:
            props.update(orders=int(row["orders"]), open=int(row["open"]),
                         overdue=int(row["overdue"]), published=int(row["state_published"]),
                         median_hours_to_close=_num(row["median_hours_to_close"]),
                         mean_rating=_num(row["mean_rating"]))  # fmt: skip
        features.append({"type": "Feature", "id": code, "geometry": json.loads(geometry),
                         "properties": props})  # fmt: skip
    return features


def _num(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)
