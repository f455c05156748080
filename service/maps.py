"""Folium map pages: district overview → community → grid.

The pages carry no feature data: each layer is fetched by the browser from the app's map-data
GeoJSON endpoints (simplified server-side), so a community of thousands of buildings still
gives a small page. All scripts and stylesheets are served by the app (Leaflet from
``/static/vendor``, gridmap's loader from ``/static/gridmap``): the overlays draw with no
internet. A basemap is optional: OpenStreetMap, Tianditu (needs a key; CGCS2000 needs no shift)
or AMap/Gaode, for which the overlays are shifted to GCJ-02 by the data endpoints.

Labels are Chinese by default; ``lang="en"`` gives English.

What a person reads on the pages:

- grid labels are the short sequence (``第6网格``, ``006`` in English), placed at the grid's pole
  of inaccessibility (centre of its largest inscribed circle, :func:`label_anchors`); the browser
  hides a label that would collide with a larger grid's label or not fit its grid at the current
  zoom, and shows it again when zoomed in. The full code is in the tooltip and on the grid page;
- under the grids, a faint base of the buildings and streets from the store (drawn on a canvas,
  no tiles needed), so a page with no internet still shows where things are;
- the dense, non-interactive layers (base, district grid outlines) draw on canvas; grids and
  communities stay SVG paths with tooltips and links.
"""

from __future__ import annotations

import html
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import folium
import numpy as np
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from jinja2 import Template

from gridmap.coords import shift_geometries
from service.assets import APP_ASSETS_URL, missing_message, vendor_css, vendor_js

__all__ = [
    "LANGS",
    "BASEMAPS",
    "GRID_BREAKS",
    "GRID_COLORS",
    "ORDER_BREAKS",
    "ORDER_COLORS",
    "DataLayer",
    "VectorTiles",
    "Legend",
    "MapPage",
    "labels",
    "label_anchors",
    "grid_sequence",
    "grid_title",
    "BASE_STYLES",
    "offset_for_basemap",
    "quantile_breaks",
    "shift_bounds",
    "grid_legend",
    "render_map",
    "district_map",
    "community_map",
    "grid_map",
]

PAGE_CACHE_SIZE = 256
"""Rendered map pages kept for reuse (pages carry no data, only URLs and options)."""
_page_cache: OrderedDict[str, str] = OrderedDict()
_page_cache_lock = threading.Lock()

LANGS = ("zh", "en")
BASEMAPS = ("osm", "tianditu", "amap", "none")
_OFFSET = {"osm": "wgs84", "tianditu": "wgs84", "none": "wgs84", "amap": "gcj02"}

# Grid households: under the 300 target, within 300-500 (two shades), over 500.
GRID_BREAKS: list[float] = [300, 400, 501]
GRID_COLORS = ["#fed976", "#a1d99b", "#41ab5d", "#e31a1c"]
# Open work orders per grid (district map layer): none, 1-2, 3-5, 6-9, 10 or more.
ORDER_BREAKS: list[float] = [1, 3, 6, 10]
ORDER_COLORS = ["#f7f7f7", "#fee8c8", "#fdbb84", "#fc8d59", "#d7301f"]
COMMUNITY_COLORS = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]
# Fill opacity of grids and communities: light enough for the base beneath to show through.
_AREA_OPACITY = 0.45
BASE_STYLES: dict[str, dict[str, Any]] = {
    "building": {"color": "#6b6b6b", "weight": 0.4, "fillColor": "#8c8c8c", "fillOpacity": 0.55},
    "street": {"color": "#ffffff", "weight": 3, "opacity": 0.9, "fill": False},
}
"""Style of the faint base (buildings and streets from the store) by feature ``layer``."""
_EARTH_M_PER_DEG = 111_320.0
_LABEL_TOLERANCE_DEG = 1e-5

