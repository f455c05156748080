"""Map pages (district → community → grid) and the simplified GeoJSON they fetch."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from gridmap.coords import shift_geometries
from service import maps
from service.api.cache import cached_response
from service.api.deps import SessionDep, SettingsDep, wants_html
from service.api.openapi_docs import GEOJSON, media_responses, named_route
from service.api.plans import MAX_PLAN_ID, VisiblePlan
from service.api.responses import GEOJSON_MEDIA_TYPE, GeoJSONResponse
from service.api.security import PrincipalDep
from service.storage import tiles
from service.storage.auth import Principal
from service.storage.errors import NotFoundError
from service.storage.features import (
    get_community,
    get_grid,
    list_buildings,
    list_communities,
    list_features,
    list_grids,
    list_layer,
    list_streets,
    require_plan_visible,
    resolve_plan,
)
from service.storage.lookup import collection_extent, grid_staff
from service.storage.paging import Feature, FeaturePage

__all__ = ["router", "DISPLAY_PRECISION"]

router = APIRouter(prefix="/maps", tags=["Maps"])

DISPLAY_PRECISION = 6
"""Decimal places of map-data coordinates (about 0.1 m)."""
# Default simplification tolerances in degrees (1e-5 deg is about 1 m).
_TOLERANCE = {"communities": 5e-5, "grids": 1e-5, "buildings": 0.0, "streets": 1e-5,
              "compounds": 1e-5, "base": 5e-6}  # fmt: skip
Lang = Literal["zh", "en"]
Basemap = Literal["osm", "tianditu", "amap", "none"]
Offset = Literal["wgs84", "gcj02", "bd09"]
_LANG = Query("zh", description="Labels: zh (default) or en")
_BASEMAP = Query("osm", description="osm, tianditu (needs a key), amap (GCJ-02) or none")
_OFFSET = Query("wgs84", description="Shift coordinates for a GCJ-02/BD-09 basemap")
_TOL = Query(None, ge=0, le=0.01, description="Simplification tolerance in degrees")
_GEOJSON = media_responses(GEOJSON, description="GeoJSON FeatureCollection for display")
_PAGE_PLAN = Query(
    None,
    ge=1,
    le=MAX_PLAN_ID,
    description="Plan id; default: the published plan. An unpublished plan is for staff of its "
    "community and district admins: other clients get 404; a browser gets the page (HTTP 404) "
    "built from public data only, whose map asks for the plan's data with the visitor's "
    "sign-in token and says 'sign in as staff' when it has none.",
)


class _Display:
    """How map data is drawn: the coordinate offset and the simplification tolerance."""

    def __init__(self, offset: Offset = _OFFSET, tolerance: float | None = _TOL) -> None:
        self.offset, self.tolerance = offset, tolerance

    def tol(self, kind: str) -> float:
        """The tolerance asked for, else the default of ``kind`` (a key of ``_TOLERANCE``)."""
        return _TOLERANCE[kind] if self.tolerance is None else self.tolerance


DisplayDep = Annotated[_Display, Depends()]


def _data_route(path: str, summary: str) -> Callable[[Callable[..., Any]], Any]:
    """``router.get`` for a map-data endpoint answering GeoJSON."""
    return router.get(path, summary=summary, response_class=GeoJSONResponse, responses=_GEOJSON)


def _display_geojson(
    features: list[Feature], offset: str, tolerance: float, extra: dict[str, Any]
) -> str:
    """Simplify, shift and round geometries for display; add a label point per feature.

    The label point is the pole of inaccessibility of a polygon, ``label_r`` the radius in
    metres of the largest circle around it inside the polygon (the room a label has). Returns
    the FeatureCollection as JSON text (geometries written by GEOS in one call).
    """
    geoms = _display_geometries(features, offset, tolerance)
    lons, lats, rooms = maps.label_anchors(geoms)
    texts = _geometry_texts(geoms)
    out = []
    for feature, text, lon, lat, room in zip(features, texts, lons, lats, rooms, strict=True):
        props = {**feature.properties, **extra.get(feature.id, {})}
        props["label_lon"], props["label_lat"] = round(float(lon), 6), round(float(lat), 6)
        props["label_r"] = round(float(room), 1)
        out.append(
            f'{{"type":"Feature","id":{_json(feature.id)},"properties":{_json(props)},'
            f'"geometry":{text}}}'
        )
    return _collection(out)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _geometry_texts(geoms: Any) -> list[str]:
    """GeoJSON text of each geometry (``null`` for a missing one), written by GEOS at once."""
    present = np.array([g is not None for g in geoms], dtype=bool)
    texts = np.full(len(geoms), "null", dtype=object)
    if present.any():
        texts[present] = shapely.to_geojson(geoms[present])
    return list(texts)


def _collection(features: list[str]) -> str:
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def _display_geometries(features: list[Feature], offset: str, tolerance: float) -> Any:
    geoms = np.array([f.geometry for f in features], dtype=object)
    if tolerance > 0:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    geoms = shift_geometries(geoms, offset)  # type: ignore[arg-type]
    return shapely.transform(geoms, lambda c: np.round(c, DISPLAY_PRECISION))


def _base_geojson(layers: dict[str, list[Feature]], offset: str, tolerance: float) -> str:
    """Geometries only, each with its ``layer`` (``building``, ``street``): the map's base."""
    out: list[str] = []
    for layer, features in layers.items():
        geoms = _display_geometries(features, offset, tolerance)
        keep = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
        props = _json({"layer": layer})
        out.extend(
            f'{{"type":"Feature","properties":{props},"geometry":{text}}}'
            for text in _geometry_texts(geoms[keep])
        )
    return _collection(out)


