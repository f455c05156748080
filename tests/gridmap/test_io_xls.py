"""Old Excel ``.xls`` rosters and the "xls" files web systems export, read as offices keep them.

The .xls files are genuine BIFF8, written at test time by xlwt as Excel 2003 writes them: a title
row and a blank row above a Chinese header, 楼栋编号 merged down the rows of each building, 户号
of 15 digits stored as numbers, 单元 as text with a leading zero, dates, a 合计 row and a 填表人
line under the table, a sheet of notes before the roster. The same roster is written as .xlsx
(openpyxl, the same merges), as a plain CSV, as the HTML table a web system exports under an
.xls name, and as GBK tab-separated text named .xls: every one must give the same records.
"""

from __future__ import annotations

import datetime as dt
import html
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy
from typer.testing import CliRunner

import geodata
from gridmap import read_layer
from gridmap.errors import InputError
from gridmap.io.layers import plural
from service.cli import app
from tests import office_files

xlwt = pytest.importorskip("xlwt")
runner = CliRunner()

HEADER = ["户号", "楼栋编号", "单元", "房号", "人数", "登记日期"]
TITLE = "碧江区广场社区住户花名册（2024年）"
BUILDINGS = ["B00001"] * 3 + ["B00002"] * 4 + ["B00003"] * 2
"""The 楼栋编号 of each record: merged down the rows of each building in the workbooks."""


