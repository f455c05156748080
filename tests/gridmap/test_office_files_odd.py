"""Office files as they really come, read by ``gridmap.read_layer`` and the commands.

Each case is built from the Bijiang sample (``geodata``, :mod:`tests.office_files`) the way an
office hands it over: a roster with a 合计 row and 填表人 under it, two exports pasted into one
CSV, Excel's "Unicode text", numbers kept as text with an apostrophe, birth dates as day
numbers, a hidden sheet of old data, a password-protected workbook, a ``.cpg`` that lies, a
zipped folder with GBK names, Gauss-Krüger X with the zone number in front, latitude and
longitude swapped, GeoPackages with tables and empty layers, curves from CAD, GBK GeoJSON.
Each was read wrongly or refused without saying why before; now it is read right, or refused
naming the file, the records and the problem.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

import geodata
from gridmap.attach.validate import validate_layer
from gridmap.errors import CRSError, InputError
from gridmap.io.layers import read_layer
from service.cli import app
from tests import office_files

runner = CliRunner()
pytestmark = [
    pytest.mark.filterwarnings("ignore:Column names longer:UserWarning"),
    pytest.mark.filterwarnings("ignore:Normalized/laundered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::gridmap.io.notes.ReadWarning"),
]


def _households(rows: int = 30) -> pd.DataFrame:
    """The first ``rows`` households of the sample roster (户号, 楼栋编号 … 人数), as text."""
    table = pd.read_csv(geodata.get_path("households.csv"), dtype=str, encoding="utf-8-sig")
    return table.head(rows)


def _messages(frame: pd.DataFrame, lang: str = "zh") -> list[str]:
    return [note.message(lang) for note in frame.attrs["notes"]]


# --- rows that are no record --------------------------------------------------------------------


def _roster_with_total(path: Path, table: pd.DataFrame) -> Path:
    """A households workbook: a merged title row, the header, the rows, a 合计 row summing
    人数, and who filled it in below."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "住户"
    sheet.append(["碧江区清水塘社区住户花名册"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(table.columns))
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):
        sheet.append(list(row))
    total = ["合 计"] + [None] * (len(table.columns) - 2) + [int(table["人数"].astype(int).sum())]
    sheet.append(total)
    sheet.append([])
    sheet.append(["填表人：张三", None, None, "填表日期：2024年5月1日"])
    book.save(path)
    return path


def test_a_total_row_and_the_lines_below_a_roster_are_no_households(tmp_path):
    table = _households()
    out = read_layer(_roster_with_total(tmp_path / "住户.xlsx", table), "household")
    assert out["household_id"].tolist() == table["户号"].tolist()  # was 32: 合计, 填表人…
    assert _messages(out) == [
        "住户.xlsx：数据行 31 是合计（小计）行，不是记录，已略去",
        "住户.xlsx：数据行 33 是表格下方的说明（填表人、日期、注等），不是记录，已略去",
    ]


