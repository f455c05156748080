"""Work orders (事项) handled in the grid: states, who may move them, time limits, statistics.

The loop of 群众点单、社区派单、党员接单、组织晒单 (residents order, the community dispatches,
party members take the order, the organisation publishes the result)::

    submitted → accepted → dispatched → claimed → in_progress → done → verified → closed
              ↘ merged / declined          (rated by the reporter) → rated → published

Pure logic only (no database or web; pandas is imported by the statistics functions only, so
the states and time limits load without it): :data:`TRANSITIONS` says which role may move an
order from one state to another, :func:`check_transition` refuses anything else with an error
naming the current state and the states it may go to, :class:`TimeLimits` gives the deadlines
per category and urgency with an explicit clock (``now``), and :func:`order_statistics` /
:func:`staff_statistics` summarise frames of orders and transitions.

Roles: ``reporter`` (the resident, identified by the receipt code), ``grid_worker`` (网格员),
``party_member`` (党员), ``community_admin`` (社区), ``district_admin`` (区/街道).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gridmap.errors import GridmapError, InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "STATES",
    "OPEN_STATES",
    "FINAL_STATES",
    "ROLES",
    "WORKER_ROLES",
    "ADMIN_ROLES",
    "URGENCIES",
    "TRANSITIONS",
    "STATE_LABELS",
    "ROLE_LABELS",
    "Category",
    "DEFAULT_CATEGORIES",
    "TimeLimits",
    "Move",
    "TransitionError",
    "IllegalTransition",
    "RoleNotAllowed",
    "next_states",
    "check_transition",
    "label",
    "overdue_stage",
    "flag_overdue",
    "milestones",
    "order_statistics",
    "staff_statistics",
]

STATES: tuple[str, ...] = (
    "submitted",
    "accepted",
    "merged",
    "declined",
    "dispatched",
    "claimed",
    "in_progress",
    "done",
    "verified",
    "closed",
    "rated",
    "published",
)
"""Every state of a work order, in the order of the flow."""
OPEN_STATES: tuple[str, ...] = ("submitted", "accepted", "dispatched", "claimed", "in_progress",
                                "done", "verified")  # fmt: skip
"""States of an order still being handled (it counts as open on the district map)."""
FINAL_STATES: tuple[str, ...] = ("merged", "declined", "published")
"""States with no way out."""
ROLES: tuple[str, ...] = ("reporter", "grid_worker", "party_member", "community_admin",
                          "district_admin")  # fmt: skip
WORKER_ROLES: tuple[str, ...] = ("grid_worker", "party_member")
"""Roles that take orders (接单) in the grids they serve."""
ADMIN_ROLES: tuple[str, ...] = ("community_admin", "district_admin")
URGENCIES: dict[str, float] = {"low": 2.0, "normal": 1.0, "urgent": 0.25}
"""Urgency → factor applied to a category's time limits (urgent: a quarter of the time)."""

_ADMINS = frozenset(ADMIN_ROLES)
_WORKERS = frozenset(WORKER_ROLES)
_ON_BEHALF = frozenset({*WORKER_ROLES, "community_admin"})  # an office acts for a unit
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("submitted", "accepted"): _ADMINS,
    ("submitted", "merged"): _ADMINS,
    ("submitted", "declined"): _ADMINS,
    ("accepted", "dispatched"): _ADMINS,
    ("accepted", "merged"): _ADMINS,
    ("accepted", "declined"): _ADMINS,
    ("dispatched", "accepted"): _ADMINS,  # recalled before anyone took it
    ("dispatched", "claimed"): _ON_BEHALF,
    ("claimed", "dispatched"): _ON_BEHALF,  # handed back (退单)
    ("claimed", "in_progress"): _ON_BEHALF,
    ("in_progress", "done"): _ON_BEHALF,
    ("done", "in_progress"): _ADMINS,  # verification failed: back to work (返工)
    ("done", "verified"): _ADMINS,
    ("verified", "closed"): _ADMINS,
    ("closed", "rated"): frozenset({"reporter"}),
    ("closed", "published"): _ADMINS,
    ("rated", "published"): _ADMINS,
}
"""(from, to) → roles that may make the move. Any pair not listed is illegal."""
NOTE_REQUIRED = frozenset({"merged", "declined", "done"})
"""Moves that need a note: why it was merged or declined, what was done."""

