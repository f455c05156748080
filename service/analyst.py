"""The notebook-facing API over the store: load, partition, compare, save drafts, publish.

>>> store = open_store("sqlite:///var/demo.sqlite")                     # doctest: +SKIP
>>> store.import_demo()                                                 # doctest: +SKIP
>>> current = store.load_published_plan("520602002001")                 # doctest: +SKIP
>>> result = store.redistrict("520602002001")                           # doctest: +SKIP
>>> plan_id = store.save_draft("520602002001", result, name="2024 Q3")  # doctest: +SKIP
>>> store.publish(plan_id)                                              # doctest: +SKIP

Every method is a thin wrapper over :mod:`service.storage.loads`, :mod:`service.storage.plans` and
the pure :mod:`gridmap` functions; each call runs in its own transaction, except
:meth:`Store.save_drafts`, which saves a run's drafts in one transaction per community (a failure
keeps the drafts saved before it; the same call again saves only the missing ones).
:meth:`Store.publish` and :meth:`Store.publish_many` switch the published plans in ONE
transaction (readers see the old plans or the new ones, never a mix) and keep the previous plans
as ``superseded`` history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, select

from gridmap.errors import GridmapError, InputError
from gridmap.plans.compare import PlanDiff, compare_plans
from gridmap.plans.partition import PartitionResult, partition
from gridmap.plans.redistrict import RedistrictResult, redistrict
from gridmap.problems import Problem
from service.importer import ImportResult, import_files
from service.storage import loads, plans
from service.storage import models as m
from service.storage.edits import BuildingEdits, apply_building_edits, building_edits
from service.storage.errors import store_error
from service.storage.migrate import upgrade_database
from service.storage.session import make_engine, session_scope

__all__ = ["Store", "StoredPlan", "DraftsNotSaved", "open_store"]

log = logging.getLogger(__name__)


@dataclass
class StoredPlan:
    """A plan read from the store: its grids, building → grid assignment and record.

    Attributes
    ----------
    grids : geopandas.GeoDataFrame
        ``grid_code, name, kind, community_code, buildings, households, persons, geometry``.
    assignments : pandas.DataFrame
        ``building_id, grid_code``.
    info : dict
        ``id, community_code, name, status, source, params, created_at, published_at``.
    """

    grids: gpd.GeoDataFrame
    assignments: pd.DataFrame
    info: dict[str, Any]

    @property
    def id(self) -> int:
        """The plan's id in the store."""
        return int(self.info["id"])


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the store at ``url`` (default ``GRIDMAP_DATABASE_URL``), migrating it first.

    Parameters
    ----------
    url : str, optional
        ``sqlite:///path.sqlite`` (SpatiaLite) or ``postgresql://…`` (PostGIS).
    migrate : bool
        Bring the schema up to date (creates the tables in a new file).
    """
    engine = make_engine(url)
    if migrate:
        upgrade_database(engine)
    return Store(engine)


class Store:
    """A gridmap store for analysts; create it with :func:`open_store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ import
    def import_files(self, sources: Mapping[str, str | Path], **kwargs: Any) -> ImportResult:
        """Import office files in one transaction (see :func:`~service.importer.import_files`).

        ``dry_run=True`` returns the same result (changes, report …) and keeps nothing."""
        return import_files(sources, engine=self.engine, migrate=False, **kwargs)

    def import_demo(self, *, people: bool = False) -> ImportResult:
        """Import the Bijiang demo sample (layers, households; persons with ``people=True``)."""
        from geodata import get_path

        gpkg = get_path("bijiang.gpkg")
        sources: dict[str, str | Path] = {
            "community": gpkg, "compound": gpkg, "street": gpkg, "building": gpkg,
            "household": get_path("households.csv"), "grid": gpkg,
        }  # fmt: skip
        if people:
            sources["person"] = get_path("persons.csv")
        return self.import_files(sources)

    # ------------------------------------------------------------------ loads
    def communities(self) -> gpd.GeoDataFrame:
        """All communities: ``community_code, name, subdistrict, code_year, geometry``."""
        with session_scope(self.engine) as session:
            return loads.load_communities(session=session)

    def load_community(self, code: str) -> gpd.GeoDataFrame:
        """One community as a one-row GeoDataFrame (NotFoundError if it is not stored)."""
        with session_scope(self.engine) as session:
            return loads.load_community(session=session, code=code)

    def load_buildings(self, code: str | None = None) -> gpd.GeoDataFrame:
        """Buildings (footprints where known) with household and person counts."""
        with session_scope(self.engine) as session:
            return loads.load_buildings(session=session, community_code=code, footprints=True)

    def load_streets(self, code: str | None = None) -> gpd.GeoDataFrame:
        """Street centrelines (``street_id, name``), those meeting community ``code`` if given."""
        with session_scope(self.engine) as session:
            return loads.load_streets(session=session, community_code=code)

    def load_compounds(self, code: str | None = None) -> gpd.GeoDataFrame:
        """Compounds with a polygon, of community ``code`` if given."""
        with session_scope(self.engine) as session:
            return loads.load_compounds(session=session, community_code=code)

    def load_plan(self, plan_id: int) -> StoredPlan:
        """A plan by id (draft, published or superseded)."""
        with session_scope(self.engine) as session:
            return _stored(session, plans.load_plan(session=session, plan_id=plan_id))

    def load_published_plan(self, code: str) -> StoredPlan:
        """The published plan of community ``code`` (NotFoundError if there is none)."""
        with session_scope(self.engine) as session:
            return _stored(session, plans.load_plan(session=session, community_code=code))

    def plans(self, code: str) -> pd.DataFrame:
        """All plans of a community, oldest first: published, drafts and superseded history."""
        with session_scope(self.engine) as session:
            return plans.list_plans(session=session, community_code=code)

    def plan_overview(self, code: str | None = None) -> pd.DataFrame:
        """Every plan (of ``code``) with its grids and grids flagged by the CURRENT households."""
        with session_scope(self.engine) as session:
            return plans.plan_overview(session=session, community_code=code)

    def grid_status(self, plan_id: int) -> pd.DataFrame:
        """The grids of ``plan_id``: households in the plan and now, and the status now."""
        with session_scope(self.engine) as session:
            plans.load_plan(session=session, plan_id=plan_id)  # raises NotFoundError
            return plans.grid_status_now(session=session, plan_ids=[plan_id])

    def plan_problems(self, plan_id: int) -> list[Problem]:
        """The problems found when ``plan_id`` was made (kept in its params)."""
        return plans.problems_from_params(self.load_plan(plan_id).info.get("params"))

    def used_codes(self, code: str) -> set[str]:
        """Every grid code any plan of community ``code`` has used (never to be reused)."""
        with session_scope(self.engine) as session:
            return set(session.scalars(select(m.Grid.code).where(m.Grid.community_code == code)))

    # ------------------------------------------------------------------ plans
    def partition(self, code: str, **kwargs: Any) -> PartitionResult:
        """Partition stored community ``code`` (keyword arguments go to ``partition``)."""
        return partition(self.load_community(code), self.load_buildings(code),
                         streets=self.load_streets(code), compounds=self.load_compounds(code),
                         **kwargs)  # fmt: skip

    def partition_many(
        self,
        codes: Iterable[str] | None = None,
        *,
        n_jobs: int = 1,
        progress: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> PartitionResult:
        """Partition several stored communities (default: all) in one ``partition`` call.

        The layers are loaded once, as ``gridmap partition`` reads its files: every street and
        compound polygon, and the buildings of the communities asked for (all buildings when
        ``codes`` is None), footprints where known. ``n_jobs`` and ``progress`` go to
        :func:`~gridmap.plans.partition.partition`; so do the other keyword arguments.
        """
        with session_scope(self.engine) as session:
            communities = loads.load_communities(session=session)
            wanted = None if codes is None else list(dict.fromkeys(codes))
            if wanted is not None:
                for code in wanted:
                    loads.load_community(session=session, code=code)  # raises NotFoundError
                communities = communities[communities["community_code"].isin(wanted)]
            if communities.empty:
                raise store_error("no_communities")
            buildings = loads.load_buildings(session=session, footprints=True)
            if wanted is not None:
                buildings = buildings[buildings["community_code"].isin(wanted)]
            streets = loads.load_streets(session=session)
            compounds = loads.load_compounds(session=session)
        return partition(
            communities.reset_index(drop=True),
            buildings.reset_index(drop=True),
            streets=streets if len(streets) else None,
            compounds=compounds if len(compounds) else None,
            n_jobs=n_jobs,
            progress=progress,
            **kwargs,
        )

    def save_drafts(
        self,
        plans: Mapping[str, Any],
        *,
        publish: bool = False,
        name: str | None = None,
        params: Mapping[str, dict[str, Any]] | None = None,
    ) -> dict[str, int]:
        """Save each community's plan (code → partition or redistrict result) as a draft.

        One result may serve several communities (a partition of many). Each community's draft
        is written in ITS OWN transaction, in order; if one fails, the drafts saved before it
        stay saved, the rest are not tried, and :class:`DraftsNotSaved` names the community
        and why. Saving is idempotent: a community that already has a draft with exactly this
        content, name and parameters keeps it and nothing is written, so running the same save
        again after a failure saves only what is missing.

        With ``publish``, once every draft is saved they are all published in ONE transaction
        (:meth:`publish_many`): readers see the district's old plans or all its new ones.
        Nothing is published if any draft failed. ``params`` gives each community's
        parameters. Returns community code → plan id.
        """
        ids: dict[str, int] = {}
        codes = list(plans)
        for code, plan in plans.items():
            try:
                with session_scope(self.engine) as session:
                    ids[code] = _save(session, code, plan, name=name,
                                      params=(params or {}).get(code), reuse=True)  # fmt: skip
            except Exception as exc:
                raise DraftsNotSaved(code, exc, ids, codes, publish=publish) from exc
        if publish:
            self.publish_many(ids.values())
        return ids

    def redistrict(
        self, code: str, buildings: gpd.GeoDataFrame | None = None, **kwargs: Any
    ) -> RedistrictResult:
        """Repair the published plan of ``code`` for ``buildings`` (default: as stored now).

        New grids are numbered after every code the community has ever used.
        """
        current = self.load_published_plan(code)
        bld = self.load_buildings(code) if buildings is None else buildings
        return redistrict(current.grids, bld, assignments=current.assignments,
                          communities=self.load_community(code),
                          streets=self.load_streets(code), compounds=self.load_compounds(code),
                          retired_codes=self.used_codes(code), **kwargs)  # fmt: skip

    def compare(self, a: Any, b: Any, *, code: str, **kwargs: Any) -> PlanDiff:
        """:func:`~gridmap.plans.compare.compare_plans` with the stored buildings of ``code``."""
        return compare_plans(a, b, buildings=self.load_buildings(code), **kwargs)

    def save_draft(
        self,
        code: str,
        plan: Any,
        *,
        name: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> int:
        """Store ``plan`` (a partition or redistrict result) as a draft of ``code``; its id."""
        with session_scope(self.engine) as session:
            return _save(session, code, plan, name=name, params=params)

    def save_and_publish(
        self,
        code: str,
        plan: Any,
        *,
        buildings: gpd.GeoDataFrame | None = None,
        name: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> int:
        """Store the edited ``buildings``, save ``plan`` and publish it, in ONE transaction.

        ``buildings`` are the community's buildings as edited in the notebook (household
        counts changed, new buildings added, demolished ones dropped; see
        :func:`~service.storage.edits.apply_building_edits`). The published grid counts are
        derived from the buildings as stored by the same transaction, so they agree. If
        anything fails, nothing is written. Returns the new plan's id.
        """
        with session_scope(self.engine) as session:
            if buildings is not None:
                apply_building_edits(session=session, community_code=code, buildings=buildings)
            plan_id = _save(session, code, plan, name=name, params=params)
            plans.publish_plan(session=session, plan_id=plan_id)
            return plan_id

    def building_edits(self, code: str, buildings: gpd.GeoDataFrame) -> BuildingEdits:
        """What :meth:`save_and_publish` would write for ``buildings`` (nothing is written)."""
        with session_scope(self.engine) as session:
            return building_edits(session=session, community_code=code, buildings=buildings)

    def publish(self, plan_id: int) -> None:
        """Publish ``plan_id`` in one transaction; the previous plan becomes history."""
        with session_scope(self.engine) as session:
            plans.publish_plan(session=session, plan_id=plan_id)

    def publish_many(self, plan_ids: Iterable[int]) -> None:
        """Publish several plans (of different communities) in ONE transaction.

        Set-based (:func:`~service.storage.plans.publish_plans`): two ``UPDATE`` statements per
        500 plans, none per plan; readers see all the old plans or all the new ones.
        """
        with session_scope(self.engine) as session:
            plans.publish_plans(session=session, plan_ids=plan_ids)


class DraftsNotSaved(GridmapError):
    """Saving a run's drafts stopped at one community; the drafts saved before it are kept.

    Attributes: ``community`` (the code that failed), ``saved`` (code → plan id of the drafts
    saved, or found saved, before it), ``not_tried`` (codes after it).
    """

    def __init__(
        self, community: str, error: BaseException, saved: dict[str, int], codes: list[str],
        *, publish: bool,
    ) -> None:  # fmt: skip
        self.community, self.saved = community, dict(saved)
        self.not_tried = codes[codes.index(community) + 1 :]
        reason, reason_zh = _first_line(error), _first_line(error, "zh")
        text = (f"the draft plan of community {community} was not saved ({reason}); "
                f"{len(saved)} of {len(codes)} communities' drafts are saved")  # fmt: skip
        zh = (f"社区{community}的方案草稿未保存（{reason_zh}）；"
              f"{len(codes)}个社区中{len(saved)}个的草稿已保存")  # fmt: skip
        if self.not_tried:
            text += f", {len(self.not_tried)} not tried"
            zh += f"，{len(self.not_tried)}个未尝试"
        text += "; nothing was published" if publish else ""
        zh += "；未发布任何方案" if publish else ""
        text += ". Fix the cause and run the same command again: drafts already saved are kept"
        zh += "。排除原因后再次运行同一命令：已保存的草稿保持不变，只写入缺少的草稿。"
        super().__init__(text + " as they are and only the missing ones are written.", zh=zh)


def _first_line(error: BaseException, lang: str = "en") -> str:
    """``error`` in one line: the driver's message for a database error (no SQL, no values);
    a gridmap error's Chinese text with ``lang="zh"`` where it has one."""
    orig = getattr(error, "orig", None)  # sqlalchemy.exc.DBAPIError
    if isinstance(error, GridmapError):
        text = error.message(lang).strip().splitlines()
        return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
    text = str(orig if orig is not None else error).strip().splitlines()
    return f"{type(orig or error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _save(
    session: Any,
    code: str,
    plan: Any,
    *,
    name: str | None,
    params: dict[str, Any] | None,
    reuse: bool = False,
) -> int:
    """Save ``plan`` as a draft of ``code`` in ``session``; its id."""
    grids = plan.grids[plan.grids["community_code"].astype(str) == code]
    if grids.empty:
        raise InputError(f"The plan has no grids of community {code}; nothing was saved.")
    a = plan.assignments
    a = a[a["grid_code"].isin(grids["grid_code"])]
    assignment = pd.Series(a["grid_code"].to_numpy(), index=a["building_id"].to_numpy())
    source = "redistrict" if isinstance(plan, RedistrictResult) else "partition"
    if getattr(plan, "problems", None) is not None:  # kept so `gridmap plan show` can list them
        mine = [p for p in plan.problems if p.community_code == code]
        params = {**(params or {}), "problems": plans.problems_to_params(mine)}
    planned = assignment.index.tolist()
    stored = _stored_buildings(session, code, planned)
    unknown = [b for b in planned if b not in stored]
    if unknown:  # a planned building not stored: pass the edited buildings to store it
        log.warning("%d building(s) of the plan are not in the store and are not linked "
                    "to a grid: %s", len(unknown), unknown[:10])  # fmt: skip
        assignment = assignment[~assignment.index.isin(unknown)]
    return plans.save_plan(session=session, community_code=code, grids=grids,
                     assignment=assignment, params=params, name=name, source=source,
                     reuse=reuse)  # fmt: skip


def _stored_buildings(session: Any, code: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` are stored buildings (those of community ``code`` read at once)."""
    stored = set(session.scalars(select(m.Building.id).where(m.Building.community_code == code)))
    rest = [b for b in ids if b not in stored]
    for start in range(0, len(rest), 500):
        part = rest[start : start + 500]
        stored |= set(session.scalars(select(m.Building.id).where(m.Building.id.in_(part))))
    return stored


def _stored(session: Any, grids: gpd.GeoDataFrame) -> StoredPlan:
    info = dict(grids.attrs.get("plan", {}))
    assignment = loads.load_assignment(session=session, plan_id=info["id"])
    frame = pd.DataFrame(
        {"building_id": assignment.index.astype(str), "grid_code": assignment.to_numpy()}
    )
    grids.attrs = {}
    return StoredPlan(grids, frame, info)
