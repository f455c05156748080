"""Errors in English and Chinese (gridmap.errors, gridmap.io.readerrors, crs, schema, planning
and the store).

Every error the file-reading road, planning (gridmap.planerrors) and the store's plan refusals
(service.storage.errors) raise is written once per area (:class:`ErrorTexts`) with both texts;
``str(err)`` stays the English, ``err.message("zh")`` is Chinese without English words (file
names, codes, options and the values it names aside).
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import pytest

from gridmap.crs import CRS_ERRORS
from gridmap.errors import (
    CRSError,
    DuplicateIdError,
    ErrorTexts,
    GridmapError,
    ImportAborted,
    InputError,
    InvalidGeometryError,
)
from gridmap.io.readerrors import COLUMN_PROBLEM_CODES, COLUMN_WORDS, READ_ERRORS, ColumnProblem
from gridmap.planerrors import PLAN_ERRORS
from gridmap.plans.compare import MATCH_CODE, MATCH_OVERLAP, PLAN_SCORE_WEIGHTS
from gridmap.schema import ENTITIES, SCHEMA_ERRORS
from service.storage.errors import STORE_ERRORS, NotFoundError
from tests.gridmap.test_cli_language import english_words, foreign_chinese

_PROBLEMS: dict[str, dict[str, Any]] = {
    "unknown_targets": {"entity": "household", "targets": ["户主"], "known": ["household_id"]},
    "doubled": {"entity": "building", "doubles": [("building_id", ["楼号", "楼栋号"])]},
    "field_header_missing": {"header": "楼编号", "column": "building_id"},
    "mapped_header_missing": {"column": "households", "header": "户数合计"},
    "column_missing": {"column": "households"},
    "household_id_missing": {"lacking": ["room"]},
    "id_like": {"header": "证件", "column": "person_id", "target": "id_number", "generated": True},
}
_SOME = [ColumnProblem.of("column_missing", column="households"),
         ColumnProblem.of("id_like", header="电话", column="person_id", target="phone",
                          generated=False)]  # fmt: skip
_READ: dict[str, dict[str, Any]] = {
    "not_decodable_as": {"file": "b.csv", "encoding": "GBK", "detail": "'gbk' codec can't"},
    "not_text": {"file": "b.csv"},
    "text_not": {"file": "b.shp", "encoding": "UTF-8"},
    "text_not_as_given": {"file": "b.shp", "encoding": "UTF-8", "actual": "GB18030"},
    "file_not_found": {"path": "/tmp/a/b.csv"},
    "cannot_write": {"file": "b.kml"},
    "output_is_folder": {"file": "楼栋"},
    "output_under_file": {"file": "人口/b.csv", "parent": "人口"},
    "unreadable": {"file": "b.gpkg", "layer": "楼栋", "detail": "not a GeoPackage"},
    "unsupported_format": {"file": "b.dxf", "suffixes": (".geojson", ".gpkg", ".osm.pbf")},
    "table_unreadable": {"file": "b.csv", "detail": "Error tokenizing data"},
    "workbook_unreadable": {"file": "b.xlsx", "detail": "File is not a zip file"},
    "no_layer": {"file": "b.gpkg", "layer": "楼", "layers": ["楼栋", "道路"]},
    "no_records": {"file": "b.gpkg", "layer": "楼栋"},
    "output_suffix": {"file": "grids.csv", "suffixes": (".geojson", ".gpkg", ".shp")},
    "no_assignments_table": {"file": "b.gpkg", "layers": ["楼栋", "道路"]},
    "shapefile_part_missing": {"file": "楼栋.shp", "part": ".dbf"},
    "prj_unknown": {"file": "楼栋.shp", "detail": "missing CONVERSION node"},
    "layers_ambiguous": {"file": "b.gpkg", "entity": "building", "layers": ["兴趣点", "房"]},
    "no_sheet": {"file": "b.xlsx", "sheet": "人口", "sheets": ["花名册"]},
    "zip_without_layer": {"file": "b.zip", "found": ["楼栋.dxf"], "n": 1},
    "workbook_encrypted": {"file": "b.xlsx"},
    "rows_too_long": {"file": "b.csv", "lines": [2, 7], "n": 2, "width": 10},
    "not_in_crs": {"file": "b.shp", "x": 36617247.0, "y": 3067626.0,
                   "crs": "EPSG:4545", "given": False, "zone": 36,
                   "prefixed": True, "suggested": "EPSG:4524"},
    "lonlat_in_projected": {"file": "b.geojson", "x": 108.21, "y": 27.71, "crs": "EPSG:4545",
                            "given": False},
    "lat_lon_swapped": {"file": "b.csv", "x": 27.7168, "y": 109.1889, "columns": ["经度", "纬度"]},
    "mapping_unreadable": {"path": "/tmp/m.toml", "detail": "Expected '=' after a key"},
    "mapping_not_text": {"path": "/tmp/m.toml", "keys": ["户号"]},
    "header_problems": {"problems": _SOME},
    "columns": {"file": "b.csv", "entity": "person", "headers": ["电话", "姓名"],
                "problems": _SOME},
    "not_lonlat": {"file": "b.shp", "x": 617247.0, "y": 3067626.0, "crs": "EPSG:4326",
                   "given": False},
    "table_without_crs": {"file": "b.csv", "x": 617247.0, "y": 3067626.0},
    "duplicate_ids": {"file": "b.csv", "entity": "building", "column": "building_id",
                      "repeats": [("B3", [3, 6])], "n": 4},
    "blank_ids": {"file": "b.csv", "entity": "community", "column": "community_code",
                  "rows": [8], "n_rows": 1},
    "bad_counts": {"file": "b.csv", "entity": "building", "column": "households",
                   "rows": [10, 11], "n_rows": 30, "ids": ["B10", "B11"]},
    "missing_counts": {"file": "b.csv", "n": 30, "total": 122, "ids": ["B10", "B11"]},
    "wrong_geometry_kind": {"file": "grids.gpkg", "entity": "grid", "ids": ["G1", "G2"],
                            "n": 30, "allowed": ["MultiPolygon", "Polygon"]},
    "deletions_lack_columns": {"file": "del.csv", "found": ["类别", "编号"]},
    "deletions_bad_rows": {"file": "del.csv", "rows": [3, 5], "n_rows": 12,
                           "known": ["community", "building"]},
    "bad_layer_option": {"value": "楼栋", "entities": ["community", "building"]},
}  # fmt: skip
_CRS: dict[str, dict[str, Any]] = {
    "no_crs": {"layer": "b.shp"},
    "no_crs_to_project": {},
    "empty_to_project": {},
    "no_crs_to_combine": {"name": "buildings"},
    "different_crs": {"crss": [("buildings", "EPSG:4545"), ("communities", "EPSG:4326")]},
}
_SCHEMA: dict[str, dict[str, Any]] = {"unknown_entity": {"entity": "楼"}}
_PLAN: dict[str, dict[str, Any]] = {
    "lack_columns": {"name": "buildings", "missing": ["building_id", "households"]},
    "duplicate_ids": {"name": "communities", "column": "community_code",
                      "ids": ["520602001001"]},
    "bad_community_codes": {"codes": ["5206", "清水塘"]},
    "bad_households": {"n": 2, "ids": ["B10", "B11"]},
    "empty_geometry": {"name": "buildings", "ids": ["B7"]},
    "bad_community_code": {"community_code": "5206"},
    "too_many_grids": {"community_code": "520602001001", "n": 1200, "most": 999},
    "bad_match": {"match": "CODE2", "choices": [MATCH_CODE, MATCH_OVERLAP]},
    "one_community": {"rows": 3},
    "bad_counts": {"counts": [0, 3]},
    "bad_weights": {"parts": sorted(PLAN_SCORE_WEIGHTS), "weights": {"balance": 0}},
    "assignments_unreadable": {"file": "a.csv", "detail": "No columns to parse from file"},
    "assignments_lack_columns": {"file": "a.csv", "missing": ["grid_code"]},
    "bad_bounds": {"lo": 600, "hi": 500},
    "plan_codes_need_communities": {"file": "g.kml", "n": 9, "total": 10},
}  # fmt: skip
_STORE: dict[str, dict[str, Any]] = {
    "import_unknown_entities": {"unknown": ["楼"], "known": ["community", "building"]},
    "removal_needs_update": {},
    "replace_unknown": {"entities": ["楼"], "known": ["community", "building"]},
    "replace_without_file": {"entities": ["building"]},
    "too_long_for_store": {"items": [("building", "B1", "building_id", "40"),
                                     ("building", "B2", "floors", "-2147483648..2147483647")],
                           "n": 12},
    "communities_left_out": {"left_out": [
        ("520602002002", ("Self-intersection; no repair keeps its area", "自相交；修复会改变面积"),
         "building", ["B00088", "B00089"], 26)]},
    "dry_run_needs_migration": {"current": "0005", "head": "0006"},
    "store_newer": {"revision": "0099", "head": "0006"},
    "persons_without_households": {"file": "人口.csv", "n": 60, "total": 61},
    "already_stored": {"table": "compound", "ids": [f"C{i}" for i in range(12)]},
    "repeated_in_file": {"table": "staff", "ids": ["S1"]},
    "unknown_references": {"table": "building", "column": "compound_id", "target": "compound",
                           "records": ["B1", "B2"], "n": 2, "missing": ["C9"]},
    "required_missing": {"table": "staff", "column": "name", "records": ["S2"], "n": 1},
    "rolled_back": {"kind": "IntegrityError", "table": "staff",
                    "failed": "NOT NULL constraint failed"},
    "deleted_and_in_file": {"table": "building", "ids": ["B00017"]},
    "communities_in_use": {"users": [("520602001001", 1, "plan"),
                                     ("520602001001", 30, "building")]},
    "no_community": {"community_code": "520602999999"},
    "no_communities": {},
    "no_plan": {"plan_id": 9999},
    "no_plans": {"plan_ids": [9998, 9999]},
    "no_published_plan": {"community_code": "520602001005"},
    "one_per_community": {"plan_ids": [3, 7], "community_code": "520602002001"},
    "nothing_to_redistrict": {"codes": ["520602001005"]},
    "none_published": {},
    "different_communities": {"plan_a": 3, "plan_b": 4, "code_a": "520602002001",
                              "code_b": "520602002002"},
    "bad_grid_codes": {"codes": ["5206020010019"], "community_code": "520602001001"},
    "edit_lacks_columns": {"missing": ["households"]},
    "edit_repeats_ids": {"ids": ["B3"]},
    "edit_bad_households": {"ids": ["B3", "B4"]},
    "edit_ids_elsewhere": {"ids": ["B9"], "community_code": "520602001001"},
    "new_without_crs": {"ids": ["N1"]},
    "new_without_geometry": {"ids": ["N1", "N2"]},
}  # fmt: skip
_ABORTS = {
    "already_stored",
    "repeated_in_file",
    "unknown_references",
    "required_missing",
    "rolled_back",
    "deleted_and_in_file",
    "communities_in_use",
}
"""The store's refusals while an import writes (ImportAborted: rolled back, nothing written)."""
_AREAS: list[tuple[ErrorTexts, dict[str, dict[str, Any]]]] = [
    (READ_ERRORS, _READ), (CRS_ERRORS, _CRS), (SCHEMA_ERRORS, _SCHEMA), (PLAN_ERRORS, _PLAN),
    (STORE_ERRORS, _STORE),
]  # fmt: skip
_TYPED = {"Excel", "WPS", "entity", "id"}  # programs a person opens the file in, columns typed
_KEYS = {MATCH_CODE, MATCH_OVERLAP, *PLAN_SCORE_WEIGHTS}
"""Values a caller types as they are (how grids are paired, the parts of a plan's score)."""
_DATA = {"楼栋", "道路", "兴趣点", "房", "楼", "人口", "花名册", "户号", "户主", "楼号", "楼栋号",
         "证件", "电话", "姓名", "楼编号", "户数合计", "b.csv", "清水塘", "类别",
         "编号", "经度", "纬度"}  # fmt: skip
