"""The geometry of a layer read by :func:`gridmap.io.layers.read_layer`: points from lon/lat
(also degrees-minutes-seconds) or WKT columns, the CRS given or declared, and the checks that
coordinates fit it (swapped lat/lon, a Gauss-Krüger X with its zone number in front, lon/lat
declared as projected metres, outside China); geometries with a NaN or infinite coordinate left
out; 3-D geometries made 2-D; an area that is no valid polygon (a boundary that crosses itself, a
hole outside it) and buildings drawn as lines noted."""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from gridmap.coords import OFFSET_NAMES, offset_system, unshift_geometries
from gridmap.crs import (
    CHINA_BOUNDS,
    STORAGE_CRS,
    gauss_kruger_crs,
    projected_crs_for,
    to_storage_crs,
)
from gridmap.io.headers import GEOMETRY_HEADERS, normalise_header
from gridmap.io.notes import ROWS_SHOWN, ReadNote, ReadWarning, note_rows
from gridmap.io.readerrors import read_error
from gridmap.schema import Entity

__all__ = ["ensure_geometry", "areas_of_outlines", "note_placed_by_point", "note_self_crossing"]

logger = logging.getLogger(__name__)


def ensure_geometry(
    raw: pd.DataFrame, path: Path, crs: str | int | CRS | None, notes: list[ReadNote]
) -> gpd.GeoDataFrame:
    """``raw`` as a GeoDataFrame in EPSG:4326: 2-D, coordinates checked against the CRS.

    ``crs`` may name a web-map offset system (``GCJ-02`` of AMap/Tencent, ``BD-09`` of Baidu:
    :func:`gridmap.coords.offset_system`) for a table's lon/lat or a file declaring no CRS or
    EPSG:4326 (GeoJSON always does), as may a table's lon/lat headers (高德经度, 百度纬度,
    ``gcj_lng`` …): such lon/lat are shifted back to true coordinates, saying so. A file
    declaring another CRS (CGCS2000 …) is kept as it is."""
    offset = offset_system(crs)
    if offset is not None:
        crs = STORAGE_CRS
    if isinstance(raw, gpd.GeoDataFrame):
        frame, hinted = _apply_crs(raw, path, crs, notes), None
    else:
        frame, hinted = _geometry_from_table(raw, path, crs, notes)
    frame = _drop_not_finite(frame, path, notes)
    frame = _force_2d(frame, path, notes)
    _check_lonlat_range(frame, path, given=crs is not None)
    _check_projected_range(frame, path, given=crs is not None)
    lonlat = frame.crs is not None and frame.crs.is_geographic
    frame = to_storage_crs(frame, layer=path.name)
    declared = raw.crs if isinstance(raw, gpd.GeoDataFrame) else None
    if offset is not None and (declared is None or declared.equals(STORAGE_CRS)):
        hinted = (offset, ())  # --crs before what the headers say; a file's own CRS is kept
    if hinted is None or not lonlat:  # a file's own projected CRS is kept: nothing to shift
        return frame
    system, headers = hinted
    geoms = np.asarray(frame.geometry.values)
    notes.append(ReadNote.of("offset_removed", path.name, system=system, headers=headers,
                             n=int((~shapely.is_missing(geoms)).sum())))  # fmt: skip
    return frame.set_geometry(unshift_geometries(geoms, system), crs=frame.crs)


def _apply_crs(
    frame: gpd.GeoDataFrame, path: Path, crs: str | int | CRS | None, notes: list[ReadNote]
) -> gpd.GeoDataFrame:
    """Use ``crs`` for a file that declares none, or whose declared lon/lat CRS cannot hold
    its coordinates (GeoJSON always says EPSG:4326); a file's own projected CRS is kept."""
    if crs is None or frame.crs is None:
        return frame if crs is None else frame.set_crs(crs)
    given = CRS.from_user_input(crs)
    if frame.crs.equals(given):
        return frame
    if not (_looks_lonlat(frame) if frame.crs.is_geographic else _lies_in_crs(frame)):
        notes.append(ReadNote.of("crs_reinterpreted", path.name, crs=given.to_string()))
        return frame.set_crs(given, allow_override=True)
    notes.append(ReadNote.of("crs_kept", path.name, crs=frame.crs.to_string()))
    return frame


