"""What an office gets out of ``gridmap partition`` and ``gridmap redistrict``: the grids in the
format ``--out`` ends in (GeoJSON, GeoPackage with the problems and assignment tables,
Shapefile in UTF-8 with short field names, zipped Shapefile, GeoParquet), read back by plain
pyogrio/geopandas and by ``gridmap redistrict``; names ending in no format refused before any
file is read; the notes about the files read said once for all files they fit.
"""

from __future__ import annotations

import gc
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from gridmap.io.layers import read_layer, write_layer
from service.cli import app
from tests import office_files

runner = CliRunner()
SHAPEFILE_COLUMNS = ["grid_code", "comm_code", "households", "buildings", "status", "polsby_pp"]
GRID_COLUMNS = ["grid_code", "community_code", "households", "buildings", "status",
                "polsby_popper"]  # fmt: skip
NO_CPG = {"zh": "：没有 .cpg 文件，按内容判断，文字以 GB18030 读取",
          "en": ": text read as GB18030 (no .cpg)"}  # fmt: skip


def _run(*args: object, code: int = 0) -> str:
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == code, res.output + repr(res.exception)
    return res.output


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> office_files.OfficeFiles:
    """The sample as GBK Shapefiles without .cpg (EPSG:4545), as old office software leaves
    them."""
    return office_files.gbk_shapefiles(tmp_path_factory.mktemp("in"), cpg=False)


@pytest.fixture(scope="module")
def baseline(office, tmp_path_factory) -> tuple[Path, Path, Path]:
    """``gridmap partition`` of :func:`office` to GeoJSON, with the assignment and problems
    CSV: what every other format must hold."""
    folder = tmp_path_factory.mktemp("geojson")
    out, csv, problems = folder / "网格.geojson", folder / "楼栋归属.csv", folder / "问题.csv"
    _run("partition", *office.partition_args(), "--jobs", 1, "--out", out, "--assignments", csv,
         "--problems", problems)  # fmt: skip
    return out, csv, problems


def _partition(office: office_files.OfficeFiles, out: Path, *options: object) -> str:
    return _run("partition", *office.partition_args(), "--jobs", 1, "--out", out, *options)


def assert_same_grids(written: gpd.GeoDataFrame, geojson: Path) -> None:
    """The grids of ``written`` are those of the GeoJSON: same codes, communities, households,
    buildings and status, the same vertices (7 decimals of a degree) in EPSG:4326."""
    expected = gpd.read_file(geojson).sort_values("grid_code").reset_index(drop=True)
    written = written.sort_values("grid_code").reset_index(drop=True)
    assert written.crs.to_epsg() == 4326
    assert len(written) == len(expected) > 10
    for column in GRID_COLUMNS[:-1]:
        assert written[column].tolist() == expected[column].tolist(), column
    assert written["polsby_popper"].round(4).tolist() == expected["polsby_popper"].tolist()
    same = shapely.equals_exact(shapely.normalize(written.geometry.values),
                                shapely.normalize(expected.geometry.values), 1e-9)  # fmt: skip
    assert same.all()  # Shapefile rings run the other way: compared normalised


def test_geopackage_holds_the_grids_problems_and_assignments(office, baseline, tmp_path):
    geojson, csv, problems_csv = baseline
    out = tmp_path / "网格.gpkg"
    said = _partition(office, out, "--assignments", out)
    assert "已写出" in said and "同一文件中另有表“问题”、“楼栋归属”" in said
    layers = {str(name): kind for name, kind in pyogrio.list_layers(out)}
    assert layers == {"网格": "Polygon", "问题": None, "楼栋归属": None}
    assert_same_grids(gpd.read_file(out, layer="网格"), geojson)
    problems = pyogrio.read_dataframe(out, layer="问题", read_geometry=False)
    expected = pd.read_csv(problems_csv, dtype=str, keep_default_na=False)
    assert len(problems) == len(expected) > 0
    for column in ("grid", "kind", "message_zh", "message_en"):
        assert problems[column].tolist() == expected[column].tolist(), column
    pairs = pyogrio.read_dataframe(out, layer="楼栋归属", read_geometry=False)
    assert pairs.to_numpy().tolist() == pd.read_csv(csv, dtype=str).to_numpy().tolist()
    # again in English, without --assignments: the file is replaced, no table of the run before
    said = _partition(office, out, "--lang", "en")
    assert "the file also holds the table problems" in said
    assert [str(name) for name, _ in pyogrio.list_layers(out)] == ["grids", "problems"]


