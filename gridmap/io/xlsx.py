"""Read one XLSX sheet as rows of values: the used range only, formulas without values reported.

Every .xlsx is read by :func:`gridmap.io.xls.read_book` (python-calamine), with formulas or
without: a formula cell reads as the value saved with it (the 年龄 of ``=DATEDIF(…)``, the 户人数
of ``=COUNTIF(…)``), an error value (``#N/A`` of a lookup that found nothing) as empty. The
district's 398,508-household roster takes 6.4 s of CPU instead of openpyxl's 35.7 s; a
50,000-row roster with two formula columns (年龄, 户人数) 0.6 s instead of 7–10 s (openpyxl
opened it twice, for the values and for the formulas). openpyxl still says why a file that is
no zip cannot be read (as it always has), and gives :func:`sheet_names`.

Offices' workbooks carry formatting far beyond their data (whole rows styled up to column XFD,
16,384 columns): calamine gives the cells that hold values, and no column beyond the last
header is read. A formula cell without a saved value (a file written by a program that does
not calculate) reads as empty; such cells are found in the pass over the sheet's XML that
finds its hidden rows and columns (:func:`gridmap.io.hidden.sheet_cells`) and listed
(``formulas_unsaved``), so the office can open and save the file in Excel or WPS, or type the
values.

Merged cells (the 小区 or building of several rows of households) hold their value in their first
cell only; calamine gives the merged ranges and :func:`gridmap.io.sheets.sheet_table` fills them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from gridmap.io.notes import ReadNote
from gridmap.io.readerrors import read_error
from gridmap.io.sheets import SheetChoice
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

    ``find_header`` gets the text cells of the first ``HEADER_SEARCH_ROWS`` rows and returns
    the index of the header row. Formula cells without a saved value add a note to ``notes``
    (``formulas_unsaved``).

    Raises
    ------
    InputError
        The file is not a workbook or has no such sheet.
    """
    try:
        zipfile.ZipFile(path).close()
    except (OSError, zipfile.BadZipFile):  # no .xlsx: openpyxl says why, as it always has
        _open(path).close()
    return read_book(path, sheet, find_header, notes, formulas=True)


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, in order."""
    book = _open(path)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _open(path: Path) -> openpyxl.Workbook:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors of a broken workbook
        raise read_error("workbook_unreadable", file=path.name, detail=str(exc)) from exc
