"""Property tests of :func:`gridmap.read_layer` on rosters as district offices really send them.

A roster is drawn (:func:`rosters`): the recognised Chinese headers of an entity (households,
persons, staff, buildings with coordinates), spelled with spaces, full-width letters, ``（必填）``
and ``*``, mixed with junk, blank and repeated headers; title lines above the header, blank rows
and columns, merged cells, 合计 and 填表人 lines; cells of every type (numbers, ``3.0``, huge
integers, dates, booleans, ``#N/A``, white space, full-width digits, emoji, long text, line
breaks); ids repeated and blank; coordinates out of range, swapped or text. It is written as CSV
(UTF-8 with or without BOM, GBK, UTF-16), .xlsx (openpyxl), .xls (xlwt) or an HTML table named
.xls, and read back.

The property: ``read_layer`` returns one record per data row drawn, each text column as written
(the model of what each format keeps, :func:`expected_text`), or raises a gridmap error whose
message names the file; any other exception is a bug. A few rosters go through
``gridmap import`` into a SpatiaLite store: exit code 0, or 1 with the file named, no traceback
and nothing written.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, note, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gridmap.errors import GridmapError
from gridmap.io.headers import GEOMETRY_HEADERS, normalise_header, resolve_headers
from gridmap.io.layers import plural, read_layer
from gridmap.schema import get_entity
from service.cli import app

xlwt = pytest.importorskip("xlwt")
pytestmark = pytest.mark.filterwarnings("ignore::gridmap.io.notes.ReadWarning")  # notes of junk

FORMATS = ("csv", "xlsx", "xls", "html")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "utf-16", "utf-16-le")

# Recognised headers of each column (gridmap/io/headers.py), the anchor column first: every
# record has a plain text in it, so that no record is a blank row.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "household": {
        "address": ("地址", "详细地址", "住址", "现住址"),
        "household_id": ("户号", "户编号", "户编码", "住户编号"),
        "building_id": ("楼栋编号", "楼栋号", "楼号", "栋号"),
        "unit": ("单元", "单元号"),
        "room": ("房号", "门牌号", "室号"),
        "size": ("人数", "家庭人口"),
    },
    "person": {
        "name": ("姓名", "名字"),
        "household_id": ("户号", "户编号"),
        "person_id": ("人员编号", "人口编号", "编号"),
        "sex": ("性别",),
        "relationship": ("与户主关系", "户主关系"),
    },
    "staff": {
        "name": ("姓名",),
        "staff_id": ("工号", "人员编号", "编号"),
        "role": ("职务", "岗位", "角色"),
        "phone": ("联系电话",),
    },
    "building": {
        "address": ("地址", "门牌地址"),
        "building_id": ("楼栋编号", "楼栋号", "楼号", "编号"),
        "households": ("户数", "总户数"),
        "floors": ("层数", "总层数"),
        "name": ("楼栋名称",),
    },
}
COORDINATES = {"lon": ("经度", "lon", "lng", "X坐标"), "lat": ("纬度", "lat", "Y坐标")}
COORDINATE_ENTITIES = ("household", "person", "building")
JUNK_HEADERS = ("序号", "备注", "联系人", "Unnamed", "列1", "核查情况", "是否网格员", "区域")
COUNTS = {"size", "households", "floors"}
"""Count columns: kept as read (typed by the checks later), so only the records are compared."""

_STREETS = ("广场路", "南门街", "锦江大道", "清水塘巷", "Jinjiang Rd")

# Cells of every type an office's table holds (none a header, a 合计 or a 填表人 line).
_HUGE = st.integers(10**15, 10**20)
CELLS = st.one_of(
    st.none(),
    st.integers(-5, 10**6),
    st.integers(0, 999).map(float),  # 3.0
    st.sampled_from([12.5, 0.1, -7.25, 1e-7]),
    _HUGE,
    st.dates(dt.date(1930, 1, 1), dt.date(2030, 12, 31)),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.booleans(),
    st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!", " ", "\u3000", "\t", "  B01  ", "'0301"]),
    st.sampled_from(["３０１", "Ｂ０１", "001", "0", "B00001", "3-301", "1单元301", "A栋"]),
    st.sampled_from(["🏠", "张三🙂", "line\nbreak", "a,b", 'say "hi"', "x\r\ny", "零"]),
    st.integers(300, 3000).map(lambda n: "长" * n),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
)


@dataclass
class Roster:
    """A roster as drawn: the header row, the title lines above it and the rows under it."""

    entity: str
    headers: list[str]
    columns: list[str | None]
    """The column each header fills (``None``: junk or blank, ``lon``/``lat``: coordinates)."""
    titles: list[str]
    rows: list[list[object]]
    records: list[int]
    """Which of ``rows`` are records (the others: blank, 合计, 填表人 lines)."""
    merges: list[tuple[int, int, int]] = field(default_factory=list)
    """(column, first row, last row) of ``rows`` merged down in a workbook."""
    doubled: bool = False
    """Two headers name one column: reading must refuse it."""
    formula: bool = False
    """A formula beside the table, without a saved value (outside the table: not said)."""
    notes_sheet: bool = False
    """A first sheet of notes (填表说明) in a workbook: the roster's sheet is found by header."""
    group: tuple[int, int, str] | None = None
    """A two-row header in a workbook: a title merged across these columns (first, last) over
    their headers, the other headers merged down both rows."""
    extra: bool = False
    """A cell right of the header in the first record (an unquoted comma in a CSV)."""
    short: bool = False
    """CSV lines without their trailing empty cells (not every program writes them)."""
    separator: str = ","

    def column(self, name: str) -> int | None:
        return self.columns.index(name) if name in self.columns else None