@pytest.mark.parametrize("name", ["网格.shp", "网格.zip"])
def test_shapefile_has_utf8_text_and_short_field_names(office, baseline, tmp_path, name):
    out = tmp_path / name
    stale = out.with_suffix(".qix")  # the spatial index of an older 网格.shp
    stale.write_bytes(b"old")
    _partition(office, out)
    if out.suffix == ".zip":
        with zipfile.ZipFile(out) as zipped:
            parts = (".cpg", ".dbf", ".prj", ".shp", ".shx")
            assert sorted(zipped.namelist()) == [f"网格{part}" for part in parts]
            assert zipped.read("网格.cpg").decode() == "UTF-8"
    else:
        assert out.with_suffix(".cpg").read_text() == "UTF-8" and not stale.exists()
    frame = gpd.read_file(out)
    assert [c for c in frame.columns if c != "geometry"] == SHAPEFILE_COLUMNS
    assert all(len(c) <= 10 for c in frame.columns)
    assert_same_grids(frame.rename(columns=dict(zip(SHAPEFILE_COLUMNS, GRID_COLUMNS,
                                                    strict=True))), baseline[0])  # fmt: skip
    # gridmap reads the short names back as the grid columns
    grids = read_layer(out, "grid", keep_extra=True)
    assert [c for c in grids.columns if c != "geometry"][:6] == GRID_COLUMNS


def test_shapefile_chinese_text_reads_right_without_an_encoding(tmp_path):
    frame = gpd.GeoDataFrame(
        {"grid_code": ["520602002001001"], "community_code": ["520602002001"],
         "name": ["广场社区第一网格"], "网格员": ["张三"]},
        geometry=[shapely.box(109.19, 27.72, 109.191, 27.721)], crs=4326,
    )  # fmt: skip
    for name in ("网格.shp", "网格.shp.zip"):
        read = gpd.read_file(write_layer(frame, tmp_path / name))
        assert read["name"].tolist() == ["广场社区第一网格"] and read["网格员"].tolist() == ["张三"]
        assert read["comm_code"].tolist() == ["520602002001"]
    assert (tmp_path / "网格.cpg").read_text() == "UTF-8"


def test_geoparquet_holds_the_grids(office, baseline, tmp_path):
    out = tmp_path / "网格.parquet"
    _partition(office, out)
    assert_same_grids(gpd.read_parquet(out), baseline[0])


def test_geojson_is_written_as_before(office, baseline, tmp_path):
    """RFC 7946: lon/lat, no ``crs`` member, no other member than before."""
    doc = json.loads(baseline[0].read_text(encoding="utf-8"))
    assert set(doc) == {"type", "name", "features"}
    assert set(doc["features"][0]["properties"]) == set(GRID_COLUMNS)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_name_ending_in_no_format_is_refused_before_any_file_is_read(tmp_path, lang):
    missing = tmp_path / "没有这个文件.shp"  # would be said first if the inputs were read
    out = tmp_path / "out" / "网格.kml"
    for command in (["partition", "--communities", missing, "--buildings", missing],
                    ["redistrict", "--plan", missing, "--assignments", missing, "--buildings",
                     missing]):  # fmt: skip
        said = _run(*command, "--out", out, "--lang", lang, code=2)
        listed = ".geojson .json .gpkg .shp .zip .parquet"
        if lang == "zh":
            zh = f"无法写入 {out}：文件名须以下列后缀之一结尾（按后缀选择格式）：{listed}。"
            assert said == f"错误：{zh}\n"
        else:
            assert said == (f"error: Cannot write {out}: give a name ending in one of {listed}; "
                            "the format is chosen by it.\n")  # fmt: skip
        assert not out.parent.exists()


