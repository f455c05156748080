"""Repository on both backends: import, counts, plans, publishing and history."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from gridmap.errors import ImportAborted, InputError
from service.storage import models as m
from service.storage.errors import NotFoundError
from service.storage.imports import import_bundle
from service.storage.loads import load_assignment, load_buildings, load_community, table_counts
from service.storage.plans import list_plans, load_plan, publish_plan, save_plan

from .toy import CODE, EAST, EXPECTED_COUNTS, EXPECTED_GRIDS, WEST, bundle


def test_import_bundle_writes_every_table(session):
    summary = import_bundle(session=session, bundle=bundle())
    assert table_counts(session=session) == EXPECTED_COUNTS
    assert summary.counts["person"] == 16 and summary.plans == {CODE: 1}
    community = load_community(session=session, code=CODE)
    assert community.geometry.iloc[0].geom_type == "MultiPolygon"
    assert community.geometry.iloc[0].area == pytest.approx(1e-4)


def test_imported_grids_are_a_published_plan_with_derived_counts(session):
    import_bundle(session=session, bundle=bundle())
    grids = load_plan(session=session, community_code=CODE)
    assert grids.attrs["plan"]["status"] == "published"
    assert grids.attrs["plan"]["source"] == "import"
    got = {r.grid_code: (r.buildings, r.households, r.persons) for r in grids.itertuples()}
    assert got == EXPECTED_GRIDS
    assignment = load_assignment(session=session, plan_id=grids.attrs["plan"]["id"])
    assert assignment.to_dict() == {
        "B1": f"{CODE}001", "B2": f"{CODE}001", "B3": f"{CODE}001",
        "B4": f"{CODE}002", "B5": f"{CODE}002", "B6": f"{CODE}002",
    }  # fmt: skip


def test_buildings_keep_footprints_and_points(session):
    import_bundle(session=session, bundle=bundle())
    points = load_buildings(session=session, community_code=CODE)
    assert set(points.geometry.geom_type) == {"Point"}
    shapes = load_buildings(session=session, community_code=CODE, footprints=True)
    kinds = dict(zip(shapes["building_id"], shapes.geometry.geom_type, strict=True))
    assert kinds == {"B1": "MultiPolygon", "B2": "Point", "B3": "MultiPolygon",
                     "B4": "Point", "B5": "MultiPolygon", "B6": "Point"}  # fmt: skip
    assert dict(zip(points["building_id"], points["households"], strict=True))["B1"] == 10
    assert "name" not in points.columns or points["name"].isna().all()


def test_import_of_existing_ids_is_refused_and_writes_nothing(session):
    import_bundle(session=session, bundle=bundle())
    again = bundle()
    again.communities = None
    with pytest.raises(ImportAborted, match=r"compound id\(s\) C1 are already in the store"):
        import_bundle(session=session, bundle=again)
    assert table_counts(session=session) == EXPECTED_COUNTS


def test_duplicate_ids_in_one_file_are_named(session):
    b = bundle()
    b.households.loc[1, "household_id"] = "H0"
    with pytest.raises(ImportAborted, match=r"household id\(s\) H0 appear more than once"):
        import_bundle(session=session, bundle=b)
    assert set(table_counts(session=session).values()) == {0}


def test_constraint_failure_in_the_last_table_rolls_back_everything(session):
    b = bundle()
    b.persons.loc[15, "household_id"] = "H-missing"  # foreign key fails at the last person row
    with pytest.raises(ImportAborted, match=r"person record\(s\) \(PH72\) name a household") as err:
        import_bundle(session=session, bundle=b)
    assert "张三" not in str(err.value) and "52060219800101001X" not in str(err.value)
    assert set(table_counts(session=session).values()) == {0}


def test_failure_after_rows_were_flushed_rolls_back_everything(session, monkeypatch):
    calls = []

    def fail_on_persons(table, done, total):
        calls.append(table)
        if table == "person":
            raise RuntimeError("disk full")

    import_bundle(session=session, bundle=bundle().__class__(communities=bundle().communities))
    before = table_counts(session=session)
    b = bundle()
    b.communities = None
    with pytest.raises(RuntimeError, match="disk full"):
        import_bundle(session=session, bundle=b, progress=fail_on_persons)
    assert calls[:3] == ["compound", "street", "building"]  # rows were written before it
    assert table_counts(session=session) == before


def test_publish_keeps_the_old_plan_as_history(session):
    import_bundle(session=session, bundle=bundle())
    first = load_plan(session=session, community_code=CODE).attrs["plan"]["id"]
    grids = load_plan(session=session, plan_id=first)[["geometry"]]
    second = save_plan(session=session, community_code=CODE, grids=grids,
                       params={"min_households": 300})  # fmt: skip
    assert load_plan(session=session, community_code=CODE).attrs["plan"]["id"] == first
    publish_plan(session=session, plan_id=second)
    session.commit()
    plans = list_plans(session=session, community_code=CODE).set_index("id")
    assert plans["status"].to_dict() == {first: "superseded", second: "published"}
    new = load_plan(session=session, community_code=CODE)
    assert new.attrs["plan"]["params"] == {"min_households": 300}
    # Numbered W→E: the west half is 001 again, with the same derived counts.
    got = {r.grid_code: (r.buildings, r.households, r.persons) for r in new.itertuples()}
    assert got == EXPECTED_GRIDS
    old = load_plan(session=session, plan_id=first)
    assert len(old) == 2 and old.geometry.iloc[0].equals(new.geometry.iloc[0])


def test_database_allows_one_published_plan_per_community(session):
    import_bundle(session=session, bundle=bundle())
    draft = save_plan(session=session, community_code=CODE,
                      grids=load_plan(session=session, community_code=CODE))  # fmt: skip
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(update(m.Plan).where(m.Plan.id == draft).values(status="published"))
        session.flush()
    session.rollback()
    statuses = list_plans(session=session, community_code=CODE)["status"].tolist()
    assert statuses == ["published", "draft"]


def test_save_plan_rejects_foreign_grid_codes_and_unknown_communities(session):
    import_bundle(session=session, bundle=bundle())
    grids = load_plan(session=session, community_code=CODE)
    grids["grid_code"] = ["520602001002001", "520602001002002"]
    with pytest.raises(InputError, match="not its 12-digit code"):
        save_plan(session=session, community_code=CODE, grids=grids)
    with pytest.raises(NotFoundError, match="520602001099"):
        save_plan(session=session, community_code="520602001099", grids=grids)


def test_grids_saved_without_codes_run_north_to_south_then_west_to_east():
    import geopandas as gpd
    from shapely.geometry import box

    from gridmap.attach.gridcodes import fill_grid_codes

    cells = [
        box(x, y, x + 0.001, y + 0.001) for y in (27.721, 27.72) for x in (109.182, 109.18, 109.181)
    ]
    grids = gpd.GeoDataFrame(geometry=cells, crs=4326)
    codes = fill_grid_codes(CODE, grids).str[-3:].tolist()
    assert codes == ["003", "001", "002", "006", "004", "005"]
    grids["grid_code"] = [None, f"{CODE}009", None, None, None, None]  # a given code is kept
    assert fill_grid_codes(CODE, grids).str[-3:].tolist() == [
        "002",
        "009",
        "001",
        "005",
        "003",
        "004",
    ]
    assert WEST.bounds[0] < EAST.bounds[0]


def test_database_constraint_in_a_late_table_rolls_back_everything(session):
    b = bundle()
    b.staff.loc[1, "name"] = None  # NOT NULL fails in the database, after 6 tables were written
    with pytest.raises(ImportAborted, match="rolled back, nothing was written") as err:
        import_bundle(session=session, bundle=b)
    assert "staff" in str(err.value)
    assert "王五" not in str(err.value) and "李四" not in str(err.value)
    assert set(table_counts(session=session).values()) == {0}
