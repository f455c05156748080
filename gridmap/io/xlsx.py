"""Read one XLSX sheet as rows of values: the used range only, formulas without values reported.

A workbook without formulas is read by :func:`gridmap.io.xls.read_book` (python-calamine): the
same table (merged ranges, hidden sheets, dates, numbers alike; the district's 398,508-household
roster in 6.4 s of CPU instead of 35.7 s). One with formulas is read by openpyxl, as below: it
alone tells a formula cell whose value was never saved.

Offices' workbooks carry formatting far beyond their data (whole rows styled up to column XFD,
16,384 columns): pandas asks openpyxl for the declared dimension and pads every row to it, which
takes minutes. :func:`read_sheet` reads in read-only mode, finds the header row among the first
rows, and reads no column beyond the last header. A formula cell without a saved value (a file
written by a program that does not calculate) reads as empty; such cells are listed so the
office can open and save the file in Excel or WPS, or type the values. An error value (``#N/A``
of a lookup that found nothing) reads as empty, as calamine reads it.

Merged cells (the 小区 or building of several rows of households) hold their value in their first
cell only, and openpyxl and pandas read the cells below it as blank. The sheet's merge
definitions (``<mergeCell ref="B3:B7"/>``; read-only mode does not give them) say which cells
are merged (:func:`gridmap.io.hidden.sheet_xml`, in the pass that finds the hidden rows and
columns); :func:`gridmap.io.sheets.sheet_table` fills them.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from gridmap.io.hidden import SheetXml, hidden_cells, sheet_xml
from gridmap.io.notes import ReadNote
from gridmap.io.readerrors import read_error
from gridmap.io.sheets import (
    HEADER_SEARCH_ROWS,
    SheetChoice,
    column_names,
    header_cells,
    search_rows,
    sheet_table,
    text_cells,
)
from gridmap.io.xls import read_book

if TYPE_CHECKING:  # openpyxl is imported when a workbook is read: reading GIS files never needs it
    import openpyxl

__all__ = ["read_sheet", "sheet_names"]


def read_sheet(
    path: Path,
    sheet: str | SheetChoice | None,
    find_header: Callable[[list[list[str]]], int],
    notes: list[ReadNote],
) -> pd.DataFrame:
    """The table of ``sheet`` (default the first) under the header row ``find_header`` picks.

    ``sheet`` may be a function choosing it from the names of the sheets shown (hidden ones
    are left out) and their top rows (:data:`SheetChoice`; the workbook is opened once for
    all); the sheet read, or ``None`` for the default (the first sheet shown), is
    ``attrs["sheet"]``.

    ``find_header`` gets the text cells of the first :data:`HEADER_SEARCH_ROWS` rows and returns
    the index of the header row. Formula cells without a saved value add a note to ``notes``
    (``formulas_unsaved``).

    Raises
    ------
    InputError
        The file is not a workbook or has no such sheet.
    """
    has_formulas = _has_formulas(path)
    if has_formulas is False:  # the same table as below, for a fifth of the CPU
        return read_book(path, sheet, find_header, notes)
    values_book = _open(path, data_only=True)
    formulas_book = None
    try:
        if callable(sheet):
            shown = [ws.title for ws in values_book.worksheets if ws.sheet_state == "visible"]
            sheet = sheet(shown or list(values_book.sheetnames), partial(_top_text, values_book))
        formulas_book = _open(path, data_only=False) if has_formulas else None
        values = _sheet(values_book, sheet, path)
        formulas = None if formulas_book is None else _sheet(formulas_book, sheet, path)
        head = [list(r) for r in values.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)]
        scanned = _sheet_xml(path, getattr(values, "_worksheet_path", None), values.title)
        ranges = scanned.merged
        header_at = find_header(text_cells(search_rows(head, ranges)))
        header, first = header_cells(head, header_at, ranges, find_header, (path, notes))
        width = len(header)
        if not width:
            return sheet_table(path, [], [], [], 0, sheet, notes)
        start = first + 1  # 1-based row after the header
        hidden = scanned.hidden
        rows, missing = _rows(
            _values(values.iter_rows(min_row=start, max_col=width)),
            None
            if formulas is None
            else formulas.iter_rows(min_row=start, max_col=width, values_only=True),
            width,
        )
    finally:
        values_book.close()
        if formulas_book is not None:
            formulas_book.close()
    if missing:
        _note_formulas(path, column_names(header), missing, notes)
    return sheet_table(path, header, rows, ranges, start, sheet, notes, hidden)


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, in order."""
    book = _open(path, data_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _open(path: Path, *, data_only: bool) -> openpyxl.Workbook:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # zipfile, XML and openpyxl errors of a broken workbook
        raise _not_a_workbook(path, exc) from exc


def _not_a_workbook(path: Path, exc: Exception) -> Exception:
    """Why ``path`` opens as no .xlsx (an OLE file, .xls or with a password, is read by
    :func:`gridmap.io.xls.read_book` instead)."""
    return read_error("workbook_unreadable", file=path.name, detail=str(exc))


def _top_text(book: openpyxl.Workbook, sheet: str) -> list[list[str]]:
    """The text cells of the first :data:`HEADER_SEARCH_ROWS` rows of ``sheet``."""
    return text_cells(list(book[sheet].iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)))


