"""Reading CSV and spreadsheet tables as offices save them: encoding and separator, the header
row under a title, and rows that are no record (totals, lines under the table, a header
repeated where two exports were pasted together). Used by :func:`gridmap.io.layers.read_layer`."""

from __future__ import annotations

import csv
import itertools
import logging
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from io import BytesIO, StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from gridmap.errors import InputError
from gridmap.io.encodings import decode_text
from gridmap.io.headers import (
    normalise_header,
    resolve_headers,
)
from gridmap.io.markup import is_spreadsheet_xml, read_markup
from gridmap.io.notes import (
    ROWS_SHOWN,
    ReadNote,
    note_rows,
)
from gridmap.io.readerrors import read_error
from gridmap.io.sheets import (
    HEADER_SEARCH_ROWS,
    MISSING_VALUES,
    SheetChoice,
    distinct_names,
    two_row_header,
)
from gridmap.io.xls import (
    KIND_SUFFIXES,
    WORKBOOK_SUFFIXES,
    read_book,
    workbook_content,
    workbook_kind,
)
from gridmap.io.xlsx import read_sheet
from gridmap.schema import Entity

__all__ = ["read_table", "find_header_row", "header_hits"]

logger = logging.getLogger(__name__)


def read_table(
    path: Path,
    layer: str | SheetChoice | None,
    find_header: Callable[[list[list[str]]], int],
    encoding: str | None,
    notes: list[ReadNote],
) -> tuple[pd.DataFrame, str | None]:
    """A CSV, TSV or workbook sheet as text columns, its header row found by ``find_header``
    among the top rows; and the text encoding used. ``layer`` is the sheet, or a function
    choosing it from the sheet names (:func:`gridmap.io.xlsx.read_sheet`).

    A file named as a workbook (:data:`~gridmap.io.xls.WORKBOOK_SUFFIXES`) is read as what its
    content is (:func:`~gridmap.io.xls.workbook_content`): .xlsx by openpyxl, .xls, .xlsb and
    .ods by calamine, HTML and XML tables (web systems' "xls") by :mod:`gridmap.io.markup`,
    text as CSV; a ``workbook_content`` note says what it was when its name says otherwise."""
    used = None
    suffix = path.suffix.lower()
    try:
        content = workbook_content(path) if suffix in WORKBOOK_SUFFIXES else "text"
        kind = workbook_kind(path, content) if content in ("ole", "zip") else None
        xlsx = suffix in (".xlsx", ".xlsm")
        if xlsx and kind in ("xlsx", None) and content != "markup":  # else openpyxl says why
            table = read_sheet(path, layer, find_header, notes)
        elif kind is not None:
            _note_content(path, kind, notes)
            table = read_book(path, layer, find_header, notes, kind=kind)
        else:
            text, used = decode_text(path, encoding)
            if used != "UTF-8":
                code = "encoding_given" if encoding else "encoding_not_utf8"
                notes.append(ReadNote.of(code, path.name, encoding=used))
            xml = is_spreadsheet_xml(text)
            if content == "markup" and (xml or _HTML_TABLE.search(text)):
                _note_content(path, "xml" if xml else "html", notes)
                table = read_markup(path, text, layer, find_header, notes)
            else:
                table = _read_text(path, text, find_header, notes)
    except InputError:  # said already (the text's encoding, a missing sheet)
        raise
    except _RowsTooLong as long:
        raise read_error("rows_too_long", file=path.name, **long.values) from None
    except (ValueError, OSError, csv.Error, pd.errors.ParserError) as exc:
        raise read_error("table_unreadable", file=path.name, detail=str(exc)) from exc
    table.columns = [str(c).strip() for c in table.columns]
    return _leave_out_non_records(table, path, notes), used


def _read_text(
    path: Path, text: str, find_header: Callable[[list[list[str]]], int], notes: list[ReadNote]
) -> pd.DataFrame:
    """A CSV or TSV text (or a workbook's name given to one) under its header row, or its two
    header rows (a workbook's two-row header saved as CSV: :func:`~gridmap.io.sheets.
    two_row_header`), the cells of :data:`~gridmap.io.sheets.MISSING_VALUES` blank."""
    sep = "\t" if path.suffix.lower() == ".tsv" else _separator(text)
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        _note_content(path, _SEPARATOR_WORDS[sep], notes)
    rows = list(itertools.islice(csv.reader(StringIO(text), delimiter=sep), HEADER_SEARCH_ROWS))
    header_at = find_header(rows)
    two = two_row_header(rows, header_at, find_header, (path, notes))
    header: list[object] = list(rows[header_at]) if header_at < len(rows) else []
    if two is not None:  # pandas reads the lower row as the header; the names are both rows'
        header_at, width = two[1] - 1, len(rows[two[1] - 1])
        header = [*two[0], *[""] * width][:width]
    table = _read_csv_text(text, sep, header_at)
    if len(header) == len(table.columns):  # a header written twice: both kept, not ``地址.1``
        named = [str(h).strip() or str(c) for h, c in zip(header, table.columns, strict=True)]
        table.columns = distinct_names(named)
    return table