def _records() -> list[list[object]]:
    """Nine households: 户号 of 15 digits (numbers), 单元 text with a leading zero, 房号 and 人数
    numbers, a registration date."""
    return [[520602002001001 + i, b, f"0{1 + i % 2}", 101 + 100 * (i // 2) + i % 2, 1 + i % 4,
             dt.date(2023, 1 + i, 10 + i)] for i, b in enumerate(BUILDINGS)]  # fmt: skip


def _building_runs() -> list[tuple[int, int]]:
    """(first, last) record index of each building's rows."""
    runs, start = [], 0
    for i in range(1, len(BUILDINGS) + 1):
        if i == len(BUILDINGS) or BUILDINGS[i] != BUILDINGS[start]:
            runs.append((start, i - 1))
            start = i
    return runs


_TOP = 3  # 0-based sheet row of the first record: title, blank, header
_TOTAL = ["合计", None, None, None, "共 9 户", None]
_FOOTER = "填表人：王某某    审核人：李某某"


def write_xls(path: Path, *, hidden: bool = False) -> Path:
    """The roster as Excel 97-2003 writes it: a notes sheet, then 花名册 (found by its header);
    ``hidden``: a hidden sheet 住户 of old records first."""
    book = xlwt.Workbook(encoding="utf-8")
    if hidden:
        old = book.add_sheet("住户")
        old.write(0, 0, "户号")
        old.write(1, 0, "H1")
        old.visibility = 1
    book.add_sheet("填表说明").write(0, 0, "本表由社区网格员填写，每户一行。")
    sheet = book.add_sheet("花名册")
    sheet.write_merge(0, 0, 0, len(HEADER) - 1, TITLE)
    for j, header in enumerate(HEADER):
        sheet.write(2, j, header)
    date = xlwt.easyxf(num_format_str='yyyy"年"m"月"d"日"')
    text = xlwt.easyxf(num_format_str="@")
    for i, row in enumerate(_records()):
        for j, value in enumerate(row):
            if j == 1:
                continue  # merged below
            style = (
                date if isinstance(value, dt.date) else text if j == 2 else xlwt.Style.default_style
            )
            sheet.write(_TOP + i, j, value, style)
    for first, last in _building_runs():
        sheet.write_merge(_TOP + first, _TOP + last, 1, 1, BUILDINGS[first])
    end = _TOP + len(BUILDINGS)
    for j, value in enumerate(_TOTAL):
        if value is not None:
            sheet.write(end, j, value)
    sheet.write(end + 2, 0, _FOOTER)
    book.save(str(path))
    return path


def write_xlsx(path: Path) -> Path:
    """The same roster as .xlsx, with the same layout and merges."""
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.worksheets[0]
    notes.title = "填表说明"
    notes["A1"] = "本表由社区网格员填写，每户一行。"
    sheet = book.create_sheet("花名册")
    sheet.append([TITLE])
    sheet.append([])
    sheet.append(HEADER)
    for i, row in enumerate(_records()):
        sheet.append([None if j == 1 and i not in dict(_building_runs()) else v
                      for j, v in enumerate(row)])  # fmt: skip
    sheet.append(_TOTAL)
    sheet.append([])
    sheet.append([_FOOTER])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    for first, last in _building_runs():
        sheet.merge_cells(start_row=_TOP + 1 + first, start_column=2, end_row=_TOP + 1 + last,
                          end_column=2)  # fmt: skip
    book.save(path)
    return path


def _text_rows() -> list[list[str]]:
    """The records as text, as a web system or a CSV writes them."""
    return [[str(v) if not isinstance(v, dt.date) else v.isoformat() for v in row]
            for row in _records()]  # fmt: skip


def write_csv(path: Path) -> Path:
    pd.DataFrame(_text_rows(), columns=HEADER).to_csv(path, index=False, encoding="utf-8")
    return path


def write_html_xls(path: Path) -> Path:
    """The roster as web systems export "xls": an HTML page (GBK, as on Chinese Windows) with a
    search-form table first, a title cell spanning the columns, 楼栋编号 by ``rowspan``."""
    starts = dict(_building_runs())
    lines = ['<html xmlns:x="urn:schemas-microsoft-com:office:excel">',
             '<head><meta http-equiv="Content-Type" content="text/html; charset=gbk"></head>',
             "<body><table><tr><td>查询条件：</td><td>全部</td></tr></table>",
             '<table border="1">', f'<tr><td colspan="{len(HEADER)}">{TITLE}</td></tr>',
             "<tr>" + "".join(f"<th>{h}</th>" for h in HEADER) + "</tr>"]  # fmt: skip
    for i, row in enumerate(_text_rows()):
        cells = []
        for j, value in enumerate(row):
            if j == 1 and i in starts:
                cells.append(f'<td rowspan="{starts[i] - i + 1}">{html.escape(value)}</td>')
            elif j != 1:
                cells.append(
                    f"<td style=\"mso-number-format:'\\@'\">{html.escape(value)}&nbsp;</td>"
                )
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("<tr>" + "".join(f"<td>{v or ''}</td>" for v in _TOTAL) + "</tr>")
    lines.append("</table></body></html>")
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    return path


def write_tsv_xls(path: Path) -> Path:
    """The roster as "xls" that is GBK tab-separated text (a title line above the header)."""
    lines = [TITLE, "\t".join(HEADER), *("\t".join(r) for r in _text_rows())]
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    return path


def _read(path: Path) -> pd.DataFrame:
    return read_layer(path, "household", required=["household_id"], keep_extra=True)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The records with counts and the date column as text (a CSV's are), to compare with a
    workbook's."""

    def text(value: object) -> str:
        return value.date().isoformat() if isinstance(value, dt.datetime) else str(value)

    kept = [c for c in ("size", "登记日期") if c in frame.columns]
    return frame.assign(**{c: frame[c].map(text).astype("str") for c in kept})


def _messages(frame: pd.DataFrame, lang: str = "en") -> list[str]:
    return [note.message(lang) for note in frame.attrs["notes"]]


@pytest.fixture
def csv_records(tmp_path) -> pd.DataFrame:
    return _read(write_csv(tmp_path / "花名册.csv"))


def test_a_biff_xls_gives_the_records_of_the_same_xlsx_and_csv(tmp_path, csv_records):
    xls = _read(write_xls(tmp_path / "花名册.xls"))
    xlsx = _read(write_xlsx(tmp_path / "花名册.xlsx"))
    pd.testing.assert_frame_equal(xls, xlsx)
    pd.testing.assert_frame_equal(_as_text(xls), _as_text(csv_records))
    assert xls["household_id"].tolist()[:2] == ["520602002001001", "520602002001002"]
    assert xls["unit"].tolist()[:2] == ["01", "02"]  # text: the leading zero kept
    assert xls["登记日期"].tolist()[:2] == [dt.datetime(2023, 1, 10), dt.datetime(2023, 2, 11)]
    assert xls["building_id"].tolist() == BUILDINGS
    assert xls["size"].tolist() == [1, 2, 3, 4, 1, 2, 3, 4, 1]  # numbers, as an .xlsx gives them
    assert _messages(xls) == [m.replace(".xlsx", ".xls") for m in _messages(xlsx)]
    assert _messages(xls) == [
        "花名册.xls: households read from layer '花名册'",
        "花名册.xls: 3 merged cell range(s) in column(s) ['楼栋编号'] filled: each row of a "
        "merged range takes its value",
        "花名册.xls: data row(s) 10 are total rows, not records; left out",
        "花名册.xls: data row(s) 12 are notes below the table (who filled it in, when, remarks), "
        "not records; left out",
    ]


def _with_formulas(path: Path, out: Path) -> Path:
    """``path`` with its 人数 and 登记日期 cells computed by formulas whose values are saved,
    as Excel saves them (``<f>`` then ``<v>``)."""
    import re

    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    part = "xl/worksheets/sheet2.xml"  # 花名册
    xml, n = re.subn(rb'(<c r="[EF](?:[4-9]|1[0-2])"[^>]*?)(?: t="n")?>(<v>)',
                     rb"\1><f>A1*0+1</f>\2", parts[part])  # fmt: skip
    assert n == 2 * len(BUILDINGS)
    parts[part] = xml
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out


def test_an_xlsx_with_formulas_reads_the_same_as_without(tmp_path, monkeypatch):
    """Formula cells give the values saved with them (python-calamine reads both, openpyxl
    neither): the same records, numbers and dates, and the same notes."""
    import openpyxl

    plain = _read(write_xlsx(tmp_path / "花名册.xlsx"))
    path = _with_formulas(tmp_path / "花名册.xlsx", tmp_path / "公式.xlsx")
    monkeypatch.setattr(openpyxl, "load_workbook", None)  # not called
    computed = _read(path)
    pd.testing.assert_frame_equal(plain, computed)
    said = [m.replace("花名册.xlsx", "公式.xlsx") for m in _messages(plain)]
    assert _messages(computed) == said and len(said) == 4


def test_a_hidden_sheet_is_passed_over_and_a_sheet_is_taken_by_name(tmp_path):
    path = write_xls(tmp_path / "花名册.xls", hidden=True)
    assert read_layer(path, "household")["building_id"].tolist() == BUILDINGS  # not 住户's
    assert read_layer(path, "household", layer="住户")["household_id"].tolist() == ["H1"]
    with pytest.raises(InputError) as error:
        read_layer(path, "household", layer="户籍")
    assert str(error.value).startswith("花名册.xls") and "'花名册'" in str(error.value)


def test_an_html_table_named_xls_is_read_and_said_to_be_one(tmp_path, csv_records):
    page = _read(write_html_xls(tmp_path / "导出.xls"))
    pd.testing.assert_frame_equal(_as_text(page), _as_text(csv_records))
    messages = _messages(page, "zh")
    assert messages[:2] == ["导出.xls：不是 UTF-8 文字，文字以 GB18030 读取",
                            "导出.xls：内容与文件名所示的格式不符，实为网页（HTML）表格（网上系统"
                            "导出的 .xls 文件常是这样），已按其读取"]  # fmt: skip
    assert any("1 处合并单元格" not in m and "合并单元格" in m for m in messages)
    assert any("合计" in m for m in messages)


def test_gbk_tab_separated_text_named_xls_is_read_as_text(tmp_path, csv_records):
    text = _read(write_tsv_xls(tmp_path / "住户.xls"))
    pd.testing.assert_frame_equal(text, csv_records)
    assert _messages(text) == [
        "住户.xls: text read as GB18030 (not valid UTF-8)",
        "住户.xls: not what its name says but tab-separated text; read as such",
    ]


def test_text_starting_with_a_bracket_is_still_read_as_text(tmp_path, csv_records):
    path = write_tsv_xls(tmp_path / "住户.xls")
    path.write_bytes(path.read_bytes().replace(TITLE.encode("gbk"), "<2024年>住户".encode("gbk")))
    text = _read(path)
    pd.testing.assert_frame_equal(text, csv_records)
    said = "住户.xls: not what its name says but tab-separated text; read as such"
    assert said in _messages(text)


def _spreadsheet_xml(path: Path) -> Path:
    """The roster as an Excel 2003 XML Spreadsheet (typed cells, MergeDown), a hidden sheet
    first."""
    starts = dict(_building_runs())
    kinds = {int: "Number", str: "String"}
    rows = [f'<Row><Cell ss:MergeAcross="{len(HEADER) - 1}"><Data ss:Type="String">{TITLE}'
            "</Data></Cell></Row>", "<Row/>",
            "<Row>" + "".join(f'<Cell><Data ss:Type="String">{h}</Data></Cell>' for h in HEADER)
            + "</Row>"]  # fmt: skip
    for i, row in enumerate(_records()):
        cells = []
        for j, v in enumerate(row):
            if j == 1 and i not in starts:
                continue
            index = f' ss:Index="{j + 1}"' if j == 2 and i not in starts else ""
            down = f' ss:MergeDown="{starts[i] - i}"' if j == 1 else ""
            if isinstance(v, dt.date):
                data = f'<Data ss:Type="DateTime">{v.isoformat()}T00:00:00.000</Data>'
            else:
                data = f'<Data ss:Type="{kinds[type(v)]}">{v}</Data>'

            cells.append(f"<Cell{index}{down}>{data}</Cell>")
        rows.append("<Row>" + "".join(cells) + "</Row>")
    hidden = ('<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">'
              "<Visible>SheetHidden</Visible></WorksheetOptions>")  # fmt: skip
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
            f'<Worksheet ss:Name="旧表"><Table><Row><Cell><Data ss:Type="String">户号</Data></Cell>'
            f"</Row></Table>{hidden}</Worksheet>"
            f'<Worksheet ss:Name="花名册"><Table>{"".join(rows)}</Table></Worksheet>'
            "</Workbook>")  # fmt: skip
    path.write_text(text, encoding="utf-8")
    return path


def test_an_excel_2003_xml_spreadsheet_named_xls_gives_the_records_of_the_xlsx(tmp_path):
    xml = _read(_spreadsheet_xml(tmp_path / "花名册.xls"))
    xlsx = _read(write_xlsx(tmp_path / "花名册.xlsx"))
    pd.testing.assert_frame_equal(xml, xlsx)
    assert _messages(xml)[0] == (
        "花名册.xls: not what its name says but an Excel 2003 XML Spreadsheet; read as such"
    )


def test_an_xlsx_named_xls_and_an_xls_named_xlsx_are_read_by_their_content(tmp_path, csv_records):
    xlsx_inside = write_xlsx(tmp_path / "a.xlsx").rename(tmp_path / "住户.xls")
    xls_inside = write_xls(tmp_path / "b.xls").rename(tmp_path / "人口.xlsx")
    for path, kind in ((xlsx_inside, "an .xlsx workbook"),
                       (xls_inside, "an Excel 97-2003 workbook (.xls)")):  # fmt: skip
        frame = _read(path)
        pd.testing.assert_frame_equal(_as_text(frame), _as_text(csv_records))
        assert (
            _messages(frame)[0] == f"{path.name}: not what its name says but {kind}; read as such"
        )


def _ods(path: Path) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice and WPS save as .ods)."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')  # fmt: skip

    def cell(v: object) -> str:
        if isinstance(v, dt.date):
            return (f'<table:table-cell office:value-type="date" office:date-value='
                    f'"{v.isoformat()}"><text:p>{v}</text:p></table:table-cell>')  # fmt: skip
        if isinstance(v, int):
            return (f'<table:table-cell office:value-type="float" office:value="{v}">'
                    f"<text:p>{v}</text:p></table:table-cell>")  # fmt: skip
        return (
            f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
        )

    rows: list[list[object]] = [[TITLE], list(HEADER), *_records()]
    body = "".join("<table:table-row>" + "".join(map(cell, r)) + "</table:table-row>" for r in rows)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
               'office:version="1.2"><office:body><office:spreadsheet>'
               f'<table:table table:name="住户">{body}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")  # fmt: skip
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)  # fmt: skip
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", _MANIFEST)
    return path


_MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
             '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
             '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
             'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path='
             '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>')  # fmt: skip


def test_an_ods_workbook_is_read_by_the_same_path(tmp_path, csv_records):
    ods = _read(_ods(tmp_path / "住户.ods"))
    pd.testing.assert_frame_equal(_as_text(ods), _as_text(csv_records))
    assert _messages(ods) == []
    named_xlsx = _read(_ods(tmp_path / "住户.xlsx"))  # openpyxl cannot: calamine reads it
    pd.testing.assert_frame_equal(named_xlsx, ods)
    assert _messages(named_xlsx) == [
        "住户.xlsx: not what its name says but an OpenDocument spreadsheet (.ods); read as such"
    ]


def test_a_password_protected_xls_is_said_to_be_one(tmp_path):
    path = write_xls(tmp_path / "住户.xls")
    data = path.read_bytes()
    at = data.index(b"\x5c\x00\x70\x00")  # WRITEACCESS, made FILEPASS: Excel's encrypted .xls
    path.write_bytes(data[:at] + b"\x2f\x00" + data[at + 2 :])
    with pytest.raises(InputError) as error:
        read_layer(path, "household")
    assert str(error.value).startswith("住户.xls is protected by a password")
    assert error.value.message("zh").startswith("住户.xls 设置了打开密码")


