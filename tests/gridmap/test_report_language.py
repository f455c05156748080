"""The attach report in English and Chinese (issue 11 §2): every report line's reason and detail.

Each :class:`~gridmap.attach.report.Issue` is made from a code of
:data:`~gridmap.attach.report.ISSUE_CODES` and its values; ``issue.reason`` stays the English
phrase programs group by, ``reason_text``/``message`` say it in the language asked for. The
report's summary line and files follow the language; the reason column keeps the code.
"""

from __future__ import annotations

import json
import re
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridmap.attach.chain import attach_all
from gridmap.attach.geomrepair import GeometryRepairWarning, repair_geometries
from gridmap.attach.report import ISSUE_CODES, AttachReport, Issue
from gridmap.errors import InvalidGeometryError
from gridmap.io.readerrors import COLUMN_WORDS
from tests.gridmap.test_cli_language import english_words, foreign_chinese

_SAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "missing_id": ("building", {"column": "building_id"}),
    "no_address": ("household", {"blank": ["building_id", "room"]}),
    "unsafe_id": ("household", {"column": "household_id"}),
    "duplicate_record": ("person", {"first": 3, "row": 9}),
    "duplicate_footprint": ("building", {"row": 4, "first": "B1", "first_row": 2, "overlap": 0.97}),
    "control_characters": ("building", {"column": "address"}),
    "invalid_count": ("building", {"column": "households", "value": "'-1'", "limit": 2**31 - 1}),
    "invalid_value": ("person", {"column": "id_number",
                                 "problem": "invalid ID number check digit"}),
    "unknown_category": ("person", {"column": "sex", "allowed": ["F", "M"],
                                    "allowed_zh": ["男", "女"]}),
    "missing_id_number": ("person", {}),
    "duplicate_id_number": ("person", {"owner": "P1"}),
    "birth_date_differs": ("person", {}),
    "sex_differs": ("person", {}),
    "missing_geometry": ("community", {}),
    "invalid_geometry": ("building", {"why": "Self-intersection", "change": 20.0,
                                      "limit": 0.01}),
    "geometry_repaired": ("street", {"why": "Ring Self-intersection", "change": 0.002,
                                     "line": True}),
    "no_household_key": ("person", {}),
    "unknown_household": ("person", {"household_id": "H9"}),
    "building_rejected": ("household", {"building_id": "B3"}),
    "unknown_building": ("household", {"building_id": "B9"}),
    "building_several": ("household", {"building_id": "3#", "ids": "B3, B33"}),
    "outside_building": ("household", {"building_id": "B1", "distance": 21.6}),
    "no_building": ("household", {"tried": ["address_ambiguous", "point_far"],
                                  "tolerance": 30.0}),
    "unplaced": ("household", {"tried": ["address_unknown", "point_far"], "tolerance": 30.0}),
    "no_household": ("person", {"tried": ["address_several", "household_several"],
                                "tolerance": 30.0, "household_id": "B1-1-302"}),
    "unhoused": ("person", {"tried": ["address_none", "household_none"], "tolerance": 30.0,
                            "household_id": "B1-1-302"}),
    "no_geometry": ("building", {}),
    "outside_grids": ("building", {}),
    "outside_communities": ("building", {}),
    "crosses_street": ("building", {"names": ["环城北路"], "rows": [4]}),
    "count_mismatch": ("building", {"given": 40, "attached": 39}),
    "out_of_range": ("household", {"column": "floor", "value": 9, "limit": "floors", "cap": 6}),
    "unknown_community": ("grid", {"community_code": "520602999999"}),
    "outside_targets": ("street", {"column": "community_code", "targets": "communities"}),
    "not_located": ("compound", {"column": "community_code"}),
    "grid_left_out": ("grid", {}),
    "point_outside_footprint": ("building", {"distance_m": 268.4}),
    "communities_overlap": ("community", {"other": "520602001002", "area": 1600.0,
                                          "held": 900.0}),
    "grids_overlap": ("grid", {"others": [("520602001001002", 1000.0)]}),
    "grid_outside": ("grid", {"area": 250.0, "community_code": "520602001001"}),
    "gap": ("grid", {"area": 2500.0, "community_code": "520602001001",
                     "others": ["520602001001003"]}),
    "too_long": ("building", {"column": "address", "limit": 200}),
    "out_of_store_range": ("building", {"column": "floors", "lo": -(2**31), "hi": 2**31 - 1}),
}  # fmt: skip
_DATA = {"环城北路", "男", "女"}
"""Values the samples give (a street's name, the Chinese of the categories)."""
_STORE_REASONS = [
    Issue("person", "P1", "household removed", "household H1 was removed; household_id cleared"),
    Issue("building", "B1", "building retired", "removed from the file but assigned by a plan"),
    Issue("household", "H1", "not in the store", "listed for deletion but not stored"),
]
"""Issues the store's update writes with their English words (service.storage.updates)."""


