"""What an office is told on reading, beyond what is read (gridmap/io/notes.py): a header of two
rows read as one, an area that is no valid polygon (a hole outside it, overlapping parts),
buildings drawn as lines; and a UTF-16 table of Chinese text saved without byte order mark."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon, box

from gridmap.io.layers import read_layer
from tests import office_files
from tests.gridmap.test_read_odd_headers import HOUSEHOLDS, KINDS, LOWER, TITLE, UPPER, _read

pytestmark = pytest.mark.filterwarnings("ignore::gridmap.io.notes.ReadWarning")


def _notes(frame, code: str) -> list[dict]:
    return [dict(n.values) for n in frame.attrs["notes"] if n.code == code]


# --- a header of two rows -----------------------------------------------------------------------

ADDRESS = ["居住地址·楼栋号", "居住地址·单元", "居住地址·房号"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("title", [False, True], ids=["no title", "title"])
def test_a_two_row_header_read_as_one_is_said(kind, title, tmp_path):
    """A roster's two-row header saved as CSV (or typed so): the office hears which rows."""
    frame = _read(kind, tmp_path, [TITLE] * title + [UPPER, LOWER, *HOUSEHOLDS])
    (note,) = _notes(frame, "header_rows_combined")
    assert note == {"rows": (1 + title, 2 + title), "headers": tuple(ADDRESS), "n": 3}
    (message,) = [n.message_zh for n in frame.attrs["notes"] if n.code == "header_rows_combined"]
    assert f"表头占两行（第 {1 + title}、{2 + title} 行），已合并为一行：居住地址·楼栋号" in message


@pytest.mark.parametrize("kind", KINDS)
def test_a_header_of_one_row_is_not_said_to_be_two(kind, tmp_path):
    header = ["户号", "楼栋号", "单元", "房号", "人数"]
    frame = _read(kind, tmp_path, [header, *HOUSEHOLDS])
    assert not _notes(frame, "header_rows_combined")


def test_a_merged_two_row_header_of_a_workbook_is_said(tmp_path):
    """户号 and 人数 merged down both rows, 居住地址 merged across 楼栋号 单元 房号."""
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    for row in [TITLE, UPPER, LOWER, *HOUSEHOLDS]:
        sheet.append([c or None for c in row])
    for cells in ("A1:E1", "A2:A3", "B2:D2", "E2:E3"):
        sheet.merge_cells(cells)
    book.save(tmp_path / "住户.xlsx")
    frame = read_layer(tmp_path / "住户.xlsx", "household")
    assert frame["building_id"].tolist() == ["B00001", "B00001", "B00002"]
    (note,) = _notes(frame, "header_rows_combined")
    assert note == {"rows": (2, 3), "headers": tuple(ADDRESS), "n": 3}


# --- areas that are no valid polygon ------------------------------------------------------------


def _write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    frame.to_file(path, driver="GeoJSON")
    return path


def _square_beside(geom, side: float = 0.001) -> Polygon:
    minx, miny, maxx, maxy = geom.bounds
    return box(maxx + side, miny, maxx + 2 * side, miny + side)


def test_a_community_with_a_hole_outside_its_shell_is_noted(tmp_path):
    """A hole drawn beside the boundary (a ring digitised into the wrong feature): make_valid
    makes it a part of its own, which partition called a detached part."""
    communities = office_files.sample_layers()["communities"].to_crs(4326)
    shell = communities.geometry.iloc[0]
    shell = shell.geoms[0] if isinstance(shell, MultiPolygon) else shell
    hole = _square_beside(shell).exterior.coords
    communities.loc[communities.index[0], "geometry"] = Polygon(shell.exterior.coords, [hole])
    code = str(communities["community_code"].iloc[0])
    frame = read_layer(_write(communities, tmp_path / "社区.geojson"), "community")
    (note,) = [n for n in frame.attrs["notes"] if n.code == "boundary_invalid"]
    values = dict(note.values)
    assert (values["entity"], values["id"], values["kind"]) == ("community", code, "hole_outside")
    assert values["parts"] == 2 and values["after"] > values["before"]
    assert f"社区 {code} 的边界的洞（内环）在外环之外" in note.message_zh
    assert not [n for n in frame.attrs["notes"] if n.code == "boundary_crosses_itself"]


def _square_across(geom, side: float = 0.001) -> Polygon:
    """A square over the east edge of ``geom``: a part overlapping it."""
    minx, miny, maxx, maxy = geom.bounds
    return box(maxx - side / 2, miny, maxx + side, miny + side)


def _bow_tie(geom, side: float = 0.001) -> Polygon:
    """A part east of ``geom`` whose outline crosses itself (corners digitised out of order)."""
    minx, miny, maxx, maxy = geom.bounds
    x, y = maxx + side, miny
    return Polygon([(x, y), (x + side, y + side), (x + side, y), (x, y + side)])