"""The values the samples give: a file's own headers, layers and sheets."""


def _cases() -> list[tuple[ErrorTexts, str, dict[str, Any]]]:
    return [(texts, code, values) for texts, samples in _AREAS for code, values in samples.items()]


def test_every_code_has_a_sample():
    for texts, samples in _AREAS:
        assert set(samples) == set(texts.codes)
    assert set(_PROBLEMS) == set(COLUMN_PROBLEM_CODES)


@pytest.mark.parametrize("texts, code, values", _cases(), ids=[c[1] for c in _cases()])
def test_every_error_is_written_in_both_languages(texts, code, values):
    err = texts.error(code, **values)
    en, zh = err.message("en"), err.message("zh")
    assert str(err) == en == err.message_en and zh == err.message_zh != en
    assert (err.code, dict(err.values)) == (code, values)
    kind = InputError
    if texts is STORE_ERRORS and code.startswith("no_") and code != "no_communities":
        kind = NotFoundError
    elif texts is STORE_ERRORS and code in _ABORTS:
        kind = ImportAborted
    assert isinstance(err, kind)
    assert set(english_words(zh)) <= _TYPED | set(ENTITIES) | _KEYS, zh
    assert foreign_chinese(en, _DATA) == [], en


def test_the_kind_of_error_is_kept():
    assert isinstance(READ_ERRORS.error("not_lonlat", **_READ["not_lonlat"]), CRSError)
    assert isinstance(
        READ_ERRORS.error("duplicate_ids", **_READ["duplicate_ids"]), DuplicateIdError
    )
    assert all(isinstance(CRS_ERRORS.error(c, **v), CRSError) for c, v in _CRS.items())
    assert isinstance(PLAN_ERRORS.error("duplicate_ids", **_PLAN["duplicate_ids"]),
                      DuplicateIdError)  # fmt: skip
    assert isinstance(PLAN_ERRORS.error("empty_geometry", **_PLAN["empty_geometry"]),
                      InvalidGeometryError)  # fmt: skip
    assert isinstance(STORE_ERRORS.error("new_without_crs", ids=["N1"]), CRSError)
    missing = [c for c, v in _STORE.items() if isinstance(STORE_ERRORS.error(c, **v), LookupError)]
    assert missing == ["no_community", "no_plan", "no_plans", "no_published_plan"]


