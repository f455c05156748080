"""The public board (晒单): published work orders, de-identified, as GeoJSON.

Each order is placed at a representative point of its grid, never at the reported point, and
carries only its category, community, grid, dates, the published outcome, the rating and the
photos the community marked public: no names, phones, descriptions or notes.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from service.api.deps import SessionDep, wants_html
from service.api.openapi_docs import GEOJSON, HTML, media_responses
from service.api.responses import GeoJSONResponse
from service.api.routes.order_pages import board_page
from service.storage import order_photos, order_stats

__all__ = ["router"]

router = APIRouter(tags=["Work orders"])
MAX_ID = 2**31 - 1


@router.get("/board", response_class=GeoJSONResponse, responses=media_responses(GEOJSON, HTML),
            summary="Public board of published orders")  # fmt: skip
def board(
    request: Request,
    session: SessionDep,
    community: str | None = Query(None, pattern=r"^\d{12}$"),
    category: str | None = Query(None, max_length=32),
    limit: int = Query(500, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
    f: Literal["json", "html"] | None = Query(None, description="html: the board page (晒单)"),
) -> Response:
    """Published orders as a GeoJSON FeatureCollection, newest first, de-identified."""
    if wants_html(request, f):
        return board_page(request, session)
    features, total = order_stats.board_features(session, community_code=community,
                                                 category=category, limit=limit,
                                                 offset=offset)  # fmt: skip
    return GeoJSONResponse({"type": "FeatureCollection", "numberMatched": total,
                            "numberReturned": len(features), "features": features})  # fmt: skip


@router.get("/board/photos/{photo_id}", response_class=Response,
            responses={404: {"description": "No such public photo"},
                       **media_responses("image/jpeg", "image/png", "image/webp")},
            summary="A photo marked public of a published order")  # fmt: skip
def board_photo(session: SessionDep, photo_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    """The bytes of a public photo."""
    info, data = order_photos.public_photo(session, photo_id=photo_id)
    return Response(data, media_type=info.content_type,
                    headers={"Cache-Control": "public, max-age=3600"})  # fmt: skip
