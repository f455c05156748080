"""Saving and publishing a district's plans, on both backends (issue 14 §2 and §3).

Drafts are written in bulk (a fixed number of statements whatever the number of grids), one
transaction per community, idempotently; publishing is set-based (a fixed number of statements
whatever the number of plans) and atomic for the district; every commit changes the store's
revision (the response cache depends on it).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box
from sqlalchemy import Engine, event, func, select

from gridmap.errors import InputError
from service.analyst import DraftsNotSaved, Store
from service.storage import models as m
from service.storage import plans as plans_module
from service.storage.errors import NotFoundError
from service.storage.imports import ImportBundle, import_bundle
from service.storage.plans import load_plan, publish_plans, save_plan
from service.storage.revision import read_revision
from service.storage.session import make_engine, session_scope

PREFIX = "520602001"
CODES = [f"{PREFIX}{k:03d}" for k in range(1, 5)]  # four communities side by side, W → E
SIDE = 0.01
HOUSEHOLDS = [40, 30, 20, 10]  # per building, four buildings per community (W → E)


def _square(k: int) -> tuple[float, float, float, float]:
    x0 = 109.0 + k * SIDE
    return x0, 27.70, x0 + SIDE, 27.70 + SIDE


def _strips(k: int, n: int) -> list[Any]:
    x0, y0, x1, y1 = _square(k)
    w = (x1 - x0) / n
    return [box(x0 + i * w, y0, x0 + (i + 1) * w, y1) for i in range(n)]


def _district() -> ImportBundle:
    """Four communities, four buildings each, each community's published plan of two halves."""
    communities = gpd.GeoDataFrame(
        {"community_code": CODES, "name": [f"社区{k}" for k in range(4)]},
        geometry=[box(*_square(k)) for k in range(4)], crs=4326,
    )  # fmt: skip
    rows, points = [], []
    for k, code in enumerate(CODES):
        x0, y0, _, _ = _square(k)
        for i, hh in enumerate(HOUSEHOLDS):
            rows.append({"building_id": f"B{k}{i}", "households": hh, "community_code": code})
            points.append(Point(x0 + (i + 0.5) * SIDE / 4, y0 + SIDE / 2))
    buildings = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=points, crs=4326)
    grids = gpd.GeoDataFrame(
        {"grid_code": [f"{c}{i:03d}" for c in CODES for i in (1, 2)],
         "community_code": [c for c in CODES for _ in (1, 2)]},
        geometry=[g for k in range(4) for g in _strips(k, 2)], crs=4326,
    )  # fmt: skip
    return ImportBundle(communities=communities, buildings=buildings, grids=grids)


def _run(n: int = 4) -> SimpleNamespace:
    """A partition-like result for every community: ``n`` strips, each building in its own."""
    grids, links = [], []
    for k, code in enumerate(CODES):
        for i, geom in enumerate(_strips(k, n)):
            grids.append({"grid_code": f"{code}{i + 101:03d}", "community_code": code,
                          "geometry": geom})  # fmt: skip
        for i in range(4):
            strip = int((i + 0.5) * n / 4)  # the strip holding the building's point
            links.append({"building_id": f"B{k}{i}", "grid_code": f"{code}{strip + 101:03d}"})
    return SimpleNamespace(grids=gpd.GeoDataFrame(grids, crs=4326),
                           assignments=pd.DataFrame(links), problems=[])  # fmt: skip


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(make_engine(store_url))
    with session_scope(s.engine) as session:
        import_bundle(session=session, bundle=_district())
    yield s
    s.close()