def test_every_code_has_a_sample():
    assert set(_SAMPLES) == set(ISSUE_CODES)


@pytest.mark.parametrize("code", ISSUE_CODES)
def test_every_issue_is_written_in_both_languages(code):
    entity, values = _SAMPLES[code]
    issue = Issue.of(entity, "R1", code, **values)
    assert (issue.reason_text("en"), issue.message("en")) == (issue.reason, issue.detail)
    zh = f"{issue.reason_text('zh')}：{issue.message('zh')}"
    assert issue.reason_text("zh") != issue.reason and issue.message("zh") != issue.detail
    assert english_words(zh) == [], zh
    assert foreign_chinese(f"{issue.reason}: {issue.detail}", _DATA) == [], issue.detail
    named = [str(v) for v in values.values() if isinstance(v, str) and v not in COLUMN_WORDS]
    assert all(n in issue.detail for n in named if not n.startswith("invalid ID"))
    assert issue == Issue.of(entity, "R1", code, **values) and hash(issue)  # compares by value


def test_an_unknown_code_is_refused():
    with pytest.raises(ValueError, match="unknown report issue"):
        Issue.of("building", "B1", "no_such_code")


@pytest.mark.parametrize("issue", _STORE_REASONS, ids=lambda i: i.reason)
def test_the_store_updates_reasons_are_said_in_chinese(issue):
    assert (issue.reason_text("en"), issue.message("en")) == (issue.reason, issue.detail)
    assert english_words(issue.reason_text("zh") + issue.message("zh")) == []


def test_a_record_without_id_is_a_data_row_in_chinese():
    issue = Issue.of("building", "row 8", "missing_id", column="building_id")
    assert (issue.record("zh"), issue.record("en")) == ("数据行 8", "row 8")
    assert issue.message("zh") == "没有楼栋编号；记录已跳过"


def _summary_report() -> AttachReport:
    return AttachReport([
        Issue.of("household", "H1", "unknown_building", building_id="B9"),
        Issue.of("household", "H2", "unknown_building", building_id="B8"),
        Issue.of("person", "row 3", "missing_id", column="person_id"),
        Issue.of("building", "B1", "outside_communities"),
        Issue.of("street", "S1", "outside_targets", column="community_code",
                 targets="communities"),
    ])  # fmt: skip


