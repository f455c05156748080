"""Read-side queries of the web service: paged features, bbox filters, lookup by point, plans.

Every function takes a :class:`~sqlalchemy.orm.Session` and keyword arguments and returns plain
dataclasses, so routes stay thin and never build SQL. Geometry leaves the database either as
GeoJSON text (``ST_AsGeoJSON``: fast paging for OGC API – Features and downloads) or as shapely
geometries (for maps, which simplify and shift them).

Backend differences are hidden here: a bbox filter is ``ST_Intersects`` on PostGIS (which uses
the GiST index) and, on SpatiaLite, a lookup in its R*Tree (``SpatialIndex`` virtual table) plus
``ST_Intersects``.

Plans: grids come from each community's *published* plan unless a ``plan_id`` is given, which
selects that plan whatever its status (a draft under review, a superseded plan).

Public outputs carry no personal field: persons are only ever counted, and staff appear only
through :func:`grid_staff` (names and roles, never phones) for tooltips and the lookup.

Modules: :mod:`service.storage.paging` (features, pages, bbox and GeoJSON SQL),
:mod:`service.storage.features` (communities, grids, buildings, streets, compounds, plans) and
:mod:`service.storage.lookup` (point lookup, staff, extents); routes use ``queries.<name>``.
"""

from __future__ import annotations

from service.storage.features import (
    COLLECTIONS,
    PlanRef,
    get_building,
    get_community,
    get_grid,
    list_buildings,
    list_communities,
    list_compounds,
    list_grids,
    list_streets,
    resolve_plan,
)
from service.storage.loads import NotFoundError
from service.storage.lookup import (
    LookupResult,
    StaffMember,
    collection_extent,
    grid_staff,
    lookup_point,
)
from service.storage.paging import GEOJSON_PRECISION, Feature, FeaturePage, validate_bbox

__all__ = [
    "NotFoundError",
    "Feature",
    "FeaturePage",
    "PlanRef",
    "StaffMember",
    "LookupResult",
    "COLLECTIONS",
    "GEOJSON_PRECISION",
    "validate_bbox",
    "resolve_plan",
    "list_communities",
    "get_community",
    "list_grids",
    "get_grid",
    "list_buildings",
    "get_building",
    "list_streets",
    "list_compounds",
    "grid_staff",
    "lookup_point",
    "collection_extent",
]