@pytest.mark.parametrize("code", COLUMN_PROBLEM_CODES)
def test_every_header_problem_is_written_in_both_languages(code):
    problem = ColumnProblem.of(code, **_PROBLEMS[code])
    en, zh = problem.message("en"), problem.message("zh")
    assert str(problem) == en != zh
    assert english_words(zh) == [], zh
    assert foreign_chinese(en, _DATA) == [], en


def test_a_file_with_several_problems_lists_them_in_each_language():
    err = READ_ERRORS.error("columns", **_READ["columns"])
    assert str(err).splitlines() == [
        "b.csv: 2 problem(s) with the person columns (headers: ['电话', '姓名']):",
        f"  - {_SOME[0]}",
        f"  - {_SOME[1]}",
    ]
    zh = err.message("zh").splitlines()
    assert zh[0] == "b.csv：人员表的列有 2 处问题（表头：“电话”、“姓名”）："
    assert zh[1:] == [f"  - {p.message('zh')}" for p in _SOME]
    assert "缺少“户数”列" in zh[1] and "“电话”列（当作人员编号）存的是手机号" in zh[2]


def test_gather_keeps_both_languages_and_english_only_errors():
    a = READ_ERRORS.error("workbook_encrypted", file="a.xls")
    b = InputError("only English here")
    both = InputError.gather([a, b])
    assert str(both) == f"{a}\n{b}"
    assert both.message("zh") == f"{a.message('zh')}\nonly English here"
    assert InputError.gather([b, b]).message("zh") == str(InputError.gather([b, b]))


