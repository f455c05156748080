"""Coordinate reference systems: storage CRS, input normalisation and projected CRS choice.

gridmap stores and serves lon/lat in EPSG:4326. CGCS2000 (EPSG:4490) differs from WGS 84 by
centimetres, so it is relabelled rather than transformed. Areas and distances are measured in the
CGCS2000 3-degree Gauss-Krüger zone of the data (EPSG:4534-4554) inside China, UTM elsewhere.
"""

from __future__ import annotations

import math

import geopandas as gpd
from pyproj import CRS

from gridmap.errors import CRSError, ErrorTexts

__all__ = [
    "STORAGE_CRS",
    "CGCS2000",
    "CRS_ERRORS",
    "CHINA_BOUNDS",
    "gauss_kruger_crs",
    "to_storage_crs",
    "projected_crs_for",
    "to_projected",
    "check_same_crs",
]

_LAYER_ZH = {"communities": "社区", "compounds": "小区", "streets": "道路", "buildings": "楼栋",
             "households": "住户", "grids": "网格"}  # fmt: skip
"""The layer names callers give (English plurals) in Chinese; other names are kept."""


def _zh(name: str) -> str:
    return _LAYER_ZH.get(name, name)


CRS_ERRORS = ErrorTexts({
    "no_crs": (CRSError, lambda layer: (
        f"{layer} has no CRS. Set one (for example EPSG:4490 for CGCS2000 lon/lat) with --crs or "
        "GeoDataFrame.set_crs().",
        f"{layer} 没有坐标系；请用 --crs 给出（例如 CGCS2000 经纬度为 EPSG:4490），或在 .prj "
        "文件中写明。")),
    "no_crs_to_project": (CRSError, lambda: (
        "Cannot choose a projected CRS for data without a CRS.",
        "数据没有坐标系，无法选择投影坐标系；请先给出数据的坐标系（--crs）。")),
    "empty_to_project": (CRSError, lambda: (
        "Cannot choose a projected CRS for empty data.",
        "数据为空（没有任何图形），无法选择投影坐标系；请检查文件是否有记录。")),
    "no_crs_to_combine": (CRSError, lambda name: (
        f"{name} has no CRS; set one before combining it with other layers.",
        f"{_zh(name)}没有坐标系；请先给出坐标系（--crs），再与其他图层一起使用。")),
    "different_crs": (CRSError, lambda crss: (
        f"Layers are in different CRSs ({', '.join(f'{n}={c}' for n, c in crss)}); reproject "
        "them to one CRS.",
        f"各图层的坐标系不同（{'，'.join(f'{_zh(n)}：{c}' for n, c in crss)}）；请把它们转换到"
        "同一坐标系。")),
})  # fmt: skip
"""The errors of this module in English and Chinese (:class:`~gridmap.errors.ErrorTexts`)."""

STORAGE_CRS = CRS.from_epsg(4326)
CGCS2000 = CRS.from_epsg(4490)

# CGCS2000 3-degree Gauss-Krüger zones, no zone prefix: EPSG:4534 is CM 75°E ... 4554 is 135°E.
_GK3_FIRST_EPSG = 4534
_GK3_FIRST_CM = 75
_GK3_LAST_CM = 135
CHINA_BOUNDS = (73.0, 18.0, 135.5, 54.0)
"""Rough bounding box of China (lon/lat): Gauss-Krüger over UTM, latitude/longitude swapped."""
# CGCS2000 Gauss-Krüger zones with the zone number in front of X: 3° zones 25-45 are EPSG:4513-
# 4533, 6° zones 13-23 EPSG:4491-4501; without it, 6° CM 75°E-135°E are EPSG:4502-4512.
_GK3_NUMBERED = (25, 45, 4513)
_GK6_NUMBERED = (13, 23, 4491)
_GK6_FIRST_EPSG = 4502


