"""Read workbooks with python-calamine: .xlsx (for :mod:`gridmap.io.xlsx`) and those offices
keep besides, Excel 97-2003 ``.xls`` (BIFF8 in an OLE compound file, also what WPS saves as
"xls"), ``.xlsb`` and OpenDocument ``.ods``; and tell by its content what a file named like a
workbook really is.

Web systems export "xls" files that are an HTML table, an Excel 2003 XML Spreadsheet or tab-
separated text; an .xlsx renamed .xls (or the reverse) is common too. :func:`workbook_content`
looks at the first bytes: an OLE compound file or a zip is a workbook (read by calamine),
markup is read by :mod:`gridmap.io.markup`, anything else as text
(:func:`gridmap.io.tables.read_table`); a ``workbook_content`` note says what a file really
was when its name says otherwise.

A BIFF file stores every number as a float: whole numbers are given back as ``int`` (a 户号 such
as 520602002001001 stays exact and is never written as ``5.20602002001001e+14``), text cells
keep their leading zeros, blank cells are ``None`` and date cells ``datetime``, as openpyxl
gives them. Merged ranges are filled as in .xlsx
(:func:`gridmap.io.sheets.sheet_table`; calamine gives them for .xls and .xlsx, not for .ods).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from gridmap.io.hidden import sheet_cells
from gridmap.io.notes import ReadNote
from gridmap.io.readerrors import read_error
from gridmap.io.sheets import (
    HEADER_SEARCH_ROWS,
    MergedRange,
    SheetChoice,
    table_under_header,
    text_cells,
)

if TYPE_CHECKING:  # imported when a workbook is read: reading GIS files never needs it
    from python_calamine import CalamineSheet, CalamineWorkbook

__all__ = [
    "KIND_SUFFIXES",
    "WORKBOOK_SUFFIXES",
    "Content",
    "read_book",
    "workbook_content",
    "workbook_kind",
]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
"""Files read as workbooks (or as what their content shows them to be)."""

Content = Literal["ole", "zip", "markup", "text"]
"""What a file holds: an OLE compound file (.xls, .xlsb saved with a password …), a zip (.xlsx,
.xlsb, .ods), HTML or XML, or other text."""

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be", b"\xef\xbb\xbf": "utf-8"}
_SNIFF_BYTES = 1024
_EXACT_FLOAT_LIMIT = 2**53
"""Whole floats below this are exact integers: given back as ``int``."""


def workbook_content(path: Path) -> Content:
    """What ``path`` holds, by its first bytes (:data:`Content`)."""
    with path.open("rb") as file:
        head = file.read(_SNIFF_BYTES)
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    encoding = next((e for bom, e in _BOMS.items() if head.startswith(bom)), "latin-1")
    text = head.decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n")
    return "markup" if text.startswith("<") else "text"


KIND_SUFFIXES = {"xls": (".xls",), "xlsx": (".xlsx", ".xlsm"), "xlsb": (".xlsb",),
                 "ods": (".ods",)}  # fmt: skip
"""The suffixes a workbook of each kind (:func:`workbook_kind`) is named with."""


def workbook_kind(path: Path, content: Content) -> str:
    """What a workbook is, by its content: ``xls`` (OLE), ``ods``, ``xlsb`` or ``xlsx`` (zip)."""
    if content != "zip":
        return "xls"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return "xlsx"
    return "ods" if "content.xml" in names else "xlsb" if "xl/workbook.bin" in names else "xlsx"


_ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")


def _encrypted_package(path: Path) -> bool:
    """True for an OLE file naming an ``EncryptionInfo`` stream: an .xlsx or .xlsb saved with a
    password (asked only of a file calamine could not open)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return data.startswith(_OLE_MAGIC) and _ENCRYPTED_STREAM in data


