"""Areas drawn as closed lines — a community boundary digitised as a polyline layer, a CAD
outline exported as lines — are read as the areas they enclose, with a note; lines that do not
close are not."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely import LineString, MultiLineString

from gridmap.errors import InputError
from gridmap.io.layers import read_layer

_RING = [(109.180, 27.720), (109.190, 27.720), (109.190, 27.730), (109.180, 27.730)]
_HOLE = [(109.184, 27.724), (109.186, 27.724), (109.186, 27.726), (109.184, 27.726)]


def _closed(points):
    return LineString([*points, points[0]])


def test_closed_boundary_lines_are_read_as_community_areas(tmp_path):
    lines = [_closed(_RING), MultiLineString([_closed(_RING), _closed(_HOLE)])]
    columns = {"社区代码": ["520602001001", "520602001002"], "社区名称": ["甲", "乙"]}
    frame = gpd.GeoDataFrame(columns, geometry=lines, crs=4326)
    frame.to_file(tmp_path / "社区边界.shp", encoding="utf-8")
    out = read_layer(tmp_path / "社区边界.shp", "community")
    assert out.geom_type.tolist() == ["Polygon", "Polygon"]
    area = shapely.Polygon(_RING).area
    assert out.geometry.iloc[0].area == pytest.approx(area)
    hole = shapely.Polygon(_HOLE).area
    assert out.geometry.iloc[1].area == pytest.approx(area - hole)  # the inner ring is a hole
    [note] = [n for n in out.attrs["notes"] if n.code == "outlines_as_areas"]
    assert dict(note.values) == {"entity": "community", "n": 2}
    assert (
        note.message("zh") == "社区边界.shp：2 个社区以闭合线（轮廓线）绘制，已按其围成的区域读取"
    )


def test_lines_that_do_not_close_are_refused_not_made_areas(tmp_path):
    frame = gpd.GeoDataFrame({"社区代码": ["520602001001"], "社区名称": ["甲"]},
                             geometry=[LineString(_RING)], crs=4326)  # fmt: skip
    frame.to_file(tmp_path / "c.geojson")
    with pytest.raises(InputError, match="wrong kind"):
        from gridmap.attach.geomrepair import repair_geometries

        repair_geometries(read_layer(tmp_path / "c.geojson", "community"), "community")


def test_building_outlines_from_cad_lines_become_footprints(tmp_path):
    footprint = [(109.181, 27.721), (109.1812, 27.721), (109.1812, 27.7212), (109.181, 27.7212)]
    frame = gpd.GeoDataFrame({"楼栋编号": ["B1", "B2"], "户数": [20, 30]},
                             geometry=[_closed(footprint), shapely.Point(109.182, 27.722)],
                             crs=4326)  # fmt: skip
    frame.to_file(tmp_path / "b.gpkg")
    out = read_layer(tmp_path / "b.gpkg", "building")
    assert out.geom_type.tolist() == ["Polygon", "Point"]
    codes = [n.code for n in out.attrs["notes"]]
    assert "outlines_as_areas" in codes and "placed_by_point" not in codes


def test_streets_stay_lines(tmp_path):
    frame = gpd.GeoDataFrame({"名称": ["环路"]}, geometry=[_closed(_RING)], crs=4326)
    frame.to_file(tmp_path / "s.geojson")
    out = read_layer(tmp_path / "s.geojson", "street")
    assert out.geom_type.tolist() == ["LineString"]
