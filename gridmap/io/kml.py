"""The attributes of KML and KMZ files, as the people who draw them write them.

Grid and community boundaries are drawn in 奥维互动地图 (Ovital) or Google Earth and exported as
KML/KMZ; ArcGIS's "Layer To KML" writes them too. GDAL (LIBKML) gives each folder as a layer
with the columns ``Name``, ``description``, ``timestamp``, ``begin``, ``end``,
``altitudeMode``, ``tessellate``, ``extrude``, ``visibility``, ``drawOrder``, ``icon`` (and
``id``), then the ``ExtendedData`` fields. :func:`kml_columns`:

* keeps the names of ``ExtendedData`` fields as written (:func:`keep_field_names`);
* drops those of KML's own columns that carry nothing (all empty, unset or KML's default), so
  they do not reach outputs;
* reads the fields written in ``description`` into columns of their own: ArcGIS's HTML table of
  two-cell rows (field, value; ``<Null>`` empty), or the lines people type (``户数：120``,
  ``楼栋编号: B001``), never replacing a column the layer has (nor one filling the same
  canonical column); their headers then go through the usual header recognition, so ``户数``
  becomes ``households``. A note (``description_read``) says how many records and which columns.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import pyogrio

from gridmap.io.headers import normalise_header, resolve_headers
from gridmap.io.markup import markup_grids
from gridmap.io.notes import ReadNote
from gridmap.schema import Entity

__all__ = ["KML_SUFFIXES", "description_fields", "keep_field_names", "kml_columns"]

KML_SUFFIXES = (".kml", ".kmz")
"""The files whose layers :func:`kml_columns` reads (KMZ: a zip of a KML)."""

_KML_COLUMNS: dict[str, tuple[object, ...]] = {
    "id": (),
    "name": (),
    "description": (),
    "timestamp": (),
    "begin": (),
    "end": (),
    "altitudemode": ("clampToGround",),
    "tessellate": (-1, 0, 1),  # 1: drape on the ground, what Google Earth writes on every shape
    "extrude": (-1, 0),
    "visibility": (-1, 1),
    "draworder": (-1, 0),
    "icon": (),
}
"""KML's own columns (normalised header) → the values that say nothing but "unset" or KML's
default; empty values say nothing either."""

_MISSING = frozenset({"<null>", "<空>", "null"})
"""Values ArcGIS writes for an empty field (``&lt;Null&gt;``)."""
_TABLE_CELL = re.compile(r"<\s*t[dh][\s>]", re.I)
_LINE_BREAK = re.compile(r"<\s*br\s*/?\s*>|<\s*/\s*(?:p|div|li|tr)\s*>", re.I)
_TAG = re.compile(r"<[^>]*>")
_KEY = r"[^\s:：,，;；<>0-9/](?:[^:：,，;；<>\n]{0,28}[^\s:：,，;；<>0-9/])?"
"""A field's name: up to 30 characters, not starting or ending in a digit (``10:30`` is a time)."""
_PAIR = re.compile(rf"\s*({_KEY})\s*[:：]\s*(.*)")
_NEXT_PAIR = re.compile(rf"\s*[,，;；]\s*(?={_KEY}\s*[:：])")
"""A comma or semicolon before another ``key:`` (``户数:120，层数:6``)."""


_LAUNDER = "LIBKML_LAUNDER_FIELD_NAMES"


def keep_field_names() -> None:
    """Have GDAL's LIBKML keep the names of ``ExtendedData`` fields as written (``户数``), not
    "laundered" to XML names (``______``), unless the environment says otherwise. A GDAL
    setting of the process: set once, never reset, so that readers in threads agree."""
    if pyogrio.get_gdal_config_option(_LAUNDER) is None:
        pyogrio.set_gdal_config_options({_LAUNDER: "NO"})


