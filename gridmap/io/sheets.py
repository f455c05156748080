"""A spreadsheet's grid of cells as a table: the header row found under title rows, merged
ranges filled, as every workbook reader does (:mod:`gridmap.io.xlsx` for .xlsx,
:mod:`gridmap.io.xls` for .xls, .xlsb, .ods and the HTML or XML that web systems save as .xls).

Offices merge cells down a column (the 小区 or building of several rows of households): a merged
range holds its value in its first cell only. Each data cell of a merged range takes the range's
value, and a note says how many ranges were filled; blank cells that are not merged stay blank.
A header of two rows (a group title merged across its columns, the other headers merged down)
is read as one (:func:`header_cells`); a header written twice is kept twice
(:func:`distinct_names`), so that reading refuses it rather than take one for the other. The
same header saved without its merges (as CSV, or typed so) is read as one when its second row
can only be headers (:func:`two_row_header`). The cells of :data:`MISSING_VALUES` are blank, in
every format alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from gridmap.io.hidden import Hidden
from gridmap.io.notes import ROWS_SHOWN, ReadNote

__all__ = ["HEADER_SEARCH_ROWS", "MISSING_VALUES", "MergedRange", "SheetChoice", "column_names",
           "distinct_names", "fill_merged", "header_cells", "search_rows", "sheet_table",
           "table_under_header", "text_cells", "trim_row", "two_row_header"]  # fmt: skip

HEADER_SEARCH_ROWS = 10
"""Rows searched for the header (a title line such as ``XX社区人口花名册`` may come first)."""

SheetChoice = Callable[[list[str], Callable[[str], list[list[str]]]], str | None]
"""Chooses a sheet from the names of the sheets shown, given a function that returns a sheet's
top rows (text cells)."""

MISSING_VALUES = ("", "NULL", "null", "Null", "None", "NA", "N/A", "n/a", "#N/A", "#N/A N/A",
                  "#NA", "<NA>", "nan", "NaN", "-nan", "-NaN", "1.#IND", "-1.#IND", "1.#QNAN",
                  "-1.#QNAN")  # fmt: skip
"""Cells that are blank in every format (a whole cell, as written): what pandas takes for a
missing value in a CSV, plus ``Null``. Databases and web systems export ``NULL``/``null``/``None``,
Excel writes ``#N/A`` for a lookup that found nothing, other tools ``NA``, ``N/A``, ``nan``; none of
them is a real id, name, address, count or coordinate of a Chinese roster, and a cell holding
more (``NA栋``) is kept."""

MergedRange = tuple[int, int, int, int]
"""A merged range as (min_col, min_row, max_col, max_row), 1-based, as openpyxl gives them."""


def text_cells(rows: Sequence[Sequence[object]]) -> list[list[str]]:
    """The text cells of each row (what a header search looks at)."""
    return [[c for c in row if isinstance(c, str)] for row in rows]


def trim_row(row: Sequence[object]) -> list[object]:
    """``row`` without its trailing empty cells."""
    end = len(row)
    while end and (row[end - 1] is None or str(row[end - 1]).strip() == ""):
        end -= 1
    return list(row[:end])


def column_names(header: Sequence[object]) -> list[str]:
    """The column names of a header row: its cells stripped, ``column N`` for a blank one, a
    header written twice made distinct (:func:`distinct_names`)."""
    return distinct_names(
        [str(h).strip() if h is not None else f"column {i + 1}" for i, h in enumerate(header)]
    )


def distinct_names(names: Sequence[str]) -> list[str]:
    """``names`` with the second, third … of a name written alike given ``（2）``, ``（3）`` …: a
    note in brackets, which :func:`~gridmap.io.headers.normalise_header` drops, so that both
    headers are still read as the same column and refused together (two headers for one
    column), not one column of the frame taken for the other.

    >>> distinct_names(["地址", "户号", "地址", "地址"])
    ['地址', '户号', '地址（2）', '地址（3）']
    """
    out: list[str] = []
    for name in names:
        n, distinct = 1, name
        while distinct in out:
            n += 1
            distinct = f"{name}（{n}）"
        out.append(distinct)
    return out


def table_under_header(
    path: Path,
    rows: list[list[object]],
    ranges: Sequence[MergedRange],
    find_header: Callable[[list[list[str]]], int],
    sheet: str | None,
    notes: list[ReadNote],
    hidden: Hidden | None = None,
    unsaved: Sequence[tuple[int, int]] = (),
) -> pd.DataFrame:
    """The table of a whole sheet's ``rows`` (from its first row, blank cells ``None``) under
    the header row ``find_header`` picks among the first :data:`HEADER_SEARCH_ROWS`; columns
    beyond the last header are left out, merged ``ranges`` filled, ``hidden`` rows and
    columns said (:func:`sheet_table`), and so are the formula cells of the table without a
    saved value among ``unsaved`` (sheet (row, column), 1-based: ``formulas_unsaved``)."""
    header_at = find_header(text_cells(search_rows(rows[:HEADER_SEARCH_ROWS], ranges)))
    header, first = header_cells(rows, header_at, ranges, find_header, (path, notes))
    width = len(header)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[first:]]
    missing = [(r - first, c - 1) for r, c in unsaved if r > first and c <= width]
    if missing:
        _note_formulas(path, column_names(header), missing, notes)
    return sheet_table(path, header, body, ranges, first + 1, sheet, notes, hidden)


def _note_formulas(
    path: Path, columns: list[str], missing: list[tuple[int, int]], notes: list[ReadNote]
) -> None:
    """Note the formula cells (data row, column index) that have no saved value."""
    rows = sorted({r for r, _ in missing})
    headers = sorted({columns[c] for _, c in missing}, key=columns.index)
    notes.append(ReadNote.of("formulas_unsaved", path.name, n=len(missing), headers=headers,
                             rows=rows[:_FORMULA_ROWS_SHOWN], n_rows=len(rows)))  # fmt: skip


_FORMULA_ROWS_SHOWN = 10


def search_rows(
    head: Sequence[Sequence[object]], ranges: Sequence[MergedRange]
) -> list[list[object]]:
    """The top rows as the header search sees them: a cell merged down from the row above holds
    its text (the 户号 of a two-row header counts in both rows, so that the header beats the
    same header repeated lower down, where two exports were pasted together)."""
    rows = [list(row) for row in head]
    for min_col, min_row, max_col, max_row in ranges:
        if min_row >= max_row or min_row > len(rows):
            continue
        value = _cell(rows[min_row - 1], min_col - 1)
        for row in rows[min_row:max_row]:
            row += [None] * (max_col - len(row))
            for col in range(min_col - 1, max_col):
                row[col] = value if row[col] is None else row[col]
    return rows


def header_cells(
    rows: Sequence[Sequence[object]],
    header_at: int,
    ranges: Sequence[MergedRange],
    find_header: Callable[[list[list[str]]], int] | None = None,
    said: tuple[Path, list[ReadNote]] | None = None,
) -> tuple[list[object], int]:
    """The header of the table whose header row is ``rows[header_at]`` (trimmed), and the index
    of its first data row.

    Offices write two-row headers: a group title merged across its columns (``居住地址`` over
    ``楼栋号 单元 房号``) and the other headers merged down both rows (``户号``). A header cell
    merged down from the row above takes that row's text; when cells of the header row are
    merged down into the next row, that row is the second header row: its text names the
    columns not merged down (under a group title), and the data start below it. Else the
    second row would be read as a record and its headers lost. Without merges there (a sheet
    typed so, or pasted as values), the two rows are one header as :func:`two_row_header` says
    (``find_header`` tells a recognised header). With ``said`` (the file, its notes), a header
    of two rows is noted (:func:`_note_two_rows`).
    """
    if header_at >= len(rows):
        return [], header_at + 1
    at = header_at + 1  # the 1-based sheet row of the header
    header = list(rows[header_at])
    for min_col, min_row, max_col, max_row in ranges:
        if min_row < at <= max_row:  # merged down from above: the text is in its first row
            header += [None] * (max_col - len(header))  # a row ends at its last value
            for col in range(min_col - 1, max_col):
                if header[col] is None:
                    header[col] = _cell(rows[min_row - 1], min_col - 1)
    down = {col for min_col, min_row, max_col, max_row in ranges if min_row == at < max_row
            for col in range(min_col - 1, max_col)}  # fmt: skip
    below = list(rows[header_at + 1]) if down and header_at + 1 < len(rows) else []
    merged_in = any(min_row < at <= max_row for _, min_row, _, max_row in ranges)
    if not down and not merged_in and find_header is not None:
        two = two_row_header(rows, header_at, find_header, said)
        if two is not None:
            return trim_row(two[0]), two[1]
    if not below:
        above = {col for min_col, min_row, max_col, max_row in ranges if min_row == at - 1 < max_row
                 for col in range(min_col - 1, max_col)}  # fmt: skip
        if above and said is not None:  # the header row is the lower of two
            _note_merged(said, rows, header_at - 1, above)
        return trim_row(header), header_at + 1
    width = max(len(trim_row(header)), len(trim_row(below)))
    header += [None] * (width - len(header))
    for col, text in enumerate(below[:width]):
        if col not in down and isinstance(text, str) and text.strip():
            header[col] = text
    if said is not None:
        _note_merged(said, rows, header_at, down)
    return trim_row(header), header_at + 2


def _note_merged(
    said: tuple[Path, list[ReadNote]],
    rows: Sequence[Sequence[object]],
    upper_at: int,
    down: set[int],
) -> None:
    """Note the header rows ``rows[upper_at]`` and the next read as one, the columns ``down``
    merged down both rows (one header, no group's)."""
    upper, lower = ([None if c in down else h for c, h in enumerate(rows[i])]
                    for i in (upper_at, upper_at + 1))  # fmt: skip
    if any(_text(u) for u in upper):  # a group title over the lower headers
        _note_two_rows(*said, upper_at, upper, lower)


def two_row_header(
    rows: Sequence[Sequence[object]],
    header_at: int,
    find_header: Callable[[list[list[str]]], int],
    said: tuple[Path, list[ReadNote]] | None = None,
) -> tuple[list[object], int] | None:
    """The header of two rows whose merges are gone (a sheet saved as CSV) that holds the header
    row ``rows[header_at]``, as one row, and the index of the first data row; ``None`` when the
    rows next to it are no second header row (:func:`_second_row`). The row above is tried
    first (the header search may pick the lower row, when it names more columns). With
    ``said`` (the file, its notes), the header found is noted (:func:`_note_two_rows`)."""
    if header_at >= len(rows):
        return None
    for upper in (header_at - 1, header_at):
        if upper < 0 or upper + 1 >= len(rows):
            continue
        combined = _second_row(rows[upper], rows[upper + 1], find_header)
        if combined is not None:
            if said is not None:
                _note_two_rows(*said, upper, rows[upper], rows[upper + 1])
            return combined, upper + 2
    return None


def _note_two_rows(
    path: Path,
    notes: list[ReadNote],
    upper_at: int,
    upper: Sequence[object],
    lower: Sequence[object],
) -> None:
    """Note that the header rows ``upper`` (the file's row ``upper_at`` + 1) and ``lower`` (the
    next) are read as one: each header of ``lower`` under its group title (the nearest header
    of ``upper`` at or left of it), ``居住地址·楼栋号``. A blank ``lower`` (merged down) is
    noted nowhere."""
    names, title = [], ""
    for j, cell in enumerate(lower):
        above = _text(upper[j]) if j < len(upper) else ""
        title = above or title
        text = _text(cell)
        if text:
            names.append(f"{title}·{text}" if title and title != text else text)
    if names:
        rows = [upper_at + 1, upper_at + 2]
        notes.append(ReadNote.of("header_rows_combined", path.name, rows=rows,
                                 headers=names[:_HEADERS_SHOWN], n=len(names)))  # fmt: skip


_HEADERS_SHOWN = 12


_DIGIT = re.compile(r"[0-9０-９]")


def _second_row(
    upper: Sequence[object], lower: Sequence[object], find_header: Callable[[list[list[str]]], int]
) -> list[object] | None:
    """``upper`` and ``lower`` as one header (the lower text under a group title, the upper where
    the lower is blank), when ``lower`` can only be a second header row: ``upper`` names a known
    column, each filled cell of ``lower`` is text that is a known header (``find_header`` finds it)
    or, without digits, lies under a group title (under a blank of ``upper`` with the title's
    column and those between filled, or under the title itself with the column right of it so),
    and the two rows together name as many known columns as either. A record has values: ids,
    numbers, addresses with digits, under headers that are not blank; so its blank first cell or
    a name under a group is not taken for a header."""
    width = max(len(upper), len(lower))
    up = [_text(c) for c in upper] + [""] * (width - len(upper))
    low = [_text(c) for c in lower] + [""] * (width - len(lower))
    if None in low or not any(low) or find_header([[], [u or "" for u in up]]) != 1:
        return None
    title = -1  # the column of the last filled cell of ``upper`` so far
    for j, cell in enumerate(low):
        title = j if up[j] else title
        if not cell or find_header([[], [cell]]) == 1:
            continue
        grouped = (
            all(low[title : j + 1])
            if not up[j]
            else j + 1 < width and not up[j + 1] and bool(low[j + 1])
        )
        if _DIGIT.search(str(cell)) or title < 0 or not grouped:
            return None
    combined = [lo or u or "" for u, lo in zip(up, low, strict=True)]
    texts = [[c for c in row if c] for row in (combined, up, low)]
    return list(combined) if find_header(texts) == 0 else None


def _text(value: object) -> str | None:
    """A header cell's text stripped ("" if blank); ``None`` for a value that is no text (a
    number, a date: a record's)."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else None


def sheet_table(
    path: Path,
    header: list[object],
    rows: list[list[object]],
    ranges: Sequence[MergedRange],
    start: int,
    sheet: str | None,
    notes: list[ReadNote],
    hidden: Hidden | None = None,
) -> pd.DataFrame:
    """The frame of data ``rows`` (each as wide as ``header``; the first is sheet row
    ``start``, 1-based) with the merged ``ranges`` filled and said in a note, and the data rows
    and columns the workbook ``hidden`` (read all the same) said in another; ``attrs["sheet"]``
    is ``sheet``."""
    columns = column_names(header)
    if hidden is not None:
        _note_hidden(path, hidden, columns, start, len(rows), notes)
    merged = fill_merged(rows, ranges, start, len(columns)) if columns else []
    if merged:
        headers = [columns[c] for c in sorted({c for _, c in merged})]
        notes.append(ReadNote.of("merged_cells_filled", path.name, n=len(merged),
                                 headers=headers))  # fmt: skip
    table = pd.DataFrame(rows, columns=columns, dtype=object) if columns else pd.DataFrame()
    missing = table.isin(MISSING_VALUES)  # blank, as a CSV reads them (``na_values``)
    if missing.to_numpy().any():
        table = table.mask(missing, None)
    table.attrs["sheet"] = sheet
    return table


def _note_hidden(
    path: Path, hidden: Hidden, columns: list[str], start: int, n: int, notes: list[ReadNote]
) -> None:
    """Note the data rows (of ``n`` from sheet row ``start``) and the columns the workbook
    hides: they were read too (``hidden_read``); rows and columns outside the table are not."""
    rows = sorted(r - start + 1 for r in hidden.rows if start <= r < start + n)
    headers = [columns[c - 1] for c in sorted(hidden.cols) if c <= len(columns)]
    if rows or headers:
        notes.append(ReadNote.of("hidden_read", path.name, rows=rows[:ROWS_SHOWN],
                                 n_rows=len(rows), headers=headers,
                                 filtered=hidden.filtered))  # fmt: skip


def fill_merged(
    rows: list[list[object]], ranges: Sequence[MergedRange], start: int, width: int
) -> list[tuple[int, int]]:
    """Give every blank cell of a merged range of the data rows the range's value (that of its
    first cell); (first data row, column) of each range filled. Ranges reaching into the header
    or the rows above it (a title) are left alone, and so are the rows of a range that are
    blank but for it (a spacer row is no record)."""
    filled: list[tuple[int, int]] = []
    for min_col, min_row, max_col, max_row in sorted(ranges, key=lambda r: (r[1], r[0])):
        top = min_row - start
        if top < 0 or top >= len(rows) or min_col > width:
            continue
        value = rows[top][min_col - 1]
        if _blank(value) or (isinstance(value, str) and value in _MISSING):
            continue
        changed = False
        for row in rows[top : max_row - start + 1]:
            if row is not rows[top] and all(map(_blank, row)):
                continue  # a blank row inside the range stays blank: padding, no record
            for col in range(min_col - 1, min(max_col, width)):
                if row[col] is None:
                    row[col] = value
                    changed = True
        if changed:
            filled.append((top + 1, min_col - 1))
    return filled


_MISSING = frozenset(MISSING_VALUES)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell(row: Sequence[object], col: int) -> object:
    """``row[col]``, or ``None`` past the row's end (a sheet's rows end at their last value)."""
    return row[col] if col < len(row) else None
