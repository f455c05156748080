"""The analyst API on both backends: drafts, atomic publishing, history, redistricting."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point
from sqlalchemy import select

from gridmap.errors import InputError
from service import analyst
from service.analyst import Store, open_store
from service.storage import models as m
from service.storage.imports import import_bundle
from service.storage.plans import publish_plan
from service.storage.session import make_engine, session_scope
from tests.service.storage.toy import CODE, bundle

BOUNDS = {"min_households": 3, "max_households": 12}  # toy: 13 west + 5 east households


@pytest.fixture
def store(store_url) -> Iterator[Store]:
    s = open_store(store_url)
    with session_scope(s.engine) as session:
        import_bundle(session=session, bundle=bundle())
    yield s
    s.close()


def _published(url: str) -> list[int]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return list(session.scalars(select(m.Plan.id).where(m.Plan.status == "published")))
    finally:
        engine.dispose()


def test_loads_the_published_plan_with_its_assignment(store):
    plan = store.load_published_plan(CODE)
    assert plan.info["status"] == "published" and plan.info["source"] == "import"
    assert plan.grids["grid_code"].tolist() == [f"{CODE}001", f"{CODE}002"]
    assert (
        dict(zip(plan.assignments["building_id"], plan.assignments["grid_code"], strict=True))["B4"]
        == f"{CODE}002"
    )
    assert len(store.load_buildings(CODE)) == 6
    assert store.load_streets(CODE)["street_id"].tolist() == ["S1"]
    assert store.load_compounds(CODE)["compound_id"].tolist() == ["C1"]


def test_redistrict_save_draft_publish_keeps_history(store, store_url):
    old = store.load_published_plan(CODE)
    result = store.redistrict(CODE, **BOUNDS)  # west has 13 > 12: one building moves east
    assert result.ok and result.households_moved > 0
    assert sorted(result.grids["grid_code"]) == [f"{CODE}001", f"{CODE}002"]
    draft = store.save_draft(CODE, result, name="moved B3", params=BOUNDS)
    assert _published(store_url) == [old.id]  # a draft changes nothing for readers
    store.publish(draft)
    assert _published(store_url) == [draft]
    plans = store.plans(CODE).set_index("id")
    assert plans.loc[old.id, "status"] == "superseded" and plans.loc[draft, "status"] == "published"
    new = store.load_published_plan(CODE)
    assert new.info["source"] == "redistrict"
    assert new.grids.set_index("grid_code")["households"].to_dict() == (
        result.grids.set_index("grid_code")["households"].to_dict()
    )
    history = store.load_plan(old.id)
    assert history.grids["households"].tolist() == old.grids["households"].tolist()


def test_failed_publish_leaves_the_old_plan_published(store, store_url, monkeypatch):
    old = store.load_published_plan(CODE)
    draft = store.save_draft(CODE, store.partition(CODE, **BOUNDS))
    real = publish_plan

    def broken(*, session, plan_id):
        real(session=session, plan_id=plan_id)  # old superseded, new published ... then:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(analyst.plans, "publish_plan", broken)
    with pytest.raises(RuntimeError):
        store.publish(draft)
    assert _published(store_url) == [old.id]
    assert store.plans(CODE).set_index("id").loc[draft, "status"] == "draft"


def test_readers_see_the_old_plan_until_publish_commits(store, store_url):
    old = store.load_published_plan(CODE)
    draft = store.save_draft(CODE, store.partition(CODE, **BOUNDS))
    with session_scope(store.engine) as session:
        publish_plan(session=session, plan_id=draft)
        assert _published(store_url) == [old.id]  # another connection, mid-transaction
    assert _published(store_url) == [draft]


def test_new_grids_never_reuse_a_code_from_history(store):
    imported = store.load_published_plan(CODE).id
    finer = store.save_draft(CODE, store.partition(CODE, min_households=1, max_households=4))
    store.publish(finer)
    store.publish(imported)  # back to the two imported grids; the finer plan is history
    used = store.used_codes(CODE)
    assert len(used) > 2
    buildings = store.load_buildings(CODE)
    buildings.loc[buildings["building_id"].isin(["B5", "B6"]), "households"] = 8  # 32 in all
    result = store.redistrict(CODE, buildings, **BOUNDS)
    # West 13 and east 19 households, 3–12 per grid: one new grid is enough. It must take at
    # least 1 household from the west and 7 from the east; the least moves are B3 or B2 with
    # B5 or B6 (9 or 10 households). Splitting both grids (4 grids) would move more.
    assert result.ok and len(result.grids) == 3
    assert 9 <= result.households_moved <= 10
    new = set(result.grids.loc[result.grids["change"] == "new", "grid_code"])
    assert new and not new & used
    assert min(int(c[12:]) for c in new) > max(int(c[12:]) for c in used)


def _edited(store):
    """B5 and B6 grow to 8 households, B4 is demolished, NEW (4 households) is built."""
    buildings = store.load_buildings(CODE)
    buildings.loc[buildings["building_id"].isin(["B5", "B6"]), "households"] = 8
    buildings = buildings[buildings["building_id"] != "B4"]
    new = gpd.GeoDataFrame({"building_id": ["NEW"], "households": [4], "kind": ["residential"]},
                           geometry=[Point(109.0075, 27.7065)], crs=4326)  # fmt: skip
    return pd.concat([buildings, new], ignore_index=True)


def test_edits_are_stored_with_the_published_plan(store):
    buildings = _edited(store)
    edits = store.building_edits(CODE, buildings)
    assert edits.households == {"B5": 8, "B6": 8}
    assert edits.added == ["NEW"] and edits.demolished == ["B4"]
    result = store.redistrict(CODE, buildings, **BOUNDS)  # 13 + 20 households
    assert result.ok
    plan_id = store.save_and_publish(CODE, result, buildings=buildings, name="after edits")
    stored = store.load_buildings(CODE).set_index("building_id")["households"]
    assert stored.to_dict() == buildings.set_index("building_id")["households"].to_dict()
    published = store.load_published_plan(CODE)
    assert published.id == plan_id and published.info["source"] == "redistrict"
    links = published.assignments.set_index("building_id")["grid_code"]
    assert set(links.index) == set(stored.index)  # NEW is linked, B4 is not
    counted = stored.groupby(links).sum().to_dict()
    assert published.grids.set_index("grid_code")["households"].to_dict() == counted
    assert counted == result.grids.set_index("grid_code")["households"].to_dict()
    assert store.building_edits(CODE, store.load_buildings(CODE)).empty


def test_failed_publish_stores_no_edits(store, store_url, monkeypatch):
    old = store.load_published_plan(CODE)
    before = store.load_buildings(CODE).set_index("building_id")["households"].to_dict()
    buildings = _edited(store)
    result = store.redistrict(CODE, buildings, **BOUNDS)

    def broken(*, session, plan_id):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(analyst.plans, "publish_plan", broken)
    with pytest.raises(RuntimeError):
        store.save_and_publish(CODE, result, buildings=buildings)
    assert store.load_buildings(CODE).set_index("building_id")["households"].to_dict() == before
    assert _published(store_url) == [old.id] and len(store.plans(CODE)) == 1


def test_bad_household_count_in_edits_is_refused_by_name(store):
    buildings = _edited(store)
    buildings.loc[buildings["building_id"] == "NEW", "households"] = -1
    with pytest.raises(InputError, match="NEW"):
        store.building_edits(CODE, buildings)


def test_partition_of_an_empty_store_is_refused_in_both_languages(store_url):
    empty = open_store(store_url)
    try:
        with pytest.raises(InputError) as caught:
            empty.partition_many()
    finally:
        empty.close()
    assert "holds no community" in str(caught.value)
    assert "gridmap import" in caught.value.message("zh") and "社区" in caught.value.message("zh")