def _data(
    page: FeaturePage, display: _Display, kind: str, extra: dict[str, Any] | None = None
) -> str:
    return _display_geojson(page.features, display.offset, display.tol(kind), extra or {})


def _cached(
    request: Request, session: Any, render: Callable[[], str], plan_id: int | None = None
) -> Response:
    """Map data rendered once per revision when public (:mod:`service.api.cache`)."""
    return cached_response(
        request, session, render=render, media_type=GEOJSON_MEDIA_TYPE, plan_id=plan_id
    )


def _staff_props(session: Any, page: FeaturePage) -> dict[str, Any]:
    staff = grid_staff(session, [f.id for f in page.features])
    props: dict[str, Any] = {
        f.id: {"grid_seq": maps.grid_sequence(f.id, f.properties.get("community_code"))}
        for f in page.features
    }
    for code, members in staff.items():
        props.setdefault(code, {})["staff"] = [vars(s) for s in members]
    return props


@_data_route("/data/base.geojson", "Buildings and streets of the district: the maps' base")
def district_base_data(request: Request, session: SessionDep, display: DisplayDep) -> Response:
    """Every building footprint (or point) and street line, geometry only, for a faint base."""

    def render() -> str:
        layers = {
            "building": list_buildings(session, as_geojson=False).features,
            "street": list_streets(session, as_geojson=False).features,
        }
        return _base_geojson(layers, display.offset, display.tol("base"))

    return _cached(request, session, render)


@_data_route(
    "/data/communities/{code}/base.geojson", "Buildings and streets of a community: the map's base"
)
def community_base_data(
    request: Request, session: SessionDep, code: str, display: DisplayDep
) -> Response:
    """A community's building footprints (or points) and streets, geometry only."""

    def render() -> str:
        buildings = list_buildings(session, community_code=code, as_geojson=False)
        streets = list_streets(session, community_code=code, as_geojson=False)
        layers = {"building": buildings.features, "street": streets.features}
        return _base_geojson(layers, display.offset, display.tol("base"))

    return _cached(request, session, render)


@_data_route(
    "/data/grids.geojson", "Outlines of the grids of every published plan, for the district map"
)
def district_grids_data(request: Request, session: SessionDep, display: DisplayDep) -> Response:
    """The outlines of the published grids of all communities (geometry only, ``layer=grid``)."""

    def render() -> str:
        page = list_grids(session, as_geojson=False)
        return _base_geojson({"grid": page.features}, display.offset, display.tol("grids"))

    return _cached(request, session, render)


@_data_route("/data/communities.geojson", "Communities for the district map")
def communities_data(request: Request, session: SessionDep, display: DisplayDep) -> Response:
    """Communities, simplified for display."""
    page = lambda: list_communities(session, as_geojson=False)  # noqa: E731
    return _cached(request, session, lambda: _data(page(), display, "communities"))


def _plan_data(
    layer: Literal["grids", "buildings"], name: str, doc: str, render: Callable[..., str]
) -> Callable[..., Response]:
    """The route of a community's grids or buildings for its map: ``render(session, page,
    display)`` of the community's page of them (published plan, or ``plan_id``)."""

    def route(
        request: Request, session: SessionDep, code: str, plan_id: VisiblePlan, display: DisplayDep
    ) -> Response:
        def text() -> str:
            page = list_features(session, layer, community_code=code, plan_id=plan_id,
                                 as_geojson=False)  # fmt: skip
            return render(session, page, display)

        return _cached(request, session, text, plan_id)

    return named_route(route, name, doc)


