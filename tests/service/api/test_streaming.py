"""Whole layers stream in constant memory (issue 14 §4), on both backends.

Buildings are written to a store and the bytes of ``/downloads/buildings.{geojson,fgb,parquet}``
(:func:`service.api.routes.downloads.layer_chunks`, what the route streams) are written to a
file while tracemalloc records the peak of Python allocations; three times the buildings, the
same peak. Over HTTP, every file holds every building with a valid geometry.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from fastapi.testclient import TestClient
from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape
from shapely import MultiPolygon, box
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from service.api.main import create_app
from service.settings import Settings
from service.storage import models as m
from service.storage.features import iter_buildings
from service.storage.session import make_engine, session_scope

A = "520602001001"
SMALL, LARGE, BATCH = 1_500, 4_500, 150  # 10 and 30 batches
FORMATS = ("geojson", "fgb", "parquet")


def _add_buildings(url: str, start: int, stop: int) -> None:
    i = np.arange(start, stop)
    x, y = 109.10 + (i % 250) * 2e-4, 27.60 + (i // 250) * 2e-4
    points = shapely.to_wkb(shapely.points(x + 5e-5, y + 5e-5))
    squares = shapely.multipolygons(shapely.box(x, y, x + 1e-4, y + 1e-4)[:, None])
    rows = [{"id": f"B{k:06d}", "code": f"{A}{k:06d}", "name": f"{k}号楼", "kind": "residential",
             "floors": 6 + k % 20, "units": 2, "households": 10 + k % 90, "community_code": A,
             "geom": WKBElement(point, srid=4326), "footprint": WKBElement(square, srid=4326)}
            for k, point, square in zip(i.tolist(), points, shapely.to_wkb(squares),
                                        strict=True)]  # fmt: skip
    engine = make_engine(url)
    with session_scope(engine) as session:
        if start == 0:
            outline = MultiPolygon([box(109.0, 27.5, 109.2, 27.9)])
            session.add(m.Community(code=A, name="测试社区", geom=from_shape(outline, srid=4326)))
            session.flush()
        session.execute(insert(m.Building), rows)
    engine.dispose()


_MEASURE = """
import sys, tracemalloc
from pathlib import Path
from sqlalchemy.orm import sessionmaker
from service.api.routes.downloads import layer_chunks
from service.storage import features
from service.storage.session import make_engine

url, folder, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
features.STREAM_BATCH = batch
make_session = sessionmaker(make_engine(url))

def write(fmt, path):
    tracemalloc.start()
    try:
        with path.open("wb") as handle:
            for chunk in layer_chunks(make_session, "buildings", fmt):
                handle.write(chunk)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

for fmt in sys.argv[4:]:  # warm-up: imports and compiled statements are not the stream
    write(fmt, folder / f"warm.{fmt}")
for fmt in sys.argv[4:]:
    print(fmt, write(fmt, folder / f"layer.{fmt}"))
"""


def _write_all(url: str, folder: Path) -> dict[str, int]:
    """Peak of Python allocations while each format's buildings file is written into ``folder``.

    Measured in a fresh interpreter: threads other tests left in this process (servers,
    clusters) would allocate inside the traced window.
    """
    folder.mkdir()
    args = [sys.executable, "-c", _MEASURE, url, str(folder), str(BATCH), *FORMATS]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return {fmt: int(peak) for fmt, peak in (line.split() for line in result.stdout.splitlines())}


def _read_back(data: bytes, fmt: str) -> list[str]:
    """Building ids of a downloaded file, checking its geometries on the way."""
    if fmt == "geojson":
        doc = json.loads(data)
        assert doc["type"] == "FeatureCollection"
        assert all(f["geometry"]["type"] == "MultiPolygon" for f in doc["features"])
        return [f["properties"]["building_id"] for f in doc["features"]]
    frame = (gpd.read_parquet(io.BytesIO(data)) if fmt == "parquet"
             else pyogrio.read_dataframe(io.BytesIO(data)))  # fmt: skip
    assert frame.crs.equals("EPSG:4326") or frame.crs.equals("OGC:CRS84")
    assert frame.geometry.is_valid.all() and (frame.geom_type == "MultiPolygon").all()
    assert {"households", "grid_code", "community_code"} <= set(frame.columns)
    return list(frame["building_id"])


def test_whole_layer_files_are_written_in_constant_memory(store_url, tmp_path):
    _add_buildings(store_url, 0, SMALL)
    peaks, sizes = {}, {}
    for n in (SMALL, LARGE):
        if n == LARGE:
            _add_buildings(store_url, SMALL, LARGE)
        for fmt, peak in _write_all(store_url, tmp_path / str(n)).items():
            peaks[fmt, n] = peak
            sizes[fmt, n] = (tmp_path / str(n) / f"layer.{fmt}").stat().st_size
    assert len(_read_back((tmp_path / str(LARGE) / "layer.fgb").read_bytes(), "fgb")) == LARGE
    for fmt in FORMATS:
        grown = sizes[fmt, LARGE] - sizes[fmt, SMALL]
        more = peaks[fmt, LARGE] - peaks[fmt, SMALL]
        detail = f"{fmt}: peak {peaks[fmt, SMALL]:,} -> {peaks[fmt, LARGE]:,} B, file +{grown:,} B"
        assert grown > 0 and more < 0.1 * grown, detail


def test_every_building_in_every_format_over_http(store_url):
    _add_buildings(store_url, 0, 1200)
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        for fmt in FORMATS:
            r = client.get(f"/downloads/buildings.{fmt}?community_code={A}")
            assert r.status_code == 200, r.text
            assert r.headers["content-disposition"] == f'attachment; filename="buildings-{A}.{fmt}"'
            ids = _read_back(r.content, fmt)
            assert ids == [f"B{i:06d}" for i in range(1200)], fmt
        assert client.get("/downloads/buildings.fgb?community_code=520602009999").status_code == 404


def test_buildings_are_read_through_a_streaming_cursor(store_url, backend):
    _add_buildings(store_url, 0, 1200)
    engine = make_engine(store_url)
    with Session(engine) as session:
        batches = iter_buildings(session, batch=500)
        first = next(batches)
        if backend == "postgis":  # a server-side cursor: the rows stay in the database
            open_cursors = session.execute(text("SELECT count(*) FROM pg_cursors")).scalar()
            assert open_cursors >= 1
        rest = [f for batch in batches for f in batch]
    engine.dispose()
    assert len(first) == 500 and len(first) + len(rest) == 1200
