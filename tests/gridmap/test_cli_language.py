"""Issue 11 §2: command-line output is for a person, one language at a time, no repeated lines.

``gridmap partition`` and ``gridmap import`` run on files as offices have them
(tests/office_files.py: GBK Shapefiles without ``.cpg``, Chinese headers, a multi-layer
GeoPackage, compounds without ids, a roster without person ids), so the notes about reading them
(encoding guessed, layer chosen, ids generated), the progress and the summaries are all printed.
With ``--lang zh`` stdout and stderr hold no English word (file names, paths, codes, CRS and
encoding names, options excepted); with ``--lang en`` no Chinese but what the files hold.
"""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

import geodata
from gridmap.io.encodings import decode_text
from service.cli import app
from tests import office_files

runner = CliRunner()

_CODES = [
    r"(?:/[^\s：（）]+)+",  # paths
    r"[^\s：（）“”'/]+\.(?:shp|gpkg|csv|geojson|json|xlsx|xls|cpg|zip|toml|kml|dxf|osm|pbf)\b",
    r"\.(?:cpg|shp|dbf|prj|gpkg|geojson|json|zip|geoparquet|parquet|csv|txt|tsv|xlsx|xlsm|xls|osm|"
    r"pbf|kml|kmz|gdb|gpx|gml|sqlite)\b",  # kinds of file
    r"EPSG:\d+",
    r"--[a-z-]+",  # options to type
    r"\bgridmap(?: [a-z]+)*",  # a command to type
]
_ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z]*[a-z][A-Za-z]*(?![A-Za-z0-9_])")
"""A word with a lower-case letter: codes (B00088, XQ001, GB18030, UTF-8) are upper case."""
_CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
"""Chinese characters and full-width punctuation (，：（）)."""
_GLOSS = re.compile(r"[A-Za-z] \(([\u4e00-\u9fff]+)\)")
"""An English term followed by its Chinese name in brackets: ``Compound (小区)``."""


def english_words(output: str) -> list[str]:
    """The English words of ``output``, once its paths, file names and codes are taken out."""
    for code in _CODES:
        output = re.sub(code, " ", output)
    return _ENGLISH_WORD.findall(output)


def foreign_chinese(output: str, data: set[str]) -> list[str]:
    """The Chinese of ``output`` that is neither in the files (``data``) nor a gloss."""
    glosses = set(_GLOSS.findall(output))
    return [
        run
        for run in _CHINESE.findall(output)
        if run not in glosses and not any(run in text for text in data)
    ]


def repeated_lines(output: str) -> list[str]:
    """Lines said twice (table borders aside)."""
    lines = [line.strip() for line in output.splitlines()]
    said = [line for line in lines if line and not set(line) <= set("┏┳┓┡╇┩└┴┘━─│┃ ")]
    return sorted({line for line in said if said.count(line) > 1})


def data_text(*paths: Path) -> set[str]:
    """Every name and text value of the files: file and layer names, headers, values."""
    texts: set[str] = set()
    for path in paths:
        texts.add(path.name)
        if path.suffix == ".csv":
            frames = [pd.read_csv(StringIO(decode_text(path)[0]), dtype=str)]
        else:
            layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
            texts.update(layers)
            encoding = "GB18030" if path.suffix == ".shp" else None
            frames = [pyogrio.read_dataframe(path, layer=n, encoding=encoding) for n in layers]
        for frame in frames:
            texts.update(map(str, frame.columns))
            for column in frame.columns:
                if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
                    texts.update(str(v) for v in frame[column].dropna())
    return texts


def assert_one_language(output: str, lang: str, data: set[str]) -> None:
    assert output.strip()
    if lang == "zh":
        assert english_words(output) == [], output
    else:
        assert foreign_chinese(output, data) == [], output
    assert repeated_lines(output) == [], output


def _run(args: list[str], exit_code: int = 0) -> str:
    """stdout and stderr of ``gridmap *args`` (120 columns), which must exit with ``exit_code``."""
    res = runner.invoke(app, args, env={"COLUMNS": "120"})
    assert res.exit_code == exit_code, res.output
    return res.stdout + res.stderr


