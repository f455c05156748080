"""Files of several layers that are not GeoPackages, and what KML keeps in its descriptions.

Grassroots staff draw grids and community boundaries in 奥维互动地图 (Ovital) or Google Earth and
export KML/KMZ, a folder per layer; ArcGIS users send a File Geodatabase, often zipped. Every
such file gets the layer a GeoPackage gets: the one named like the entity, else the only one
with records; else a refusal listing them. A KML with two folders used to give its first folder
(the community boundary) as buildings. The files are written here as the programs write them:
KML as XML text, the geodatabase by GDAL's OpenFileGDB writer.
"""

from __future__ import annotations

import doctest
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, Polygon

import gridmap.io.kml
from gridmap.errors import InputError
from gridmap.io.kml import description_fields
from gridmap.io.layers import read_layer

_RING = "109.19,27.72,0 109.20,27.72,0 109.20,27.73,0 109.19,27.73,0 109.19,27.72,0"


def _square(x: float, y: float) -> str:
    """A building's outline as Google Earth writes it (with heights)."""
    corners = [(x, y), (x + 0.001, y), (x + 0.001, y + 0.001), (x, y + 0.001), (x, y)]
    return " ".join(f"{a:.3f},{b:.3f},0" for a, b in corners)


def _placemark(name: str, coordinates: str, description: str = "", extra: str = "") -> str:
    described = f"<description><![CDATA[{description}]]></description>" if description else ""
    return (f"<Placemark><name>{name}</name>{described}{extra}<Polygon><outerBoundaryIs>"
            f"<LinearRing><coordinates>{coordinates}</coordinates></LinearRing>"
            "</outerBoundaryIs></Polygon></Placemark>")  # fmt: skip


def _kml(folders: dict[str, list[str]], document: str = "奥维导出") -> str:
    body = "".join(f"<Folder><name>{name}</name>{''.join(marks)}</Folder>"
                   for name, marks in folders.items())  # fmt: skip
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
            f"<Document><name>{document}</name>{body}</Document></kml>")  # fmt: skip


_ARCGIS = (  # ArcGIS "Layer To KML": a table titled with the layer, the fields in a table in it
    '<html><body><table style="width:100%"><tr style="text-align:center"><td>楼栋</td></tr>'
    "<tr><td><table><tr><td>FID</td><td>0</td></tr>"
    '<tr bgcolor="#D4E4F3"><td>楼栋编号</td><td>B001</td></tr>'
    "<tr><td>户数</td><td>120</td></tr><tr><td>小区名称</td><td>&lt;Null&gt;</td></tr>"
    "</table></td></tr></table></body></html>"
)
_TYPED = "楼栋编号: B002\n户数：80<br>层数:6，单元数：2"  # typed in 奥维 / Google Earth


def _community_and_buildings() -> str:
    return _kml({
        "社区边界": [_placemark("幸福社区", _RING, "社区代码：520602002001")],
        "楼栋": [_placemark("1号楼", _square(109.191, 27.721), _ARCGIS),
                 _placemark("2号楼", _square(109.193, 27.721), _TYPED)],
    })  # fmt: skip


def test_a_kml_of_two_folders_gives_each_entity_its_folder_with_its_descriptions(tmp_path):
    path = tmp_path / "幸福社区.kml"
    path.write_text(_community_and_buildings(), encoding="utf-8")
    buildings = read_layer(path, "building", keep_extra=True)
    assert buildings["building_id"].tolist() == ["B001", "B002"]
    assert buildings["households"].tolist() == ["120", "80"]
    assert buildings[["floors", "units"]].fillna("").values.tolist() == [["", ""], ["6", "2"]]
    assert buildings["name"].tolist() == ["1号楼", "2号楼"]
    kml_own = {"timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility",
               "drawOrder", "icon", "id"}  # fmt: skip
    assert not kml_own & set(buildings.columns)  # nothing in them: not carried to outputs
    assert buildings.geometry.has_z.sum() == 0
    notes = {n.code: n for n in buildings.attrs["notes"]}
    assert notes["layer_chosen"].values == (("entity", "building"), ("layer", "楼栋"))
    read = notes["description_read"]
    assert dict(read.values) == {"n": 2, "headers": ("FID", "楼栋编号", "户数", "小区名称", "层数",
                                                      "单元数")}  # fmt: skip
    assert read.message("zh").startswith("幸福社区.kml：2 条记录的说明中所写的字段已读作列 “FID”")
    assert "made_2d" not in notes  # Google Earth's zero heights, dropped: nothing lost to say
    communities = read_layer(path, "community")
    assert communities[["community_code", "name"]].values.tolist() == [["520602002001", "幸福社区"]]


