"""Acceptance: an office's files to a published plan on the command line, on both backends.

Every set of office files (``tests/office_files.py``: GBK Shapefiles with and without ``.cpg``,
truncated headers, a multi-layer GeoPackage, OSM-style GeoJSON, compounds without ids or names,
buildings as lon/lat or WKT CSV) takes two routes:

* files: ``gridmap partition`` (no mapping file) → grids GeoJSON;
* store: ``gridmap import`` → ``gridmap plan partition --publish`` → the OGC API
  (``/collections/grids/items``).

Both routes must give the same grids: same codes, same household counts, geometries equal
within a few centimetres. Then an update round trip: import, publish, ``import --update`` with
changed households, ``plan list`` flags the broken grid, ``plan redistrict --publish`` repairs it
and the API serves the repaired grids.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import geodata
from gridmap.io.addresses import waits_for_building
from gridmap.io.layers import read_layer
from service.analyst import open_store
from service.api.main import create_app
from service.settings import Settings
from service.storage import models as m
from service.storage.session import make_engine
from tests.office_files import (
    ALL_SETS,
    gbk_shapefiles,
    persons_roster,
    rosters_without_household_ids,
)
from tests.service.test_cli_plan import BIG, assert_same_grids, run


def served_grids(url: str) -> gpd.GeoDataFrame:
    """Every grid the OGC API serves (published plans), following the ``next`` links."""
    features: list[dict] = []
    with TestClient(create_app(Settings(database_url=url))) as client:
        link: str | None = "/collections/grids/items?limit=100"
        while link:
            response = client.get(link)
            assert response.status_code == 200, response.text
            doc = response.json()
            features += doc["features"]
            link = next((x["href"] for x in doc["links"] if x["rel"] == "next"), None)
    frame = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    frame["grid_code"] = [f["id"] for f in features]
    assert set(frame["plan_status"]) == {"published"}
    return frame


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_files_and_store_give_the_same_grids(name, store_url, tmp_path):
    files = ALL_SETS[name](tmp_path / "files")
    out = tmp_path / "grids.geojson"
    run("partition", *files.partition_args(), "--jobs", 1, "--out", out)
    run(*files.import_args(store_url, tmp_path / "reports"))
    printed = run("plan", "partition", "--db", store_url, "--jobs", 1, "--publish")
    assert "已发布" in printed  # the summary table, in Chinese by default
    assert (_plans(store_url)["status"] == "published").sum() == 3
    from_files = gpd.read_file(out)
    assert len(from_files) >= 15  # the sample's 3 communities make 18 grids at 300-500
    assert_same_grids(from_files, served_grids(store_url))


def test_roster_without_person_ids_counts_persons_in_the_published_grids(store_url, tmp_path):
    files = gbk_shapefiles(tmp_path / "files", cpg=False)
    roster = persons_roster(tmp_path / "files", rows=None)
    args = files.import_args(store_url, tmp_path / "reports")
    args += ["--households", str(geodata.get_path("households.csv")), "--persons", str(roster)]
    run(*args)
    run("plan", "partition", "--db", store_url, "--jobs", 1, "--publish")
    grids = served_grids(store_url)
    n_persons = len(pd.read_csv(roster, dtype=str, encoding="gbk"))
    assert int(grids["persons"].sum()) == n_persons  # every roster row reached a grid
    run(args[0], "--update", *args[1:])  # the same roster again: generated ids are stable
    with open_store(store_url, migrate=False) as store:
        assert int(store.load_buildings()["persons"].sum()) == n_persons


def _stored_households_and_persons(url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Household id → building and size, person id → household id, as stored."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            households = pd.read_sql(
                select(m.Household.id, m.Household.building_id, m.Household.size), conn
            )
            persons = pd.read_sql(select(m.Person.id, m.Person.household_id), conn)
    finally:
        engine.dispose()
    return households, persons


@pytest.mark.parametrize("persons_building", [True, False], ids=["楼栋编号", "现住址"])
def test_rosters_without_household_ids_import_and_update_with_the_same_ids(
    store_url, tmp_path, persons_building
):
    files = gbk_shapefiles(tmp_path / "files", cpg=False)
    households, persons = rosters_without_household_ids(
        tmp_path / "files", rows=2000, persons_building=persons_building
    )
    read = read_layer(households, "household")
    made = read["household_id"]  # the library's ids, made of the address as read
    waiting = waits_for_building(read)  # no 楼栋编号: an id once the import finds the building
    assert int(waiting.sum()) == int(made.isna().sum()) > 100
    args = files.import_args(store_url, tmp_path / "reports")
    args += ["--households", str(households), "--persons", str(persons)]
    printed = run(*args)
    n, placed = int(made.notna().sum()), int(waiting.sum())
    assert (f"住户_无户号.xlsx：{n} 户没有户号，已按 楼栋编号 + 单元 + 楼层 + 房号 生成（如 "
            f"B00001-1-101；房号已含楼层时不加楼层）；{placed} 个数据行没有楼栋编号，但有地址或"
            "坐标：导入时据此找到所在楼栋后再生成") in printed  # fmt: skip
    stored, people = _stored_households_and_persons(store_url)
    assert len(stored) == 2000 and set(made.dropna()) < set(stored["id"])  # none skipped
    found = stored[~stored["id"].isin(set(made.dropna()))]
    assert len(found) == placed
    assert all(i.startswith(f"{b}-") for i, b in zip(found["id"], found["building_id"],
                                                     strict=True))  # fmt: skip
    assert stored["building_id"].notna().all()
    roster = pd.read_csv(persons, dtype=str, encoding="gbk")
    # every person is linked, those of the placed households by 现住址 or coordinates, and
    # to the right household: each household holds as many persons as its roster size says
    assert len(people) == len(roster) and people["household_id"].notna().all()
    housed = people["household_id"].value_counts().reindex(stored["id"]).fillna(0)
    assert (housed.to_numpy() == stored["size"].to_numpy()).all()
    in_placed = people["household_id"].isin(set(found["id"]))
    assert int(in_placed.sum()) == int(stored.loc[found.index, "size"].sum()) > 200
    assert people["id"].iloc[0].startswith("B00001-1-101-")
    with open_store(store_url, migrate=False) as store:
        assert int(store.load_buildings()["persons"].sum()) == len(people)
    report = next((tmp_path / "reports").glob("*.csv")).read_text(encoding="utf-8-sig")
    assert "household," not in report and "person," not in report  # every record kept

    printed = run(args[0], "--update", "--lang", "en", *args[1:])  # the same rosters again
    assert "Import 2: changes" in printed
    again, people_again = _stored_households_and_persons(store_url)
    assert (
        people_again.set_index("id")["household_id"]
        .sort_index()
        .equals(people.set_index("id")["household_id"].sort_index())
    )  # same person ids, same households
    assert (
        again.set_index("id")["building_id"]
        .sort_index()
        .equals(stored.set_index("id")["building_id"].sort_index())
    )  # same ids, same buildings
    changes = printed[printed.index("Import 2: changes") :]
    for entity, count in (("household", 2000), ("person", len(roster))):
        cells = r"\s*│\s*".join([entity, str(count), "0", "0", str(count), "0"])  # read … removed
        assert re.search(cells, changes)


def test_persons_roster_without_buildings_alone_links_to_the_stored_households(store_url, tmp_path):
    files = gbk_shapefiles(tmp_path / "files", cpg=True)
    households, persons = rosters_without_household_ids(tmp_path / "files", rows=1000,
                                                        persons_building=False)  # fmt: skip
    run(*files.import_args(store_url, tmp_path / "reports"), "--households", households)
    args = ["import", "--db", store_url, "--report-dir", tmp_path / "reports", "--persons",
            persons]  # fmt: skip
    printed = run(*args)
    roster = pd.read_csv(persons, dtype=str, encoding="gbk")
    assert "没有住户表" not in printed and f"{len(roster)} 名人员没有户号和楼栋编号" in printed
    stored, people = _stored_households_and_persons(store_url)
    assert len(people) == len(roster)  # by 现住址, else by coordinates in the stored buildings
    housed = people["household_id"].value_counts().reindex(stored["id"]).fillna(0)
    assert (housed.to_numpy() == stored["size"].to_numpy()).all()
    printed = run(args[0], "--update", "--lang", "en", *args[1:])
    again = _stored_households_and_persons(store_url)[1]
    assert again.sort_values("id").reset_index(drop=True).equals(
        people.sort_values("id").reset_index(drop=True))  # fmt: skip
    cells = r"\s*│\s*".join(["person", str(len(roster)), "0", "0", str(len(roster)), "0"])
    assert re.search(cells, printed)


def test_persons_roster_alone_makes_the_households_of_its_addresses(store_url, tmp_path):
    files = gbk_shapefiles(tmp_path / "files", cpg=True)
    _, persons = rosters_without_household_ids(tmp_path / "files", rows=300)
    run(*files.import_args(store_url, tmp_path / "reports"))
    args = ["import", "--db", store_url, "--report-dir", tmp_path / "reports", "--persons",
            persons]  # fmt: skip
    printed = run(*args)
    read = read_layer(persons, "person")
    n = read["household_id"].nunique()
    assert f"人口_无户号.csv：没有住户表，已按人员的地址生成 {n} 户（每个地址一户）" in printed
    stored, people = _stored_households_and_persons(store_url)
    assert set(stored["id"]) == set(read["household_id"].dropna())
    assert len(people) == int(read["household_id"].notna().sum())
    printed = run(args[0], "--update", *args[1:])
    assert "没有住户表" not in printed  # the households are stored now
    assert set(_stored_households_and_persons(store_url)[0]["id"]) == set(stored["id"])


def test_update_round_trip_flags_and_repairs_the_broken_grid(store_url, tmp_path):
    files = gbk_shapefiles(tmp_path / "files", cpg=True)
    run(*files.import_args(store_url, tmp_path / "reports"))
    run("plan", "partition", "--db", store_url, "--jobs", 1, "--publish")
    before = served_grids(store_url)
    with open_store(store_url, migrate=False) as store:
        plan = store.load_published_plan(BIG)
    households = plan.grids.set_index("grid_code")["households"]
    fullest = str(households.idxmax())
    target = str(plan.assignments.query("grid_code == @fullest")["building_id"].iloc[0])

    buildings = gpd.read_file(files.buildings)  # the office's file, GBK text via its .cpg
    assert "楼栋编号" in buildings.columns and "户数" in buildings.columns
    grow = 520 - int(households.max())
    buildings.loc[buildings["楼栋编号"] == target, "户数"] += grow
    changed = tmp_path / "楼栋_更新.geojson"
    buildings.to_crs(4326).to_file(changed, driver="GeoJSON", engine="pyogrio")
    printed = run("import", "--lang", "en", "--db", store_url, "--update", "--buildings", changed,
                  "--report-dir", tmp_path / "reports")  # fmt: skip
    assert "updated" in printed

    listed = _plans(store_url).set_index("id")
    assert int(listed.at[plan.id, "flagged"]) == 1
    assert "outside the household bounds now" in run("plan", "list", "--db", store_url,
                                                      "--lang", "en")  # fmt: skip
    served = served_grids(store_url).set_index("grid_code")
    assert int(served.at[fullest, "households"]) == int(households.max())  # as published

    run("plan", "redistrict", "--db", store_url, "--publish")
    after = _plans(store_url)
    new = after[(after["community_code"] == BIG) & (after["status"] == "published")]
    assert len(new) == 1 and int(new["id"].iloc[0]) != plan.id
    assert int(new["flagged"].iloc[0]) == 0
    grids = served_grids(store_url)
    mine = grids[grids["grid_code"].str.startswith(BIG)]
    assert mine["households"].between(300, 500).all()
    assert int(mine["households"].sum()) == int(households.sum()) + grow
    others = before[~before["grid_code"].str.startswith(BIG)]
    assert_same_grids(others, grids[~grids["grid_code"].str.startswith(BIG)])


def _plans(url: str) -> pd.DataFrame:
    with open_store(url, migrate=False) as store:
        return store.plan_overview()
