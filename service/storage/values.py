"""Value and geometry conversions between canonical frames and store rows.

Text and numbers are cleaned the same way for every table (blank → ``None``); geometries are
coerced to the column's kind (MultiPolygon, MultiLineString, Point) in EPSG:4326 and bound as
GeoAlchemy2 WKB elements; stored WKB comes back as shapely geometries.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry

from gridmap.crs import to_storage_crs
from service.storage import models as m

__all__ = [
    "clean_text",
    "clean_int",
    "parse_dates",
    "column_values",
    "as_multipolygon",
    "as_multiline",
    "as_point",
    "to_wkb",
    "storage_geometries",
    "shapes_from_wkb",
]


_POLYGON, _MULTIPOLYGON = shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON


def clean_text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def clean_int(value: Any) -> int | None:
    """``value`` as an int (``"12"``, ``12.0``, ``"12.0"`` → 12); blank or not a number → None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_ | int | np.integer):
        return int(value)
    if not isinstance(value, float | np.floating):
        text = str(value).strip()
        try:
            return int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return None
    return int(value) if math.isfinite(value) else None


def _parsed(values: pd.Series) -> pd.Series:
    """Timestamps from ISO (``1981-04-22``), ``19810422`` or ``1981/04/22`` text; others NaT."""
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    for fmt in ("%Y%m%d", "%Y/%m/%d", "%Y.%m.%d"):
        missing = parsed.isna() & text.notna()
        if not missing.any():
            break
        parsed[missing] = pd.to_datetime(text[missing], errors="coerce", format=fmt)
    return parsed


def _dates_in_turn(parsed: pd.Series) -> list[dt.date | None]:
    """The date of each timestamp in turn (NaT → None): any dtype, tz-aware too."""
    return [None if pd.isna(v) else v.date() for v in parsed]


def parse_dates(values: pd.Series) -> list[dt.date | None]:
    """Dates from ISO (``1981-04-22``), ``19810422`` or ``1981/04/22`` text; others → None."""
    parsed = _parsed(values)
    array = parsed.to_numpy()
    if array.dtype.kind == "M":  # naive datetime64: whole days at once, NaT → None
        return list(array.astype("datetime64[D]").astype(object))
    return _dates_in_turn(parsed)


def column_values(frame: pd.DataFrame, column: str) -> list[Any]:
    return frame[column].tolist() if column in frame.columns else [None] * len(frame)


def as_multipolygon(geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    kind = shapely.get_type_id(geom)
    if kind in (_POLYGON, _MULTIPOLYGON) and shapely.is_valid(geom):  # the common case:
        return shapely.MultiPolygon([cast(shapely.Polygon, geom)]) if kind == _POLYGON else geom
    # (the same shape as its polygon parts below give)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = shapely.get_parts(geom)
    polys = [p for part in parts for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polys) if polys else None


def as_multiline(geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    lines = [p for p in shapely.get_parts(geom) if p.geom_type == "LineString"]
    return shapely.MultiLineString(lines) if lines else None


def as_point(geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    return geom if geom.geom_type == "Point" else geom.point_on_surface()


def to_wkb(geom: BaseGeometry | None) -> Any:
    return None if geom is None else from_shape(geom, srid=m.SRID)


def storage_geometries(frame: pd.DataFrame) -> list[BaseGeometry | None]:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        return [None] * len(frame)
    frame = to_storage_crs(frame) if frame.crs is not None else frame
    shapes = np.asarray(frame.geometry.array, dtype=object)  # the same objects, one array
    shapes[shapely.is_empty(shapes)] = None  # None stays None (not empty)
    return list(shapes)


def shapes_from_wkb(values: Iterable[Any]) -> np.ndarray:
    # WKBElement data is bytes/memoryview (PostGIS) or a hex string (SpatiaLite).
    raw = [None if v is None else v.data if isinstance(v.data, str) else bytes(v.data)
           for v in values]  # fmt: skip
    return shapely.from_wkb(raw)
