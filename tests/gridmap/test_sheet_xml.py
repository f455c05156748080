"""One pass over an .xlsx sheet's XML gives both its merged ranges and what it hides
(:func:`gridmap.io.hidden.sheet_xml`): tags cut by the chunks it is read in are found once, a
namespace prefix is read, a range openpyxl would refuse fills none (the hidden cells are still
found), and the openpyxl reader scans the part it read once, without finding it again by name."""

from __future__ import annotations

import zipfile

import pytest

from gridmap.io import hidden as sheetxml
from gridmap.io.hidden import Hidden, SheetXml, sheet_xml
from gridmap.io.xlsx import read_sheet

_PART = "xl/worksheets/sheet1.xml"


def _sheet(path, rows, merges, *, prefix="", autofilter=False):
    """A zip holding only a sheet part: ``rows`` as (number, attribute: `` hidden="1"`` or
    ""), ``merges`` as ``<mergeCell>`` tags, the tags written with ``prefix``."""
    p = f"{prefix}:" if prefix else ""
    extra = f'<{p}autoFilter ref="A1:A9"/>' if autofilter else ""
    cells = "".join(
        f'<{p}row r="{r}"{h}><{p}c r="A{r}" t="inlineStr"><{p}is><{p}t>H{r:05d}</{p}t></{p}is>'
        f"</{p}c></{p}row>"
        for r, h in rows
    )
    tags = "".join(f'<{p}mergeCell ref="{ref}"/>' for ref in merges)
    xml = (f'<?xml version="1.0"?><{p}worksheet><{p}cols><{p}col min="2" max="4" hidden="1"/>'
           f"</{p}cols><{p}sheetData>{cells}</{p}sheetData>{extra}<{p}mergeCells>{tags}"
           f"</{p}mergeCells></{p}worksheet>")  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_PART, xml)


@pytest.mark.parametrize("chunk", [37, 101, 1 << 20])
@pytest.mark.parametrize("prefix", ["", "x"])
def test_merges_and_hidden_rows_cut_by_chunks_are_found_once(tmp_path, monkeypatch, chunk, prefix):
    monkeypatch.setattr(sheetxml, "_CHUNK", chunk)
    hidden = {r for r in range(1, 400) if r % 7 == 0}
    rows = [(r, ' hidden="1"' if r in hidden else "") for r in range(1, 400)]
    merges = [f"B{r}:C{r + 1}" for r in range(2, 400, 3)] + ["B2:C3", "a1"]  # again; lower case
    path = tmp_path / "t.xlsx"
    _sheet(path, rows, merges, prefix=prefix, autofilter=True)
    found = sheet_xml(path, "/" + _PART)
    assert found.merged == [(2, r, 3, r + 1) for r in range(2, 400, 3)] + [(1, 1, 1, 1)]
    assert found.hidden == Hidden(frozenset(hidden), frozenset({2, 3, 4}), True)
    with zipfile.ZipFile(path) as archive, archive.open(_PART) as xml:  # calamine's: no merges
        assert sheetxml._scan(xml, merges=False) == SheetXml([], found.hidden)


def test_a_range_openpyxl_refuses_fills_none_and_the_hidden_are_still_found(tmp_path):
    path = tmp_path / "t.xlsx"
    _sheet(path, [(1, ""), (2, ' hidden="true"')], ["A1:A2", "ABCD1:ABCD2"])
    assert sheet_xml(path, _PART) == SheetXml(
        [], Hidden(frozenset({2}), frozenset({2, 3, 4}), False)
    )


def test_a_part_or_file_that_cannot_be_read_gives_nothing(tmp_path):
    path = tmp_path / "t.xlsx"
    _sheet(path, [(1, "")], ["A1:B1"])
    assert sheet_xml(path, "xl/worksheets/sheet9.xml") == SheetXml([], None)
    (tmp_path / "no.xlsx").write_bytes(b"no zip")
    assert sheet_xml(tmp_path / "no.xlsx", _PART) == SheetXml([], None)


def test_the_openpyxl_reader_scans_the_sheet_it_read_once(tmp_path, monkeypatch):
    from openpyxl import Workbook

    book = Workbook()
    book.create_sheet("说明", 0)
    sheet = book.create_sheet("住户 & 单位")
    sheet.append(["户号", "楼栋编号", "户数"])
    for i in range(1, 7):
        sheet.append([f"H{i:03d}", "B1" if i < 4 else None, "=1+0"])
    sheet.merge_cells("B2:B4")
    sheet.row_dimensions[3].hidden = True
    path = tmp_path / "住户.xlsx"
    book.save(path)
    scans, scan = [], sheetxml._scan
    monkeypatch.setattr(sheetxml, "_scan", lambda xml, **kw: scans.append(kw) or scan(xml, **kw))
    monkeypatch.setattr(sheetxml, "_sheet_part", None)  # the part is openpyxl's, not looked up
    notes: list = []
    households = read_sheet(path, "住户 & 单位", lambda rows: 0, notes)
    assert scans == [{"merges": True}]
    assert list(households["楼栋编号"]) == ["B1"] * 3 + [None] * 3
    codes = {n.code: dict(n.values) for n in notes}
    assert codes["hidden_read"]["rows"] == (2,) and codes["merged_cells_filled"]["n"] == 1
