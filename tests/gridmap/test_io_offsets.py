"""Coordinates taken from Chinese web maps: lon/lat in GCJ-02 (AMap/高德, Tencent/腾讯) or
BD-09 (Baidu/百度), as rosters geocoded there and systems built on those maps export them, are
shifted back to true coordinates when ``--crs`` (``crs=``) or the lon/lat headers (高德经度,
百度纬度, ``gcj_lng`` …) say so, with a note; files declaring their own CRS are kept."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmap.coords import offset_system, wgs84_to_bd09, wgs84_to_gcj02
from gridmap.io.coordinates import _offset_header
from gridmap.io.layers import read_layer

_TRUE = np.array([[109.1802, 27.7201], [109.1855, 27.7233], [109.1911, 27.7262]])
"""True lon/lat (WGS 84) of three buildings in Tongren."""
_SHIFTS = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def _roster(tmp_path, system: str, lon: str, lat: str):
    x, y = _SHIFTS[system](_TRUE[:, 0], _TRUE[:, 1]) if system != "wgs84" else _TRUE.T
    path = tmp_path / "楼栋.csv"
    rows = [f"B{i},{40 + i},{a:.7f},{b:.7f}" for i, (a, b) in enumerate(zip(x, y, strict=True))]
    path.write_text("\n".join([f"楼栋编号,户数,{lon},{lat}", *rows]) + "\n", encoding="utf-8")
    return path


def _offset_m(frame: gpd.GeoDataFrame) -> float:
    """The largest distance (metres) of the frame's points from the true ones."""
    got = shapely.get_coordinates(frame.geometry.values)
    metres = np.array([111_320 * np.cos(np.radians(27.72)), 110_540])
    return float(np.abs((got - _TRUE) * metres).max())


@pytest.mark.parametrize(
    "system, lon, lat",
    [("gcj02", "高德经度", "高德纬度"), ("gcj02", "gcj_lng", "gcj_lat"),
     ("gcj02", "经度（高德）", "纬度（高德）"), ("bd09", "百度经度", "百度纬度"),
     ("bd09", "lng_bd09", "lat_bd09"), ("bd09", "百度坐标经度", "百度坐标纬度")],
)  # fmt: skip
def test_lonlat_headers_that_name_a_web_map_are_shifted_back_saying_so(tmp_path, system, lon, lat):
    frame = read_layer(_roster(tmp_path, system, lon, lat), "building")
    assert _offset_m(frame) < 0.1  # before: several hundred metres off
    [note] = [n for n in frame.attrs["notes"] if n.code == "offset_removed"]
    assert dict(note.values) == {"system": system, "headers": (lon, lat), "n": 3}
    assert "shifted to true WGS 84" in note.message("en") and "已换算为真实的" in note.message("zh")


@pytest.mark.parametrize("given, system", [("GCJ-02", "gcj02"), ("gcj02", "gcj02"),
                                           ("BD-09", "bd09"), ("BD09LL", "bd09")])  # fmt: skip
def test_crs_naming_a_web_map_shifts_plain_lonlat_back(tmp_path, given, system):
    path = _roster(tmp_path, system, "经度", "纬度")
    assert _offset_m(read_layer(path, "building")) > 300  # read as true: hundreds of metres off
    frame = read_layer(path, "building", crs=given)
    assert _offset_m(frame) < 0.1
    [note] = [n for n in frame.attrs["notes"] if n.code == "offset_removed"]
    assert note.values == (("system", system), ("headers", ()), ("n", 3))
    assert "(as given)" in note.message("en")


def test_a_geojson_from_amap_is_shifted_but_a_file_declaring_cgcs2000_is_kept(tmp_path):
    x, y = wgs84_to_gcj02(_TRUE[:, 0], _TRUE[:, 1])
    frame = gpd.GeoDataFrame({"building_id": ["B0", "B1", "B2"], "households": [40, 41, 42]},
                             geometry=shapely.points(x, y), crs=4326)  # fmt: skip
    frame.to_file(tmp_path / "b.geojson")
    assert _offset_m(read_layer(tmp_path / "b.geojson", "building", crs="GCJ-02")) < 0.1
    true = frame.set_geometry(shapely.points(_TRUE)).set_crs(4490, allow_override=True)
    true.to_file(tmp_path / "b.gpkg")
    kept = read_layer(tmp_path / "b.gpkg", "building", crs="GCJ-02")
    assert _offset_m(kept) < 0.1  # its own CGCS2000, not shifted
    codes = [n.code for n in kept.attrs["notes"]]
    assert "crs_kept" in codes and "offset_removed" not in codes