_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "district": "辖区社区总览",
        "community": "社区",
        "grid": "网格",
        "grids": "网格",
        "buildings": "楼栋",
        "streets": "街路",
        "compounds": "小区",
        "property": "物业公司",
        "communities": "社区",
        "grid_labels": "网格编号",
        "grid_label": "第{n}网格",
        "community_names": "社区名称",
        "base": "底图（楼栋、道路）",
        "grid_outlines": "网格边界",
        "grid_orders": "网格未办结事项",
        "open_orders": "未办结事项",
        "overdue_orders": "其中超时",
        "order_classes": ["无", "1-2 件", "3-5 件", "6-9 件", "10 件以上"],
        "outline": "网格边界",
        "staff": "网格人员",
        "households": "户数",
        "grid_count": "网格数",
        "persons": "人数",
        "building_count": "楼栋数",
        "code": "编码",
        "name": "名称",
        "floors": "层数",
        "units": "单元数",
        "address": "地址",
        "kind": "类型",
        "download": "下载",
        "basemap": "底图",
        "language": "English",
        "error": "数据加载失败",
        "none_here": "此处无社区",
        "auth": {
            "signIn": "工作人员登录",
            "username": "用户名",
            "password": "密码",
            "submit": "登录",
            "signOut": "退出登录",
            "signedIn": "已登录：",
            "draft": "请以工作人员身份登录后查看此草稿方案（未发布的方案仅对工作人员可见）。",
            "hidden": "此方案不存在，或您的账号无权查看"
            "（草稿方案仅限本社区工作人员和区级管理员）。",
            "expired": "登录已过期，请重新登录。",
            "wrong": "用户名或密码错误。",
            "throttled": "登录失败次数过多，请稍后再试。",
            "failed": "登录失败，请稍后再试。",
        },
        "under": "不足300户",
        "within": "户",
        "over": "超过500户",
        "roles": {
            "grid_worker": "网格员",
            "grid_head": "网格长",
            "party_leader": "网格党小组长",
            "liaison_head": "联户长",
            "assistant": "网格助理",
        },
        "basemaps": {
            "osm": "OpenStreetMap",
            "tianditu": "天地图",
            "amap": "高德地图",
            "none": "无底图",
        },
    },
    "en": {
        "district": "District overview",
        "community": "Community",
        "grid": "Grid",
        "grids": "Grids",
        "buildings": "Buildings",
        "streets": "Streets",
        "compounds": "Compounds",
        "property": "Property company",
        "communities": "Communities",
        "grid_labels": "Grid codes",
        "grid_label": "{seq}",
        "community_names": "Community names",
        "base": "Base (buildings, roads)",
        "grid_outlines": "Grid boundaries",
        "grid_orders": "Open work orders per grid",
        "open_orders": "Open work orders",
        "overdue_orders": "of which overdue",
        "order_classes": ["none", "1-2", "3-5", "6-9", "10 or more"],
        "outline": "Grid boundary",
        "staff": "Staff",
        "households": "Households",
        "grid_count": "Grids",
        "persons": "Persons",
        "building_count": "Buildings",
        "code": "Code",
        "name": "Name",
        "floors": "Floors",
        "units": "Units",
        "address": "Address",
        "kind": "Kind",
        "download": "Download",
        "basemap": "Basemap",
        "language": "中文",
        "error": "Could not load data",
        "none_here": "No community here",
        "auth": {
            "signIn": "Staff sign-in",
            "username": "User name",
            "password": "Password",
            "submit": "Sign in",
            "signOut": "Sign out",
            "signedIn": "Signed in as ",
            "draft": "Sign in as staff to see this draft plan (unpublished plans are for staff "
            "only).",
            "hidden": "This plan does not exist or your account may not see it (draft plans are "
            "for staff of their community and district admins).",
            "expired": "Your sign-in has expired; please sign in again.",
            "wrong": "Wrong user name or password.",
            "throttled": "Too many failed sign-ins; try again later.",
            "failed": "Could not sign in; try again later.",
        },
        "under": "under 300 households",
        "within": "households",
        "over": "over 500 households",
        "roles": {
            "grid_worker": "grid worker",
            "grid_head": "grid head",
            "party_leader": "party group leader",
            "liaison_head": "liaison head",
            "assistant": "grid assistant",
        },
        "basemaps": {
            "osm": "OpenStreetMap",
            "tianditu": "Tianditu",
            "amap": "AMap",
            "none": "None",
        },
    },
}

