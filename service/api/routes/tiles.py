"""OGC API – Tiles: vector tiles (MVT) of communities, grids and buildings, and their metadata.

- ``/tileMatrixSets``, ``/tileMatrixSets/WebMercatorQuad``: the tiling scheme (OGC 2D TMS);
- ``/collections/{id}/tiles``: the collection's tilesets (one, WebMercatorQuad);
- ``/collections/{id}/tiles/WebMercatorQuad``: tileset metadata (zoom limits, layer, links);
- ``/collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}``: one tile, ``?plan_id=`` as for items
  (a draft only for its staff: 404 otherwise). An empty tile answers 204 No Content, which the
  standard allows and map clients read as an empty tile; a tile outside the tile matrix set or
  the collection's zoom levels answers 400 naming the problem.

Tiles are rendered by :func:`service.storage.tiles.render_tile` (in the database on PostGIS;
a published tile asked without a token is awaited on the event loop,
:func:`~service.storage.tiles.render_published_tile`, and when asked without a query string
answered before routing, :func:`_published_tile`) and, for published plans, once per store
revision (:mod:`service.api.cache`: ``ETag``, 304,
gzip/brotli; a draft's tile is rendered per request and never stored). :func:`tile_response` is
the one place a tile becomes an HTTP answer.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import OAuth2PasswordBearer
from starlette.types import Receive, Scope, Send

from service.api.cache import answer_before_routing, cached_response, published_response
from service.api.deps import SessionDep
from service.api.openapi_docs import JSON, media_responses
from service.api.plans import MAX_PLAN_ID, visible_plan_id
from service.api.security import get_principal
from service.storage import tiles
from service.storage.lookup import collection_extent

__all__ = ["router", "tile_response", "TILESETS_REL", "TILING_SCHEME_REL"]

router = APIRouter(tags=["OGC API - Tiles"])

TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILING_SCHEME_REL = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
_TMS_ID = tiles.TILE_MATRIX_SET
_TILE_TEMPLATE = "{tileMatrix}/{tileCol}/{tileRow}"
_MAX_LAT = 85.05112878
"""Latitude of WebMercatorQuad's edge (an empty collection's extent is the whole world)."""
_JSON_OK = media_responses(JSON)
_token = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
"""The bearer token, as :mod:`service.api.security` reads it (a tile route has no sync
dependency: a published tile on PostGIS is answered on the event loop, no worker thread)."""
_PLAN_ID = Query(
    None,
    ge=1,
    le=MAX_PLAN_ID,
    description="Plan id; default: the published plan. Unpublished plans only for staff of "
    "the plan's community and district admins (404 otherwise).",
)
_TILE_OK: dict[int | str, dict[str, Any]] = {
    **media_responses(tiles.MEDIA_TYPE, description="The tile (Mapbox vector tile)"),
    204: {"description": "Empty tile: no feature of the collection in it"},
}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _source(collection_id: str) -> tiles.TileSource:
    if collection_id not in tiles.SOURCES:
        available = ", ".join(tiles.SOURCES)
        raise HTTPException(
            404, detail=f"Collection {collection_id!r} has no tiles; available: {available}."
        )
    return tiles.SOURCES[collection_id]


def _tms(tile_matrix_set_id: str) -> None:
    if tile_matrix_set_id != _TMS_ID:
        raise HTTPException(
            404, detail=f"Tile matrix set {tile_matrix_set_id!r} not found; available: {_TMS_ID}."
        )


def _scheme_link(request: Request) -> dict[str, str]:
    return {"href": f"{_base(request)}/tileMatrixSets/{_TMS_ID}", "rel": TILING_SCHEME_REL,
            "type": JSON, "title": f"{_TMS_ID} tile matrix set"}  # fmt: skip


@router.get("/tileMatrixSets", summary="Tile matrix sets", responses=_JSON_OK)
def tile_matrix_sets(request: Request) -> JSONResponse:
    """The tile matrix sets tiles are served in (WebMercatorQuad only)."""
    link = {**_scheme_link(request), "rel": "self"}
    entry = {"id": _TMS_ID, "title": tiles.TMS.title, "uri": tiles.TMS.uri, "links": [link]}
    return JSONResponse({"tileMatrixSets": [entry]})


@router.get("/tileMatrixSets/{tile_matrix_set_id}", summary="A tile matrix set", responses=_JSON_OK)
def tile_matrix_set(tile_matrix_set_id: str) -> JSONResponse:
    """The OGC 2D Tile Matrix Set definition (JSON encoding)."""
    _tms(tile_matrix_set_id)
    return JSONResponse(tiles.TMS.model_dump(exclude_none=True, mode="json"))


def _tileset_path(request: Request, collection_id: str) -> str:
    return f"{_base(request)}/collections/{collection_id}/tiles/{_TMS_ID}"


def _tileset_summary(request: Request, collection_id: str) -> dict[str, Any]:
    return {
        "title": f"{collection_id} ({_TMS_ID})",
        "dataType": "vector",
        "crs": tiles.TMS.crs.root,
        "tileMatrixSetURI": tiles.TMS.uri,
        "links": [
            {"href": _tileset_path(request, collection_id), "rel": "self", "type": JSON},
            _scheme_link(request),
        ],
    }


@router.get("/collections/{collection_id}/tiles", summary="Tilesets of a collection",
            responses=_JSON_OK)  # fmt: skip
def tilesets(request: Request, collection_id: str) -> JSONResponse:
    """The vector tilesets of a collection (one: WebMercatorQuad)."""
    _source(collection_id)
    self_link = {"href": f"{_base(request)}/collections/{collection_id}/tiles", "rel": "self",
                 "type": JSON}  # fmt: skip
    return JSONResponse(
        {"links": [self_link], "tilesets": [_tileset_summary(request, collection_id)]}
    )


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set_id}",
            summary="Tileset metadata", responses=_JSON_OK)  # fmt: skip
def tileset(
    request: Request, session: SessionDep, collection_id: str, tile_matrix_set_id: str
) -> JSONResponse:
    """Tileset metadata: zoom levels and their tile limits, the layer and the tile URL template."""
    source = _source(collection_id)
    _tms(tile_matrix_set_id)
    bbox = collection_extent(session, collection_id)
    doc = _tileset_summary(request, collection_id)
    doc["links"].append(
        {"href": f"{_tileset_path(request, collection_id)}/{_TILE_TEMPLATE}", "rel": "item",
         "type": tiles.MEDIA_TYPE, "templated": True, "title": "A tile (plan_id: as for items)"}
    )  # fmt: skip
    doc["tileMatrixSetLimits"] = _limits(source, bbox)
    doc["layers"] = [
        {"id": collection_id, "dataType": "vector", "geometryDimension": 2,
         "minTileMatrix": str(source.min_zoom), "maxTileMatrix": str(source.max_zoom),
         "propertiesSchema": {"type": "object",
                              "properties": {name: {} for name in source.properties}}}
    ]  # fmt: skip
    doc["boundingBox"] = {"lowerLeft": list(bbox[:2]), "upperRight": list(bbox[2:]),
                          "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}  # fmt: skip
    return JSONResponse(doc)


def _limits(source: tiles.TileSource, bbox: Any) -> list[dict[str, Any]]:
    """Per zoom, the rows and columns of the tiles covering the collection's extent."""
    west, south, east, north = bbox
    south, north = max(south, -_MAX_LAT), min(north, _MAX_LAT)
    out = []
    for z in range(source.min_zoom, source.max_zoom + 1):
        ul = tiles.TMS.tile(west, north, z)
        lr = tiles.TMS.tile(east, south, z)
        out.append({"tileMatrix": str(z), "minTileRow": ul.y, "maxTileRow": lr.y,
                    "minTileCol": ul.x, "maxTileCol": lr.x})  # fmt: skip
    return out