grids_data = _data_route("/data/communities/{code}/grids.geojson", "Grids for a community map")(
    _plan_data(
        "grids",
        "grids_data",
        "Grids of a community with staff names and roles, simplified for display.",
        lambda s, page, d: _data(page, d, "grids", _staff_props(s, page)),
    )  # fmt: skip
)
community_buildings_data = _data_route(
    "/data/communities/{code}/buildings.geojson", "Buildings of a community"
)(_plan_data("buildings", "community_buildings_data", "Buildings of a community for display.",
             lambda _s, page, d: _data(page, d, "buildings")))  # fmt: skip


def _layer_data(layer: Literal["streets", "compounds"], doc: str) -> Callable[..., Response]:
    """The route of a community's streets or compounds for its map."""

    def route(request: Request, session: SessionDep, code: str, display: DisplayDep) -> Response:
        page = lambda: list_layer(session, layer, community_code=code, as_geojson=False)  # noqa: E731
        return _cached(request, session, lambda: _data(page(), display, layer))

    return named_route(route, f"community_{layer}_data", doc)


community_streets_data = _data_route(
    "/data/communities/{code}/streets.geojson", "Streets of a community"
)(_layer_data("streets", "Streets crossing or touching a community, simplified for display."))
community_compounds_data = _data_route(
    "/data/communities/{code}/compounds.geojson", "Compounds of a community"
)(_layer_data("compounds", "Outlines of a community's compounds (小区), simplified for display."))


def _grid_data(name: str, doc: str, render: Callable[..., str]) -> Callable[..., Response]:
    """The route of one grid's data for its map: ``render(session, grid_code, plan_id,
    offset)``."""

    def route(
        request: Request,
        session: SessionDep,
        grid_code: str,
        plan_id: VisiblePlan,
        offset: Offset = _OFFSET,
    ) -> Response:
        text = lambda: render(session, grid_code, plan_id, offset)  # noqa: E731
        return _cached(request, session, text, plan_id)

    return named_route(route, name, doc)


def _one_grid(session: Any, grid_code: str, plan_id: int | None, offset: Offset) -> str:
    grid = get_grid(session, grid_code, plan_id=plan_id, as_geojson=False)
    page = FeaturePage([grid], 1)
    return _data(page, _Display(offset, 0.0), "grids", _staff_props(session, page))


def _grid_buildings(session: Any, grid_code: str, plan_id: int | None, offset: Offset) -> str:
    page = list_buildings(session, grid_code=grid_code, plan_id=plan_id, as_geojson=False)
    return _data(page, _Display(offset, None), "buildings")


grid_data = _data_route("/data/grids/{grid_code}.geojson", "One grid for its map")(
    _grid_data("grid_data", "One grid with its staff.", _one_grid)
)
grid_buildings_data = _data_route(
    "/data/grids/{grid_code}/buildings.geojson", "Buildings of a grid"
)(_grid_data("grid_buildings_data", "Buildings of a grid with floors, units and households.",
             _grid_buildings))  # fmt: skip


def _page(
    request: Request,
    settings: Any,
    title: str,
    bounds: Any,
    lang: str,
    basemap: str,
    crumbs: list[tuple[str, str | None]],
    downloads: list[tuple[str, str]],
    lookup: bool,
) -> maps.MapPage:
    root = request.scope.get("root_path", "")
    return maps.MapPage(
        title=title,
        bounds=bounds,
        lang=lang,
        basemap=basemap,
        tianditu_key=settings.tianditu_key,
        crumbs=crumbs,
        downloads=downloads,
        switch_url=root + request.url.path,
        lookup_url=f"{root}/lookup" if lookup else None,
        grid_link=f"{root}/maps/grids/{{id}}",
        auth_url=f"{root}/auth",
        keep_query=_plan_query(request),
    )


def _plan_query(request: Request) -> str:
    """``&plan_id=N`` of the request (kept by the language and basemap links), or ``""``."""
    plan_id = request.query_params.get("plan_id")
    return f"&plan_id={int(plan_id)}" if plan_id and plan_id.isdigit() else ""


def _query(offset: str, plan_id: int | None) -> str:
    return f"?offset={offset}" + (f"&plan_id={plan_id}" if plan_id is not None else "")


