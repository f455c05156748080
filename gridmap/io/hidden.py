"""What an .xlsx sheet's XML says that the readers do not give: its merged ranges and the rows
and columns it hides (and its AutoFilter), in one pass over the sheet's part.

Merged cells (the 小区 or building of several rows of households) are defined in the sheet's
XML (``<mergeCell ref="B3:B7"/>``): openpyxl's read-only mode does not give them, so
:func:`sheet_xml` reads them for :mod:`gridmap.io.xlsx` (python-calamine gives them itself).

Offices filter a roster (an AutoFilter showing one community), hide rows or columns by hand,
and send the file: every row is read (the file holds them) and
:func:`gridmap.io.sheets.sheet_table` says so (``hidden_read``). Neither reader tells: openpyxl's
read-only mode gives no row dimensions, python-calamine no visibility at all (so .xls, .xlsb
and .ods are not checked). The sheet's XML (``<row r="7" hidden="1">``, ``<col min="3" max="3"
hidden="1"/>``, ``<autoFilter ref=…>``) is streamed once, in chunks, and only a chunk holding
``hidden="`` (or ``mergeCell``) is searched: a sheet hiding nothing costs its decompression
only (0.35 s of CPU for the 181 MB sheet of a 398,508-row roster, read by calamine in 6.5 s).

openpyxl knows which part holds its sheet (:func:`sheet_xml` is given it); calamine does not,
and :func:`hidden_cells` finds it by the sheet's name (workbook.xml and its relationships).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple, cast
from xml.etree import ElementTree

if TYPE_CHECKING:  # gridmap.io.sheets imports this module
    from gridmap.io.sheets import MergedRange

__all__ = ["Hidden", "SheetXml", "hidden_cells", "sheet_xml"]


class Hidden(NamedTuple):
    """Hidden sheet rows and columns (1-based), and whether the sheet has an AutoFilter."""

    rows: frozenset[int]
    cols: frozenset[int]
    filtered: bool


class SheetXml(NamedTuple):
    """The merged ranges of a sheet (as (min_col, min_row, max_col, max_row), 1-based, each
    once, in the order of the file) and what it hides; ``[]`` and ``None`` when its XML could
    not be read (none of the ranges when one of them is no range)."""

    merged: list[MergedRange]
    hidden: Hidden | None


_HIDDEN_TAG = re.compile(rb'<(?:\w+:)?(row|col)\s[^>]*?\bhidden="(?:1|true)"[^>]*>')
_NUMBER = re.compile(rb'\b(r|min|max)="(\d+)"')
_FILTER_TAG = re.compile(rb"<(?:\w+:)?autoFilter[\s>/]")
_MERGE_TAG = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Za-z]+[0-9]+(?::[A-Za-z]+[0-9]+)?)"')
_CHUNK = 1 << 20
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def sheet_xml(path: Path, part: str) -> SheetXml:
    """The merged ranges and hidden cells of the worksheet ``part`` of the .xlsx ``path`` (the
    zip member openpyxl read it from, ``_worksheet_path``)."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(part.lstrip("/")) as xml:
            return _scan(xml, merges=True)
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return SheetXml([], None)


def hidden_cells(path: Path, sheet: str) -> Hidden | None:
    """What ``sheet`` of the .xlsx ``path`` hides; ``None`` if the file is no .xlsx or its
    sheet cannot be found (the reader has said why, or read it anyway)."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet)
            if part is None:
                return None
            with archive.open(part) as xml:
                return _scan(xml, merges=False).hidden
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError):
        return None


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member of the worksheet named ``sheet`` (workbook.xml and its relationships)."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rid = next((s.get(_REL) for s in book.iter(f"{_MAIN}sheet") if s.get("name") == sheet), None)
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels.iter(f"{_PKG_REL}Relationship")
                   if r.get("Id") == rid), None)  # fmt: skip
    if rid is None or target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)


def _scan(xml: IO[bytes], *, merges: bool) -> SheetXml:
    """The sheet's hidden rows and columns, and with ``merges`` its merged ranges."""
    rows: set[int] = set()
    cols: set[int] = set()
    ranges: list[MergedRange] | None = [] if merges else None
    filtered = False
    tail = b""
    while chunk := xml.read(_CHUNK):
        text = tail + chunk
        last = 0
        at = text.find(b'hidden="')
        while at >= 0:  # to each hidden="…" straight: a pattern would try every cell's tag
            tag = _HIDDEN_TAG.match(text, text.rfind(b"<", 0, at), text.find(b">", at) + 1)
            if tag is not None:
                numbers = dict(_NUMBER.findall(tag.group(0)))
                if tag.group(1) == b"row" and b"r" in numbers:
                    rows.add(int(numbers[b"r"]))
                elif tag.group(1) == b"col" and b"min" in numbers:
                    low = int(numbers[b"min"])
                    cols.update(range(low, min(int(numbers.get(b"max", low)), 16384) + 1))
                last = tag.end()
            at = text.find(b'hidden="', at + 8)
        if ranges is not None and (merge_at := text.find(b"mergeCell")) >= 0:
            try:
                last = max(last, _merged(text, max(text.rfind(b"<", 0, merge_at), 0), ranges))
            except ValueError:  # a range openpyxl would not take: none is filled
                ranges = None
        if not filtered and b"autoFilter" in text:  # a pattern over every chunk costs a second
            filtered = _FILTER_TAG.search(text) is not None
        tail = text[max(last, len(text) - 512) :]  # a tag cut by the chunk's end
    merged = list(dict.fromkeys(ranges)) if ranges is not None else []
    return SheetXml(merged, Hidden(frozenset(rows), frozenset(cols), filtered))


def _merged(text: bytes, start: int, ranges: list[MergedRange]) -> int:
    """Add the merged ranges ``text`` defines from ``start`` to ``ranges``; the end of the last
    (0 if none)."""
    from openpyxl.utils.cell import range_boundaries

    last = 0
    for found in _MERGE_TAG.finditer(text, start):
        bounds = range_boundaries(found.group(1).decode("ascii").upper())
        if None not in bounds:
            ranges.append(cast("MergedRange", bounds))
        last = found.end()
    return last
