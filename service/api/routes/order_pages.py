"""Work-order pages: ``/staff`` (grid staff on a phone) and the board page (``/board?f=html``);
the district map's layer of open orders per grid (``/maps/data/orders/grids.geojson``).

Both pages carry no order data: the browser fetches it (``/orders`` with the staff member's
token, ``/board`` for the public), so the HTML is the same for everyone and holds nothing
personal. Scripts are served by the app (``static/gridmap/staff.js``, ``board.js``, Leaflet from
``/static/vendor``); the page's settings travel in a JSON ``<script>`` element.
"""

from __future__ import annotations

from typing import Any, Literal
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
    "zh": {
        "wrong": "用户名或密码错误。",
        "throttled": "登录失败次数过多，请稍后再试。",
        "failed": "操作失败，请稍后再试。",
        "expired": "登录已过期，请重新登录。",
        "loading": "正在加载…",
        "count": "共 {n} 件",
        "none": "暂无待办事项。",
        "noGrid": "未划入网格",
        "grid": "第{n}网格",
        "day": "{m}月{d}日",
        "due": "时限：{time}",
        "conflict": "此事项已被他人处理：",
        "needNote": "办结前请填写办理情况。",
        "needNoteOrPhoto": "请填写备注或选择照片。",
    },
    "en": {
        "wrong": "Wrong user name or password.",
        "throttled": "Too many failed sign-ins; try again later.",
        "failed": "That did not work; try again later.",
        "expired": "Your sign-in has expired; please sign in again.",
        "loading": "Loading…",
        "count": "{n} orders",
        "none": "Nothing to do.",
        "noGrid": "no grid",
        "grid": "Grid {seq}",
        "day": "{m}/{d}",
        "due": "Due {time}",
        "conflict": "Someone else handled this order first:",
        "needNote": "Say what was done before finishing.",
        "needNoteOrPhoto": "Write a note or choose a photo.",
    },
}
_BOARD_TEXTS = {
    "zh": {"failed": "晒单数据加载失败", "count": "共 {n} 件已晒单事项", "none": "暂无晒单事项。",
           "unrated": "未评价", "photo": "照片", "grid": "第{n}网格"},
    "en": {"failed": "Could not load the board", "count": "{n} published orders",
           "none": "No published orders yet.", "unrated": "not rated", "photo": "photo",
           "grid": "Grid {seq}"},
}  # fmt: skip
_PAGE_TEXTS = {
    "zh": {"staff_title": "网格事项 · 接单办理", "staff": "网格事项", "sign_out": "退出登录",
           "sign_in": "工作人员登录", "username": "用户名", "password": "密码", "submit": "登录",
           "mine": "我的待办", "all_open": "网格内全部未办结", "locate": "地图定位",
           "claim": "接单", "start": "开始办理", "work": "备注/办结", "note": "备注",
           "photo": "照片", "add_note": "添加备注", "done": "办结", "overdue": "已超时",
           "board_title": "晒单 · 群众点单、社区派单、党员接单、组织晒单", "board": "晒单",
           "motto": "群众点单 · 社区派单 · 党员接单 · 组织晒单", "map": "地图",
           "board_intro": "已办结并公开的事项（不含姓名、电话和住址）。", "category": "类别",
           "grid": "网格", "submitted": "提交", "closed": "办结", "outcome": "办理结果",
           "rating": "评价", "other_lang": "English", "other": "en"},
    "en": {"staff_title": "Grid work orders", "staff": "Work orders", "sign_out": "Sign out",
           "sign_in": "Staff sign-in", "username": "User name", "password": "Password",
           "submit": "Sign in", "mine": "Mine to do", "all_open": "All open in my grids",
           "locate": "On the map", "claim": "Claim", "start": "Start", "work": "Note / finish",
           "note": "Note", "photo": "Photo", "add_note": "Add note", "done": "Finish",
           "overdue": "overdue", "board_title": "Public board of work orders",
           "board": "Public board", "motto": "residents order · the community dispatches · "
           "party members take the order · the result is published", "map": "Map",
           "board_intro": "Orders finished and published (no names, phones or addresses).",
           "category": "Category", "grid": "Grid", "submitted": "Submitted",
           "closed": "Closed", "outcome": "Outcome", "rating": "Rating", "other_lang": "中文",
           "other": "zh"},
}  # fmt: skip


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def _centre(session: Any) -> list[float]:
    minx, miny, maxx, maxy = collection_extent(session, "communities")
    return [(miny + maxy) / 2, (minx + maxx) / 2]


def _common(session: Any, limits: TimeLimits, lang: str) -> dict[str, Any]:
    en = lang == "en"
    return {
        "center": _centre(session),
        "categories": {c.code: c.en if en else c.zh for c in limits.categories},
        "states": {s: en_label if en else zh for s, (zh, en_label) in STATE_LABELS.items()},
    }


def _render(request: Request, template: str, config: dict[str, Any], lang: str) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    context = {"static": f"{root}/static", "root": root, "config": config, "lang": lang,
               "t": _PAGE_TEXTS[lang], "missing": assets.missing_message(lang)}  # fmt: skip
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context)


@router.get("/staff", response_class=HTMLResponse, summary="Grid staff page (phone): my orders")
def staff_page(
    request: Request,
    session: SessionDep,
    lang: Literal["zh", "en"] = Query("zh", description="Labels: zh (default) or en"),
) -> HTMLResponse:
    """My grid's open orders on a map and a list: claim (接单), note, photo, finish."""
    root = request.scope.get("root_path", "")
    config = {
        **_common(session, order_limits(request), lang),
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
        "texts": _STAFF_TEXTS[lang],
    }
    return _render(request, "staff.html", config, lang)


def board_page(request: Request, session: Any) -> HTMLResponse:
    """The public board page (晒单): its orders come from ``/board`` (GeoJSON); ``?lang=en``."""
    root, lang = request.scope.get("root_path", ""), _lang(request)
    query = urlencode([(k, v) for k, v in request.query_params.multi_items()
                       if k in ("community", "category")])  # fmt: skip
    config = {
        **_common(session, order_limits(request), lang),
        "dataUrl": f"{root}/board?f=json" + (f"&{query}" if query else ""),
        "root": root,
        "texts": _BOARD_TEXTS[lang],
    }
    return _render(request, "board.html", config, lang)


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