def _unknown(header: str, entity: str) -> bool:
    """True if ``header`` names no column of ``entity`` (and no coordinate)."""
    key = normalise_header(header)
    coords = {n for names in GEOMETRY_HEADERS.values() for n in names}
    return key not in coords and not resolve_headers([header], get_entity(entity)).columns


@st.composite
def spelled(draw, header: str) -> str:
    """``header`` as an office types it: spaces, full-width letters, a note, a ``*``."""
    how = draw(st.sampled_from(["plain", "plain", "spaces", "wide", "note", "star", "inner"]))
    if how == "spaces":
        return f" {header}\u3000"
    if how == "wide":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in header)
    if how == "note":
        return header + draw(st.sampled_from(["（必填）", "(选填)", "【必填】"]))
    if how == "star":
        return header + "*"
    if how == "inner" and len(header) > 1 and not header.isascii():
        return header[0] + draw(st.sampled_from([" ", "\n", "\u3000"])) + header[1:]
    return header


def _coordinate(draw, kind: str, axis: str) -> object:
    lon, lat = 108.9 + draw(st.integers(0, 999)) / 10_000, 27.7 + draw(st.integers(0, 999)) / 10_000
    good = lon if axis == "lon" else lat
    swapped = lat if axis == "lon" else lon
    return {
        "good": good,
        "text": f"{good}",
        "wide": unicodedata.normalize("NFKC", f"{good}").translate(
            {ord(c): ord(c) + 0xFEE0 for c in "0123456789"}
        ),
        "dms": f"{int(good)}°{int(good * 60 % 60)}′{good * 3600 % 60:.1f}″",
        "swapped": swapped,
        "far": 500.0 if axis == "lon" else 100.0,
        "junk": draw(st.sampled_from(["东经", "无", "#N/A", " ", "N/A"])),
        "blank": None,
    }[kind]


