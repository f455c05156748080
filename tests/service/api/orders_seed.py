"""Work orders for the Open311, staff-page and board tests, on the toy district with residents.

Written through :mod:`service.storage.orders` (the real flow, every move checked), submitted
now, with personal values planted in reporter fields, descriptions and notes: none of them may
appear in a public answer. Orders (by key):

- ``submitted``: grid A001, a leaking pipe, still ``submitted``;
- ``open``: grid A001, accepted and dispatched open for claiming (the staff page claims it);
- ``assigned``: grid A001, dispatched to ``worker``;
- ``other``: grid A002, dispatched (not the A001 worker's);
- ``published``: grid A002, the whole flow to ``published`` with rating 4 and a public outcome;
- ``declined``, ``merged`` (into ``submitted``): grid A001;
- ``community_b``: grid B001, in progress.
"""

from __future__ import annotations

from service.storage import orders as store
from service.storage.auth import Principal
from service.storage.session import make_engine, session_scope
from tests.service.api.conftest import A, B

A1, A2, B1 = f"{A}001", f"{A}002", f"{B}001"
POINT = {A1: (109.1815, 27.725), A2: (109.185, 27.724), B1: (109.1925, 27.726)}
PLANTED = ["刘小红", "13698765432", "张大爷", "13812345678", "陈师傅", "15900001111",
           "520602198808081234", "幸福路8号2单元301"]  # fmt: skip
"""Names, phones, an ID number and a home address put into orders: never public."""
PUBLIC_OUTCOME = "已更换楼道灯，楼道照明恢复"

ADMIN_A = Principal("cadmin", "community_admin", community_code=A)
ADMIN_B = Principal("badmin", "community_admin", community_code=B)
WORKER = Principal("worker", "grid_worker", grid_codes=(A1,))
WORKER2 = Principal("worker2", "grid_worker", grid_codes=(A2, B1))


def _submit(session, grid: str, category: str, text: str, **extra) -> int:
    lon, lat = POINT[grid]
    new = store.NewOrder(category=category, description=text, lon=lon, lat=lat,
                         reporter_name="刘小红", reporter_phone="13698765432")  # fmt: skip
    done = store.submit_order(session, new, **extra)
    return done.order.id


def _moves(session, order_id: int, *moves) -> None:
    for principal, to, kwargs in moves:
        store.transition_order(session, principal, order_id=order_id, to=to, **kwargs)


def seed_orders(url: str) -> dict[str, int]:
    """Write the orders above into the store at ``url`` (toy district and users already there)."""
    engine = make_engine(url)
    ids: dict[str, int] = {}
    with session_scope(engine) as s:
        text = "张大爷（13812345678）家幸福路8号2单元301水管漏水，身份证520602198808081234"
        ids["submitted"] = _submit(s, A1, "repairs", text)
        ids["open"] = _submit(
            s, A1, "environment", "楼下垃圾堆放三天无人清理，联系陈师傅15900001111"
        )
        _moves(s, ids["open"], (ADMIN_A, "accepted", {}), (ADMIN_A, "dispatched", {}))
        ids["assigned"] = _submit(s, A1, "elderly_care", "独居老人需要助餐")
        _moves(s, ids["assigned"], (ADMIN_A, "accepted", {}),
               (ADMIN_A, "dispatched", {"assignee": "worker"}))  # fmt: skip
        ids["other"] = _submit(s, A2, "safety", "楼道堆放杂物")
        _moves(s, ids["other"], (ADMIN_A, "accepted", {}), (ADMIN_A, "dispatched", {}))
        text = "3号楼楼道灯坏了，刘小红反映"
        new = store.NewOrder(category="repairs", description=text, lon=POINT[A2][0],
                             lat=POINT[A2][1], reporter_name="刘小红",
                             reporter_phone="13698765432")  # fmt: skip
        published = store.submit_order(s, new)
        ids["published"] = published.order.id
        _moves(s, ids["published"], (ADMIN_A, "accepted", {}), (ADMIN_A, "dispatched", {}),
               (WORKER2, "claimed", {}), (WORKER2, "in_progress", {}),
               (WORKER2, "done", {"note": "陈师傅15900001111上门换灯"}),
               (ADMIN_A, "verified", {}), (ADMIN_A, "closed", {}))  # fmt: skip
        store.rate_order(s, receipt_code=published.receipt_code, rating=4, note="刘小红满意")
        _moves(s, ids["published"], (ADMIN_A, "published", {"note": PUBLIC_OUTCOME}))
        ids["declined"] = _submit(s, A1, "disputes", "邻居刘小红吵闹")
        _moves(s, ids["declined"], (ADMIN_A, "declined", {"note": "不属于社区职责"}))
        ids["merged"] = _submit(s, A1, "repairs", "又是水管漏水 13812345678")
        _moves(
            s, ids["merged"], (ADMIN_A, "merged", {"note": "重复", "merged_into": ids["submitted"]})
        )
        ids["community_b"] = _submit(s, B1, "environment", "绿化带缺水")
        _moves(s, ids["community_b"], (ADMIN_B, "accepted", {}), (ADMIN_B, "dispatched", {}),
               (WORKER2, "claimed", {}), (WORKER2, "in_progress", {}))  # fmt: skip
    engine.dispose()
    return ids
