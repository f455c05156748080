"""OGC API – Features Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0): communities, grids, buildings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from service.api.cache import cached_response, current_revision
from service.api.deps import SessionDep, wants_html
from service.api.openapi_docs import GEOJSON, HTML, media_responses
from service.api.plans import VisiblePlan
from service.api.responses import (
    GEOJSON_MEDIA_TYPE,
    GeoJSONResponse,
    feature_collection_text,
    feature_text,
)
from service.api.schemas import (
    CONFORMANCE_CLASSES,
    Collection,
    Collections,
    Conformance,
    Extent,
    LandingPage,
    Link,
    SpatialExtent,
)
from service.storage.features import (
    get_building,
    get_community,
    get_grid,
    list_buildings,
    list_communities,
    list_grids,
)
from service.storage.lookup import collection_extent
from service.storage.paging import Feature, FeaturePage, validate_bbox

__all__ = ["router", "COLLECTIONS", "DEFAULT_LIMIT", "MAX_LIMIT"]

router = APIRouter(tags=["OGC API - Features"])

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
_JSON = "application/json"
_HTML = HTML
_OR_HTML = media_responses(HTML, description="JSON, or HTML with f=html or Accept: text/html")
_FEATURES = media_responses(
    GEOJSON, HTML, description="GeoJSON, or HTML with f=html or Accept: text/html"
)
_MAX_ID = 2**31 - 1
"""Largest plan id and offset accepted (the databases' 32-bit integer)."""
_F = Query(None, description="Output format: json (GeoJSON) or html.", pattern="^(json|html)$")
_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"


@dataclass(frozen=True)
class _Collection:
    title: str
    description: str
    list_items: Callable[..., FeaturePage]
    get_item: Callable[..., Feature]
    filters: tuple[str, ...]


COLLECTIONS: dict[str, _Collection] = {
    "communities": _Collection(
        "社区 Communities",
        "Community boundaries with household, building and grid counts (published plans).",
        list_communities,
        get_community,
        (),
    ),
    "grids": _Collection(
        "网格 Grids",
        "Grids of each community's published plan (or of plan_id), with household counts.",
        list_grids,
        get_grid,
        ("community_code", "plan_id"),
    ),
    "buildings": _Collection(
        "楼栋 Buildings",
        "Buildings (footprint or point) with floors, units, households and their grid.",
        list_buildings,
        get_building,
        ("community_code", "grid_code", "plan_id"),
    ),
}


def _collection(collection_id: str) -> _Collection:
    if collection_id not in COLLECTIONS:
        raise HTTPException(
            404,
            detail=f"Collection {collection_id!r} not found; available: {', '.join(COLLECTIONS)}.",
        )
    return COLLECTIONS[collection_id]


def _url(request: Request, path: str, **params: Any) -> str:
    base = str(request.base_url).rstrip("/")
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{base}{path}" + (f"?{query}" if query else "")


def _html(request: Request, template: str, **context: Any) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context)


def _collection_doc(request: Request, cid: str, session: Any) -> Collection:
    spec = COLLECTIONS[cid]
    path = f"/collections/{cid}"
    return Collection(
        id=cid,
        title=spec.title,
        description=spec.description,
        links=[
            Link(href=_url(request, path), rel="self", type=_JSON),
            Link(href=_url(request, path, f="html"), rel="alternate", type=_HTML),
            Link(href=_url(request, f"{path}/items"), rel="items", type=GEOJSON_MEDIA_TYPE),
            Link(href=_url(request, f"{path}/items", f="html"), rel="items", type=_HTML),
            Link(href=_url(request, f"{path}/tiles"), rel=_TILESETS, type=_JSON, title="MVT"),
        ],
        extent=Extent(spatial=SpatialExtent(bbox=[list(collection_extent(session, cid))])),
    )


@router.get("/", response_model=LandingPage, summary="Landing page", responses=_OR_HTML)
def landing(request: Request, f: str | None = _F) -> Response:
    """Landing page of the OGC API – Features service."""
    doc = LandingPage(
        title="gridmap 社区网格 OGC API – Features",
        description="Communities, grids and buildings of the community grid system.",
        links=[
            Link(href=_url(request, "/"), rel="self", type=_JSON, title="This document"),
            Link(href=_url(request, "/", f="html"), rel="alternate", type=_HTML),
            Link(
                href=_url(request, "/openapi.json"),
                rel="service-desc",
                type="application/vnd.oai.openapi+json;version=3.0",
                title="OpenAPI 3.0 definition",
            ),
            Link(href=_url(request, "/docs"), rel="service-doc", type=_HTML, title="API docs"),
            Link(href=_url(request, "/conformance"), rel="conformance", type=_JSON),
            Link(href=_url(request, "/collections"), rel="data", type=_JSON),
            Link(href=_url(request, "/tileMatrixSets"), rel=_TILING_SCHEMES, type=_JSON),
            Link(href=_url(request, "/maps"), rel="related", type=_HTML, title="District map"),
        ],
    )
    if wants_html(request, f):
        return _html(request, "landing.html", doc=doc)
    return JSONResponse(doc.model_dump(exclude_none=True))


@router.get(
    "/conformance", response_model=Conformance, summary="Conformance classes", responses=_OR_HTML
)
def conformance(request: Request, f: str | None = _F) -> Response:
    """The OGC conformance classes this service implements."""
    doc = Conformance(conformsTo=CONFORMANCE_CLASSES)
    if wants_html(request, f):
        return _html(request, "conformance.html", doc=doc)
    return JSONResponse(doc.model_dump())


