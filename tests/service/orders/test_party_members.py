"""The party_member role on both backends: migration 0005 keeps users and their grids, party
members take work orders in their grids and see no residents."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gridmap.orders import RoleNotAllowed
from service.storage import orders as o
from service.storage.auth import PermissionDenied, create_user, principal_for
from service.storage.migrate import downgrade_database, upgrade_database
from service.storage.residents import list_residents
from service.storage.session import make_engine
from tests.service.orders.conftest import A1, A2, ADMIN_A, POINT_A1, POINT_A2
from tests.service.residents_seed import use_fast_password_hashing

_USER = ("INSERT INTO app_user (username, password_hash, role, token_version, can_reveal, active)"
         " VALUES (:n, 'x', :r, 'v', false, true)")  # fmt: skip


def test_migration_keeps_users_and_grids_and_allows_the_role(make_store):
    engine = make_engine(make_store(migrated=False))
    upgrade_database(engine, revision="0004")
    with engine.begin() as c:
        c.execute(text(_USER), {"n": "old_worker", "r": "grid_worker"})
        uid = c.execute(text("SELECT id FROM app_user WHERE username = 'old_worker'")).scalar()
        c.execute(text("INSERT INTO app_user_grid VALUES (:u, :g)"), {"u": uid, "g": A1})
        with pytest.raises(Exception, match="ck_app_user_role|CHECK"), c.begin_nested():
            c.execute(text(_USER), {"n": "early", "r": "party_member"})
    upgrade_database(engine)
    with engine.begin() as c:
        grids = c.execute(text("SELECT user_id, grid_code FROM app_user_grid")).all()
        assert [tuple(g) for g in grids] == [(uid, A1)]
        c.execute(text(_USER), {"n": "member", "r": "party_member"})
        with pytest.raises(Exception, match="ck_app_user_role|CHECK"), c.begin_nested():
            c.execute(text(_USER), {"n": "mayor", "r": "mayor"})
    with pytest.raises(RuntimeError, match="party_member role exist"):
        downgrade_database(engine, revision="0004")
    with engine.begin() as c:
        c.execute(text("DELETE FROM app_user WHERE role = 'party_member'"))
    assert downgrade_database(engine, revision="0004") == "0004"
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM app_user_grid")).scalar() == 1
    engine.dispose()


def test_party_member_takes_orders_but_sees_no_residents(orders_session, monkeypatch):
    use_fast_password_hashing(monkeypatch)
    s = orders_session
    create_user(session=s, username="party1", password="pw-8f2c1d9e7a6b5c4d", role="party_member",
                grid_codes=[A1])  # fmt: skip
    member = principal_for(session=s, username="party1")
    assert member.role == "party_member" and member.grid_codes == (A1,)
    mine = o.submit_order(s, o.NewOrder("elderly_care", "独居老人探访", *POINT_A1)).order.id
    other = o.submit_order(s, o.NewOrder("repairs", "路灯", *POINT_A2)).order.id
    for to in ("accepted", "dispatched"):
        o.transition_order(s, ADMIN_A, order_id=mine, to=to)
    with pytest.raises(RoleNotAllowed):
        o.transition_order(s, member, order_id=mine, to="accepted")
    assert o.transition_order(s, member, order_id=mine, to="claimed").claimed_by == "party1"
    with pytest.raises(PermissionDenied):
        o.get_order(s, member, order_id=other)
    assert [v.id for v in o.list_orders(s, member).orders] == [mine]
    with pytest.raises(PermissionDenied):
        list_residents(s, member, grid_code=A1)
    assert A2 not in member.grid_codes
