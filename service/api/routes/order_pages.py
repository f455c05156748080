"""Work-order pages: ``/staff`` (grid staff on a phone) and the board page (``/board?f=html``);
the district map's layer of open orders per grid (``/maps/data/orders/grids.geojson``).

Both pages carry no order data: the browser fetches it (``/orders`` with the staff member's
token, ``/board`` for the public), so the HTML is the same for everyone and holds nothing
personal. Scripts are served by the app (``static/gridmap/staff.js``, ``board.js``, Leaflet from
``/static/vendor``); the page's settings travel in a JSON ``<script>`` element.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import numpy as np
import shapely
import shapely.geometry
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from gridmap.coords import shift_geometries
from gridmap.orders import OPEN_STATES, STATE_LABELS, TimeLimits
from service import assets
from service.api.deps import SessionDep
from service.api.openapi_docs import GEOJSON, media_responses
from service.api.responses import GeoJSONResponse
from service.api.routes.orders import order_limits
from service.maps import BASE_STYLES
from service.storage import order_stats
from service.storage.lookup import collection_extent

__all__ = ["router", "board_page"]

router = APIRouter(tags=["Work orders"])

_STAFF_TEXTS = {
    "wrong": "用户名或密码错误。",
    "throttled": "登录失败次数过多，请稍后再试。",
    "failed": "操作失败，请稍后再试。",
    "expired": "登录已过期，请重新登录。",
    "loading": "正在加载…",
    "count": "共 {n} 件",
    "none": "暂无待办事项。",
    "noGrid": "未划入网格",
    "due": "时限：{time}",
    "conflict": "此事项已被他人处理：",
    "needNote": "办结前请填写办理情况。",
    "needNoteOrPhoto": "请填写备注或选择照片。",
}
_BOARD_TEXTS = {
    "failed": "晒单数据加载失败",
    "count": "共 {n} 件已晒单事项",
    "none": "暂无晒单事项。",
    "unrated": "未评价",
    "photo": "照片",
}


def _centre(session: Any) -> list[float]:
    minx, miny, maxx, maxy = collection_extent(session, "communities")
    return [(miny + maxy) / 2, (minx + maxx) / 2]


def _common(session: Any, limits: TimeLimits) -> dict[str, Any]:
    return {
        "center": _centre(session),
        "categories": {c.code: c.zh for c in limits.categories},
        "states": {s: zh for s, (zh, _en) in STATE_LABELS.items()},
    }


def _render(request: Request, template: str, config: dict[str, Any]) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    context = {"static": f"{root}/static", "root": root, "config": config,
               "missing": assets.missing_message("zh")}  # fmt: skip
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context)  # type: ignore[no-any-return]


@router.get("/staff", response_class=HTMLResponse, summary="Grid staff page (phone): my orders")
def staff_page(request: Request, session: SessionDep) -> HTMLResponse:
    """My grid's open orders on a map and a list: claim (接单), note, photo, finish."""
    root = request.scope.get("root_path", "")
    config = {
        **_common(session, order_limits(request)),
        "tokenUrl": f"{root}/auth/token",
        "meUrl": f"{root}/auth/me",
        "ordersUrl": f"{root}/orders",
        "ordersQuery": [["limit", "500"], *(["state", s] for s in OPEN_STATES)],
        "transitionUrl": f"{root}/orders/{{id}}/transitions",
        "noteUrl": f"{root}/orders/{{id}}/notes",
        "photoUrl": f"{root}/orders/{{id}}/photos",
        "gridUrl": f"{root}/maps/data/grids/{{code}}.geojson",
        "baseUrl": f"{root}/maps/data/communities/{{code}}/base.geojson",
        "baseStyles": BASE_STYLES,
        "openStates": list(OPEN_STATES),
        "texts": _STAFF_TEXTS,
    }
    return _render(request, "staff.html", config)


def board_page(request: Request, session: Any) -> HTMLResponse:
    """The public board page (晒单): its orders come from ``/board`` (GeoJSON)."""
    root = request.scope.get("root_path", "")
    query = urlencode([(k, v) for k, v in request.query_params.multi_items()
                       if k in ("community", "category")])  # fmt: skip
    config = {
        **_common(session, order_limits(request)),
        "dataUrl": f"{root}/board?f=json" + (f"&{query}" if query else ""),
        "root": root,
        "texts": _BOARD_TEXTS,
    }
    return _render(request, "board.html", config)


_GRID_ORDER_FIELDS = ("grid_code", "community_code", "grid_name", "open", "overdue")


@router.get("/maps/data/orders/grids.geojson", response_class=GeoJSONResponse, tags=["Maps"],
            responses=media_responses(GEOJSON, description="GeoJSON FeatureCollection"),
            summary="Open work orders per published grid, for the district map")  # fmt: skip
def grid_orders_data(
    session: SessionDep,
    offset: str = Query("wgs84", pattern="^(wgs84|gcj02|bd09)$"),
) -> GeoJSONResponse:
    """Published grids with their open and overdue order counts (aggregates only)."""
    features = order_stats.grid_aggregates(session)
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object)
    geoms = shift_geometries(geoms, offset)  # type: ignore[arg-type]
    geoms = shapely.transform(geoms, lambda c: np.round(c, 6))
    out = [
        {"type": "Feature", "id": f["id"], "geometry": shapely.geometry.mapping(g),
         "properties": {k: f["properties"][k] for k in _GRID_ORDER_FIELDS}}
        for f, g in zip(features, geoms, strict=True)
    ]  # fmt: skip
    return GeoJSONResponse({"type": "FeatureCollection", "features": out})
