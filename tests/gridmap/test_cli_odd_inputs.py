"""``gridmap partition`` / ``gridmap import`` on odd files an office may hand over: a layer with
no records, a Shapefile missing its ``.shx`` or ``.dbf``, a ``.prj`` GDAL cannot understand.

Each must be refused with an error in the language asked for that names the file and the
problem (not "columns missing", "corrupt" or a message without the file), and leave no output.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests import office_files

runner = CliRunner()
pytestmark = [
    pytest.mark.filterwarnings("ignore:Column names longer:UserWarning"),
    pytest.mark.filterwarnings("ignore:Normalized/laundered:RuntimeWarning"),
]


def _both_languages(zh: str, en: str):
    """Run the test in Chinese and in English, ``words`` being what the output must say."""
    return pytest.mark.parametrize(("lang", "words"), [("zh", zh), ("en", en)])


def _partition(communities, buildings, out, *options: str):
    """``gridmap partition`` of the two layers to ``out`` on one worker, with more ``options``."""
    args = ["partition", "--communities", str(communities), "--buildings", str(buildings),
            "--out", str(out), "--jobs", "1", *options]  # fmt: skip
    return runner.invoke(app, args)


def _import(db: str, *options: str):
    """``gridmap import`` into the store at ``db`` with ``options`` (layers, language …)."""
    return runner.invoke(app, ["import", "--db", db, *options])


def _run(tmp_path, communities, buildings, lang: str, name: str = "grids.geojson"):
    """The output of a partition to ``out/<name>`` that must be refused, leaving no output."""
    out = tmp_path / "out" / name
    res = _partition(communities, buildings, out, "--lang", lang)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert not out.exists() and not out.parent.exists()
    return res.output


@pytest.fixture
def sample(tmp_path):
    layers = office_files.sample_layers()
    folder = tmp_path / "输入 文件"
    folder.mkdir()
    communities = folder / "社区.geojson"
    layers["communities"].to_file(communities)
    return folder, communities, layers


@pytest.fixture
def with_buildings(sample):
    """``sample`` with its buildings written too: (folder, communities, buildings, layers)."""
    folder, communities, layers = sample
    buildings = folder / "楼栋.geojson"
    layers["buildings"].to_file(buildings)
    return folder, communities, buildings, layers


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
@_both_languages("中没有任何记录", "has no records")
def test_a_layer_without_records_is_named_as_empty(sample, tmp_path, suffix, lang, words):
    folder, communities, layers = sample
    empty = folder / f"buildings{suffix}"
    layers["buildings"].iloc[:0].to_file(empty)  # a .shp keeps its fields, a .geojson loses them
    output = _run(tmp_path, communities, empty, lang)
    assert f"{empty.name}" in output and words in output
    # empty communities: said with the file's name (was "no geometry to choose a CRS")
    empty_c = folder / f"communities{suffix}"
    layers["communities"].iloc[:0].to_file(empty_c)
    output = _run(tmp_path, empty_c, folder / f"buildings{suffix}", lang)
    assert empty_c.name in output and words in output


@pytest.mark.parametrize("part", [".shx", ".dbf"])
@_both_languages("缺少同名的", "lacks its")
def test_a_shapefile_missing_a_part_names_the_part(sample, tmp_path, part, lang, words):
    folder, communities, layers = sample
    shp = folder / "楼栋.shp"
    layers["buildings"].to_file(shp)
    shp.with_suffix(part).unlink()
    output = _run(tmp_path, communities, shp, lang)
    assert f"{shp.name} {words}" in output and part in output


@_both_languages("无法识别 .prj", "not understood")
def test_a_prj_that_is_not_understood_is_named(sample, tmp_path, lang, words):
    folder, communities, layers = sample
    shp = folder / "楼栋.shp"
    layers["buildings"].to_file(shp)
    shp.with_suffix(".prj").write_text('PROJCS["nonsense",GEOGCS["x"]]', encoding="ascii")
    output = _run(tmp_path, communities, shp, lang)
    assert shp.name in output and words in output and "--crs" in output
    shp.with_suffix(".prj").unlink()  # what the error says to do then works
    out = tmp_path / "ok.geojson"
    res = _partition(communities, shp, out, "--crs", "EPSG:4490")
    assert res.exit_code == 0, res.output
    assert out.exists()


def test_import_refuses_an_empty_layer_and_writes_no_store(sample, tmp_path):
    folder, communities, layers = sample
    empty = folder / "buildings.gpkg"
    layers["buildings"].iloc[:0].to_file(empty)
    store = tmp_path / "store.sqlite"
    res = _import(f"sqlite:///{store}", "--communities", str(communities), "--buildings",
                  str(empty), "--lang", "en")  # fmt: skip
    assert res.exit_code != 0
    assert "Traceback" not in res.output
    assert "buildings.gpkg has no records" in res.output


def test_a_semicolon_csv_partitions_like_a_comma_csv(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    text = files.buildings.read_text(encoding="utf-8-sig")
    semi = files.buildings.with_name("楼栋 分号.csv")
    semi.write_text(text.replace(",", ";"), encoding="utf-8-sig")  # Excel in some locales
    grids = {}
    for name, buildings in (("comma", files.buildings), ("semi", semi)):
        out = tmp_path / f"{name}.geojson"
        res = _partition(files.communities, buildings, out)
        assert res.exit_code == 0, res.output
        grids[name] = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(grids["comma"]) >= 10
    assert grids["semi"] == grids["comma"]


def _roster_workbook(path, table, sheet: str = "人口花名册") -> None:
    """A roster as offices keep it: a first sheet of notes, then the roster under a title row."""
    from openpyxl import Workbook

    book = Workbook()
    notes = book.worksheets[0]
    notes.title = "说明"
    notes["A1"] = "本表说明：请勿修改"
    roster = book.create_sheet(sheet)
    roster["A1"] = "碧江区某社区人口花名册"
    roster.merge_cells("A1:E1")
    roster.append(list(table.columns))
    for row in table.itertuples(index=False):
        roster.append(list(row))
    book.save(path)


def test_a_roster_on_a_sheet_named_like_it_is_found_after_a_notes_sheet(tmp_path):
    import pandas as pd

    from gridmap import read_layer

    roster = office_files.persons_roster(tmp_path, rows=50)
    table = pd.read_csv(roster, dtype=str, encoding="gbk")
    book = tmp_path / "花名册.xlsx"
    _roster_workbook(book, table)
    persons = read_layer(book, "person")
    assert persons["household_id"].tolist() == table["户号"].tolist()
    notes = [n.message("en") for n in persons.attrs["notes"]]
    assert "花名册.xlsx: persons read from layer '人口花名册'" in notes
    other = tmp_path / "其他.xlsx"  # the roster's sheet not named like it: found by its header
    _roster_workbook(other, table, sheet="Sheet2")
    persons = read_layer(other, "person")
    assert persons["household_id"].tolist() == table["户号"].tolist()
    assert "其他.xlsx：人员取自图层“Sheet2”" in [n.message("zh") for n in persons.attrs["notes"]]


@_both_languages(
    "文件名须以下列后缀之一结尾（按后缀选择格式）：.geojson .json .gpkg .shp .zip .parquet",
    "give a name ending in one of .geojson .json .gpkg .shp .zip .parquet;",
)
def test_partition_refuses_grids_named_csv_and_writes_nothing(
    with_buildings, tmp_path, lang, words
):
    _, communities, buildings, _ = with_buildings
    # GeoJSON text in a .csv: garbage in Excel
    assert words in _run(tmp_path, communities, buildings, lang, name="网格.csv")


def test_plan_commands_refuse_bad_outputs_before_any_work(tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "in")
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    res = _import(db, *files.partition_args())  # the same layer options as partition
    assert res.exit_code == 0, res.output
    folder, a_file = tmp_path / "dir", tmp_path / "f"
    folder.mkdir()
    a_file.write_text("x", encoding="utf-8")
    res = runner.invoke(app, ["plan", "partition", "--db", db, "--jobs", "1",
                              "--problems", str(folder), "--lang", "en"])  # fmt: skip
    assert res.exit_code == 2 and "is a folder" in res.output
    res = runner.invoke(app, ["plan", "list", "--db", db, "--lang", "en"])
    assert res.exit_code == 0 and "draft" not in res.output  # no plan saved by the refused run
    res = runner.invoke(app, ["plan", "partition", "--db", db, "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "draft" in runner.invoke(app, ["plan", "list", "--db", db, "--lang", "en"]).output
    ok = tmp_path / "e.geojson"
    for args, words in [
        (["--out", str(folder)], "is a folder"),
        (["--out", str(a_file / "g.geojson")], "is a file, not a folder"),
        (["--out", str(ok), "--assignments", str(a_file / "a.csv")], "is a file, not a folder"),
        (["--out", str(tmp_path / "e.csv")], "ending in one of .geojson .json .gpkg .shp"),
        (["--out", str(ok), "--assignments", str(tmp_path / "a.xlsx")], "one of .csv .gpkg;"),
    ]:
        res = runner.invoke(app, ["plan", "export", "--db", db, "1", *args, "--lang", "en"])
        assert res.exit_code == 2 and "Traceback" not in res.output, res.output
        assert words in res.output
        assert not ok.exists()  # no grids file left by a run refused for its assignments
    res = runner.invoke(app, ["plan", "export", "--db", db, "1", "--out", str(ok)])
    assert res.exit_code == 0, res.output
    assert ok.exists()


@_both_languages("3 个楼栋编号重复", "3 building_id value(s) occur more than once")
def test_redistrict_names_buildings_repeated_in_the_assignments(
    with_buildings, tmp_path, lang, words
):
    import pandas as pd

    _, communities, buildings, _ = with_buildings
    grids, table = tmp_path / "g.geojson", tmp_path / "a.csv"
    res = _partition(communities, buildings, grids, "--assignments", str(table))
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(table, dtype=str)
    doubled = tmp_path / "对应表 重复.csv"
    pd.concat([rows, rows.iloc[:3]]).to_csv(doubled, index=False)  # pasted twice by hand
    out = tmp_path / "new" / "g.geojson"
    res = runner.invoke(app, ["redistrict", "--plan", str(grids), "--assignments", str(doubled),
                              "--buildings", str(buildings), "--out", str(out), "--jobs", "1",
                              "--lang", lang])  # fmt: skip
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    first = rows["building_id"].iloc[0]
    assert words in res.output and first in res.output and f"{len(rows) + 1}" in res.output
    assert not out.parent.exists()


@_both_languages("是文件，不是文件夹", "is a file, not a folder")
def test_import_refuses_a_report_dir_under_a_file_before_writing(
    with_buildings, tmp_path, lang, words
):
    import sqlalchemy

    folder, communities, buildings, layers = with_buildings
    layers["compounds"].to_file(folder / "小区.geojson")
    a_file = tmp_path / "报告"
    a_file.write_text("x", encoding="utf-8")
    store = tmp_path / "store.sqlite"
    args = ["--communities", str(communities), "--compounds", str(folder / "小区.geojson"),
            "--buildings", str(buildings)]  # fmt: skip
    res = _import(f"sqlite:///{store}", *args, "--report-dir", str(a_file / "rep"), "--lang", lang)
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert words in res.output and not store.exists()  # nothing imported, then a traceback
    res = _import(f"sqlite:///{store}", *args, "--report-dir", str(tmp_path / "新 报告"))
    assert res.exit_code == 0, res.output
    with sqlalchemy.create_engine(f"sqlite:///{store}").connect() as conn:
        count = conn.execute(sqlalchemy.text("select count(*) from building")).scalar()
    assert count == len(layers["buildings"])
    assert len(list((tmp_path / "新 报告").glob("import-report-*.csv"))) == 1