def test_a_total_row_of_a_buildings_table_is_no_building(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    table = pd.read_csv(files.buildings, dtype=str, encoding="utf-8-sig")
    total = pd.DataFrame([{"楼栋编号": "总计", "户数": str(table["户数"].astype(int).sum())}])
    pd.concat([table, total]).to_csv(files.buildings, index=False, encoding="utf-8-sig")
    out = read_layer(files.buildings, "building")
    assert out["building_id"].tolist() == table["楼栋编号"].tolist()
    assert int(out["households"].astype(int).sum()) == int(table["户数"].astype(int).sum())


def test_two_exports_pasted_into_one_csv_read_as_one_table(tmp_path):
    first, second = _households(60).iloc[:30], _households(60).iloc[30:]
    path = tmp_path / "住户.csv"
    text = "清水塘社区住户\n" + first.to_csv(index=False)
    text += "清水塘社区住户（二）\n" + second.to_csv(index=False)
    path.write_text(text, encoding="utf-8")
    out = read_layer(path, "household")
    assert out["household_id"].tolist() == _households(60)["户号"].tolist()  # 户号 was one
    assert out.index.tolist()[29:31] == [29, 32]  # data rows keep their numbers
    assert _messages(out, "en") == [
        "住户.csv: data row(s) 31, 32 repeat the header (two tables pasted one below the "
        "other?), with the title above it if any; left out"
    ]


def test_import_stores_no_household_of_a_total_row_and_says_so(tmp_path):
    layers = office_files.sample_layers()
    communities, buildings = tmp_path / "社区.geojson", tmp_path / "楼栋.geojson"
    layers["communities"].to_file(communities)
    layers["buildings"].drop(columns=["compound_id"]).to_file(buildings)
    roster = _roster_with_total(tmp_path / "住户.xlsx", _households())
    reports = tmp_path / "reports"
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    res = runner.invoke(app, ["import", "--db", store, "--communities", str(communities),
                              "--buildings", str(buildings), "--households", str(roster),
                              "--report-dir", str(reports)])  # fmt: skip
    assert res.exit_code == 0, res.output
    (report,) = reports.glob("*.json")
    issues = json.loads(report.read_text(encoding="utf-8"))
    issues = issues["issues"] if isinstance(issues, dict) else issues
    assert not [i for i in issues if str(i.get("record_id", "")).startswith(("合", "填"))]
    assert "住户.xlsx：数据行 31 是合计（小计）行" in res.output


def test_a_comma_without_quotes_in_an_address_is_refused_naming_the_line(tmp_path):
    table = _households(5)
    path = tmp_path / "住户.csv"
    lines = table.to_csv(index=False).splitlines()
    lines[1] = lines[1].replace("铜仁市碧江区", "铜仁市,碧江区")  # first record: was read shifted
    lines[3] += ",,"  # empty cells past the header: nothing lost
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_layer(path, "household")
    assert error.value.message("zh") == (
        "住户.csv：第 2 行的单元格比表头（10 列）多：值中是否有未加引号的逗号？"
        "请给这样的值加上引号，或删去多余的单元格。"
    )
    lines[1] = table.to_csv(index=False).splitlines()[1]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_layer(path, "household")["household_id"].tolist() == table["户号"].tolist()


# --- text encodings and values --------------------------------------------------------------------


def test_excel_unicode_text_is_read_as_utf16_tabs(tmp_path):
    table = _households()
    table["地址"] = table["地址"].fillna("") + ",3楼"  # a comma inside a field
    text = "清水塘社区住户\r\n" + table.to_csv(index=False, sep="\t", lineterminator="\r\n")
    for name, data in (("bom.txt", text.encode("utf-16")), ("le.txt", text.encode("utf-16-le"))):
        (tmp_path / name).write_bytes(data)
        out = read_layer(tmp_path / name, "household")  # was refused / a csv.Error traceback
        assert out["household_id"].tolist() == table["户号"].tolist()
        assert out["address"].tolist() == table["地址"].tolist()
        assert out.attrs["encoding"] == "UTF-16"


def test_numbers_kept_as_text_with_an_apostrophe_read_as_written(tmp_path):
    table = _households()
    typed = table.assign(
        户号="'" + table["户号"], 房号="'" + table["房号"], 人数="'" + table["人数"]
    )
    path = tmp_path / "住户.csv"
    typed.to_csv(path, index=False, encoding="gbk")
    out = read_layer(path, "household")
    assert out["household_id"].tolist() == table["户号"].tolist()  # was 'H000001
    assert out["room"].tolist() == table["房号"].tolist()
    clean, issues = validate_layer(out, "household")
    assert clean["size"].tolist() == table["人数"].astype(int).tolist() and issues == []


def test_birth_dates_given_as_day_numbers_are_dates(tmp_path):
    persons = pd.read_csv(geodata.get_path("persons.csv"), dtype=str, encoding="utf-8-sig")
    persons = persons.head(20)
    born = [date(int(i[6:10]), int(i[10:12]), int(i[12:14])) for i in persons["身份证号"]]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["户号", "姓名", "身份证号", "出生日期"])
    for (_, row), day in zip(persons.iterrows(), born, strict=True):  # the date format lost
        sheet.append([row["户号"], row["姓名"], row["身份证号"], (day - date(1899, 12, 30)).days])
    book.save(tmp_path / "人口.xlsx")
    out = read_layer(tmp_path / "人口.xlsx", "person")
    assert out["birth_date"].tolist() == [d.isoformat() for d in born]  # was '32874' …
    _, issues = validate_layer(out, "person")
    assert not [i for i in issues if i.reason == "birth_date_differs"]
    csv = tmp_path / "人口.csv"
    pd.read_excel(tmp_path / "人口.xlsx", dtype=str).to_csv(csv, index=False)
    assert read_layer(csv, "person")["birth_date"].tolist() == out["birth_date"].tolist()


