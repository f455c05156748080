"""read_layer on files as offices have them: encodings, header names, missing ids, layers, CRSs."""

from __future__ import annotations

import shutil
import zipfile

import geopandas as gpd
import numpy as np
import openpyxl
import openpyxl.styles
import pandas as pd
import pytest
import shapely
from openpyxl.worksheet.worksheet import Worksheet

from gridmap.errors import CRSError, InputError
from gridmap.idnumbers import gb11643_check_digit
from gridmap.io.encodings import dbf_text_encoding
from gridmap.io.headers import resolve_columns, resolve_headers
from gridmap.io.layers import read_layer
from gridmap.schema import BUILDING, COMMUNITY, PERSON
from tests import office_files


@pytest.fixture(scope="module")
def gbk(tmp_path_factory):
    """The GBK Shapefile set with and without .cpg (written once for the module)."""
    root = tmp_path_factory.mktemp("gbk")
    return (office_files.gbk_shapefiles(root / "cpg", cpg=True),
            office_files.gbk_shapefiles(root / "nocpg", cpg=False))  # fmt: skip


def _said(frame, lang="en"):
    """The notes of a frame read, as a person reads them in ``lang``."""
    return [note.message(lang) for note in frame.attrs["notes"]]


def _zip(shp, target):
    with zipfile.ZipFile(target, "w") as archive:
        for part in shp.parent.glob(shp.stem + ".*"):
            archive.write(part, part.name)
    return target


# --- encodings ---------------------------------------------------------------------------------


def test_gbk_shapefile_without_cpg_reads_like_with_cpg(gbk):
    with_cpg, without = gbk
    a = read_layer(with_cpg.buildings, "building")
    b = read_layer(without.buildings, "building")
    assert b["name"].iloc[0] == "清水塘小区1栋" and b["address"].str.contains("铜仁市碧江区").all()
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")))  # fmt: skip
    assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all()
    assert b.attrs["encoding"] == "GB18030" and a.attrs["encoding"] == "GBK"
    assert _said(b) == ["buildings.shp: text read as GB18030 (no .cpg)"]
    assert _said(b, "zh") == ["buildings.shp：没有 .cpg 文件，按内容判断，文字以 GB18030 读取"]
    assert [(n.code, dict(n.values)) for n in b.attrs["notes"]] == [
        ("encoding_detected", {"encoding": "GB18030"})
    ]


def test_zipped_gbk_shapefile_without_cpg(gbk, tmp_path):
    _, without = gbk
    path = _zip(without.compounds, tmp_path / "小区.zip")
    out = read_layer(path, "compound")
    assert out["name"].iloc[0] == "清水塘小区" and out.attrs["encoding"] == "GB18030"


def test_utf8_shapefile_without_cpg_is_detected_as_utf8(tmp_path):
    files = office_files.truncated_shapefiles(tmp_path)
    files.buildings.with_suffix(".cpg").unlink()
    dbf = files.buildings.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    data[29] = 0  # no code page either
    dbf.write_bytes(bytes(data))
    out = read_layer(files.buildings, "building")
    assert out.attrs["encoding"] == "UTF-8" and out["name"].iloc[0] == "清水塘小区1栋"


def test_utf8_shapefile_with_headers_cut_inside_a_character(tmp_path):
    headers = {"compound_id": "小区编号", "name": "小区名称", "community_code": "所属社区代码",
               "property_company": "物业公司"}  # fmt: skip
    frame = office_files.sample_layers()["compounds"][[*headers, "geometry"]].rename(
        columns=headers
    )
    shp = tmp_path / "小区.shp"
    with pytest.warns(RuntimeWarning):  # GDAL: field names truncated
        frame.to_file(shp, encoding="UTF-8")
    out = read_layer(shp, "compound")
    assert out[["compound_id", "name", "community_code", "property_company"]].iloc[0].tolist() == [
        "XQ001", "清水塘小区", "520602002001", "社区代管（无物业）"
    ]  # fmt: skip
    assert any("cut inside a character" in n for n in _said(out))
    assert any("在汉字中间被截断" in n for n in _said(out, "zh"))


def test_encoding_argument_overrides_a_wrong_cpg(gbk, tmp_path):
    _, without = gbk
    for part in without.buildings.parent.glob("buildings.*"):
        shutil.copy(part, tmp_path / part.name)
    (tmp_path / "buildings.cpg").write_text("UTF-8")  # wrong: the text is GBK
    out = read_layer(tmp_path / "buildings.shp", "building", encoding="GBK")
    assert out["name"].iloc[0] == "清水塘小区1栋" and out.attrs["encoding"] == "GBK"
    # Without the argument the text is recognised as not UTF-8, and the note says so.
    guessed = read_layer(tmp_path / "buildings.shp", "building")
    assert guessed["name"].iloc[0] == "清水塘小区1栋" and guessed.attrs["encoding"] == "GB18030"
    assert _said(guessed) == ["buildings.shp: text read as GB18030 (not UTF-8 as declared)"]
    assert _said(guessed, "zh") == ["buildings.shp：文字不是所声明的 UTF-8，以 GB18030 读取"]


