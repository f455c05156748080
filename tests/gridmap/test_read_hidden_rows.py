"""Rows and columns an office hid in a workbook (an AutoFilter showing one community, rows or
columns hidden by hand) are read like the others, and a note says so: the import holds more
households than the office saw on screen."""

from __future__ import annotations

import pytest

from gridmap import read_layer
from gridmap.io.hidden import hidden_cells

_COMMUNITIES = ["幸福社区", "和平社区", "幸福社区", "和平社区", "和平社区", "幸福社区", "和平社区"]


def _roster(path, *, filtered=False, hide_rows=(), hide_cols=(), formula=False):
    """A households roster under a title row: 户号, 楼栋编号, 所属社区, 联系电话 (data from
    sheet row 3). ``filtered``: an AutoFilter on 所属社区 showing 幸福社区, the others hidden
    as Excel saves them; ``formula``: a 户数 cell computed."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "住户"
    sheet["A1"] = "某街道住户花名册"
    sheet.append(["户号", "楼栋编号", "所属社区", "联系电话", "户数"])
    for i, community in enumerate(_COMMUNITIES, start=1):
        count = "=1+0" if formula and i == 1 else 1
        sheet.append([f"H{i:03d}", f"B{i % 3 + 1}", community, f"1380000{i:04d}", count])
    if formula:  # a value saved, as Excel saves it (openpyxl writes none)
        sheet["E3"].value = "=1+0"
    if filtered:
        sheet.auto_filter.ref = f"A2:E{len(_COMMUNITIES) + 2}"
        sheet.auto_filter.add_filter_column(2, ["幸福社区"])
        hide_rows = [r for r, c in enumerate(_COMMUNITIES, start=3) if c != "幸福社区"]
    for row in hide_rows:
        sheet.row_dimensions[row].hidden = True
    for col in hide_cols:
        sheet.column_dimensions[col].hidden = True
    book.save(path)


def _note(frame):
    notes = [n for n in frame.attrs["notes"] if n.code == "hidden_read"]
    assert len(notes) <= 1
    return notes[0] if notes else None


@pytest.mark.parametrize("formula", [False, True], ids=["values", "a formula"])
def test_rows_an_autofilter_hides_are_read_and_said(tmp_path, formula):
    path = tmp_path / "住户.xlsx"
    _roster(path, filtered=True, formula=formula)
    households = read_layer(path, "household")
    assert len(households) == len(_COMMUNITIES)  # every row, the hidden ones too
    note = _note(households)
    hidden = [i for i, c in enumerate(_COMMUNITIES, start=1) if c != "幸福社区"]
    assert dict(note.values)["rows"] == tuple(hidden)
    zh = note.message("zh")
    assert f"表格设置了筛选，筛选隐藏的 {len(hidden)} 行也已读入" in zh
    assert "数据行 " + "、".join(map(str, hidden)) in zh
    assert "AutoFilter" in note.message("en")
    assert "1380000" not in zh + note.message("en")  # no personal data


@pytest.mark.parametrize("formula", [False, True], ids=["values", "a formula"])
def test_rows_and_columns_hidden_by_hand_are_said(tmp_path, formula):
    path = tmp_path / "住户.xlsx"
    _roster(path, hide_rows=[1, 4, 5], hide_cols=["D"], formula=formula)  # 1: the title row
    households = read_layer(path, "household")
    assert len(households) == len(_COMMUNITIES)
    zh, en = _note(households).message("zh"), _note(households).message("en")
    assert "表格中隐藏的 2 行也已读入（数据行 2、3）" in zh
    assert "筛选" not in zh
    assert "隐藏的列 “联系电话” 也已读入" in zh
    assert "2 data row(s) hidden" in en and "['联系电话']" in en


def test_many_hidden_rows_name_the_first_only(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["户号", "楼栋编号", "所属社区"])
    for i in range(1, 61):
        sheet.append([f"H{i:03d}", "B1", "幸福社区"])
        if i > 10:
            sheet.row_dimensions[i + 1].hidden = True
    path = tmp_path / "住户.xlsx"
    book.save(path)
    zh = _note(read_layer(path, "household")).message("zh")
    assert "隐藏的 50 行" in zh and "数据行 11、12" in zh and "（共 50 行）" in zh
    assert "、31 " not in zh and "、30 …" in zh  # ROWS_SHOWN (20) named


@pytest.mark.parametrize("formula", [False, True], ids=["values", "a formula"])
def test_a_workbook_hiding_nothing_gets_no_note(tmp_path, formula):
    path = tmp_path / "住户.xlsx"
    _roster(path, formula=formula, hide_cols=["H"])  # a hidden column beyond the table
    households = read_layer(path, "household")
    assert len(households) == len(_COMMUNITIES)
    assert _note(households) is None


def test_hidden_cells_of_the_sheet_named(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "说明"
    other = book.create_sheet("住户 & 单位")  # an escaped name
    other.append(["户号"])
    other.append(["H1"])
    other.row_dimensions[2].hidden = True
    other.column_dimensions.group("B", "D", hidden=True)
    path = tmp_path / "住户.xlsx"
    book.save(path)
    found = hidden_cells(path, "住户 & 单位")
    assert found is not None and found.rows == {2} and found.cols == {2, 3, 4}
    assert not found.filtered
    assert hidden_cells(path, "说明") == (frozenset(), frozenset(), False)
    assert hidden_cells(path, "没有") is None
