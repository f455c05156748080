"""Tables that web systems export as "xls" but write as markup: an HTML page of ``<table>``
elements (what Excel also reads), or an Excel 2003 XML Spreadsheet (``<?xml …?><?mso-
application progid="Excel.Sheet"?><Workbook …>``). Parsed with the standard library
(:mod:`html.parser`, :mod:`xml.etree.ElementTree`): pandas' ``read_html`` would need lxml or
html5lib for no more than this, and cannot say which cells are merged.

Each table (or worksheet) is a :class:`Grid`: its rows of cells (``None`` for a blank cell) and
its merged ranges (HTML ``rowspan``/``colspan``, XML ``ss:MergeDown``/``ss:MergeAcross``), which
:func:`gridmap.io.sheets.sheet_table` fills as in a workbook. HTML cells are text, as in a CSV;
an XML cell has its type (``Number``, ``DateTime``, ``Boolean``, ``String``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from gridmap.io.notes import ReadNote
from gridmap.io.readerrors import read_error
from gridmap.io.sheets import (
    HEADER_SEARCH_ROWS,
    MergedRange,
    SheetChoice,
    table_under_header,
    text_cells,
)

__all__ = ["Grid", "is_spreadsheet_xml", "markup_grids", "read_markup"]


class Grid(NamedTuple):
    """A table's rows (from its first, blank cells ``None``), merged ranges, and whether its
    sheet is hidden."""

    rows: list[list[object]]
    ranges: list[MergedRange]
    hidden: bool = False


_SPREADSHEET_NS = "urn:schemas-microsoft-com:office:spreadsheet"
_EXCEL_NS = "urn:schemas-microsoft-com:office:excel"


def is_spreadsheet_xml(text: str) -> bool:
    """True for an Excel 2003 XML Spreadsheet (its ``Workbook`` in the spreadsheet namespace)."""
    return text.lstrip("\ufeff \t\r\n").startswith("<?xml") and _SPREADSHEET_NS in text[:4096]


def read_markup(
    path: Path,
    text: str,
    sheet: str | SheetChoice | None,
    find_header: Callable[[list[list[str]]], int],
    notes: list[ReadNote],
) -> pd.DataFrame:
    """The table of ``sheet`` of the markup ``text`` of ``path`` (a table or worksheet name, a
    :data:`SheetChoice`, or ``None`` for the first shown), as a workbook's is read.

    Raises
    ------
    InputError
        No such sheet, or XML that does not parse (``workbook_unreadable``).
    """
    try:
        grids = markup_grids(text)
    except ElementTree.ParseError as exc:
        raise read_error("workbook_unreadable", file=path.name, detail=str(exc)) from exc
    shown = [name for name, grid in grids.items() if not grid.hidden] or list(grids)
    if callable(sheet):
        sheet = sheet(shown, lambda name: text_cells(grids[name].rows[:HEADER_SEARCH_ROWS]))
    if sheet is not None and sheet not in grids:
        raise read_error("no_sheet", file=path.name, sheet=sheet, sheets=list(grids))
    grid = grids[sheet if sheet is not None else shown[0]] if grids else Grid([], [])
    return table_under_header(path, grid.rows, grid.ranges, find_header, sheet, notes)


def markup_grids(text: str) -> dict[str, Grid]:
    """Sheet name → :class:`Grid` of an HTML page (tables named ``表1``, ``表2`` … in document
    order, nested ones included) or an Excel 2003 XML Spreadsheet (its worksheets' names).

    Raises
    ------
    ValueError
        XML that does not parse.
    """
    if is_spreadsheet_xml(text):
        return _spreadsheet_xml(text)
    parser = _HTMLTables()
    parser.feed(text)
    parser.close()
    return {f"表{i + 1}": table.grid() for i, table in enumerate(parser.tables)}


class _Layout:
    """Cells placed as a browser places them: each in the first column of its row not taken by
    a ``rowspan`` from above."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], object] = {}
        self.ranges: list[MergedRange] = []
        self.row = -1

    def place(self, value: object, col: int | None, across: int, down: int) -> int:
        """Put ``value`` in the current row at ``col`` (0-based; default the first free one)
        spanning ``across`` × ``down`` cells; the column after it."""
        if col is None:
            col = 0
            while (self.row, col) in self.cells:
                col += 1
        for r in range(self.row, self.row + down):
            for c in range(col, col + across):
                self.cells[(r, c)] = None
        self.cells[(self.row, col)] = value
        if across > 1 or down > 1:
            self.ranges.append((col + 1, self.row + 1, col + across, self.row + down))
        return col + across

    def grid(self, hidden: bool = False) -> Grid:
        height = max((r for r, _ in self.cells), default=-1) + 1
        width = max((c for _, c in self.cells), default=-1) + 1
        rows: list[list[object]] = [[None] * width for _ in range(max(height, self.row + 1))]
        for (r, c), value in self.cells.items():
            rows[r][c] = value
        return Grid(rows, self.ranges, hidden)


_SPACES = re.compile(r"\s+")


class _HTMLTables(HTMLParser):
    """The ``<table>`` elements of a page, each a :class:`_Layout`; a cell's text is its text
    with runs of white space (``&nbsp;`` too) made one space, ``<br>`` a line break."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[_Layout] = []
        self._open: list[_Layout] = []
        self._cell: tuple[list[str], int, int] | None = None  # text, colspan, rowspan

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._close_cell()
            self._open.append(_Layout())
            self.tables.append(self._open[-1])
        elif not self._open:
            return
        elif tag == "tr":
            self._close_cell()
            self._open[-1].row += 1
        elif tag in ("td", "th"):
            self._close_cell()
            if self._open[-1].row < 0:  # a cell before any <tr>
                self._open[-1].row = 0
            spans = dict(attrs)
            self._cell = ([], _span(spans.get("colspan")), _span(spans.get("rowspan")))
        elif tag == "br" and self._cell is not None:
            self._cell[0].append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "tr"):
            self._close_cell()
        elif tag == "table" and self._open:
            self._close_cell()
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[0].append(data)

    def _close_cell(self) -> None:
        if self._cell is None or not self._open:
            return
        parts, across, down = self._cell
        self._cell = None
        lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
        text = "\n".join(line for line in lines if line)
        self._open[-1].place(text or None, None, across, down)


_MAX_SPAN = 1000


def _span(value: str | None) -> int:
    """A ``colspan``/``rowspan`` as browsers read it: 1 unless a positive number (capped)."""
    digits = re.match(r"\s*([0-9]+)", value or "")
    return min(max(int(digits.group(1)), 1), _MAX_SPAN) if digits else 1


def _spreadsheet_xml(text: str) -> dict[str, Grid]:
    ss, x = f"{{{_SPREADSHEET_NS}}}", f"{{{_EXCEL_NS}}}"
    root = ElementTree.fromstring(text.lstrip("\ufeff \t\r\n"))  # str: its declared encoding unused
    sheets: dict[str, Grid] = {}
    for i, sheet in enumerate(root.iter(f"{ss}Worksheet")):
        layout = _Layout()
        for row in sheet.iter(f"{ss}Row"):
            layout.row = _index(row, ss, layout.row + 1)
            col = 0
            for cell in row.iter(f"{ss}Cell"):
                col = _index(cell, ss, col)
                data = cell.find(f"{ss}Data")
                across = int(cell.get(f"{ss}MergeAcross", "0")) + 1
                down = int(cell.get(f"{ss}MergeDown", "0")) + 1
                col = layout.place(_xml_value(data, ss), col, across, down)
        visible = sheet.findtext(f"{x}WorksheetOptions/{x}Visible", "")
        hidden = visible in ("SheetHidden", "SheetVeryHidden")
        sheets[sheet.get(f"{ss}Name") or f"Sheet{i + 1}"] = layout.grid(hidden)
    return sheets


def _index(element: ElementTree.Element, ss: str, default: int) -> int:
    """The 0-based place an ``ss:Index`` (1-based) gives a row or cell, else ``default``."""
    index = element.get(f"{ss}Index")
    return int(index) - 1 if index else default


def _xml_value(data: ElementTree.Element | None, ss: str) -> object:
    """A cell's value by its ``ss:Type``: numbers, dates, booleans; text stripped, blank None."""
    if data is None:
        return None
    value = "".join(data.itertext()).strip()
    kind = data.get(f"{ss}Type")
    if not value:
        return None
    if kind == "Number":
        number = float(value)
        return int(value) if re.fullmatch(r"-?[0-9]+", value) else number
    if kind == "DateTime":
        return datetime.fromisoformat(value[:19])
    if kind == "Boolean":
        return value == "1"
    return value