def test_errors_survive_pickling_with_their_chinese():
    """Communities are planned in worker processes: their errors come back pickled."""
    err = READ_ERRORS.error("not_lonlat", **_READ["not_lonlat"])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is CRSError and str(back) == str(err)
    assert back.message("zh") == err.message("zh") and back.code == "not_lonlat"


def test_an_error_written_in_english_only_says_english_in_both():
    err = InputError("b.csv: bad")
    assert err.message("zh") == err.message("en") == "b.csv: bad" and err.message_zh == ""


_RAISED = re.compile(r"raise (?:InputError|CRSError|DuplicateIdError|InvalidGeometryError)\(")


def test_the_reading_road_raises_no_english_only_error():
    """gridmap.io, crs and schema raise their input errors through the texts of their area."""
    root = Path(__file__).resolve().parents[2] / "gridmap"
    files = [*sorted((root / "io").glob("*.py")), root / "crs.py", root / "schema.py"]
    raised = {f.name: _RAISED.findall(f.read_text(encoding="utf-8")) for f in files}
    assert {name: found for name, found in raised.items() if found} == {}


_RAISED_ANY = re.compile(
    r"raise (?:InputError|CRSError|DuplicateIdError|InvalidGeometryError|NotFoundError|"
    r"GridmapError)\("
)
_CONVERTED = ["gridmap/plans/jobs.py", "gridmap/plans/compare.py", "gridmap/geometry/numbering.py",
              "service/commands/redistrict.py", "service/commands/plans.py",
              "service/storage/plans.py", "service/storage/edits.py"]  # fmt: skip


def test_planning_and_the_plan_store_raise_no_english_only_error():
    """The plan checks, numbering, comparison, the redistrict command's assignments file and
    the store's plan and edit refusals raise through PLAN_ERRORS / STORE_ERRORS."""
    root = Path(__file__).resolve().parents[2]
    raised = {f: _RAISED_ANY.findall((root / f).read_text(encoding="utf-8")) for f in _CONVERTED}
    assert {name: found for name, found in raised.items() if found} == {}


