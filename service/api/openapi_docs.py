"""Complete the OpenAPI document with what every route can answer, so clients (and the
schemathesis fuzz test) see the real contract: the error statuses of
:mod:`service.api.errors` and the body-size limit, and the media types of file downloads.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["ERROR_STATUSES", "complete_document"]

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
_GEOJSON, _GPKG, _CSV, _HTML = (
    "application/geo+json", "application/geopackage+sqlite3", "text/csv", "text/html",
)  # fmt: skip


def _media_types(path: str) -> list[str]:
    if path.endswith(".geojson"):
        return [_GEOJSON]
    if path.endswith(".{fmt}"):
        return [_GEOJSON, _GPKG, _CSV]
    if path.endswith(".csv"):
        return [_CSV]
    if path == "/" or path == "/conformance" or path.startswith("/collections"):
        return [_GEOJSON, _HTML]  # OGC API pages: ?f=html, and items as GeoJSON
    return []


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Return ``document`` with error responses and download media types on every operation.

    Existing responses are kept; a ``422`` keeps its validation schema but also accepts the
    ``{"detail": "message"}`` bodies of :mod:`service.api.errors`.
    """
    document = copy.deepcopy(document)
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                content = {"application/json": {"schema": _ERROR_SCHEMA}}
                responses.setdefault(status, {"description": description, "content": content})
                if status == "422":
                    responses[status]["content"] = content
            ok = responses.get("200")
            if ok is not None:
                media = ok.setdefault("content", {})
                for kind in _media_types(path):
                    media.setdefault(kind, {"schema": {}})
    return document
