"""The problem report: one line per grid and kind, translated, routine notices summarised, CSV."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from gridmap.errors import InputError, InvalidGeometryError
from gridmap.planerrors import plan_error
from gridmap.plans.partition import partition
from gridmap.problems import (
    TABLE_COLUMNS,
    Problem,
    boundary_parts_message,
    footprint_repaired_message,
    merge_problems,
    problems_table,
    report_lines,
    street_list,
    write_problems_csv,
)
from gridmap.streets import boundary_mask, boundary_streets, street_names
from service.cli import app
from tests.gridmap.strategies import make_layers
from tests.gridmap.test_cli_language import english_words, foreign_chinese

runner = CliRunner()


def _crossing(grid: str, msg: str, severity: str = "") -> Problem:
    return Problem("street_crossed", msg, "c1", grid, message_zh=msg + "。", severity=severity)


def test_repeats_and_same_grid_kind_merge_into_one_line():
    ps = [_crossing("g1", "A"), _crossing("g1", "A"), _crossing("g1", "B"), _crossing("g2", "A")]
    merged = merge_problems(ps)
    assert [(p.grid_code, p.message) for p in merged] == [("g1", "A B"), ("g2", "A")]
    assert report_lines(ps, "en") == ["A B", "A"]


def test_routine_notices_are_counted_unless_verbose():
    ps = [
        Problem("over_max", "Grid g9 is big.", "c1", "g9", message_zh="网格g9户数过多。"),
        _crossing("g1", "R1", "routine"),
        _crossing("g2", "R2", "routine"),
    ]
    short = report_lines(ps, "zh")
    assert short[0] == "网格g9户数过多。" and len(short) == 2 and "2条常规说明" in short[1]
    assert report_lines(ps, "zh", verbose=True) == ["网格g9户数过多。", "R1。", "R2。"]
    assert "2 routine notice(s)" in report_lines(ps, "en")[1]


def test_street_names_never_ids_and_unnamed_is_translated():
    line = shapely.LineString([(0, 0), (1, 0)])
    s = gpd.GeoDataFrame(
        {"道路名称": ["清水路", None, " "], "street_id": ["S1", "S2", "S3"]}, geometry=[line] * 3
    )
    assert street_names(s).tolist() == ["清水路", "", ""]
    words = street_list([("清水路", 10.0), ("", 4.0)], "zh")
    assert words == "清水路（10米）、未命名道路（4米）"
    assert "S2" not in words and "unnamed" in street_list([("", 4.0)], "en")


def test_boundary_rules_osm_tags_and_a_boundary_column():
    line = shapely.LineString([(0, 0), (1, 0)])
    s = gpd.GeoDataFrame(
        {
            "tunnel": ["yes", "building_passage", "no", None, None, None, None, None],
            "covered": [None, None, None, "yes", None, None, None, None],
            "layer": [None, None, None, None, "-1", "1", None, None],
            "location": [None, None, None, None, None, None, "underground", None],
        },
        geometry=[line] * 8,
    )
    assert boundary_mask(s).tolist() == [False, False, True, False, False, True, False, True]
    s["是否边界"] = [None, "是", None, None, None, "否", None, None]
    assert boundary_mask(s).tolist() == [False, True, True, False, False, False, False, True]
    assert len(boundary_streets(s)) == 3
    s["是否边界"] = "maybe"
    with pytest.raises(InputError, match="是否边界"):
        boundary_mask(s)


def test_table_and_csv_have_the_columns_and_neutralise_formulas(tmp_path):
    ps = [
        Problem("over_max", "Big.", "c1", "g1", ("=b1",), "大。", households=620),
        Problem(
            "compound_split",
            "Split.",
            "c1",
            "g2",
            message_zh="拆分。",
            compounds=("@小区",),
            streets=("+1 路",),
        ),  # fmt: skip
    ]
    table = problems_table(ps)
    assert list(table.columns) == TABLE_COLUMNS
    assert table["households"].tolist()[0] == 620 and pd.isna(table["households"].tolist()[1])
    write_problems_csv(ps, tmp_path / "p.csv")
    back = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig", dtype=str)
    assert list(back.columns) == TABLE_COLUMNS
    assert back.loc[1, "compounds"] == "'@小区" and back.loc[1, "streets"] == "'+1 路"
    assert back.loc[0, "severity"] == "warning" and back.loc[1, "severity"] == "info"


def _street_plan():
    # Two street blocks of 200 households: their grid must cross the street between them; an
    # empty block east of a second street joins a grid (a routine notice); a block of 400
    # households beyond a third street is a second grid (a community's only grid crosses its
    # streets by no choice and is not reported).
    bld = [(x, y, 20) for x in (20, 60, 100, 140, 180) for y in (50, 150)]
    bld += [(x, y, 20) for x in (240, 280, 320, 360, 380) for y in (50, 150)]
    bld += [(x, y, 40) for x in (660, 700, 740, 780, 820) for y in (50, 150)]
    comm, b, s = make_layers(
        [(0, 0, 900, 200)],
        bld,
        streets=[(220.37, -10, 220.37, 210), (420.37, -10, 420.37, 210),
                 (620.37, -10, 620.37, 210)],
    )  # fmt: skip
    s["name"] = ["清水路", None, None]
    s["tunnel"] = [None, None, None]
    return comm, b, s


def test_partition_report_lines_are_chinese_and_complete():
    comm, b, s = _street_plan()
    r = partition(comm, b, streets=s)
    crossed = [p for p in r.problems if p.kind == "street_crossed"]
    assert len(crossed) == len({p.grid_code for p in crossed}) >= 1
    for line in r.report("zh", verbose=True):
        assert re.search(r"[A-Za-z]", line) is None, line
    assert any("清水路" in p.message_zh for p in crossed)
    assert all(p.households for p in crossed) and all(p.community_code for p in crossed)
    table = r.problems_table()
    assert (table["kind"] == "street_crossed").sum() == len(crossed)


def test_a_tunnel_is_not_a_boundary_and_not_reported_as_crossed():
    comm, b, s = _street_plan()
    s["tunnel"] = ["yes", None, None]
    r = partition(comm, b, streets=s)
    assert not any("清水路" in p.message_zh for p in r.problems)


def test_cli_writes_the_problems_csv_and_prints_each_grid_once(tmp_path):
    comm, b, s = _street_plan()
    comm.rename(columns={"community_code": "code"}).to_file(tmp_path / "c.gpkg")
    b.rename(columns={"building_id": "id"}).to_file(tmp_path / "b.gpkg")
    s.to_file(tmp_path / "s.gpkg")
    t = str(tmp_path)
    args = ["partition", "--communities", f"{t}/c.gpkg", "--buildings", f"{t}/b.gpkg",
            "--streets", f"{t}/s.gpkg", "--out", f"{t}/g.geojson",
            "--problems", f"{t}/p.csv"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig", dtype=str)
    assert list(table.columns) == TABLE_COLUMNS and len(table) >= 1
    printed = [ln for ln in res.output.splitlines() if ln.startswith("- ")]
    assert len(printed) == len(set(printed))
    verbose = runner.invoke(app, [*args, "--verbose", "--lang", "en"])
    assert verbose.exit_code == 0, verbose.output
    assert "routine notice" not in verbose.output


def test_cli_reads_the_tunnel_tag_of_the_street_file(tmp_path):
    comm, b, s = _street_plan()
    comm.rename(columns={"community_code": "code"}).to_file(tmp_path / "c.gpkg")
    b.rename(columns={"building_id": "id"}).to_file(tmp_path / "b.gpkg")
    t = str(tmp_path)
    args = ["partition", "--communities", f"{t}/c.gpkg", "--buildings", f"{t}/b.gpkg",
            "--streets", f"{t}/s.gpkg", "--out", f"{t}/g.geojson", "--jobs", "1"]  # fmt: skip
    s.to_file(tmp_path / "s.gpkg")
    assert "清水路" in runner.invoke(app, args).output
    s["tunnel"] = ["yes", None, None]
    s.to_file(tmp_path / "s.gpkg")
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "清水路" not in res.output


@pytest.mark.parametrize("reason", ["crosses", "hole_outside", "few_points", "invalid"])
def test_a_repaired_footprint_is_worded_in_each_language_naming_the_buildings(reason):
    ids = [f"楼{i}" for i in range(12)]  # ids as offices write them: named, never translated
    en, zh = footprint_repaired_message(reason, ids)
    assert "楼0、楼1" in zh and "（共12栋）" in zh and "楼11" not in zh
    assert "楼0, 楼1" in en and "(12 in all)" in en
    assert english_words(zh) == [] and foreign_chinese(en, set(ids)) == []
    assert zh.startswith("楼栋 楼0") and "已按原覆盖范围修正后划分" in zh


def test_a_collection_boundary_is_worded_in_each_language():
    en, zh = boundary_parts_message("520602001001")
    assert zh.startswith("社区 520602001001 的边界中的点和线已略去")
    assert "520602001001" in en and "left out" in en
    assert english_words(zh) == [] and foreign_chinese(en, set()) == []


def test_a_community_without_area_is_not_called_empty():
    err = plan_error("empty_geometry", name="communities", ids=["520602001001"], no_area=True)
    assert "no area" in str(err) and "empty" not in str(err)
    assert "没有面积" in err.message("zh") and "空或缺失" not in err.message("zh")
    assert isinstance(err, InvalidGeometryError) and err.code == "empty_geometry"
