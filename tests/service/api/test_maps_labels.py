"""Where grid labels go and what they say (service.maps, no app needed)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon, box

from service.maps import grid_sequence, grid_title, label_anchors

LAT = 27.72
M = 1 / 111_320  # a metre of latitude in degrees
MX = M / np.cos(np.radians(LAT))  # a metre of longitude here


def _rect(x0_m: float, y0_m: float, x1_m: float, y1_m: float) -> Polygon:
    return box(109.18 + x0_m * MX, LAT + y0_m * M, 109.18 + x1_m * MX, LAT + y1_m * M)


def test_an_l_shaped_grid_is_labelled_inside_although_its_centroid_is_not():
    # Two 100 m wide arms of 300 m: the centroid (110 m, 110 m) lies outside; the largest
    # inscribed circle sits in the elbow, radius 100·√2 / (1 + √2) ≈ 58.6 m.
    ell = shapely.union(_rect(0, 0, 300, 100), _rect(0, 0, 100, 300))
    assert not ell.contains(ell.centroid)
    [lon], [lat], [room] = label_anchors([ell])
    assert ell.contains(Point(lon, lat))
    assert room == pytest.approx(100 * 2**0.5 / (1 + 2**0.5), abs=1.5)
    assert Point(lon, lat).distance(ell.exterior) / M == pytest.approx(room, rel=0.03)


def test_a_grid_in_two_parts_is_labelled_in_the_larger():
    big, small = _rect(0, 0, 400, 400), _rect(600, 0, 640, 40)
    [lon], [lat], [room] = label_anchors([MultiPolygon([small, big])])
    assert big.contains(Point(lon, lat))
    assert room == pytest.approx(200, abs=3)


def test_rooms_are_ground_metres_whatever_the_latitude_scale():
    # A 100 m square is a rectangle in degrees; its inscribed circle is still 50 m.
    [_], [_], [room] = label_anchors([_rect(0, 0, 100, 100)])
    assert room == pytest.approx(50, abs=1.5)


def test_lines_and_points_get_a_point_on_them_and_no_room():
    line = LineString([(109.18, LAT), (109.19, LAT)])
    lons, lats, rooms = label_anchors([line, Point(109.2, LAT)])
    assert line.distance(Point(lons[0], lats[0])) < 1e-9
    assert (lons[1], lats[1]) == (109.2, LAT)
    assert list(rooms) == [0.0, 0.0]


@pytest.mark.parametrize(
    ("code", "community", "sequence", "zh", "en"),
    [
        ("520602001001006", "520602001001", "006", "第6网格", "Grid 006"),
        ("520602001001012", "520602001001", "012", "第12网格", "Grid 012"),
        ("G-7", "520602001001", "G-7", "G-7", "G-7"),  # an office's own code: shown whole
        ("520602001001A01", "520602001001", "A01", "520602001001A01", "520602001001A01"),
    ],
)
def test_grid_sequence_and_title(code, community, sequence, zh, en):
    assert grid_sequence(code, community) == sequence
    assert grid_title(code, community, "zh") == zh
    assert grid_title(code, community, "en") == en