@router.get(
    "/collections/{collection_id}/tiles/{tile_matrix_set_id}/{z}/{x}/{y}",
    summary="A vector tile",
    response_class=Response,
    responses=_TILE_OK,
)
async def tile(
    request: Request,
    collection_id: str,
    tile_matrix_set_id: str,
    z: int,
    x: int,
    y: int,
    token: Annotated[str | None, Depends(_token)],
    plan_id: int | None = _PLAN_ID,
) -> Response:
    """Tile z/x/y (zoom, column, row) of a collection as a Mapbox vector tile; 204 if empty."""
    _source(collection_id)
    _tms(tile_matrix_set_id)
    engine = request.app.state.engine
    if plan_id is None and token is None and tiles.renders_on_the_event_loop(engine):
        _check(collection_id, z, x, y)
        answer = await published_response(
            request,
            render=lambda: tiles.render_published_tile(engine, collection_id, z, x, y),
            media_type=tiles.MEDIA_TYPE,
            empty_status=204,
        )
        if answer is not None:
            return answer
    return await run_in_threadpool(_tile_in_session, request, token, collection_id, z, x, y,
                                   plan_id)  # fmt: skip


_PUBLISHED_TILE = re.compile(
    rf"/collections/([a-z]+)/tiles/{_TMS_ID}/([0-9]{{1,2}})/([0-9]{{1,8}})/([0-9]{{1,8}})"
)