STATE_LABELS: dict[str, tuple[str, str]] = {
    "submitted": ("已提交", "submitted"), "accepted": ("已受理", "accepted"),
    "merged": ("已合并", "merged"), "declined": ("不予受理", "declined"),
    "dispatched": ("已派单", "dispatched"), "claimed": ("已接单", "claimed"),
    "in_progress": ("办理中", "in progress"), "done": ("已办结", "done"),
    "verified": ("已核查", "verified"), "closed": ("已结案", "closed"),
    "rated": ("已评价", "rated"), "published": ("已晒单", "published"),
}  # fmt: skip
"""State → (Chinese, English) label."""
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "reporter": ("群众", "reporter"), "grid_worker": ("网格员", "grid worker"),
    "party_member": ("党员", "party member"), "community_admin": ("社区", "community admin"),
    "district_admin": ("区/街道", "district admin"),
}  # fmt: skip


class TransitionError(GridmapError):
    """A work order cannot make the requested move."""


class IllegalTransition(TransitionError):
    """The move is not in :data:`TRANSITIONS` (or the order changed state meanwhile)."""

    def __init__(self, current: str, to: str, order: object = None) -> None:
        self.current, self.to, self.allowed = current, to, next_states(current)
        which = f"Order {order}" if order is not None else "The order"
        options = ", ".join(self.allowed) or "none (it is final)"
        super().__init__(f"{which} is {current!r} and cannot go to {to!r}; "
                         f"allowed next states: {options}.")  # fmt: skip


class RoleNotAllowed(TransitionError, PermissionError):
    """The move is legal but not for this role or this person."""


@dataclass(frozen=True)
class Category:
    """An order category with its Chinese/English label and time limits in hours."""

    code: str
    zh: str
    en: str
    claim_hours: float = 24.0
    close_hours: float = 72.0


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("repairs", "维修", "repairs", 24, 120),
    Category("environment", "环境", "environment", 24, 72),
    Category("disputes", "纠纷", "disputes", 24, 168),
    Category("elderly_care", "养老", "elderly care", 12, 72),
    Category("safety", "安全", "safety", 4, 24),
    Category("deliberation", "议事", "deliberation", 72, 720),
    Category("other", "其他", "other", 48, 168),
)
"""The categories a district starts with (configurable: pass others to :class:`TimeLimits`)."""


def label(value: str, lang: str = "zh", table: Mapping[str, tuple[str, str]] = STATE_LABELS) -> str:
    """The Chinese (``lang="zh"``) or English label of a state or role.

    >>> label("in_progress"), label("in_progress", "en"), label("party_member", "zh", ROLE_LABELS)
    ('办理中', 'in progress', '党员')
    """
    zh, en = table.get(value, (value, value))
    return en if lang == "en" else zh


def next_states(current: str) -> tuple[str, ...]:
    """The states an order in ``current`` may go to (by anyone), in flow order.

    >>> next_states("dispatched")
    ('accepted', 'claimed')
    >>> next_states("published")
    ()
    """
    if current not in STATES:
        raise InputError(f"Unknown work-order state {current!r}; use one of {', '.join(STATES)}.")
    return tuple(s for s in STATES if (current, s) in TRANSITIONS)


@dataclass(frozen=True)
class Move:
    """A requested move: to state ``to`` by ``role`` (the person ``actor``), with the note or
    rating it carries."""

    to: str
    role: str
    actor: str | None = None
    note: str | None = None
    rating: int | None = None


def check_transition(current: str, move: Move, *, assignee: str | None = None,
                     claimed_by: str | None = None, order: object = None) -> None:  # fmt: skip
    """Raise unless ``move`` may take an order from ``current`` to ``move.to``.

    ``assignee``, ``claimed_by`` and ``order`` (its id, for messages) describe the order as it
    is. Besides :data:`TRANSITIONS`: a worker claims only an order open for claiming (no
    ``assignee``) or assigned to them, and only whoever claimed it hands it back, starts or
    finishes it; a rating is 1-5; merged, declined and done need a note.

    Raises
    ------
    IllegalTransition
        The move is not allowed from ``current`` (whoever asks).
    RoleNotAllowed
        The move is allowed, but not for this role or person.
    InputError
        Unknown state or role, a missing note or a bad rating.

    Examples
    --------
    >>> check_transition("dispatched", Move("claimed", "party_member", actor="li"))
    >>> check_transition("submitted", Move("done", "community_admin"))
    Traceback (most recent call last):
    ...
    gridmap.orders.IllegalTransition: The order is 'submitted' and cannot go to 'done'; allowed next states: accepted, merged, declined.
    """  # noqa: E501
    to, role = move.to, move.role
    if to not in STATES:
        raise InputError(f"Unknown work-order state {to!r}; use one of {', '.join(STATES)}.")
    if role not in ROLES:
        raise InputError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    roles = TRANSITIONS.get((current, to)) if current in STATES else None
    if roles is None:
        raise IllegalTransition(current, to, order) if current in STATES else InputError(
            f"Unknown work-order state {current!r}.")  # fmt: skip
    if role not in roles:
        names = ", ".join(label(r, "en", ROLE_LABELS) for r in ROLES if r in roles)
        raise RoleNotAllowed(f"A {label(role, 'en', ROLE_LABELS)} cannot move an order from "
                             f"{current!r} to {to!r}; only: {names}.")  # fmt: skip
    _check_person(current, to, role, move.actor, assignee, claimed_by)
    _check_details(to, move.note, move.rating)