def _looks_lonlat(frame: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = frame.total_bounds
    return bool(np.isnan(minx) or (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90))


def _drop_not_finite(
    frame: gpd.GeoDataFrame, path: Path, notes: list[ReadNote]
) -> gpd.GeoDataFrame:
    """Leave out the geometries with a NaN or infinite coordinate (a broken export), saying
    which rows: they would pass the CRS checks unseen and break every overlay after."""
    geoms = np.asarray(frame.geometry.values)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)  # x, y: z is dropped
    bad_rows = np.unique(owner[~np.isfinite(coords).all(axis=1)])
    if not len(bad_rows):
        return frame
    bad = np.zeros(len(frame), bool)
    bad[bad_rows] = True
    note_rows(notes, "rows_without_geometry", bad, path, column="not_finite")
    kept = geoms.copy()
    kept[bad] = None
    return frame.assign(**{frame.geometry.name: gpd.GeoSeries(kept, index=frame.index,
                                                                crs=frame.crs)})  # fmt: skip


def _force_2d(frame: gpd.GeoDataFrame, path: Path, notes: list[ReadNote]) -> gpd.GeoDataFrame:
    """Drop the heights of 3-D geometries (grids are drawn on the map), saying so for those
    with a height: the zero heights KML and many CAD exports write on every point lose
    nothing."""
    geoms = np.asarray(frame.geometry.values)
    has_z = shapely.has_z(geoms)
    if not has_z.any():
        return frame
    coords, at = shapely.get_coordinates(geoms[has_z], include_z=True, return_index=True)
    z = coords[:, 2]
    high = np.unique(at[np.isfinite(z) & (z != 0)])
    if len(high):
        notes.append(ReadNote.of("made_2d", path.name, n=len(high)))
    return frame.set_geometry(shapely.force_2d(geoms), crs=frame.crs)


def _check_lonlat_range(
    frame: gpd.GeoDataFrame, path: Path, *, given: bool, columns: Sequence[str] = ()
) -> None:
    """Refuse a geographic CRS for coordinates that cannot be longitude/latitude, saying so
    when they are latitude, longitude (in China) the wrong way round.

    Raises
    ------
    CRSError
        Naming the CRS, where it came from and what to give instead.
    """
    if frame.crs is None or not frame.crs.is_geographic or _looks_lonlat(frame):
        return
    _check_not_swapped(frame, path, columns)
    minx, miny, *_ = frame.total_bounds
    raise read_error("not_lonlat", file=path.name, x=float(minx), y=float(miny),
                     crs=frame.crs.to_string(), given=given)  # fmt: skip


def _check_not_swapped(frame: gpd.GeoDataFrame, path: Path, columns: Sequence[str]) -> None:
    """Refuse coordinates that are latitude, longitude in China (x 18–54, y 73–136), naming
    the columns to swap (``columns``: longitude and latitude) or the file to export again."""
    minx, miny, maxx, maxy = frame.total_bounds
    lon_min, lat_min, lon_max, lat_max = CHINA_BOUNDS
    if lat_min <= minx <= maxx <= lat_max and lon_min <= miny <= maxy <= lon_max:
        raise read_error("lat_lon_swapped", file=path.name, x=float(minx), y=float(miny),
                         columns=list(columns))  # fmt: skip


_ZONE_WIDTH = 1_000_000  # metres: a Gauss-Krüger X with its zone number in front is zone·10⁶ + X