_TILES = {
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
        "abc",
    ),
    "amap": (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "&copy; AMap (GCJ-02)",
        "1234",
    ),
    "tianditu": (
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk=",
        "&copy; 天地图 Tianditu",
        "01234567",
    ),
}
_TIANDITU_LABELS = _TILES["tianditu"][0].replace("vec_w", "cva_w").replace("LAYER=vec", "LAYER=cva")


def labels(lang: str) -> dict[str, Any]:
    """Return the display texts for ``lang`` (``"zh"`` default, or ``"en"``)."""
    return _TEXT["en" if lang == "en" else "zh"]


def offset_for_basemap(basemap: str) -> str:
    """Return the coordinate system overlays must be shifted to for ``basemap``."""
    return _OFFSET.get(basemap, "wgs84")


def grid_sequence(code: str, community_code: str | None) -> str:
    """Return the short sequence of a grid code: what follows its community's code (``006``).

    A code that does not start with its community's code is returned whole.
    """
    if community_code and code.startswith(community_code) and len(code) > len(community_code):
        return code[len(community_code) :]
    return code


def grid_title(code: str, community_code: str | None, lang: str) -> str:
    """Return how a person names a grid: ``第6网格`` (``Grid 006``), or its code if not numbered."""
    seq = grid_sequence(code, community_code)
    if not seq.isdigit() or seq == code:
        return code
    return f"第{int(seq)}网格" if lang != "en" else f"Grid {seq}"