def test_the_summary_is_one_line_in_one_language():
    report = _summary_report()
    zh, en = report.summary("zh"), report.summary("en")
    assert zh == "报告中有 5 条记录（楼栋编号不存在 2 条，缺少编号 1 条，不在社区内 2 条）"
    assert en == ("5 record(s) in the report (unknown building: 2, missing id: 1, "
                  "outside communities: 2)")  # fmt: skip
    assert "\n" not in zh + en and english_words(zh) == [] and foreign_chinese(en, set()) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_files_say_the_problem_in_the_language_and_keep_the_codes(lang, tmp_path):
    report = _summary_report()
    csv = pd.read_csv(report.to_csv(tmp_path / "r.csv", lang), dtype=str, encoding="utf-8-sig")
    rows = json.loads(report.to_json(tmp_path / "r.json", lang).read_text(encoding="utf-8"))
    assert csv.to_dict(orient="records") == rows
    assert [r["reason"] for r in rows] == [i.reason for i in report]  # the codes, as grouped
    assert [r["entity"] for r in rows] == [i.entity for i in report]
    shown = " ".join(f"{r['record_id']} {r['problem']} {r['detail']}" for r in rows)
    if lang == "zh":
        assert english_words(shown) == [], shown
        assert rows[2]["record_id"] == "数据行 3" and rows[0]["problem"] == "楼栋编号不存在"
    else:
        assert foreign_chinese(shown, set()) == [], shown
        assert rows[2]["record_id"] == "row 3" and rows[0]["problem"] == "unknown building"
    assert report.to_frame().columns.tolist() == ["entity", "record_id", "reason", "detail"]


def _bowtie() -> shapely.Polygon:
    return shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])


def test_an_attach_run_reports_every_line_in_both_languages():
    """The chain's own report (validation, attach, cross-checks) on records gone wrong."""
    square = shapely.box(0, 0, 10, 10)
    buildings = gpd.GeoDataFrame(
        {"building_id": ["B1", "B2", "B3", None], "households": [2, 7, "二十", 1]},
        geometry=[square, _bowtie(), shapely.box(20, 0, 30, 10), shapely.box(40, 0, 50, 10)],
        crs=4545,
    )  # fmt: skip
    households = pd.DataFrame({"household_id": ["H1", "H2", "H3", "H4"],
                               "building_id": ["B1", "B2", "B9", None]})  # fmt: skip
    persons = pd.DataFrame({"person_id": ["P1", "P2", "P3"], "household_id": ["H1", "H8", None],
                            "id_number": ["110105194912310021", None, None]})  # fmt: skip
    result = attach_all(buildings=buildings, households=households, persons=persons)
    reasons = {i.reason for i in result.report}
    assert {"missing id", "invalid geometry", "invalid households", "building rejected",
            "unknown building", "no building", "unknown household", "no household key",
            "invalid ID number check digit", "household count mismatch"} <= reasons  # fmt: skip
    for issue in result.report:
        assert issue.code in ISSUE_CODES
        zh = f"{issue.record('zh')} {issue.reason_text('zh')} {issue.message('zh')}"
        assert english_words(zh) == [], zh
        en = f"{issue.record('en')} {issue.reason_text('en')} {issue.message('en')}"
        assert foreign_chinese(en, {"二十"}) == [], en  # the value typed is data


def test_a_layer_of_the_wrong_kind_is_refused_in_both_languages():
    grids = gpd.GeoDataFrame(
        {"grid_code": ["G1", "G2"]},
        geometry=[shapely.Point(0, 0), shapely.box(0, 0, 1, 1)],
        crs=4326,
    )
    grids.attrs["source"] = "网格.gpkg"
    with pytest.raises(InvalidGeometryError) as caught:
        repair_geometries(grids, "grid")
    zh, en = caught.value.message("zh"), caught.value.message("en")
    assert zh.startswith("网格.gpkg：网格 G1 的图形类型不对；网格的图形须为多面或面。")
    assert en.startswith("网格.gpkg: grid(s) G1 have geometries of the wrong kind")
    assert re.search(r"must be MultiPolygon or Polygon", en)


def test_a_repair_warns_with_its_own_class():
    """The commands silence GeometryRepairWarning: the report line says it in their --lang."""
    spike = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10), (0, 5), (0.001, 5.0005),
                             (0, 5.001), (0, 0)])  # fmt: skip
    grids = gpd.GeoDataFrame({"grid_code": ["G1"]}, crs=4326, geometry=[spike])
    with pytest.warns(GeometryRepairWarning):
        _, issues = repair_geometries(grids, "grid")
    assert [(i.reason, i.reason_text("zh")) for i in issues] == [
        ("geometry repaired", "图形已修复")
    ]