def _lies_in_crs(frame: gpd.GeoDataFrame) -> bool:
    """True if the bounds of ``frame`` (projected) turn into longitude/latitude in its CRS, and
    are not longitude/latitude themselves (:func:`_lonlat_as_metres`)."""
    minx, miny, maxx, maxy = frame.total_bounds
    if np.isnan(minx):
        return True
    if _lonlat_as_metres(frame):
        return False
    to_lonlat = Transformer.from_crs(frame.crs, STORAGE_CRS, always_xy=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lon, lat = to_lonlat.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
    lon, lat = np.asarray(lon), np.asarray(lat)
    return bool(np.isfinite(lon).all() and np.isfinite(lat).all() and (abs(lon) <= 180).all()
                and (abs(lat) <= 90).all())  # fmt: skip


def _lonlat_as_metres(frame: gpd.GeoDataFrame) -> bool:
    """True if the coordinates of ``frame`` (projected) are longitude/latitude that a file says
    are metres: all within ±180, ±90 and, read as metres, outside the CRS's area of use (a
    Gauss-Krüger CRS puts them 500 km west of its central meridian, on the equator)."""
    area = frame.crs.area_of_use
    if area is None or not _looks_lonlat(frame):
        return False
    minx, miny, maxx, maxy = frame.total_bounds
    to_lonlat = Transformer.from_crs(frame.crs, STORAGE_CRS, always_xy=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lon, lat = to_lonlat.transform([minx, maxx], [miny, maxy])
    inside = (area.west <= min(lon) and max(lon) <= area.east and area.south <= min(lat)
              and max(lat) <= area.north)  # fmt: skip
    return not inside


def _false_easting(crs: CRS) -> float:
    """The false easting of a projected CRS (500 km, or the zone number · 10⁶ + 500 km)."""
    operation = crs.coordinate_operation
    params = operation.params if operation is not None else []
    return next((float(p.value) for p in params if p.name.lower() == "false easting"), 0.0)


def _check_projected_range(frame: gpd.GeoDataFrame, path: Path, *, given: bool) -> None:
    """Refuse a projected CRS whose coordinates do not turn into longitude/latitude (a
    Gauss-Krüger X with the zone number in front where the CRS has none, or the other way),
    suggesting the CRS they are in, or that are longitude/latitude themselves.

    Raises
    ------
    CRSError
        Naming the CRS, where it came from and the CRS to give instead.
    """
    if frame.crs is None or frame.crs.is_geographic or _lies_in_crs(frame):
        return
    minx, miny, *_ = frame.total_bounds
    epsg = frame.crs.to_epsg()
    if _lonlat_as_metres(frame):
        raise read_error("lonlat_in_projected", file=path.name, x=float(minx), y=float(miny),
                         crs=f"EPSG:{epsg}" if epsg else frame.crs.name, given=given)  # fmt: skip
    east = _false_easting(frame.crs)
    zone = int(minx // _ZONE_WIDTH) if east < _ZONE_WIDTH else int(east // _ZONE_WIDTH)
    suggested = gauss_kruger_crs(zone, numbered=east < _ZONE_WIDTH)
    raise read_error("not_in_crs", file=path.name, x=float(minx), y=float(miny),
                     crs=f"EPSG:{epsg}" if epsg else frame.crs.name, given=given,
                     zone=zone if suggested else None,
                     prefixed=east < _ZONE_WIDTH, suggested=suggested)  # fmt: skip


def _find_geometry_columns(columns: list[str]) -> tuple[dict[str, str], OffsetHint | None]:
    """Role (lon, lat, wkt) → column; and, where the lon/lat headers name a web-map offset
    system (高德经度, 百度纬度, ``lng_gcj02``) and no plain lon/lat headers are there, that
    system and the two headers."""
    offsets = {col: hint for col in columns if (hint := _offset_header(col))}
    found: dict[str, str] = {}
    for role, names in GEOMETRY_HEADERS.items():
        for col in columns:
            if normalise_header(col) in names and role not in found and col not in offsets:
                found[role] = col
    if "lon" in found and "lat" in found:
        return found, None
    for system in ("gcj02", "bd09"):
        lon = [c for c, (role, s) in offsets.items() if (role, s) == ("lon", system)]
        lat = [c for c, (role, s) in offsets.items() if (role, s) == ("lat", system)]
        if lon and lat:
            return {**found, "lon": lon[0], "lat": lat[0]}, (system, (lon[0], lat[0]))
    return found, None


OffsetHint = tuple[Literal["gcj02", "bd09"], tuple[str, ...]]
"""A web-map offset system (gcj02, bd09) and the lon/lat headers that name it."""


def _offset_header(header: object) -> tuple[str, Literal["gcj02", "bd09"]] | None:
    """(lon or lat, offset system) of a header such as 高德经度, 经度（百度）, ``gcj_lng``,
    ``lng_bd09``, 百度坐标纬度; None for any other."""
    text = unicodedata.normalize("NFKC", str(header)).casefold()
    for system, markers in OFFSET_NAMES.items():
        for marker in markers:
            if marker not in text:
                continue
            rest = normalise_header(re.sub(r"[()（）\[\]【】]", " ", text.replace(marker, " ", 1)))
            rest = rest.strip("_").removeprefix("坐标").removesuffix("坐标").strip("_")
            for role in ("lon", "lat"):
                if rest in GEOMETRY_HEADERS[role] and rest not in ("x", "y"):
                    return role, system
    return None


def _geometry_from_table(
    table: pd.DataFrame, path: Path, crs: str | int | CRS | None, notes: list[ReadNote]
) -> tuple[gpd.GeoDataFrame, OffsetHint | None]:
    cols, hinted = _find_geometry_columns(list(table.columns))
    if "lon" in cols and "lat" in cols:
        lon, lat = _degrees(table[cols["lon"]]), _degrees(table[cols["lat"]])
        geoms = np.asarray(shapely.points(lon, lat), dtype=object)
        given = (table[cols["lon"]].notna() | table[cols["lat"]].notna()).to_numpy()
        geoms[np.isnan(lon) | np.isnan(lat)] = None
        bad = given & (np.isnan(lon) | np.isnan(lat))
        note_rows(notes, "rows_without_geometry", bad, path, column="lonlat")
        used = [cols["lon"], cols["lat"]]
    elif "wkt" in cols:
        text = table[cols["wkt"]].astype(object).where(table[cols["wkt"]].notna(), None)
        geoms, curved = _from_wkt(text.to_numpy())
        bad = shapely.is_missing(geoms) & text.notna().to_numpy()
        note_rows(notes, "rows_without_geometry", curved, path, column="wkt_curved")
        note_rows(notes, "rows_without_geometry", bad & ~curved, path, column="wkt")
        used = [cols["wkt"]]
    else:
        empty = gpd.GeoSeries([None] * len(table), index=table.index)
        return gpd.GeoDataFrame(table, geometry=empty, crs=STORAGE_CRS), None
    frame = gpd.GeoDataFrame(table.drop(columns=used), geometry=list(geoms), index=table.index)
    lonlat = used if len(used) == 2 else []
    if crs is None:
        return frame.set_crs(_guess_table_crs(frame, path, lonlat)), hinted
    frame = frame.set_crs(crs)
    _check_lonlat_range(frame, path, given=True, columns=lonlat)
    return frame, hinted


_DMS = re.compile(
    r"([NSEW东西南北])?(\d+(?:\.\d+)?)[°度](?:(\d+(?:\.\d+)?)[′'’分])?"
    r"(?:(\d+(?:\.\d+)?)(?:″|\"|”|''|′′|秒))?([NSEW东西南北])?",
    re.IGNORECASE,
)
"""Degrees, minutes, seconds as offices write them (``109°11′20.5″``, ``109度11分20.5秒``,
``E109°11'20.5"``), spaces and the apostrophe of text removed."""
_NEGATIVE_HEMISPHERES = frozenset("SWsw西南")


def _degrees(values: pd.Series) -> npt.NDArray[np.float64]:
    """Decimal degrees of a longitude or latitude column: numbers (an apostrophe kept as text
    before them dropped), else degrees, minutes, seconds (:data:`_DMS`); NaN for the rest."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, copy=True)
    odd = np.flatnonzero(np.isnan(numbers) & values.notna().to_numpy())
    for i in odd:
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(values.iloc[i])))
        text = text.removeprefix("'")
        found = _DMS.fullmatch(text)
        if found is None:
            try:
                numbers[i] = float(text)
            except ValueError:
                continue
            continue
        before, deg, minutes, seconds, after = found.groups()
        value = float(deg) + float(minutes or 0) / 60 + float(seconds or 0) / 3600
        negative = (before or after or "") in _NEGATIVE_HEMISPHERES
        numbers[i] = -value if negative else value
    return numbers


def _from_wkt(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The geometries of WKT ``text`` (missing where it cannot be parsed), and where it is a
    curve (``CIRCULARSTRING``, ``CURVEPOLYGON`` … of a CAD export), which shapely cannot hold."""
    curved = np.zeros(len(text), bool)
    try:
        return shapely.from_wkt(text, on_invalid="ignore"), curved
    except NotImplementedError:  # a curve among them: parse one by one
        geoms = np.empty(len(text), object)
        for i, value in enumerate(text):
            try:
                geoms[i] = shapely.from_wkt(value, on_invalid="ignore")
            except NotImplementedError:
                curved[i] = True
        return geoms, curved


def _guess_table_crs(frame: gpd.GeoDataFrame, path: Path, columns: Sequence[str]) -> CRS:
    minx, miny, *_ = frame.total_bounds
    _check_not_swapped(frame, path, columns)
    if _looks_lonlat(frame):
        logger.info(
            "%s: coordinates look like lon/lat; assuming EPSG:4326 (CGCS2000 is the same).",
            path.name,
        )
        return STORAGE_CRS
    raise read_error("table_without_crs", file=path.name, x=float(minx), y=float(miny))


def note_self_crossing(
    frame: gpd.GeoDataFrame, ent: Entity, path: Path, notes: list[ReadNote]
) -> None:
    """Note (and warn) each area that is no valid polygon: a boundary that crosses or touches
    itself (a bow-tie, a ring through one of its own points), a hole outside its outer ring,
    parts of a multipolygon that overlap or lie one inside another (:func:`_invalid_kind`).
    The commands repair it with :func:`shapely.make_valid`, which may lose area, split it or
    make a hole outside a part of its own, so that buildings fall outside it or in it wrongly.
    The note names the record, says where, and the area as drawn and repaired (m²)."""
    geoms = frame.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    polygonal = present & np.isin(shapely.get_type_id(geoms), (3, 6))
    invalid = np.flatnonzero(polygonal & ~shapely.is_valid(geoms))
    if not len(invalid):
        return
    reasons = shapely.is_valid_reason(geoms[invalid])
    crs = projected_crs_for(frame.loc[present])
    drawn = gpd.GeoSeries(geoms[invalid], crs=frame.crs).to_crs(crs).to_numpy()
    repaired = shapely.make_valid(drawn)
    ids = frame[ent.id_column].to_numpy() if ent.id_column in frame else None
    for k, (i, reason) in enumerate(zip(invalid, reasons, strict=True)):
        where = _REASON_POINT.search(reason)
        x, y = (float(where.group(1)), float(where.group(2))) if where else (np.nan, np.nan)
        parts = [p for p in shapely.get_parts(repaired[k]) if p.geom_type in _POLYGONAL]
        row = int(frame.index[i]) + 1
        label = str(ids[i]) if ids is not None and pd.notna(ids[i]) else f"row {row}"
        kind = _invalid_kind(geoms[i], reason)
        areas = {"before": float(abs(shapely.area(drawn[k]))),
                 "after": float(sum(p.area for p in parts)), "parts": len(parts)}  # fmt: skip
        if kind == "crosses_itself" and ent.name == "community":
            note = ReadNote.of("boundary_crosses_itself", path.name, id=label, x=x, y=y, **areas)
        else:
            note = ReadNote.of("boundary_invalid", path.name, entity=ent.name, id=label,
                               kind=kind, x=x, y=y, **areas)  # fmt: skip
        notes.append(note)
        warnings.warn(note.message_en, ReadWarning, stacklevel=3)


def _invalid_kind(geom: shapely.Geometry, reason: str) -> str:
    """What is wrong with an invalid (multi)polygon, from :func:`shapely.is_valid_reason`: a
    ``Self-intersection`` of a multipolygon whose parts are each valid is parts that overlap."""
    if "intersection" in reason.lower():
        parts = shapely.get_parts(geom)
        overlap = len(parts) > 1 and bool(shapely.is_valid(parts).all())
        return "parts_overlap" if overlap else "crosses_itself"
    return next((kind for text, kind in _REASON_KINDS if reason.startswith(text)), "other")


_REASON_KINDS = (
    ("Hole lies outside shell", "hole_outside"),
    ("Nested shells", "parts_nested"),
    ("Nested holes", "holes_nested"),
    ("Interior is disconnected", "holes_split"),
)
"""The start of :func:`shapely.is_valid_reason` → what the note calls it."""


def areas_of_outlines(
    frame: gpd.GeoDataFrame, ent: Entity, path: Path, notes: list[ReadNote]
) -> gpd.GeoDataFrame:
    """The records of an entity drawn as areas (communities, compounds, grids, buildings) whose
    geometry is closed lines — a boundary digitised as a polyline, a CAD outline — as the areas
    they enclose (:func:`shapely.build_area`: a ring inside another is a hole), saying how
    many. Lines that do not close are left as they are (and refused, or placed by a point)."""
    if ent.geometry not in ("polygon", "point-or-polygon"):
        return frame
    geoms = frame.geometry.to_numpy()
    lines = np.flatnonzero(
        np.isin(shapely.get_type_id(geoms), (1, 2, 5)) & ~shapely.is_empty(geoms)
    )
    if not len(lines):
        return frame
    parts, owner = shapely.get_parts(geoms[lines], return_index=True)
    open_owners = np.unique(owner[~shapely.is_closed(parts) | (shapely.get_num_points(parts) < 4)])
    closed = np.setdiff1d(np.arange(len(lines)), open_owners)
    if not len(closed):
        return frame
    areas = shapely.build_area(geoms[lines[closed]])
    done = ~shapely.is_empty(areas)
    kept = geoms.copy()
    kept[lines[closed[done]]] = areas[done]
    notes.append(ReadNote.of("outlines_as_areas", path.name, entity=ent.name, n=int(done.sum())))
    return frame.set_geometry(gpd.GeoSeries(kept, index=frame.index, crs=frame.crs))


def note_placed_by_point(frame: gpd.GeoDataFrame, ent: Entity, path: Path,
                         notes: list[ReadNote]) -> None:  # fmt: skip
    """Note the buildings drawn as lines or geometry collections (not footprints, not points):
    the plans place each by one point on it (:func:`shapely.point_on_surface`), naming them."""
    geoms = frame.geometry.to_numpy()
    kinds = shapely.get_type_id(geoms)
    line, collection = np.isin(kinds, (1, 2, 5)), kinds == 7
    odd = np.flatnonzero((line | collection) & ~shapely.is_empty(geoms))
    if not len(odd):
        return
    ids = frame[ent.id_column].to_numpy() if ent.id_column in frame else None
    labels = [str(ids[i]) if ids is not None and pd.notna(ids[i])
              else f"row {int(frame.index[i]) + 1}" for i in odd]  # fmt: skip
    found = [k for k, where in (("line", line), ("collection", collection)) if where[odd].any()]
    notes.append(ReadNote.of("placed_by_point", path.name, ids=labels[:ROWS_SHOWN],
                             n=len(labels), kinds=found))  # fmt: skip


_REASON_POINT = re.compile(r"\[\s*(-?[0-9.eE+-]+)\s+(-?[0-9.eE+-]+)")
_POLYGONAL = ("Polygon", "MultiPolygon")
