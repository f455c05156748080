"""Read office files into canonical frames; write frames back to files (files only, never a DB).

:func:`read_layer` reads one entity from GeoJSON, GeoPackage, Shapefile (``.shp`` or zipped),
GeoParquet, KML/KMZ (from 奥维互动地图 or Google Earth, the fields typed in descriptions read
too: :mod:`gridmap.io.kml`), GML, SQLite, GPX, a File Geodatabase (``.gdb`` folder, or zipped),
CSV or a workbook (XLSX, XLS, XLSB, ODS) and returns a frame whose columns are the canonical
names of :mod:`gridmap.schema`:

* headers are mapped by :func:`gridmap.io.headers.resolve_headers` (option, TOML file, built-in
  Chinese and English synonyms, Shapefile-cut names, generic ids such as ``id``/``osm_id``); a
  missing required column is an :class:`~gridmap.errors.InputError`;
* unknown extra columns are **dropped** by default (they may hold personal data no output
  expects) and their headers logged; pass ``keep_extra=True`` to keep them unchanged;
* every canonical column except the counts (``households``, ``floors``, ``units``, ``size``,
  ``persons``, ``buildings``) and ``polsby_popper`` is text (pandas ``str``), stripped, with
  leading zeros kept; counts are left as read, :func:`gridmap.attach.validate.validate_layer` types
  them (text an office types for a whole number, ``1,024``, ``1，024``, ``３００``, is made plain
  digits first; other text is left for the checks to name);
* entities with geometry come back as a GeoDataFrame in EPSG:4326 (tables without coordinates
  give a null geometry column: such records attach by key or address); persons and staff come
  back as a DataFrame (persons with 经度/纬度 as a GeoDataFrame: the points find their
  household when the roster has no 户号, :func:`gridmap.attach.chain.attach_persons`);
* blank rows (spreadsheet padding) are dropped; the index is the 0-based data row in file
  order, so record ``i`` is data row ``i + 1`` (reports name records without id that way).

Tables (CSV, XLSX) may hold lon/lat columns, or a WKT column, or no geometry. Their header row is
found among the first rows, so a title line above it (``XX社区人口花名册``) is skipped; rows that
are no record are left out, saying so: a total row (``合计``, ``小计`` in a first cell), the lines
below the table (``填表人``, ``注：``) and the header repeated where two exports were pasted
together. A workbook's sheet is the one named like the entity, else the one whose header names
most of its columns; hidden sheets are passed over. A file of several layers (GeoPackage, KML
folders, GPX, a File Geodatabase …) gives the layer named like the entity, else the only one with
records (:func:`layer_for`). A zip is read from the files in it (a ``.gdb`` folder too), in
folders too, their names in UTF-8 or GBK; notes and errors about such a file name the zip and
the file (``村居.zip › 网格/楼栋.shp``). An "xls" that web systems export as an HTML table,
an Excel 2003 XML Spreadsheet or tab-separated text is read as what it is, saying so.

Text encoding: CSV is read as UTF-8 or, failing that, GB18030 (what Excel on Chinese Windows
writes); UTF-16 (Excel's "Unicode text") is recognised. A Shapefile uses its ``.cpg`` (unless
its text is plainly the other of UTF-8 and GBK) or the code page in its ``.dbf``; without
either, its text fields are read as UTF-8 when they are valid UTF-8, else as GB18030 (GBK).
``encoding=`` overrides both (and decodes a GeoJSON that is not UTF-8). What was used is in
``frame.attrs["encoding"]``, and ``frame.attrs["notes"]`` holds one
:class:`~gridmap.io.notes.ReadNote` per thing worth telling the person who gave the file
(encoding detected, layer chosen, ids generated, 3-D geometry made 2-D, rows left out), worded
in Chinese or English by ``note.message(lang)``; ``str(note)`` is the English.

Ids that office files lack are generated, stable across re-reads of the same file: compounds and
streets without an id get ``XQ``/``DL`` + a short hash of their geometry; households without a
household id (户号), and persons without one, get it from their address, ``<building>-<unit>-
<room>`` (:mod:`gridmap.io.addresses`: the floor where the room number does not carry it, ``-2``
… for a second household at one address); persons without a person id get
``<household_id>-<n>``, ``n`` counting the household's rows in file order. A column of ID numbers
or mobile phones is never taken as an id. All header problems of a file are
reported in one :class:`~gridmap.errors.InputError`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import partial
from io import BytesIO
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gridmap.crs import (
    STORAGE_CRS,
)
from gridmap.errors import GridmapError
from gridmap.idnumbers import is_mobile_phone, valid_id_number
from gridmap.io.addresses import (
    ADDRESS_COLUMNS,
    address_keys,
    address_notes,
    finds_households,
    household_ids,
    makes_household_ids,
    missing_address_columns,
    person_ids,
    takes_address_ids,
    waits_for_building,
    waits_for_household,
)
from gridmap.io.coordinates import (
    areas_of_outlines,
    ensure_geometry,
    note_placed_by_point,
    note_self_crossing,
)
from gridmap.io.encodings import decode_text, detect_shapefile_encoding, shapefile_encoding
from gridmap.io.headers import (
    SHAPEFILE_FIELDS,
    load_mapping,
    normalise_header,
    resolve_headers,
)
from gridmap.io.kml import KML_SUFFIXES, keep_field_names, kml_columns
from gridmap.io.notes import (
    ENCODING_CODES,
    ENTITY_WORDS,
    ROWS_SHOWN,
    ReadNote,
    note_rows,
    renamed,
    zip_member,
)
from gridmap.io.osm import OSM_SUFFIXES, is_osm_file, read_osm
from gridmap.io.readerrors import READ_ERRORS, ColumnProblem, read_error
from gridmap.io.sheets import SheetChoice
from gridmap.io.tables import find_header_row, header_hits, read_table
from gridmap.io.xls import WORKBOOK_SUFFIXES
from gridmap.schema import COUNT_COLUMNS, Entity, get_entity
from gridmap.spreadsheet import safe_frame

__all__ = [
    "GENERATED_ID_PREFIXES",
    "LAYER_NAMES",
    "LAYER_FILE_SUFFIXES",
    "SUPPORTED_SUFFIXES",
    "read_layer",
    "write_layer",
    "layer_for",
    "plural",
]

logger = logging.getLogger(__name__)

_NUMERIC_COLUMNS = COUNT_COLUMNS | {"polsby_popper"}
_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", *WORKBOOK_SUFFIXES)
SUPPORTED_SUFFIXES = (
    ".geojson",
    ".json",
    ".gpkg",
    ".shp",
    ".zip",
    ".parquet",
    ".geoparquet",
    *KML_SUFFIXES,
    ".gml",
    ".gpx",
    ".sqlite",
    *_TABLE_SUFFIXES,
    *OSM_SUFFIXES,
)
"""What the names of the files :func:`read_layer` reads end in (a file ending otherwise is
still tried with GDAL; when GDAL cannot read it either, the error lists these)."""
_ONE_LAYER_SUFFIXES = (".shp", ".dbf", ".geojson", ".json", ".parquet", ".geoparquet", ".zip",
                       *_TABLE_SUFFIXES, *OSM_SUFFIXES)  # fmt: skip
"""Files whose layer :func:`layer_for` does not choose: one layer (Shapefile, GeoJSON,
GeoParquet), or chosen otherwise (a zip's files, a workbook's sheets, OSM's tags). Every other
file GDAL reads (GeoPackage, KML/KMZ, GML, SQLite, GPX, DXF …) is asked for its layers."""
_DERIVED_LAYERS = {".gpx": ("route_points", "track_points")}
"""Layers GDAL makes of another layer of the file (GPX: the points of the routes and tracks),
passed over when the layer with records is looked for."""
LAYER_NAMES: dict[str, tuple[str, ...]] = {
    "community": ("communities", "community", "社区", "社区边界", "社区范围", "社区界线"),
    "compound": ("compounds", "compound", "小区", "小区边界", "小区范围", "院落"),
    "street": ("streets", "street", "roads", "道路", "道路中心线", "路网"),
    "building": ("buildings", "building", "楼栋", "建筑", "建筑物", "房屋"),
    "household": ("households", "household", "住户"),
    "person": ("persons", "person", "人员", "人口", "花名册", "人口花名册", "人员花名册"),
    "staff": ("staff", "网格员", "网格员名单"),
    "grid": ("grids", "grids_existing", "grid", "网格"),
}
"""Layer names that say which entity a layer of a multi-layer file holds."""
GENERATED_ID_PREFIXES = {"compound": "XQ", "street": "DL"}
"""Prefix of the ids generated from the geometry of records that have none."""
_GENERATED_HASH_CHARS = 10
_HASH_PRECISION = 6  # decimals of lon/lat hashed (about 0.1 m): same id after a re-projection
_ID_LIKE_COLUMNS = ("person_id", "household_id", "head_person_id", "building_id", "compound_id",
                    "street_id", "staff_id", "grid_code")  # fmt: skip
_ID_LIKE_SHARE = 0.5  # a column is taken for ID numbers / phones when this share of values is
_ID_LIKE_SAMPLE = 2000
# Beyond 2**53 a float cannot hold every integer: an 18-digit ID number typed into Excel as a
# number has lost its last digits.
_EXACT_FLOAT_LIMIT = 2**53


def plural(entity_name: str) -> str:
    """English plural of an entity name, for messages (``community`` → ``communities``)."""
    return ENTITY_WORDS[entity_name][0] if entity_name in ENTITY_WORDS else entity_name + "s"


def read_layer(
    path: str | Path,
    entity: str | Entity,
    *,
    layer: str | None = None,
    mapping: Mapping[str, str] | str | Path | None = None,
    crs: str | int | CRS | None = None,
    encoding: str | None = None,
    required: Sequence[str] | None = None,
    fields: Mapping[str, str] | None = None,
    keep_extra: bool = False,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read one entity's records from a file into canonical columns.

    Parameters
    ----------
    path : str or Path
        ``.geojson``/``.json``, ``.gpkg``, ``.shp``, ``.zip`` (zipped shapefile, or a zipped
        folder ``.gdb``), ``.parquet``/``.geoparquet``, ``.kml``/``.kmz``, ``.gml``, ``.gpx``,
        ``.sqlite``, a folder (Shapefiles, ``.gdb``), ``.csv``/``.txt``/``.tsv`` or a workbook
        (``.xlsx``, ``.xls``, ``.xlsb``, ``.ods``; an "xls" that is HTML, XML or text is read
        as such).
    entity : str or Entity
        ``"community"``, ``"compound"``, ``"street"``, ``"building"``, ``"household"``,
        ``"person"``, ``"staff"`` or ``"grid"``.
    layer : str, optional
        Layer of a file of several (GeoPackage, KML folder, File Geodatabase …), shapefile
        inside a zip, or workbook sheet. Default: the only layer, or the layer named like the
        entity (:data:`LAYER_NAMES`: ``buildings``, ``楼栋`` …), else the only one with records.
    mapping : dict or path, optional
        Header → canonical column (``{"户号": "household_id"}``), or a TOML mapping file.
    crs : optional
        CRS of the coordinates for files that declare none (shapefile without ``.prj``, CSV
        with projected x/y), or whose declared lon/lat cannot hold them (GeoJSON always says
        EPSG:4326). A file's own projected CRS is kept (a note says so). A lon/lat CRS for
        coordinates that are not lon/lat is refused. ``"GCJ-02"`` or ``"BD-09"``: lon/lat
        taken from AMap/Tencent or Baidu maps, shifted back to true coordinates (as are those
        under headers naming them: 高德经度, 百度纬度, ``gcj_lng`` …).
    encoding : str, optional
        Text encoding of a Shapefile or CSV (``"GBK"``, ``"UTF-8"`` …); default detected.
    required : sequence of str, optional
        The columns the caller needs (default: the entity's ``required``); e.g. partitioning
        needs ``households`` of buildings but no community ``name``.
    fields : dict, optional
        Header → column named for this very file (the commands' ``--id-field`` …): applied
        over ``mapping``, and a header the file lacks is a problem.
    keep_extra : bool, default False
        Keep columns that are not canonical (unchanged, after the canonical ones).

    Returns
    -------
    GeoDataFrame in EPSG:4326, or DataFrame for entities without geometry. ``attrs`` holds
    ``"source"`` (file name), ``"encoding"`` (text encoding used, when the format has a
    choice) and ``"notes"`` (:class:`~gridmap.io.notes.ReadNote` records worth telling the
    person who gave the file; ``note.message("zh")`` or ``"en"`` words them).

    Raises
    ------
    InputError
        Unsupported or unreadable file; or every header problem at once (a required column
        missing, two headers for one column, an id column of ID numbers or phones).
    CRSError
        The file has no CRS and ``crs`` was not given, or the coordinates do not fit the CRS.

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
    if fields:
        mapping = {**(mapping or {}), **fields}
    notes: list[ReadNote] = []
    raw, used_encoding = _read_raw(path, layer, ent, mapping, encoding, notes)
    name = raw.attrs.pop(_NAMED, path.name)  # a file in a zip: 村居.zip › 网格/楼栋.shp
    with _named_as(notes, {path.name}, name):
        if len(raw) == 0:  # 0 features: say so, not "columns missing" or "no CRS to choose"
            shown = layer or raw.attrs.get("sheet") or raw.attrs.get("layer")
            raise read_error("no_records", file=path.name, layer=shown)
        if ent.geometry is not None:
            raw = ensure_geometry(raw, path, crs, notes)
            raw = areas_of_outlines(raw, ent, path, notes)
        needed = ent.required if required is None else tuple(required)
        frame, header_of = _canonical_columns(raw, ent, mapping, path, needed, fields,
                                              keep_extra=keep_extra, notes=notes)  # fmt: skip
        frame = _drop_blank_rows(frame, ent, path)
        frame = _fill_household_ids(frame, ent, path, notes, header_of)
        frame = _fill_missing_ids(frame, ent, path, notes)
        if ent.name in ("community", "compound", "grid"):
            note_self_crossing(frame, ent, path, notes)
        elif ent.name == "building":
            note_placed_by_point(frame, ent, path, notes)
        if ent.geometry is None or (ent.geometry_for_linking and frame.geometry.isna().all()):
            frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    frame.attrs.update(source=name, encoding=used_encoding, notes=notes)
    logger.info("Read %d %s record(s) from %s", len(frame), ent.name, name)
    for note in notes:
        logger.info("%s", note)
    return frame


def write_layer(
    frame: gpd.GeoDataFrame | pd.DataFrame,
    path: str | Path,
    *,
    layer: str | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    rfc7946: bool = False,
) -> Path:
    """Write ``frame`` to a file chosen by suffix, replacing the file; tables get a ``wkt`` column.

    * ``.geojson``, ``.json``: with ``rfc7946``, RFC 7946 GeoJSON (lon/lat, 7 decimals, no
      ``crs`` member); else GDAL's GeoJSON in the frame's CRS, every decimal kept;
    * ``.gpkg`` (GeoPackage 1.2): the layer ``layer`` (default: the file's name), then
      ``tables`` (name → frame without geometry) as tables of their own; a frame without
      geometry is a table itself;
    * ``.shp``, ``.zip`` (a zipped Shapefile, ``网格.zip`` or ``网格.shp.zip``): text in UTF-8
      with a ``.cpg`` saying so, columns longer than a field holds named as
      :data:`~gridmap.io.headers.SHAPEFILE_FIELDS` says (``community_code`` → ``comm_code``);
      the other parts of a Shapefile of that name (``.dbf``, ``.prj`` …) are replaced too;
    * ``.parquet``, ``.geoparquet``: GeoParquet;
    * ``.csv`` (UTF-8), ``.xlsx`` (sheet ``layer``): formula-like cells neutralised.

    Geometries keep the frame's CRS (the commands write EPSG:4326). :data:`LAYER_FILE_SUFFIXES`
    are the suffixes that keep the geometry.

    Raises
    ------
    gridmap.errors.InputError
        An unknown suffix (READ_ERRORS ``cannot_write``).
    ValueError
        ``tables`` for a file that is not a GeoPackage.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if tables and suffix != ".gpkg":
        raise ValueError(f"{path.name}: only a GeoPackage holds tables beside the layer")
    if suffix not in _WRITTEN_SUFFIXES:
        raise read_error("cannot_write", file=path.name)
    for part in _file_parts(path):
        part.unlink(missing_ok=True)
    if suffix in (".csv", ".xlsx"):
        table = pd.DataFrame(frame)
        if isinstance(frame, gpd.GeoDataFrame):
            wkt = shapely.to_wkt(frame.to_crs(STORAGE_CRS).geometry.values, rounding_precision=-1)
            table = table.drop(columns=frame.geometry.name).assign(wkt=wkt)
        table = safe_frame(table)  # no formula injection (gridmap.spreadsheet)
        if suffix == ".csv":
            table.to_csv(path, index=False, encoding="utf-8")
        else:
            table.to_excel(path, index=False, sheet_name=layer or "Sheet1")
    elif suffix in (".parquet", ".geoparquet"):
        frame.to_parquet(path, index=False)
    elif suffix in (".geojson", ".json"):
        options = {"RFC7946": "YES"} if rfc7946 else {}
        frame.to_file(path, driver="GeoJSON", engine="pyogrio", layer_options=options)
    elif suffix == ".gpkg":
        pyogrio.write_dataframe(frame, path, layer=layer or path.stem, driver="GPKG",
                                dataset_options=_GEOPACKAGE_OPTIONS)  # fmt: skip
        for name, table in (tables or {}).items():
            pyogrio.write_dataframe(pd.DataFrame(table), path, layer=name, driver="GPKG")
    else:
        _write_shapefile(frame.rename(columns=SHAPEFILE_FIELDS), path)
    return path


LAYER_FILE_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".parquet", ".geoparquet")
"""The files :func:`write_layer` writes a layer to with its geometry (``.zip``: a zipped
Shapefile)."""
_WRITTEN_SUFFIXES = (*LAYER_FILE_SUFFIXES, ".csv", ".xlsx")
_GEOPACKAGE_OPTIONS = {"VERSION": "1.2"}
"""GeoPackage 1.2, not GDAL's 1.4: the desktop GIS of an office (older ArcGIS, QGIS, SuperMap)
read it without a warning; nothing written needs a later one."""
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
"""What GDAL writes of a Shapefile, and the spatial indexes of an older one (stale once the
``.shp`` is replaced)."""


def _file_parts(path: Path) -> list[Path]:
    """The files that writing ``path`` replaces: a Shapefile's parts, else the file."""
    if path.suffix.lower() != ".shp":
        return [path]
    return [path.with_suffix(part) for part in _SHAPEFILE_PARTS]


def _write_shapefile(frame: gpd.GeoDataFrame, path: Path) -> None:
    """A Shapefile in UTF-8 (with its ``.cpg``), or a zip of one named as ``path`` less its
    ``.zip`` (``网格.zip`` holds ``网格.shp``, ``.dbf`` …; zipped here, not by GDAL, which
    writes a Chinese name inside a zip as ``0xE7…``)."""
    if path.suffix.lower() != ".zip":
        pyogrio.write_dataframe(frame, path, driver="ESRI Shapefile", encoding="UTF-8")
        return
    stem = path.name[: -len(".zip")]
    stem = stem[: -len(".shp")] if stem.lower().endswith(".shp") else stem
    with tempfile.TemporaryDirectory(dir=path.parent) as folder:
        shp = Path(folder) / f"{stem}.shp"
        pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile", encoding="UTF-8")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
            for part in sorted(Path(folder).iterdir()):
                zipped.write(part, part.name)


# --- reading raw files -------------------------------------------------------------------------


def _read_raw(
    path: Path,
    layer: str | None,
    ent: Entity,
    mapping: Mapping[str, str] | None,
    encoding: str | None,
    notes: list[ReadNote],
) -> tuple[pd.DataFrame, str | None]:
    """The file's records as read, and the text encoding used (``None``: not a choice)."""
    if not path.exists():
        raise read_error("file_not_found", path=str(path))
    suffix = path.suffix.lower()
    if is_osm_file(path):  # features chosen by tag, ``layer`` a tag filter (gridmap.io.osm)
        return read_osm(path, ent, layer, notes), None
    if suffix in _TABLE_SUFFIXES:
        find_header = partial(find_header_row, ent=ent, mapping=mapping)
        sheet: str | SheetChoice | None = layer
        if layer is None and suffix in WORKBOOK_SUFFIXES:
            sheet = partial(_sheet_for, path, ent, mapping, notes)
        table, used = read_table(path, sheet, find_header, encoding, notes)
        table.attrs.setdefault("sheet", layer)  # a workbook's: the sheet read_sheet chose
        return table, used
    if suffix in (".parquet", ".geoparquet"):
        try:
            with np.errstate(invalid="ignore"):  # NaN coordinates: a note says so (coordinates)
                return gpd.read_parquet(path), None
        except ValueError:  # plain Parquet without geo metadata: a table
            return pd.read_parquet(path), None
    if path.is_dir():  # Shapefiles not zipped, or a File Geodatabase (.gdb)
        layer = layer_for(path, ent, layer, notes)
        shapefile = _folder_shapefile(path, layer)
        if shapefile is not None:
            return _read_raw(shapefile, None, ent, mapping, encoding, notes)
        with _measures_noted(path, notes):
            return _read_gdal(path, ent, layer, encoding, notes)
    if suffix == ".zip":
        with tempfile.TemporaryDirectory() as folder:
            inner, inner_layer, member = _unzip_layer(path, Path(folder), ent, layer, notes)
            name = zip_member(path.name, member)
            with _named_as(notes, {inner.name}, name):
                raw, used = _read_raw(inner, inner_layer, ent, mapping, encoding, notes)
            raw.attrs[_NAMED] = name
            return raw, used
    if suffix in _GEOJSON_SUFFIXES and encoding is not None:
        return _read_geojson_text(path, encoding, notes)
    if suffix == ".shp":
        _check_shapefile_parts(path)
    if suffix in KML_SUFFIXES:
        keep_field_names()
    with _measures_noted(path, notes):
        raw, used = _read_gdal(path, ent, layer, encoding, notes)
    if suffix in KML_SUFFIXES:
        raw = kml_columns(raw, path.name, ent, mapping, notes)
    return raw, used


_NAMED = "gridmap.named"
"""``attrs`` key of a frame read from a file in a zip: how that file is named (see below)."""


@contextmanager
def _named_as(notes: list[ReadNote], names: Collection[str], name: str) -> Iterator[None]:
    """The notes made in the block and the read error raised from it about a file of ``names``
    (a file extracted from a zip, or the zip) name ``name`` instead: the zip › the file in it."""
    start = len(notes)
    try:
        yield
    except GridmapError as exc:
        if exc.code not in READ_ERRORS.codes or exc.values.get("file") not in names:
            raise
        raise READ_ERRORS.error(exc.code, **{**exc.values, "file": name}) from exc.__cause__
    finally:
        notes[start:] = renamed(notes[start:], names, name)


def _read_gdal(
    path: Path, ent: Entity, layer: str | None, encoding: str | None, notes: list[ReadNote]
) -> tuple[gpd.GeoDataFrame, str | None]:
    """A file GDAL reads (GeoPackage, Shapefile, GeoJSON …), and the text encoding used."""
    suffix = path.suffix.lower()
    layer = layer_for(path, ent, layer, notes)
    reader, used = None, None
    if suffix in _SHAPEFILE_SUFFIXES:
        reader, used = shapefile_encoding(path, encoding, notes)
    try:
        # pyogrio keeps declared field types: ids stored as text keep their leading zeros.
        kwargs = {"encoding": reader} if reader else {}
        if suffix == ".gpkg" and _arrow_readable(path, layer):
            try:
                return _with_layer(gpd.read_file(path, layer=layer, use_arrow=True), layer), used
            except Exception:  # the row reader below says what is wrong
                pass
        return _with_layer(gpd.read_file(path, layer=layer, **kwargs), layer), used
    except UnicodeDecodeError:
        if suffix in _GEOJSON_SUFFIXES:
            return _read_geojson_text(path, encoding, notes)
        if suffix not in _SHAPEFILE_SUFFIXES:
            raise read_error("text_not", file=path.name, encoding=used or "UTF-8") from None
        actual = detect_shapefile_encoding(path) or used or "UTF-8"
        if encoding is not None and actual != used:
            raise read_error(
                "text_not_as_given", file=path.name, encoding=encoding, actual=actual
            ) from None
        if actual != used:  # the .cpg or the code page is wrong: replace what was noted
            notes[:] = [n for n in notes if n.code not in ENCODING_CODES]
            notes.append(ReadNote.of("encoding_not_declared", path.name, encoding=actual,
                                     declared=used or "UTF-8"))  # fmt: skip
        return _read_cut_shapefile(path, layer, actual, notes), actual
    except pyogrio.errors.CRSError as exc:  # a .prj GDAL cannot understand
        raise read_error("prj_unknown", file=path.name, detail=str(exc)) from exc
    except Exception as exc:  # pyogrio raises several DataSource/driver errors
        if not path.name.lower().endswith(SUPPORTED_SUFFIXES):
            raise read_error("unsupported_format", file=path.name,
                             suffixes=SUPPORTED_SUFFIXES) from exc  # fmt: skip
        raise read_error("unreadable", file=path.name, layer=layer, detail=str(exc)) from exc


_SHAPEFILE_SUFFIXES = (".shp", ".dbf")


def _folder_shapefile(folder: Path, layer: str | None) -> Path | None:
    """The Shapefile of ``layer`` in ``folder`` (its only one when ``layer`` is ``None``), read
    as a Shapefile given by name is (its parts and text encoding checked); ``None`` if none."""
    shapefiles = [p for p in folder.iterdir() if p.suffix.lower() == ".shp"]
    if layer is not None:
        shapefiles = [p for p in shapefiles if p.stem == layer]
    return shapefiles[0] if len(shapefiles) == 1 else None


_MEASURES_WARNING = re.compile(r"Measured \(M\) geometry types are not supported")


@contextmanager
def _measures_noted(path: Path, notes: list[ReadNote]) -> Iterator[None]:
    """Say in a note (``measures_dropped``), not in pyogrio's English warning, that the M values
    of the geometries read (a CAD or GPS export) were dropped; other warnings pass on."""
    seen: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                seen = list(caught)
    finally:  # warned again outside the recording, under the caller's filters
        measured = False
        for warning in seen:
            if _MEASURES_WARNING.search(str(warning.message)):
                measured = True
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno)  # fmt: skip
        if measured:
            notes.append(ReadNote.of("measures_dropped", path.name))


