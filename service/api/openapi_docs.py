"""Complete the OpenAPI document with what every route can answer, so clients (and the
schemathesis fuzz test) see the real contract: the error statuses of :mod:`service.api.errors`
and the body-size limit.

Media types of successful answers are declared by the routes themselves, with
``responses=media_responses(...)`` (downloads: GeoJSON, GeoPackage, CSV; OGC pages: JSON or
GeoJSON and HTML) or a ``response_class`` (``GeoJSONResponse`` for map data).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "ERROR_STATUSES",
    "GEOJSON",
    "GEOPACKAGE",
    "CSV",
    "HTML",
    "JSON",
    "media_responses",
    "named_route",
    "complete_document",
]

_ERROR_SCHEMA = {"type": "object", "properties": {"detail": {}}, "required": ["detail"]}
ERROR_STATUSES = {
    "400": "Bad request",
    "401": "Not signed in (residents routes)",
    "403": "Outside the user's scope or missing permission",
    "404": "No such record",
    "413": "Request body too large",
    "422": "Invalid parameter or body",
    "503": "Database unavailable; retry shortly",
}
GEOJSON = "application/geo+json"
GEOPACKAGE = "application/geopackage+sqlite3"
CSV = "text/csv"
HTML = "text/html"
JSON = "application/json"


def media_responses(
    *media_types: str, description: str = "Successful Response"
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route whose 200 answer comes in ``media_types``.

    FastAPI merges this with the route's own 200 (e.g. the JSON schema of its
    ``response_model``). JSON media types (``…json``) get an object schema, which also
    replaces the ``string`` FastAPI gives a non-JSON ``response_class`` such as
    ``GeoJSONResponse``; others (files, HTML) any body.
    """
    content = {
        media_type: {"schema": {"type": "object"} if media_type.endswith("json") else {}}
        for media_type in media_types
    }
    return {200: {"description": description, "content": content}}


R = TypeVar("R", bound=Callable[..., Any])


def named_route(route: R, name: str, doc: str) -> R:
    """``route`` (a function one factory makes for several paths) under ``name``, its operation
    id, with ``doc``, its description."""
    route.__name__ = route.__qualname__ = name
    route.__doc__ = doc
    return route


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Return ``document`` with the error responses on every operation.

    Existing responses are kept; a ``422`` keeps its validation schema but also accepts the
    ``{"detail": "message"}`` bodies of :mod:`service.api.errors`.
    """
    document = copy.deepcopy(document)
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                content = {"application/json": {"schema": _ERROR_SCHEMA}}
                responses.setdefault(status, {"description": description, "content": content})
                if status == "422":
                    responses[status]["content"] = content
    return document