_HTML_TABLE = re.compile(r"<table[\s>]", re.IGNORECASE)
"""A table in markup; a text starting with ``<`` that holds none is read as CSV text."""
_SEPARATOR_WORDS = {"\t": "tab", ",": "comma", ";": "semicolon"}


def _note_content(path: Path, kind: str, notes: list[ReadNote]) -> None:
    """Say what ``path`` really is when its name says another kind of file."""
    if path.suffix.lower() not in KIND_SUFFIXES.get(kind, ()):
        notes.append(ReadNote.of("workbook_content", path.name, kind=kind))


_LEAD_COLUMNS = 4
_ARROW_TEXT = pd.StringDtype("pyarrow")  # vectorised text functions: no Python call per cell
"""A total or a footnote is written in one of the first cells of its row."""
_TOTAL_ROW = re.compile(
    r"(?:本页|本表|全部|全社区|全小区|全楼|总)?(?:合计|总计|小计|共计|汇总|累计)(?:数)?(?:[:：].*|[0-9].*)?"
    r"|(?:grand|sub)?totals?(?::.*)?",
    re.IGNORECASE,
)
"""The first cell of a total row (``合计``, ``小计：``, ``共计30户``, ``Total``), spaces removed."""
_FOOTER_ROW = re.compile(
    r"(?:注|备注|说明|附注)[:：0-9一二三1-9.、]|.*(?:填表|制表|填报|审核|审批|负责人|经办|统计人|"
    r"盖章|签字|签名)"
)
"""The first cell of a line written below a table: who filled it in, when, notes."""


def _leave_out_non_records(table: pd.DataFrame, path: Path, notes: list[ReadNote]) -> pd.DataFrame:
    """``table`` with the rows that are no record made blank (so that they are dropped as
    blank rows, the data rows keeping their numbers), each kind said in a note: total rows
    (合计, 小计 … in a first cell, wherever they are), lines below the table (填表人, 注 …,
    after the last record) and the header repeated where two exports were pasted together
    (with the title line right above it)."""
    if not len(table) or not len(table.columns):
        return table
    lead = table.iloc[:, 0].astype(_ARROW_TEXT)  # the first filled cell (a bfill is slow)
    for j in range(1, min(_LEAD_COLUMNS, len(table.columns))):
        lead = lead.fillna(table.iloc[:, j].astype(_ARROW_TEXT))
    text = lead.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
    left_out = {
        "total": text.str.fullmatch(_TOTAL_ROW).fillna(False).to_numpy(bool),
        "footer": _footer_rows(table, text),
        "header": _repeated_header_rows(table, text),
    }
    blank = np.zeros(len(table), bool)
    for kind, rows in left_out.items():
        rows &= ~blank
        note_rows(notes, "rows_left_out", rows, path, kind=kind, warn=False)
        blank |= rows
    if not blank.any():
        return table
    table = table.astype(object)
    table.iloc[np.flatnonzero(blank)] = None
    return table


def _footer_rows(table: pd.DataFrame, text: pd.Series) -> np.ndarray:
    """The rows after the last record whose first cell is a footnote (blank rows between)."""
    footer = text.str.match(_FOOTER_ROW).fillna(False).to_numpy(bool)
    trailing = np.zeros(len(table), bool)
    for i in range(len(table) - 1, -1, -1):
        if not (footer[i] or table.iloc[i].isna().all()):
            break
        trailing[i] = footer[i]
    return trailing


def _repeated_header_rows(table: pd.DataFrame, text: pd.Series) -> np.ndarray:
    """Rows that repeat the header (most of their filled cells are their column's header),
    and the one-cell title line right above each."""
    headers = [normalise_header(c) for c in table.columns]
    as_written = [re.sub(r"\s+", "", unicodedata.normalize("NFKC", c)) for c in table.columns]
    found = np.zeros(len(table), bool)
    spellings = {*headers, *map(str.casefold, as_written)}
    candidates = np.flatnonzero(text.str.casefold().isin(spellings))
    for i in candidates:
        cells = [(normalise_header(v), h) for v, h in zip(table.iloc[i], headers, strict=True)
                 if pd.notna(v) and str(v).strip()]  # fmt: skip
        same = sum(v == h for v, h in cells)
        if same >= min(2, len(headers)) and same >= 0.8 * len(cells):
            found[i] = True
            above = i - 1
            if above >= 0 and table.iloc[above].notna().sum() == 1:
                found[above] = True
    return found


_ARROW_MIN_CHARS = 1 << 20
"""A CSV text at least this long is parsed by pyarrow's reader (several times less CPU)."""


def _separator(text: str) -> str:
    """A tab when most of the top lines hold one (Excel's "Unicode text", whose addresses may
    hold commas); else of ``,``, ``;`` and tab (Excel in some locales, and exports from other
    software, save "CSV" so) the one on most top lines, then the one as often on most of them
    (a separator is on every line, as often; a comma in an address only on some), then ``,``.

    >>> _separator("地址;楼栋编号;楼栋名称\\n广场路1号;B01;a,b\\n广场路2号;B02;\\n")
    ';'
    >>> _separator("地址,楼栋编号\\n广场路1号;2号,B01\\n"), _separator("户号\\nH1\\n")
    (',', ',')
    """
    lines = [line for line in _top_lines(text, HEADER_SEARCH_ROWS) if line.strip()]
    if sum("\t" in line for line in lines) > len(lines) / 2:
        return "\t"

    def score(sep: str) -> tuple[int, int]:
        counts = Counter(line.count(sep) for line in lines)
        counts.pop(0, None)
        return sum(counts.values()), max(counts.values(), default=0)

    return max((",", ";", "\t"), key=score)  # the first of equals: a comma


