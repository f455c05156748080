"""Work orders (事项) in the store: submit, read (scoped), move through states, escalate.

Every function takes an open :class:`~sqlalchemy.orm.Session`, flushes, and leaves the commit to
the caller. The rules of the flow are :mod:`gridmap.orders` (pure); this module adds routing,
scope, persistence and the race between two people claiming one order.

- **Routing**: a point (or a building's point) goes through
  :func:`service.storage.lookup.lookup_point`, the same lookup as ``GET /lookup``; the
  community, grid code, grid id and plan id are stored on the order and kept when a new plan is
  published later. A point outside every community is an :class:`OutsideCommunities` (422).
- **Scope**: a grid worker (or party member) reaches the orders of their grids, a community
  admin those of their community, a district admin those of their district; a public principal
  none. Out of scope is :class:`~service.storage.auth.PermissionDenied` (403); a missing order
  :class:`~service.storage.loads.NotFoundError` (404).
- **Concurrency**: a move is one conditional ``UPDATE … WHERE id = :id AND state = :from``; when
  no row changes, somebody else moved the order first and the caller gets
  :class:`~gridmap.orders.IllegalTransition` naming the state it is in now. On SQLite a lock
  conflict (``database is locked``) rolls the session back and the move is tried again (the
  loser then sees the new state), so exactly one of several simultaneous claims wins on both
  backends.
- **Personal data**: reporter name and phone are encrypted at rest and leave this module masked
  (:func:`gridmap.privacy.mask_name`, ``mask_phone``); the receipt code is shown once by
  :func:`submit_order` and stored only as a hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast, overload

from geoalchemy2.shape import to_shape
from shapely import Point
from sqlalchemy import ColumnElement, CursorResult, case, false, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from gridmap.errors import InputError
from gridmap.orders import (
    OPEN_STATES,
    STATES,
    WORKER_ROLES,
    IllegalTransition,
    Move,
    TimeLimits,
    check_transition,
    label,
    next_states,
    overdue_stage,
)
from gridmap.privacy import mask_name, mask_phone
from service.storage.auth import PermissionDenied, Principal, scope_clause, write_audit
from service.storage.errors import NotFoundError
from service.storage.lookup import locate_point
from service.storage.models import Building, Community
from service.storage.order_models import Order, OrderTransition

__all__ = [
    "OutsideCommunities",
    "NewOrder",
    "Route",
    "OrderView",
    "ReceiptView",
    "HistoryEntry",
    "Submitted",
    "OrderPage",
    "actor_role",
    "order_scope",
    "route_order",
    "submit_order",
    "get_order",
    "list_orders",
    "order_history",
    "get_order_by_receipt",
    "transition_order",
    "rate_order",
    "add_note",
    "escalate_overdue",
    "reveal_reporter",
    "normalise_receipt",
    "receipt_hash",
    "utc",
]

T = TypeVar("T")
MAX_LIMIT = 500
MAX_DESCRIPTION = 2000
MAX_NOTE = 2000
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
RECEIPT_LENGTH = 16  # 80 random bits
SYSTEM = "system"
"""Actor (and role) of moves made by the office's scheduled jobs (escalation)."""
_LOCK_RETRIES = 20
_RECEIPT_SHAPE = re.compile(rf"^[{RECEIPT_ALPHABET}]{{{RECEIPT_LENGTH}}}$")


class OutsideCommunities(InputError):
    """The order's point lies outside every community of the store."""


@dataclass(frozen=True)
class Route:
    """Where an order goes: its point, community and (published) grid at submission."""

    lon: float
    lat: float
    community_code: str
    community_name: str
    grid_code: str | None
    grid_id: int | None
    plan_id: int | None


@dataclass(frozen=True)
class OrderView:
    """An order as staff see it: reporter masked, deadlines, overdue stage at ``now``."""

    id: int
    state: str
    state_label: str
    category: str
    urgency: str
    description: str
    community_code: str
    grid_code: str | None
    lon: float
    lat: float
    building_id: str | None
    reporter_name: str | None
    reporter_phone: str | None
    submitted_by: str | None
    assignee: str | None
    claimed_by: str | None
    merged_into: int | None
    rating: int | None
    outcome: str | None
    submitted_at: dt.datetime
    updated_at: dt.datetime
    claim_due_at: dt.datetime
    close_due_at: dt.datetime
    escalated_at: dt.datetime | None
    overdue: str | None
    next_states: tuple[str, ...]


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of an order's history."""

    kind: str
    from_state: str | None
    to_state: str
    actor: str
    actor_role: str
    at: dt.datetime
    note: str | None
    assignee: str | None


