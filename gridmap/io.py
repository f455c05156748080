"""Read office files into canonical frames; write frames back to files (files only, never a DB).

:func:`read_layer` reads one entity from GeoJSON, GeoPackage, Shapefile (``.shp`` or zipped),
GeoParquet, CSV or XLSX and returns a frame whose columns are the canonical names of
:mod:`gridmap.schema`:

* headers are mapped by :func:`gridmap.headers.resolve_columns` (option, TOML file, built-in
  Chinese synonyms); a missing required column is an :class:`~gridmap.errors.InputError`;
* unknown extra columns are **dropped** by default (they may hold personal data no output
  expects) and their headers logged; pass ``keep_extra=True`` to keep them unchanged;
* every canonical column except the counts (``households``, ``floors``, ``units``, ``size``,
  ``persons``, ``buildings``) and ``polsby_popper`` is text (pandas ``str``), stripped, with
  leading zeros kept; counts are left as read, :func:`gridmap.validate.validate_layer` types them;
* entities with geometry come back as a GeoDataFrame in EPSG:4326 (tables without coordinates
  give a null geometry column: such records attach by key or address); persons and staff come
  back as a DataFrame;
* blank rows (spreadsheet padding) are dropped; the index is the 0-based data row in file
  order, so record ``i`` is data row ``i + 1`` (reports name records without id that way).

Tables (CSV, XLSX) may hold lon/lat columns, or a WKT column, or no geometry. Their header row is
found among the first rows, so a title line above it (``XX社区人口花名册``) is skipped. CSV is
read as UTF-8 or, failing that, GB18030 (what Excel on Chinese Windows writes).
"""

from __future__ import annotations

import csv
import itertools
import logging
import warnings
from collections.abc import Mapping
from datetime import date, datetime
from io import StringIO
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridmap.crs import STORAGE_CRS, to_storage_crs
from gridmap.errors import CRSError, InputError
from gridmap.headers import GEOMETRY_HEADERS, load_mapping, normalise_header, resolve_columns
from gridmap.schema import ENTITIES, Entity

__all__ = ["COUNT_COLUMNS", "SUPPORTED_SUFFIXES", "read_layer", "write_layer", "get_entity"]

logger = logging.getLogger(__name__)

COUNT_COLUMNS = frozenset({"households", "floors", "units", "size", "persons", "buildings"})
"""Columns holding non-negative integer counts."""
_NUMERIC_COLUMNS = COUNT_COLUMNS | {"polsby_popper"}
_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
SUPPORTED_SUFFIXES = (
    ".geojson",
    ".json",
    ".gpkg",
    ".shp",
    ".zip",
    ".parquet",
    ".geoparquet",
    *_TABLE_SUFFIXES,
)
_HEADER_SEARCH_ROWS = 10
_CSV_ENCODINGS = ("utf-8-sig", "gb18030")
# Beyond 2**53 a float cannot hold every integer: an 18-digit ID number typed into Excel as a
# number has lost its last digits.
_EXACT_FLOAT_LIMIT = 2**53


def get_entity(entity: str | Entity) -> Entity:
    """Return the :class:`~gridmap.schema.Entity` named ``entity``."""
    if isinstance(entity, Entity):
        return entity
    try:
        return ENTITIES[entity]
    except KeyError:
        raise InputError(f"Unknown entity {entity!r}; choose one of {sorted(ENTITIES)}.") from None