def read_book(
    path: Path,
    sheet: str | SheetChoice | None,
    find_header: Callable[[list[list[str]]], int],
    notes: list[ReadNote],
    *,
    formulas: bool = False,
    kind: str | None = None,
) -> pd.DataFrame:
    """The table of ``sheet`` of a workbook: an .xlsx (:func:`gridmap.io.xlsx.read_sheet`), or
    an .xls, .xlsb or .ods (or an .xlsx under another name); ``sheet`` a name, a
    :data:`SheetChoice` or ``None`` (the first sheet shown). A formula cell reads as its saved
    value; with ``formulas``, those of an .xlsx without one are said (``formulas_unsaved``).
    ``kind`` is what :func:`workbook_kind` says of it, when the caller knows already.

    Raises
    ------
    InputError
        The workbook has a password (``workbook_encrypted``), is broken
        (``workbook_unreadable``) or has no such sheet.
    """
    import python_calamine as calamine

    kind = kind or workbook_kind(path, workbook_content(path))
    try:
        book = _open(path, kind)
        with book:
            if callable(sheet):
                sheet = sheet(_shown(book), partial(_top_text, book))
            found = _sheet(book, sheet, path)
            rows = [_cells(row) for row in found.to_python(skip_empty_area=False)]
            ranges: list[MergedRange] = [(c0 + 1, r0 + 1, c1 + 1, r1 + 1) for (r0, c0), (r1, c1)
                                         in found.merged_cell_ranges or []]  # fmt: skip
            name = found.name
    except calamine.PasswordError:
        raise read_error("workbook_encrypted", file=path.name) from None
    except calamine.CalamineError as exc:
        if _encrypted_package(path):
            raise read_error("workbook_encrypted", file=path.name) from None
        raise read_error("workbook_unreadable", file=path.name, detail=str(exc)) from exc
    if kind != "xlsx":  # what .xls, .xlsb and .ods hide calamine does not say
        return table_under_header(path, rows, ranges, find_header, sheet, notes)
    cells = sheet_cells(path, name, formulas=formulas)
    return table_under_header(path, rows, ranges, find_header, sheet, notes, *cells)


def _open(path: Path, kind: str) -> CalamineWorkbook:
    """``path`` opened by its suffix (calamine's errors then say what is wrong, a password
    too), or by its content (``kind``) when it is named as another kind of workbook."""
    from python_calamine import CalamineWorkbook

    if path.suffix.lower() in KIND_SUFFIXES[kind]:
        return CalamineWorkbook.from_path(path)
    with path.open("rb") as file:
        return CalamineWorkbook.from_filelike(file)


def _shown(book: CalamineWorkbook) -> list[str]:
    """The names of the worksheets shown (hidden ones hold old data or lookup lists); all
    sheets if none is."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    shown = [
        m.name
        for m in book.sheets_metadata
        if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet
    ]
    return shown or list(book.sheet_names)


def _top_text(book: CalamineWorkbook, sheet: str) -> list[list[str]]:
    """The text cells of the first :data:`HEADER_SEARCH_ROWS` rows of ``sheet``."""
    rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS)
    return text_cells([_cells(row) for row in rows])


def _sheet(book: CalamineWorkbook, sheet: str | None, path: Path) -> CalamineSheet:
    if sheet is None:
        return book.get_sheet_by_name(_shown(book)[0])
    if sheet not in book.sheet_names:
        raise read_error("no_sheet", file=path.name, sheet=sheet, sheets=list(book.sheet_names))
    return book.get_sheet_by_name(sheet)


def _cells(row: Sequence[object]) -> list[object]:
    """A row as openpyxl gives it: blank cells ``None``, whole numbers ``int``, dates as
    ``datetime``."""
    return [_cell(v) if isinstance(v, float | str | date) else v for v in row]


def _cell(value: float | str | date) -> object:
    if isinstance(value, float):
        exact = value.is_integer() and abs(value) < _EXACT_FLOAT_LIMIT
        return int(value) if exact else value
    if isinstance(value, str):
        return value or None
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
