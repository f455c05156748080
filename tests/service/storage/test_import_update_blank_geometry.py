"""``import --update``: a record whose geometry the file leaves blank keeps its stored one.

A community office keeps its 住户 roster in Excel and saves it as GBK CSV: 户号, 楼栋编号,
单元, 房号, 人口数 and the coordinates (经度/纬度) of the households someone visited with a
phone; the cells of the others are blank. Next month's roster is the same table with a few
coordinates added and a few sizes changed. A blank cell is no place: the household keeps its
stored point, and a household with a blank point and nothing else changed is unchanged. A
row with coordinates takes them. Compounds drawn in a WKT column follow the same rule;
buildings keep their footprint rule (:mod:`service.storage.footprints`). Persons are placed
by their 经度/纬度 only to find their household, and their ID numbers and phones stay.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import box
from typer.testing import CliRunner

from service.importer import import_files
from service.storage import models as m
from service.storage.values import shapes_from_wkb
from tests.service.storage.test_import_update_links import _rows

CODE = "520602001001"
SPOTS = {"B1": (109.001, 27.701), "B2": (109.004, 27.705)}
HALF = 1e-4  # half a footprint's side, degrees (about 10 m)
HOMES = {  # 户号 → (楼栋编号, 单元, 房号, 人口数, point of the first roster)
    "B1-1-301": ("B1", "1", "301", 3, (109.00101, 27.70102)),
    "B1-1-302": ("B1", "1", "302", 2, (109.00104, 27.70103)),
    "B2-2-501": ("B2", "2", "501", 4, (109.00402, 27.70501)),
    "B2-2-502": ("B2", "2", "502", 1, (109.00405, 27.70498)),
}
MOVED = (109.00097, 27.70099)  # B1-1-301's point in the update (re-taken at the door)
PERSONS = {  # 人员编号 → (户号, 身份证号 (a fictitious number), 联系电话)
    "P1": ("B1-1-301", "520602198001010010", "13800000011"),
    "P2": ("B1-1-302", "520602198505050024", "13800000012"),
    "P3": ("B2-2-501", "52060219900909003X", "13800000013"),
}


def _gbk(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """A table as an office saves it from Excel: GBK CSV, Chinese headers, blank cells."""
    with path.open("w", encoding="gbk", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def _households(
    path: Path, points: dict[str, tuple[float, float] | None], sizes: dict[str, int] | None = None
) -> Path:
    rows = [
        [h, b, unit, room, (sizes or {}).get(h, n), *(points.get(h) or (None, None))]
        for h, (b, unit, room, n, _) in HOMES.items()
    ]
    return _gbk(path, ["户号", "楼栋编号", "单元", "房号", "人口数", "经度", "纬度"], rows)


def _persons(path: Path, points: dict[str, tuple[float, float] | None]) -> Path:
    rows = [
        [p, h, "张三", number, phone, "户主", *(points.get(p) or (None, None))]
        for p, (h, number, phone) in PERSONS.items()
    ]
    return _gbk(
        path,
        ["人员编号", "户号", "姓名", "身份证号", "联系电话", "与户主关系", "经度", "纬度"],
        rows,
    )


def _first_import(url: str, tmp_path: Path) -> None:
    """A community, two footprints, the households with their points, the persons."""
    communities = tmp_path / "社区.geojson"
    gpd.GeoDataFrame(
        {"社区代码": [CODE], "社区名称": ["示例社区"]},
        geometry=[box(109.0, 27.7, 109.01, 27.71)],
        crs=4326,
    ).to_file(communities, driver="GeoJSON")
    buildings = tmp_path / "楼栋.geojson"
    squares = [box(x - HALF, y - HALF, x + HALF, y + HALF) for x, y in SPOTS.values()]
    gpd.GeoDataFrame({"楼栋编号": list(SPOTS), "户数": [2, 2]}, geometry=squares, crs=4326).to_file(
        buildings, driver="GeoJSON"
    )
    households = _households(tmp_path / "住户.csv", {h: v[4] for h, v in HOMES.items()})
    persons = _persons(tmp_path / "人口.csv", {})
    import_files(
        {
            "community": communities,
            "building": buildings,
            "household": households,
            "person": persons,
        },
        url=url,
    )


def _geometries(url: str, model: type[m.Base]) -> dict[str, shapely.Geometry | None]:
    stored = _rows(url, model.geom)  # type: ignore[attr-defined]
    return dict(zip(stored, shapes_from_wkb(v for (v,) in stored.values()), strict=True))


def _at(point: shapely.Geometry | None) -> tuple[float, float] | None:
    if point is None:
        return None
    return round(float(shapely.get_x(point)), 6), round(float(shapely.get_y(point)), 6)


def test_household_rows_with_blank_coordinates_keep_their_points(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    # July: B1-1-301 re-taken at the door, B1-1-302 and B2-2-502 blank (B2-2-502 now 2
    # persons), B2-2-501 as it was
    roster = _households(
        tmp_path / "住户_7月.csv",
        {"B1-1-301": MOVED, "B2-2-501": HOMES["B2-2-501"][4]},
        sizes={"B2-2-502": 2},
    )
    result = import_files({"household": roster}, url=store_url, update=True)
    stored = {h: _at(p) for h, p in _geometries(store_url, m.Household).items()}
    assert stored == {
        "B1-1-301": MOVED,
        "B1-1-302": HOMES["B1-1-302"][4],
        "B2-2-501": HOMES["B2-2-501"][4],
        "B2-2-502": HOMES["B2-2-502"][4],
    }
    h = result.changes["household"]
    # B1-1-301's point and B2-2-502's size; B1-1-302 (blank point) and B2-2-501 as they were
    assert (h.added, h.updated, h.unchanged) == (0, 2, 2)
    sizes = {h: n for h, (n,) in _rows(store_url, m.Household.size).items()}
    assert sizes == {"B1-1-301": 3, "B1-1-302": 2, "B2-2-501": 4, "B2-2-502": 2}


def test_a_household_without_a_stored_point_takes_the_file_point(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    header = ["户号", "楼栋编号", "单元", "房号", "人口数", "经度", "纬度"]
    rows = [[h, b, unit, room, n, None, None] for h, (b, unit, room, n, _) in HOMES.items()]
    # June: a new household moved in, nobody has been there with a phone yet
    june = _gbk(
        tmp_path / "住户_6月.csv", header, [*rows, ["B2-2-601", "B2", "2", "601", 3, None, None]]
    )
    result = import_files({"household": june}, url=store_url, update=True)
    assert _geometries(store_url, m.Household)["B2-2-601"] is None
    h = result.changes["household"]
    assert (h.added, h.updated, h.unchanged) == (1, 0, 4)
    # July: its point taken at the door; the other rows still blank
    july = _gbk(
        tmp_path / "住户_7月.csv",
        header,
        [*rows, ["B2-2-601", "B2", "2", "601", 3, 109.00407, 27.70503]],
    )
    result = import_files({"household": july}, url=store_url, update=True)
    stored = {h: _at(p) for h, p in _geometries(store_url, m.Household).items()}
    assert stored == {**{h: v[4] for h, v in HOMES.items()}, "B2-2-601": (109.00407, 27.70503)}
    h = result.changes["household"]
    assert (h.added, h.updated, h.unchanged) == (0, 1, 4)


def test_persons_with_blank_coordinates_keep_household_and_count_unchanged(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    roster = _persons(tmp_path / "人口_7月.csv", {"P1": HOMES["B1-1-301"][4]})
    result = import_files({"person": roster}, url=store_url, update=True)
    p = result.changes["person"]
    assert (p.added, p.updated, p.unchanged) == (0, 0, 3)
    assert _rows(store_url, m.Person.household_id, m.Person.id_number) == {
        p: (h, number) for p, (h, number, _) in PERSONS.items()
    }
    assert all(p is not None for p in _geometries(store_url, m.Household).values())


def test_compound_rows_with_blank_wkt_keep_their_outline(store_url, tmp_path):
    _first_import(store_url, tmp_path)
    outline = box(109.0005, 27.7005, 109.0045, 27.7055)
    first = _gbk(
        tmp_path / "小区.csv",
        ["小区编号", "小区名称", "社区代码", "WKT"],
        [
            ["XQ01", "阳光小区", CODE, outline.wkt],
            ["XQ02", "锦江小区", CODE, box(109.006, 27.706, 109.009, 27.709).wkt],
        ],
    )
    import_files({"compound": first}, url=store_url, update=True)
    again = _gbk(
        tmp_path / "小区_7月.csv",
        ["小区编号", "小区名称", "社区代码", "WKT"],
        [
            ["XQ01", "阳光小区", CODE, None],
            ["XQ02", "锦江花园", CODE, None],
            ["XQ03", "翠苑小区", CODE, box(109.001, 27.706, 109.003, 27.708).wkt],
        ],
    )
    result = import_files({"compound": again}, url=store_url, update=True)
    c = result.changes["compound"]
    assert (c.added, c.updated, c.unchanged) == (1, 1, 1)  # XQ03; XQ02's name
    stored = _geometries(store_url, m.Compound)
    assert stored["XQ01"] is not None and shapely.equals(stored["XQ01"], outline)
    assert stored["XQ02"] is not None and stored["XQ02"].area > 0


def test_cli_update_counts_a_blank_point_row_as_unchanged(store_url, tmp_path):
    from service.cli import app

    _first_import(store_url, tmp_path)
    roster = _households(tmp_path / "住户_7月.csv", {"B1-1-301": HOMES["B1-1-301"][4]})
    result = CliRunner().invoke(
        app,
        [
            "import",
            "--db",
            store_url,
            "--update",
            "--report-dir",
            str(tmp_path / "报告"),
            "--households",
            str(roster),
        ],
    )
    assert result.exit_code == 0, result.output
    assert all(p is not None for p in _geometries(store_url, m.Household).values())
    (line,) = [line for line in result.output.splitlines() if line.startswith("│ 住户")]
    # 读取 新增 更新 未变 删除: the blank rows are as they were
    assert [int(n) for n in re.findall(r"\d+", line)] == [4, 0, 0, 4, 0], result.output