def label_anchors(geoms: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return label ``lon``, ``lat`` and room (metres) for lon/lat geometries.

    A polygon's label goes to its pole of inaccessibility (centre of the largest inscribed
    circle, computed with longitudes scaled by cos(latitude) so circles are round on the
    ground) and its room is that circle's radius; other geometries get a point on them and no
    room.
    """
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    points = shapely.point_on_surface(geoms)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    room = np.zeros(len(geoms))
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    if polygonal.any():
        k = float(np.cos(np.radians(np.nanmean(lat[polygonal]))))
        scaled = shapely.transform(geoms[polygonal], lambda c: c * [k, 1.0])
        # To about a metre: finer than a label needs, and twice as fast as the default.
        circles = shapely.maximum_inscribed_circle(scaled, tolerance=_LABEL_TOLERANCE_DEG)
        centres = shapely.get_point(circles, 0)
        lon[polygonal] = shapely.get_x(centres) / k
        lat[polygonal] = shapely.get_y(centres)
        room[polygonal] = shapely.length(circles) * _EARTH_M_PER_DEG
    return lon, lat, room


def quantile_breaks(values: Sequence[float], classes: int = 5) -> list[float]:
    """Return up to ``classes - 1`` increasing class breaks at the quantiles of ``values``."""
    data = np.asarray([v for v in values if v is not None], dtype=float)
    if data.size == 0:
        return []
    qs = np.quantile(data, np.linspace(0, 1, classes + 1)[1:-1])
    return sorted({float(q) for q in qs if q > data.min()})


def shift_bounds(bounds: Sequence[float], offset: str) -> list[list[float]]:
    """Return lon/lat ``(minx, miny, maxx, maxy)`` as Leaflet ``[[s, w], [n, e]]`` in ``offset``."""
    from shapely import box

    minx, miny, maxx, maxy = bounds
    [shifted] = shift_geometries([box(minx, miny, maxx, maxy)], offset)  # type: ignore[arg-type]
    minx, miny, maxx, maxy = shifted.bounds
    return [[miny, minx], [maxy, maxx]]


@dataclass(frozen=True)
class Legend:
    """A legend box: a title and ``(colour, label)`` rows."""

    title: str
    items: list[tuple[str, str]]


def grid_legend(lang: str) -> Legend:
    """The legend of grids coloured by households against the 300-500 target."""
    t = labels(lang)
    return Legend(
        t["households"],
        [
            (GRID_COLORS[0], f"< 300 ({t['under']})"),
            (GRID_COLORS[1], f"300-399 {t['within']}"),
            (GRID_COLORS[2], f"400-500 {t['within']}"),
            (GRID_COLORS[3], f"> 500 ({t['over']})"),
        ],
    )


@dataclass(frozen=True)
class DataLayer:
    """A GeoJSON layer fetched by the browser from ``url`` and drawn in its own pane."""

    key: str
    name: str
    url: str
    fields: list[tuple[str, str]]
    color_by: str | None = None
    breaks: list[float] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)
    fill: str = "#3388ff"
    stroke: str = "#333333"
    weight: float = 1.0
    fill_opacity: float = 0.6
    filled: bool = True
    dash: str | None = None
    link: str | None = None
    label_key: str | None = None
    label_layer_name: str | None = None
    label_format: str | None = None
    show: bool = True
    z_index: int = 410
    interactive: bool = True
    canvas: bool = False
    style_key: str | None = None
    styles: dict[str, dict[str, Any]] | None = None
    fit: bool = False
    """Fit the map to this layer once loaded (when the page's extent is only approximate)."""
    tiles: VectorTiles | None = None
    """Also (or, with ``url`` empty, only) draw vector tiles: for layers too large for GeoJSON."""


@dataclass(frozen=True)
class VectorTiles:
    """Vector tiles (MVT) of one layer: URL template (``{z}/{x}/{y}``), layer name, zooms, style."""

    url: str
    layer: str
    min_zoom: int
    style: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MapPage:
    """Everything a map page shows besides its layers: title, extent, navigation, options."""

    title: str
    bounds: Sequence[float]
    lang: str = "zh"
    basemap: str = "osm"
    tianditu_key: str | None = None
    crumbs: list[tuple[str, str | None]] = field(default_factory=list)
    downloads: list[tuple[str, str]] = field(default_factory=list)
    switch_url: str = ""
    legend: Legend | None = None
    lookup_url: str | None = None
    grid_link: str = ""
    auth_url: str | None = None
    """Prefix of the sign-in routes (``/auth``): the page gets a staff sign-in control."""
    keep_query: str = ""
    """Query kept by the language and basemap links (``&plan_id=N``)."""


class _RemoteGeoJson(Layer):
    """A Leaflet feature group filled by ``gridmapLoad`` from a URL (see static/gridmap/map.js)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        gridmapLoad({{ this.get_name() }}, {{ this._parent.get_name() }}, {{ this.spec|tojson }},
            {{ this.labels.get_name() if this.labels else "null" }});
        {% endmacro %}
        """
    )

    def __init__(self, spec: dict[str, Any], *, name: str, show: bool, labels: Any = None):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "RemoteGeoJson"
        self.spec = spec
        self.labels = labels