def _sheet(book: openpyxl.Workbook, sheet: str | None, path: Path):
    if sheet is None:  # the first sheet shown: a hidden one holds old data or lookup lists
        ws = next((w for w in book.worksheets if w.sheet_state == "visible"), book.worksheets[0])
    elif sheet in book.sheetnames:
        ws = book[sheet]
    else:
        raise read_error("no_sheet", file=path.name, sheet=sheet, sheets=list(book.sheetnames))
    ws.reset_dimensions()  # the declared dimension (A1:XFD…) is not the data's
    return ws


def _has_formulas(path: Path) -> bool | None:
    """True if some worksheet of the workbook holds a formula (a second, slower pass is due);
    ``None`` if the file is no zip (openpyxl says why)."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
            return any(_FORMULA_TAG.search(archive.read(n)) for n in sheets)
    except (OSError, zipfile.BadZipFile):
        return None


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")


def _rows(
    values: Iterator[tuple], formulas: Iterator[tuple] | None, width: int
) -> tuple[list[list[object]], list[tuple[int, int]]]:
    """Rows padded to ``width``; (data row, column) of formulas whose value was not saved."""
    rows, missing = [], []
    sources = formulas if formulas is not None else itertools.repeat(())
    for i, (row, source) in enumerate(zip(values, sources, strict=False)):
        cells = list(row) + [None] * (width - len(row))
        for j, cell in enumerate(cells):
            if cell is None and j < len(source) and _is_formula(source[j]):
                missing.append((i + 1, j))
        rows.append(cells)
    return rows, missing


def _values(rows: Iterator[tuple]) -> Iterator[tuple]:
    """The values of rows of cells, an error (``#N/A``, ``#DIV/0!``: a formula that failed)
    blank, as calamine reads it: no 楼栋编号 ``#N/A`` of a lookup that found nothing."""
    for row in rows:
        yield tuple(None if cell.data_type == "e" else cell.value for cell in row)


def _sheet_xml(path: Path, part: object, title: str) -> SheetXml:
    """The merged ranges and hidden cells of the sheet ``title`` in one pass over its XML
    (:func:`gridmap.io.hidden.sheet_xml`), the ``part`` openpyxl read it from (a read-only
    worksheet's ``_worksheet_path``); without one, no merges, and the part found by name."""
    if not isinstance(part, str):
        return SheetXml([], hidden_cells(path, title))
    return sheet_xml(path, part)


def _is_formula(value: object) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("=")
        or type(value).__name__
        in (
            "ArrayFormula",
            "DataTableFormula",
        )
    )


def _note_formulas(
    path: Path, columns: list[str], missing: list[tuple[int, int]], notes: list[ReadNote]
) -> None:
    rows = sorted({r for r, _ in missing})
    headers = sorted({columns[c] for _, c in missing}, key=columns.index)
    notes.append(ReadNote.of("formulas_unsaved", path.name, n=len(missing), headers=headers,
                             rows=rows[:_ROWS_SHOWN], n_rows=len(rows)))  # fmt: skip


_ROWS_SHOWN = 10
