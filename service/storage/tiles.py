"""Mapbox vector tiles (MVT) of communities, grids and buildings in the WebMercatorQuad tiling.

A tile holds the features of a collection that intersect the tile's box, selected by the very
statements the OGC API items use (:mod:`service.storage.features`), so a tile and an items
page with the tile's ``bbox`` list the same features with the same public properties (no
personal field: persons are only counted) and the same choice of plan (published, or
``plan_id``). Who may ask for a draft plan is checked by the caller
(:func:`~service.storage.features.require_plan_visible`), as for items.

- PostGIS: one query, ``ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x,
  y)))`` over the filtered items statement; the database returns the encoded tile. From about
  zoom 13 a feature lying within the buffered tile is projected by ``ST_Affine`` with a linear
  stand-in for EPSG:3857 that is within 1/8 tile unit of it there (:func:`_linear_mercator`):
  PROJ was a fifth of the query's CPU.
- SpatiaLite: the same statement and bbox filter, then the geometries are projected to tile
  coordinates, clipped to the tile plus its buffer and snapped to the tile grid with shapely
  (as ``ST_AsMVTGeom`` does), and encoded with ``mapbox-vector-tile``.

Both drop features that collapse to nothing at the tile's resolution (a building smaller than a
tile unit at a low zoom), and NULL properties (MVT has no null). An empty tile is ``b""``.

:func:`render_tile` depends only on its arguments and the stored data: a tile of a published
plan is the same bytes until the plan or the data change, so it can be cached by its URL.
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import morecantile
import numpy as np
import psycopg
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, Float, Integer, Select, bindparam, case, event, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from service.storage.features import (
    PlanParam,
    _assignment,
    _building_stmt,
    _check_scope,
    _community_stmt,
    _plan_filter,
    grid_statement,
)
from service.storage.models import SRID, Building, Community, Grid
from service.storage.paging import bbox_clause, geometry_value, is_sqlite

__all__ = [
    "TMS",
    "TILE_MATRIX_SET",
    "EXTENT",
    "BUFFER",
    "TileSource",
    "SOURCES",
    "TileError",
    "check_tile",
    "tile_bounds",
    "render_tile",
    "render_published_tile",
    "renders_on_the_event_loop",
    "feature_count",
    "MEDIA_TYPE",
]

TILE_MATRIX_SET = "WebMercatorQuad"
TMS = morecantile.tms.get(TILE_MATRIX_SET)
"""The OGC WebMercatorQuad tile matrix set (EPSG:3857, zooms 0-24)."""
EXTENT = 4096
"""Tile coordinates per tile side (the MVT default)."""
BUFFER = 256
"""Tile units kept around a tile, so outlines drawn across tile edges join up."""
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"


class TileError(ValueError):
    """A tile outside the tile matrix set or the collection's zoom levels."""


@dataclass(frozen=True)
class TileSource:
    """A collection as tiles: its statement, property names (in column order), zoom range."""

    statement: Callable[[PlanParam], Select[Any]]
    """``statement(plan_id)``: the items statement; properties, then the geometry, last."""
    properties: tuple[str, ...]
    geometries: Callable[[], tuple[Any, ...]]
    """The stored geometry columns a feature is found by (a building: its point or footprint)."""
    min_zoom: int
    max_zoom: int = 22
    uses_plan: bool = True


def _communities(_plan_id: PlanParam) -> Select[Any]:
    return _community_stmt(False)


def _grids(plan_id: PlanParam) -> Select[Any]:
    return grid_statement(False).where(_plan_filter(plan_id))


def _buildings(plan_id: PlanParam) -> Select[Any]:
    return _building_stmt(_assignment(plan_id), False, inner=False)


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SOURCES: dict[str, TileSource] = {
    "communities": TileSource(
        _communities,
        _names(
            "community_code community_name subdistrict code_year grids households buildings "
            "persons plan_id"
        ),
        lambda: (Community.geom,),
        min_zoom=6,
        uses_plan=False,
    ),
    "grids": TileSource(
        _grids,
        _names(
            "grid_code community_code plan_id plan_status grid_name kind households "
            "buildings persons"
        ),
        lambda: (Grid.geom,),
        min_zoom=10,
    ),
    "buildings": TileSource(
        _buildings,
        _names(
            "building_id building_code building_name address kind floors units households "
            "compound_id community_code grid_code"
        ),
        lambda: (Building.geom, Building.footprint),
        min_zoom=13,
    ),
}
"""Collections served as tiles, as in the OGC API items (same statements and properties).

Zoom limits keep a tile's work bounded at province scale (~100 districts): communities from
zoom 6 (a province), grids from 10 (a district), buildings from 13 (a few communities)."""


