"""A persons roster without 户号 imported alone that makes new households (an address no stored
household has) also links its persons without 楼栋编号 to the stored households, by 现住址 or
coordinates (service.importer: households_for_persons). Before, such persons were matched only
against the households the roster made, and were skipped; both backends.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from service.storage import models as m
from service.storage.session import make_engine
from tests.office_files import gbk_shapefiles, rosters_without_household_ids
from tests.service.test_cli_plan import run


def _stored(url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            households = pd.read_sql(select(m.Household.id, m.Household.size), conn)
            persons = pd.read_sql(select(m.Person.id, m.Person.household_id), conn)
    finally:
        engine.dispose()
    return households, persons


def test_persons_without_building_link_to_stored_households_when_new_ones_are_made(
    store_url, tmp_path
):
    files = gbk_shapefiles(tmp_path / "files", cpg=True)
    households, persons = rosters_without_household_ids(tmp_path / "files", rows=200)
    run(*files.import_args(store_url, tmp_path / "reports"), "--households", households)
    stored, _ = _stored(store_url)
    roster = pd.read_csv(persons, dtype=str, encoding="gbk")
    roster["楼栋编号"] = None  # the office knows them by where they live (现住址, 经度/纬度)
    n = len(roster)  # (an assertion shows a number, never the roster's names)
    newcomers = pd.DataFrame({
        "楼栋编号": ["1栋", "一号楼"], "单元": ["1单元", "一"], "楼层": ["9", "九楼"],
        "房号": ["901室", "901"], "现住址": ["铜仁市碧江区环城北路1号清水塘小区1栋1单元901室"] * 2,
        "姓名": ["新户甲", "新户乙"], "与户主关系": ["户主", "配偶"],
    })  # fmt: skip
    path = tmp_path / "人口_新增.csv"
    pd.concat([roster, newcomers], ignore_index=True).to_csv(path, index=False, encoding="gbk")
    printed = run("import", "--db", store_url, "--report-dir", tmp_path / "reports",
                  "--persons", path)  # fmt: skip
    assert "人口_新增.csv：没有住户表，已按人员的地址生成 1 户（每个地址一户）" in printed
    after, people = _stored(store_url)
    assert set(after["id"]) == {*stored["id"], "1-1-901"}
    assert len(people) == n + 2  # none skipped
    housed = people["household_id"].value_counts()
    assert housed["1-1-901"] == 2
    assert (housed.reindex(stored["id"]).to_numpy() == stored["size"].to_numpy()).all()