@router.get(
    "/collections", response_model=Collections, summary="Feature collections", responses=_OR_HTML
)
def collections(request: Request, session: SessionDep, f: str | None = _F) -> Response:
    """The feature collections: communities, grids and buildings."""
    doc = Collections(
        links=[
            Link(href=_url(request, "/collections"), rel="self", type=_JSON),
            Link(href=_url(request, "/collections", f="html"), rel="alternate", type=_HTML),
        ],
        collections=[_collection_doc(request, cid, session) for cid in COLLECTIONS],
    )
    if wants_html(request, f):
        return _html(request, "collections.html", doc=doc)
    return JSONResponse(doc.model_dump(exclude_none=True))


@router.get(
    "/collections/{collection_id}",
    response_model=Collection,
    summary="A collection",
    responses=_OR_HTML,
)
def collection(
    request: Request, session: SessionDep, collection_id: str, f: str | None = _F
) -> Response:
    """One feature collection's description and extent."""
    _collection(collection_id)
    doc = _collection_doc(request, collection_id, session)
    if wants_html(request, f):
        return _html(request, "collection.html", doc=doc)
    return JSONResponse(doc.model_dump(exclude_none=True))


def _parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        return validate_bbox([float(v) for v in bbox.split(",")])
    except ValueError as exc:
        raise HTTPException(400, detail=f"Invalid bbox {bbox!r}: {exc}") from exc


def _page_links(request: Request, page: FeaturePage, limit: int, offset: int) -> list[Link]:
    url = request.url.remove_query_params("f")
    links = [
        Link(href=str(url), rel="self", type=GEOJSON_MEDIA_TYPE),
        Link(href=str(url.include_query_params(f="html")), rel="alternate", type=_HTML),
    ]
    if offset + len(page.features) < page.number_matched:
        nxt = url.include_query_params(offset=offset + limit, limit=limit)
        links.append(Link(href=str(nxt), rel="next", type=GEOJSON_MEDIA_TYPE))
    if offset > 0:
        prev = url.include_query_params(offset=max(offset - limit, 0), limit=limit)
        links.append(Link(href=str(prev), rel="prev", type=GEOJSON_MEDIA_TYPE))
    return links


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    response_class=GeoJSONResponse,
    responses=_FEATURES,
)
def items(
    request: Request,
    session: SessionDep,
    collection_id: str,
    plan_id: VisiblePlan,
    f: str | None = _F,
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"Page size (at most {MAX_LIMIT})."),
    offset: int = Query(0, ge=0, le=_MAX_ID),
    bbox: str | None = Query(None, description="minx,miny,maxx,maxy in lon/lat (CRS84)."),
    community_code: str | None = Query(None, description="grids, buildings: of this community"),
    grid_code: str | None = Query(None, description="buildings: of this grid"),
) -> Response:
    """Features of a collection, paged (``limit``/``offset``), filtered by ``bbox``."""
    spec = _collection(collection_id)
    limit = min(limit, MAX_LIMIT)
    given = {"community_code": community_code, "grid_code": grid_code, "plan_id": plan_id}
    filters = {k: v for k, v in given.items() if k in spec.filters and v is not None}
    box = _parse_bbox(bbox)

    def list_page() -> FeaturePage:
        return spec.list_items(session, bbox=box, limit=limit, offset=offset, **filters)

    if wants_html(request, f):
        page = list_page()
        links = _page_links(request, page, limit, offset)
        return _html(request, "items.html", cid=collection_id, spec=spec, page=page, links=links)

    def render() -> str:
        page = list_page()
        members = {
            "links": [link.model_dump(exclude_none=True)
                      for link in _page_links(request, page, limit, offset)],
            "numberMatched": page.number_matched,
            "numberReturned": len(page.features),
            "timeStamp": _time_stamp(request, session),
        }  # fmt: skip
        return feature_collection_text(page.features, members)

    return cached_response(request, session, render=render, media_type=GEOJSON_MEDIA_TYPE,
                           plan_id=plan_id, vary=("Accept",))  # fmt: skip


def _time_stamp(request: Request, session: Any) -> str:
    """When the data last changed (the store's revision), else now: a page rendered once is
    the same page whenever it is served, and the same from every worker process."""
    changed = current_revision(request, session).changed_at or dt.datetime.now(dt.UTC)
    return changed.isoformat(timespec="seconds")


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    response_class=GeoJSONResponse,
    responses=_FEATURES,
)
def item(
    request: Request,
    session: SessionDep,
    collection_id: str,
    feature_id: str,
    plan_id: VisiblePlan,
    f: str | None = _F,
) -> Response:
    """One feature by id (community code, grid code or building id)."""
    spec = _collection(collection_id)
    kwargs = {"plan_id": plan_id} if collection_id == "grids" else {}
    feature = spec.get_item(session, feature_id, **kwargs)
    path = f"/collections/{collection_id}"
    links = [
        Link(href=str(request.url.remove_query_params("f")), rel="self", type=GEOJSON_MEDIA_TYPE),
        Link(href=str(request.url.include_query_params(f="html")), rel="alternate", type=_HTML),
        Link(href=_url(request, path), rel="collection", type=_JSON),
    ]
    if wants_html(request, f):
        return _html(request, "item.html", cid=collection_id, feature=feature, links=links)
    extra = {"links": [link.model_dump(exclude_none=True) for link in links]}
    return GeoJSONResponse(feature_text(feature, extra))