@pytest.mark.parametrize("name,member,source", [
    ("幸福社区.kmz", "doc.kml", "幸福社区.kmz"),  # a KMZ: a zip of its KML
    ("村居.zip", "网格/幸福社区.kml", "村居.zip › 网格/幸福社区.kml"),  # a KML zipped to mail it
])  # fmt: skip
def test_a_kmz_or_a_zipped_kml_is_read_as_the_kml(tmp_path, name, member, source):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, _community_and_buildings())
    buildings = read_layer(path, "building")
    assert buildings["building_id"].tolist() == ["B001", "B002"]
    assert buildings.attrs["source"] == source
    assert "layer_chosen" in {n.code for n in buildings.attrs["notes"]}


def test_folders_named_like_nothing_give_the_only_one_with_records(tmp_path):
    path = tmp_path / "标注.kml"
    grid = _placemark("一网格", _RING, "网格编码：G01\n社区代码：520602002001")
    path.write_text(_kml({"我的标注": [], "新建文件夹": [grid]}), encoding="utf-8")
    grids = read_layer(path, "grid")
    assert grids["grid_code"].tolist() == ["G01"]
    (chosen,) = [n for n in grids.attrs["notes"] if n.code == "layer_chosen"]
    assert dict(chosen.values) == {"entity": "grid", "layer": "新建文件夹"}

    path.write_text(_kml({"甲": [_placemark("一", _RING)], "乙": [_placemark("二", _RING)]}),
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(InputError) as caught:
        read_layer(path, "grid")
    assert caught.value.code == "layers_ambiguous"
    assert caught.value.values["layers"] == ["甲", "乙"]
    assert read_layer(path, "grid", layer="乙", required=[])["name"].tolist() == ["二"]
    with pytest.raises(InputError) as caught:
        read_layer(path, "grid", layer="丙")
    assert caught.value.code == "no_layer" and caught.value.values["layers"] == ["甲", "乙"]


def test_descriptions_never_replace_the_layers_own_columns(tmp_path):
    extended = '<ExtendedData><Data name="户数"><value>99</value></Data></ExtendedData>'
    shown = "<visibility>0</visibility>"  # hidden in Google Earth: says something, kept
    path = tmp_path / "楼栋.kml"
    typed = "名称：幸福小区1号楼\n户数：120\n楼栋编号：B1"
    path.write_text(_kml({"楼栋": [
        _placemark("1号楼", _square(109.191, 27.721), typed, extended + shown),
        _placemark("2号楼", _square(109.193, 27.721), "说明文字，没有字段", extended),
    ]}), encoding="utf-8")  # fmt: skip
    buildings = read_layer(path, "building", keep_extra=True)
    assert buildings["households"].tolist() == ["99", "99"]  # ExtendedData's, not the description's
    assert buildings["name"].tolist() == ["1号楼", "2号楼"]  # the placemark's name, no rival
    assert buildings["building_id"].fillna("").tolist() == ["B1", ""]
    assert buildings["visibility"].tolist() == [0, -1]
    (read,) = [n for n in buildings.attrs["notes"] if n.code == "description_read"]
    assert dict(read.values) == {"n": 1, "headers": ("楼栋编号",)}


def test_description_fields_of_tables_and_typed_lines():
    failed, _ = doctest.testmod(gridmap.io.kml)
    assert not failed
    assert description_fields(_ARCGIS) == {"FID": "0", "楼栋编号": "B001", "户数": "120",
                                           "小区名称": None}  # fmt: skip
    assert description_fields("<b>户数</b>：120<br/>地址：碧江区，清水塘路 3 号") == {
        "户数": "120", "地址": "碧江区，清水塘路 3 号"}  # fmt: skip
    assert description_fields(None) == {} and description_fields("  ") == {}


def test_a_gpx_gives_its_track_not_the_points_gdal_makes_of_it(tmp_path):
    path = tmp_path / "巡查路线.gpx"
    points = "".join(f'<trkpt lat="{y}" lon="{x}"><ele>300</ele></trkpt>'
                     for x, y in [(109.19, 27.72), (109.20, 27.72), (109.20, 27.73)])  # fmt: skip
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="奥维" '
                    'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>清水塘路</name>'
                    f"<trkseg>{points}</trkseg></trk></gpx>", encoding="utf-8")  # fmt: skip
    streets = read_layer(path, "street")
    assert streets["name"].tolist() == ["清水塘路"]
    assert streets.geometry.iloc[0].geom_type == "MultiLineString"
    (chosen,) = [n for n in streets.attrs["notes"] if n.code == "layer_chosen"]
    assert dict(chosen.values)["layer"] == "tracks"


def _two_layers() -> dict[str, gpd.GeoDataFrame]:
    community = gpd.GeoDataFrame({"社区代码": ["520602002001"], "名称": ["幸福社区"]},
                                 geometry=[Polygon([(109.19, 27.72), (109.2, 27.72),
                                                    (109.2, 27.73)])], crs=4326)  # fmt: skip
    buildings = gpd.GeoDataFrame({"楼栋编号": ["B001", "B002"], "户数": [120.0, 80.0]},
                                 geometry=[Polygon([(109.191, 27.721), (109.192, 27.721),
                                                    (109.192, 27.722)])] * 2, crs=4326)  # fmt: skip
    return {"社区边界": community, "楼栋": buildings}