def _top_lines(text: str, n: int) -> list[str]:
    """``text.splitlines()[:n]`` without splitting all of a large text: a growing prefix is
    split until it holds more than ``n`` lines (its last one may be cut; the first ``n`` are
    whole).

    >>> _top_lines("a\\r\\nb\\nc\\rd", 2), _top_lines("a", 5)
    (['a', 'b'], ['a'])
    """
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if len(lines) > n or size >= len(text):
            return lines[:n]
        size *= 4


def _read_csv_text(text: str, sep: str, skip: int) -> pd.DataFrame:
    """``pd.read_csv`` of ``text`` as text columns, after ``skip`` rows.

    A large text is parsed by the pyarrow engine: on every well-formed file it gives the same
    frame as the C engine (same columns, values, missing cells and dtypes). Where the two could
    differ the C engine reads it, as before: a small text, a text with an odd number of quote
    characters (a quote left open, which pyarrow would read to the end of the file), and any
    text pyarrow refuses (rows with fewer or more cells than the header, which the C engine
    fills with missing values or reads as an index column).
    """
    if len(text) >= _ARROW_MIN_CHARS and text.count('"') % 2 == 0:
        try:
            return pd.read_csv(BytesIO(text.encode("utf-8")), sep=sep, dtype=str,
                               skiprows=skip, engine="pyarrow", **_MISSING)  # fmt: skip
        except Exception as exc:  # whatever pyarrow refuses, the C engine reads or says why
            logger.debug("pyarrow did not read the CSV text (%s); the C engine reads it", exc)
    with warnings.catch_warnings(record=True) as caught:  # extra cells: said below, not lost
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            table = pd.read_csv(StringIO(text), sep=sep, dtype=str, skiprows=skip,
                                index_col=False, **_MISSING)  # fmt: skip
        except pd.errors.ParserError:
            table = None
    if table is None or any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        width = _refuse_long_rows(text, sep, skip)
        if table is None and not width:  # no row too long: what the engine said
            table = pd.read_csv(StringIO(text), sep=sep, dtype=str, skiprows=skip, **_MISSING)
        if table is None:  # rows with empty cells past the header's
            table = pd.read_csv(StringIO(text), sep=sep, dtype=str, skiprows=skip,
                                index_col=False, engine="python", **_MISSING,
                                on_bad_lines=lambda row: row[:width])  # fmt: skip
    return table


_MISSING = {"keep_default_na": False, "na_values": list(MISSING_VALUES)}
"""The cells read as missing, as in every format (:data:`~gridmap.io.sheets.MISSING_VALUES`)."""


class _RowsTooLong(ValueError):
    """Lines of a CSV text with more cells than its header: ``lines`` (as a text editor counts
    them, the first :data:`ROWS_SHOWN`), ``n`` in all, the header's ``width``."""

    def __init__(self, lines: list[int], n: int, width: int) -> None:
        super().__init__(f"lines {lines} have more than {width} cells")
        self.values = {"lines": lines, "n": n, "width": width}


def _refuse_long_rows(text: str, sep: str, skip: int) -> int:
    """Refuse the lines under the header with more filled cells than it (an unquoted comma in
    an address), which pandas would read as an index or cut; else the header's width when
    lines hold empty cells past it (nothing lost), 0 when none is longer.

    Raises
    ------
    _RowsTooLong
        Naming the lines; the reader of the file words it (READ_ERRORS ``rows_too_long``).
    """
    reader = csv.reader(StringIO(text), delimiter=sep)
    width, lines, longer = None, [], False
    for i, row in enumerate(reader):
        if i < skip or not row:
            continue
        if width is None:
            width = len(row)
        elif len(row) > width:
            longer = True
            if any(cell.strip() for cell in row[width:]):
                lines.append(reader.line_num)
    if lines and width is not None:
        raise _RowsTooLong(lines[:ROWS_SHOWN], len(lines), width)
    return width if longer and width else 0


def find_header_row(rows: list[list[str]], ent: Entity, mapping: Mapping[str, str] | None) -> int:
    """The first of the top rows matching the most known headers (0 if none matches)."""
    return header_hits(rows, ent, mapping)[0]


def header_hits(
    rows: list[list[str]], ent: Entity, mapping: Mapping[str, str] | None
) -> tuple[int, int]:
    """The first of the top rows matching the most known headers, and how many it matches."""
    best_row, best_hits = 0, 0
    for i, cells in enumerate(rows):
        hits = len(resolve_headers([c for c in cells if c.strip()], ent, mapping).columns)
        if hits > best_hits:
            best_row, best_hits = i, hits
    return best_row, best_hits