def _check_person(current: str, to: str, role: str, actor: str | None, assignee: str | None,
                  claimed_by: str | None) -> None:  # fmt: skip
    if role not in _WORKERS:
        return
    if to == "claimed" and assignee and assignee != actor:
        raise RoleNotAllowed(f"This order was dispatched to {assignee!r}; only they can claim it.")
    if current in ("claimed", "in_progress") and claimed_by and claimed_by != actor:
        raise RoleNotAllowed(f"Only {claimed_by!r}, who claimed this order, can move it to {to!r}.")


def _check_details(to: str, note: str | None, rating: int | None) -> None:
    if to in NOTE_REQUIRED and not (note or "").strip():
        what = {"merged": "which order it duplicates", "declined": "the reason",
                "done": "what was done"}[to]  # fmt: skip
        raise InputError(f"Moving an order to {to!r} needs a note saying {what}.")
    if to == "rated" and (rating is None or not 1 <= int(rating) <= 5):
        raise InputError(f"A rating is a whole number from 1 to 5, not {rating!r}.")


# --------------------------------------------------------------------------- time limits
@dataclass(frozen=True)
class TimeLimits:
    """Deadlines per category and urgency: to be claimed, and to be closed (from submission).

    >>> limits = TimeLimits()
    >>> t0 = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    >>> limits.due(t0, "safety", "urgent")
    (datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.timezone.utc), datetime.datetime(2026, 1, 5, 14, 0, tzinfo=datetime.timezone.utc))
    """  # noqa: E501

    categories: tuple[Category, ...] = DEFAULT_CATEGORIES
    urgencies: Mapping[str, float] = field(default_factory=lambda: dict(URGENCIES))

    def category(self, code: str) -> Category:
        """The category ``code``; :class:`InputError` listing the known ones otherwise."""
        for category in self.categories:
            if category.code == code:
                return category
        known = ", ".join(f"{c.code} ({c.zh})" for c in self.categories)
        raise InputError(f"Unknown category {code!r}; use one of: {known}.")

    def check_urgency(self, urgency: str) -> float:
        """The factor of ``urgency``; :class:`InputError` listing the known ones otherwise."""
        if urgency not in self.urgencies:
            raise InputError(
                f"Unknown urgency {urgency!r}; use one of {', '.join(self.urgencies)}."
            )
        return float(self.urgencies[urgency])

    def due(self, submitted_at: dt.datetime, category: str,
            urgency: str = "normal") -> tuple[dt.datetime, dt.datetime]:  # fmt: skip
        """(claim deadline, close deadline) of an order submitted at ``submitted_at``."""
        cat, factor = self.category(category), self.check_urgency(urgency)
        return (submitted_at + dt.timedelta(hours=cat.claim_hours * factor),
                submitted_at + dt.timedelta(hours=cat.close_hours * factor))  # fmt: skip

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, object]]) -> TimeLimits:
        """Limits from records with ``code``, ``zh``, ``en``, ``claim_hours``, ``close_hours``."""
        cats = []
        for i, rec in enumerate(records):
            try:
                cats.append(Category(str(rec["code"]), str(rec.get("zh", rec["code"])),
                                     str(rec.get("en", rec["code"])),
                                     float(rec.get("claim_hours", 24)),  # type: ignore[arg-type]
                                     float(rec.get("close_hours", 72))))  # type: ignore[arg-type]  # fmt: skip
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(
                    f"Order category record {i + 1} is unusable ({exc}); give "
                    "code, zh, en, claim_hours and close_hours."
                ) from None
        if not cats or len({c.code for c in cats}) != len(cats):
            raise InputError("Order categories must be a non-empty list with unique codes.")
        return cls(categories=tuple(cats))


