"""Tests of the WGS 84 / GCJ-02 / BD-09 display shifts against published reference values."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod
from shapely import Point, Polygon, get_coordinates

from gridmap.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    shift_geometries,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
TONGREN = (109.18, 27.72)

# Reference values published with wandergis/coordtransform (also used by the hutool and
# coordtransform-rs test suites): agreement to 1e-9 degrees.
REFERENCE = [
    (wgs84_to_gcj02, (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    (gcj02_to_bd09, (116.404, 39.915), (116.41036949371029, 39.92133699351022)),
    (bd09_to_gcj02, (116.404, 39.915), (116.39762729119315, 39.90865673957631)),
]
# Values from another implementation (geotool) that uses slightly different constants:
# agreement to 1e-6 degrees (about 0.1 m).
OTHER_IMPLEMENTATION = [
    (wgs84_to_gcj02, (121.0917077, 30.6107779), (121.09626935575027, 30.608604331756705)),
    (wgs84_to_bd09, (121.0917077, 30.6107779), (121.10271732371203, 30.61484572185035)),
]


@pytest.mark.parametrize(("func", "point", "expected"), REFERENCE)
def test_reference_values(func, point, expected):
    lon, lat = func(*point)
    assert float(lon) == pytest.approx(expected[0], abs=1e-9)
    assert float(lat) == pytest.approx(expected[1], abs=1e-9)


@pytest.mark.parametrize(("func", "point", "expected"), OTHER_IMPLEMENTATION)
def test_other_implementation_within_a_decimetre(func, point, expected):
    lon, lat = func(*point)
    assert float(lon) == pytest.approx(expected[0], abs=1e-6)
    assert float(lat) == pytest.approx(expected[1], abs=1e-6)


def test_offset_at_tongren_is_about_580_m():
    lon, lat = wgs84_to_gcj02(*TONGREN)
    _, _, dist = GEOD.inv(*TONGREN, float(lon), float(lat))
    assert 450 < dist < 700


def test_bd09_offset_at_tongren_is_about_1140_m():
    lon, lat = wgs84_to_bd09(*TONGREN)
    _, _, dist = GEOD.inv(*TONGREN, float(lon), float(lat))
    assert 900 < dist < 1400


def test_round_trip_gcj02_is_below_a_millimetre():
    rng = np.random.default_rng(7)
    lon = rng.uniform(75, 134, 500)
    lat = rng.uniform(18, 53, 500)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(back_lon - lon)) < 1e-8
    assert np.max(np.abs(back_lat - lat)) < 1e-8


def test_round_trip_bd09_is_below_a_metre():
    back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(*TONGREN))
    _, _, dist = GEOD.inv(*TONGREN, float(back_lon), float(back_lat))
    assert dist < 1.0


def test_outside_china_is_unchanged():
    lon, lat = wgs84_to_gcj02([2.35, -74.0], [48.85, 40.7])
    assert lon.tolist() == [2.35, -74.0]
    assert lat.tolist() == [48.85, 40.7]
    assert in_china([2.35, 109.18], [48.85, 27.72]).tolist() == [False, True]


def test_shift_geometries_moves_every_vertex():
    square = Polygon([(109.18, 27.72), (109.19, 27.72), (109.19, 27.73), (109.18, 27.73)])
    [shifted] = shift_geometries([square], "gcj02")
    expected_lon, expected_lat = wgs84_to_gcj02(*get_coordinates(square).T)
    np.testing.assert_allclose(
        get_coordinates(shifted), np.column_stack([expected_lon, expected_lat])
    )
    assert shift_geometries([Point(TONGREN)], "wgs84")[0].equals(Point(TONGREN))


def test_shift_geometries_rejects_unknown_system():
    with pytest.raises(ValueError, match="Unknown coordinate system 'baidu'"):
        shift_geometries([Point(TONGREN)], "baidu")
