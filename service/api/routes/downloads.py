"""Downloads: communities, grids and buildings as GeoJSON (RFC 7946), GeoPackage or CSV, and
whole layers (every grid, every building of a province) as GeoJSON, FlatGeobuf or GeoParquet.

Only public, aggregate properties: no name, ID number or phone of any person or staff member.
Files of published plans are rendered once and revalidated with their ``ETag``
(:mod:`service.api.cache`); whole layers are streamed in constant memory
(:mod:`service.api.exports`), with the same tags.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gridmap.schema import PERSONAL_FIELDS
from gridmap.spreadsheet import safe_frame
from service.api import exports
from service.api.cache import cached_response, public_revision_time, streamed_response
from service.api.deps import SessionDep
from service.api.openapi_docs import CSV, GEOJSON, GEOPACKAGE, media_responses, named_route
from service.api.plans import VisiblePlan
from service.api.responses import GEOJSON_MEDIA_TYPE, attachment, feature_collection_text
from service.storage import features
from service.storage.features import list_communities
from service.storage.models import SRID
from service.storage.paging import Feature, FeaturePage

__all__ = ["router", "FORMATS", "public_properties", "layer_chunks"]

router = APIRouter(prefix="/downloads", tags=["Downloads"])

Format = Literal["geojson", "gpkg", "csv"]
FORMATS = ("geojson", "gpkg", "csv")
LayerFormat = Literal["geojson", "fgb", "parquet"]
_FILES = media_responses(GEOJSON, GEOPACKAGE, CSV, description="The file, in the format asked")
_LAYER_FILES = media_responses(*exports.MEDIA_TYPES.values(), description="The whole layer")
_MEDIA = {"geojson": GEOJSON_MEDIA_TYPE, "gpkg": GEOPACKAGE, "csv": "text/csv; charset=utf-8"}
_LAYERS = {"grids": (features.iter_grids, exports.GRID_FIELDS),
           "buildings": (features.iter_buildings, exports.BUILDING_FIELDS)}  # fmt: skip


def public_properties(page: FeaturePage) -> FeaturePage:
    """Return ``page`` with any personal field dropped (defence in depth: queries add none)."""
    features = [
        Feature(
            f.id, f.geometry, {k: v for k, v in f.properties.items() if k not in PERSONAL_FIELDS}
        )
        for f in page.features
    ]
    return FeaturePage(features, page.number_matched)


def _frame(page: FeaturePage) -> gpd.GeoDataFrame:
    geoms = [shapely.from_geojson(f.geometry) if f.geometry else None for f in page.features]
    props = pd.DataFrame([f.properties for f in page.features])
    return gpd.GeoDataFrame(props, geometry=geoms, crs=f"EPSG:{SRID}")


def _gpkg_bytes(frame: gpd.GeoDataFrame, layer: str, changed_at: dt.datetime | None) -> bytes:
    """The GeoPackage file; ``changed_at`` (the store revision's time, public data) is written
    as the layer's ``last_change``, so the same download is the same bytes in every worker
    process and under its one ETag (GDAL writes the time of writing). The file is written
    afresh by ``VACUUM INTO``: GDAL's writing takes a varying number of transactions, and the
    SQLite header counts them (file change counter), which made the bytes differ now and then."""
    with tempfile.TemporaryDirectory() as tmp:
        path, packed = Path(tmp) / f"{layer}.gpkg", Path(tmp) / "packed.gpkg"
        frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        conn = sqlite3.connect(path)
        try:
            if changed_at is not None:
                utc = changed_at.astimezone(dt.UTC)
                stamp = f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"  # as GDAL does
                with conn:
                    conn.execute("UPDATE gpkg_contents SET last_change = ?", (stamp,))
            conn.execute("VACUUM INTO ?", (str(packed),))  # keeps application_id, user_version
        finally:
            conn.close()
        return packed.read_bytes()


def _csv_bytes(frame: gpd.GeoDataFrame) -> bytes:
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=7)
    # BOM: Excel reads Chinese text
    return safe_frame(table).to_csv(index=False).encode("utf-8-sig")


def _render(
    page: FeaturePage, fmt: Format, layer: str, changed_at: dt.datetime | None = None
) -> bytes | str:
    page = public_properties(page)
    if fmt == "geojson":
        return feature_collection_text(page.features, {"name": layer})
    frame = _frame(page)
    return _gpkg_bytes(frame, layer, changed_at) if fmt == "gpkg" else _csv_bytes(frame)


def _file_route(path: str, summary: str) -> Callable[[Callable[..., Response]], Any]:
    """``router.get`` for a file of a fixed set of features (GeoJSON, GeoPackage or CSV)."""
    return router.get(path, summary=summary, response_class=Response, responses=_FILES)


def _layer_route(path: str, summary: str) -> Callable[[Callable[..., Response]], Any]:
    """``router.get`` for a whole layer streamed (GeoJSON, FlatGeobuf or GeoParquet)."""
    return router.get(path, summary=summary, response_class=Response, responses=_LAYER_FILES)


def _respond(
    request: Request,
    session: SessionDep,
    page: Callable[[], FeaturePage],
    fmt: Format,
    name: str,
    layer: str,
    plan_id: int | None = None,
) -> Response:
    """The file, rendered once per revision when public (:func:`cached_response`)."""
    return cached_response(
        request,
        session,
        render=lambda: _render(page(), fmt, layer, public_revision_time(request, session, plan_id)),
        media_type=_MEDIA[fmt],
        plan_id=plan_id,
        headers=attachment(f"{name}.{fmt}"),
    )


@_file_route("/communities.{fmt}", "All communities")
def communities(request: Request, session: SessionDep, fmt: Format) -> Response:
    """All communities with their counts."""
    page = lambda: list_communities(session)  # noqa: E731
    return _respond(request, session, page, fmt, "communities", "communities")


def _features_file(
    request: Request,
    session: SessionDep,
    fmt: Format,
    layer: Literal["grids", "buildings"],
    code: str,
    plan_id: int | None,
    *,
    of_grid: bool = False,
) -> Response:
    """The file ``{layer}-{code}`` of the grids or buildings of community (or grid) ``code``,
    in the published plan or plan ``plan_id``."""
    scope: dict[str, Any] = {"grid_code" if of_grid else "community_code": code}
    page = lambda: features.list_features(session, layer, plan_id=plan_id, **scope)  # noqa: E731
    return _respond(request, session, page, fmt, f"{layer}-{code}", layer, plan_id)


def _community_file(layer: Literal["grids", "buildings"], doc: str) -> Callable[..., Response]:
    """The route of a file of a community's grids or buildings."""

    def route(
        request: Request, session: SessionDep, code: str, fmt: Format, plan_id: VisiblePlan
    ) -> Response:
        return _features_file(request, session, fmt, layer, code, plan_id)

    return named_route(route, f"community_{layer}", doc)


community_grids = _file_route("/communities/{code}/grids.{fmt}", "Grids of a community")(
    _community_file("grids", "The grids of a community (published plan, or ``plan_id``).")
)
community_buildings = _file_route(
    "/communities/{code}/buildings.{fmt}", "Buildings of a community"
)(_community_file("buildings", "The buildings of a community with their grid."))


@_file_route("/grids/{grid_code}/buildings.{fmt}", "Buildings of a grid")
def grid_buildings(
    request: Request, session: SessionDep, grid_code: str, fmt: Format, plan_id: VisiblePlan
) -> Response:
    """The buildings of a grid."""
    return _features_file(request, session, fmt, "buildings", grid_code, plan_id, of_grid=True)


def layer_chunks(
    make_session: Callable[[], Session], layer: str, fmt: LayerFormat, **scope: Any
) -> Iterator[bytes]:
    """The bytes of a whole ``layer`` file, read in batches in a session of its own."""
    iterate, fields = _LAYERS[layer]
    with make_session() as session:
        batches = iterate(session, as_geojson=fmt == "geojson", **scope)
        if fmt == "geojson":
            yield from exports.geojson_chunks(batches, layer)
        elif fmt == "fgb":
            yield from exports.flatgeobuf_chunks(batches, fields, layer)
        else:
            yield from exports.geoparquet_chunks(batches, fields)


def _stream(
    request: Request,
    session: SessionDep,
    layer: str,
    fmt: LayerFormat,
    community_code: str | None,
    plan_id: int | None,
) -> Response:
    """A whole layer streamed from a server-side cursor in its own session."""
    scope: dict[str, Any] = {"community_code": community_code, "plan_id": plan_id}
    _LAYERS[layer][0](session, **scope)  # the community and plan are checked now: 404 first
    make_session = request.app.state.sessionmaker
    name = layer + (f"-{community_code}" if community_code else "")
    return streamed_response(
        request,
        session,
        stream=lambda: layer_chunks(make_session, layer, fmt, **scope),
        media_type=exports.MEDIA_TYPES[fmt],
        plan_id=plan_id,
        headers=attachment(f"{name}.{fmt}"),
    )


_COMMUNITY = Query(None, description="Only this community's (12-digit code)")


def _whole_layer(layer: Literal["grids", "buildings"], doc: str) -> Callable[..., Response]:
    """The route of a whole layer, streamed (:func:`_stream`)."""

    def route(
        request: Request,
        session: SessionDep,
        fmt: LayerFormat,
        plan_id: VisiblePlan,
        community_code: str | None = _COMMUNITY,
    ) -> Response:
        return _stream(request, session, layer, fmt, community_code, plan_id)

    return named_route(route, f"all_{layer}", doc)


all_grids = _layer_route("/grids.{fmt}", "Every grid")(
    _whole_layer(
        "grids",
        "Every grid of the published plans (or of ``plan_id``), streamed: "
        "GeoJSON, FlatGeobuf\nor GeoParquet.",
    )  # fmt: skip
)
all_buildings = _layer_route("/buildings.{fmt}", "Every building")(
    _whole_layer(
        "buildings",
        "Every building with its grid, streamed in constant memory: "
        "GeoJSON, FlatGeobuf or\nGeoParquet (for a province's buildings).",
    )  # fmt: skip
)
