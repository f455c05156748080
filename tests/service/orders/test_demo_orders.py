"""Demo work orders on both backends: every state, by real moves, deterministic."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from gridmap.orders import STATES, TRANSITIONS
from service.demo_orders import seed_demo_orders
from service.storage.order_models import Order, OrderTransition
from service.storage.session import make_engine, session_scope
from tests.service.api.conftest import seed_toy_district

NOW = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)


def _build(url: str, n: int) -> tuple[list[tuple], list[tuple], int]:
    seed_toy_district(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        summary = seed_demo_orders(s, now=NOW, seed=7, n=n)
    with session_scope(engine) as s:
        orders = s.execute(
            select(
                Order.id,
                Order.state,
                Order.grid_code,
                Order.category,
                Order.rating,
                Order.escalated_at,
            ).order_by(Order.id)
        ).all()
        moves = s.execute(select(OrderTransition.order_id, OrderTransition.kind,
                                 OrderTransition.from_state, OrderTransition.to_state,
                                 OrderTransition.actor, OrderTransition.at)
                          .order_by(OrderTransition.id)).all()  # fmt: skip
    engine.dispose()
    assert summary.total == n
    return [tuple(r) for r in orders], [tuple(r) for r in moves], summary.escalated


def test_demo_orders_every_state_real_moves_deterministic(store_url, make_store, backend):
    orders, moves, escalated = _build(store_url, 24)
    assert {o[1] for o in orders} == set(STATES)
    assert escalated > 0 and sum(o[5] is not None for o in orders) == escalated
    for oid, state, *_ in orders:
        chain = [(f, t) for o, kind, f, t, _, _ in moves if o == oid and kind == "transition"]
        assert chain[0] == (None, "submitted") and chain[-1][1] == state
        assert all(pair in TRANSITIONS for pair in chain[1:])
        times = [at for o, _, _, _, _, at in moves if o == oid]
        assert times == sorted(times)
    if backend == "spatialite":  # the seed, not the backend, decides: one rebuild is enough
        again = _build(make_store(), 24)
        assert again[0] == orders and [m[:5] for m in again[1]] == [m[:5] for m in moves]