def _partition(files: office_files.OfficeFiles, out: Path, lang: str, exit_code: int = 0) -> str:
    """The output of ``gridmap partition`` of ``files`` to ``out`` in ``lang``."""
    args = ["partition", *files.partition_args(), "--out", str(out), "--jobs", "1"]
    return _run([*args, "--lang", lang], exit_code)


def _import_args(files: office_files.OfficeFiles, tmp_path: Path, lang: str) -> list[str]:
    """``gridmap import`` of ``files`` into a SpatiaLite store in ``tmp_path``, in ``lang``."""
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    return [*files.import_args(db, tmp_path / "rep"), "--lang", lang]


def test_the_checks_catch_the_other_language():
    data = {"清水塘小区", "buildings.shp"}
    zh = (
        "buildings.shp：没有 .cpg 文件，按内容判断，文字以 GB18030 读取\n划分网格 1/3：520602002001"
    )
    assert english_words(zh) == []
    assert english_words(zh + "\n3 grids written to /tmp/x/g.geojson") == ["grids", "written", "to"]
    assert english_words("报告（csv）：/tmp/a b/r.csv") == ["csv", "b"]
    en = "buildings.shp: text read as GB18030 (no .cpg)\nCompound (小区) of 清水塘小区"
    assert foreign_chinese(en, data) == []
    assert foreign_chinese(en + "\n楼栋B1有528户", data) == ["楼栋", "有", "户"]
    assert foreign_chinese("summary：done", data) == ["："]
    assert repeated_lines("a\n└──┘\nb\n└──┘\n") == [] and repeated_lines("a\nb\na\n") == ["a"]


_SETS = {
    "gbk_without_cpg": lambda d: office_files.gbk_shapefiles(d, cpg=False),
    "multilayer_geopackage": lambda d: _bare(office_files.multilayer_geopackage(d)),
    "compounds_without_ids": office_files.compounds_without_ids,
}
"""Office sets whose reading prints notes: encoding guessed, layer chosen, ids generated."""
_NOTE = {
    "gbk_without_cpg": ("没有 .cpg 文件", "(no .cpg)"),
    "multilayer_geopackage": ("楼栋取自图层“楼栋”", "buildings read from layer '楼栋'"),
    "compounds_without_ids": ("个小区没有编号，已生成", "compound id(s) generated"),
}


def _bare(files: office_files.OfficeFiles) -> office_files.OfficeFiles:
    """The GeoPackage without ``--layer``: the layers are found by their names (a note says so)."""
    return office_files.OfficeFiles(communities=files.communities, buildings=files.buildings,
                                    compounds=files.compounds, streets=files.streets)  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(_SETS))