def read_layer(
    path: str | Path,
    entity: str | Entity,
    *,
    layer: str | None = None,
    mapping: Mapping[str, str] | str | Path | None = None,
    crs: str | int | CRS | None = None,
    keep_extra: bool = False,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read one entity's records from a file into canonical columns.

    Parameters
    ----------
    path : str or Path
        ``.geojson``/``.json``, ``.gpkg``, ``.shp``, ``.zip`` (zipped shapefile),
        ``.parquet``/``.geoparquet``, ``.csv``/``.txt``/``.tsv`` or ``.xlsx``.
    entity : str or Entity
        ``"community"``, ``"compound"``, ``"street"``, ``"building"``, ``"household"``,
        ``"person"``, ``"staff"`` or ``"grid"``.
    layer : str, optional
        GeoPackage layer, shapefile inside a zip, or XLSX sheet; default the first.
    mapping : dict or path, optional
        Header → canonical column (``{"户号": "household_id"}``), or a TOML mapping file.
    crs : optional
        CRS of the coordinates in the file; overrides what the file declares. Needed for
        files without CRS (shapefile without ``.prj``, CSV with projected x/y).
    keep_extra : bool, default False
        Keep columns that are not canonical (unchanged, after the canonical ones).

    Returns
    -------
    GeoDataFrame in EPSG:4326, or DataFrame for entities without geometry.

    Raises
    ------
    InputError
        Unsupported file, unreadable file, or a required column missing.
    CRSError
        The file has no CRS and ``crs`` was not given.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.csv"
    >>> _ = p.write_text("户号,楼栋号,户数备注\\n001,B01,x\\n", encoding="utf-8")
    >>> read_layer(p, "household").loc[0, ["household_id", "building_id"]].tolist()
    ['001', 'B01']
    """
    path = Path(path)
    ent = get_entity(entity)
    if isinstance(mapping, str | Path):
        mapping = load_mapping(mapping, ent.name)
    raw = _read_raw(path, layer, ent, mapping)
    if ent.geometry is not None:
        raw = _ensure_geometry(raw, path, crs)
    frame = _canonical_columns(raw, ent, mapping, path, keep_extra=keep_extra)
    frame = _drop_blank_rows(frame, ent, path)
    if ent.geometry is None:
        frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    logger.info("Read %d %s record(s) from %s", len(frame), ent.name, path.name)
    return frame


def write_layer(
    frame: gpd.GeoDataFrame | pd.DataFrame, path: str | Path, *, layer: str | None = None
) -> Path:
    """Write ``frame`` to a file chosen by suffix; tables get a ``wkt`` column.

    Supports ``.geojson``, ``.gpkg`` (``layer``), ``.shp``, ``.parquet``, ``.csv`` and ``.xlsx``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx"):
        table = pd.DataFrame(frame)
        if isinstance(frame, gpd.GeoDataFrame):
            wkt = shapely.to_wkt(frame.to_crs(STORAGE_CRS).geometry.values, rounding_precision=-1)
            table = table.drop(columns=frame.geometry.name).assign(wkt=wkt)
        if suffix == ".csv":
            table.to_csv(path, index=False, encoding="utf-8")
        else:
            table.to_excel(path, index=False, sheet_name=layer or "Sheet1")
    elif suffix in (".parquet", ".geoparquet"):
        frame.to_parquet(path, index=False)
    elif suffix in (".geojson", ".json", ".gpkg", ".shp"):
        frame.to_file(path, layer=layer) if suffix == ".gpkg" else frame.to_file(path)
    else:
        raise InputError(
            f"Cannot write {path.name}: use one of .geojson .gpkg .shp .parquet .csv .xlsx."
        )
    return path


# --- reading raw files -------------------------------------------------------------------------


def _read_raw(
    path: Path, layer: str | None, ent: Entity, mapping: Mapping[str, str] | None
) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"File not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputError(f"{path.name} is an old .xls workbook; save it as .xlsx and retry.")
    if suffix in _TABLE_SUFFIXES:
        return _read_table(path, layer, ent, mapping)
    if suffix in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except ValueError:  # plain Parquet without geo metadata: a table
            return pd.read_parquet(path)
    try:
        # pyogrio keeps declared field types: ids stored as text keep their leading zeros.
        return gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several DataSource/driver errors
        raise InputError(
            f"Cannot read {path.name}{f' layer {layer!r}' if layer else ''}: {exc}"
        ) from exc


def _read_table(
    path: Path, layer: str | None, ent: Entity, mapping: Mapping[str, str] | None
) -> pd.DataFrame:
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            sheet: str | int = layer if layer is not None else 0
            head = pd.read_excel(path, sheet_name=sheet, header=None, nrows=_HEADER_SEARCH_ROWS)
            rows = [[c for c in r if isinstance(c, str)] for r in head.itertuples(index=False)]
            table = pd.read_excel(
                path, sheet_name=sheet, header=_find_header_row(rows, ent, mapping), dtype=object
            )
        else:
            text = _decode(path)
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            rows = list(itertools.islice(csv.reader(StringIO(text), delimiter=sep), 10))
            skip = _find_header_row(rows, ent, mapping)
            table = pd.read_csv(StringIO(text), sep=sep, dtype=str, skiprows=skip)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(f"Cannot read table {path.name}: {exc}") from exc
    table.columns = [str(c).strip() for c in table.columns]
    return table


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for encoding in _CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path.name} is neither UTF-8 nor GB18030 text; save it as UTF-8 CSV.")