def test_plain_lonlat_beside_web_map_columns_are_the_ones_read(tmp_path):
    path = _roster(tmp_path, "wgs84", "经度", "纬度")
    text = path.read_text(encoding="utf-8").splitlines()
    x, y = wgs84_to_gcj02(_TRUE[:, 0], _TRUE[:, 1])
    rows = [f"{r},{a:.7f},{b:.7f}" for r, a, b in zip(text[1:], x, y, strict=True)]
    path.write_text("\n".join([text[0] + ",高德经度,高德纬度", *rows]) + "\n", encoding="utf-8")
    frame = read_layer(path, "building")
    assert _offset_m(frame) < 1e-3
    assert "offset_removed" not in [n.code for n in frame.attrs["notes"]]


def test_projected_xy_is_not_taken_for_web_map_lonlat(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("楼栋编号,户数,x,y\nB1,40,36500000,3066000\n", encoding="utf-8")
    with pytest.raises(Exception, match="not longitude/latitude"):
        read_layer(path, "building", crs="GCJ-02")


@pytest.mark.parametrize(
    "header, found",
    [("高德经度", ("lon", "gcj02")), ("腾讯纬度", ("lat", "gcj02")),
     ("GCJ-02 Longitude", ("lon", "gcj02")), ("lat_gcj02", ("lat", "gcj02")),
     ("BD_LNG", ("lon", "bd09")), ("百度坐标_纬度", ("lat", "bd09")),
     ("经度（百度）", ("lon", "bd09")),
     ("经度", None), ("高德地址", None), ("bd", None), ("高德x", None), ("abdlng", None)],
)  # fmt: skip
def test_which_headers_name_a_web_map(header, found):
    assert _offset_header(header) == found


def test_offset_system_names():
    assert [offset_system(v) for v in ("GCJ-02", "火星坐标", "百度", "bd09ll", "EPSG:4490", 4326,
                                       None)] == ["gcj02", "gcj02", "bd09", "bd09", None, None,
                                                  None]  # fmt: skip


def test_the_crs_option_may_name_one_layer_and_leaves_the_others_as_they_are(tmp_path):
    """``--crs buildings=GCJ-02``: the buildings from AMap are shifted back, the communities'
    GeoJSON (true WGS 84, as GeoJSON always says) is not; a bare ``--crs GCJ-02`` would shift
    both, and the buildings would fall outside again."""
    from typer.testing import CliRunner

    from service.cli import app

    sample = "geodata/sample/bijiang.gpkg"
    communities = gpd.read_file(sample, layer="communities").to_crs(4326)
    communities.to_file(tmp_path / "社区.geojson")
    buildings = gpd.read_file(sample, layer="buildings").to_crs(4326)
    x, y = wgs84_to_gcj02(buildings.geometry.centroid.x, buildings.geometry.centroid.y)
    buildings.set_geometry(shapely.points(x, y)).to_file(tmp_path / "楼栋.geojson")
    args = [
        "partition",
        "--communities",
        str(tmp_path / "社区.geojson"),
        "--buildings",
        str(tmp_path / "楼栋.geojson"),
        "--out",
        str(tmp_path / "g.geojson"),
        "--lang",
        "en",
    ]

    def outside(*crs: str) -> str:
        res = CliRunner().invoke(app, [*args, *crs])
        assert res.exit_code == 0, res.output
        return res.output

    assert "lie outside every community" in outside()  # read as true: hundreds of metres off
    said = outside("--crs", "buildings=GCJ-02")
    assert "lie outside every community" not in said
    assert "楼栋.geojson: 122 geometries' lon/lat read as GCJ-02" in said
    assert "社区.geojson" not in said.split("read as GCJ-02")[0].splitlines()[-1]
    assert "lie outside every community" in outside("--crs", "GCJ-02")  # both shifted


def test_crs_values_name_a_layer_or_every_file():
    from service.commands.planfiles import parse_crs
    from service.importer import ENTITY_ORDER

    assert parse_crs(["EPSG:4545", "buildings=GCJ-02", "Households=BD-09"], ENTITY_ORDER) == {
        "": "EPSG:4545", "building": "GCJ-02", "household": "BD-09"}  # fmt: skip
    proj = "+proj=tmerc +lon_0=108 +k=1 +x_0=500000 +ellps=GRS80"
    assert parse_crs([proj]) == {"": proj}  # no entity before "=": a CRS as a whole


def test_import_reads_each_file_with_its_own_crs(tmp_path):
    from service.importer import read_sources

    path = _roster(tmp_path, "gcj02", "经度", "纬度")
    frames = read_sources({"building": path}, crs={"building": "GCJ-02", "": "EPSG:4490"})
    assert _offset_m(frames["building"]) < 0.1
    assert (
        _offset_m(read_sources({"building": path}, crs={"community": "GCJ-02"})["building"]) > 300
    )