@answer_before_routing
async def _published_tile(scope: Scope, receive: Receive, send: Send) -> bool:
    """:func:`tile`'s answer to a published tile asked without a query string or token (a
    map's request), given before routing (:func:`service.api.cache.answer_before_routing`):
    the same response, without FastAPI's route matching and parameter validation. False
    (nothing sent) for anything else, and when rendering fails: then the route answers it
    (its errors, its status codes)."""
    found = _PUBLISHED_TILE.fullmatch(scope["path"])
    if found is None or scope["query_string"] or scope.get("root_path"):
        return False
    collection_id, z, x, y = found[1], int(found[2]), int(found[3]), int(found[4])
    source = tiles.SOURCES.get(collection_id)
    engine = scope["app"].state.engine
    if source is None or not tiles.renders_on_the_event_loop(engine):
        return False
    try:
        tiles.check_tile(source, z, x, y)
    except tiles.TileError:
        return False
    try:
        answer = await published_response(
            Request(scope, receive),
            render=lambda: tiles.render_published_tile(engine, collection_id, z, x, y),
            media_type=tiles.MEDIA_TYPE,
            empty_status=204,
        )
    except Exception:  # nothing sent yet: the route tries again and answers the error
        return False
    if answer is None:
        return False
    await answer(scope, receive, send)
    return True


def _tile_in_session(
    request: Request, token: str | None, collection_id: str, z: int, x: int, y: int,
    plan_id: int | None,
) -> Response:  # fmt: skip
    """The tile in a worker thread with a session: a plan's, a signed-in request's, SQLite's."""
    session = request.app.state.sessionmaker()
    try:
        principal = get_principal(session, request.app.state.settings, token)
        visible_plan_id(session, principal, plan_id)  # a hidden draft: 404
        return tile_response(request, session, collection_id, z, x, y, plan_id)
    finally:
        session.close()


def _check(collection_id: str, z: int, x: int, y: int) -> None:
    try:
        tiles.check_tile(tiles.SOURCES[collection_id], z, x, y)
    except tiles.TileError as exc:
        raise HTTPException(400, detail=str(exc)) from exc


def tile_response(
    request: Request,
    session: Any,
    collection_id: str,
    z: int,
    x: int,
    y: int,
    plan_id: int | None,
) -> Response:
    """The HTTP answer of a tile: the MVT (200; published plans rendered once per revision,
    with ``ETag`` and gzip/brotli), 204 when empty, 400 for a tile that does not exist."""
    _check(collection_id, z, x, y)
    return cached_response(
        request,
        session,
        render=lambda: tiles.render_tile(session, collection_id, z, x, y, plan_id=plan_id),
        media_type=tiles.MEDIA_TYPE,
        plan_id=plan_id,
        empty_status=204,  # an empty tile: no body in any encoding
    )