def _page_plan(request: Request, session: Any, principal: Principal, plan_id: int | None) -> bool:
    """Whether the requester may see plan ``plan_id`` (True for the published plan, None).

    A hidden plan (a draft the requester may not see, or no plan at all: the two answer alike)
    raises the usual 404 for API clients; a browser gets False, and its page is then built from
    public data only, its map fetching the plan's data with the sign-in token kept in the tab
    (page navigations carry none), so staff see the draft once signed in.
    """
    if plan_id is None:
        return True
    try:
        require_plan_visible(session, plan_id=plan_id, principal=principal)
    except NotFoundError:
        if not wants_html(request, None):
            raise
        return False
    return True


def _page_response(html: str, visible: bool, plan_id: int | None) -> HTMLResponse:
    """The page; 404 for a hidden plan, and with a plan the answer depends on ``Accept``."""
    headers = {"Vary": "Accept"} if plan_id is not None else None
    return HTMLResponse(html, status_code=200 if visible else 404, headers=headers)


def _public_grid_place(session: Any, grid_code: str, plan_id: int | None) -> tuple[Any, str]:
    """Bounds and community code of a grid from public data only: its published grid, else
    the community its code starts with (same 404 as a missing plan when neither exists)."""
    try:
        grid = get_grid(session, grid_code, as_geojson=False)
        return grid.geometry.bounds, grid.properties["community_code"]
    except NotFoundError:
        pass
    try:
        community = get_community(session, grid_code[:12], as_geojson=False)
    except NotFoundError:
        raise NotFoundError(f"Plan {plan_id} not found.") from None
    return community.geometry.bounds, grid_code[:12]


TILE_THRESHOLD = 2_000
"""A district map layer (buildings, grid outlines) of more features than this is drawn from vector
tiles (OGC API – Tiles) rather than fetched as one GeoJSON: 2,000 building footprints are about
1 MB of GeoJSON, parsed and drawn in well under a second; a district of 35,000 would take 20 MB
and several seconds, while tiles fetch only the part in view, at most a few hundred KB."""


def _district_tiles(session: Any, root: str, offset: str) -> dict[str, maps.VectorTiles]:
    """The district map's layers to draw from vector tiles: those over :data:`TILE_THRESHOLD`.

    Tiles are WGS 84; a basemap that needs shifted coordinates (GCJ-02) keeps GeoJSON."""
    if offset != "wgs84":
        return {}
    out = {}
    for cid in ("buildings", "grids"):
        if tiles.feature_count(session, cid) > TILE_THRESHOLD:
            url = f"{root}/collections/{cid}/tiles/{tiles.TILE_MATRIX_SET}/{{z}}/{{x}}/{{y}}"
            out[cid] = maps.VectorTiles(url, cid, tiles.SOURCES[cid].min_zoom)
    return out


@_data_route(
    "/data/streets.geojson",
    "Streets of the district (the base of a district map whose buildings are tiles)",
)
def district_streets_data(session: SessionDep, display: DisplayDep) -> Response:
    """Every street line, geometry only (``layer=street``)."""
    streets = list_streets(session, as_geojson=False).features
    return GeoJSONResponse(_base_geojson({"street": streets}, display.offset, display.tol("base")))


@router.get("", response_class=HTMLResponse, summary="District map")
def district_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: Lang = _LANG,
    basemap: Basemap = _BASEMAP,
    color_by: Literal["households", "grids"] = "households",
) -> HTMLResponse:
    """District overview: communities coloured by households or grid count."""
    t = maps.labels(lang)
    root = request.scope.get("root_path", "")
    communities = list_communities(session)
    values = [f.properties[color_by] for f in communities.features]
    page = _page(
        request,
        settings,
        t["district"],
        collection_extent(session, "communities"),
        lang,
        basemap,
        [(t["district"], None)],
        [("GeoJSON", f"{root}/downloads/communities.geojson")],
        lookup=False,
    )
    offset = maps.offset_for_basemap(basemap)
    tiled = _district_tiles(session, root, offset)
    base = "streets" if "buildings" in tiled else "base"
    q = _query(offset, None)
    html = maps.district_map(
        page,
        communities_url=f"{root}/maps/data/communities.geojson{q}",
        community_link=f"{root}/maps/communities/{{id}}",
        color_by=color_by,
        values=values,
        base_url=f"{root}/maps/data/{base}.geojson{q}",
        grids_url=None if "grids" in tiled else f"{root}/maps/data/grids.geojson{q}",
        building_tiles=tiled.get("buildings"),
        grid_tiles=tiled.get("grids"),
        orders_url=f"{root}/maps/data/orders/grids.geojson{q}",
    )
    return HTMLResponse(html)