@pytest.mark.parametrize(
    ("second", "kind", "words"),
    [
        (lambda a: box(*a.centroid.buffer(0.0002).bounds), "parts_nested", "多个面相互重叠"),
        (_square_across, "parts_overlap", "多个相互重叠的面"),
        (_bow_tie, "crosses_itself", "自相交"),
    ],
    ids=["nested", "overlapping", "bow-tie part"],
)
def test_compound_parts_overlapping_or_nested_are_noted(second, kind, words, tmp_path):
    compounds = office_files.sample_layers()["compounds"].to_crs(4326)
    first = compounds.geometry.iloc[2]
    first = first.geoms[0] if isinstance(first, MultiPolygon) else first
    compounds.loc[compounds.index[2], "geometry"] = MultiPolygon([first, second(first)])
    code = str(compounds["compound_id"].iloc[2])
    frame = read_layer(_write(compounds, tmp_path / "小区.geojson"), "compound")
    (note,) = [n for n in frame.attrs["notes"] if n.code == "boundary_invalid"]
    assert (dict(note.values)["id"], dict(note.values)["kind"]) == (code, kind)
    assert f"小区 {code} 的边界" in note.message_zh and words in note.message_zh


def test_valid_areas_are_not_noted(tmp_path):
    communities = office_files.sample_layers()["communities"].to_crs(4326)
    frame = read_layer(_write(communities, tmp_path / "社区.geojson"), "community")
    assert not _notes(frame, "boundary_invalid")


# --- buildings drawn as lines -------------------------------------------------------------------


def test_buildings_drawn_as_lines_are_said_to_be_placed_by_a_point(tmp_path):
    """A CAD export: one footprint is its closed outline (read as the footprint it encloses),
    one an open line and one a collection (placed by a point)."""
    buildings = office_files.sample_layers()["buildings"].to_crs(4326).iloc[:30].copy()
    geoms = list(buildings.geometry)
    outline = geoms[3]
    geoms[3] = geoms[3].exterior if geoms[3].geom_type == "Polygon" else geoms[3].boundary
    geoms[7] = shapely.LineString(list(geoms[7].exterior.coords)[:3])
    geoms[9] = GeometryCollection([geoms[9].exterior, geoms[9].centroid])
    buildings = buildings.set_geometry(gpd.GeoSeries(geoms, index=buildings.index, crs=4326))
    ids = [str(buildings["building_id"].iloc[i]) for i in (7, 9)]
    frame = read_layer(_write(buildings, tmp_path / "楼栋.geojson"), "building")
    (note,) = [n for n in frame.attrs["notes"] if n.code == "placed_by_point"]
    assert dict(note.values) == {"ids": tuple(ids), "n": 2, "kinds": ("line", "collection")}
    assert "2 栋楼画成了线、图形集合" in note.message_zh and ids[0] in note.message_zh
    (closed,) = [n for n in frame.attrs["notes"] if n.code == "outlines_as_areas"]
    assert dict(closed.values) == {"entity": "building", "n": 1}
    assert frame.geometry.iloc[3].geom_type == "Polygon"
    assert shapely.equals_exact(shapely.normalize(frame.geometry.iloc[3]),
                                shapely.normalize(outline), tolerance=1e-9)  # fmt: skip


def test_building_footprints_and_points_are_not_said_to_be_lines(tmp_path):
    buildings = office_files.sample_layers()["buildings"].to_crs(4326).iloc[:30].copy()
    buildings.loc[buildings.index[:5], "geometry"] = buildings.geometry.iloc[:5].centroid
    frame = read_layer(_write(buildings, tmp_path / "楼栋.geojson"), "building")
    assert not _notes(frame, "placed_by_point")


# --- UTF-16 without byte order mark -------------------------------------------------------------

NUMBERS = "一二三四五六七八九十"
COMPOUNDS = "小区名称,所属街道,物业公司,备注\r\n" + "".join(
    f"铜兴{n}区,河西街道,铜仁市碧江区一诺物业管理有限责任公司,第{n}期\r\n" for n in NUMBERS * 4
)
"""A compounds table of Chinese text alone (no code, no number): few zero bytes in UTF-16."""


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark_of_chinese_text_is_read(codec, tmp_path):
    path = tmp_path / "小区.csv"
    path.write_bytes(COMPOUNDS.encode(codec))
    frame = read_layer(path, "compound")
    assert frame.attrs["encoding"] == "UTF-16"
    assert frame["name"].tolist()[:3] == ["铜兴一区", "铜兴二区", "铜兴三区"]
    assert frame["property_company"].eq("铜仁市碧江区一诺物业管理有限责任公司").all()


@pytest.mark.parametrize("codec", ["gbk", "utf-8"])
def test_the_same_table_in_gbk_or_utf8_is_not_taken_for_utf16(codec, tmp_path):
    """GBK bytes of Chinese text decode as UTF-16 too, but hold no ASCII line end there."""
    path = tmp_path / "小区.csv"
    path.write_bytes(COMPOUNDS.encode(codec))
    frame = read_layer(path, "compound")
    assert frame.attrs["encoding"] == {"gbk": "GB18030", "utf-8": "UTF-8"}[codec]
    assert frame["name"].iloc[0] == "铜兴一区"