@pytest.mark.parametrize("driver,suffix", [("SQLite", ".sqlite"), ("GML", ".gml")])
def test_sqlite_and_gml_of_two_layers(tmp_path, driver, suffix):
    path = tmp_path / f"幸福社区{suffix}"
    if driver == "GML":  # GDAL's GML writer writes one layer: two feature types written here
        path.write_text(_gml(), encoding="utf-8")
    else:
        for name, frame in _two_layers().items():
            pyogrio.write_dataframe(frame, path, layer=name, driver=driver)
    assert read_layer(path, "building")["building_id"].tolist() == ["B001", "B002"]
    assert read_layer(path, "community")["community_code"].tolist() == ["520602002001"]


def _gml() -> str:
    ring = "109.19,27.72 109.20,27.72 109.20,27.73 109.19,27.72"
    geometry = ('<ogr:geometryProperty><gml:Polygon srsName="EPSG:4326"><gml:outerBoundaryIs>'
                f"<gml:LinearRing><gml:coordinates>{ring}</gml:coordinates></gml:LinearRing>"
                "</gml:outerBoundaryIs></gml:Polygon></ogr:geometryProperty>")  # fmt: skip
    community = "<ogr:社区代码>520602002001</ogr:社区代码><ogr:名称>幸福社区</ogr:名称>"
    members = [("社区边界", community),
               ("楼栋", "<ogr:楼栋编号>B001</ogr:楼栋编号><ogr:户数>120</ogr:户数>"),
               ("楼栋", "<ogr:楼栋编号>B002</ogr:楼栋编号><ogr:户数>80</ogr:户数>")]  # fmt: skip
    body = "".join(f'<gml:featureMember><ogr:{name} fid="{name}.{i}">{geometry}{fields}'
                   f"</ogr:{name}></gml:featureMember>"
                   for i, (name, fields) in enumerate(members))  # fmt: skip
    return ('<?xml version="1.0" encoding="utf-8" ?><ogr:FeatureCollection '
            'xmlns:ogr="http://ogr.maptools.org/" xmlns:gml="http://www.opengis.net/gml">'
            f"{body}</ogr:FeatureCollection>")  # fmt: skip


def _geodatabase(path: Path) -> Path:
    if "w" not in pyogrio.list_drivers(write=True).get("OpenFileGDB", ""):
        pytest.skip("this GDAL writes no File Geodatabase")
    for name, frame in _two_layers().items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="OpenFileGDB")
    return path


def _zip_folder(folder: Path, path: Path, *, inside: bool = True) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, f"{folder.name}/{part.name}" if inside else part.name)
    return path


def test_a_file_geodatabase_folder_and_zipped(tmp_path):
    gdb = _geodatabase(tmp_path / "村居.gdb")
    assert read_layer(gdb, "building")["building_id"].tolist() == ["B001", "B002"]
    zipped = _zip_folder(gdb, tmp_path / "村居.gdb.zip")  # as Windows zips the folder
    buildings = read_layer(zipped, "building")
    assert buildings["building_id"].tolist() == ["B001", "B002"]
    assert buildings.attrs["source"] == "村居.gdb.zip › 村居.gdb"
    (chosen,) = [n for n in buildings.attrs["notes"] if n.code == "layer_chosen"]
    assert chosen.file == "村居.gdb.zip › 村居.gdb" and dict(chosen.values)["layer"] == "楼栋"
    communities = read_layer(zipped, "community", layer="社区边界")
    assert communities["community_code"].tolist() == ["520602002001"]
    with pytest.raises(InputError) as caught:
        read_layer(zipped, "community", layer="网格")
    assert caught.value.code == "no_layer" and caught.value.values["layers"] == ["社区边界", "楼栋"]
    files_only = _zip_folder(gdb, tmp_path / "数据.zip", inside=False)  # its files, no folder
    assert read_layer(files_only, "building")["building_id"].tolist() == ["B001", "B002"]


def test_a_geopackage_of_layers_named_like_nothing_gives_the_only_one_with_records(tmp_path):
    path = tmp_path / "数据.gpkg"
    frames = _two_layers()
    pyogrio.write_dataframe(frames["楼栋"], path, layer="图层1")
    pyogrio.write_dataframe(frames["楼栋"].iloc[:0], path, layer="图层2")
    pyogrio.write_dataframe(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=4326)
                            .iloc[:0], path, layer="图层3")  # fmt: skip
    buildings = read_layer(path, "building")
    assert buildings["building_id"].tolist() == ["B001", "B002"]
    assert [dict(n.values)["layer"] for n in buildings.attrs["notes"]
            if n.code == "layer_chosen"] == ["图层1"]  # fmt: skip