class _Legend(MacroElement):
    """The legend as a Leaflet control (bottom left, stacked above the scale bar)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        gridmapLegend({{ this._parent.get_name() }}, {{ this.html|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, legend_html: str):
        super().__init__()
        self._name = "Legend"
        self.html = legend_html


class _MapCall(MacroElement):
    """A call ``function(map, spec)`` of static/gridmap/map.js once the map exists
    (``gridmapAuth``: the staff sign-in control; ``gridmapLookup``: click to look up a point)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.function }}({{ this._parent.get_name() }}, {{ this.spec|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, function: str, spec: dict[str, Any]):
        super().__init__()
        self._name = function
        self.function = function
        self.spec = spec


def _layer_spec(layer: DataLayer, page: MapPage) -> dict[str, Any]:
    t = labels(page.lang)
    return {
        "key": layer.key,
        "url": layer.url,
        "pane": f"gridmap-{layer.key}",
        "zIndex": layer.z_index,
        "fields": layer.fields,
        "colorBy": layer.color_by,
        "breaks": layer.breaks,
        "colors": layer.colors,
        "fill": layer.fill,
        "stroke": layer.stroke,
        "weight": layer.weight,
        "fillOpacity": layer.fill_opacity,
        "filled": layer.filled,
        "dash": layer.dash,
        "link": layer.link,
        "labelKey": layer.label_key,
        "labelFormat": layer.label_format,
        "interactive": layer.interactive,
        "canvas": layer.canvas,
        "styleKey": layer.style_key,
        "styles": layer.styles,
        "fit": layer.fit,
        "tiles": _tiles_spec(layer.tiles),
        "staffLabel": t["staff"],
        "roles": t["roles"],
        "errorLabel": t["error"],
    }


def _tiles_spec(tiles: VectorTiles | None) -> dict[str, Any] | None:
    if tiles is None:
        return None
    return {"url": tiles.url, "layer": tiles.layer, "minZoom": tiles.min_zoom,
            "style": tiles.style}  # fmt: skip


def _add_basemap(fmap: folium.Map, page: MapPage) -> None:
    basemap = page.basemap
    if basemap == "none" or basemap not in _TILES:
        return
    if basemap == "tianditu" and not page.tianditu_key:
        return
    url, attr, subdomains = _TILES[basemap]
    name = labels(page.lang)["basemaps"][basemap]
    if basemap == "tianditu":
        url += page.tianditu_key or ""
    folium.TileLayer(url, attr=attr, name=name, subdomains=subdomains, max_zoom=19).add_to(fmap)
    if basemap == "tianditu":
        folium.TileLayer(
            _TIANDITU_LABELS + (page.tianditu_key or ""),
            attr=attr,
            name=name + " 注记",
            subdomains=subdomains,
            overlay=True,
            max_zoom=19,
        ).add_to(fmap)


def _bar_html(page: MapPage) -> str:
    t = labels(page.lang)
    esc = html.escape
    crumbs = " › ".join(
        f'<a href="{esc(url)}">{esc(text)}</a>' if url else f"<b>{esc(text)}</b>"
        for text, url in page.crumbs
    )
    sep = '<span class="sep">|</span>'
    other = "en" if page.lang != "en" else "zh"
    base = page.switch_url
    keep = page.keep_query
    basemaps = " ".join(
        f'<a href="{esc(base)}?lang={page.lang}&basemap={b}{keep}">{esc(t["basemaps"][b])}</a>'
        if b != page.basemap
        else f"<b>{esc(t['basemaps'][b])}</b>"
        for b in BASEMAPS
        if b != "tianditu" or page.tianditu_key
    )
    downloads = " ".join(f'<a href="{esc(u)}" download>{esc(n)}</a>' for n, u in page.downloads)
    lang_link = (
        f'<a href="{esc(base)}?lang={other}&basemap={page.basemap}{keep}">{t["language"]}</a>'
    )
    parts = [crumbs, f"{t['basemap']}: {basemaps}", lang_link]
    if downloads:
        parts.append(f"{t['download']}: {downloads}")
    return f'<div class="gridmap-bar">{sep.join(parts)}</div>'


def _legend_html(legend: Legend) -> str:
    rows = "<br>".join(
        f'<i style="background:{color}"></i>{html.escape(text)}' for color, text in legend.items
    )
    return f"<b>{html.escape(legend.title)}</b><br>{rows}"


def render_map(page: MapPage, layers: Sequence[DataLayer]) -> str:
    """Return the HTML of a map page showing ``layers`` (fetched by the browser).

    Pages hold no data (the browser fetches it), so a page is a function of its arguments alone
    and the last :data:`PAGE_CACHE_SIZE` renderings are reused.

    Parameters
    ----------
    page
        Title, extent (lon/lat ``minx, miny, maxx, maxy``, unshifted), language, basemap,
        breadcrumbs, download links, legend and the lookup endpoint.
    layers
        Data layers in drawing order.
    """
    key = repr((page, tuple(layers), missing_message(page.lang)))
    with _page_cache_lock:
        cached = _page_cache.get(key)
        if cached is not None:
            _page_cache.move_to_end(key)
            return cached
    rendered = _render_map(page, layers)
    with _page_cache_lock:
        _page_cache[key] = rendered
        while len(_page_cache) > PAGE_CACHE_SIZE:
            _page_cache.popitem(last=False)
    return rendered


def _render_map(page: MapPage, layers: Sequence[DataLayer]) -> str:
    offset = offset_for_basemap(page.basemap)
    bounds = shift_bounds(page.bounds, offset)
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    fmap = folium.Map(location=center, zoom_start=14, tiles=None, control_scale=True)
    fmap.default_js = [
        *vendor_js(),
        ("gridmap_token", f"{APP_ASSETS_URL}/token.js"),
        ("gridmap", f"{APP_ASSETS_URL}/map.js"),
    ]
    fmap.default_css = [*vendor_css(), ("gridmap_css", f"{APP_ASSETS_URL}/map.css")]
    root = fmap.get_root()
    assert isinstance(root, Figure)  # a Map's root is its Figure (typed as Element)
    root.header.add_child(Element(f"<title>{html.escape(page.title)}</title>"))
    _add_basemap(fmap, page)
    if page.auth_url:
        _MapCall("gridmapAuth", _auth_spec(page)).add_to(fmap)
    for layer in layers:
        label_group = None
        if layer.label_key:
            label_group = folium.FeatureGroup(name=layer.label_layer_name or layer.key)
            label_group.add_to(fmap)
        _RemoteGeoJson(
            _layer_spec(layer, page), name=layer.name, show=layer.show, labels=label_group
        ).add_to(fmap)
    if page.lookup_url:
        t = labels(page.lang)
        spec = {
            "url": page.lookup_url,
            "offset": offset,
            "gridLink": page.grid_link,
            "roles": t["roles"],
            "labels": {"community": t["community"], "grid": t["grid"], "none": t["none_here"]},
        }
        _MapCall("gridmapLookup", spec).add_to(fmap)
    fmap.fit_bounds(bounds, padding_top_left=(10, 48), padding_bottom_right=(10, 10))
    folium.LayerControl(collapsed=False).add_to(fmap)
    if page.legend is not None:
        _Legend(_legend_html(page.legend)).add_to(fmap)
    root.html.add_child(Element(_bar_html(page)))
    missing = missing_message(page.lang)
    if missing:
        root.html.add_child(Element(f'<div class="gridmap-missing">{html.escape(missing)}</div>'))
        root.header.add_child(Element(f"<style>{_MISSING_CSS}</style>"))
    return root.render()


def _auth_spec(page: MapPage) -> dict[str, Any]:
    """What ``gridmapAuth`` needs: the sign-in routes and the texts in the page's language."""
    return {
        "tokenUrl": f"{page.auth_url}/token",
        "meUrl": f"{page.auth_url}/me",
        "texts": labels(page.lang)["auth"],
    }


# Inline: the page's own stylesheet may be missing too when assets are not installed.
_MISSING_CSS = (
    ".gridmap-missing{position:absolute;top:60px;left:10%;right:10%;z-index:2000;padding:16px;"
    "background:#fff3cd;color:#664d03;border:1px solid #ffe69c;border-radius:6px;"
    "font:15px/1.5 sans-serif}"
)


def _layer(
    t: dict[str, Any],
    key: str,
    url: str,
    spec: tuple[tuple[str, str], ...] = (),
    **style: Any,
) -> DataLayer:
    """Layer ``key`` named by the page texts ``t``, its popup showing the fields of ``spec``."""
    return DataLayer(key=key, name=t[key], url=url, fields=_fields(spec, t), **style)


def base_layer(page: MapPage, url: str, building_tiles: VectorTiles | None = None) -> DataLayer:
    """The faint, non-interactive base of buildings and streets (canvas, under everything).

    With ``building_tiles`` the buildings come from those vector tiles and ``url`` gives the
    streets only."""
    if building_tiles is not None:
        building_tiles = replace(building_tiles, style=BASE_STYLES["building"])
    return _layer(
        labels(page.lang),
        "base",
        url,
        tiles=building_tiles,
        interactive=False,
        canvas=True,
        style_key="layer",
        styles=BASE_STYLES,
        z_index=350,
    )


def district_map(
    page: MapPage,
    *,
    communities_url: str,
    community_link: str,
    color_by: str,
    values: Sequence[float],
    base_url: str | None = None,
    grids_url: str | None = None,
    building_tiles: VectorTiles | None = None,
    grid_tiles: VectorTiles | None = None,
    orders_url: str | None = None,
) -> str:
    """The district overview: communities coloured by households (or grid count), linked.

    With ``orders_url`` a layer (off until switched on) colours the published grids by their
    open work orders, with its classes in the legend.

    With ``base_url`` the buildings and streets are drawn faintly beneath; with ``grids_url``
    the published grids' outlines are drawn above the communities (canvas, not interactive).
    A district too large for GeoJSON passes ``building_tiles`` (``base_url`` then gives the
    streets only) and ``grid_tiles`` (instead of ``grids_url``): those layers come as vector
    tiles, fetched for the part of the map in view.
    """
    t = labels(page.lang)
    breaks = quantile_breaks(values)
    colors = COMMUNITY_COLORS[: len(breaks) + 1]
    title = t["households"] if color_by == "households" else t["grid_count"]
    edges = [min(values, default=0), *breaks, max(values, default=0)]
    items = [(colors[i], f"{edges[i]:.0f} - {edges[i + 1]:.0f}") for i in range(len(colors))]
    layer = _layer(
        t,
        "communities",
        communities_url,
        _COMMUNITY_FIELDS,
        color_by=color_by,
        breaks=breaks,
        colors=colors,
        link=community_link,
        label_key="community_name",
        label_layer_name=t["community_names"],
        weight=2,
        fill_opacity=_AREA_OPACITY,
    )
    layers = [base_layer(page, base_url, building_tiles)] if base_url else []
    layers.append(layer)
    if grids_url or grid_tiles:
        layers.append(
            _layer(
                t,
                "grid_outlines",
                grids_url or "",
                tiles=grid_tiles,
                stroke="#555555",
                weight=0.8,
                filled=False,
                interactive=False,
                canvas=True,
                z_index=415,
            )
        )
    if orders_url:
        layers.append(_grid_orders_layer(t, orders_url))
        classes = zip(ORDER_COLORS, t["order_classes"], strict=True)
        items += [(color, f"{t['open_orders']}: {n}") for color, n in classes]
    return render_map(replace(page, legend=Legend(title, items)), layers)


def _grid_orders_layer(t: dict[str, Any], url: str) -> DataLayer:
    """Grids coloured by open work orders (``open``), switched on in the layer control."""
    return _layer(
        t,
        "grid_orders",
        url,
        (("grid_code", "code"), ("open", "open_orders"), ("overdue", "overdue_orders")),
        color_by="open",
        breaks=ORDER_BREAKS,
        colors=ORDER_COLORS,
        stroke="#7f2704",
        weight=0.8,
        fill_opacity=0.7,
        show=False,
        z_index=416,
    )


def community_map(
    page: MapPage,
    *,
    grids_url: str,
    buildings_url: str,
    streets_url: str | None = None,
    compounds_url: str | None = None,
    base_url: str | None = None,
) -> str:
    """A community: grids coloured by households with short labels, and its buildings.

    With ``streets_url`` / ``compounds_url`` it also gets toggleable layers of the streets and
    of the compound (小区) outlines, drawn above the grids; with ``base_url`` a faint base of
    buildings and streets beneath them.
    """
    t = labels(page.lang)
    grids = _layer(
        t,
        "grids",
        grids_url,
        _GRID_FIELDS,
        color_by="households",
        breaks=GRID_BREAKS,
        colors=GRID_COLORS,
        label_key="grid_seq",
        label_layer_name=t["grid_labels"],
        label_format=t["grid_label"],
        weight=2,
        fill_opacity=_AREA_OPACITY,
    )
    buildings = _layer(
        t,
        "buildings",
        buildings_url,
        _BUILDING_FIELDS,
        fill="#636363",
        stroke="#252525",
        weight=0.5,
        fill_opacity=0.7,
        show=False,
        z_index=420,
    )
    layers = [base_layer(page, base_url)] if base_url else []
    layers.append(grids)
    if compounds_url:
        layers.append(
            _layer(
                t,
                "compounds",
                compounds_url,
                _COMPOUND_FIELDS,
                stroke="#6a3d9a",
                weight=2,
                filled=False,
                dash="6 4",
                z_index=415,
            )
        )
    if streets_url:
        layers.append(
            _layer(
                t,
                "streets",
                streets_url,
                (("street_name", "name"), ("street_id", "code")),
                stroke="#8c6d31",
                weight=2,
                filled=False,
                z_index=418,
            )
        )
    layers.append(buildings)
    return render_map(replace(page, legend=grid_legend(page.lang)), layers)


def grid_map(
    page: MapPage,
    *,
    grid_url: str,
    buildings_url: str,
    base_url: str | None = None,
    fit_outline: bool = False,
) -> str:
    """A grid: its outline and its buildings with floors, units and households.

    With ``base_url`` the surrounding buildings and streets are drawn faintly beneath; with
    ``fit_outline`` the map fits the outline once loaded (the page's extent was approximate).
    """
    t = labels(page.lang)
    outline = _layer(
        t,
        "outline",
        grid_url,
        _GRID_FIELDS,
        fill="#ffffff",
        stroke="#d7301f",
        weight=3,
        fill_opacity=0.1,
        fit=fit_outline,
    )
    buildings = _layer(
        t,
        "buildings",
        buildings_url,
        _BUILDING_FIELDS,
        color_by="households",
        breaks=[20, 50, 100],
        colors=COMMUNITY_COLORS[1:],
        weight=0.5,
        fill_opacity=0.8,
        z_index=420,
    )
    layers = [base_layer(page, base_url)] if base_url else []
    return render_map(page, [*layers, outline, buildings])


_COMMUNITY_FIELDS = (
    ("community_name", "name"),
    ("community_code", "code"),
    ("households", "households"),
    ("grids", "grid_count"),
    ("buildings", "building_count"),
    ("persons", "persons"),
)
_GRID_FIELDS = (
    ("grid_code", "code"),
    ("households", "households"),
    ("buildings", "building_count"),
    ("persons", "persons"),
)
_COMPOUND_FIELDS = (
    ("compound_name", "name"),
    ("compound_id", "code"),
    ("property_company", "property"),
)
_BUILDING_FIELDS = (
    ("building_name", "name"),
    ("building_code", "code"),
    ("address", "address"),
    ("floors", "floors"),
    ("units", "units"),
    ("households", "households"),
)
"""(property, key of its label in the page texts) of each field a layer's popup shows."""


def _fields(spec: tuple[tuple[str, str], ...], t: dict[str, Any]) -> list[tuple[str, str]]:
    """The (property, label) pairs of ``spec``, labels from the page texts ``t``."""
    return [(label, t[key]) for label, key in spec]
