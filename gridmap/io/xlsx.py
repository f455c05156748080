"""Read one XLSX sheet as rows of values: the used range only, formulas without values reported.

Offices' workbooks carry formatting far beyond their data (whole rows styled up to column XFD,
16,384 columns): pandas asks openpyxl for the declared dimension and pads every row to it, which
takes minutes. :func:`read_sheet` reads in read-only mode, finds the header row among the first
rows, and reads no column beyond the last header. A formula cell without a saved value (a file
written by a program that does not calculate) reads as empty; such cells are listed so the
office can open and save the file in Excel or WPS, or type the values.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pandas as pd

from gridmap.io.notes import ReadNote
from gridmap.io.readerrors import read_error

__all__ = ["HEADER_SEARCH_ROWS", "read_sheet", "sheet_names"]

HEADER_SEARCH_ROWS = 10
"""Rows searched for the header (a title line such as ``XX社区人口花名册`` may come first)."""


def read_sheet(
    path: Path,
    sheet: str | None,
    find_header: Callable[[list[list[str]]], int],
    notes: list[ReadNote],
) -> pd.DataFrame:
    """The table of ``sheet`` (default the first) under the header row ``find_header`` picks.

    ``find_header`` gets the text cells of the first :data:`HEADER_SEARCH_ROWS` rows and returns
    the index of the header row. Formula cells without a saved value add a note to ``notes``
    (``formulas_unsaved``).

    Raises
    ------
    InputError
        The file is not a workbook or has no such sheet.
    """
    values_book = _open(path, data_only=True)
    formulas_book = _open(path, data_only=False) if _has_formulas(path) else None
    try:
        values = _sheet(values_book, sheet, path)
        formulas = None if formulas_book is None else _sheet(formulas_book, sheet, path)
        head = [list(r) for r in values.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)]
        header_at = find_header([[c for c in r if isinstance(c, str)] for r in head])
        header = _trim(head[header_at]) if header_at < len(head) else []
        width = len(header)
        if not width:
            return pd.DataFrame()
        start = header_at + 2  # 1-based row after the header
        rows, missing = _rows(
            values.iter_rows(min_row=start, max_col=width, values_only=True),
            None
            if formulas is None
            else formulas.iter_rows(min_row=start, max_col=width, values_only=True),
            width,
        )
    finally:
        values_book.close()
        if formulas_book is not None:
            formulas_book.close()
    columns = [str(h).strip() if h is not None else f"column {i + 1}" for i, h in enumerate(header)]
    if missing:
        _note_formulas(path, columns, missing, notes)
    return pd.DataFrame(rows, columns=columns, dtype=object)


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, in order."""
    book = _open(path, data_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _open(path: Path, *, data_only: bool) -> openpyxl.Workbook:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # zipfile, XML and openpyxl errors of a broken workbook
        raise read_error("workbook_unreadable", file=path.name, detail=str(exc)) from exc


def _sheet(book: openpyxl.Workbook, sheet: str | None, path: Path):
    if sheet is None:
        ws = book.worksheets[0]
    elif sheet in book.sheetnames:
        ws = book[sheet]
    else:
        raise read_error("no_sheet", file=path.name, sheet=sheet, sheets=list(book.sheetnames))
    ws.reset_dimensions()  # the declared dimension (A1:XFD…) is not the data's
    return ws


def _trim(row: list[object]) -> list[object]:
    """``row`` without its trailing empty cells."""
    end = len(row)
    while end and (row[end - 1] is None or str(row[end - 1]).strip() == ""):
        end -= 1
    return row[:end]


def _has_formulas(path: Path) -> bool:
    """True if some worksheet of the workbook holds a formula (a second, slower pass is due)."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
            return any(_FORMULA_TAG.search(archive.read(n)) for n in sheets)
    except (OSError, zipfile.BadZipFile):
        return False


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
