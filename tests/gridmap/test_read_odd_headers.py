"""Two-row headers saved without their merges (a roster saved as CSV) and the cells that mean
"no value" (``NULL``, ``#N/A`` …): every format reads them alike (gridmap/io/sheets.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gridmap.io.layers import read_layer
from gridmap.io.sheets import MISSING_VALUES

xlwt = pytest.importorskip("xlwt")
pytestmark = pytest.mark.filterwarnings("ignore::gridmap.io.notes.ReadWarning")

TITLE = ["碧江区广场社区住户花名册", "", "", "", ""]
UPPER = ["户号", "居住地址", "", "", "人数"]
LOWER = ["", "楼栋号", "单元", "房号", ""]
HOUSEHOLDS = [
    ["520602002001001", "B00001", "1", "101", "3"],
    ["520602002001002", "B00001", "2", "0201", "2"],
    ["520602002001003", "B00002", "1", "301", "4"],
]
COLUMNS = ["household_id", "building_id", "unit", "room", "size"]


def _csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    """As Excel and WPS save a sheet as CSV: every row as wide, CRLF line ends."""
    path.write_bytes("".join(",".join(r) + "\r\n" for r in rows).encode(encoding))
    return path


def _xlsx(path: Path, rows: list[list[str]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.worksheets[0].append([c or None for c in row])
    book.save(path)
    return path


def _xls(path: Path, rows: list[list[str]]) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("住户")
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell:
                sheet.write(i, j, cell)
    book.save(str(path))
    return path


def _html(path: Path, rows: list[list[str]]) -> Path:
    cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    path.write_text(f'<html><meta charset="utf-8"><table>{cells}</table></html>', "utf-8")
    return path


def _read(kind: str, tmp_path: Path, rows: list[list[str]]) -> pd.DataFrame:
    if kind in ("utf-8-sig", "gbk"):
        path = _csv(tmp_path / "住户.csv", rows, kind)
    elif kind == "xlsx":
        path = _xlsx(tmp_path / "住户.xlsx", rows)
    elif kind == "xls":
        path = _xls(tmp_path / "住户.xls", rows)
    else:
        path = _html(tmp_path / "住户.xls", rows)
    return read_layer(path, "household")


KINDS = ["utf-8-sig", "gbk", "xlsx", "xls", "html"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("title", [False, True], ids=["no title", "title"])
def test_a_two_row_header_without_merges_is_one_header(kind, title, tmp_path):
    """户号 and 人数 over blanks, 居住地址 over 楼栋号 单元 房号: the second row was a record."""
    rows = [TITLE] * title + [UPPER, LOWER, *HOUSEHOLDS]
    frame = _read(kind, tmp_path, rows)
    assert frame[COLUMNS].astype(str).values.tolist() == HOUSEHOLDS
    assert "address" not in frame.columns  # 居住地址 is a group's title


@pytest.mark.parametrize("kind", KINDS)
def test_the_lower_row_naming_more_columns_keeps_the_upper_headers(kind, tmp_path):
    """The header search picks 楼栋号 单元 房号 (3 headers) over 户号 人数: 户号 is still read."""
    upper = ["户号", "地址信息", "", "", "人数"]
    frame = _read(kind, tmp_path, [upper, LOWER, *HOUSEHOLDS])
    assert frame[COLUMNS].astype(str).values.tolist() == HOUSEHOLDS


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "first",
    [
        ["", "B00001", "1", "101", "3"],  # no 户号: an id is made of the address
        ["", "幸福楼", "", "", ""],  # a building named, no digit, no more
        ["", "B00001", "", "", ""],
    ],
    ids=["address", "building named", "building only"],
)
def test_a_first_record_with_a_blank_first_cell_stays_a_record(kind, first, tmp_path):
    """A header of one row with columns under no header (单元 房号 typed beside 楼栋号)."""
    header = ["户号", "楼栋号", "", "", "人数"]
    frame = _read(kind, tmp_path, [header, first, *HOUSEHOLDS])
    assert len(frame) == 4
    assert frame["building_id"].tolist() == [first[1], "B00001", "B00001", "B00002"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("token", ["NULL", "null", "#N/A", "N/A", "NA", "None", "nan"])
def test_no_value_tokens_are_blank_in_every_format(kind, token, tmp_path):
    """Web systems export NULL, Excel lookups #N/A: blank in a CSV, text in a workbook (was)."""
    header = ["户号", "楼栋号", "单元", "房号", "人数"]
    rows = [header, ["520602002001001", "B00001", token, "101", token], *HOUSEHOLDS[1:]]
    frame = _read(kind, tmp_path, rows)
    assert pd.isna(frame["unit"].iloc[0]) and pd.isna(frame["size"].iloc[0])
    assert frame["unit"].iloc[1:].tolist() == ["2", "1"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_cell_holding_more_than_a_token_is_kept(kind, tmp_path):
    header = ["户号", "楼栋号", "单元", "房号", "人数"]
    rows = [header, ["520602002001001", "NA栋", "NULL1", "101", "3"]]
    frame = _read(kind, tmp_path, rows)
    assert frame[["building_id", "unit"]].values.tolist() == [["NA栋", "NULL1"]]


def test_the_tokens_are_those_pandas_reads_as_missing_and_null():
    """One list for every reader: pandas' own (a CSV read as before), and ``Null``."""
    from pandas._libs.parsers import STR_NA_VALUES

    assert set(MISSING_VALUES) == set(STR_NA_VALUES) | {"Null"}
