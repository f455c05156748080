"""An .xlsx whose cells are computed (年龄 of ``=DATEDIF(…)``, 户人数 of ``=COUNTIF(…)``) is read
by python-calamine like any other: each formula cell gives the value saved with it, as openpyxl
gives it (numbers, dates, text with its leading zeros, booleans; an error value blank), and the
formula cells without a saved value are said (``formulas_unsaved``)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl

from gridmap.io.xlsx import read_sheet

_CELLS = [  # (name, the formula cell in C, with {r} its reference and {s} a date style)
    ("number", '<c r="{r}"><f>1+2</f><v>3</v></c>'),
    ("fraction", '<c r="{r}"><f>1/3</f><v>0.33333333333333331</v></c>'),
    ("date", '<c r="{r}" s="{s}"><f>DATE(2020,1,2)</f><v>43832</v></c>'),
    ("leading zeros", '<c r="{r}" t="str"><f>"0012"</f><v>0012</v></c>'),
    ("boolean", '<c r="{r}" t="b"><f>TRUE()</f><v>1</v></c>'),
    ("error", '<c r="{r}" t="e"><f>NA()</f><v>#N/A</v></c>'),
    ("15 digits", '<c r="{r}"><f>A1</f><v>520602002001001</v></c>'),
    ("shared", '<c r="{r}"><f t="shared" ref="{r}:C20" si="0">B2</f><v>7</v></c>'),
    ("shared child", '<c r="{r}"><f t="shared" si="0"/><v>8</v></c>'),
    ("array", '<c r="{r}"><f t="array" ref="{r}">SUM(1)</f><v>1</v></c>'),
    ("never calculated", '<c r="{r}"><f>1+2</f></c>'),
    ("empty value", '<c r="{r}"><f>1+2</f><v></v></c>'),
    ("shared child, no value", '<c r="{r}"><f t="shared" si="0"/></c>'),
    # =IF(A2="","",…): Excel saves the empty text it calculated; not an unsaved formula
    ("empty text", '<c r="{r}" t="str"><f>IF(A1="","",A1)</f><v></v></c>'),
    ("text, never calculated", '<c r="{r}" t="str"><f>IF(A1="","",A1)</f></c>'),
]
_UNSAVED = ["never calculated", "empty value", "shared child, no value", "text, never calculated"]


def _workbook(path):
    """户号, 名称 and the formula cells of ``_CELLS`` in 值, their values saved as Excel saves
    them (openpyxl saves none: the cells are written into its sheet's XML)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "住户"
    sheet.append(["户号", "名称", "值"])
    for i, (name, _) in enumerate(_CELLS):
        sheet.append([f"H{i:03d}", name, dt.datetime(2020, 1, 1)])
        sheet.cell(i + 2, 3).number_format = "yyyy-mm-dd"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for i, (_, cell) in enumerate(_CELLS):
        ref = f"C{i + 2}"
        found = re.search(rf'<c r="{ref}" s="(\d+)"[^>]*>.*?</c>', xml)
        assert found is not None
        xml = xml.replace(found.group(0), cell.format(r=ref, s=found.group(1)))
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def _openpyxl_values(path) -> list[object]:
    """The saved values of 值 as openpyxl reads them, an error blank (as the reader did)."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [None if c.data_type == "e" else c.value
                for (c,) in book["住户"].iter_rows(min_row=2, min_col=3, max_col=3)]  # fmt: skip
    finally:
        book.close()


def test_formula_cells_read_as_their_saved_values_and_those_without_one_are_said(tmp_path):
    path = _workbook(tmp_path / "住户.xlsx")
    notes: list = []
    table = read_sheet(path, None, lambda rows: 0, notes)
    values = dict(zip(table["名称"], table["值"], strict=True))
    assert values == dict(zip(table["名称"], _openpyxl_values(path), strict=True))
    assert [type(values[n]) for n in ("number", "date", "leading zeros", "boolean", "15 digits")] \
        == [int, dt.datetime, str, bool, int]  # fmt: skip
    assert values["date"] == dt.datetime(2020, 1, 2) and values["leading zeros"] == "0012"
    assert values["shared child"] == 8 and values["15 digits"] == 520602002001001
    assert values["error"] is None and all(values[n] is None for n in _UNSAVED)
    assert values["empty text"] is None  # read blank, and not said to be unsaved
    rows = [i + 1 for i, (name, _) in enumerate(_CELLS) if name in _UNSAVED]
    assert [(n.code, dict(n.values)) for n in notes] == [
        ("formulas_unsaved", {"n": 4, "headers": ("值",), "rows": tuple(rows), "n_rows": 4})
    ]