def test_a_broken_xls_is_refused_naming_the_file(tmp_path):
    path = write_xls(tmp_path / "住户.xls")
    path.write_bytes(path.read_bytes()[:3000])  # cut short (an attachment not fully saved)
    with pytest.raises(InputError) as error:
        read_layer(path, "household")
    assert str(error.value).startswith("Cannot read workbook 住户.xls:")
    assert error.value.message("zh").startswith("无法读取工作簿 住户.xls：文件已损坏")


def _households_xls(households: pd.DataFrame, path: Path) -> Path:
    """The sample households as an .xls: a title row, 楼栋编号 merged down each building's
    rows, 人数 as numbers, a 合计 row."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("住户")
    sheet.write(0, 0, "住户花名册")
    for j, header in enumerate(households.columns):
        sheet.write(1, j, header)
    column, start = households.columns.get_loc("楼栋编号"), 0
    for i, row in enumerate(households.itertuples(index=False)):
        for j, value in enumerate(row):
            if j != column and isinstance(value, str):
                sheet.write(2 + i, j, int(value) if households.columns[j] == "人数" else value)
        if i + 1 == len(households) or households.iloc[i + 1, column] != row[column]:
            if isinstance(row[column], str):
                sheet.write_merge(2 + start, 2 + i, column, column, row[column])
            start = i + 1
    sheet.write(2 + len(households), 0, "合计")
    book.save(str(path))
    return path


def _import(tmp_path: Path, name: str, households: Path, persons: Path) -> tuple[str, dict]:
    """``gridmap import`` of the sample's GBK Shapefiles and the rosters into a new SpatiaLite
    store: its output and the stored households and persons."""
    files = office_files.gbk_shapefiles(tmp_path / "shp", cpg=False)
    db = f"sqlite:///{tmp_path / f'{name}.sqlite'}"
    args = ["import", "--lang", "en", "--db", db, "--report-dir", str(tmp_path / name),
            "--households", str(households), "--persons", str(persons)]  # fmt: skip
    for entity, path in files.sources().items():
        args += [f"--{plural(entity)}", str(path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    engine = sqlalchemy.create_engine(db)
    with engine.connect() as conn:
        stored = {table: sorted(conn.execute(sqlalchemy.text(query)).all()) for table, query in (
            ("household", "SELECT id, building_id, size, address FROM household"),
            ("person", "SELECT id, household_id FROM person"))}  # fmt: skip
    engine.dispose()
    return " ".join(res.output.split()), stored


def test_import_stores_an_xls_roster_and_an_html_export_as_their_csv(tmp_path):
    """``gridmap import`` on SpatiaLite: the sample households as an .xls (title row, merged
    楼栋编号, 合计 row) and persons as the HTML "xls" a web system exports store what the same
    rosters as CSV store."""
    source = pd.read_csv(geodata.get_path("households.csv"), dtype=str, encoding="utf-8-sig")
    persons_csv = office_files.persons_roster(tmp_path, rows=60, encoding="utf-8")
    page = tmp_path / "人口导出.xls"
    page.write_text(pd.read_csv(persons_csv, dtype=str).to_html(index=False), encoding="utf-8")
    xls_out, from_xls = _import(tmp_path, "xls", _households_xls(source, tmp_path / "住户.xls"),
                                page)  # fmt: skip
    _, from_csv = _import(tmp_path, "csv", geodata.get_path("households.csv"), persons_csv)
    assert from_xls == from_csv
    assert len(from_xls["household"]) == len(source) and len(from_xls["person"]) == 60
    assert "住户.xls: data row(s) 6650 are total rows, not records; left out" in xls_out
    assert "住户.xls: " in xls_out and "range(s) in column(s) ['楼栋编号'] filled" in xls_out
    assert "人口导出.xls: not what its name says but an HTML table" in xls_out
