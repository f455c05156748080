"""One pass over an .xlsx sheet's XML gives both what it hides and its formula cells without a
saved value (:func:`gridmap.io.hidden.sheet_cells`): tags and cells cut by the chunks it is
read in are found once, a namespace prefix is read, an error value or an empty text is a saved
value, cells without their reference are counted as openpyxl counts them, and the reader scans
the sheet it read once."""

from __future__ import annotations

import re
import zipfile

import pytest

from gridmap.io import hidden as sheetxml
from gridmap.io.hidden import Hidden, SheetCells, sheet_cells
from gridmap.io.xlsx import read_sheet

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_BOOK = (f'<workbook xmlns="{_MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
         '2006/relationships"><sheets><sheet name="住户" sheetId="1" r:id="rId1"/></sheets>'
         "</workbook>")  # fmt: skip
_RELS = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.'
         'openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
         "</Relationships>")  # fmt: skip
_FORMULAS = [  # (cell XML with {p} for the prefix, {r} for the reference; without a saved value)
    ('<{p}c r="{r}"><{p}f>1+2</{p}f><{p}v>3</{p}v></{p}c>', False),
    ('<{p}c r="{r}"><{p}f>1+2</{p}f></{p}c>', True),  # openpyxl writes no value: never calculated
    ('<{p}c r="{r}" s="1"><{p}f>1+2</{p}f><{p}v></{p}v></{p}c>', True),
    ('<{p}c r="{r}"><{p}f>1+2</{p}f><{p}v/></{p}c>', True),
    ('<{p}c r="{r}"><{p}f t="shared" si="0"/><{p}v>4</{p}v></{p}c>', False),
    ('<{p}c r="{r}"><{p}f t="shared" si="0"/>\n</{p}c>', True),
    ('<{p}c r="{r}" t="e"><{p}f>NA()</{p}f><{p}v>#N/A</{p}v></{p}c>', False),  # an error, saved
    ('<{p}c r="{r}" t="str"><{p}f>A1&amp;"&lt;"</{p}f><{p}v>0012&lt;</{p}v></{p}c>', False),
    ('<{p}c r="{r}" t="inlineStr"><{p}f>1</{p}f><{p}is><{p}t>x</{p}t></{p}is></{p}c>', False),
    ('<{p}c r="{r}" t="inlineStr"><{p}is><{p}t>&lt;f&gt;</{p}t></{p}is></{p}c>', False),
    ('<{p}c r="{r}" t="str"><{p}f>IF(A1="","",A1)</{p}f><{p}v></{p}v></{p}c>', False),  # "" saved
    ('<{p}c r="{r}" t="str"><{p}f>IF(A1="","",A1)</{p}f></{p}c>', True),
]


def _sheet(path, n, *, prefix="", autofilter=False, refs=True):
    """A workbook whose sheet 住户 has ``n`` rows: row r holds a code in A and in B the formula
    cell ``_FORMULAS[r % 12]``; every seventh row is hidden, and columns C:E. The unsaved
    formula cells, as (row, column)."""
    p = f"{prefix}:" if prefix else ""
    rows, unsaved = [], []
    for r in range(1, n + 1):
        cell, missing = _FORMULAS[r % len(_FORMULAS)]
        hidden = ' hidden="1"' if r % 7 == 0 else ""
        rows.append(f'<{p}row r="{r}"{hidden}><{p}c r="A{r}" t="inlineStr"><{p}is><{p}t>H{r:05d}'
                    f"</{p}t></{p}is></{p}c>{cell.format(p=p, r=f'B{r}')}</{p}row>")  # fmt: skip
        if missing:
            unsaved.append((r, 2))
    extra = f'<{p}autoFilter ref="A1:A9"/>' if autofilter else ""
    data = "".join(rows) if refs else re.sub(r' r="B[0-9]+"', "", "".join(rows))
    xml = (f'<?xml version="1.0"?><{p}worksheet xmlns{":" + prefix if prefix else ""}="{_MAIN}">'
           f'<{p}cols><{p}col min="3" max="5" hidden="1"/></{p}cols><{p}sheetData>{data}'
           f"</{p}sheetData>{extra}</{p}worksheet>")  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", _BOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _RELS)
        archive.writestr("xl/worksheets/sheet1.xml", xml)
    return unsaved


@pytest.mark.parametrize("chunk", [37, 101, 1 << 20])
@pytest.mark.parametrize("prefix", ["", "x"])
def test_hidden_rows_and_unsaved_formulas_cut_by_chunks_are_found_once(
    tmp_path, monkeypatch, chunk, prefix
):
    monkeypatch.setattr(sheetxml, "_CHUNK", chunk)
    path = tmp_path / "t.xlsx"
    unsaved = _sheet(path, 400, prefix=prefix, autofilter=True)
    hidden = Hidden(frozenset(range(7, 401, 7)), frozenset({3, 4, 5}), True)
    assert sheet_cells(path, "住户") == SheetCells(hidden, unsaved)
    assert len(unsaved) == 168 and sheetxml.hidden_cells(path, "住户") == hidden
    assert sheet_cells(path, "住户", formulas=False) == SheetCells(hidden, [])


def test_cells_without_their_reference_are_counted_as_openpyxl_counts_them(tmp_path, monkeypatch):
    path = tmp_path / "t.xlsx"
    unsaved = _sheet(path, 40, refs=False)  # each B cell right of its A cell
    counted, count = [], sheetxml._unsaved_in_order
    monkeypatch.setattr(sheetxml, "_unsaved_in_order", lambda xml: counted.append(1) or count(xml))
    assert sheet_cells(path, "住户").unsaved == unsaved and counted == [1]


def test_a_sheet_or_file_that_cannot_be_read_gives_nothing(tmp_path):
    path = tmp_path / "t.xlsx"
    _sheet(path, 3)
    assert sheet_cells(path, "没有") == SheetCells(None, [])
    (tmp_path / "no.xlsx").write_bytes(b"no zip")
    assert sheet_cells(tmp_path / "no.xlsx", "住户") == SheetCells(None, [])


def test_the_xlsx_reader_scans_the_sheet_it_read_once(tmp_path, monkeypatch):
    from openpyxl import Workbook

    book = Workbook()
    book.create_sheet("说明", 0)
    sheet = book.create_sheet("住户 & 单位")
    sheet.append(["户号", "楼栋编号", "户数"])
    for i in range(1, 7):
        sheet.append([f"H{i:03d}", "B1" if i < 4 else None, "=1+0"])  # no value saved
    sheet.merge_cells("B2:B4")
    sheet.row_dimensions[3].hidden = True
    path = tmp_path / "住户.xlsx"
    book.save(path)
    scans, scan = [], sheetxml._scan
    monkeypatch.setattr(sheetxml, "_scan", lambda xml, **kw: scans.append(kw) or scan(xml, **kw))
    notes: list = []
    households = read_sheet(path, "住户 & 单位", lambda rows: 0, notes)
    assert scans == [{"formulas": True}]
    assert list(households["楼栋编号"]) == ["B1"] * 3 + [None] * 3
    assert households["户数"].isna().all()
    codes = {n.code: dict(n.values) for n in notes}
    assert codes["hidden_read"]["rows"] == (2,) and codes["merged_cells_filled"]["n"] == 1
    assert codes["formulas_unsaved"] == {"n": 6, "headers": ("户数",), "rows": tuple(range(1, 7)),
                                         "n_rows": 6}  # fmt: skip
