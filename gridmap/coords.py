"""Chinese web-map coordinate offsets: WGS 84 ↔ GCJ-02 ↔ BD-09.

gridmap stores true lon/lat (EPSG:4326, equal to CGCS2000 within centimetres). Basemaps from
AMap/Gaode and Tencent are drawn in GCJ-02, an obfuscated datum offset by a few hundred metres
(about 580 m at Tongren); Baidu uses BD-09, a further offset of GCJ-02. To make true
coordinates line up with those basemaps, shift them *for display only* with
:func:`wgs84_to_gcj02` or :func:`wgs84_to_bd09`; never store shifted coordinates.

The forward formulas are the public ones (as in ``eviltransform`` and ``coordtransform``);
the inverses are solved by fixed-point iteration to better than 1e-9 degrees. Points outside
China's rough bounding box are returned unchanged, as the offset is only applied inside China.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "OFFSET_SYSTEMS",
    "in_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "shift_geometries",
    "unshift_geometries",
    "offset_system",
    "OFFSET_NAMES",
]

OFFSET_SYSTEMS = ("wgs84", "gcj02", "bd09")
"""Names accepted by :func:`shift_geometries`."""

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formulas.
_A = 6378245.0
_EE = 0.00669342162296594323
# BD-09 constant: pi * 3000 / 180.
_X_PI = np.pi * 3000.0 / 180.0
# The offset is applied only inside this lon/lat box (the usual "out of China" test).
_CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)
_INVERSE_TOLERANCE = 1e-10
_INVERSE_MAX_STEPS = 30

Array = NDArray[np.float64]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return whether each point lies in the box where GCJ-02 offsets apply.

    Examples
    --------
    >>> in_china([109.18, 2.35], [27.72, 48.85]).tolist()
    [True, False]
    """
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    minx, miny, maxx, maxy = _CHINA_BOX
    return (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)


def _delta_lat(x: Array, y: Array) -> Array:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x: Array, y: Array) -> Array:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return x.copy(), y.copy()


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Shift WGS 84 lon/lat to GCJ-02 (AMap/Gaode, Tencent) for display.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees (scalars or arrays of one shape).

    Returns
    -------
    tuple of ndarray
        GCJ-02 longitudes and latitudes; points outside China are unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(float(lon), 8), round(float(lat), 8)
    (116.4102445, 39.91640428)
    """
    x, y = _as_arrays(lon, lat)
    inside = in_china(x, y)
    dlat = _delta_lat(x - 105.0, y - 35.0)
    dlon = _delta_lon(x - 105.0, y - 35.0)
    radlat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (error below 1e-9 degrees).

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(109.18, 27.72))
    >>> round(float(lon), 9), round(float(lat), 9)
    (109.18, 27.72)
    """
    gx, gy = _as_arrays(lon, lat)
    x, y = gx.copy(), gy.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        fx, fy = wgs84_to_gcj02(x, y)
        ex, ey = fx - gx, fy - gy
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < _INVERSE_TOLERANCE) and np.all(np.abs(ey) < _INVERSE_TOLERANCE):
            break
    return x, y


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Shift GCJ-02 lon/lat to Baidu's BD-09.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(lon), 8), round(float(lat), 8)
    (116.41036949, 39.92133699)

    :func:`bd09_to_gcj02` takes it back to within about 4e-7 degrees (a few centimetres):

    >>> back = bd09_to_gcj02(lon, lat)
    >>> round(float(back[0]), 6), round(float(back[1]), 6)
    (116.404, 39.915)
    """
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Shift Baidu BD-09 lon/lat back to GCJ-02 (the usual closed-form approximation)."""
    bx, by = _as_arrays(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Shift WGS 84 lon/lat to BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Shift BD-09 lon/lat to WGS 84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


OFFSET_NAMES: dict[Literal["gcj02", "bd09"], tuple[str, ...]] = {
    "gcj02": ("火星坐标", "高德", "腾讯", "火星", "gcj-02", "gcj_02", "gcj02", "gcj"),
    "bd09": ("百度", "bd09ll", "bd-09", "bd_09", "bd09", "bd"),
}
"""How people name the offset systems, lowercase, longest first: a ``--crs`` value, or a word
beside a lon/lat header (高德经度, ``lng_bd09``)."""


def offset_system(value: object) -> Literal["gcj02", "bd09"] | None:
    """``"gcj02"`` or ``"bd09"`` when ``value`` (a ``--crs``) names a web-map offset system —
    GCJ-02 (AMap/高德, Tencent/腾讯: ``GCJ-02``, ``GCJ02``, ``火星坐标``) or BD-09 (Baidu/百度:
    ``BD-09``, ``BD09``, ``BD09LL``) — else None (an EPSG code, a CRS …).

    >>> offset_system("GCJ-02"), offset_system("bd09ll"), offset_system("EPSG:4326")
    ('gcj02', 'bd09', None)
    """
    if not isinstance(value, str):
        return None
    name = "".join(value.lower().split())
    if name in OFFSET_NAMES["gcj02"]:
        return "gcj02"
    return "bd09" if name in OFFSET_NAMES["bd09"] else None


def unshift_geometries(
    geometries: ArrayLike, frm: Literal["wgs84", "gcj02", "bd09"]
) -> NDArray[np.object_]:
    """Return lon/lat shapely geometries shifted from ``frm`` back to WGS 84: coordinates
    taken from an AMap/Tencent (GCJ-02) or Baidu (BD-09) map or geocoder, made true (GCJ-02
    to within 1e-9 degrees; BD-09 to within a few centimetres).

    >>> from shapely import Point
    >>> [p] = unshift_geometries(shift_geometries([Point(109.18, 27.72)], "gcj02"), "gcj02")
    >>> round(p.x, 8), round(p.y, 8)
    (109.18, 27.72)
    """
    return _shifted(geometries, frm, {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84})


def _shifted(
    geometries: ArrayLike,
    system: str,
    shifts: dict[str, Callable[[ArrayLike, ArrayLike], tuple[Array, Array]]],
) -> NDArray[np.object_]:
    """``geometries`` with every coordinate shifted by ``shifts[system]`` (none for wgs84)."""
    if system not in OFFSET_SYSTEMS:
        raise ValueError(f"Unknown coordinate system {system!r}; use one of {OFFSET_SYSTEMS}.")
    geoms = np.asarray(geometries, dtype=object)
    if system == "wgs84":
        return geoms
    shift = shifts[system]
    return shapely.transform(geoms, lambda c: np.column_stack(shift(c[:, 0], c[:, 1])))


def shift_geometries(
    geometries: ArrayLike, to: Literal["wgs84", "gcj02", "bd09"]
) -> NDArray[np.object_]:
    """Return lon/lat shapely geometries shifted from WGS 84 to ``to`` for display.

    Parameters
    ----------
    geometries : array_like of shapely.Geometry
        Geometries in EPSG:4326 lon/lat (for example ``GeoSeries.values``).
    to : {"wgs84", "gcj02", "bd09"}
        Target system; ``"wgs84"`` returns the geometries unchanged.

    Returns
    -------
    ndarray of shapely.Geometry

    Raises
    ------
    ValueError
        If ``to`` is not one of :data:`OFFSET_SYSTEMS`.

    Examples
    --------
    >>> from shapely import Point
    >>> [p] = shift_geometries([Point(116.404, 39.915)], "gcj02")
    >>> round(p.x, 6), round(p.y, 6)
    (116.410244, 39.916404)
    """
    return _shifted(geometries, to, {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09})