# --- workbooks ---------------------------------------------------------------------------------


def _workbook(path: Path, sheets: list[tuple[str, list[list[object]]]], hidden=()) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    for name, rows in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    book.save(path)
    return path


def test_the_roster_is_found_among_the_sheets_shown(tmp_path):
    table = _households()
    rows = [list(table.columns), *map(list, table.itertuples(index=False))]
    old = [["户号", "楼栋编号", "单元", "房号"], ["H900001", "B00001", "1", "101"]]
    hidden = _workbook(
        tmp_path / "隐藏.xlsx", [("旧数据", old), ("Sheet2", rows)], hidden={"旧数据"}
    )
    assert read_layer(hidden, "household")["household_id"].tolist() == table["户号"].tolist()
    other = [["楼栋编号", "户数"], ["B00001", 12]]
    third = _workbook(tmp_path / "第三页.xlsx", [("Sheet1", []), ("楼栋", other), ("Sheet3", rows)])
    out = read_layer(third, "household")  # was 'no records in Sheet1'
    assert out["household_id"].tolist() == table["户号"].tolist()
    assert _messages(out) == ["第三页.xlsx：住户取自图层“Sheet3”"]


def _ole_file(path: Path, streams: list[str]) -> Path:
    """An OLE compound file of 512-byte sectors whose directory (sector 1) names ``streams``."""
    header = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".ljust(512, b"\0"))
    header[30:32] = (9).to_bytes(2, "little")  # sector size 2**9
    header[48:52] = (1).to_bytes(4, "little")  # the directory starts at sector 1
    entries = b"".join(n.encode("utf-16-le").ljust(128, b"\0") for n in ["Root Entry", *streams])
    path.write_bytes(bytes(header) + b"\0" * 512 + entries.ljust(512, b"\0"))
    return path


@pytest.mark.parametrize(
    ("streams", "zh", "en"),
    [
        (["EncryptionInfo", "EncryptedPackage"], "住户.xlsx 设置了打开密码，程序无法读取；",
         "住户.xlsx is protected by a password, which gridmap cannot open;"),
        (["Workbook"], "无法读取工作簿 住户.xlsx：", "Cannot read workbook 住户.xlsx:"),
    ],
)  # fmt: skip
def test_a_workbook_with_a_password_or_a_broken_ole_file_is_said_to_be_one(
    tmp_path, streams, zh, en
):
    with pytest.raises(InputError) as error:
        read_layer(_ole_file(tmp_path / "住户.xlsx", streams), "household")
    assert error.value.message("zh").startswith(zh) and str(error.value).startswith(en)


# --- Shapefiles and zips -------------------------------------------------------------------------


@pytest.mark.parametrize("declared", ["UTF-8", "65001"])
def test_gbk_text_beside_a_cpg_saying_utf8_is_read_as_gbk(tmp_path, declared):
    files = office_files.gbk_shapefiles(tmp_path, cpg=True)
    files.buildings.with_suffix(".cpg").write_text(declared, encoding="ascii")
    out = read_layer(files.buildings, "building")  # 65001: headers were Latin-1 mojibake
    sample = office_files.sample_layers()["buildings"]
    assert out["name"].tolist() == sample["name"].tolist()
    assert _messages(out) == [f"buildings.shp：文字不是所声明的 {declared}，以 GB18030 读取"]


