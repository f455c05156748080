"""Work orders in the store, both backends: routing, every illegal move, concurrent claims,
scope, deadlines with a controllable clock, append-only history, encryption at rest."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text

from gridmap.orders import STATES, TRANSITIONS, IllegalTransition, RoleNotAllowed
from service.storage import orders as o
from service.storage.auth import PermissionDenied, Principal
from service.storage.lookup import lookup_point
from service.storage.plans import publish_plan
from service.storage.session import make_engine, make_sessionmaker
from tests.service.orders.conftest import (
    A1,
    A2,
    A3,
    ADMIN_A,
    DISTRICT,
    POINT_A1,
    POINT_B1,
    T0,
    WORKER_A1,
    WORKER_A1_BIS,
    WORKER_A2,
)

H = dt.timedelta(hours=1)
# A real path from submitted to each state: (principal, target, note).
_PATH = [(ADMIN_A, "accepted", None), (ADMIN_A, "dispatched", None), (WORKER_A1, "claimed", None),
         (WORKER_A1, "in_progress", None), (WORKER_A1, "done", "修好了"),
         (ADMIN_A, "verified", None), (ADMIN_A, "closed", None), ("reporter", "rated", None),
         (ADMIN_A, "published", None)]  # fmt: skip


def _submit(session, point=POINT_A1, category="repairs", urgency="normal", now=T0):
    new = o.NewOrder(
        category=category,
        description="路灯坏了",
        lon=point[0],
        lat=point[1],
        urgency=urgency,
        reporter_name="欧阳明珠",
        reporter_phone="13612345678",
    )
    return o.submit_order(session, new, now=now)


def _order_in(session, state):
    """A new order of grid A1 brought to ``state`` by real moves."""
    sub = _submit(session)
    oid = sub.order.id
    if state in ("merged", "declined"):
        other = _submit(session).order.id
        o.transition_order(session, ADMIN_A, order_id=oid, to=state, note="重复",
                           merged_into=other)  # fmt: skip
        return sub
    targets = [to for _, to, _ in _PATH]
    steps = _PATH[: targets.index(state) + 1] if state != "submitted" else []
    for who, to, note in steps:
        if who == "reporter":
            o.rate_order(session, receipt_code=sub.receipt_code, rating=5)
        else:
            o.transition_order(session, who, order_id=oid, to=to, note=note)
    return sub


def test_every_illegal_move_is_refused(orders_session):
    """All 144 (from, to) pairs: the illegal ones raise and change nothing."""
    s = orders_session
    refused = 0
    for state in STATES:
        sub = _order_in(s, state)
        assert o.get_order(s, DISTRICT, order_id=sub.order.id).state == state
        for to in STATES:
            if (state, to) in TRANSITIONS:
                continue
            with pytest.raises(IllegalTransition, match=f"is '{state}' and cannot go to '{to}'"):
                o.transition_order(s, DISTRICT, order_id=sub.order.id, to=to, note="n")
            refused += 1
        assert o.get_order(s, DISTRICT, order_id=sub.order.id).state == state
    assert refused == len(STATES) ** 2 - len(TRANSITIONS)


def test_roles_and_people(orders_session):
    s = orders_session
    oid = _submit(s).order.id
    with pytest.raises(RoleNotAllowed, match="only: community admin, district admin"):
        o.transition_order(s, WORKER_A1, order_id=oid, to="accepted")
    o.transition_order(s, ADMIN_A, order_id=oid, to="accepted")
    o.transition_order(s, ADMIN_A, order_id=oid, to="dispatched", assignee="worker_a1b")
    with pytest.raises(RoleNotAllowed, match="dispatched to 'worker_a1b'"):
        o.transition_order(s, WORKER_A1, order_id=oid, to="claimed")
    o.transition_order(s, WORKER_A1_BIS, order_id=oid, to="claimed")
    with pytest.raises(RoleNotAllowed, match="Only 'worker_a1b', who claimed"):
        o.transition_order(s, WORKER_A1, order_id=oid, to="in_progress")
    o.transition_order(s, WORKER_A1_BIS, order_id=oid, to="in_progress")
    with pytest.raises(o.InputError, match="needs a note saying what was done"):
        o.transition_order(s, WORKER_A1_BIS, order_id=oid, to="done")
    with pytest.raises(PermissionDenied):
        o.transition_order(s, Principal("anyone"), order_id=oid, to="in_progress")


def test_scope(orders_session):
    s = orders_session
    a1 = _submit(s).order.id
    b1 = _submit(s, point=POINT_B1).order.id
    with pytest.raises(PermissionDenied, match="outside the scope of user 'worker_a2'"):
        o.get_order(s, WORKER_A2, order_id=a1)
    with pytest.raises(PermissionDenied):
        o.transition_order(s, WORKER_A2, order_id=a1, to="claimed")
    with pytest.raises(PermissionDenied):
        o.transition_order(s, ADMIN_A, order_id=b1, to="accepted")
    assert o.list_orders(s, WORKER_A2).number_matched == 0
    assert [v.id for v in o.list_orders(s, WORKER_A1).orders] == [a1]
    assert [v.id for v in o.list_orders(s, ADMIN_A).orders] == [a1]
    assert o.list_orders(s, DISTRICT).number_matched == 2
    with pytest.raises(o.NotFoundError):
        o.get_order(s, DISTRICT, order_id=999)


def test_routing_boundaries_outside_and_replanning(orders_session):
    s = orders_session
    on_line = (109.18333, 27.725)  # the line between grids A001 and A002
    routes = {o.route_order(s, lon=on_line[0], lat=on_line[1]).grid_code for _ in range(5)}
    assert routes == {A1} == {lookup_point(s, lon=on_line[0], lat=on_line[1]).grid.id}
    between = o.route_order(s, lon=109.190, lat=27.725)  # the line between communities A and B
    assert (between.community_code, between.grid_code) == (A1[:12], A3)
    assert o.route_order(s, building_id="B00120").grid_code == A2
    with pytest.raises(o.OutsideCommunities, match="lon=100.0, lat=30.0 is outside every"):
        o.route_order(s, lon=100.0, lat=30.0)
    with pytest.raises(o.InputError, match="Building 'nope' is not in the store"):
        o.route_order(s, building_id="nope")
    point = (109.1840, 27.725)  # A002 in plan 1; A001 in the draft plan 2
    before = _submit(s, point=point).order
    assert (before.grid_code, o.get_order(s, DISTRICT, order_id=before.id).grid_code) == (A2, A2)
    publish_plan(session=s, plan_id=2)
    s.commit()
    after = _submit(s, point=point).order
    assert after.grid_code == A1
    assert o.get_order(s, DISTRICT, order_id=before.id).grid_code == A2  # kept


def _claim_race(url: str, order_id: int, workers: list[Principal]) -> list[str]:
    engine = make_engine(url)
    barrier = threading.Barrier(len(workers))
    results: list[str] = [""] * len(workers)

    def claim(i: int, who: Principal) -> None:
        with make_sessionmaker(engine)() as session:
            barrier.wait()
            try:
                o.transition_order(session, who, order_id=order_id, to="claimed")
                session.commit()
                results[i] = "won"
            except IllegalTransition as exc:
                session.rollback()
                results[i] = f"lost: {exc}"

    threads = [threading.Thread(target=claim, args=(i, w)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    engine.dispose()
    return results


def test_concurrent_claims_exactly_one_wins(toy_url, orders_session):
    s = orders_session
    workers = [Principal(f"w{i}", "grid_worker", grid_codes=(A1,)) for i in range(6)]
    workers += [Principal(f"p{i}", "party_member", grid_codes=(A1,)) for i in range(2)]
    for _round in range(3):
        oid = _submit(s).order.id
        o.transition_order(s, ADMIN_A, order_id=oid, to="accepted")
        o.transition_order(s, ADMIN_A, order_id=oid, to="dispatched")
        s.commit()
        results = _claim_race(toy_url, oid, workers)
        assert results.count("won") == 1, results
        assert all("is 'claimed' and cannot go to 'claimed'" in r for r in results if r != "won")
        s.expire_all()
        winner = workers[results.index("won")].username
        assert o.get_order(s, DISTRICT, order_id=oid).claimed_by == winner
        claims = [h for h in o.order_history(s, DISTRICT, order_id=oid) if h.to_state == "claimed"]
        assert [h.actor for h in claims] == [winner]


def test_deadlines_overdue_and_escalation(orders_session):
    s = orders_session
    oid = _submit(s, category="safety", urgency="urgent").order.id  # claim 1 h, close 6 h
    quiet = _submit(s, category="deliberation").order.id  # 72 h to claim
    assert o.escalate_overdue(s, now=T0 + 0.5 * H) == []
    assert o.get_order(s, ADMIN_A, order_id=oid, now=T0 + 2 * H).overdue == "claim"
    late = o.list_orders(s, ADMIN_A, overdue=True, now=T0 + 2 * H)
    assert [v.id for v in late.orders] == [oid]
    escalated = o.escalate_overdue(s, now=T0 + 2 * H)
    assert [v.id for v in escalated] == [oid] and escalated[0].escalated_at == T0 + 2 * H
    assert o.escalate_overdue(s, now=T0 + 3 * H) == []  # once only
    assert [v.id for v in o.list_orders(s, ADMIN_A, escalated=True).orders] == [oid]
    entry = o.order_history(s, ADMIN_A, order_id=oid)[-1]
    assert (entry.kind, entry.actor) == ("escalation", "system") and "上报社区" in entry.note
    for who, to in ((ADMIN_A, "accepted"), (ADMIN_A, "dispatched"), (WORKER_A1, "claimed")):
        o.transition_order(s, who, order_id=oid, to=to, now=T0 + 3 * H)
    assert o.get_order(s, ADMIN_A, order_id=oid, now=T0 + 5 * H).overdue is None
    assert o.get_order(s, ADMIN_A, order_id=oid, now=T0 + 7 * H).overdue == "close"
    assert o.get_order(s, ADMIN_A, order_id=quiet, now=T0 + 7 * H).overdue is None


def test_history_is_append_only_and_contacts_encrypted(orders_session):
    s = orders_session
    sub = _submit(s)
    s.commit()
    for statement in ("UPDATE work_order_transition SET note = 'x'",
                      "DELETE FROM work_order_transition"):  # fmt: skip
        with pytest.raises(Exception, match="append-only"):
            s.execute(text(statement))
        s.rollback()
    name, phone, receipt = s.execute(text(
        "SELECT reporter_name, reporter_phone, receipt_hash FROM work_order")).one()  # fmt: skip
    assert name.startswith("gm1:") and phone.startswith("gm1:")
    assert sub.receipt_code.replace("-", "") not in receipt
    view = o.get_order_by_receipt(s, receipt_code=sub.receipt_code)
    assert view.id == sub.order.id and view.outcome is None


def test_key_rotation_re_encrypts_reporters(orders_session):
    from service.storage.crypto import decrypt, derive_keys, keys_of, rotate_store_key

    s = orders_session
    _submit(s)
    s.commit()
    old, new = keys_of(s), derive_keys(bytes(range(32)))
    with s.get_bind().connect() as connection, connection.begin():
        assert rotate_store_key(connection, old, new) >= 2
        name, phone = connection.execute(text(
            "SELECT reporter_name, reporter_phone FROM work_order")).one()  # fmt: skip
    assert decrypt(name, purpose="name", keys=new) == "欧阳明珠"
    assert decrypt(phone, purpose="phone", keys=new) == "13612345678"
