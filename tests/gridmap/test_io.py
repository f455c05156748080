"""Reading office files: every format, Chinese headers, mappings, CRSs, spreadsheet pitfalls."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from openpyxl.worksheet.worksheet import Worksheet
from pyproj import Transformer
from shapely import box

from gridmap.attach.validate import validate_layer
from gridmap.errors import CRSError, InputError
from gridmap.io.layers import read_layer, write_layer

GK = "EPSG:4545"  # CGCS2000 3° Gauss-Krüger, CM 108°E (Tongren)
TO_GK = Transformer.from_crs(4326, GK, always_xy=True)
LON, LAT = 109.18, 27.72
X, Y = TO_GK.transform(LON, LAT)

# Headers short enough for shapefile DBF fields (10 bytes), all Chinese.
OFFICE_BUILDINGS = {
    "编号": ["001", "002", "010"],
    "户数": [12, 30, 0],
    "地址": ["清水塘路1号", "清水塘路2号", "清水塘路10号"],
    "层数": [6, 11, 2],
}


@pytest.fixture
def office_buildings() -> gpd.GeoDataFrame:
    """Three building footprints drawn in EPSG:4545, with Chinese headers."""
    geoms = [box(X + 40 * i, Y, X + 40 * i + 30, Y + 20) for i in range(3)]
    return gpd.GeoDataFrame(OFFICE_BUILDINGS, geometry=geoms, crs=GK)


def _zip_shapefile(shp, target):
    with zipfile.ZipFile(target, "w") as zf:
        for part in shp.parent.glob(shp.stem + ".*"):
            zf.write(part, part.name)
    return target


def _write_every_format(frame: gpd.GeoDataFrame, tmp_path) -> dict[str, Path]:
    (tmp_path / "shp").mkdir()
    paths = {
        "geojson": write_layer(frame.to_crs(4326), tmp_path / "b.geojson"),
        "gpkg": write_layer(frame, tmp_path / "b.gpkg", layer="楼栋"),
        "shp": write_layer(frame, tmp_path / "shp" / "b.shp"),
        "parquet": write_layer(frame, tmp_path / "b.parquet"),
        "csv": write_layer(frame, tmp_path / "b.csv"),
        "xlsx": write_layer(frame, tmp_path / "b.xlsx"),
    }
    paths["zip"] = _zip_shapefile(paths["shp"], tmp_path / "b.zip")
    return paths


def test_every_format_gives_the_same_records(office_buildings, tmp_path):
    paths = _write_every_format(office_buildings, tmp_path)
    expected = office_buildings.to_crs(4326)
    for fmt, path in paths.items():
        frame, issues = validate_layer(read_layer(path, "building"), "building")
        assert issues == [], fmt
        assert frame.crs.to_epsg() == 4326, fmt
        assert frame["building_id"].tolist() == ["001", "002", "010"], fmt  # leading zeros kept
        assert frame["households"].tolist() == [12, 30, 0], fmt
        assert frame["floors"].tolist() == [6, 11, 2], fmt
        assert frame["address"].tolist() == OFFICE_BUILDINGS["地址"], fmt
        # Shapefiles store shells clockwise: compare normalised geometries.
        same = shapely.equals_exact(
            shapely.normalize(frame.geometry.values),
            shapely.normalize(expected.geometry.values),
            1e-9,
        )
        assert same.all(), fmt


def test_crs_is_transformed_to_lon_lat(tmp_path):
    frame = gpd.GeoDataFrame({"楼栋编号": ["B1"]}, geometry=gpd.points_from_xy([X], [Y]), crs=GK)
    frame.to_file(tmp_path / "b.gpkg")
    out = read_layer(tmp_path / "b.gpkg", "building")
    assert out.crs.to_epsg() == 4326
    assert (out.geometry.x[0], out.geometry.y[0]) == pytest.approx((LON, LAT), abs=1e-8)


def test_shapefile_without_prj_needs_a_crs(office_buildings, tmp_path):
    shp = tmp_path / "b.shp"
    office_buildings.to_file(shp)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match="b.shp has no CRS"):
        read_layer(shp, "building")
    out = read_layer(shp, "building", crs=GK)
    assert 109.17 < out.total_bounds[0] < out.total_bounds[2] < 109.19


def test_zip_with_several_shapefiles_takes_a_layer(office_buildings, tmp_path):
    for name, rows in (("a", [0]), ("b", [1, 2])):
        (tmp_path / name).mkdir()
        office_buildings.iloc[rows].to_file(tmp_path / name / f"{name}.shp")
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as zf:
        for part in tmp_path.glob("[ab]/*"):
            zf.write(part, part.name)
    assert read_layer(tmp_path / "two.zip", "building", layer="b")["building_id"].tolist() == [
        "002",
        "010",
    ]


def test_csv_with_lon_lat_columns_and_gb18030_encoding(tmp_path):
    path = tmp_path / "households.csv"
    text = "户号,楼栋号,经度,纬度,备注\n0001,B01,109.18,27.72,五楼\n0002,B01,,,\n"
    path.write_bytes(text.encode("gb18030"))
    out = read_layer(path, "household")
    assert out["household_id"].tolist() == ["0001", "0002"]
    assert "备注" not in out.columns  # extra columns are dropped by default
    assert out.geometry.iloc[0].coords[0] == (109.18, 27.72)
    assert out.geometry.iloc[1] is None


def test_csv_with_projected_coordinates_needs_a_crs(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(f"楼栋编号,x,y\nB1,{X},{Y}\n", encoding="utf-8")
    with pytest.raises(CRSError, match="not lon/lat"):
        read_layer(path, "building")
    out = read_layer(path, "building", crs=GK)
    assert (out.geometry.x[0], out.geometry.y[0]) == pytest.approx((LON, LAT), abs=1e-8)


def test_unparseable_coordinates_warn_with_row_numbers(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("户号,经度,纬度\nH1,109.18,27.72\nH2,abc,27.7\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"data row\(s\) 2: lon/lat are not numbers"):
        out = read_layer(path, "household")
    assert out.geometry.isna().tolist() == [False, True]
    (note,) = out.attrs["notes"]  # the commands print it in the language asked for
    assert note.message_zh == "h.csv：数据行 2 的经纬度不是数字，这些记录没有位置。"


def test_table_without_geometry_gives_null_geometry_for_households(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("户编号,楼栋编号,单元,房号\n001,B01,1,0502\n", encoding="utf-8")
    out = read_layer(path, "household")
    assert isinstance(out, gpd.GeoDataFrame) and out.geometry.isna().all()
    assert out.loc[0, ["unit", "room"]].tolist() == ["1", "0502"]


def _office_roster(path, id_number_cell: object = "110105194912310011"):
    wb = openpyxl.Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)
    ws.title = "花名册"
    ws.append(["清水塘社区人口花名册（2024年）"])  # a title line above the header
    ws.append(["人员编号", "户号", "姓名", "公民身份号码", "联系电话", "性别", "出生日期",
               "与户主关系", "人口类型", "备注"])  # fmt: skip
    ws.append(["0001", "001", "张三", id_number_cell, "13800001234", "男",
               datetime(1949, 12, 31), "户主", "户籍人口", "x"])  # fmt: skip
    ws.append([2, "001", "李四", "110105195001010020", 13800004321, "女", "1950-01-01", "配偶",
               "常住", None])  # fmt: skip
    ws.append([None] * 10)  # padding rows are not records
    wb.save(path)
    return path


def test_xlsx_roster_with_chinese_headers_and_a_title_row(tmp_path):
    out = read_layer(_office_roster(tmp_path / "roster.xlsx"), "person")
    assert isinstance(out, pd.DataFrame) and not isinstance(out, gpd.GeoDataFrame)
    assert list(out.columns) == [
        "person_id", "household_id", "name", "id_number", "phone", "sex", "birth_date",
        "relationship", "population_type",
    ]  # fmt: skip
    assert out["person_id"].tolist() == ["0001", "2"]
    assert out["id_number"].tolist() == ["110105194912310011", "110105195001010020"]
    assert out["phone"].tolist() == ["13800001234", "13800004321"]
    assert out["birth_date"].tolist() == ["1949-12-31", "1950-01-01"]
    clean, issues = validate_layer(out, "person")
    assert issues == []
    assert clean["population_type"].tolist() == ["registered", "resident"]


def test_xlsx_id_number_stored_as_number_warns(tmp_path):
    path = _office_roster(tmp_path / "roster.xlsx", id_number_cell=110105194912310021)
    with pytest.warns(UserWarning, match=r"data row\(s\) 1 are stored as numbers"):
        out = read_layer(path, "person")
    assert [n.code for n in out.attrs["notes"]] == ["id_numbers_as_numbers"]
    assert "数据行 1 的身份证号存成了数字" in out.attrs["notes"][0].message_zh


def test_mapping_option_and_mapping_file(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("住户代码,所在楼,手机\nH1,B1,13800001234\n", encoding="utf-8")
    with pytest.raises(InputError, match="no household_id column"):
        read_layer(path, "household")
    out = read_layer(
        path, "household", mapping={"住户代码": "household_id", "所在楼": "building_id"}
    )
    assert out.loc[0, ["household_id", "building_id"]].tolist() == ["H1", "B1"]
    toml = tmp_path / "mapping.toml"
    toml.write_text('[household]\n住户代码 = "household_id"\n"所在楼" = "building_id"\n', "utf-8")
    assert read_layer(path, "household", mapping=toml).equals(out)


def test_mapping_errors_name_the_problem(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("人员编号,户号,电话,联系电话\nP1,H1,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="same column .*phone"):
        read_layer(path, "person")
    out = read_layer(path, "person", mapping={"电话": ""})  # an empty target ignores a header
    assert out["phone"].tolist() == ["2"]
    with pytest.raises(InputError, match="unknown column"):
        read_layer(path, "person", mapping={"电话": "telephone"})


def test_keep_extra_columns(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("楼栋编号,备注\nB1,临街\n", encoding="utf-8")
    assert read_layer(path, "building", keep_extra=True)["备注"].tolist() == ["临街"]


def test_unsupported_or_missing_files(tmp_path):
    (tmp_path / "old.xls").write_bytes(b"")  # neither a workbook nor a table: said so
    with pytest.raises(InputError, match=r"Cannot read table old\.xls"):
        read_layer(tmp_path / "old.xls", "person")
    with pytest.raises(InputError, match="File not found"):
        read_layer(tmp_path / "nope.gpkg", "building")
    with pytest.raises(InputError, match="Unknown entity 'house'"):
        read_layer(tmp_path / "old.xls", "house")