class _GBKName(zipfile.ZipInfo):
    """A zip member whose name is written in GBK without the UTF-8 flag (Windows' zip)."""

    __slots__ = ()

    def _encodeFilenameFlags(self):
        return self.filename.encode("cp437"), self.flag_bits


def _zipped_folder(path: Path, files: office_files.OfficeFiles) -> Path:
    """The four Shapefiles in a folder 数据/ of a zip, named in Chinese in GBK, with macOS junk."""
    chinese = {"communities": "社区", "compounds": "小区", "streets": "道路", "buildings": "楼栋"}
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(files.buildings.parent.iterdir()):
            name = f"数据/{chinese[part.stem]}{part.suffix}"
            archive.writestr(_GBKName(name.encode("gbk").decode("cp437")), part.read_bytes())
            archive.writestr(f"__MACOSX/数据/._{chinese[part.stem]}{part.suffix}", b"\0\5\x16\7")
    return path


def test_a_zipped_folder_with_gbk_names_is_read_by_layer_name(tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    zipped = _zipped_folder(tmp_path / "碧江区.zip", files)
    buildings = read_layer(zipped, "building")  # was 'cannot read': GDAL looks at the top only
    assert (
        buildings["building_id"].tolist()
        == read_layer(files.buildings, "building")["building_id"].tolist()
    )
    assert "碧江区.zip：楼栋取自图层“楼栋”" in _messages(buildings)
    streets = read_layer(zipped, "street", layer="道路")
    assert len(streets) == len(office_files.sample_layers()["streets"])
    out = tmp_path / "grids.geojson"
    res = runner.invoke(app, ["partition", "--communities", str(zipped), "--buildings",
                              str(zipped), "--streets", str(zipped), "--out", str(out),
                              "--jobs", "1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) >= 10


def test_a_folder_of_shapefiles_is_read_like_a_zip_of_them(tmp_path):
    files = office_files.gbk_shapefiles(tmp_path / "碧江区", cpg=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # was: 'More than one layer', compounds read
        out = read_layer(tmp_path / "碧江区", "building")
    assert out["name"].tolist() == office_files.sample_layers()["buildings"]["name"].tolist()
    assert _messages(out) == [
        "碧江区：楼栋取自图层“buildings”",
        "buildings.shp：没有 .cpg 文件，按内容判断，文字以 GB18030 读取",
    ]
    assert len(read_layer(tmp_path / "碧江区", "street", layer="streets")) == len(
        office_files.sample_layers()["streets"]
    )
    assert files.streets.exists()


def test_a_zip_without_a_layer_names_what_it_holds(tmp_path):
    path = tmp_path / "楼栋.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("楼栋/说明.docx", b"PK")
    with pytest.raises(InputError) as error:
        read_layer(path, "building")
    assert error.value.message("zh").startswith(
        "楼栋.zip 中没有本程序能读取的文件（其中有 “楼栋/说明.docx”）"
    )


# --- coordinates ------------------------------------------------------------------------------


def _buildings_in(directory: Path, coordinates: str, declared: str) -> Path:
    """The sample's buildings in ``coordinates`` with a .prj saying ``declared``."""
    directory.mkdir()
    frame = office_files.sample_layers()["buildings"][["building_id", "households", "geometry"]]
    path = directory / "楼栋.shp"
    frame = frame.to_crs(coordinates).set_crs(declared, allow_override=True)
    pyogrio.write_dataframe(frame, path, encoding="UTF-8")
    return path


@pytest.mark.parametrize(
    ("coordinates", "declared", "zh"),
    [
        ("EPSG:4524", "EPSG:4545", "X 坐标前面带有带号 36，而 EPSG:4545 的 X 坐标不带带号。"
         "请用 --crs 给出坐标实际所用的坐标系，例如 --crs EPSG:4524"),
        ("EPSG:4545", "EPSG:4524", "EPSG:4524 的 X 坐标前面带有带号 36，而这些坐标没有带号。"
         "请用 --crs 给出坐标实际所用的坐标系，例如 --crs EPSG:4545"),
    ],
)  # fmt: skip
def test_gauss_kruger_x_with_or_without_its_zone_number_is_refused_suggesting_the_crs(
    tmp_path, coordinates, declared, zh
):
    path = _buildings_in(tmp_path / "in", coordinates, declared)
    with pytest.raises(CRSError) as error:
        read_layer(path, "building")  # was read: every building at (inf, inf)
    said = error.value.message("zh")
    assert said.startswith("楼栋.shp：坐标（") and zh in said
    out = read_layer(path, "building", crs=coordinates)  # what it says to give
    sample = office_files.sample_layers()["buildings"].to_crs(4326)
    same = shapely.equals_exact(shapely.normalize(out.geometry.values),
                                shapely.normalize(sample.geometry.values), 1e-7)  # fmt: skip
    assert same.all()


def test_import_refuses_zone_numbered_coordinates_and_writes_nothing(tmp_path):
    communities = tmp_path / "社区.geojson"
    office_files.sample_layers()["communities"].to_file(communities)
    path = _buildings_in(tmp_path / "in", "EPSG:4524", "EPSG:4545")
    store = tmp_path / "store.sqlite"
    res = runner.invoke(app, ["import", "--db", f"sqlite:///{store}", "--communities",
                              str(communities), "--buildings", str(path), "--lang", "en",
                              "--report-dir", str(tmp_path / "reports")])  # fmt: skip
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "楼栋.shp: coordinates (36" in res.output and "--crs EPSG:4524" in res.output
    assert not (tmp_path / "reports").exists()


def test_latitude_and_longitude_swapped_are_said_to_be(tmp_path):
    sample = office_files.sample_layers()["buildings"].to_crs(4326)
    swapped = sample.set_geometry(shapely.transform(sample.geometry.values, lambda c: c[:, ::-1]))
    path = tmp_path / "楼栋.geojson"
    path.write_text(swapped.to_json(), encoding="utf-8")
    with pytest.raises(CRSError) as error:
        read_layer(path, "building")  # was: 'give --crs EPSG:4545'
    assert "的经纬度顺序颠倒了（纬度不可能超过 90）；请重新导出，经度在前" in error.value.message(
        "zh"
    )
    points = sample.geometry.representative_point()
    table = pd.DataFrame({"楼栋编号": sample["building_id"], "户数": sample["households"],
                          "经度": points.y, "纬度": points.x})  # fmt: skip
    table.to_csv(tmp_path / "楼栋.csv", index=False)
    with pytest.raises(CRSError) as error:
        read_layer(tmp_path / "楼栋.csv", "building")
    assert "'经度' holds latitudes and '纬度' longitudes: swap the two headers" in str(error.value)


def test_coordinates_in_degrees_minutes_seconds_are_read(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path)
    table = pd.read_csv(files.buildings, dtype=str, encoding="utf-8-sig")

    def dms(value: str, form: str) -> str:
        seconds = round(float(value) * 3600, 2)
        degrees, rest = divmod(seconds, 3600)
        return form.format(int(degrees), int(rest // 60), rest % 60)

    table["经度"] = table["经度"].map(lambda v: dms(v, "{}°{}′{:.2f}″"))
    table["纬度"] = table["纬度"].map(lambda v: dms(v, "{}度{}分{:.2f}秒"))
    path = tmp_path / "楼栋_度分秒.csv"
    table.to_csv(path, index=False, encoding="gbk")
    out = read_layer(path, "building")  # was: no building had a location
    decimal = read_layer(files.buildings, "building")
    assert float(out.geometry.distance(decimal.geometry).max()) < 1e-5  # about 1 m
    assert out.attrs["notes"][1:] == []  # only the GBK note


# --- GeoPackages, curves, GeoJSON ------------------------------------------------------------


def test_a_geopackage_layer_is_chosen_among_tables_and_empty_layers(tmp_path):
    buildings = office_files.sample_layers()["buildings"][["building_id", "households", "geometry"]]
    table = tmp_path / "带属性表.gpkg"
    buildings.to_file(table, layer="data")
    pyogrio.write_dataframe(_households(), table, layer="住户表", driver="GPKG")
    assert len(read_layer(table, "building")) == len(buildings)  # was 'say which layer'
    empty = tmp_path / "空图层.gpkg"
    buildings.to_file(empty, layer="楼栋")
    buildings.iloc[:0].to_file(empty, layer="Buildings")
    buildings.to_file(empty, layer="社区")
    out = read_layer(empty, "building")  # 楼栋 and Buildings: the one with records
    assert len(out) == len(buildings) and _messages(out) == ["空图层.gpkg：楼栋取自图层“楼栋”"]
    only_empty = tmp_path / "仅空图层.gpkg"
    buildings.iloc[:0].to_file(only_empty, layer="楼栋")
    buildings.to_file(only_empty, layer="Layer1")
    with pytest.raises(InputError) as error:
        read_layer(only_empty, "building")
    assert error.value.message("zh").startswith("仅空图层.gpkg（图层“楼栋”）中没有任何记录")


def test_a_curve_in_a_wkt_column_is_said_not_a_traceback(tmp_path):
    path = tmp_path / "楼栋.csv"
    path.write_text(
        "楼栋编号,户数,WKT\n"
        'B1,10,"CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(109.18 27.72,109.181 27.721,'
        '109.182 27.72),(109.182 27.72,109.18 27.72)))"\n'
        'B2,5,"POLYGON((109.19 27.72,109.191 27.72,109.191 27.721,109.19 27.72))"\n',
        encoding="utf-8",
    )
    out = read_layer(path, "building")  # was NotImplementedError
    assert out.geometry.isna().tolist() == [True, False]
    assert _messages(out) == [
        "楼栋.csv：数据行 1 的WKT 是曲线图形（CIRCULARSTRING、CURVEPOLYGON 等），无法读取，"
        "请导出为普通的面或线，这些记录没有位置。"
    ]


@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="GDAL's ogr2ogr writes M layers")
def test_measures_of_a_cad_export_are_dropped_in_a_note_not_an_english_warning(tmp_path):
    source = tmp_path / "楼栋.csv"
    source.write_text(
        "楼栋编号,户数,WKT\n"
        'B1,10,"POLYGON((109.19 27.72,109.191 27.72,109.191 27.721,109.19 27.72))"\n',
        encoding="utf-8",
    )
    path = tmp_path / "楼栋.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(path), str(source), "-oo",
                    "GEOM_POSSIBLE_NAMES=WKT", "-a_srs", "EPSG:4490", "-nln", "楼栋", "-nlt",
                    "POLYGON", "-dim", "XYM"], check=True)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # was pyogrio's, in English
        out = read_layer(path, "building")
    assert out["building_id"].tolist() == ["B1"]
    assert _messages(out) == ["楼栋.gpkg：图形的 M 值（测量值）已去掉，只用平面坐标"]


def test_a_gbk_geojson_is_read_with_or_without_encoding(tmp_path):
    sample = office_files.sample_layers()["buildings"].head(5)
    frame = sample.rename(columns={"building_id": "楼栋编号", "households": "户数", "name": "名称"})
    path = tmp_path / "楼栋.geojson"
    path.write_bytes(frame[["楼栋编号", "户数", "名称", "geometry"]].to_json(ensure_ascii=False)
                     .encode("gbk"))  # fmt: skip
    for encoding in (None, "GBK"):  # the error said to give --encoding GBK, which did nothing
        out = read_layer(path, "building", encoding=encoding)
        assert out["name"].tolist() == sample["name"].tolist()
        assert out.attrs["encoding"] == ("GB18030" if encoding is None else "GBK")
