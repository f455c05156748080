"""Demo work orders: a few hundred orders in every state, made by real moves, deterministic.

:func:`seed_demo_orders` submits orders at the demo's buildings (routed like any order) and
walks each one through :func:`service.storage.orders.transition_order` to a target state, with
an explicit clock: the same ``seed`` and ``now`` give the same orders, states, actors and times.
Reporters are fictitious (random surname + given name, 139 numbers), stored encrypted like any
reporter. Actors are demo user names: ``admin_<community>`` (community admin),
``worker_<grid>`` and ``party_<grid>`` (grid worker, party member; ``<grid>`` is the last six
digits of the grid code). Open orders past their deadline at ``now`` are escalated.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridmap.orders import DEFAULT_CATEGORIES, STATES
from service.storage import models as m
from service.storage import orders as store
from service.storage.auth import Principal

__all__ = ["DEMO_ORDERS", "DemoOrders", "seed_demo_orders", "demo_actor"]

DEMO_ORDERS = 300
_H = dt.timedelta(hours=1)
_PATH = ("accepted", "dispatched", "claimed", "in_progress", "done", "verified", "closed",
         "rated", "published")  # fmt: skip
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
_GIVEN = "明华建国英玉兰秀芳军平志强海燕静丽伟敏磊洋勇艳杰娟涛"
_TEXTS = {
    "repairs": ("楼道灯不亮", "单元门禁损坏", "屋顶漏水", "下水道堵塞"),
    "environment": ("垃圾清运不及时", "绿化带杂草丛生", "小区内积水", "楼下油烟扰民"),
    "disputes": ("邻里噪音纠纷", "停车位占用纠纷", "楼上漏水引发纠纷"),
    "elderly_care": ("独居老人需要定期探访", "老人助餐服务申请", "适老化改造咨询"),
    "safety": ("消防通道被占用", "电动车楼道充电", "井盖缺失"),
    "deliberation": ("加装电梯意见征集", "小区停车收费议事", "公共空间改造议事"),
    "other": ("政策咨询", "证明开具咨询"),
}
_DONE = {"repairs": "已维修完毕", "environment": "已清理完毕", "disputes": "双方已达成调解协议",
         "elderly_care": "已安排志愿者结对服务", "safety": "隐患已整改", "other": "已答复",
         "deliberation": "议事会已形成决议并公示"}  # fmt: skip
_WEIGHTS = {"repairs": 30, "environment": 25, "disputes": 10, "elderly_care": 12, "safety": 10,
            "deliberation": 8, "other": 5}  # fmt: skip


@dataclass
class DemoOrders:
    """What :func:`seed_demo_orders` wrote: orders per state and escalations."""

    states: Counter[str] = field(default_factory=Counter)
    escalated: int = 0

    @property
    def total(self) -> int:
        """Number of orders."""
        return sum(self.states.values())


def demo_actor(kind: str, code: str) -> Principal:
    """The demo principal ``kind`` (admin, worker, party) of a community or grid code."""
    if kind == "admin":
        return Principal(f"admin_{code}", "community_admin", community_code=code)
    role = "grid_worker" if kind == "worker" else "party_member"
    return Principal(f"{kind}_{code[-6:]}", role, grid_codes=(code,))


def _targets(rng: random.Random, n: int) -> list[str]:
    """``n`` target states: every state at least twice, then mostly finished orders."""
    weights = {"submitted": 3, "accepted": 2, "merged": 1, "declined": 1, "dispatched": 3,
               "claimed": 2, "in_progress": 4, "done": 2, "verified": 2, "closed": 3,
               "rated": 5, "published": 12}  # fmt: skip
    base = [s for s in STATES for _ in range(2)]
    rest = rng.choices(list(weights), weights=list(weights.values()), k=max(0, n - len(base)))
    targets = base + rest
    rng.shuffle(targets)
    return targets[:n]


def _buildings(session: Session) -> list[str]:
    """Ids of the buildings inside a published grid (where orders come from)."""
    rows = session.scalars(
        select(m.GridBuilding.building_id)
        .join(m.Plan, m.Plan.id == m.GridBuilding.plan_id)
        .join(m.Building, m.Building.id == m.GridBuilding.building_id)
        .where(m.Plan.status == "published", m.Building.geom.is_not(None))
        .order_by(m.GridBuilding.building_id)
    ).all()  # fmt: skip
    return list(rows)


def seed_demo_orders(session: Session, *, now: dt.datetime, seed: int = 0,
                     n: int = DEMO_ORDERS) -> DemoOrders:  # fmt: skip
    """Submit ``n`` orders over the 30 days before ``now`` and move each to a target state.

    Flushed; the caller commits. Every state is reached by at least two orders.
    """
    rng = random.Random(seed)
    buildings = _buildings(session)
    if not buildings:
        return DemoOrders()
    cats = [c.code for c in DEFAULT_CATEGORIES]
    starts = sorted(now - dt.timedelta(days=30) + rng.random() * dt.timedelta(days=29)
                    for _ in range(n))  # fmt: skip
    summary = DemoOrders()
    previous: dict[str, int] = {}
    for target, start in zip(_targets(rng, n), starts, strict=True):
        category = rng.choices(cats, weights=[_WEIGHTS.get(c, 5) for c in cats])[0]
        new = store.NewOrder(
            category=category, description=rng.choice(_TEXTS.get(category, ("求助",))),
            building_id=rng.choice(buildings),
            urgency=rng.choices(("low", "normal", "urgent"), weights=(2, 7, 1))[0],
            reporter_name=rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.randint(1, 2))),
            reporter_phone="139" + "".join(rng.choice("0123456789") for _ in range(8)),
        )  # fmt: skip
        sub = store.submit_order(session, new, now=start)
        _walk(session, sub, target, start, now, rng, previous.get(sub.order.community_code))
        previous[sub.order.community_code] = sub.order.id
        summary.states[target] += 1
    summary.escalated = len(store.escalate_overdue(session, now=now))
    return summary


def _walk(session: Session, sub: store.Submitted, target: str, start: dt.datetime,
          now: dt.datetime, rng: random.Random, duplicate_of: int | None) -> None:  # fmt: skip
    """Move the new order to ``target`` by real moves, each some hours after the last."""
    order = sub.order
    admin = demo_actor("admin", order.community_code)
    clock = start
    if target in ("merged", "declined"):
        if target == "merged" and duplicate_of is None:
            target = "declined"
        reason = "与已受理事项重复" if target == "merged" else "不属于社区受理范围，已告知转办渠道"
        store.transition_order(session, admin, order_id=order.id, to=target, note=reason,
                               merged_into=duplicate_of, now=_tick(clock, now, rng))  # fmt: skip
        return
    taker = None
    if order.grid_code:
        taker = demo_actor(rng.choice(("worker", "party")), order.grid_code)
    for to in _PATH[: _PATH.index(target) + 1] if target != "submitted" else ():
        clock = _tick(clock, now, rng)
        if to == "rated":
            store.rate_order(session, receipt_code=sub.receipt_code,
                             rating=rng.choices((5, 4, 3, 2), weights=(6, 3, 1, 0.3))[0],
                             now=clock)  # fmt: skip
            continue
        who = taker if to in ("claimed", "in_progress", "done") and taker else admin
        outcome = _DONE.get(order.category, "已办结")
        note = {"done": outcome, "published": outcome + "，感谢居民反映"}.get(to)
        store.transition_order(session, who, order_id=order.id, to=to, note=note, now=clock)


def _tick(clock: dt.datetime, now: dt.datetime, rng: random.Random) -> dt.datetime:
    """A few hours later (sometimes days), never after ``now``."""
    step = rng.expovariate(1 / 10) * _H
    return min(clock + step, now - dt.timedelta(minutes=1))
