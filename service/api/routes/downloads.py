"""Downloads: communities, grids and buildings as GeoJSON (RFC 7946), GeoPackage or CSV.

Only public, aggregate properties: no name, ID number or phone of any person or staff member.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import shapely
from fastapi import APIRouter
from fastapi.responses import Response

from gridmap.schema import PERSONAL_FIELDS
from gridmap.spreadsheet import safe_frame
from service.api.deps import SessionDep
from service.api.openapi_docs import CSV, GEOJSON, GEOPACKAGE, media_responses
from service.api.plans import VisiblePlan
from service.api.responses import GeoJSONResponse, attachment, feature_collection_text
from service.storage import queries
from service.storage.models import SRID

__all__ = ["router", "FORMATS", "public_properties"]

router = APIRouter(prefix="/downloads", tags=["Downloads"])

Format = Literal["geojson", "gpkg", "csv"]
FORMATS = ("geojson", "gpkg", "csv")
_FILES = media_responses(GEOJSON, GEOPACKAGE, CSV, description="The file, in the format asked")


def public_properties(page: queries.FeaturePage) -> queries.FeaturePage:
    """Return ``page`` with any personal field dropped (defence in depth: queries add none)."""
    features = [
        queries.Feature(
            f.id, f.geometry, {k: v for k, v in f.properties.items() if k not in PERSONAL_FIELDS}
        )
        for f in page.features
    ]
    return queries.FeaturePage(features, page.number_matched)


def _frame(page: queries.FeaturePage) -> gpd.GeoDataFrame:
    geoms = [shapely.from_geojson(f.geometry) if f.geometry else None for f in page.features]
    props = pd.DataFrame([f.properties for f in page.features])
    return gpd.GeoDataFrame(props, geometry=geoms, crs=f"EPSG:{SRID}")


def _gpkg_bytes(frame: gpd.GeoDataFrame, layer: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{layer}.gpkg"
        frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        return path.read_bytes()


def _csv_bytes(frame: gpd.GeoDataFrame) -> bytes:
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=7)
    # BOM: Excel reads Chinese text
    return safe_frame(table).to_csv(index=False).encode("utf-8-sig")


def _respond(page: queries.FeaturePage, fmt: Format, name: str, layer: str) -> Response:
    page = public_properties(page)
    if fmt == "geojson":
        body = feature_collection_text(page.features, {"name": layer})
        return GeoJSONResponse(body, headers=attachment(f"{name}.geojson"))
    frame = _frame(page)
    if fmt == "gpkg":
        return Response(
            _gpkg_bytes(frame, layer), media_type=GEOPACKAGE, headers=attachment(f"{name}.gpkg")
        )
    return Response(
        _csv_bytes(frame), media_type="text/csv; charset=utf-8", headers=attachment(f"{name}.csv")
    )


@router.get(
    "/communities.{fmt}", summary="All communities", response_class=Response, responses=_FILES
)
def communities(session: SessionDep, fmt: Format) -> Response:
    """All communities with their counts."""
    return _respond(queries.list_communities(session), fmt, "communities", "communities")


@router.get(
    "/communities/{code}/grids.{fmt}",
    summary="Grids of a community",
    response_class=Response,
    responses=_FILES,
)
def community_grids(session: SessionDep, code: str, fmt: Format, plan_id: VisiblePlan) -> Response:
    """The grids of a community (published plan, or ``plan_id``)."""
    page = queries.list_grids(session, community_code=code, plan_id=plan_id)
    return _respond(page, fmt, f"grids-{code}", "grids")


@router.get(
    "/communities/{code}/buildings.{fmt}",
    summary="Buildings of a community",
    response_class=Response,
    responses=_FILES,
)
def community_buildings(
    session: SessionDep, code: str, fmt: Format, plan_id: VisiblePlan
) -> Response:
    """The buildings of a community with their grid."""
    page = queries.list_buildings(session, community_code=code, plan_id=plan_id)
    return _respond(page, fmt, f"buildings-{code}", "buildings")


@router.get(
    "/grids/{grid_code}/buildings.{fmt}",
    summary="Buildings of a grid",
    response_class=Response,
    responses=_FILES,
)
def grid_buildings(
    session: SessionDep, grid_code: str, fmt: Format, plan_id: VisiblePlan
) -> Response:
    """The buildings of a grid."""
    page = queries.list_buildings(session, grid_code=grid_code, plan_id=plan_id)
    return _respond(page, fmt, f"buildings-{grid_code}", "buildings")
