"""Very large layers as files, in constant memory: GeoJSON, FlatGeobuf and GeoParquet.

The features come in batches from a server-side cursor
(:func:`service.storage.features.iter_buildings`, :func:`~service.storage.features.iter_grids`);
nothing ever holds the whole layer:

- GeoJSON is written feature by feature as the batches arrive (the geometry is the database's
  ``ST_AsGeoJSON`` text, never parsed);
- FlatGeobuf is written by GDAL (pyogrio) from an Arrow stream of the batches to a temporary
  file, without the packed spatial index (``SPATIAL_INDEX=NO``: GDAL would sort every
  feature's box in memory), then sent in chunks;
- GeoParquet (1.1, WKB geometry, lon/lat: CRS84) is written by pyarrow one row group per
  batch to a temporary file, then sent in chunks.

Only public properties are written (:data:`gridmap.schema.PERSONAL_FIELDS` dropped).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import shapely

from gridmap.schema import PERSONAL_FIELDS
from service.api.responses import GEOJSON_MEDIA_TYPE, feature_text
from service.storage.paging import Feature

__all__ = [
    "MEDIA_TYPES",
    "GRID_FIELDS",
    "BUILDING_FIELDS",
    "geojson_chunks",
    "flatgeobuf_chunks",
    "geoparquet_chunks",
]

MEDIA_TYPES = {
    "geojson": GEOJSON_MEDIA_TYPE,
    "fgb": "application/flatgeobuf",
    "parquet": "application/vnd.apache.parquet",
}
_S, _I = pa.string(), pa.int32()
GRID_FIELDS = {"grid_code": _S, "community_code": _S, "plan_id": _I, "plan_status": _S,
               "grid_name": _S, "kind": _S, "households": _I, "buildings": _I,
               "persons": _I}  # fmt: skip
"""Columns of a grids file (as :func:`service.storage.features.list_grids` names them)."""
BUILDING_FIELDS = {"building_id": _S, "building_code": _S, "building_name": _S, "address": _S,
                   "kind": _S, "floors": _I, "units": _I, "households": _I, "compound_id": _S,
                   "community_code": _S, "grid_code": _S}  # fmt: skip
"""Columns of a buildings file."""
_CHUNK = 1 << 16
_GEO = {"version": "1.1.0", "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": []}}}  # fmt: skip


def _public(properties: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in properties.items() if k not in PERSONAL_FIELDS}


def geojson_chunks(batches: Iterator[list[Feature]], name: str) -> Iterator[bytes]:
    """A FeatureCollection named ``name``, one chunk per batch (geometries as GeoJSON text)."""
    yield ('{"type":"FeatureCollection","name":' + json.dumps(name) + ',"features":[').encode()
    separator = ""
    for batch in batches:
        text = ",".join(feature_text(Feature(f.id, f.geometry, _public(f.properties)))
                        for f in batch)  # fmt: skip
        if text:
            yield (separator + text).encode("utf-8")
            separator = ","
    yield b"]}"


def _schema(fields: dict[str, pa.DataType], geo: bool) -> pa.Schema:
    schema = pa.schema([*(pa.field(k, t) for k, t in fields.items() if k not in PERSONAL_FIELDS),
                        pa.field("geometry", pa.binary())])  # fmt: skip
    return schema.with_metadata({"geo": json.dumps(_GEO)}) if geo else schema


def _record_batches(
    batches: Iterator[list[Feature]], schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """Arrow batches of the features (shapely geometries) as WKB, columns as in ``schema``."""
    for batch in batches:
        geoms = np.array([f.geometry for f in batch], dtype=object)
        columns = [pa.array([f.properties.get(field.name) for f in batch], type=field.type)
                   for field in schema if field.name != "geometry"]  # fmt: skip
        columns.append(pa.array(shapely.to_wkb(geoms), type=pa.binary()))
        yield pa.RecordBatch.from_arrays(columns, schema=schema)


def _file_chunks(write: Callable[[Path], None], suffix: str) -> Iterator[bytes]:
    """Run ``write(path)`` to a temporary file, then yield the file in chunks and delete it."""
    with tempfile.TemporaryDirectory(prefix="gridmap-export-") as tmp:
        path = Path(tmp) / f"layer{suffix}"
        write(path)
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk


def flatgeobuf_chunks(
    batches: Iterator[list[Feature]], fields: dict[str, pa.DataType], layer: str
) -> Iterator[bytes]:
    """A FlatGeobuf file of the features (shapely geometries), lon/lat (EPSG:4326)."""
    schema = _schema(fields, geo=False)

    def write(path: Path) -> None:
        reader = pa.RecordBatchReader.from_batches(schema, _record_batches(batches, schema))
        pyogrio.write_arrow(reader, path, layer=layer, driver="FlatGeobuf",
                            geometry_name="geometry", geometry_type="Unknown", crs="EPSG:4326",
                            layer_options={"SPATIAL_INDEX": "NO"})  # fmt: skip

    return _file_chunks(write, ".fgb")


def geoparquet_chunks(
    batches: Iterator[list[Feature]], fields: dict[str, pa.DataType]
) -> Iterator[bytes]:
    """A GeoParquet 1.1 file of the features (shapely geometries), one row group per batch."""
    schema = _schema(fields, geo=True)

    def write(path: Path) -> None:
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for record_batch in _record_batches(batches, schema):
                writer.write_batch(record_batch)

    return _file_chunks(write, ".parquet")