@st.composite
def rosters(draw, entities: tuple[str, ...] = tuple(sorted(COLUMNS))) -> Roster:
    entity = draw(st.sampled_from(entities))
    spec = COLUMNS[entity]
    anchor, *others = spec
    chosen = [anchor, *[c for c in others if draw(st.booleans()) or c in _needed(entity)]]
    headers: list[str] = []
    columns: list[str | None] = []
    for column in chosen:
        headers.append(draw(spelled(draw(st.sampled_from(spec[column])))))
        columns.append(column)
    if entity in COORDINATE_ENTITIES and draw(st.booleans()):
        for axis in ("lon", "lat"):
            headers.append(draw(spelled(draw(st.sampled_from(COORDINATES[axis])))))
            columns.append(axis)
    doubled = False
    if draw(st.integers(0, 5)) == 0:  # the same column twice: another alias or the same one
        j = draw(st.integers(0, len(headers) - 1))
        headers.append(headers[j] if draw(st.booleans()) else draw(st.sampled_from(
            spec.get(columns[j]) or COORDINATES[columns[j]])))  # fmt: skip
        columns.append(columns[j])
        doubled = columns[j] not in ("lon", "lat")  # coordinates: the first pair is read
    for _ in range(draw(st.integers(0, 3))):  # junk, blank and repeated junk headers
        junk = draw(st.sampled_from([*JUNK_HEADERS, ""]))
        headers.append(junk)
        columns.append(None)
    order = draw(st.permutations(range(len(headers))))
    headers, columns = [headers[i] for i in order], [columns[i] for i in order]
    if doubled and normalise_header(headers[columns.index(columns[-1])]) == "":
        doubled = False
    kinds = {}
    for axis in ("lon", "lat"):
        if axis in columns:
            kinds[axis] = draw(st.sampled_from(
                ["good", "good", "good", "text", "wide", "dms", "swapped", "far", "junk",
                 "blank"]))  # fmt: skip
    n = draw(st.integers(0, 8))
    records: list[list[object]] = []
    for i in range(n):
        row: list[object] = []
        for filled in columns:
            if filled == anchor:
                row.append(f"{draw(st.sampled_from(_STREETS))}{i + 1}号")
            elif filled in ("lon", "lat"):
                mixed = draw(st.integers(0, 4)) == 0  # now and then another kind of cell
                kind = draw(st.sampled_from(["junk", "blank", "good"])) if mixed else kinds[filled]
                row.append(_coordinate(draw, kind, filled))
            elif filled is None and "序号" in headers and headers.index("序号") == len(row):
                row.append(i + 1)
            else:
                row.append(draw(CELLS))
        records.append(row)
    roster = Roster(
        entity,
        headers,
        columns,
        [],
        [],
        [],
        doubled=doubled,
        formula=draw(st.booleans()),
        notes_sheet=draw(st.booleans()),
        short=draw(st.booleans()),
        separator=draw(st.sampled_from(",,,;\t")),
    )
    _repeat_ids(draw, roster, records)
    _lay_out(draw, roster, records)
    if len(headers) >= 3 and draw(st.integers(0, 3)) == 0:
        first = draw(st.integers(0, len(headers) - 2))
        last = draw(st.integers(first + 1, min(len(headers) - 1, first + 3)))
        roster.group = (first, last, draw(st.sampled_from(["基本信息", "房屋信息", "联系方式"])))
    if roster.records and draw(st.integers(0, 5)) == 0:
        roster.rows[roster.records[0]].append("多余")
        roster.extra = True
    return roster


def _needed(entity: str) -> set[str]:
    """Columns drawn always: the id, and those the entity requires."""
    ent = get_entity(entity)
    return {*ent.required, ent.id_column} & set(COLUMNS[entity])


def _repeat_ids(draw, roster: Roster, records: list[list[object]]) -> None:
    """Some ids repeated (the office typed one twice) and some blank."""
    j = roster.column(get_entity(roster.entity).id_column)
    if j is None or len(records) < 2:
        return
    for row in records:
        choice = draw(st.integers(0, 5))
        if choice == 0:
            row[j] = records[0][j]
        elif choice == 1:
            row[j] = None


def _lay_out(draw, roster: Roster, records: list[list[object]]) -> None:
    """Titles above, blank rows, 合计 and 填表人 lines among the records, merges down."""
    width = len(roster.headers)
    titles = st.sampled_from(["碧江区广场社区住户花名册", "（2024年12月）", "", "单位：户、人"])
    roster.titles = draw(st.lists(titles, max_size=3))
    rows: list[list[object]] = []
    for row in records:
        if draw(st.integers(0, 5)) == 0:
            rows.append([None] * width)
        roster.records.append(len(rows))
        rows.append(row)
    if draw(st.booleans()):
        total: list[object] = [None] * width
        total[0] = draw(st.sampled_from(["合计", "合 计", "小计：", "总计"]))
        if width > 1:
            total[-1] = draw(st.sampled_from([len(records), f"共{len(records)}户"]))
        after_last = [r + 1 for r in roster.records[-1:]]  # or at the very end
        rows.insert(draw(st.sampled_from([len(rows), *after_last])), total)
    if draw(st.booleans()):
        rows += [[None] * width, ["填表人：王某某    审核人：李某某", *[None] * (width - 1)]]
    pasted: list[list[object]] = []
    if len(roster.records) > 1 and draw(st.integers(0, 3)) == 0:  # two exports pasted together
        at = roster.records[draw(st.integers(1, len(roster.records) - 1))]
        pasted = [list(roster.headers)]
        # A line of one cell right above the header repeated is taken for the title of the
        # second export (and said in a note): a record of one cell there is given its title.
        above = next(r for r in reversed(rows[:at]) if any(v is not None for v in r))
        one_cell = sum(v is not None for v in above[:width]) == 1  # (a CSV drops blank lines)
        if one_cell or draw(st.booleans()):
            pasted.insert(0, [next((t for t in roster.titles if t), "住户花名册"),
                              *[None] * (width - 1)])  # fmt: skip
        rows[at:at] = pasted
        roster.records = [r + len(pasted) if r >= at else r for r in roster.records]
    roster.rows = rows
    building = roster.column("building_id")
    if building is not None and len(records) > 1 and not pasted and draw(st.booleans()):
        first = draw(st.integers(0, len(records) - 2))
        last = draw(st.integers(first + 1, len(records) - 1))
        top, bottom = roster.records[first], roster.records[last]
        rows[top][building] = "B00003"
        for r in range(top + 1, bottom + 1):
            rows[r][building] = None
        roster.merges.append((building, top, bottom))