def test_notes_said_of_several_files_are_one_line(office, tmp_path):
    for lang in ("zh", "en"):
        said = _partition(office, tmp_path / "网格.geojson", "--lang", lang)
        lines = [line for line in said.splitlines() if NO_CPG[lang] in line]
        joined = "、" if lang == "zh" else ", "
        files = joined.join(f"{name}.shp" for name in ("communities", "buildings", "streets",
                                                       "compounds"))  # fmt: skip
        assert lines == [files + NO_CPG[lang]]


# --------------------------------------------------------------------------- redistrict
def _grown_buildings(directory: Path) -> Path:
    """The sample's buildings as a lon/lat CSV, three of them with 200 more households."""
    table = office_files.buildings_lonlat_csv(directory)
    now = pd.read_csv(table.buildings, dtype={"楼栋编号": str})
    now.loc[now["楼栋编号"].isin(["B00001", "B00002", "B00003"]), "户数"] += 200
    now.to_csv(table.buildings, index=False, encoding="utf-8-sig")
    return table.buildings


def _redistrict(office, plan: Path, assignments: Path, buildings: Path, out: Path, *more,
                code: int = 0) -> str:  # fmt: skip
    return _run("redistrict", "--plan", plan, "--assignments", assignments, "--buildings",
                buildings, "--communities", office.communities, "--streets", office.streets,
                "--compounds", office.compounds, "--jobs", 1, "--out", out, *more,
                code=code)  # fmt: skip


def test_redistrict_reads_the_geopackage_and_writes_a_shapefile(office, baseline, tmp_path):
    """A plan kept as one GeoPackage (grids and assignment table) repairs as its GeoJSON and
    CSV do."""
    geojson, csv, _ = baseline
    gpkg = tmp_path / "网格.gpkg"
    _partition(office, gpkg, "--assignments", gpkg)
    buildings = _grown_buildings(tmp_path / "now")
    _redistrict(office, geojson, csv, buildings, tmp_path / "a.geojson")
    said = _redistrict(office, gpkg, gpkg, buildings, tmp_path / "b.shp", "--assignments-out",
                       tmp_path / "b.csv")  # fmt: skip
    assert "网格.gpkg：网格取自图层“网格”" in said
    expected = gpd.read_file(tmp_path / "a.geojson")
    assert (expected["change"] != "kept").any()
    repaired = gpd.read_file(tmp_path / "b.shp")
    columns = dict(zip(SHAPEFILE_COLUMNS, GRID_COLUMNS, strict=True))
    assert_same_grids(repaired.rename(columns=columns), tmp_path / "a.geojson")
    by_code = expected.set_index("grid_code")["change"]
    assert repaired.set_index("grid_code")["change"].equals(by_code.loc[repaired["grid_code"]])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_geopackage_without_the_assignment_table_is_named(office, baseline, tmp_path, lang):
    gpkg = tmp_path / "网格.gpkg"
    _partition(office, gpkg)  # no --assignments: grids and problems only
    said = _redistrict(office, gpkg, gpkg, office.buildings, tmp_path / "r.geojson", "--lang",
                       lang, code=2)  # fmt: skip
    if lang == "zh":
        zh = "中没有楼栋网格对应表（表名“楼栋归属”）；该文件的图层有 “网格”、“问题”。"
        assert said.startswith(f"错误：{gpkg} {zh}")
    else:
        en = "has no table of building assignments (named assignments)"
        assert said.startswith(f"error: {gpkg} {en}; its layers are ['网格', '问题']")


def test_redistrict_leaves_the_collector_as_it_found_it(office, baseline, tmp_path):
    geojson, csv, _ = baseline
    frozen = gc.get_freeze_count()
    try:
        for enabled in (True, False):
            gc.enable() if enabled else gc.disable()
            _redistrict(office, geojson, csv, office.buildings, tmp_path / "r.geojson")
            assert gc.isenabled() is enabled and gc.get_freeze_count() == frozen
        gc.enable()  # refused on its input: unfrozen as well
        _redistrict(office, geojson, geojson, office.buildings, tmp_path / "r.geojson", code=2)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.enable()
