"""Read one XLSX sheet as rows of values: the used range only, formulas without values reported.

Offices' workbooks carry formatting far beyond their data (whole rows styled up to column XFD,
16,384 columns): pandas asks openpyxl for the declared dimension and pads every row to it, which
takes minutes. :func:`read_sheet` reads in read-only mode, finds the header row among the first
rows, and reads no column beyond the last header. A formula cell without a saved value (a file
written by a program that does not calculate) reads as empty; such cells are listed so the
office can open and save the file in Excel or WPS, or type the values.

Offices merge cells down a column (the 小区 or building of several rows of households): a merged
range holds its value in its first cell only, and openpyxl and pandas read the cells below it as
blank. The sheet's merge definitions (``<mergeCell ref="B3:B7"/>``; read-only mode does not give
them) say which cells are merged: each data cell of a merged range takes the range's value, and
a note says how many ranges were filled. Blank cells that are not merged stay blank.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pandas as pd

from gridmap.io.notes import ReadNote
from gridmap.io.readerrors import read_error

if TYPE_CHECKING:  # openpyxl is imported when a workbook is read: reading GIS files never needs it
    import openpyxl

__all__ = ["HEADER_SEARCH_ROWS", "SheetChoice", "read_sheet", "sheet_names"]

HEADER_SEARCH_ROWS = 10
"""Rows searched for the header (a title line such as ``XX社区人口花名册`` may come first)."""


SheetChoice = Callable[[list[str], Callable[[str], list[list[str]]]], str | None]
"""Chooses a sheet from the names of the sheets shown, given a function that returns a sheet's
top rows (text cells)."""


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
    values_book = _open(path, data_only=True)
    formulas_book = None
    try:
        if callable(sheet):
            shown = [ws.title for ws in values_book.worksheets if ws.sheet_state == "visible"]
            sheet = sheet(shown or list(values_book.sheetnames), partial(_top_text, values_book))
        formulas_book = _open(path, data_only=False) if _has_formulas(path) else None
        values = _sheet(values_book, sheet, path)
        formulas = None if formulas_book is None else _sheet(formulas_book, sheet, path)
        head = [list(r) for r in values.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)]
        header_at = find_header([[c for c in r if isinstance(c, str)] for r in head])
        header = _trim(head[header_at]) if header_at < len(head) else []
        width = len(header)
        if not width:
            return _table([], [], sheet)
        start = header_at + 2  # 1-based row after the header
        rows, missing = _rows(
            values.iter_rows(min_row=start, max_col=width, values_only=True),
            None
            if formulas is None
            else formulas.iter_rows(min_row=start, max_col=width, values_only=True),
            width,
        )
        merged = _fill_merged(rows, _merged_ranges(path, values), start, width)
    finally:
        values_book.close()
        if formulas_book is not None:
            formulas_book.close()
    columns = [str(h).strip() if h is not None else f"column {i + 1}" for i, h in enumerate(header)]
    if missing:
        _note_formulas(path, columns, missing, notes)
    if merged:
        headers = [columns[c] for c in sorted({c for _, c in merged})]
        notes.append(ReadNote.of("merged_cells_filled", path.name, n=len(merged),
                                 headers=headers))  # fmt: skip
    return _table(rows, columns, sheet)


def _table(rows: list[list[object]], columns: list[str], sheet: str | None) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=columns, dtype=object) if columns else pd.DataFrame()
    table.attrs["sheet"] = sheet
    return table


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


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The start of an OLE compound file: an old .xls, or an .xlsx saved with a password."""
_ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")
_DIRECTORY_SECTORS = 4  # the first entries of the directory name the streams at the root


def _not_a_workbook(path: Path, exc: Exception) -> Exception:
    """Why ``path`` opens as no .xlsx: saved with a password (an OLE file whose directory names
    an ``EncryptionInfo`` stream), an old .xls renamed, or broken."""
    try:
        with path.open("rb") as file:
            head = file.read(512)
            if head.startswith(_OLE_MAGIC):
                sector = 1 << int.from_bytes(head[30:32], "little")
                file.seek((int.from_bytes(head[48:52], "little") + 1) * sector)
                directory = file.read(_DIRECTORY_SECTORS * sector)
                code = "workbook_encrypted" if _ENCRYPTED_STREAM in directory else "old_xls"
                return read_error(code, file=path.name)
    except (OSError, ValueError, OverflowError):
        pass
    return read_error("workbook_unreadable", file=path.name, detail=str(exc))


def _top_text(book: openpyxl.Workbook, sheet: str) -> list[list[str]]:
    """The text cells of the first :data:`HEADER_SEARCH_ROWS` rows of ``sheet``."""
    rows = book[sheet].iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)
    return [[c for c in row if isinstance(c, str)] for row in rows]


def _sheet(book: openpyxl.Workbook, sheet: str | None, path: Path):
    if sheet is None:  # the first sheet shown: a hidden one holds old data or lookup lists
        ws = next((w for w in book.worksheets if w.sheet_state == "visible"), book.worksheets[0])
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


_MERGE_TAG = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Za-z]+[0-9]+(?::[A-Za-z]+[0-9]+)?)"')
_CHUNK = 1 << 20


def _merged_ranges(path: Path, sheet: object) -> list[tuple[int, int, int, int]]:
    """The merged ranges of ``sheet`` (read-only) as (min_col, min_row, max_col, max_row),
    1-based, from its XML (read in chunks: a roster's sheet may be large)."""
    part = getattr(sheet, "_worksheet_path", None)
    if not isinstance(part, str):
        return []
    from openpyxl.utils.cell import range_boundaries

    ranges: list[tuple[int, int, int, int]] = []
    try:
        with zipfile.ZipFile(path) as archive, archive.open(part.lstrip("/")) as xml:
            tail = b""
            while chunk := xml.read(_CHUNK):
                text = tail + chunk
                last = 0
                for found in _MERGE_TAG.finditer(text):
                    bounds = range_boundaries(found.group(1).decode("ascii").upper())
                    if None not in bounds:
                        ranges.append(cast("tuple[int, int, int, int]", bounds))
                    last = found.end()
                tail = text[max(last, len(text) - 512) :]  # a tag cut by the chunk's end
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return []
    return list(dict.fromkeys(ranges))


def _fill_merged(
    rows: list[list[object]], ranges: list[tuple[int, int, int, int]], start: int, width: int
) -> list[tuple[int, int]]:
    """Give every blank cell of a merged range of the data rows the range's value (that of its
    first cell); (first data row, column) of each range filled. Ranges reaching into the header
    or the rows above it (a title) are left alone."""
    filled: list[tuple[int, int]] = []
    for min_col, min_row, max_col, max_row in sorted(ranges, key=lambda r: (r[1], r[0])):
        top = min_row - start
        if top < 0 or top >= len(rows) or min_col > width:
            continue
        value = rows[top][min_col - 1]
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        changed = False
        for row in rows[top : max_row - start + 1]:
            for col in range(min_col - 1, min(max_col, width)):
                if row[col] is None:
                    row[col] = value
                    changed = True
        if changed:
            filled.append((top + 1, min_col - 1))
    return filled


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
