"""Build the demo store: the Bijiang (Tongren) sample, imported, partitioned, published, staffed.

``build_demo(url)`` migrates a store, imports the committed sample files, partitions every
community into 300-500-household grids, saves and publishes each plan, and assigns grid staff
to the new grids, then makes a few hundred work orders in every state. ``gridmap serve --demo``
calls it on a fresh SpatiaLite file.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

import geodata
from gridmap.plans.partition import partition
from service.demo_orders import DemoOrders, seed_demo_orders
from service.importer import import_files
from service.storage import models as m
from service.storage.loads import load_buildings, load_communities, load_compounds, load_streets
from service.storage.migrate import upgrade_database
from service.storage.plans import publish_plan, save_plan
from service.storage.session import make_engine, session_scope

__all__ = ["DEMO_SOURCES", "DemoSummary", "build_demo", "assign_staff"]

logger = logging.getLogger(__name__)

DEMO_SOURCES: dict[str, str] = {
    "community": "bijiang.gpkg",
    "compound": "bijiang.gpkg",
    "street": "bijiang.gpkg",
    "building": "bijiang.gpkg",
    "household": "households.csv",
    "person": "persons.csv",
    "staff": "staff.csv",
}
"""Entity → committed sample file imported by the demo."""

# Roles placed one per grid (round robin) when the sample leaves their grids empty.
_PER_GRID_ROLES = ("grid_worker", "grid_head", "party_leader")


@dataclass
class DemoSummary:
    """What the demo build wrote."""

    counts: dict[str, int] = field(default_factory=dict)
    plans: dict[str, int] = field(default_factory=dict)
    grids: int = 0
    staff_links: int = 0
    orders: DemoOrders = field(default_factory=DemoOrders)


def build_demo(
    url: str,
    *,
    seed: int = 0,
    step: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
) -> DemoSummary:
    """Build the demo into the (empty) store at ``url`` and return a summary.

    Work orders (a few hundred, every state) are made over the 30 days before ``now`` (default:
    the current hour), by real moves (:func:`service.demo_orders.seed_demo_orders`).

    Raises
    ------
    gridmap.errors.GridmapError
        If the import or a partition fails (the message names the record and the fix).
    """
    engine = make_engine(url)
    summary = DemoSummary()
    try:
        upgrade_database(engine)
        sources = {entity: geodata.get_path(name) for entity, name in DEMO_SOURCES.items()}
        _step(step, "import the Bijiang sample")
        result = import_files(sources, engine=engine, migrate=False)
        summary.counts = dict(result.counts)
        with session_scope(engine) as session:
            for code in load_communities(session=session)["community_code"]:
                _step(step, f"partition community {code}")
                plan_id, n_grids = _partition_and_publish(session, code, seed)
                summary.plans[code] = plan_id
                summary.grids += n_grids
            _step(step, "assign staff to grids")
            summary.staff_links = assign_staff(session)
            _step(step, "work orders (事项)")
            clock = now or dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
            summary.orders = seed_demo_orders(session, now=clock, seed=seed)
    finally:
        engine.dispose()
    logger.info("Demo built: %d plan(s), %d grid(s)", len(summary.plans), summary.grids)
    return summary


def _step(step: Callable[[str], None] | None, text: str) -> None:
    logger.info("demo: %s", text)
    if step is not None:
        step(text)


def _partition_and_publish(session: Session, code: str, seed: int) -> tuple[int, int]:
    community = load_communities(session=session)
    community = community[community["community_code"] == code]
    buildings = load_buildings(session=session, community_code=code, footprints=True)
    streets = load_streets(session=session, community_code=code)
    compounds = load_compounds(session=session, community_code=code)
    result = partition(community, buildings, streets=streets, compounds=compounds, seed=seed)
    grids: gpd.GeoDataFrame = result.grids
    assignment = pd.Series(
        result.assignments["grid_code"].to_numpy(),
        index=result.assignments["building_id"].to_numpy(),
    )
    plan_id = save_plan(
        session=session,
        community_code=code,
        grids=grids[["grid_code", "geometry"]],
        assignment=assignment,
        params={"min_households": 300, "max_households": 500, "seed": seed},
        name="demo partition",
    )
    publish_plan(session=session, plan_id=plan_id)
    return plan_id, len(grids)


def assign_staff(session: Session) -> int:
    """Give every published grid staff: keep links to existing grid codes, fill the rest.

    Staff of the per-grid roles (grid worker, grid head, party leader) with no grid of the
    published plans are dealt round robin to that community's grids lacking that role; when
    there are more grids than such staff, a person serves several grids.
    Returns the number of staff-grid links added.
    """
    published = session.execute(
        select(m.Grid.code, m.Grid.community_code)
        .join(m.Plan, m.Plan.id == m.Grid.plan_id)
        .where(m.Plan.status == "published")
        .order_by(m.Grid.code)
    ).all()
    codes = {code for code, _ in published}
    links = session.execute(
        select(m.StaffGrid.staff_id, m.StaffGrid.grid_code, m.Staff.role).join(
            m.Staff, m.Staff.id == m.StaffGrid.staff_id
        )
    ).all()
    placed = {staff for staff, grid, _ in links if grid in codes}
    covered = {(grid, role) for _, grid, role in links if grid in codes}
    staff = session.execute(
        select(m.Staff.id, m.Staff.role, m.Staff.community_code).order_by(m.Staff.id)
    ).all()
    added = 0
    for role in _PER_GRID_ROLES:
        free: dict[str | None, list[str]] = {}
        everyone: dict[str | None, list[str]] = {}
        for sid, srole, community in staff:
            if srole == role:
                everyone.setdefault(community, []).append(sid)
                if sid not in placed:
                    free.setdefault(community, []).append(sid)
        for n, (grid, community) in enumerate(published):
            if (grid, role) in covered or not everyone.get(community):
                continue
            # Unplaced staff first; then, as in practice, one person serves several grids.
            unplaced = free.get(community, [])
            members = everyone[community]
            sid = unplaced.pop(0) if unplaced else members[n % len(members)]
            session.add(m.StaffGrid(staff_id=sid, grid_code=grid))
            added += 1
    session.flush()
    return added