# --- writing -----------------------------------------------------------------------------------


def _text(value: object) -> str:
    """A cell as a CSV or an HTML table shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(roster: Roster, path: Path, encoding: str) -> Path:
    out = io.StringIO()
    sep = "\t" if encoding == "utf-16" else roster.separator  # Excel's "Unicode text": tabs
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    width = len(roster.headers)
    for title in roster.titles:
        writer.writerow([title, *[""] * (width - 1)])
    writer.writerow(roster.headers)
    for row in roster.rows:
        cells = [_text(v) for v in row]
        while roster.short and cells and not cells[-1]:
            cells.pop()
        writer.writerow(cells)
    text = out.getvalue()
    if encoding == "gbk":
        try:
            path.write_bytes(text.encode("gbk"))
        except UnicodeEncodeError:  # emoji: what Excel writes as GB18030
            path.write_bytes(text.encode("gb18030"))
    else:
        path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(roster: Roster, path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet.title = "花名册"
    if roster.notes_sheet:
        book.create_sheet("填表说明", 0)["A1"] = "本表由社区网格员填写，每户一行。"
    at = len(roster.titles) + 1  # 1-based sheet row of the header
    top = at + 1 + (roster.group is not None)  # of the first row under the header
    for i, title in enumerate(roster.titles):
        sheet.cell(i + 1, 1, title or None)
    for j, header, down in _header_cells(roster):
        sheet.cell(at + down, j + 1, header or None)
        if roster.group and not down:
            sheet.merge_cells(start_row=at, start_column=j + 1, end_row=at + 1, end_column=j + 1)
    if roster.group:
        first, last, title = roster.group
        sheet.cell(at, first + 1, title)
        sheet.merge_cells(start_row=at, start_column=first + 1, end_row=at, end_column=last + 1)
    for i, row in enumerate(roster.rows):
        for j, value in enumerate(row):
            if value is not None:
                sheet.cell(top + i, j + 1, value)  # type: ignore[call-overload]
    if roster.formula:  # right of the table: ignored, but the workbook holds a formula
        sheet.cell(top, len(roster.headers) + 2, "=1+2")
    if roster.titles and roster.titles[0] and len(roster.headers) > 1:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(roster.headers))
    for j, first, last in roster.merges:
        sheet.merge_cells(start_row=top + first, start_column=j + 1, end_row=top + last,
                          end_column=j + 1)  # fmt: skip
    book.save(path)
    return path


def _header_cells(roster: Roster) -> list[tuple[int, str, int]]:
    """(column, header, 1 for the second header row under the group's title, else 0)."""
    first, last, _ = roster.group or (-1, -1, "")
    return [(j, h, int(first <= j <= last)) for j, h in enumerate(roster.headers)]


def write_xls(roster: Roster, path: Path) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    if roster.notes_sheet:
        book.add_sheet("填表说明").write(0, 0, "本表由社区网格员填写，每户一行。")
    sheet = book.add_sheet("花名册")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    at = len(roster.titles)  # 0-based
    top = at + 1 + (roster.group is not None)
    for i, title in enumerate(roster.titles):
        if title:
            sheet.write(i, 0, title)
    for j, header, down in _header_cells(roster):
        if roster.group and not down:
            sheet.write_merge(at, at + 1, j, j, header or None)
        elif header:
            sheet.write(at + down, j, header)
    if roster.group:
        first, last, title = roster.group
        sheet.write_merge(at, at, first, last, title)
    merged = {(top + first, j): (last - first) for j, first, last in roster.merges}
    for i, row in enumerate(roster.rows):
        for j, value in enumerate(row):
            if (top + i, j) in merged:
                sheet.write_merge(top + i, top + i + merged[(top + i, j)], j, j, value)
            elif value is not None:
                style = stamp if isinstance(value, dt.datetime) else (
                    date if isinstance(value, dt.date) else xlwt.Style.default_style)  # fmt: skip
                sheet.write(top + i, j, value, style)
    book.save(str(path))
    return path


def _html_cell(value: object, rowspan: int = 1) -> str:
    text = "<br>".join(html.escape(line) for line in _text(value).splitlines())
    span = f' rowspan="{rowspan}"' if rowspan > 1 else ""
    return f"<td{span}>{text}</td>"


def write_html(roster: Roster, path: Path, encoding: str) -> Path:
    """An HTML table named .xls, as web systems export rosters."""
    width = len(roster.headers)
    charset = "gbk" if encoding == "gbk" else "utf-8"
    lines = [f'<html><head><meta charset="{charset}"></head><body><table border="1">']
    for title in roster.titles:
        lines.append(f'<tr><td colspan="{width}">{html.escape(title)}</td></tr>')
    upper, lower = [], []
    for j, header, down in _header_cells(roster):
        if down:
            lower.append(f"<th>{html.escape(header)}</th>")
        else:
            upper.append(f'<th rowspan="2">{html.escape(header)}</th>' if roster.group else
                         f"<th>{html.escape(header)}</th>")  # fmt: skip
        if roster.group and j == roster.group[0]:
            n = roster.group[1] - roster.group[0] + 1
            upper.append(f'<th colspan="{n}">{roster.group[2]}</th>')
    lines += [f"<tr>{''.join(row)}</tr>" for row in (upper, lower) if row]
    spans = {(first, j): last - first + 1 for j, first, last in roster.merges}
    covered = {(r, j) for j, first, last in roster.merges for r in range(first + 1, last + 1)}
    for i, row in enumerate(roster.rows):
        cells = [_html_cell(v, spans.get((i, j), 1)) for j, v in enumerate(row)
                 if (i, j) not in covered]  # fmt: skip
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</table></body></html>")
    text = "\n".join(lines)
    path.write_bytes(text.encode("gb18030" if encoding == "gbk" else "utf-8"))
    return path


def write(roster: Roster, folder: Path, fmt: str, encoding: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stem = {"household": "住户", "person": "人口花名册", "staff": "网格员", "building": "楼栋"}
    path = folder / f"{stem[roster.entity]}.{'xls' if fmt == 'html' else fmt}"
    if fmt == "csv":
        return write_csv(roster, path, encoding)
    if fmt == "xlsx":
        return write_xlsx(roster, path)
    if fmt == "xls":
        return write_xls(roster, path)
    return write_html(roster, path, encoding)


# --- what each format keeps --------------------------------------------------------------------

_CSV_MISSING = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan",
                "null", "Null"}  # fmt: skip
"""Cells read as missing (what pandas reads so in a CSV, and ``Null``), in every format: a whole
cell as written (an HTML cell's text stripped)."""
_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!"}


@dataclass(frozen=True)
class Approx:
    """A whole number beyond 2**53 in a workbook: a float there (openpyxl writes 16 digits of
    it, Excel 15), read back as the digits of that float."""

    value: int

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.lstrip("-").isdigit() and (
            abs(int(other) - self.value) <= abs(self.value) * 1e-14)  # fmt: skip


def expected_text(value: object, fmt: str) -> object:
    """What a text column of the frame holds for a cell ``value`` written as ``fmt``;
    ``ANY_ID`` where an id is generated for a blank one."""
    if value is None:
        return None
    if fmt in ("csv", "html"):
        text = _text(value)
        if fmt == "csv" and text in _CSV_MISSING:
            return None
        if fmt == "html":
            lines = (" ".join(line.split()) for line in text.splitlines())
            text = "\n".join(line for line in lines if line)
            if text.strip() in _CSV_MISSING:
                return None
        return text.strip().removeprefix("'") or None
    if isinstance(value, str) and value in _CSV_MISSING:
        return None
    if isinstance(value, str) and value in _ERRORS and fmt == "xlsx":
        return None  # openpyxl writes it as an error cell: a formula error is no value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 2**53 else Approx(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if fmt == "xlsx" and isinstance(value, str) and value.startswith("="):
        return None  # openpyxl writes it as a formula, never calculated: no value saved
    text = str(value).replace("\r\n", "\n") if fmt == "xlsx" else str(value)  # XML's line ends
    return text.strip().removeprefix("'") or None


def expected_column(roster: Roster, column: str, fmt: str) -> list[object]:
    """The text of ``column`` of each record, merged cells filled in a workbook."""
    j = roster.columns.index(column)
    cells = [row[j] for row in roster.rows]
    if fmt != "csv":
        for jj, first, last in roster.merges:
            if jj == j:
                cells[first + 1 : last + 1] = [cells[first]] * (last - first)
    return [expected_text(cells[i], fmt) for i in roster.records]


# --- the property --------------------------------------------------------------------------------


def _event(value: str) -> None:
    """Count ``value`` in Hypothesis' statistics when a property runs (not in plain tests)."""
    if currently_in_test_context():
        event(value)


def check_read(roster: Roster, path: Path, fmt: str, encoding: str) -> pd.DataFrame | None:
    """Read ``path``: the records drawn, their text as written; or a gridmap error naming the
    file. Any other exception fails the test."""
    try:
        frame = read_layer(path, roster.entity)
    except GridmapError as exc:
        _event(f"{fmt}: {type(exc).__name__} {exc.code}")
        for lang in ("en", "zh"):
            assert path.name in exc.message(lang), exc.message(lang)
        assert exc.code != "no_records" or not roster.records, str(exc)
        assert exc.code != "rows_too_long" or roster.extra, str(exc)
        # UTF-16 without a byte order mark (Excel writes one) is told by its zero bytes: a text
        # of mostly Chinese has too few of them (gridmap/io/encodings.py, left alone)
        assert exc.code != "not_text" or encoding == "utf-16-le", str(exc)
        return None
    assert not roster.doubled, f"two headers for one column were read: {roster.headers}"
    assert not (roster.extra and fmt == "csv"), "a cell right of the header was dropped"
    _event(f"{fmt}: read")
    ent = get_entity(roster.entity)
    assert len(frame) == len(roster.records), (len(frame), roster.records)
    for column in dict.fromkeys(c for c in roster.columns if c in ent.columns):
        if column in COUNTS:
            continue
        got = frame[column].tolist()
        got = [None if pd.isna(v) else v for v in got]
        want = expected_column(roster, column, fmt)
        generated = column in ("household_id", "person_id", "staff_id", "building_id")
        for g, w in zip(got, want, strict=True):
            if w is None and generated:
                continue  # blank ids: generated from the address, or left blank for the checks
            assert w == g, (column, got, want)
    check_points(roster, frame)
    return frame


def expected_degrees(value: object) -> float | None:
    """The degrees a coordinate cell says (a number, as text, full-width, 度分秒), else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = "".join(unicodedata.normalize("NFKC", str(value)).split())
    dms = re.fullmatch(r"([0-9]+)°([0-9]+)′([0-9.]+)(?:″|′′)", text)  # NFKC: ″ is ′′
    if dms:
        return int(dms[1]) + int(dms[2]) / 60 + float(dms[3]) / 3600
    try:
        return float(text)
    except ValueError:
        return None


def check_points(roster: Roster, frame: pd.DataFrame) -> None:
    """Each record's point where its 经度 and 纬度 cells are degrees, else none."""
    if "lon" not in roster.columns or "lat" not in roster.columns:
        return
    lon, lat = roster.columns.index("lon"), roster.columns.index("lat")  # the first pair
    points = frame.geometry.tolist() if "geometry" in frame.columns else [None] * len(frame)
    for i, point in zip(roster.records, points, strict=True):
        x, y = expected_degrees(roster.rows[i][lon]), expected_degrees(roster.rows[i][lat])
        if x is None or y is None:
            assert point is None or point.is_empty, (roster.rows[i], point)
        else:
            assert point is not None and abs(point.x - x) + abs(point.y - y) < 1e-4, (x, y, point)


_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# Found by this test, each failing before its fix:
_SAME_HEADER_TWICE = Roster(  # a workbook with 地址 twice: AttributeError; a CSV: 地址.1 dropped
    "building", ["地址", "楼栋编号", "地址"], ["address", "building_id", "address"], [],
    [[None, None, None], ["广场路1号", None, "广场路1号"]], [1], doubled=True)  # fmt: skip
_MERGED_OVER_A_BLANK_ROW = Roster(  # the blank row under B00003 became a record of its own
    "building", ["地址", "楼栋编号", "楼栋名称"], ["address", "building_id", "name"], [],
    [[None, None, None], ["广场路1号", "B00003", None], [None, None, None],
     ["广场路2号", None, None]], [1, 3], merges=[(1, 1, 3)])  # fmt: skip
_ERROR_CELL_BESIDE_A_FORMULA = Roster(  # read as the text "#N/A" (openpyxl), not blank (calamine)
    "building", ["地址", "楼栋编号", "楼栋名称"], ["address", "building_id", "name"], [],
    [["广场路1号", "#N/A", "#DIV/0!"]], [0], formula=True)  # fmt: skip

_SEMICOLONS_AND_A_COMMA = Roster(  # taken for a comma CSV: "line 2 holds more cells (1 column)"
    "building", ["地址", "楼栋编号", "楼栋名称"], ["address", "building_id", "name"], [],
    [["广场路1号", "B01", "a,b"], ["广场路2号", "B02", None]], [0, 1], separator=";")  # fmt: skip

_TWO_ROW_HEADER_OPENPYXL = Roster(  # openpyxl ends row 2 at 职务: 联系电话, merged down, was lost
    "staff", ["姓名", "工号", "职务", "联系电话"], ["name", "staff_id", "role", "phone"], [],
    [["广场路1号", "G01", "网格员", "x"]], [0], formula=True, group=(0, 2, "基本信息"))  # fmt: skip
_TWO_ROW_HEADER_PASTED = Roster(  # the header repeated below (职务 in one row) was taken for the
    "staff", ["姓名", "工号", "职务"], ["name", "staff_id", "role"], [],  # header: record 1 lost
    [["广场路1号", "G01", None], ["姓名", "工号", "职务"], ["广场路2号", None, None]], [0, 2],
    group=(0, 1, "基本信息"))  # fmt: skip

_TWO_ROW_HEADER_BLANK_MERGED = Roster(  # a blank header merged down past calamine's last column:
    "staff", ["姓名", "工号", "职务", ""], ["name", "staff_id", "role", None], [],  # IndexError
    [], [], group=(0, 1, "基本信息"))  # fmt: skip


_FOUND_BY_FUZZING = [  # each roster and the formats ("format" or "format/encoding") it broke
    ("same header twice", _SAME_HEADER_TWICE, ["xlsx", "xls", "csv/gbk"]),
    ("merged over a blank row", _MERGED_OVER_A_BLANK_ROW, ["xlsx", "html"]),
    ("error cell beside a formula", _ERROR_CELL_BESIDE_A_FORMULA, ["xlsx"]),
    ("semicolons and a comma", _SEMICOLONS_AND_A_COMMA, ["csv"]),
    ("two-row header, openpyxl", _TWO_ROW_HEADER_OPENPYXL, ["xlsx"]),
    ("two-row header pasted twice", _TWO_ROW_HEADER_PASTED, ["xlsx", "xls", "html"]),
    ("blank header merged down", _TWO_ROW_HEADER_BLANK_MERGED, ["xlsx"]),
]


@_SETTINGS
@given(roster=rosters(), fmt=st.sampled_from(FORMATS), encoding=st.sampled_from(ENCODINGS))
def test_read_layer_reads_the_records_or_names_the_file(roster, fmt, encoding, tmp_path_factory):
    folder = tmp_path_factory.mktemp("roster")
    path = write(roster, folder, fmt, encoding)
    note(f"{fmt} {encoding}: {roster}")
    check_read(roster, path, fmt, encoding)


@pytest.mark.parametrize(
    ("roster", "fmt", "encoding"),
    [
        pytest.param(roster, *f"{given}/utf-8".split("/")[:2], id=f"{name}, {given}")
        for name, roster, formats in _FOUND_BY_FUZZING
        for given in formats
    ],
)
def test_what_fuzzing_found_reads(roster, fmt, encoding, tmp_path):
    """The rosters that broke a reader once (each fixed; see the roster's comment)."""
    check_read(roster, write(roster, tmp_path, fmt, encoding), fmt, encoding)


# --- through the command line ------------------------------------------------------------------

runner = CliRunner()
_STORED = {"household": "household", "building": "building", "person": "person", "staff": "staff"}


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(roster=rosters(), fmt=st.sampled_from(FORMATS),
       encoding=st.sampled_from(ENCODINGS))  # fmt: skip
def test_import_stores_the_roster_or_refuses_it_cleanly(
    roster, fmt, encoding, tmp_path_factory, _spatialite_stores
):
    if _spatialite_stores is None:
        pytest.skip("SpatiaLite is not available")
    folder = tmp_path_factory.mktemp("import")
    path = write(roster, folder, fmt, encoding)
    url = _spatialite_stores.new()
    db = Path(url.removeprefix("sqlite:///"))
    note(f"{fmt} {encoding}: {roster}")
    option = f"--{plural(roster.entity)}"
    res = runner.invoke(app, ["import", "--lang", "en", "--db", url, "--report-dir",
                              str(folder / "reports"), option, str(path)])  # fmt: skip
    event(f"{roster.entity}: exit code {res.exit_code}")
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    assert "Traceback" not in res.output
    assert res.exit_code in (0, 1), res.output
    stored = _count(db, _STORED[roster.entity])
    if res.exit_code == 1:
        assert path.name in res.output and stored == 0, res.output
    else:  # records the store cannot take (no id) are report lines, not stored
        assert stored <= len(roster.records), res.output


# --- two-row headers ---------------------------------------------------------------------------

_UPPER: list[object] = ["户号", "居住地址", None, None, "人数"]
_LOWER: list[object] = [None, "楼栋号", "单元", "房号", None]
_HOUSEHOLDS: list[list[object]] = [
    ["520602002001001", "B00001", "1", "101", 3],
    ["520602002001002", "B00001", "2", "0201", 2],
    ["520602002001003", "B00002", "1", "301", 4],
]


def _two_row_header_xlsx(path: Path, formula: bool) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    rows: list[list[object]] = [["碧江区广场社区住户花名册"], _UPPER, _LOWER, *_HOUSEHOLDS]
    for row in rows:
        sheet.append(row)
    for cells in ("A1:E1", "A2:A3", "B2:D2", "E2:E3"):
        sheet.merge_cells(cells)
    if formula:
        sheet["G4"] = "=1+2"
    book.save(path)
    return path


def _two_row_header_xls(path: Path) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("住户")
    sheet.write_merge(0, 0, 0, 4, "碧江区广场社区住户花名册")
    sheet.write_merge(1, 2, 0, 0, "户号")
    sheet.write_merge(1, 1, 1, 3, "居住地址")
    sheet.write_merge(1, 2, 4, 4, "人数")
    for j, header in enumerate(_LOWER):
        if header:
            sheet.write(2, j, header)
    for i, row in enumerate(_HOUSEHOLDS):
        for j, value in enumerate(row):
            sheet.write(3 + i, j, value)
    book.save(str(path))
    return path


def _two_row_header_html(path: Path) -> Path:
    rows = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in _HOUSEHOLDS)
    path.write_text(
        '<html><meta charset="utf-8"><table><tr><td colspan="5">碧江区广场社区住户花名册</td></tr>'
        '<tr><th rowspan="2">户号</th><th colspan="3">居住地址</th><th rowspan="2">人数</th></tr>'
        f"<tr><th>楼栋号</th><th>单元</th><th>房号</th></tr>{rows}</table></html>",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("kind", ["xlsx", "xlsx with a formula", "xls", "html"])
def test_a_two_row_header_names_every_column_and_is_no_record(kind, tmp_path):
    """户号 and 人数 merged down two header rows, 居住地址 merged across 楼栋号 单元 房号: the
    second header row was read as a record (户号 blank, 地址 "楼栋号"), 楼栋号 单元 房号 lost."""
    path = tmp_path / ("住户.xlsx" if kind.startswith("xlsx") else "住户.xls")
    if kind.startswith("xlsx"):
        _two_row_header_xlsx(path, formula=kind != "xlsx")
    elif kind == "xls":
        _two_row_header_xls(path)
    else:
        _two_row_header_html(path)
    frame = read_layer(path, "household")
    columns = ["household_id", "building_id", "unit", "room"]
    assert frame[columns].values.tolist() == [row[:4] for row in _HOUSEHOLDS]
    assert pd.to_numeric(frame["size"]).tolist() == [3, 2, 4]
    assert "address" not in frame.columns  # 居住地址 is the title of a group, no column