_BEFORE_CLAIM = frozenset({"submitted", "accepted", "dispatched"})
_BEFORE_CLOSE = frozenset({"claimed", "in_progress", "done", "verified"})


def overdue_stage(state: str, claim_due: dt.datetime, close_due: dt.datetime,
                  now: dt.datetime) -> str | None:  # fmt: skip
    """``"claim"`` or ``"close"`` when an order in ``state`` is past that deadline at ``now``.

    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> h = dt.timedelta(hours=1)
    >>> overdue_stage("dispatched", t, t + 5 * h, t + h), overdue_stage("claimed", t, t + 5 * h, t + h)
    ('claim', None)
    >>> overdue_stage("in_progress", t, t + 5 * h, t + 6 * h), overdue_stage("closed", t, t, t + h)
    ('close', None)
    """  # noqa: E501
    if state in _BEFORE_CLAIM:
        return "claim" if now > claim_due else ("close" if now > close_due else None)
    if state in _BEFORE_CLOSE:
        return "close" if now > close_due else None
    return None


def flag_overdue(orders: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """``orders`` with ``overdue_stage`` and ``overdue`` columns at ``now``.

    Needs ``state``, ``claim_due_at`` and ``close_due_at`` (timezone-aware). Escalation rule:
    an overdue order not yet escalated goes to the community admin (``escalate`` column).
    """
    import pandas as pd

    out = orders.copy()
    stages = [overdue_stage(s, c, d, now) for s, c, d in
              zip(out["state"], out["claim_due_at"], out["close_due_at"], strict=True)]  # fmt: skip
    out["overdue_stage"] = pd.Series(stages, index=out.index, dtype="object")
    out["overdue"] = out["overdue_stage"].notna()
    escalated = out["escalated_at"].notna() if "escalated_at" in out else False
    out["escalate"] = out["overdue"] & ~escalated
    return out


# --------------------------------------------------------------------------- statistics
_UTC_TIMES = "datetime64[ns, UTC]"


def milestones(transitions: pd.DataFrame) -> pd.DataFrame:
    """First time each order reached ``claimed`` and ``closed``, and who claimed it last.

    ``transitions``: columns ``order_id``, ``to_state``, ``at``, ``actor`` (state changes only).
    Returns a frame indexed by ``order_id`` with ``claimed_at``, ``closed_at``, ``claimed_by``.
    """
    import pandas as pd

    if transitions.empty:
        index = pd.Index([], name="order_id")
        return pd.DataFrame({"claimed_at": pd.Series([], index=index, dtype=_UTC_TIMES),
                             "closed_at": pd.Series([], index=index, dtype=_UTC_TIMES),
                             "claimed_by": pd.Series([], index=index, dtype=object)})  # fmt: skip
    t = transitions.sort_values(["order_id", "at"])
    first = t.groupby(["order_id", "to_state"])["at"].min().unstack()
    out = pd.DataFrame(index=first.index)
    for state, col in (("claimed", "claimed_at"), ("closed", "closed_at")):
        times = first[state] if state in first else pd.Series(pd.NaT, index=first.index)
        out[col] = pd.to_datetime(times, utc=True)
    claims = t[t["to_state"] == "claimed"].groupby("order_id")["actor"].last()
    out["claimed_by"] = claims.reindex(out.index)
    return out


def _hours(delta: pd.Series) -> pd.Series:
    import pandas as pd

    return pd.to_timedelta(delta).dt.total_seconds() / 3600.0


def order_statistics(orders: pd.DataFrame, transitions: pd.DataFrame, *, by: str,
                     now: dt.datetime, categories: Iterable[str] = (),
                     ) -> pd.DataFrame:  # fmt: skip
    """Per value of column ``by`` (``grid_code``, ``community_code``, ``subdistrict``):
    orders by state and category, median hours to claim and to close, overdue share, mean rating.

    ``orders``: ``id``, ``by``, ``state``, ``category``, ``submitted_at``, ``claim_due_at``,
    ``close_due_at``, ``rating``; ``transitions`` as for :func:`milestones`. Columns
    ``state_<s>`` for every state and ``category_<c>`` for every category seen or given.

    >>> import pandas as pd
    >>> t0 = pd.Timestamp("2026-01-01", tz="UTC")
    >>> h = pd.Timedelta(hours=1)
    >>> orders = pd.DataFrame({"id": [1, 2], "grid_code": ["g1", "g1"],
    ...     "state": ["closed", "dispatched"], "category": ["repairs", "safety"],
    ...     "submitted_at": [t0, t0], "claim_due_at": [t0 + 4 * h] * 2,
    ...     "close_due_at": [t0 + 9 * h] * 2, "rating": [None, None]})
    >>> moves = pd.DataFrame({"order_id": [1, 1], "to_state": ["claimed", "closed"],
    ...     "at": [t0 + 2 * h, t0 + 8 * h], "actor": ["li", "admin"]})
    >>> row = order_statistics(orders, moves, by="grid_code", now=t0 + 5 * h).iloc[0]
    >>> int(row["orders"]), int(row["open"]), float(row["median_hours_to_close"]), float(row["overdue_share"])
    (2, 1, 8.0, 0.5)
    """  # noqa: E501
    import pandas as pd

    cats = sorted(set(categories) | set(orders["category"].dropna()))
    columns = [
        by,
        "orders",
        "open",
        *(f"state_{s}" for s in STATES),
        *(f"category_{c}" for c in cats),
        "median_hours_to_claim",
        "median_hours_to_close",
        "overdue",
        "overdue_share",
        "ratings",
        "mean_rating",
    ]
    if orders.empty:
        return pd.DataFrame(columns=columns)
    frame = flag_overdue(orders, now).set_index("id")
    frame = frame.join(milestones(transitions), how="left")
    frame["to_claim"] = _hours(frame["claimed_at"] - frame["submitted_at"])
    frame["to_close"] = _hours(frame["closed_at"] - frame["submitted_at"])
    frame["rating"] = pd.to_numeric(frame["rating"], errors="coerce")
    groups = frame.groupby(by, dropna=False, sort=True)
    out = pd.DataFrame({"orders": groups.size()})
    out["open"] = groups["state"].agg(lambda s: int(s.isin(OPEN_STATES).sum()))
    for state in STATES:
        out[f"state_{state}"] = groups["state"].agg(lambda s, v=state: int((s == v).sum()))
    for cat in cats:
        out[f"category_{cat}"] = groups["category"].agg(lambda s, v=cat: int((s == v).sum()))
    out["median_hours_to_claim"] = groups["to_claim"].median().round(2)
    out["median_hours_to_close"] = groups["to_close"].median().round(2)
    out["overdue"] = groups["overdue"].sum().astype(int)
    out["overdue_share"] = (out["overdue"] / out["orders"]).round(4)
    out["ratings"] = groups["rating"].count().astype(int)
    out["mean_rating"] = groups["rating"].mean().round(2)
    return out.reset_index()[columns]


def staff_statistics(transitions: pd.DataFrame) -> pd.DataFrame:
    """Per staff member or party member: orders taken (claimed) and finished (done).

    ``transitions``: ``order_id``, ``to_state``, ``actor``, ``actor_role``. An order claimed,
    handed back and claimed again counts once for each person who claimed it.

    >>> import pandas as pd
    >>> moves = pd.DataFrame({"order_id": [1, 1, 2], "to_state": ["claimed", "done", "claimed"],
    ...     "actor": ["li", "li", "wang"], "actor_role": ["party_member", "party_member", "grid_worker"]})
    >>> staff_statistics(moves).to_dict("records")
    [{'actor': 'li', 'actor_role': 'party_member', 'taken': 1, 'done': 1}, {'actor': 'wang', 'actor_role': 'grid_worker', 'taken': 1, 'done': 0}]
    """  # noqa: E501
    import pandas as pd

    cols = ["actor", "actor_role", "taken", "done"]
    work = transitions[transitions["to_state"].isin(["claimed", "done"])]
    if work.empty:
        return pd.DataFrame(columns=cols)
    counts = (work.drop_duplicates(["order_id", "to_state", "actor"])
              .groupby(["actor", "to_state"]).size().unstack(fill_value=0))  # fmt: skip
    out = pd.DataFrame({"taken": counts.get("claimed", 0), "done": counts.get("done", 0)},
                       index=counts.index).astype(int)  # fmt: skip
    roles = work.groupby("actor")["actor_role"].last()
    out.insert(0, "actor_role", roles.reindex(out.index))
    return out.reset_index().rename(columns={"index": "actor"})[cols].sort_values(
        ["actor"], kind="stable", ignore_index=True)  # fmt: skip