def _published(url: str) -> dict[str, int]:
    """Community → published plan id, read over a connection of its own."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            rows = session.execute(select(m.Plan.community_code, m.Plan.id)
                                   .where(m.Plan.status == "published")).all()  # fmt: skip
            return {str(c): int(i) for c, i in rows}
    finally:
        engine.dispose()


def _counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {t.__tablename__: int(session.scalar(select(func.count()).select_from(t)) or 0)
                for t in (m.Plan, m.Grid, m.GridBuilding)}  # fmt: skip


def _revision(engine: Engine) -> str:
    with session_scope(engine) as session:
        return read_revision(session).token


class _Statements:
    """Counts the statements sent to the database (an executemany counts once)."""

    def __init__(self, engine: Engine) -> None:
        self.n = 0
        self.engine = engine

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args: object) -> None:
        self.n += 1


# --------------------------------------------------------------------------- bulk and set-based
def test_saving_a_draft_takes_the_same_statements_for_3_or_30_grids(store):
    run3, run30 = _run(3), _run(30)
    with _Statements(store.engine) as few:
        store.save_draft(CODES[0], run3)
    with _Statements(store.engine) as many:
        store.save_draft(CODES[0], run30)
    assert few.n == many.n
    for run in (run3, run30):
        codes = run.grids.loc[run.grids["community_code"] == CODES[0], "grid_code"]
        assert store.used_codes(CODES[0]) >= set(codes)
    plan = store.load_plan(max(store.plans(CODES[0])["id"]))
    assert len(plan.grids) == 30 and plan.grids.geometry.is_valid.all()
    links = plan.assignments.set_index("building_id")["grid_code"].to_dict()
    assert links == {"B00": f"{CODES[0]}104", "B01": f"{CODES[0]}112", "B02": f"{CODES[0]}119",
                     "B03": f"{CODES[0]}127"}  # fmt: skip
    counted = plan.grids.set_index("grid_code")["households"]
    assert counted[counted > 0].to_dict() == dict(zip(links.values(), HOUSEHOLDS, strict=True))


def test_rows_in_several_batches_are_all_written(store, monkeypatch):
    monkeypatch.setattr(plans_module, "_BATCH", 3)  # 30 grids in 10 batches, 4 links in 2
    plan_id = store.save_draft(CODES[1], _run(30))
    plan = store.load_plan(plan_id)
    assert plan.grids["grid_code"].tolist() == [f"{CODES[1]}{i:03d}" for i in range(101, 131)]
    links = plan.assignments.set_index("building_id")["grid_code"].to_dict()
    assert links == {"B10": f"{CODES[1]}104", "B11": f"{CODES[1]}112", "B12": f"{CODES[1]}119",
                     "B13": f"{CODES[1]}127"}  # fmt: skip


def test_publishing_takes_the_same_statements_for_1_or_4_plans(store, store_url):
    one = store.save_drafts({CODES[0]: _run()}, name="one")
    four = store.save_drafts(dict.fromkeys(CODES, _run()), name="four")
    with _Statements(store.engine) as few:
        store.publish_many(one.values())
    with _Statements(store.engine) as many:
        store.publish_many(four.values())
    assert few.n == many.n
    assert _published(store_url) == four
    plans = store.plans(CODES[0]).set_index("id")["status"]
    assert plans[one[CODES[0]]] == "superseded" and (plans == "published").sum() == 1


def test_publish_refuses_unknown_plans_and_two_plans_of_a_community(store, store_url):
    before = _published(store_url)
    drafts = store.save_drafts(dict.fromkeys(CODES[:2], _run()))
    other = store.save_draft(CODES[0], _run(2))
    with pytest.raises(NotFoundError, match="99999"):
        store.publish_many([*drafts.values(), 99999])
    with pytest.raises(InputError, match=rf"{drafts[CODES[0]]}, {other} are all of community"):
        store.publish_many([*drafts.values(), other])
    assert _published(store_url) == before


# --------------------------------------------------------------------------- publish is atomic
def test_readers_see_all_old_plans_until_the_publish_commits(store, store_url):
    old = _published(store_url)
    drafts = store.save_drafts(dict.fromkeys(CODES, _run()))
    with session_scope(store.engine) as session:
        publish_plans(session=session, plan_ids=drafts.values())
        assert _published(store_url) == old  # another connection, mid-transaction
    assert _published(store_url) == drafts


def test_a_publish_failing_between_its_statements_changes_nothing(store, store_url, monkeypatch):
    old = _published(store_url)
    drafts = store.save_drafts(dict.fromkeys(CODES, _run()))
    real, calls = plans_module.update, []

    def update_then_fail(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:  # the old plans are superseded in the transaction; now:
            raise ConnectionError("connection lost")
        return real(*args)

    monkeypatch.setattr(plans_module, "update", update_then_fail)
    with pytest.raises(ConnectionError):
        store.publish_many(drafts.values())
    assert _published(store_url) == old
    assert all((store.plans(c)["status"] == "superseded").sum() == 0 for c in CODES)


# --------------------------------------------------------------------------- one transaction each
@pytest.fixture
def fault(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """Fail the building-link write of community ``fault["community"]``, after the plan row,
    its grids and its links were written in the transaction."""
    where: dict[str, str | None] = {"community": None, "writing": None}
    real = plans_module._insert_rows

    def insert_rows(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
        if table.name == "grid":
            where["writing"] = rows[0]["community_code"]
        real(session, table, rows)
        if table.name == "grid_building" and where["writing"] == where["community"]:
            raise OSError("disk full")

    monkeypatch.setattr(plans_module, "_insert_rows", insert_rows)
    return where


def test_a_failing_community_keeps_the_others_and_writes_nothing_of_its_own(
    store, store_url, fault
):
    old = _published(store_url)
    before, revision = _counts(store.engine), _revision(store.engine)
    fault["community"] = CODES[2]
    with pytest.raises(DraftsNotSaved) as failed:
        store.save_drafts(dict.fromkeys(CODES, _run()), publish=True, name="run")
    error = failed.value
    assert error.community == CODES[2] and error.not_tried == [CODES[3]]
    assert set(error.saved) == set(CODES[:2])
    text = str(error)
    assert CODES[2] in text and "OSError: disk full" in text and "nothing was published" in text
    assert "2 of 4" in text and "1 not tried" in text
    zh = error.message("zh")  # what `gridmap plan partition` prints with --lang zh
    assert zh.startswith(f"社区{CODES[2]}的方案草稿未保存（OSError: disk full）；4个社区中2个")
    assert "1个未尝试" in zh and "未发布任何方案" in zh
    assert _published(store_url) == old  # publish waits for every draft
    for code in CODES:
        drafts = store.plans(code)
        drafts = drafts[drafts["name"] == "run"]
        assert len(drafts) == (1 if code in error.saved else 0), code
    saved = {c: store.load_plan(i) for c, i in error.saved.items()}
    assert all(len(p.grids) == 4 and len(p.assignments) == 4 for p in saved.values())
    # the two saved drafts, each 4 grids and 4 links; of the failing community: nothing
    assert _counts(store.engine) == {"plan": before["plan"] + 2, "grid": before["grid"] + 8,
                                     "grid_building": before["grid_building"] + 8}  # fmt: skip
    assert _revision(store.engine) != revision  # two communities were committed

    fault["community"] = None  # the cause fixed, the same run again:
    revision = _revision(store.engine)
    ids = store.save_drafts(dict.fromkeys(CODES, _run()), publish=True, name="run")
    assert {c: ids[c] for c in error.saved} == error.saved  # kept, not saved twice
    assert _published(store_url) == ids
    assert _counts(store.engine) == {"plan": before["plan"] + 4, "grid": before["grid"] + 16,
                                     "grid_building": before["grid_building"] + 16}  # fmt: skip
    assert _revision(store.engine) != revision


def test_saving_the_same_run_again_writes_nothing(store):
    bounds = dict.fromkeys(CODES, {"min_households": 10, "max_households": 80})
    ids = store.save_drafts(dict.fromkeys(CODES, _run()), name="run", params=bounds)
    counts, revision = _counts(store.engine), _revision(store.engine)
    same = store.save_drafts(dict.fromkeys(CODES, _run()), name="run", params=bounds)
    assert same == ids and _counts(store.engine) == counts
    assert _revision(store.engine) == revision
    assert store.load_plan(ids[CODES[0]]).info["params"] == {
        "min_households": 10, "max_households": 80, "problems": []}  # fmt: skip
    # another name, other parameters or other grids are another plan
    for other in ({"name": "other", "params": bounds}, {"name": "run"}):
        assert store.save_drafts({CODES[0]: _run()}, **other)[CODES[0]] not in ids.values()
    assert store.save_drafts({CODES[0]: _run(5)}, name="run", params=bounds)[CODES[0]] not in (
        ids.values())  # fmt: skip
    published = store.save_drafts({CODES[1]: _run()}, name="run", params=bounds, publish=True)
    assert published == {CODES[1]: ids[CODES[1]]}  # the draft found, then published
    again = store.save_drafts({CODES[1]: _run()}, name="run", params=bounds)
    assert again != published  # only drafts are reused: a new draft like the published plan
    assert store.plans(CODES[1]).set_index("id").loc[again[CODES[1]], "status"] == "draft"


def test_the_revision_changes_with_each_commit_and_a_failed_one_keeps_it(store, fault):
    first = _revision(store.engine)
    drafts = store.save_drafts({CODES[0]: _run()})
    saved = _revision(store.engine)
    store.publish_many(drafts.values())
    published = _revision(store.engine)
    assert len({first, saved, published}) == 3
    fault["community"] = CODES[1]
    with pytest.raises(DraftsNotSaved):
        store.save_drafts({CODES[1]: _run()})
    assert _revision(store.engine) == published


# --------------------------------------------------------------------------- storage level
def test_save_plan_derives_the_counts_from_the_stored_buildings(session):
    import_bundle(session=session, bundle=_district())
    grids = gpd.GeoDataFrame({"geometry": _strips(0, 2)}, crs=4326)
    plan_id = save_plan(session=session, community_code=CODES[0], grids=grids)
    stored = load_plan(session=session, plan_id=plan_id).set_index("grid_code")
    assert stored["households"].to_dict() == {f"{CODES[0]}001": 70, f"{CODES[0]}002": 30}
    assert stored["buildings"].to_dict() == {f"{CODES[0]}001": 2, f"{CODES[0]}002": 2}
    assert load_plan(session=session, plan_id=plan_id).attrs["plan"]["params"] is None


# --------------------------------------------------------------------------- the command line
def test_plan_partition_names_the_failing_community_and_a_rerun_saves_the_rest(
    store, store_url, fault
):
    from typer.testing import CliRunner

    from service.cli import app

    args = ["plan", "partition", "--db", store_url, "--jobs", "1", "--min-households", "10",
            "--max-households", "80", "--publish", "--name", "district run",
            "--lang", "en"]  # fmt: skip
    old = _published(store_url)
    fault["community"] = CODES[1]
    failed = CliRunner().invoke(app, args)
    assert failed.exit_code == 2, failed.output
    error = [line for line in failed.output.splitlines() if line.startswith("error:")]
    assert error == [
        f"error: the draft plan of community {CODES[1]} was not saved (OSError: "
        "disk full); 1 of 4 communities' drafts are saved, 2 not tried; nothing was "
        "published. Fix the cause and run the same command again: drafts already "
        "saved are kept as they are and only the missing ones are written."
    ]
    assert "Traceback" not in failed.output
    assert _published(store_url) == old
    first = {c: store.plans(c) for c in CODES}
    kept = first[CODES[0]].loc[first[CODES[0]]["name"] == "district run", "id"].tolist()
    assert len(kept) == 1 and all(len(first[c]) == 1 for c in CODES[1:])

    fault["community"] = None
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    published = _published(store_url)
    assert published[CODES[0]] == kept[0] and set(published) == set(CODES)
    assert all(len(store.plans(c)) == 2 for c in CODES)  # the imported plan and this run's