class _PlanPage:
    """What a plan's map page (community, grid) is asked: plan, labels and basemap; its labels,
    root path, and whether the requester may see the plan (:func:`_page_plan`)."""

    def __init__(
        self,
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        principal: PrincipalDep,
        plan_id: int | None = _PAGE_PLAN,
        lang: Lang = _LANG,
        basemap: Basemap = _BASEMAP,
    ) -> None:
        self.request, self.session, self.settings = request, session, settings
        self.plan_id, self.lang, self.basemap = plan_id, lang, basemap
        self.t = maps.labels(lang)
        self.root = request.scope.get("root_path", "")
        self.visible = _page_plan(request, session, principal, plan_id)

    def data_url(self, path: str, *, of_plan: bool = True) -> str:
        """URL of the map data ``/maps/data/{path}.geojson`` for this basemap (and this plan:
        ``of_plan``)."""
        query = _query(maps.offset_for_basemap(self.basemap), self.plan_id if of_plan else None)
        return f"{self.root}/maps/data/{path}.geojson{query}"

    def page(self, title: str, bounds: Any, crumbs: list[tuple[str, str | None]],
             downloads: list[tuple[str, str]]) -> maps.MapPage:  # fmt: skip
        """The page around the map (with the place search)."""
        return _page(self.request, self.settings, title, bounds, self.lang, self.basemap, crumbs,
                     downloads, lookup=True)  # fmt: skip


PlanPageDep = Annotated[_PlanPage, Depends()]


@router.get("/communities/{code}", response_class=HTMLResponse, summary="Community map")
def community_page(code: str, p: PlanPageDep) -> HTMLResponse:
    """A community's grids coloured by households, with labels, tooltips and buildings."""
    session, plan_id, lang, basemap = p.session, p.plan_id, p.lang, p.basemap
    t, root, visible = p.t, p.root, p.visible
    community = get_community(session, code, as_geojson=False)
    if visible:
        resolve_plan(session, community_code=code, plan_id=plan_id)
    name = community.properties["community_name"]
    plan = f"?plan_id={plan_id}" if plan_id is not None else ""
    page = p.page(
        f"{name} {code}",
        community.geometry.bounds,
        [(t["district"], f"{root}/maps?lang={lang}&basemap={basemap}"), (name, None)],
        [
            (t["grids"], f"{root}/downloads/communities/{code}/grids.geojson{plan}"),
            (t["buildings"], f"{root}/downloads/communities/{code}/buildings.geojson{plan}"),
        ],
    )
    data = f"communities/{code}"
    html = maps.community_map(
        page,
        grids_url=p.data_url(f"{data}/grids"),
        buildings_url=p.data_url(f"{data}/buildings"),
        streets_url=p.data_url(f"{data}/streets", of_plan=False),
        compounds_url=p.data_url(f"{data}/compounds", of_plan=False),
        base_url=p.data_url(f"{data}/base", of_plan=False),
    )
    return _page_response(html, visible, plan_id)


@router.get("/grids/{grid_code}", response_class=HTMLResponse, summary="Grid map")
def grid_page(grid_code: str, p: PlanPageDep) -> HTMLResponse:
    """A grid's buildings with floors, units and households."""
    request, session, plan_id, lang, basemap = p.request, p.session, p.plan_id, p.lang, p.basemap
    t, root, visible = p.t, p.root, p.visible
    if visible:
        grid = get_grid(session, grid_code, plan_id=plan_id, as_geojson=False)
        bounds, code = grid.geometry.bounds, grid.properties["community_code"]
    else:
        bounds, code = _public_grid_place(session, grid_code, plan_id)
    community = get_community(session, code)
    name = community.properties["community_name"]
    nav = f"lang={lang}&basemap={basemap}"
    plan = f"?plan_id={plan_id}" if plan_id is not None else ""
    page = p.page(
        f"{t['grid']} {grid_code}",
        bounds,
        [
            (t["district"], f"{root}/maps?{nav}"),
            (name, f"{root}/maps/communities/{code}?{nav}{_plan_query(request)}"),
            (f"{maps.grid_title(grid_code, code, lang)} {grid_code}", None),
        ],
        [(t["buildings"], f"{root}/downloads/grids/{grid_code}/buildings.geojson{plan}")],
    )
    html = maps.grid_map(page, grid_url=p.data_url(f"grids/{grid_code}"),
                         buildings_url=p.data_url(f"grids/{grid_code}/buildings"),
                         base_url=p.data_url(f"communities/{code}/base", of_plan=False),
                         fit_outline=not visible)  # fmt: skip
    return _page_response(html, visible, plan_id)