def test_the_check_of_raises_finds_one():
    assert _RAISED_ANY.findall('    raise NotFoundError(f"Plan {i} not found")') != []
    assert _RAISED_ANY.findall('    raise store_error("no_plan", plan_id=i)') == []


_IN_ZH = {**COLUMN_WORDS, "buildings": "楼栋", "communities": "社区"}
"""Columns and layers as a Chinese message names them."""


@pytest.mark.parametrize("texts, samples", [(PLAN_ERRORS, _PLAN), (STORE_ERRORS, _STORE)])
def test_planning_and_store_errors_name_the_record(texts, samples):
    """Each message names what it is about (an id, code, file or column) in both languages."""
    for code, values in samples.items():
        err: GridmapError = texts.error(code, **values)
        named = [str(x) for value in values.values() if value not in ([], {})
                 for v in (value if isinstance(value, list) else [value])
                 for x in (v if isinstance(v, tuple) else [v])]  # fmt: skip
        for lang in ("en", "zh"):
            text = err.message(lang)
            words = named if lang == "en" else [_IN_ZH.get(n, n) for n in named]
            assert not words or any(n in text for n in words), (code, lang, text)


def test_an_unknown_community_is_refused_in_both_languages(session):
    """``load_community`` (used by the store, the analyst API and the plan commands)."""
    from service.storage.loads import load_community

    with pytest.raises(NotFoundError) as caught:
        load_community(session=session, code="520602999999")
    assert caught.value.code == "no_community"
    assert caught.value.message("zh").startswith("找不到社区 520602999999；")
    assert str(caught.value).startswith("Community '520602999999' not found")


def test_household_bounds_are_refused_in_both_languages():
    from gridmap.constraints import household_bounds

    with pytest.raises(InputError) as caught:  # a ValueError, as before
        household_bounds(600, 500)
    assert isinstance(caught.value, ValueError) and caught.value.code == "bad_bounds"
    assert caught.value.message("zh") == (
        "每格户数须满足 0 ≤ 下限 ≤ 上限且上限大于 0，现为下限 600、上限 500。"
    )
    assert "got min=600, max=500" in str(caught.value)


_IMPORT_ROAD = ["gridmap/attach/geomrepair.py", "gridmap/attach/chain.py",
                "gridmap/attach/linking.py", "gridmap/attach/crosscheck.py",
                "gridmap/attach/coverage.py", "gridmap/constraints.py", "service/importer.py",
                "service/storage/loads.py", "service/commands/importing.py"]  # fmt: skip
_ENGLISH_ISSUE = re.compile(r"\bIssue\(")
_RAISED_VALUE = re.compile(r"raise (?:ValueError|typer\.BadParameter)\(")


def test_the_import_road_raises_and_reports_nothing_english_only():
    """Errors through an ErrorTexts table, report lines through Issue.of (both languages)."""
    root = Path(__file__).resolve().parents[2]
    found = {}
    for name in _IMPORT_ROAD:
        text = (root / name).read_text(encoding="utf-8")
        hits = (_RAISED_ANY.findall(text) + _RAISED_VALUE.findall(text)
                + _ENGLISH_ISSUE.findall(text.replace("Issue.of(", "")))  # fmt: skip
        if hits:
            found[name] = hits
    assert found == {}
    assert _ENGLISH_ISSUE.findall('Issue("building", "B1", "no geometry", "no footprint")')
    assert _RAISED_VALUE.findall('raise ValueError(f"bounds {lo}")')


def test_a_template_entry_refuses_values_it_does_not_name_as_a_function_would():
    with pytest.raises(TypeError):
        READ_ERRORS.error("workbook_encrypted", file="a.xls", sheet="x")  # a template entry
    with pytest.raises(TypeError):
        READ_ERRORS.error("workbook_encrypted")
    with pytest.raises(TypeError):
        READ_ERRORS.error("no_layer", file="a.gpkg", layer="x", layers=[], sheet="x")  # function


def test_listed_ids_show_the_first_ones_in_each_language():
    err = STORE_ERRORS.error("edit_repeats_ids", ids=[f"B{i}" for i in range(12)])
    assert str(err).startswith(
        "The edited buildings repeat building_id ['B0', "
    ) and "B10" not in str(err)
    assert err.message("zh").startswith(
        "修改后的楼栋表中楼栋编号重复：“B0”、“B1”"
    ) and "B9”；" in err.message("zh")
    assert dict(err.values) == {"ids": [f"B{i}" for i in range(12)]}