@dataclass(frozen=True)
class ReceiptView:
    """What the reporter sees by receipt code: no staff names, notes or other people's data."""

    id: int
    state: str
    state_label: str
    category: str
    community_code: str
    grid_code: str | None
    submitted_at: dt.datetime
    updated_at: dt.datetime
    outcome: str | None
    rating: int | None
    history: list[dict[str, Any]]
    """The moves, oldest first: ``state``, ``state_label`` and ``at`` (ISO 8601 text)."""


@dataclass(frozen=True)
class Submitted:
    """A new order and its receipt code (shown once: only its hash is stored)."""

    order: OrderView
    receipt_code: str
    community_name: str


@dataclass(frozen=True)
class OrderPage:
    """A page of orders and the number matching the filters."""

    orders: list[OrderView]
    number_matched: int


# --------------------------------------------------------------------------- helpers
@overload
def utc(value: dt.datetime) -> dt.datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` as an aware UTC datetime (SQLite gives naive values back)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise InputError("`now` must be timezone-aware (e.g. datetime.now(UTC)).")
    return now.astimezone(dt.UTC)


def normalise_receipt(code: str) -> str:
    """A receipt code as typed (dashes, spaces, lower case, O for 0) in canonical form."""
    text = re.sub(r"[\s-]", "", str(code)).upper()
    return text.translate(str.maketrans("OIL", "011"))


def receipt_hash(code: str) -> str:
    """SHA-256 (hex) of the canonical receipt code: what the store keeps."""
    return hashlib.sha256(normalise_receipt(code).encode("ascii", "replace")).hexdigest()


def _new_receipt() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def _clean(text: str | None, what: str, limit: int) -> str | None:
    if text is None:
        return None
    text = str(text).strip()
    if len(text) > limit:
        raise InputError(f"The {what} is {len(text)} characters long; at most {limit}.")
    return text or None


def actor_role(principal: Principal) -> str:
    """The order role of a signed-in principal (403 for the public)."""
    if principal.role in (*WORKER_ROLES, "community_admin", "district_admin"):
        return principal.role
    raise PermissionDenied("Sign in as grid staff to handle work orders.")


def order_scope(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the order is in the principal's scope (see the module docstring)."""
    if principal.role in WORKER_ROLES:
        return Order.grid_code.in_(principal.grid_codes) if principal.grid_codes else false()
    return scope_clause(principal, community_code=Order.community_code, grid_code=Order.grid_code)


def _view(order: Order, now: dt.datetime) -> OrderView:
    claim_due, close_due = utc(order.claim_due_at), utc(order.close_due_at)
    return OrderView(
        id=order.id, state=order.state, state_label=label(order.state), category=order.category,
        urgency=order.urgency,
        description=order.description, community_code=order.community_code,
        grid_code=order.grid_code, lon=order.lon, lat=order.lat, building_id=order.building_id,
        reporter_name=mask_name(order.reporter_name),
        reporter_phone=mask_phone(order.reporter_phone), submitted_by=order.submitted_by,
        assignee=order.assignee, claimed_by=order.claimed_by, merged_into=order.merged_into,
        rating=order.rating, outcome=order.outcome, submitted_at=utc(order.submitted_at),
        updated_at=utc(order.updated_at), claim_due_at=claim_due, close_due_at=close_due,
        escalated_at=utc(order.escalated_at),
        overdue=overdue_stage(order.state, claim_due, close_due, now),
        next_states=next_states(order.state),
    )  # fmt: skip


def _retry_locked(session: Session, attempt: Callable[[], T]) -> T:
    """Run ``attempt``; on SQLite's ``database is locked`` roll back and try again."""
    for tries in range(_LOCK_RETRIES):
        try:
            return attempt()
        except OperationalError as exc:
            if "locked" not in str(exc.orig).lower() or tries == _LOCK_RETRIES - 1:
                raise
            session.rollback()
            time.sleep(0.01 * (tries + 1))
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- routing, submit
def route_order(session: Session, *, lon: float | None = None, lat: float | None = None,
                building_id: str | None = None) -> Route:  # fmt: skip
    """Community and published grid of a point, or of a building's point (``/lookup``'s rule).

    A point on the line between two grids goes to the grid with the lower code (deterministic).

    Raises
    ------
    InputError
        Neither a point nor a building, an unknown building, or a building without a location.
    OutsideCommunities
        The point is outside every community.
    """
    if building_id is not None:
        building = session.get(Building, str(building_id))
        if building is None:
            raise InputError(f"Building {building_id!r} is not in the store; give lon/lat.")
        if building.geom is None:
            raise InputError(f"Building {building_id!r} has no location; give lon/lat.")
        point = to_shape(building.geom)
        assert isinstance(point, Point)  # building locations are points
        lon, lat = float(point.x), float(point.y)
    if lon is None or lat is None:
        raise InputError("Give the order's place: lon and lat, or building_id.")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"lon={lon}, lat={lat} is not a longitude/latitude pair.")
    try:
        place = locate_point(session, lon=lon, lat=lat)
    except NotFoundError:
        raise OutsideCommunities(
            f"The point lon={lon}, lat={lat} is outside every community; "
            "check the coordinates (WGS 84 / CGCS2000)."
        ) from None
    name = session.scalar(select(Community.name).where(Community.code == place.community_code))
    return Route(lon=lon, lat=lat, community_code=place.community_code,
                 community_name=str(name or ""), grid_code=place.grid_code,
                 grid_id=place.grid_id, plan_id=place.plan_id)  # fmt: skip


@dataclass(frozen=True)
class NewOrder:
    """A matter as reported: what, how urgent, where (lon/lat or a building), who to call back.

    The fields of ``POST /orders`` (:class:`service.api.routes.orders.OrderIn`)."""

    category: str
    description: str
    lon: float | None = None
    lat: float | None = None
    building_id: str | None = None
    urgency: str = "normal"
    reporter_name: str | None = None
    reporter_phone: str | None = None


def submit_order(
    session: Session,
    new: NewOrder,
    *,
    submitted_by: Principal | None = None,
    now: dt.datetime | None = None,
    limits: TimeLimits | None = None,
) -> Submitted:
    """Route and store the order ``new`` (state ``submitted``); flushed, the caller commits.

    Anyone may submit; ``submitted_by`` is the staff member entering it on a resident's behalf.
    The answer's ``receipt_code`` is the reporter's only way back to the order.

    Raises
    ------
    InputError
        Unknown category or urgency, empty or too long description, no usable place.
    OutsideCommunities
        The point is outside every community.
    """
    limits, at = limits or TimeLimits(), _now(now)
    limits.category(new.category)
    text = _clean(new.description, "description", MAX_DESCRIPTION)
    if not text:
        raise InputError("Describe the matter (description is empty).")
    claim_due, close_due = limits.due(at, new.category, new.urgency)
    route = route_order(session, lon=new.lon, lat=new.lat, building_id=new.building_id)
    code = _new_receipt()
    staff = submitted_by.username if submitted_by and submitted_by.is_staff else None
    order = Order(
        receipt_hash=receipt_hash(code), category=new.category, urgency=new.urgency,
        description=text, reporter_name=_clean(new.reporter_name, "reporter name", 100),
        reporter_phone=_clean(new.reporter_phone, "reporter phone", 30), submitted_by=staff,
        lon=route.lon, lat=route.lat, building_id=new.building_id,
        community_code=route.community_code,
        grid_code=route.grid_code, grid_id=route.grid_id, plan_id=route.plan_id, state="submitted",
        submitted_at=at, updated_at=at, claim_due_at=claim_due, close_due_at=close_due,
    )  # fmt: skip
    session.add(order)
    session.flush()
    role = submitted_by.role if staff and submitted_by else "reporter"
    _record(session, order.id, "transition", None, "submitted", staff or "reporter", role, at,
            None, None)  # fmt: skip
    return Submitted(_view(order, at), code, route.community_name)


def _record(session: Session, order_id: int, kind: str, from_state: str | None, to_state: str,
            actor: str, role: str, at: dt.datetime, note: str | None,
            assignee: str | None) -> None:  # fmt: skip
    session.add(OrderTransition(order_id=order_id, kind=kind, from_state=from_state,
                                to_state=to_state, actor=actor, actor_role=role, at=at,
                                note=note, assignee=assignee))  # fmt: skip
    session.flush()


# --------------------------------------------------------------------------- reading
def _scoped_order(session: Session, principal: Principal, order_id: int) -> Order:
    """The order (fresh from the database); 404 if absent, 403 if out of scope (one query)."""
    in_scope = case((order_scope(principal), 1), else_=0).label("in_scope")
    row = session.execute(
        select(Order, in_scope).where(Order.id == int(order_id))
        .execution_options(populate_existing=True)
    ).first()  # fmt: skip
    if row is None:
        raise NotFoundError(f"Work order {order_id} not found.")
    if not row.in_scope:
        raise PermissionDenied(f"Work order {order_id} is outside the scope of user "
                               f"{principal.username!r} ({principal.role}).")  # fmt: skip
    return row[0]


def get_order(session: Session, principal: Principal, *, order_id: int,
              now: dt.datetime | None = None) -> OrderView:  # fmt: skip
    """One order in the principal's scope (reporter masked)."""
    return _view(_scoped_order(session, principal, order_id), _now(now))


def order_history(session: Session, principal: Principal, *, order_id: int) -> list[HistoryEntry]:
    """The order's history, oldest first (scoped like :func:`get_order`)."""
    order = _scoped_order(session, principal, order_id)
    rows = session.scalars(select(OrderTransition).where(OrderTransition.order_id == order.id)
                           .order_by(OrderTransition.at, OrderTransition.id))  # fmt: skip
    return [HistoryEntry(r.kind, r.from_state, r.to_state, r.actor, r.actor_role, utc(r.at),
                         r.note, r.assignee) for r in rows]  # fmt: skip


def list_orders(
    session: Session,
    principal: Principal,
    *,
    states: Sequence[str] = (),
    category: str | None = None,
    community_code: str | None = None,
    grid_code: str | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    mine: bool = False,
    now: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> OrderPage:
    """Orders in the principal's scope, newest first, with filters.

    ``overdue`` is evaluated at ``now`` (open orders past their claim or close deadline);
    ``mine``: dispatched to or claimed by the principal, or open for claiming in their grids.
    """
    at = _now(now)
    bad = [s for s in states if s not in STATES]
    if bad:
        raise InputError(f"Unknown state(s) {', '.join(bad)}; use {', '.join(STATES)}.")
    query = select(Order).where(order_scope(principal))
    for column, value in ((Order.category, category), (Order.community_code, community_code),
                          (Order.grid_code, grid_code)):  # fmt: skip
        if value:
            query = query.where(column == value)
    if states:
        query = query.where(Order.state.in_(list(states)))
    if escalated is not None:
        query = query.where(Order.escalated_at.is_not(None) if escalated
                            else Order.escalated_at.is_(None))  # fmt: skip
    if mine:
        me = principal.username
        claimable = (Order.state == "dispatched") & Order.assignee.is_(None)
        query = query.where((Order.claimed_by == me) | (Order.assignee == me) | claimable)
    if overdue is not None:
        late = (Order.state.in_(["submitted", "accepted", "dispatched"]) & (Order.claim_due_at < at)
                | Order.state.in_(list(OPEN_STATES)) & (Order.close_due_at < at))  # fmt: skip
        query = query.where(late if overdue else ~late)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    limit = max(1, min(int(limit), MAX_LIMIT))
    rows = session.scalars(query.order_by(Order.submitted_at.desc(), Order.id.desc())
                           .limit(limit).offset(max(0, int(offset))))  # fmt: skip
    return OrderPage([_view(o, at) for o in rows], total)


def get_order_by_receipt(session: Session, *, receipt_code: str) -> ReceiptView:
    """The reporter's view of their order (state, dates, outcome; no staff or notes)."""
    code = normalise_receipt(receipt_code)
    order = None
    if _RECEIPT_SHAPE.match(code):
        order = session.scalar(select(Order).where(Order.receipt_hash == receipt_hash(code)))
    if order is None:
        raise NotFoundError("No work order has this receipt code; check it and try again.")
    moves = session.execute(
        select(OrderTransition.to_state, OrderTransition.at)
        .where(OrderTransition.order_id == order.id, OrderTransition.kind == "transition")
        .order_by(OrderTransition.at, OrderTransition.id)
    ).all()
    return ReceiptView(id=order.id, state=order.state, state_label=label(order.state),
                       category=order.category,
                       community_code=order.community_code, grid_code=order.grid_code,
                       submitted_at=utc(order.submitted_at), updated_at=utc(order.updated_at),
                       outcome=order.outcome if order.state in ("rated", "published", "closed")
                       else None, rating=order.rating,
                       history=[{"state": s, "state_label": label(s), "at": utc(a).isoformat()}
                                for s, a in moves])  # fmt: skip


# --------------------------------------------------------------------------- moves
def _move(session: Session, order: Order, move: Move, at: dt.datetime,
          values: dict[str, Any]) -> None:  # fmt: skip
    """The conditional UPDATE: moves ``order`` only if nobody moved it since it was read."""
    current, to = order.state, move.to
    result = cast(CursorResult[Any], session.execute(  # an UPDATE's result has a rowcount
        update(Order).where(Order.id == order.id, Order.state == current)
        .values(state=to, updated_at=at, **values)
        .execution_options(synchronize_session=False)
    ))  # fmt: skip
    if result.rowcount != 1:
        now_state = session.scalar(select(Order.state).where(Order.id == order.id))
        raise IllegalTransition(str(now_state), to, order.id)
    for key, value in {"state": to, "updated_at": at, **values}.items():
        set_committed_value(order, key, value)  # what the UPDATE wrote, without reading it back
    kind_assignee = values.get("assignee") if to == "dispatched" else None
    _record(session, order.id, "transition", current, to, move.actor or move.role, move.role, at,
            move.note, kind_assignee)  # fmt: skip


def _values_for(order: Order, move: Move, assignee: str | None,
                merged_into: int | None) -> dict[str, Any]:  # fmt: skip
    to = move.to
    if to == "dispatched":
        return {"assignee": assignee, "claimed_by": None}
    if to == "claimed":
        return {"claimed_by": move.actor}
    if to == "accepted":
        return {"assignee": None, "claimed_by": None}
    if to == "done":
        return {"outcome": move.note}
    if to == "merged":
        if merged_into is None or int(merged_into) == order.id:
            raise InputError("Merging needs merged_into: the id of the order it duplicates.")
        return {"merged_into": int(merged_into)}
    return {}


def transition_order(
    session: Session,
    principal: Principal,
    *,
    order_id: int,
    to: str,
    note: str | None = None,
    assignee: str | None = None,
    merged_into: int | None = None,
    now: dt.datetime | None = None,
) -> OrderView:
    """Move an order in scope to state ``to`` as ``principal``; flushed, the caller commits.

    ``assignee`` (dispatching): the user name of the grid worker or party member who must take
    it, or a unit's name; none means open for claiming by the grid's workers and party members.
    ``note`` on ``done`` is the outcome the reporter sees; on ``published`` it is the outcome
    the public board shows (nothing else written by staff is published).

    Raises
    ------
    NotFoundError, PermissionDenied
        No such order, or out of scope.
    IllegalTransition
        Not a move from the order's current state (also when someone else moved it first).
    RoleNotAllowed
        The principal's role (or person) may not make this move.
    InputError
        Missing note, bad ``merged_into``.
    """
    at, role = _now(now), actor_role(principal)
    move = Move(to, role, principal.username, _clean(note, "note", MAX_NOTE))
    who = _clean(assignee, "assignee", 64)

    def attempt() -> OrderView:
        order = _scoped_order(session, principal, order_id)
        check_transition(order.state, move, assignee=order.assignee,
                         claimed_by=order.claimed_by, order=order.id)  # fmt: skip
        _move(session, order, move, at, _values_for(order, move, who, merged_into))
        return _view(order, at)

    return _retry_locked(session, attempt)


def rate_order(session: Session, *, receipt_code: str, rating: int, note: str | None = None,
               now: dt.datetime | None = None) -> ReceiptView:  # fmt: skip
    """The reporter rates their closed order (1-5) by receipt code; flushed."""
    at = _now(now)
    move = Move("rated", "reporter", "reporter", _clean(note, "note", MAX_NOTE), rating)
    get_order_by_receipt(session, receipt_code=receipt_code)  # 404 for an unknown code

    def attempt() -> ReceiptView:
        order = session.scalar(select(Order).where(Order.receipt_hash == receipt_hash(
            receipt_code)).execution_options(populate_existing=True))  # fmt: skip
        assert order is not None
        check_transition(order.state, move, order=order.id)
        _move(session, order, move, at, {"rating": int(rating)})
        return get_order_by_receipt(session, receipt_code=receipt_code)

    return _retry_locked(session, attempt)


def add_note(session: Session, principal: Principal, *, order_id: int, note: str,
             now: dt.datetime | None = None) -> HistoryEntry:  # fmt: skip
    """Add a note to an order's history without changing its state; flushed."""
    at, role = _now(now), actor_role(principal)
    text = _clean(note, "note", MAX_NOTE)
    if not text:
        raise InputError("The note is empty.")
    order = _scoped_order(session, principal, order_id)
    _record(session, order.id, "note", order.state, order.state, principal.username, role, at,
            text, None)  # fmt: skip
    return HistoryEntry("note", order.state, order.state, principal.username, role, at, text, None)


def escalate_overdue(session: Session, principal: Principal | None = None, *,
                     now: dt.datetime | None = None) -> list[OrderView]:  # fmt: skip
    """Flag every overdue, not yet escalated order (in scope) as escalated to the community
    admin, with a history entry; flushed. Returns the orders escalated now.

    ``principal`` None is the office's scheduled job (every order of the store).
    """
    at = _now(now)
    query = select(Order).where(Order.state.in_(list(OPEN_STATES)), Order.escalated_at.is_(None))
    if principal is not None:
        query = query.where(order_scope(principal))
    actor = principal.username if principal is not None else SYSTEM
    done = []
    for order in session.scalars(query.order_by(Order.id)).all():
        stage = overdue_stage(order.state, utc(order.claim_due_at), utc(order.close_due_at), at)
        if stage is None:
            continue
        changed = cast(CursorResult[Any], session.execute(  # an UPDATE's result: rowcount
            update(Order).where(Order.id == order.id, Order.escalated_at.is_(None))
            .values(escalated_at=at).execution_options(synchronize_session=False)
        )).rowcount  # fmt: skip
        if changed != 1:
            continue
        what = "接单" if stage == "claim" else "办结"
        note = f"超时未{what}，已上报社区 (overdue to be {'claimed' if stage == 'claim' else 'closed'}; escalated to the community admin)"  # noqa: E501
        _record(session, order.id, "escalation", order.state, order.state, actor, SYSTEM, at,
                note, None)  # fmt: skip
        session.refresh(order)
        done.append(_view(order, at))
    return done


def reveal_reporter(session: Session, principal: Principal, *, order_id: int,
                    reason: str) -> tuple[str | None, str | None]:  # fmt: skip
    """The reporter's full name and phone, to call them back: needs ``can_reveal`` and a reason,
    and writes an audit record (flushed; the caller commits)."""
    from service.storage.residents import mask_personal_text  # residents imports this module

    if not principal.can_reveal:
        raise PermissionDenied(f"User {principal.username!r} may not see full personal values "
                               "(reveal_personal permission).")  # fmt: skip
    order = _scoped_order(session, principal, order_id)
    write_audit(session=session, principal=principal, action="reveal", record_type="work_order",
                record_id=str(order.id), reason=mask_personal_text(reason or ""),
                fields=("reporter_name", "reporter_phone"))  # fmt: skip
    return order.reporter_name, order.reporter_phone


def community_of(session: Session, code: str) -> Community | None:
    """The community ``code`` (for names and sub-districts)."""
    return session.get(Community, code)
