"""``gridmap redistrict --assignments plan.gpkg``: a GeoPackage that cannot be read, or whose
assignment table lacks a column, is refused as a GeoPackage (not as "not a readable CSV"), in
the language asked for."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from tests.gridmap.test_cli_language import _one_grid_plan, _run, assert_one_language

_CORRUPT = ("无法读取楼栋网格对应表 {file}：不是可读的 .gpkg 文件（已损坏，或并非 .gpkg 格式）；"
            "请给出 `gridmap partition --out 方案.gpkg --assignments 方案.gpkg` 写出的 .gpkg 文件，"
            "或 `gridmap partition --assignments` 写出的 CSV（building_id、grid_code 两列）。",
            "Cannot read assignments file {file}: not a readable GeoPackage (")  # fmt: skip
_LACKING = ("{file} 中的楼栋网格对应表缺少 grid_code 列；请给出 `gridmap partition --out "
            "方案.gpkg --assignments 方案.gpkg` 写出的 .gpkg 文件",
            "The assignments table of {file} lacks column(s) ['grid_code']. Give the GeoPackage "
            "written by `gridmap partition --out plan.gpkg --assignments plan.gpkg`")  # fmt: skip


def _redistrict(paths: dict[str, Path], assignments: Path, lang: str, out: Path) -> str:
    args = ["redistrict", "--plan", str(paths["grids"]), "--assignments", str(assignments),
            "--buildings", str(paths["b"]), "--communities", str(paths["c"]), "--out", str(out),
            "--jobs", "1", "--lang", lang]  # fmt: skip
    return _run(args, exit_code=2)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_corrupt_geopackage_is_said_to_be_one(lang, tmp_path):
    paths = _one_grid_plan(tmp_path / "in")
    plan = tmp_path / "in" / "plan.gpkg"
    plan.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84 + b"cut short")
    out = tmp_path / "new.geojson"
    printed = _redistrict(paths, plan, lang, out)
    said = _CORRUPT[0 if lang == "zh" else 1].format(file=plan)
    assert printed.startswith(("错误：" if lang == "zh" else "error: ") + said), printed
    assert "CSV 文件" not in printed and not out.exists()
    assert_one_language(printed, lang, set())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_geopackage_table_without_grid_codes_is_said_as_a_table(lang, tmp_path):
    paths = _one_grid_plan(tmp_path / "in")
    plan = tmp_path / "in" / "plan.gpkg"
    gpd.read_file(paths["grids"]).to_file(plan, layer="网格")
    table = pd.DataFrame({"building_id": ["B0"], "grid": ["520602001001001"]})
    pyogrio.write_dataframe(table, plan, layer="楼栋归属", driver="GPKG")
    printed = _redistrict(paths, plan, lang, tmp_path / "new.geojson")
    assert _LACKING[0 if lang == "zh" else 1].format(file=plan) in printed, printed
    assert_one_language(printed, lang, {"网格", "楼栋归属"})