def test_partition_prints_one_language(name, lang, tmp_path):
    files = _SETS[name](tmp_path / "in")
    output = _partition(files, tmp_path / "grids.geojson", lang)
    assert_one_language(output, lang, data_text(*files.sources().values()))
    zh_note, en_note = _NOTE[name]
    assert (zh_note if lang == "zh" else en_note) in output
    summary = "个网格：" if lang == "zh" else "grids written to"
    progress = "划分网格 3/3：" if lang == "zh" else "partition 3/3: "
    assert output.count(summary) == 1 and output.count(progress) == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_import_prints_one_language(lang, tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    roster = office_files.persons_roster(tmp_path, rows=40)  # GBK, no person ids
    households = Path(geodata.get_path("households.csv"))
    args = _import_args(files, tmp_path, lang)
    output = _run([*args, "--households", str(households), "--persons", str(roster)])
    assert_one_language(output, lang, data_text(*files.sources().values(), roster, households))
    if lang == "zh":
        assert "人口花名册.csv：40 名人员没有编号，已生成" in output
        said = "communities.shp、compounds.shp、streets.shp、buildings.shp：没有 .cpg 文件"
        assert said in output
        assert "报告中有" in output
    else:
        assert "人口花名册.csv: 40 person id(s) generated" in output
        said = "communities.shp, compounds.shp, streets.shp, buildings.shp: text read as GB18030"
        assert f"{said} (no .cpg)" in output
        assert "record(s) in the report" in output


def test_import_without_a_language_speaks_chinese_and_refuses_an_unknown_one(tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    args = ["import", "--db", f"sqlite:///{tmp_path / 'store.sqlite'}", "--report-dir",
            str(tmp_path / "rep"), "--communities", str(files.communities)]  # fmt: skip
    res = runner.invoke(app, [*args, "--lang", "fr"])
    assert res.exit_code == 2 and "--lang must be zh or en" in res.output
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "communities.shp：没有 .cpg 文件" in res.output and "已载入" in res.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rows_without_coordinates_are_said_in_the_language_not_warned(lang, tmp_path):
    """A warning of the library (English, with a source line) is a note in the command."""
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    table = pd.read_csv(files.buildings, dtype=str)
    table.loc[[3, 7], "经度"] = "东经"  # typed where a number belongs
    table.to_csv(files.buildings, index=False)
    output = _run(_import_args(files, tmp_path, lang))
    assert_one_language(output, lang, data_text(*files.sources().values()))
    assert "Warning" not in output
    said = ("楼栋_经纬度.csv：数据行 4、8 的经纬度不是数字" if lang == "zh" else
            "楼栋_经纬度.csv: data row(s) 4, 8: lon/lat are not numbers")  # fmt: skip
    assert output.count(said) == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_redistrict_prints_one_language(lang, tmp_path):
    """A plan from GBK Shapefiles repaired against a GBK lon/lat CSV with three towers grown."""
    shp = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    grids, assignments = tmp_path / "grids.geojson", tmp_path / "assignments.csv"
    _run(["partition", *shp.partition_args(), "--out", str(grids),
          "--assignments", str(assignments), "--jobs", "1"])  # fmt: skip
    table = office_files.buildings_lonlat_csv(tmp_path / "csv")
    now = pd.read_csv(table.buildings, dtype={"楼栋编号": str})
    now.loc[now["楼栋编号"].isin(["B00001", "B00002", "B00003"]), "户数"] += 200
    now.to_csv(table.buildings, index=False, encoding="gbk")
    args = ["redistrict", "--plan", str(grids), "--assignments", str(assignments),
            "--buildings", str(table.buildings), "--communities", str(shp.communities),
            "--streets", str(shp.streets), "--compounds", str(shp.compounds),
            "--out", str(tmp_path / "new.geojson"), "--jobs", "1", "--lang", lang]  # fmt: skip
    output = _run(args)
    assert_one_language(output, lang, data_text(*shp.sources().values(), table.buildings))
    if lang == "zh":
        assert "楼栋_经纬度.csv：不是 UTF-8 文字，文字以 GB18030 读取" in output
        assert re.search(r"个编码停用；\d+ 栋楼、\d+ 户调整网格。", output)
    else:
        assert "楼栋_经纬度.csv: text read as GB18030 (not valid UTF-8)" in output
        assert re.search(r"code\(s\) retired; \d+ building\(s\) and \d+ household", output)


# --- files an office gets wrong: the error in the language asked for ---------------------------


def _without_households(directory: Path) -> office_files.OfficeFiles:
    """Buildings CSV (GBK) whose 户数 column is missing."""
    files = office_files.buildings_lonlat_csv(directory)
    table = pd.read_csv(files.buildings, dtype=str)
    table.drop(columns="户数").to_csv(files.buildings, index=False, encoding="gbk")
    return files


def _garbled_table(directory: Path) -> office_files.OfficeFiles:
    """Buildings CSV with bytes that are neither UTF-8 nor GB18030 (a damaged copy)."""
    files = office_files.buildings_lonlat_csv(directory)
    files.buildings.write_bytes(files.buildings.read_bytes() + b"\xff\x80\n")
    return files


def _wrong_crs(directory: Path) -> office_files.OfficeFiles:
    """GBK Shapefiles in EPSG:4545 whose buildings' .prj says lon/lat (EPSG:4326)."""
    from pyproj import CRS

    files = office_files.gbk_shapefiles(directory, cpg=False)
    files.buildings.with_suffix(".prj").write_text(CRS.from_epsg(4326).to_wkt("WKT1_ESRI"))
    return files


def _repeated_ids(directory: Path) -> office_files.OfficeFiles:
    """Buildings CSV (GBK): row 6 repeats the id of row 3, row 8 has none, row 10 has 二十 户."""
    files = office_files.buildings_lonlat_csv(directory)
    table = pd.read_csv(files.buildings, dtype=str)
    table.loc[5, "楼栋编号"] = table.loc[2, "楼栋编号"]
    table.loc[7, "楼栋编号"] = None
    table.loc[9, "户数"] = "二十"
    table.to_csv(files.buildings, index=False, encoding="gbk")
    return files


_BAD_SETS = {
    "without_households": _without_households,
    "garbled_table": _garbled_table,
    "wrong_crs": _wrong_crs,
    "repeated_ids": _repeated_ids,
}
_REFUSED = {  # what partition says, in Chinese and in English
    "without_households": (["楼栋_经纬度.csv：楼栋表的列有 1 处问题", "缺少“户数”列"],
                           ["楼栋_经纬度.csv: 1 problem(s) with the building columns",
                            "no households column"]),
    "garbled_table": (["楼栋_经纬度.csv 既不是 UTF-8 也不是 GB18030 文字；请另存为"],
                    ["楼栋_经纬度.csv is neither UTF-8 nor GB18030 text; save it as"]),
    "wrong_crs": (["buildings.shp：坐标（", "不是经纬度，但文件声明的是 EPSG:4326",
                   "--crs EPSG:4545"],
                  ["buildings.shp: coordinates (", "are not longitude/latitude, but the file "
                   "declares EPSG:4326", "--crs EPSG:4545"]),
    "repeated_ids": (["楼栋_经纬度.csv：数据行 8 没有楼栋编号",
                      "楼栋_经纬度.csv：1 个楼栋编号重复：“B00003”（数据行 3、6）",
                      "数据行 10（楼栋 B00010）的户数不是数字"],
                     ["楼栋_经纬度.csv: data row(s) 8 have no building_id",
                      "1 building_id value(s) occur more than once: B00003 (data rows 3, 6)",
                      "data row(s) 10 (building B00010) have no usable households count"]),
}  # fmt: skip


def _said_after_notes(output: str) -> str:
    """``output`` from its first line that is not a note about a file read (``碧江.shp：…``,
    ``b.csv, c.csv: …``): the notes come before a refusal."""
    lines = output.splitlines(keepends=True)
    note = re.compile(r"^[^\s：:]+\.(?:shp|csv|gpkg|geojson|xlsx|osm|pbf)(?:[、,] ?|：|: )")
    first = next((i for i, line in enumerate(lines) if not note.match(line)), len(lines))
    return "".join(lines[first:])


def _readable_text(*paths: Path) -> set[str]:
    """:func:`data_text` of the files that can be read; the name only of the others."""
    texts: set[str] = set()
    for path in paths:
        try:
            texts |= data_text(path)
        except Exception:  # the broken file itself: its name is all a message shows of it
            texts.add(path.name)
    return texts


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(_BAD_SETS))
def test_partition_refuses_a_bad_file_in_one_language(name, lang, tmp_path):
    files = _BAD_SETS[name](tmp_path / "in")
    out = tmp_path / "grids.geojson"
    output = _partition(files, out, lang, exit_code=2)
    assert_one_language(output, lang, _readable_text(*files.sources().values()))
    assert _said_after_notes(output).startswith("错误：" if lang == "zh" else "error: "), output
    zh_said, en_said = _REFUSED[name]
    for said in zh_said if lang == "zh" else en_said:
        assert said in output
    assert not out.exists()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", ["repeated_ids", "garbled_table", "wrong_crs"])
def test_import_refuses_a_bad_file_in_one_language(name, lang, tmp_path):
    files = _BAD_SETS[name](tmp_path / "in")
    output = _run(_import_args(files, tmp_path, lang), exit_code=1)
    heading = (
        "导入失败，未写入任何内容：" if lang == "zh" else "Import failed, nothing was written: "
    )
    assert _said_after_notes(output).startswith(heading) and output.count(heading) == 1, output
    assert files.buildings.name in output
    assert_one_language(output, lang, _readable_text(*files.sources().values()))


# --- a bad assignments file for gridmap redistrict: refused in the language asked for -----------


def _one_grid_plan(directory: Path) -> dict[str, Path]:
    """A one-grid plan of a 200 m × 100 m community of four buildings, as files."""
    from tests.gridmap.strategies import make_layers

    directory.mkdir(parents=True)
    rows = [(50.0, 50.0, 100), (150.0, 50.0, 100), (50.0, 80.0, 100), (150.0, 80.0, 100)]
    comm, bld, _ = make_layers([(0, 0, 200, 100)], rows, code="520602001001")
    grids = comm.assign(grid_code="520602001001001", households=400)
    paths = {"c": directory / "c.gpkg", "b": directory / "b.geojson",
             "grids": directory / "grids.geojson"}  # fmt: skip
    comm.to_file(paths["c"])
    bld.to_crs(4326).to_file(paths["b"])
    grids.to_crs(4326).to_file(paths["grids"])
    return paths


def _no_grid_code(path: Path) -> None:
    path.write_text("building_id,grid\nB0,520602001001001\n", encoding="utf-8")


def _not_text(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x00" * 8)


_BAD_ASSIGNMENTS = {
    "no_grid_code": (_no_grid_code, "缺少 grid_code 列", "lacks column(s) ['grid_code']"),
    "not_text": (_not_text, "无法读取楼栋网格对应表", "Cannot read assignments file"),
    "missing": (None, "找不到文件：", "File not found: "),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(_BAD_ASSIGNMENTS))
def test_redistrict_refuses_a_bad_assignments_file_in_one_language(name, lang, tmp_path):
    paths = _one_grid_plan(tmp_path / "in")
    write, zh_said, en_said = _BAD_ASSIGNMENTS[name]
    assignments = tmp_path / "in" / "a.csv"
    if write is not None:
        write(assignments)
    out = tmp_path / "new.geojson"
    args = ["redistrict", "--plan", str(paths["grids"]), "--assignments", str(assignments),
            "--buildings", str(paths["b"]), "--communities", str(paths["c"]), "--out", str(out),
            "--jobs", "1", "--lang", lang]  # fmt: skip
    output = _run(args, exit_code=2)
    assert_one_language(output, lang, set())
    assert output.startswith("错误：" if lang == "zh" else "error: "), output
    assert (zh_said if lang == "zh" else en_said) in output and "a.csv" in output, output
    assert output.count("\n") == 1 and not out.exists()


# --- the import report and the import's refusals, in the language asked for --------------------


def _broken_rosters(directory: Path) -> tuple[Path, Path]:
    """Households (GBK) five of which name a building that does not exist and three none (found
    by their address); a
    persons roster (GBK) with a wrong ID number check digit, a bad phone, an unknown household."""
    directory.mkdir(parents=True, exist_ok=True)
    households = pd.read_csv(geodata.get_path("households.csv"), dtype=str)
    households.loc[:4, "楼栋编号"] = "B99999"
    households.loc[5:7, "楼栋编号"] = None
    households.to_csv(directory / "住户.csv", index=False, encoding="gbk")
    roster = office_files.persons_roster(directory, rows=40)
    persons = pd.read_csv(roster, dtype=str, encoding="gb18030")
    persons.loc[0, "身份证号"] = "110105194912310021"
    persons.loc[1, "户号"] = "H999999"
    persons.loc[2, "联系电话"] = "12"
    persons.to_csv(roster, index=False, encoding="gbk")
    return directory / "住户.csv", roster


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_import_report_says_its_reasons_in_one_language(lang, tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    households, persons = _broken_rosters(tmp_path / "rosters")
    args = [*_import_args(files, tmp_path, lang), "--households", str(households),
            "--persons", str(persons)]  # fmt: skip
    output = _run(args)
    data = data_text(*files.sources().values(), households, persons)
    assert_one_language(output, lang, data)
    said = (
        "楼栋编号不存在 5 条",
        "身份证号校验位不对 1 条",
        "电话号码格式不对 1 条",
        "户号不存在 1 条",
    )
    if lang == "en":
        said = ("unknown building: 5", "invalid ID number check digit: 1",
                "invalid phone format: 1", "unknown household: 1")  # fmt: skip
    summary = [
        line for line in output.splitlines() if "报告中有" in line or "in the report" in line
    ]
    assert len(summary) == 1 and all(s in summary[0] for s in said), summary
    (report,) = (tmp_path / "rep").glob("*.csv")
    rows = pd.read_csv(report, dtype=str, encoding="utf-8-sig")
    assert set(rows["reason"]) >= {"unknown building", "invalid phone format", "unknown household"}
    shown = "\n".join(rows["record_id"] + " " + rows["problem"] + " " + rows["detail"])
    if lang == "zh":
        assert english_words(shown) == [], shown
        assert "楼栋编号“B99999”不在楼栋中" in shown
    else:
        assert foreign_chinese(shown, data) == [], shown
        assert "building_id 'B99999' not in buildings" in shown


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_persons_without_stored_households_are_refused(lang, tmp_path):
    """``gridmap import --persons`` before any household: refused in one line, nothing written."""
    roster = office_files.persons_roster(tmp_path, rows=40)
    args = ["import", "--db", f"sqlite:///{tmp_path / 'store.sqlite'}", "--lang", lang,
            "--report-dir", str(tmp_path / "rep"), "--persons", str(roster)]  # fmt: skip
    output = _run(args, exit_code=1)
    assert_one_language(output, lang, data_text(roster))
    said = ("人口花名册.csv：40 名人员中有 40 名的户号在数据库中找不到" if lang == "zh" else
            "人口花名册.csv: 40 of 40 person(s) name a household that is not stored")  # fmt: skip
    assert said in output and "--households" in output
    assert not (tmp_path / "store.sqlite").exists()  # a refused first import leaves no store
    assert not (tmp_path / "rep").exists()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_import_refusals_while_writing_in_one_language(lang, tmp_path):
    """What the store refuses while an import writes (STORE_ERRORS, ImportAborted): ids already
    stored, a community still in use, a record both deleted and in the file."""
    import sqlite3

    files = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    args = _import_args(files, tmp_path, lang)
    _run(args)
    with sqlite3.connect(tmp_path / "store.sqlite") as con:
        (community,) = con.execute("SELECT code FROM community ORDER BY code").fetchone()
        (building,) = con.execute("SELECT id FROM building ORDER BY id").fetchone()
        before = con.execute("SELECT count(*) FROM building").fetchone()
    data = data_text(*files.sources().values())
    base = ["import", "--db", f"sqlite:///{tmp_path / 'store.sqlite'}", "--lang", lang,
            "--report-dir", str(tmp_path / "rep"), "--update", "--deletions"]  # fmt: skip
    gone = tmp_path / "deletions.csv"
    cases = [
        (args, None, (f"社区代码 {community}", "已在数据库中", "请加上 --update"),
         (f"community id(s) {community}", "are already in the store", "--update")),
        ([*base, str(gone)], f"community,{community}",
         (f"社区仍在使用，不能删除：{community}（", "个楼栋）"),
         (f"Communities still in use cannot be removed: {community} (", " building)")),
        ([*base, str(gone), "--buildings", str(files.buildings)], f"building,{building}",
         (f"楼栋编号 {building} 既在删除清单中，又在楼栋文件中",),
         (f"building id(s) {building} are both in the deletions file and in the building file",)),
    ]  # fmt: skip
    for case_args, deletion, zh, en in cases:
        if deletion:
            gone.write_text(f"entity,id\n{deletion}\n", encoding="utf-8")
        output = _run(case_args, exit_code=1)
        assert_one_language(output, lang, data | {community, building})
        said = zh if lang == "zh" else en
        assert all(s in output for s in said), output
        assert _said_after_notes(output).startswith("导入失败" if lang == "zh" else "Import failed")
        # said once: by the heading, or by the message (then the heading does not repeat it)
        nothing = "未写入任何内容" if lang == "zh" else "nothing was written"
        assert output.lower().count(nothing) == 1, output
    with sqlite3.connect(tmp_path / "store.sqlite") as con:
        assert con.execute("SELECT count(*) FROM building").fetchone() == before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_import_refuses_options_in_one_language(lang, tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    base = ["import", "--db", f"sqlite:///{tmp_path / 'store.sqlite'}", "--lang", lang]
    cases = [
        (base, 2, ("请至少给出一个文件", "give at least one file")),
        ([*base, "--buildings", str(files.buildings), "--replace", "building"], 2,
         ("请加上 --update", "add --update")),
        ([*base, "--buildings", str(files.buildings), "--layer", "楼栋"], 1,
         ("--layer “楼栋” 的写法不对", "--layer '楼栋': use ENTITY=LAYER")),
        ([*base, "--buildings", str(tmp_path / "楼栋.shp"), "--households",
          str(tmp_path / "住户.csv")], 1,
         ("找不到文件：", "File not found: ")),  # both files named, by the reader, not the parser
    ]  # fmt: skip
    for args, code, (zh, en) in cases:
        output = _run(args, exit_code=code)
        # the entities of --layer are typed as they are (building=楼栋)
        typed = set(office_files.OfficeFiles.__dataclass_fields__) | {
            "building",
            "community",
            "compound",
            "street",
            "household",
            "person",
            "staff",
            "grid",
        }
        if lang == "zh":
            assert set(english_words(output)) <= typed, output
        else:
            assert foreign_chinese(output, {"楼栋", "楼栋.shp", "住户.csv"}) == [], output
        assert (zh if lang == "zh" else en) in output and repeated_lines(output) == []
    assert "楼栋.shp" in output and "住户.csv" in output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_partition_refuses_bad_bounds_and_layers_in_one_language(lang, tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    out = tmp_path / "grids.geojson"
    args = ["partition", *files.partition_args(), "--out", str(out), "--jobs", "1",
            "--lang", lang]  # fmt: skip
    output = _run([*args, "--min-households", "600", "--max-households", "500"], exit_code=2)
    assert_one_language(output, lang, set())
    said = "现为下限 600、上限 500" if lang == "zh" else "got min=600, max=500"
    assert said in output
    output = _run([*args, "--layer", "buildings"], exit_code=2)
    assert output.startswith("错误：--layer “buildings” 的写法不对" if lang == "zh" else
                             "error: --layer 'buildings': use ENTITY=LAYER")  # fmt: skip
    assert output.count("\n") == 1 and not out.exists()


# --- output paths that cannot be written: refused before any planning --------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_partition_refuses_outputs_it_cannot_write_before_planning(lang, tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "in")
    (tmp_path / "taken").write_text("not a folder", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    under_file = ["--problems", str(tmp_path / "taken" / "problems.csv")]
    cases = [
        (["--out", str(tmp_path / "grids.geojson"), *under_file], "taken"),
        (["--out", str(tmp_path / "folder")], "folder"),
    ]
    for extra, named in cases:
        args = ["partition", *files.partition_args(), "--jobs", "1", "--lang", lang, *extra]
        output = _run(args, exit_code=2)
        assert output.startswith("错误：" if lang == "zh" else "error: "), output
        assert ("文件夹" if lang == "zh" else "folder") in output and named in output
        assert_one_language(output, lang, _readable_text(*files.sources().values()))
        assert "520602" not in output  # refused before work: no community's progress line
    assert not (tmp_path / "grids.geojson").exists()
    assert (tmp_path / "taken").read_text(encoding="utf-8") == "not a folder"
