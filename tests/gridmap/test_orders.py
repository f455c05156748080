"""gridmap.orders: the transition table over every state pair and role, details, deadlines,
statistics."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from gridmap.errors import InputError
from gridmap.orders import (
    ROLES,
    STATES,
    TRANSITIONS,
    IllegalTransition,
    Move,
    RoleNotAllowed,
    TimeLimits,
    check_transition,
    flag_overdue,
    label,
    next_states,
    order_statistics,
    staff_statistics,
)

T0 = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
_DETAILS = {"note": "说明", "rating": 4}


@pytest.mark.parametrize(("current", "to"), list(itertools.product(STATES, STATES)))
def test_every_state_pair(current, to):
    """Each of the 144 pairs: refused for every role unless listed, then only for its roles."""
    allowed = TRANSITIONS.get((current, to))
    for role in ROLES:
        if allowed is None:
            with pytest.raises(IllegalTransition) as err:
                check_transition(current, Move(to, role, **_DETAILS))
            assert err.value.allowed == next_states(current)
            assert f"is {current!r} and cannot go to {to!r}" in str(err.value)
        elif role not in allowed:
            with pytest.raises(RoleNotAllowed, match="only: "):
                check_transition(current, Move(to, role, **_DETAILS))
        else:
            check_transition(current, Move(to, role, actor="x", **_DETAILS))


def test_the_flow_is_connected_and_final_states_are_final():
    reachable, frontier = {"submitted"}, ["submitted"]
    while frontier:
        for nxt in next_states(frontier.pop()):
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(STATES)
    assert [s for s in STATES if not next_states(s)] == ["merged", "declined", "published"]


def test_people_and_details():
    with pytest.raises(RoleNotAllowed, match="dispatched to 'li'"):
        check_transition("dispatched", Move("claimed", "grid_worker", actor="wang"), assignee="li")
    check_transition("dispatched", Move("claimed", "party_member", actor="li"), assignee="li")
    check_transition("dispatched", Move("claimed", "community_admin", actor="office"),
                     assignee="物业")  # fmt: skip
    with pytest.raises(RoleNotAllowed, match="Only 'li', who claimed"):
        check_transition("in_progress", Move("done", "grid_worker", actor="wang", note="x"),
                         claimed_by="li")  # fmt: skip
    with pytest.raises(InputError, match="needs a note saying the reason"):
        check_transition("submitted", Move("declined", "community_admin", note="  "))
    for rating in (None, 0, 6):
        with pytest.raises(InputError, match="rating is a whole number from 1 to 5"):
            check_transition("closed", Move("rated", "reporter", rating=rating))
    with pytest.raises(InputError, match="Unknown work-order state 'lost'"):
        check_transition("submitted", Move("lost", "community_admin"))
    with pytest.raises(InputError, match="Unknown role 'mayor'"):
        check_transition("submitted", Move("accepted", "mayor"))


def test_labels_are_bilingual():
    assert (label("published"), label("published", "en")) == ("已晒单", "published")
    assert all(label(s) != label(s, "en") for s in STATES)


def test_time_limits_and_configured_categories():
    limits = TimeLimits()
    assert limits.due(T0, "repairs") == (T0 + 24 * H, T0 + 120 * H)
    assert limits.due(T0, "repairs", "low") == (T0 + 48 * H, T0 + 240 * H)
    with pytest.raises(InputError, match=r"Unknown category 'x'; use one of: repairs \(维修\)"):
        limits.category("x")
    with pytest.raises(InputError, match="Unknown urgency 'now'"):
        limits.due(T0, "repairs", "now")
    custom = TimeLimits.from_records([{"code": "parking", "zh": "停车", "en": "parking",
                                       "claim_hours": 2, "close_hours": 10}])  # fmt: skip
    assert custom.due(T0, "parking", "urgent") == (T0 + 0.5 * H, T0 + 2.5 * H)
    with pytest.raises(InputError, match="record 1 is unusable"):
        TimeLimits.from_records([{"zh": "无代码"}])
    with pytest.raises(InputError, match="unique codes"):
        TimeLimits.from_records([{"code": "a"}, {"code": "a"}])


def test_overdue_flags_at_a_given_clock():
    frame = pd.DataFrame({
        "state": ["dispatched", "claimed", "in_progress", "closed", "submitted"],
        "claim_due_at": [T0 + H] * 5, "close_due_at": [T0 + 5 * H] * 5,
        "escalated_at": [None, None, T0, None, None],
    })  # fmt: skip
    at_2h = flag_overdue(frame, T0 + 2 * H)
    assert at_2h["overdue_stage"].tolist() == ["claim", None, None, None, "claim"]
    at_6h = flag_overdue(frame, T0 + 6 * H)
    assert at_6h["overdue_stage"].tolist() == ["claim", "close", "close", None, "claim"]
    assert at_6h["escalate"].tolist() == [True, True, False, False, True]


def _orders_and_moves():
    orders = pd.DataFrame({
        "id": [1, 2, 3, 4], "grid_code": ["g1", "g1", "g2", "g2"],
        "community_code": ["c"] * 4, "state": ["rated", "in_progress", "published", "submitted"],
        "category": ["repairs", "safety", "repairs", "repairs"], "submitted_at": [T0] * 4,
        "claim_due_at": [T0 + 4 * H] * 4, "close_due_at": [T0 + 48 * H] * 4,
        "rating": [5, None, 3, None],
    })  # fmt: skip
    moves = pd.DataFrame([
        (1, "claimed", T0 + 1 * H, "li", "party_member"),
        (1, "done", T0 + 5 * H, "li", "party_member"),
        (1, "closed", T0 + 10 * H, "adm", "community_admin"),
        (2, "claimed", T0 + 3 * H, "wang", "grid_worker"),
        (3, "claimed", T0 + 2 * H, "li", "party_member"),
        (3, "done", T0 + 6 * H, "li", "party_member"),
        (3, "closed", T0 + 20 * H, "adm", "community_admin"),
    ], columns=["order_id", "to_state", "at", "actor", "actor_role"])  # fmt: skip
    return orders, moves


def test_statistics_per_grid_and_community():
    orders, moves = _orders_and_moves()
    grid = order_statistics(orders, moves, by="grid_code", now=T0 + 6 * H).set_index("grid_code")
    assert grid.loc["g1", ["orders", "open", "state_rated", "category_safety"]].tolist() == [
        2, 1, 1, 1]  # fmt: skip
    assert grid.loc["g1", "median_hours_to_claim"] == 2.0  # orders 1 (1 h) and 2 (3 h)
    assert grid.loc["g2", "median_hours_to_close"] == 20.0
    assert grid.loc["g2", "overdue_share"] == 0.5  # order 4, unclaimed after 4 h
    assert (grid.loc["g1", "mean_rating"], grid.loc["g2", "ratings"]) == (5.0, 1)
    community = order_statistics(orders, moves, by="community_code", now=T0,
                                 categories=["elderly_care"])  # fmt: skip
    row = community.iloc[0]
    assert (row["orders"], row["category_elderly_care"], row["mean_rating"]) == (4, 0, 4.0)
    assert row["median_hours_to_close"] == 15.0 and row["overdue"] == 0
    unclaimed = order_statistics(orders, moves[moves["to_state"] == "done"], by="grid_code",
                                 now=T0)  # fmt: skip
    assert unclaimed["median_hours_to_claim"].isna().all()
    none_moved = order_statistics(orders, moves.iloc[:0], by="community_code", now=T0)
    assert none_moved.iloc[0]["orders"] == 4
    empty = order_statistics(orders.iloc[:0], moves.iloc[:0], by="grid_code", now=T0)
    assert empty.empty and "overdue_share" in empty.columns


def test_staff_statistics():
    _, moves = _orders_and_moves()
    out = staff_statistics(moves).to_dict("records")
    assert out == [
        {"actor": "li", "actor_role": "party_member", "taken": 2, "done": 2},
        {"actor": "wang", "actor_role": "grid_worker", "taken": 1, "done": 0},
    ]