def check_tile(source: TileSource, z: int, x: int, y: int) -> None:
    """Raise :class:`TileError` (naming the problem) unless tile z/x/y exists for ``source``."""
    if not source.min_zoom <= z <= source.max_zoom:
        raise TileError(
            f"Zoom {z} is outside this collection's tiles: zoom {source.min_zoom} to "
            f"{source.max_zoom} of {TILE_MATRIX_SET}."
        )
    size = 2**z
    if not (0 <= x < size and 0 <= y < size):
        raise TileError(
            f"Tile {z}/{x}/{y} does not exist: at zoom {z} x (column) and y (row) run from 0 to "
            f"{size - 1}."
        )


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Lon/lat bounds ``(west, south, east, north)`` of tile z/x/y.

    WebMercatorQuad's inverse in closed form (what ``TMS.bounds`` gives, to 1e-9 degrees,
    without its pyproj transformation: ~1.5 ms of CPU per tile).
    """
    n = 2.0**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def render_tile(
    session: Session, collection: str, z: int, x: int, y: int, *, plan_id: int | None = None
) -> bytes:
    """The MVT of ``collection`` for tile z/x/y (one layer named after it); ``b""`` if empty.

    Raises
    ------
    KeyError
        If ``collection`` has no tiles.
    TileError
        If the tile is outside the tile matrix set or the collection's zoom levels.
    NotFoundError
        If ``plan_id`` does not exist (visibility is the caller's check).
    """
    source = SOURCES[collection]
    check_tile(source, z, x, y)
    plan = plan_id if source.uses_plan else None
    _check_scope(session, None, plan)
    bbox = tile_bounds(z, x, y)
    if not is_sqlite(session):
        return _encode_in_postgis(session, collection, (z, x, y), bbox, plan)
    in_box = or_(*(bbox_clause(session, g, bbox) for g in source.geometries()))
    return _encode_in_python(session, source.statement(plan).where(in_box), source, collection,
                             (z, x, y))  # fmt: skip


def feature_count(session: Session, collection: str) -> int:
    """How many features ``collection`` has (published plans): maps draw large layers as tiles."""
    stmt = SOURCES[collection].statement(None)
    return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


# --------------------------------------------------------------------------- PostGIS


def _encode_in_postgis(
    session: Session,
    collection: str,
    zxy: tuple[int, int, int],
    bbox: Sequence[float],
    plan_id: int | None,
) -> bytes:
    """One statement, one round trip: the tile's query on a connection of the engine's tile
    pool (:func:`_tile_pool`: autocommit, so no ``BEGIN``/``ROLLBACK``, and no pre-ping), sent
    unprepared, so PostgreSQL plans it for this tile's box (a generic plan of a prepared
    statement, which psycopg makes after five runs, was 30-50 % slower)."""
    engine = session.get_bind()
    sql, fixed = _postgis_query(collection, plan_id is not None, engine.dialect)
    params = _params(fixed, zxy, bbox, plan_id)
    if not isinstance(engine, Engine) or engine.dialect.driver != "psycopg":
        row = session.connection().exec_driver_sql(sql, params).fetchone()
        return bytes(row[0]) if row and row[0] else b""
    pool = _tile_pool(engine)
    for attempt in (1, 2):  # a pooled connection the server closed: once more on a new one
        fairy = pool.connect()
        conn: Any = fairy.driver_connection
        try:
            row = conn.execute(sql, params, prepare=False).fetchone()
        except psycopg.OperationalError:
            if attempt == 2 or not (conn.broken or conn.closed):
                raise
            fairy.invalidate()
            continue
        finally:
            fairy.close()
        data = row[0] if row else None
        return bytes(data) if data else b""
    raise AssertionError("unreachable")


def _params(
    fixed: dict[str, Any], zxy: tuple[int, int, int], bbox: Sequence[float], plan_id: int | None
) -> dict[str, Any]:
    z, x, y = zxy
    west, south, east, north = bbox
    return {**fixed, "z": z, "x": x, "y": y, "plan_id": plan_id,
            "west": west, "south": south, "east": east, "north": north,
            **_linear_mercator(z, x, y)}  # fmt: skip


_R = 6378137.0
"""Radius of EPSG:3857's sphere (metres)."""
LINEAR_TOLERANCE = 0.125
"""Largest error, in tile units, of the linear stand-in for EPSG:3857 (:func:`_linear_mercator`)."""
_SAMPLES = np.linspace(0.0, 1.0, 257)