def gauss_kruger_crs(zone: int, *, numbered: bool) -> str | None:
    """The CGCS2000 Gauss-Krüger CRS of ``zone`` (3° zones 25–45, 6° zones 13–23), with the
    zone number in front of X (``numbered``) or without; ``None`` for a number that is no zone
    over China.

    Examples
    --------
    >>> gauss_kruger_crs(36, numbered=True), gauss_kruger_crs(36, numbered=False)
    ('EPSG:4524', 'EPSG:4545')
    >>> gauss_kruger_crs(18, numbered=False), gauss_kruger_crs(7, numbered=True)
    ('EPSG:4507', None)
    """
    for first, last, epsg in (_GK3_NUMBERED, _GK6_NUMBERED):
        if first <= zone <= last:
            if numbered:
                return f"EPSG:{epsg + zone - first}"
            if epsg == _GK3_NUMBERED[2]:
                return f"EPSG:{_GK3_FIRST_EPSG + zone - first}"
            return f"EPSG:{_GK6_FIRST_EPSG + zone - first}"
    return None


def to_storage_crs(frame: gpd.GeoDataFrame, *, layer: str = "layer") -> gpd.GeoDataFrame:
    """Return ``frame`` in EPSG:4326; CGCS2000 is relabelled, other CRSs transformed.

    Raises
    ------
    CRSError
        If the frame has no CRS.
    """
    if frame.crs is None:
        raise CRS_ERRORS.error("no_crs", layer=layer)
    crs = CRS.from_user_input(frame.crs)
    if crs.equals(STORAGE_CRS, ignore_axis_order=True):
        return frame if crs.equals(STORAGE_CRS) else frame.set_crs(STORAGE_CRS, allow_override=True)
    if crs.equals(CGCS2000, ignore_axis_order=True):
        # Same datum within centimetres (see context: treat GNSS positions as CGCS2000).
        return frame.set_crs(STORAGE_CRS, allow_override=True)
    return frame.to_crs(STORAGE_CRS)


def projected_crs_for(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """Choose a metric CRS for ``frame``: the CGCS2000 3° GK zone in China, else UTM."""
    if frame.crs is None:
        raise CRS_ERRORS.error("no_crs_to_project")
    lonlat = frame.to_crs(STORAGE_CRS) if not CRS(frame.crs).is_geographic else frame
    minx, miny, maxx, maxy = lonlat.total_bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise CRS_ERRORS.error("empty_to_project")
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    cmin_lon, cmin_lat, cmax_lon, cmax_lat = CHINA_BOUNDS
    if cmin_lon <= lon <= cmax_lon and cmin_lat <= lat <= cmax_lat:
        cm = min(max(3 * round(lon / 3), _GK3_FIRST_CM), _GK3_LAST_CM)
        return CRS.from_epsg(_GK3_FIRST_EPSG + (cm - _GK3_FIRST_CM) // 3)
    zone = int((lon + 180) // 6) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_projected(frame: gpd.GeoDataFrame, crs: CRS | None = None) -> gpd.GeoDataFrame:
    """Return ``frame`` in ``crs`` or, by default, in :func:`projected_crs_for` of it."""
    return frame.to_crs(crs or projected_crs_for(frame))


def check_same_crs(*frames: gpd.GeoDataFrame | gpd.GeoSeries | None, names: list[str]) -> None:
    """Raise :class:`CRSError` unless all given frames share one CRS (``None`` frames skipped)."""
    seen: dict[str, CRS] = {}
    for name, frame in zip(names, frames, strict=True):
        if frame is None:
            continue
        if frame.crs is None:
            raise CRS_ERRORS.error("no_crs_to_combine", name=name)
        seen[name] = CRS(frame.crs)
    crss = list(seen.values())
    if any(not c.equals(crss[0]) for c in crss[1:]):
        raise CRS_ERRORS.error("different_crs", crss=[(n, c.to_string()) for n, c in seen.items()])