def test_dbf_detection_needs_non_ascii_text():
    assert dbf_text_encoding(b"not a dbf") is None


def test_gbk_csv_and_encoding_override(tmp_path):
    path = office_files.persons_roster(tmp_path, rows=20)
    out = read_layer(path, "person")
    assert out.attrs["encoding"] == "GB18030" and out["name"].notna().all()
    assert "人口花名册.csv: text read as GB18030 (not valid UTF-8)" in _said(out)
    with pytest.raises(InputError, match="cannot be read as utf-8"):
        read_layer(path, "person", encoding="utf-8")


# --- headers -----------------------------------------------------------------------------------


def test_truncated_shapefile_headers_are_recognised(tmp_path):
    files = office_files.truncated_shapefiles(tmp_path)
    b = read_layer(files.buildings, "building")
    assert {"building_id", "compound_id", "community_code", "households"} <= set(b.columns)
    c = read_layer(files.compounds, "compound")
    assert c["property_company"].notna().all() and c["compound_id"].iloc[0] == "XQ001"


def test_truncated_prefix_must_be_unambiguous():
    # "community_" starts community_code only: canonical columns are tried first.
    assert resolve_columns(["community_"], COMMUNITY) == {"community_": "community_code"}
    # 9 characters is not a cut name, and a prefix of nothing is not recognised.
    assert resolve_columns(["building_", "xyzxyzxyzx"], BUILDING) == {}


def test_generic_id_headers_give_way_to_specific_ones():
    r = resolve_headers(["id", "fid", "building_id", "户数"], BUILDING)
    assert r.columns == {"building_id": "building_id", "户数": "households"}
    assert r.ignored == {"id": "building_id", "fid": "building_id"} and not r.problems
    assert resolve_columns(["id", "osm_id"], BUILDING) == {"osm_id": "building_id"}
    assert resolve_columns(["code", "name"], COMMUNITY) == {
        "code": "community_code",
        "name": "name",
    }
    assert resolve_columns(["code", "社区代码"], COMMUNITY) == {"社区代码": "community_code"}
    assert resolve_columns(["OBJECTID", "楼栋编号"], BUILDING) == {"楼栋编号": "building_id"}


def test_an_explicit_mapping_beats_a_canonical_header():
    r = resolve_headers(["building_id", "楼号"], BUILDING, {"楼号": "building_id"})
    assert r.columns == {"楼号": "building_id"} and r.ignored == {"building_id": "building_id"}


def test_osm_geojson_ids_and_levels(tmp_path):
    files = office_files.osm_geojson(tmp_path)
    b = read_layer(files.buildings, "building")
    assert b["building_id"].iloc[0] == "400000000" and "community_code" not in b.columns
    assert b["floors"].notna().all()  # building:levels
    c = read_layer(files.communities, "community")
    assert c["community_code"].tolist()[0] == "520602002001"
    assert read_layer(files.compounds, "compound")["compound_id"].iloc[0] == "R001"