def _mercator_y(lat: np.ndarray) -> np.ndarray:
    return _R * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


@functools.lru_cache(maxsize=4096)
def _linear_mercator(z: int, x: int, y: int) -> dict[str, float | None]:
    """Parameters of a linear map from lon/lat to EPSG:3857 that, within tile z/x/y and its
    buffer, is at most :data:`LINEAR_TOLERANCE` tile units from ``ST_Transform(geom, 3857)``.

    Easting is linear in longitude (``R·λ``); northing ``R·ln tan(π/4 + φ/2)`` is replaced by the
    line that deviates least from it over the buffered tile's latitudes (the chord, moved by
    half the largest deviation, found on 257 samples). Features whose box lies within the
    buffered tile (``box_*``: the lon/lat box) are projected by ``ST_Affine`` with it, ~10x
    cheaper than PROJ, before ``ST_AsMVTGeom`` snaps them to whole units; the others by
    ``ST_Transform``. Where the line is not that close (low zooms: the error falls 4x a zoom
    level; at zoom 14 it is 0.06 units at 28° N), ``box_*`` are None and every feature is
    transformed."""
    n = 2.0**z
    pad = BUFFER / EXTENT
    west, south = (x - pad) / n * 360.0 - 180.0, _tile_lat(y + 1 + pad, n)
    east, north = (x + 1 + pad) / n * 360.0 - 180.0, _tile_lat(y - pad, n)
    lat = south + (north - south) * _SAMPLES
    merc = _mercator_y(lat)
    slope = (merc[-1] - merc[0]) / (north - south)
    deviation = merc - (merc[0] + slope * (lat - south))
    low, high = float(deviation.min()), float(deviation.max())
    units_per_metre = EXTENT * n / (2 * math.pi * _R)
    off = (high - low) / 2 * units_per_metre > LINEAR_TOLERANCE or not -85.0 < south < north < 85.0
    box = (None,) * 4 if off else (west, south, east, north)
    return {"lin_x": _R * math.pi / 180.0, "lin_y": float(slope),
            "lin_y0": float(merc[0] - slope * south + (low + high) / 2),
            **dict(zip(_LIN_BOX, box, strict=True))}  # fmt: skip


_LIN_BOX = ("box_west", "box_south", "box_east", "box_north")


def _tile_lat(row: float, n: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * row / n))))


def renders_on_the_event_loop(engine: Any) -> bool:
    """Whether :func:`render_published_tile` serves ``engine`` (PostGIS through psycopg)."""
    return isinstance(engine, Engine) and engine.dialect.driver == "psycopg"


async def render_published_tile(engine: Engine, collection: str, z: int, x: int, y: int) -> bytes:
    """:func:`render_tile` of the published plans, awaited on the event loop (PostGIS only).

    One statement on an autocommit asynchronous connection of the engine's database (a few
    per event loop, made as needed): no worker thread, no transaction, no pre-ping; a
    connection the server closed is replaced and the tile asked again. The statement is
    prepared with ``plan_cache_mode = force_custom_plan``: parsed once per connection, planned
    for each tile's box.
    """
    source = SOURCES[collection]
    check_tile(source, z, x, y)
    sql, fixed = _postgis_query(collection, False, engine.dialect)
    row = await _async_pool(engine).fetchone(sql, _params(fixed, (z, x, y), tile_bounds(z, x, y),
                                                          None))  # fmt: skip
    data = row[0] if row else None
    return bytes(data) if data else b""