def kml_columns(
    raw: pd.DataFrame,
    file: str,
    ent: Entity,
    mapping: Mapping[str, str] | None,
    notes: list[ReadNote],
) -> pd.DataFrame:
    """``raw`` (a layer of a KML or KMZ) without KML's columns that carry nothing, with the
    fields of its descriptions as columns after its own (see the module doc)."""
    empty = [c for c in raw.columns if _says_nothing(raw, c)]
    raw = raw.drop(columns=empty)
    described = [c for c in raw.columns if normalise_header(c) == "description"]
    if not described:
        return raw
    fields = [description_fields(v) for v in raw[described[0]].tolist()]
    headers = list(dict.fromkeys(k for f in fields for k in f))
    present = {normalise_header(c) for c in raw.columns}
    headers = [h for h in headers if normalise_header(h) not in present]
    headers = _not_rivalling(headers, [c for c in raw.columns if c != _geometry(raw)], ent, mapping)
    if not headers:
        return raw
    raw = raw.copy()
    for header in headers:
        raw[header] = pd.Series([f.get(header) for f in fields], index=raw.index, dtype="str")
    n = sum(1 for f in fields if any(f.get(h) is not None for h in headers))
    notes.append(ReadNote.of("description_read", file, n=n, headers=headers))
    return raw


def _geometry(raw: pd.DataFrame) -> object:
    return raw.geometry.name if isinstance(raw, gpd.GeoDataFrame) else None


def _says_nothing(raw: pd.DataFrame, column: object) -> bool:
    """True for a column of KML's own whose values are all empty, unset or the default."""
    key = normalise_header(column)
    if column == _geometry(raw) or key not in _KML_COLUMNS:
        return False
    values = raw[column]
    blank = values.isna() | values.isin(_KML_COLUMNS[key])
    if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
        blank |= values.astype("str").str.strip().eq("").fillna(True)
    return bool(blank.all())


def _not_rivalling(
    headers: list[str], own: list[object], ent: Entity, mapping: Mapping[str, str] | None
) -> list[str]:
    """Of the description's ``headers``, those that fill no canonical column a header of the
    layer itself (``own``) fills as strongly: ArcGIS's KML names each placemark by a field
    (``Name``) that its description lists again (``名称``)."""
    columns = resolve_headers([*own, *headers], ent, mapping).columns
    taken = {columns[h] for h in own if h in columns}
    return [h for h in headers if columns.get(h) not in taken]


def description_fields(text: object) -> dict[str, str | None]:
    """The fields a KML description holds: the two-cell rows (field, value) of its HTML
    tables, else its lines ``key：value`` (a colon, full-width or not; several on a line
    separated by commas or semicolons); empty values ``None``.

    Examples
    --------
    >>> description_fields("楼栋编号: B001\\n户数：120，层数:6\\n备注")
    {'楼栋编号': 'B001', '户数': '120', '层数': '6'}
    >>> description_fields("<table><tr><td>户数</td><td>120</td></tr>"
    ...                    "<tr><td>小区</td><td>&lt;Null&gt;</td></tr></table>")
    {'户数': '120', '小区': None}
    >>> description_fields("见 https://example.com/a，时间 10:30")
    {}
    """
    if not isinstance(text, str) or not text.strip():
        return {}
    if _TABLE_CELL.search(text):
        return _table_fields(text)
    plain = html.unescape(_TAG.sub("", _LINE_BREAK.sub("\n", text)))
    fields: dict[str, str | None] = {}
    for line in plain.splitlines():
        for part in _NEXT_PAIR.split(line):
            pair = _PAIR.fullmatch(part)
            if pair is None or pair.group(2).startswith("//"):  # a link (https://…)
                continue
            fields.setdefault(pair.group(1).strip(), _value(pair.group(2)))
    return fields


def _table_fields(text: str) -> dict[str, str | None]:
    """The rows of two cells (a field and its value) of the HTML tables of ``text`` (ArcGIS's
    popup nests them in a table titled with the layer's name), merged cells left out."""
    fields: dict[str, str | None] = {}
    for grid in markup_grids(text).values():
        merged = {row for _, top, _, bottom in grid.ranges for row in range(top - 1, bottom)}
        for i, row in enumerate(grid.rows):
            if len(row) != 2 or i in merged or not isinstance(row[0], str):
                continue
            fields.setdefault(row[0].strip(), _value(row[1]))
    return fields


def _value(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if not text or text.lower() in _MISSING else text