_GEOJSON_SUFFIXES = (".geojson", ".json")


def _read_geojson_text(
    path: Path, encoding: str | None, notes: list[ReadNote]
) -> tuple[gpd.GeoDataFrame, str]:
    """A GeoJSON file that is not UTF-8 (GDAL reads only UTF-8): its text decoded as
    ``encoding``, else as detected (GB18030 from GIS software on Chinese Windows)."""
    text, used = decode_text(path, encoding)
    code = "encoding_given" if encoding else "encoding_not_utf8"
    notes.append(ReadNote.of(code, path.name, encoding=used))
    try:
        return gpd.read_file(BytesIO(text.encode("utf-8"))), used
    except Exception as exc:  # pyogrio's DataSource errors
        raise read_error("unreadable", file=path.name, detail=str(exc)) from exc


def _with_layer(frame: gpd.GeoDataFrame, layer: str | None) -> gpd.GeoDataFrame:
    """``frame`` with the layer it was read from in ``attrs["layer"]`` (errors name it)."""
    frame.attrs["layer"] = layer
    return frame


_ZIPPED_SUFFIXES = tuple(s for s in SUPPORTED_SUFFIXES if s != ".zip")
_ZIP_JUNK = re.compile(r"(?:^|/)(?:__MACOSX/|\._|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.I)
_ZIP_UTF8_FLAG = 0x800
_ZIP_LISTED = 10


def _unzip_layer(
    path: Path, folder: Path, ent: Entity, layer: str | None, notes: list[ReadNote]
) -> tuple[Path, str | None, str]:
    """Extract the file to read ``ent`` from of the zip ``path`` into ``folder`` (with the other
    parts of a Shapefile): the layer (file name without suffix) given, else the only file
    gridmap reads, else the one named like the entity; the layer to read of it, and its name
    in the zip. The file may lie in a folder of the zip (a zipped folder), its name written in
    GBK (zips made on Chinese Windows); the junk of other systems (``__MACOSX``, ``Thumbs.db``)
    is ignored.

    Raises
    ------
    InputError
        Not a zip, no file gridmap reads in it, no such layer, or several and none named like
        the entity.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise read_error("unreadable", file=path.name, detail=str(exc)) from exc
    with archive:
        members = {_zip_name(m): m for m in archive.infolist() if not m.is_dir()}
        members = {n: m for n, m in members.items() if not _ZIP_JUNK.search(n)}
        geodatabases = _zip_geodatabases(path, members)
        files = [n for n in members if n.lower().endswith(_ZIPPED_SUFFIXES)]
        files += list(geodatabases)
        if not files:
            raise read_error("zip_without_layer", file=path.name,
                             found=list(members)[:_ZIP_LISTED], n=len(members))  # fmt: skip
        names = _zip_layer_names(files)
        chosen, inner_layer = _zip_choice(path, ent, layer, names, notes)
        source = PurePosixPath(chosen)
        stem = source.name[: -len(source.suffix)] if source.suffix else source.name
        target = folder
        if chosen in geodatabases:  # a folder: its files into a folder of that name
            parts = geodatabases[chosen]
            target = folder / source.name
            target.mkdir()
        elif source.suffix.lower() == ".shp":
            parts = [n for n in members if PurePosixPath(n).parent == source.parent
                     and PurePosixPath(n).stem.lower() == stem.lower()]  # fmt: skip
        else:
            parts = [chosen]
        for name in parts:
            with (
                archive.open(members[name]) as data,
                (target / PurePosixPath(name).name).open("wb") as out,
            ):
                shutil.copyfileobj(data, out)
    return folder / source.name, inner_layer, chosen


_GEODATABASE_TABLE = ".gdbtable"


def _zip_geodatabases(path: Path, members: Collection[str]) -> dict[str, list[str]]:
    """The File Geodatabases in a zip (``网格.gdb/a00000001.gdbtable`` …, as Windows zips the
    folder; or its files alone, then named after the zip): folder name (ending ``.gdb``) →
    its files."""
    folders = {PurePosixPath(n).parent for n in members if n.lower().endswith(_GEODATABASE_TABLE)}
    found: dict[str, list[str]] = {}
    for parent in sorted(folders, key=str):
        name = str(parent) if str(parent) != "." else path.name[: -len(path.suffix)]
        if not name.lower().endswith(".gdb"):
            name += ".gdb"
        found[name] = [n for n in members if PurePosixPath(n).parent == parent]
    return found


def _zip_name(member: zipfile.ZipInfo) -> str:
    """The name of a zip member as written: a name not flagged UTF-8 is UTF-8 if it decodes as
    such, else GBK (Windows' zip on a Chinese system), not the CP437 of the zip standard."""
    if member.flag_bits & _ZIP_UTF8_FLAG:
        return member.filename
    try:
        written = member.filename.encode("cp437")
    except UnicodeEncodeError:
        return member.filename
    for codec in ("utf-8", "gb18030"):
        try:
            return written.decode(codec)
        except UnicodeDecodeError:
            continue
    return member.filename


def _zip_layer_names(files: list[str]) -> dict[str, str]:
    """Layer name → zip member: the file name without suffix, or its path in the zip where two
    folders hold a file of that name."""
    stems = [PurePosixPath(f).stem for f in files]
    return {
        (stem if stems.count(stem) == 1 else f.rsplit(".", 1)[0]): f
        for stem, f in zip(stems, files, strict=True)
    }


def _zip_choice(
    path: Path, ent: Entity, layer: str | None, names: dict[str, str], notes: list[ReadNote]
) -> tuple[str, str | None]:
    """The member of a zip to read (see :func:`_unzip_layer`) and the layer of it to read."""
    listed = list(names)
    if layer is not None:
        by_name = {normalise_header(n): m for n, m in names.items()}
        if normalise_header(layer) in by_name:
            return by_name[normalise_header(layer)], None
        if len(names) == 1:  # a GeoPackage in the zip: the layer of it
            return next(iter(names.values())), layer
        raise read_error("no_layer", file=path.name, layer=layer, layers=listed)
    if len(names) == 1:
        return next(iter(names.values())), None
    found = _named_like(listed, ent)
    if len(found) != 1:
        raise read_error("layers_ambiguous", file=path.name, entity=ent.name, layers=listed)
    notes.append(ReadNote.of("layer_chosen", path.name, entity=ent.name, layer=found[0]))
    return names[found[0]], None


def _named_like(names: Sequence[str], ent: Entity) -> list[str]:
    """Those of ``names`` (layers, sheets) that name the entity (:data:`LAYER_NAMES`, case and
    spaces ignored)."""
    wanted = {normalise_header(n) for n in LAYER_NAMES.get(ent.name, ())}
    return [n for n in names if normalise_header(n) in wanted]


_ARROW_FIELD_TYPES = frozenset({"OFTString", "OFTInteger", "OFTInteger64", "OFTReal"})
_ARROW_GEOMETRY_TYPES = frozenset({"Point", "LineString", "Polygon", "MultiPoint",
                                   "MultiLineString", "MultiPolygon"})  # fmt: skip


def _arrow_readable(path: Path, layer: str | None) -> bool:
    """True when GDAL's Arrow stream gives this GeoPackage layer the same frame as the row
    reader, several times faster: only text, integer and real fields (no dates, times,
    booleans, binaries or lists, which come typed otherwise) and one 2-D geometry type without
    curves. Anything else, or a layer whose description cannot be read, takes the row reader."""
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception:  # the row reader says what is wrong with the file
        return False
    return (
        set(info["ogr_types"]) <= _ARROW_FIELD_TYPES
        and set(info["ogr_subtypes"]) <= {"OFSTNone"}
        and info["geometry_type"] in _ARROW_GEOMETRY_TYPES
    )


def _sheet_for(
    path: Path,
    ent: Entity,
    mapping: Mapping[str, str] | None,
    notes: list[ReadNote],
    names: list[str],
    top_rows: Callable[[str], list[list[str]]],
) -> str | None:
    """Of a workbook's sheets shown (``names``), the one named like the entity (a first sheet
    of notes, 说明 or 封面, is common); else the one whose header names most of the entity's
    columns (a sheet of notes, an empty Sheet1 or another table first), the first of equals;
    ``None`` for one sheet."""
    if len(names) <= 1:
        return None
    found = _named_like(names, ent)
    if len(found) == 1:
        chosen = found[0]
    else:
        among = found or names
        hits = [header_hits(top_rows(name), ent, mapping)[1] for name in among]
        chosen = among[hits.index(max(hits))]
    if chosen != names[0]:
        notes.append(ReadNote.of("layer_chosen", path.name, entity=ent.name, layer=chosen))
    return chosen  # named: an error about it says which sheet was read


def _check_shapefile_parts(path: Path) -> None:
    """A ``.shp`` whose ``.shx`` or ``.dbf`` was not copied along: name the missing part
    (GDAL says only "unable to open", or reads the shapes without any attributes)."""
    names = {p.name.lower() for p in path.parent.iterdir()} if path.parent.is_dir() else set()
    for part in (".shx", ".dbf"):
        if (path.stem + part).lower() not in names:
            raise read_error("shapefile_part_missing", file=path.name, part=part)


def _read_cut_shapefile(
    path: Path, layer: str | None, encoding: str, notes: list[ReadNote]
) -> gpd.GeoDataFrame:
    """Read a Shapefile whose field names were cut inside a character (10 bytes hold only 3
    UTF-8 Chinese characters): bytes as Latin-1, then decoded, the broken character dropped."""
    frame = gpd.read_file(path, layer=layer, encoding="ISO-8859-1")  # GDAL: bytes as they are

    def fix(text: object) -> object:
        if not isinstance(text, str):
            return text
        return text.encode("latin-1").decode(encoding, errors="ignore")

    geometry = frame.geometry.name
    renamed = {c: fix(c) for c in frame.columns if c != geometry}
    for column in renamed:
        if pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(
            frame[column]
        ):
            frame[column] = frame[column].map(fix)
    cut = [
        new
        for old, new in renamed.items()
        if str(old).encode("latin-1") != str(new).encode(encoding)
    ]
    if cut:
        notes.append(ReadNote.of("headers_cut", path.name, headers=[str(c) for c in cut]))
    return frame.rename(columns=renamed)


def layer_for(
    path: str | Path,
    entity: str | Entity,
    layer: str | None = None,
    notes: list[ReadNote] | None = None,
) -> str | None:
    """The layer of a file GDAL reads with layers (GeoPackage, KML/KMZ, GML, SQLite, GPX …),
    or of a folder (Shapefiles, a File Geodatabase), to read ``entity`` from (``None``: the
    only one, or a file of one layer: Shapefile, GeoJSON, GeoParquet).

    ``layer`` if given (checked to exist); else, of the layers with geometry for an entity
    with geometry (tables beside them left out), the only one, or the one named like the
    entity (:data:`LAYER_NAMES`, case and spaces ignored; of several so named, the only one
    with records); where none is named so, the only one with records (a KML's empty folders,
    a GPX's empty waypoints or routes; the points GDAL makes of a GPX's tracks not counted).

    Raises
    ------
    InputError
        ``layer`` is not in the file, or several layers and none named like the entity (nor
        only one with records); the message lists the layers.
    """
    path, ent = Path(path), get_entity(entity)
    one_layer = path.name.lower().endswith(_ONE_LAYER_SUFFIXES) and not path.is_dir()
    if one_layer or not path.exists():
        return layer
    try:
        listed = pyogrio.list_layers(path)
    except Exception as exc:  # not a readable container: reading it says why
        logger.debug("Cannot list the layers of %s: %s", path, exc)
        return layer
    names = [str(n) for n in listed[:, 0]]
    if layer is not None:
        if layer not in names:
            raise read_error("no_layer", file=path.name, layer=layer, layers=names)
        return layer
    if len(names) <= 1:
        return None
    spatial = [str(n) for n, kind in listed if kind is not None]
    among = spatial if ent.geometry is not None and spatial else names
    found = among if len(among) == 1 else _named_like(among, ent)
    if len(found) > 1:
        found = [n for n in found if _has_records(path, n)] or found
    elif not found:
        derived = _DERIVED_LAYERS.get(path.suffix.lower(), ())
        found = [n for n in among if n not in derived and _has_records(path, n)]
    if len(found) != 1:
        raise read_error("layers_ambiguous", file=path.name, entity=ent.name, layers=names,
                         example=(found or among)[0])  # fmt: skip
    if notes is not None:
        notes.append(ReadNote.of("layer_chosen", path.name, entity=ent.name, layer=found[0]))
    return found[0]


def _has_records(path: Path, layer: str) -> bool:
    try:  # counted where the format keeps no count (GPX, KML: -1)
        return bool(pyogrio.read_info(path, layer=layer, force_feature_count=True)["features"])
    except Exception:  # reading it says what is wrong
        return True


# --- columns and values ------------------------------------------------------------------------


def _canonical_columns(
    raw: pd.DataFrame,
    ent: Entity,
    mapping: Mapping[str, str] | None,
    path: Path,
    required: Sequence[str],
    fields: Mapping[str, str] | None = None,
    *,
    keep_extra: bool,
    notes: list[ReadNote],
) -> tuple[pd.DataFrame, dict[str, str]]:
    """``raw`` with canonical columns, and the file's header of each; every header problem of
    the file in one InputError."""
    geometry = raw.geometry.name if isinstance(raw, gpd.GeoDataFrame) else None
    headers = [c for c in raw.columns if c != geometry]
    resolution = resolve_headers(headers, ent, mapping)
    resolved = resolution.columns
    problems = list(resolution.problems)
    present = {normalise_header(h) for h in headers}
    problems += [
        ColumnProblem.of("field_header_missing", header=header, column=column)
        for header, column in (fields or {}).items()
        if normalise_header(header) not in present
    ]
    problems += _missing_column_problems(resolved, headers, required, mapping, ent)
    if resolution.ignored:
        logger.info("%s: ignoring %s (a more specific header names the same column)",
                    path.name, list(resolution.ignored))  # fmt: skip
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
        if column in COUNT_COLUMNS:
            out[column] = _as_count(values)
        elif column in _NUMERIC_COLUMNS:
            out[column] = values
        else:
            out[column] = _as_text(values, column, path, notes)
    header_of = {c: str(h) for h, c in resolved.items()}
    problems += _id_like_problems(out, header_of, ent)
    if problems:
        raise read_error("columns", file=path.name, entity=ent.name, headers=headers,
                         problems=problems)  # fmt: skip
    if keep_extra:
        for header in extra:
            out[str(header)] = raw[header].reset_index(drop=True)
    if geometry is None:
        return out, header_of
    geoms = raw.geometry.reset_index(drop=True).values
    return gpd.GeoDataFrame(out, geometry=geoms, crs=raw.crs), header_of


def _missing_column_problems(
    resolved: dict[object, str],
    headers: list[object],
    required: Sequence[str],
    mapping: Mapping[str, str] | None,
    ent: Entity,
) -> list[ColumnProblem]:
    """One line per required column no header fills, naming a mapped header the file lacks. A
    household id is not missing where the address it is made of is there (building, room)."""
    present = {normalise_header(h) for h in headers}
    named = {v: k for k, v in (mapping or {}).items() if v}
    problems: list[ColumnProblem] = []
    by_address = "household_id" if takes_address_ids(ent) else None
    for column in required:
        if column in resolved.values():
            continue
        if column == by_address and makes_household_ids(resolved.values()):
            continue
        if column == by_address and ent.name == "person" and finds_households(resolved.values()):
            continue  # found by the address text (or point) when the households are attached
        if column in named and normalise_header(named[column]) not in present:
            problems.append(
                ColumnProblem.of("mapped_header_missing", column=column, header=named[column])
            )
        elif column == by_address:
            lacking = missing_address_columns(resolved.values())
            problems.append(ColumnProblem.of("household_id_missing", lacking=lacking,
                                             person=ent.name == "person"))  # fmt: skip
        else:
            problems.append(ColumnProblem.of("column_missing", column=column))
    return problems


def _id_like_problems(
    frame: pd.DataFrame, header_of: Mapping[str, object], ent: Entity
) -> list[ColumnProblem]:
    """Id columns whose values look like ID numbers or mobile phones (never printed)."""
    problems: list[ColumnProblem] = []
    for column in _ID_LIKE_COLUMNS:
        if column not in frame.columns:
            continue
        values = frame[column].dropna().head(_ID_LIKE_SAMPLE).tolist()
        if not values:
            continue
        for check, target in ((valid_id_number, "id_number"), (is_mobile_phone, "phone")):
            if sum(map(check, values)) >= _ID_LIKE_SHARE * len(values):
                generated = column == ent.id_column and column not in ent.required
                problems.append(ColumnProblem.of("id_like", header=header_of[column],
                                                 column=column, target=target,
                                                 generated=generated))  # fmt: skip
                break
    return problems


def _as_text(values: pd.Series, column: str, path: Path, notes: list[ReadNote]) -> pd.Series:
    """Text column: ints without ``.0``, dates as ISO, stripped, without the apostrophe that
    marks a number kept as text (``'0301``), empty → missing; a birth date that a spreadsheet
    gives as its day number (``32874``) as the date (``1990-01-01``)."""
    if isinstance(values.dtype, pd.StringDtype):  # CSV columns: no numbers or dates to format
        stripped = values.str.strip().str.removeprefix("'")  # in Arrow: no object per cell
        if column == "birth_date":
            serial = stripped.str.fullmatch(_DATE_SERIAL).fillna(False)
            if serial.any():
                stripped = stripped.mask(serial, stripped[serial].map(_serial_date))
        out = stripped.mask(stripped.eq("")).astype("str")
        return out.set_axis(pd.RangeIndex(len(out))).rename(None)
    numeric_ids = np.zeros(len(values), bool)
    text: list[str | None] = []
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
            text.append(None)
            continue
        if isinstance(v, bool | np.bool_):
            v = str(v)
        elif isinstance(v, int | np.integer | float | np.floating):
            if column == "id_number" and (
                isinstance(v, float | np.floating) or abs(int(v)) > _EXACT_FLOAT_LIMIT
            ):
                numeric_ids[i] = True
            v = str(int(v)) if float(v).is_integer() else str(v)
            if column == "birth_date" and _DATE_SERIAL.fullmatch(v):
                v = _serial_date(v)
        elif isinstance(v, datetime):  # pd.Timestamp included
            midnight = (v.hour, v.minute, v.second) == (0, 0, 0)
            v = v.date().isoformat() if midnight else v.isoformat()
        elif isinstance(v, date):
            v = v.isoformat()
        s = str(v).strip().removeprefix("'")
        text.append(s or None)
    note_rows(notes, "id_numbers_as_numbers", numeric_ids, path)
    return pd.Series(text, dtype="str")


_DATE_SERIAL = re.compile(r"[1-9][0-9]{4}")
"""A spreadsheet's day number of a date from 1927-05-18 (10000) to 2173 (a birth date whose
cell lost its date format); 4 digits or 8 (``1990``, ``19900101``) are years and dates."""
_SERIAL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's and WPS's 1900 date system


def _serial_date(serial: str) -> str:
    """``"32874"`` → ``"1990-01-01"``: the ISO date of a spreadsheet day number."""
    return (_SERIAL_EPOCH + timedelta(days=int(serial))).isoformat()


_GROUPED_DIGITS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
"""A whole number with a comma every three digits (``1,024``; full-width commas made ASCII)."""


def _as_count(values: pd.Series) -> pd.Series:
    """A count column as read, but for the text an office types for a whole number.

    ``"1,024"`` and ``"1，024"`` (a thousands separator, full-width or not), ``"３００"``
    (full-width digits) and ``"300\u3000"`` (a full-width or no-break space around it) become
    the digits (``"1024"``); ``pd.to_numeric`` and the checks after it then read them as every
    other count. Text that is not unambiguously a whole number is left as it is (``"12.5"``,
    ``"三百"``, ``"1,02"``, ``"12,5"``: a decimal comma?), so the checks name its record.

    Examples
    --------
    >>> counts = pd.Series(["1,024", "1，024", "300\u3000", "３００", "12.5", "三百", "1,02", 7])
    >>> _as_count(counts).tolist()
    ['1024', '1024', '300', '300', '12.5', '三百', '1,02', 7]
    """
    values = values.reset_index(drop=True)
    if values.dtype.kind in "biufcmM":  # numbers, booleans, dates: no text in the column
        return values
    if isinstance(values.dtype, pd.StringDtype):
        text = values.notna()
    else:  # object: numbers and text mixed
        cells = values.to_numpy()
        found = np.fromiter((isinstance(v, str) for v in cells), bool, len(cells))
        text = pd.Series(found, index=values.index)
    if not text.any():
        return values
    odd = text & pd.to_numeric(values.where(text), errors="coerce").isna()
    if not odd.any():
        return values
    fixed = {v: _count_digits(v) for v in pd.unique(values[odd])}
    return values.where(~odd, values[odd].map(fixed))


def _count_digits(value: str) -> str:
    """``value`` as plain digits when it is a whole number written as offices write it; else
    ``value`` unchanged."""
    plain = unicodedata.normalize("NFKC", value).strip().removeprefix("'")  # full-width, '300
    if plain.isascii() and plain.isdigit():
        return plain
    if _GROUPED_DIGITS.fullmatch(plain):
        return plain.replace(",", "")
    return value


def _drop_blank_rows(frame: pd.DataFrame, ent: Entity, path: Path) -> pd.DataFrame:
    canon = [c for c in frame.columns if c in ent.columns]
    blank = frame[canon].isna().all(axis=1)
    if isinstance(frame, gpd.GeoDataFrame):
        blank &= frame.geometry.isna().to_numpy()
    if blank.any():
        logger.info("%s: skipped %d blank row(s)", path.name, int(blank.sum()))
        frame = frame.loc[~blank]  # keep the index: record i is still data row i + 1
    return frame


# --- ids the file lacks ------------------------------------------------------------------------


def _fill_household_ids(
    frame: pd.DataFrame, ent: Entity, path: Path, notes: list[ReadNote], header_of: dict[str, str]
) -> pd.DataFrame:
    """Make the household id of households and persons without one of their address, saying
    from which headers, how many, and which addresses hold two households (see module doc)."""
    if not takes_address_ids(ent) or not makes_household_ids(frame.columns):
        waiting = int(waits_for_household(frame).sum()) if ent.name == "person" else 0
        if waiting:  # no 楼栋编号 column: 现住址 or coordinates only
            notes.append(ReadNote.of("households_found", path.name, n=waiting))
        return frame
    current = frame["household_id"] if "household_id" in frame.columns else None
    blank = np.ones(len(frame), bool) if current is None else current.isna().to_numpy()
    if not len(frame) or not blank.any():
        return frame
    rows = frame.loc[blank]
    if ent.name == "household":
        taken = set() if current is None else set(current.dropna())
        made, repeated = household_ids(rows, taken)
    else:  # persons at one address are one household
        made, repeated = address_keys(rows), {}
    filled = made if current is None else current.where(~blank, made)
    frame = frame.assign(household_id=filled.astype("str"))
    known = [c for c in ent.columns if c in frame.columns]  # household_id in its place
    frame = frame[[*known, *[c for c in frame.columns if c not in known]]]
    n = int(made.notna().sum())
    waits = waits_for_building if ent.name == "household" else waits_for_household
    placed = int(waits(frame).sum())
    used = [header_of[c] for c in ADDRESS_COLUMNS if c in header_of]
    example = str(made.dropna().iloc[0]) if n else ""
    notes.append(ReadNote.of("address_ids", path.name, entity=ent.name, n=n,
                             headers=used, example=example, placed=placed,
                             without=int(blank.sum()) - n - placed))  # fmt: skip
    notes.extend(address_notes(rows, path.name))
    if repeated:
        shown = list(repeated.items())[:ROWS_SHOWN]
        notes.append(ReadNote.of("address_repeated", path.name, repeats=shown,
                                 n=len(repeated)))  # fmt: skip
    return frame


def _fill_missing_ids(
    frame: pd.DataFrame, ent: Entity, path: Path, notes: list[ReadNote]
) -> pd.DataFrame:
    """Generate the ids of compounds, streets and persons that have none (see module doc)."""
    if ent.id_column in ent.required or not len(frame):
        return frame
    current = frame[ent.id_column] if ent.id_column in frame.columns else None
    blank = np.ones(len(frame), bool) if current is None else current.isna().to_numpy()
    if not blank.any():
        return frame
    prefix = GENERATED_ID_PREFIXES.get(ent.name, "")  # persons: from the household id and row
    generated = _person_ids(frame) if ent.name == "person" else _geometry_ids(frame, prefix)
    ids = generated if current is None else current.where(~blank, generated)
    frame = frame.copy()
    frame[ent.id_column] = pd.Series(ids, index=frame.index, dtype="str")
    frame = frame[[ent.id_column, *[c for c in frame.columns if c != ent.id_column]]]
    made = int((~pd.isna(frame[ent.id_column]) & blank).sum())
    if made:
        notes.append(ReadNote.of("ids_generated", path.name, entity=ent.name, n=made,
                                 prefix=prefix))  # fmt: skip
    return frame


def _person_ids(frame: pd.DataFrame) -> pd.Series:
    """``<household_id>-<n>``: ``n`` counts the household's rows in file order (1, 2 …)."""
    households = frame["household_id"] if "household_id" in frame.columns else None
    if households is None:
        return pd.Series([None] * len(frame), index=frame.index, dtype="str")
    return person_ids(households)


def _geometry_ids(frame: pd.DataFrame, prefix: str) -> pd.Series:
    """``prefix`` + a short hash of each geometry (lon/lat rounded to about 0.1 m), or of the
    name for records without geometry; repeats get ``-2``, ``-3`` … in file order."""
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
    names = frame["name"] if "name" in frame.columns else None
    keys = []
    for i in range(len(frame)):
        g = None if geoms is None else geoms.iloc[i]
        if g is not None and not g.is_empty:
            key = shapely.to_wkt(shapely.normalize(g), rounding_precision=_HASH_PRECISION)
        elif names is not None and isinstance(names.iloc[i], str):
            key = f"name:{names.iloc[i]}"
        else:
            key = None
        keys.append(key)
    ids: list[str | None] = []
    seen: dict[str, int] = {}
    for key in keys:
        if key is None:
            ids.append(None)
            continue
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:_GENERATED_HASH_CHARS].upper()
        seen[digest] = seen.get(digest, 0) + 1
        ids.append(prefix + digest + (f"-{seen[digest]}" if seen[digest] > 1 else ""))
    return pd.Series(ids, index=frame.index, dtype="str")