def test_every_header_problem_of_a_file_is_reported_at_once(tmp_path):
    path = tmp_path / "花名册.csv"
    id17 = "52060219800101001"
    number = id17 + gb11643_check_digit(id17)
    path.write_text(f"人员编号,电话,联系电话,姓名\n{number},1,2,张三\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_layer(path, "person", mapping={"姓名": "full_name"})
    message = str(info.value)
    assert message.startswith("花名册.csv: 4 problem(s) with the person columns")
    assert "unknown column(s) ['full_name']" in message
    assert "phone ← ['电话', '联系电话']" in message
    assert "no household_id column" in message
    assert "'人员编号' (person_id) holds citizen ID numbers" in message
    assert number not in message and "张三" not in message


# --- ids the files lack ------------------------------------------------------------------------


def test_compound_and_street_ids_are_generated_stably(tmp_path):
    files = office_files.compounds_without_ids(tmp_path / "a")
    first = read_layer(files.compounds, "compound")
    again = read_layer(files.compounds, "compound")
    assert first["compound_id"].equals(again["compound_id"])
    assert first["compound_id"].str.fullmatch(r"XQ[0-9A-F]{10}").all()
    assert first["compound_id"].is_unique and "name" not in first.columns
    assert _said(first) == ["小区.geojson: 13 compound id(s) generated (XQ… from the geometry)"]
    assert _said(first, "zh") == ["小区.geojson：13 个小区没有编号，已生成（XQ… 按图形生成）"]
    streets = read_layer(files.streets, "street")
    assert streets["street_id"].str.fullmatch(r"DL[0-9A-F]{10}").all()
    assert streets["name"].iloc[0] == "环城北路"
    # The same compounds drawn in EPSG:4545 as a Shapefile get the same ids.
    shp = tmp_path / "小区.shp"
    gpd.read_file(files.compounds).to_crs(office_files.OFFICE_CRS).to_file(shp, encoding="UTF-8")
    assert read_layer(shp, "compound")["compound_id"].equals(first["compound_id"])


def test_blank_ids_are_filled_and_given_ids_kept(tmp_path):
    frame = office_files.sample_layers()["streets"].head(3)
    frame.loc[frame.index[1], "street_id"] = None
    path = tmp_path / "streets.geojson"
    frame.to_file(path)
    out = read_layer(path, "street")
    assert out["street_id"].iloc[0] == "S01" and out["street_id"].iloc[2] == "S03"
    assert out["street_id"].iloc[1].startswith("DL")


def test_person_ids_come_from_household_and_row_and_survive_reordering(tmp_path):
    path = office_files.persons_roster(tmp_path, rows=60, encoding="utf-8-sig")
    out = read_layer(path, "person")
    assert out["person_id"].is_unique
    assert out["person_id"].iloc[:3].tolist() == ["H000001-1", "H000002-1", "H000002-2"]
    for column in ("name", "id_number", "phone"):
        assert not any(str(v) in pid for v in out[column].dropna() for pid in out["person_id"])
    # Households listed in another order keep their persons' ids.
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    table.iloc[::-1].sort_values("户号", kind="stable", ascending=False).to_csv(
        path, index=False, encoding="utf-8-sig"
    )
    again = read_layer(path, "person").set_index("person_id")
    by_id = out.set_index("person_id")
    pd.testing.assert_series_equal(by_id["household_id"], again.loc[by_id.index, "household_id"])


def test_persons_roster_without_person_id_keeps_the_id_number_as_a_value(tmp_path):
    out = read_layer(office_files.persons_roster(tmp_path, rows=5), "person")
    assert {"person_id", "household_id", "name", "id_number", "phone"} <= set(out.columns)
    assert list(out.columns)[0] == "person_id"


def test_a_phone_column_as_building_id_is_refused(tmp_path):
    path = tmp_path / "楼栋.csv"
    path.write_text("楼栋编号,户数\n13800001234,10\n13900001234,12\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"'楼栋编号' \(building_id\) holds mobile phone numbers"):
        read_layer(path, "building")


def test_person_id_column_of_id_numbers_is_refused_with_a_useful_fix(tmp_path):
    path = tmp_path / "p.csv"
    ids = [f"52060219800101{i:03d}" for i in range(1, 5)]
    numbers = [i + gb11643_check_digit(i) for i in ids]
    rows = "\n".join(f"{n},H{i}" for i, n in enumerate(numbers))
    path.write_text(f"人员编号,户号\n{rows}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_layer(path, "person")
    message = str(info.value)
    assert "mapping={'人员编号': 'id_number'}" in message and "ids are generated" in message
    assert not any(n in message for n in numbers)
    out = read_layer(path, "person", mapping={"人员编号": "id_number"})
    assert out["person_id"].tolist() == ["H0-1", "H1-1", "H2-1", "H3-1"]


# --- layers, tables, CRS, 3-D ------------------------------------------------------------------


def test_multilayer_geopackage_layer_by_name_or_refused(tmp_path):
    files = office_files.multilayer_geopackage(tmp_path)
    out = read_layer(files.buildings, "building")
    assert len(out) == 122
    assert _said(out) == ["碧江区基础数据.gpkg: buildings read from layer '楼栋'"]
    assert _said(out, "zh") == ["碧江区基础数据.gpkg：楼栋取自图层“楼栋”"]
    with pytest.raises(InputError, match=r"5 layers .*'兴趣点'.*--layer household="):
        read_layer(files.buildings, "household")
    with pytest.raises(InputError, match="has no layer '房屋'"):
        read_layer(files.buildings, "building", layer="房屋")


@pytest.mark.parametrize("wkt", [False, True])
def test_buildings_csv_with_lonlat_or_wkt(tmp_path, wkt):
    files = office_files.buildings_lonlat_csv(tmp_path, wkt=wkt)
    out = read_layer(files.buildings, "building")
    assert len(out) == 122 and out.crs.to_epsg() == 4326
    kind = "Polygon" if wkt else "Point"
    assert set(out.geom_type) <= {kind, "Multi" + kind}
    footprints = office_files.sample_layers()["buildings"].to_crs(4326)
    assert footprints.buffer(1e-6).contains(out.geometry.representative_point()).all()


def test_xlsx_buildings_with_lonlat(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path)
    xlsx = tmp_path / "楼栋.xlsx"
    pd.read_csv(files.buildings, dtype=str).to_excel(xlsx, index=False, sheet_name="楼栋")
    out = read_layer(xlsx, "building")
    assert len(out) == 122 and out.geometry.notna().all()


def test_lonlat_crs_on_projected_coordinates_is_caught(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("楼栋编号,x,y\nB1,617300.5,3067700.2\n", encoding="utf-8")
    with pytest.raises(
        CRSError, match=r"not longitude/latitude, but --crs \(crs=\) says EPSG:4326"
    ):
        read_layer(path, "building", crs="EPSG:4326")
    assert read_layer(path, "building", crs="EPSG:4545").geometry.x.iloc[0] == pytest.approx(
        109.19, abs=0.02
    )


def test_geojson_with_projected_coordinates_takes_the_given_crs(tmp_path):
    frame = office_files.sample_layers()["communities"].to_crs(office_files.OFFICE_CRS)
    path = tmp_path / "社区.geojson"
    frame.set_crs(4326, allow_override=True).to_file(path)  # a GeoJSON that lies about its CRS
    with pytest.raises(CRSError, match="the file declares EPSG:4326"):
        read_layer(path, "community")
    out = read_layer(path, "community", crs=office_files.OFFICE_CRS)
    assert 109 < out.total_bounds[0] < 109.3
    assert "社区.geojson: coordinates are not lon/lat; read in EPSG:4545" in _said(out)


def test_a_declared_projected_crs_wins_over_the_option(tmp_path):
    files = office_files.truncated_shapefiles(tmp_path)
    out = read_layer(files.communities, "community", crs="EPSG:4490")
    assert 109 < out.total_bounds[0] < 109.3
    assert any("declares EPSG:4545" in n for n in _said(out))


def test_3d_geometries_are_made_2d_saying_so(tmp_path):
    frame = office_files.sample_layers()["buildings"].head(4)
    frame["geometry"] = shapely.force_3d(frame.geometry.values, 12.0)
    path = tmp_path / "b3d.gpkg"
    frame.to_file(path)
    out = read_layer(path, "building")
    assert not shapely.has_z(out.geometry.values).any()
    assert "b3d.gpkg: 4 3-D geometries made 2-D (heights dropped)" in _said(out)
    assert "b3d.gpkg：4 个三维图形已改为二维（高度已去掉）" in _said(out, "zh")
    # Zero heights (KML, CAD exports) lose nothing: dropped without a word; one real height
    # among them is said.
    heights = np.zeros(len(frame))
    heights[2] = 3.0
    frame["geometry"] = shapely.force_3d(shapely.force_2d(frame.geometry.values), heights)
    frame.to_file(path)
    out = read_layer(path, "building")
    assert not shapely.has_z(out.geometry.values).any()
    assert [n.values for n in out.attrs["notes"] if n.code == "made_2d"] == [(("n", 1),)]


def test_person_schema_needs_only_the_household():
    assert PERSON.required == ("household_id",) and PERSON.columns[0] == "person_id"


# --- XLSX --------------------------------------------------------------------------------------


def _styled_workbook(path, rows: int, formula: bool = False):
    """Buildings with every row styled out to column XFD (16,384), as offices' sheets are."""
    fill = openpyxl.styles.PatternFill("solid", fgColor="FFFF00")
    wb = openpyxl.Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)
    ws.title = "楼栋"
    ws.append(["碧江区楼栋台账"])  # a title line above the header
    ws.append(["楼栋编号", "户数", "经度", "纬度"])
    for i in range(rows):
        ws.append([f"B{i:05d}", 10 + i, 109.18 + i * 1e-5, 27.72])
        ws.cell(row=i + 3, column=16384).fill = fill
    if formula:
        ws["B4"] = "=B3*2"  # written without a saved value, as scripts and some exports do
    wb.save(path)
    return path


def test_xlsx_styled_to_column_xfd_reads_only_the_used_range(tmp_path):
    path = _styled_workbook(tmp_path / "楼栋.xlsx", 300)
    out = read_layer(path, "building")
    assert len(out) == 300 and list(out.columns) == ["building_id", "households", "geometry"]
    assert out["households"].tolist() == list(range(10, 310))
    assert out.attrs["notes"] == []


def test_xlsx_formulas_without_saved_values_are_reported(tmp_path):
    path = _styled_workbook(tmp_path / "楼栋.xlsx", 5, formula=True)
    out = read_layer(path, "building")
    assert pd.isna(out["households"].iloc[1])
    assert _said(out) == [
        "楼栋.xlsx: 1 formula cell(s) in column(s) ['户数'], data row(s) 2, have no saved value "
        "and read as empty; open and save the file in Excel or WPS, or type the values"
    ]
    with pytest.raises(InputError, match=r"has no sheet '住户'; its sheets are \['楼栋'\]"):
        read_layer(path, "building", layer="住户")