class _AsyncPool:
    """Autocommit asynchronous psycopg connections of one event loop, at most ``size`` busy."""

    def __init__(self, conninfo: str, size: int) -> None:
        self._conninfo = conninfo
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots = asyncio.Semaphore(size)

    async def fetchone(self, sql: str, params: dict[str, Any]) -> Any:
        async with self._slots:
            for attempt in (1, 2):  # a kept connection the server closed: once on a new one
                conn = self._idle.pop() if self._idle else await self._connect()
                try:
                    row = await (await conn.execute(sql, params, prepare=True)).fetchone()
                except psycopg.OperationalError:
                    if attempt == 1 and (conn.broken or conn.closed):
                        await conn.close()
                        continue
                    self._keep_or_close(conn)
                    raise
                except BaseException:  # cancelled mid-query (client gone): state unknown
                    conn.pgconn.finish()
                    raise
                self._idle.append(conn)
                return row
        raise AssertionError("unreachable")

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        # Prepared (parsed once), yet planned for each tile's box: a generic plan was 30-50 %
        # slower; parsing anew cost ~10 % of the backend's CPU per tile.
        await conn.execute("SET plan_cache_mode = force_custom_plan")
        return conn

    def _keep_or_close(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if conn.broken or conn.closed:
            conn.pgconn.finish()
        else:
            self._idle.append(conn)

    def close(self) -> None:
        """Close the idle connections (no await: libpq's own close)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.pgconn.finish()


_ASYNC_POOLS: weakref.WeakKeyDictionary[Engine, dict[Any, _AsyncPool]] = weakref.WeakKeyDictionary()


def _async_pool(engine: Engine) -> _AsyncPool:
    loop = asyncio.get_running_loop()
    with _TILE_POOLS_LOCK:
        pools = _ASYNC_POOLS.get(engine)
        if pools is None:
            pools = _ASYNC_POOLS[engine] = {}
            event.listen(engine, "engine_disposed", _dispose_async_pools)
        pool = pools.get(loop)
        if pool is None:
            for old in [k for k in pools if k.is_closed()]:  # a test client's finished loop
                pools.pop(old).close()
            url = engine.url.set(drivername="postgresql")
            pool = pools[loop] = _AsyncPool(url.render_as_string(hide_password=False), size=10)
        return pool


def _dispose_async_pools(engine: Engine) -> None:
    with _TILE_POOLS_LOCK:
        pools = _ASYNC_POOLS.pop(engine, {})
    for pool in pools.values():
        pool.close()


_TILE_POOLS: weakref.WeakKeyDictionary[Engine, QueuePool] = weakref.WeakKeyDictionary()
_TILE_POOLS_LOCK = threading.Lock()


def _tile_pool(engine: Engine) -> QueuePool:
    """The engine's connections for tiles: autocommit, no pre-ping (a tile is one read-only
    statement; a connection found closed is replaced and the tile asked again), closed when
    the engine is disposed."""
    with _TILE_POOLS_LOCK:
        pool = _TILE_POOLS.get(engine)
        if pool is None:
            owner = weakref.ref(engine)  # the pool must not keep its engine alive

            def connect() -> Any:
                bound = owner()
                if bound is None:
                    raise RuntimeError("the engine of these tiles was garbage-collected")
                fairy = bound.raw_connection()  # the engine's connect arguments and events
                conn: Any = fairy.driver_connection
                fairy.detach()
                conn.rollback()
                conn.autocommit = True
                return conn

            pool = QueuePool(
                connect,
                pool_size=5,
                max_overflow=10,
                timeout=30,
                pre_ping=False,
                reset_on_return=None,
            )  # as many as the engine's
            _TILE_POOLS[engine] = pool
            event.listen(engine, "engine_disposed", _dispose_tile_pool)
        return pool


def _dispose_tile_pool(engine: Engine) -> None:
    with _TILE_POOLS_LOCK:
        pool = _TILE_POOLS.pop(engine, None)
    if pool is not None:
        pool.dispose()


@functools.lru_cache(maxsize=64)  # per collection, plan or not, and engine dialect
def _postgis_query(collection: str, with_plan: bool, dialect: Any) -> tuple[str, dict[str, Any]]:
    """The tile SQL of ``collection`` (placeholders z, x, y, west … north, plan_id), compiled
    once, and the values of its other parameters.

    ``ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y)))`` over the
    items statement, filtered by ``ST_Intersects`` with the tile's lon/lat box as the items'
    ``bbox`` is (the GiST index)."""
    source = SOURCES[collection]
    plan = bindparam("plan_id", type_=Integer) if with_plan else None
    box = func.ST_MakeEnvelope(*(bindparam(n, type_=Float) for n in _BOX), SRID)
    in_box = or_(*(func.ST_Intersects(g, box) for g in source.geometries()))
    features = source.statement(plan).where(in_box).subquery("features")
    *props, geom = features.c
    envelope = func.ST_TileEnvelope(*(bindparam(n, type_=Integer) for n in "zxy"))
    within = func.ST_MakeEnvelope(*(bindparam(n, type_=Float) for n in _LIN_BOX), SRID)
    linear = func.ST_Affine(
        geom,
        bindparam("lin_x", type_=Float),
        0.0,
        0.0,
        bindparam("lin_y", type_=Float),
        0.0,
        bindparam("lin_y0", type_=Float),
    )
    projected = case((geom.op("@")(within), linear), else_=func.ST_Transform(geom, 3857))
    mvt_geom = func.ST_AsMVTGeom(projected, envelope, EXTENT, BUFFER, True)
    rows = select(
        *(c.label(name) for c, name in zip(props, source.properties, strict=True)),
        mvt_geom.label("geom"),
    ).subquery("rows")  # fmt: skip
    # Rows whose geometry collapses (NULL) are skipped by ST_AsMVT itself; a WHERE on it would
    # be pushed down by the planner and run ST_AsMVTGeom twice per row.
    query = select(func.ST_AsMVT(rows.table_valued(), collection, EXTENT, "geom"))
    compiled = query.compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


_BOX = ("west", "south", "east", "north")


# --------------------------------------------------------------------------- SpatiaLite


def _encode_in_python(
    session: Session, stmt: Select[Any], source: TileSource, layer: str, zxy: tuple[int, int, int]
) -> bytes:
    rows = session.execute(stmt).all()
    if not rows:
        return b""
    geoms = np.array([geometry_value(row[-1], False) for row in rows], dtype=object)
    shapes = _to_tile_coordinates(geoms, *zxy)
    features = [
        {"geometry": shape, "properties": dict(zip(source.properties, row[:-1], strict=True))}
        for shape, row in zip(shapes, rows, strict=True)
        if shape is not None and not shape.is_empty
    ]
    if not features:
        return b""
    options = {"extents": EXTENT, "y_coord_down": True}
    layers = {"name": layer, "features": features}
    return bytes(mapbox_vector_tile.encode(layers, default_options=options))


def _to_tile_coordinates(geoms: np.ndarray, z: int, x: int, y: int) -> np.ndarray:
    """Lon/lat geometries in tile units (y down), clipped to tile + buffer, snapped to the grid."""
    n = 2.0**z

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = coords[:, 0], np.radians(coords[:, 1])
        col = ((lon + 180.0) / 360.0 * n - x) * EXTENT
        row = ((1.0 - np.arcsinh(np.tan(lat)) / np.pi) / 2.0 * n - y) * EXTENT
        return np.column_stack([col, row])

    present = np.array([g is not None for g in geoms], dtype=bool)
    out = np.full(len(geoms), None, dtype=object)
    if present.any():
        tiled = shapely.transform(geoms[present], project)
        clipped = shapely.clip_by_rect(tiled, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
        out[present] = [_main_parts(g) for g in shapely.set_precision(clipped, 1.0)]
    return out


def _main_parts(geom: BaseGeometry) -> BaseGeometry:
    """``geom``, or of a mixed collection only its parts of the highest dimension (MVT has one
    geometry type per feature: a polygon clipped along an edge keeps its area, not the edge)."""
    if geom.geom_type != "GeometryCollection" or geom.is_empty:
        return geom
    parts = shapely.get_parts(geom)
    dims = shapely.get_dimensions(parts)
    kept = parts[dims == dims.max()]
    return shapely.union_all(kept) if len(kept) > 1 else kept[0]