def _find_header_row(rows: list[list[str]], ent: Entity, mapping: Mapping[str, str] | None) -> int:
    """The first of the top rows matching the most known headers (0 if none matches)."""
    best_row, best_hits = 0, 0
    for i, cells in enumerate(rows):
        try:
            hits = len(resolve_columns([c for c in cells if c.strip()], ent, mapping))
        except InputError:
            hits = 0
        if hits > best_hits:
            best_row, best_hits = i, hits
    return best_row


# --- geometry ----------------------------------------------------------------------------------


def _ensure_geometry(
    raw: pd.DataFrame, path: Path, crs: str | int | CRS | None
) -> gpd.GeoDataFrame:
    if isinstance(raw, gpd.GeoDataFrame):
        frame = raw
        if crs is not None:
            frame = frame.set_crs(crs, allow_override=True)
        return to_storage_crs(frame, layer=path.name)
    return _geometry_from_table(raw, path, crs)


def _find_geometry_columns(columns: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for role, names in GEOMETRY_HEADERS.items():
        for col in columns:
            if normalise_header(col) in names and role not in found:
                found[role] = col
    return found


def _geometry_from_table(
    table: pd.DataFrame, path: Path, crs: str | int | CRS | None
) -> gpd.GeoDataFrame:
    cols = _find_geometry_columns(list(table.columns))
    if "lon" in cols and "lat" in cols:
        lon = pd.to_numeric(table[cols["lon"]], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(table[cols["lat"]], errors="coerce").to_numpy(dtype=float)
        geoms = shapely.points(lon, lat)
        given = (table[cols["lon"]].notna() | table[cols["lat"]].notna()).to_numpy()
        geoms[np.isnan(lon) | np.isnan(lat)] = None
        _warn_bad_rows(given & (np.isnan(lon) | np.isnan(lat)), path, "lon/lat are not numbers")
        used = [cols["lon"], cols["lat"]]
    elif "wkt" in cols:
        text = table[cols["wkt"]].astype(object).where(table[cols["wkt"]].notna(), None)
        geoms = shapely.from_wkt(text.to_numpy(), on_invalid="ignore")
        bad = shapely.is_missing(geoms) & text.notna().to_numpy()
        _warn_bad_rows(bad, path, "the WKT text cannot be parsed")
        used = [cols["wkt"]]
    else:
        return gpd.GeoDataFrame(
            table, geometry=gpd.GeoSeries([None] * len(table), index=table.index), crs=STORAGE_CRS
        )
    frame = gpd.GeoDataFrame(table.drop(columns=used), geometry=list(geoms), index=table.index)
    return to_storage_crs(
        frame.set_crs(crs if crs is not None else _guess_table_crs(frame, path)), layer=path.name
    )


def _guess_table_crs(frame: gpd.GeoDataFrame, path: Path) -> CRS:
    minx, miny, maxx, maxy = frame.total_bounds
    if np.isnan(minx) or (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        logger.info(
            "%s: coordinates look like lon/lat; assuming EPSG:4326 (CGCS2000 is the same).",
            path.name,
        )
        return STORAGE_CRS
    raise CRSError(
        f"{path.name}: coordinates ({minx:.0f}, {miny:.0f}) ... are not lon/lat and the table "
        "has no CRS; pass crs= (for example EPSG:4545 for CGCS2000 Gauss-Krüger zone CM 108°E)."
    )


def _warn_bad_rows(bad: np.ndarray, path: Path, problem: str) -> None:
    rows = [int(i) + 1 for i in np.flatnonzero(bad)]
    if rows:
        warnings.warn(
            f"{path.name}: data row(s) {_short(rows)}: {problem}; they get no geometry.",
            UserWarning,
            stacklevel=4,
        )


# --- columns and values ------------------------------------------------------------------------


def _canonical_columns(
    raw: pd.DataFrame,
    ent: Entity,
    mapping: Mapping[str, str] | None,
    path: Path,
    *,
    keep_extra: bool,
) -> pd.DataFrame:
    geometry = raw.geometry.name if isinstance(raw, gpd.GeoDataFrame) else None
    headers = [c for c in raw.columns if c != geometry]
    resolved = resolve_columns(headers, ent, mapping)
    missing = [c for c in ent.required if c not in resolved.values()]
    if missing:
        raise InputError(
            f"{path.name}: {ent.name} column(s) {missing} not found among headers {headers}. Map "
            f"them with mapping={{'<header>': '{missing[0]}'}} or a TOML mapping file."
        )
    extra = [h for h in headers if h not in resolved]
    if extra:
        logger.info(
            "%s: %s extra column(s) %s", path.name, "keeping" if keep_extra else "ignoring", extra
        )
    out = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    order = sorted(resolved, key=lambda h: ent.columns.index(resolved[h]))
    for header in order:
        column = resolved[header]
        values = raw[header].reset_index(drop=True)
        out[column] = values if column in _NUMERIC_COLUMNS else _as_text(values, column, path)
    if keep_extra:
        for header in extra:
            out[str(header)] = raw[header].reset_index(drop=True)
    if geometry is None:
        return out
    return gpd.GeoDataFrame(out, geometry=raw.geometry.reset_index(drop=True).values, crs=raw.crs)


def _as_text(values: pd.Series, column: str, path: Path) -> pd.Series:
    """Text column: ints without ``.0``, dates as ISO, stripped, empty → missing."""
    numeric_ids = []
    text: list[str | None] = []
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
            text.append(None)
            continue
        if isinstance(v, bool | np.bool_):
            v = str(v)
        elif isinstance(v, int | np.integer | float | np.floating):
            if column == "id_number" and (
                isinstance(v, float | np.floating) or abs(v) > _EXACT_FLOAT_LIMIT
            ):
                numeric_ids.append(i + 1)
            v = str(int(v)) if float(v).is_integer() else str(v)
        elif isinstance(v, datetime):  # pd.Timestamp included
            midnight = (v.hour, v.minute, v.second) == (0, 0, 0)
            v = v.date().isoformat() if midnight else v.isoformat()
        elif isinstance(v, date):
            v = v.isoformat()
        s = str(v).strip()
        text.append(s or None)
    if numeric_ids:
        warnings.warn(
            f"{path.name}: ID numbers in data row(s) {_short(numeric_ids)} are stored as numbers; "
            "spreadsheets keep only 15 significant digits, so they are probably wrong. Format the "
            "column as text and re-enter them.",
            UserWarning,
            stacklevel=5,
        )
    return pd.Series(text, dtype="str")


def _drop_blank_rows(frame: pd.DataFrame, ent: Entity, path: Path) -> pd.DataFrame:
    canon = [c for c in frame.columns if c in ent.columns]
    blank = frame[canon].isna().all(axis=1)
    if isinstance(frame, gpd.GeoDataFrame):
        blank &= frame.geometry.isna().to_numpy()
    if blank.any():
        logger.info("%s: skipped %d blank row(s)", path.name, int(blank.sum()))
        frame = frame.loc[~blank]  # keep the index: record i is still data row i + 1
    return frame


def _short(items: list[object], limit: int = 20) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" … ({len(items)} in all)" if len(items) > limit else "")
