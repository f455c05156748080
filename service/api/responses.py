"""Response classes: GeoJSON (``application/geo+json``, RFC 7946) and pre-serialised bodies."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.responses import Response

from service.storage.paging import Feature

__all__ = [
    "GEOJSON_MEDIA_TYPE",
    "GeoJSONResponse",
    "feature_text",
    "feature_collection_text",
    "attachment",
]

GEOJSON_MEDIA_TYPE = "application/geo+json"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class GeoJSONResponse(Response):
    """A GeoJSON body; ``content`` is a dict or an already serialised string."""

    media_type = GEOJSON_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` (dicts via json, strings as they are) to UTF-8."""
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode("utf-8")
        return _dumps(content).encode("utf-8")


def _geometry_text(geometry: Any) -> str:
    if geometry is None:
        return "null"
    if isinstance(geometry, str):
        return geometry
    return _dumps(geometry)


def feature_text(feature: Feature, extra: Mapping[str, Any] | None = None) -> str:
    """Serialise one feature whose geometry is GeoJSON text (from ``ST_AsGeoJSON``)."""
    tail = "," + _dumps(dict(extra))[1:-1] if extra else ""
    return (
        f'{{"type":"Feature","id":{_dumps(feature.id)},'
        f'"geometry":{_geometry_text(feature.geometry)},'
        f'"properties":{_dumps(feature.properties)}{tail}}}'
    )


def feature_collection_text(features: Iterable[Feature], members: Mapping[str, Any]) -> str:
    """Serialise a FeatureCollection: ``members`` (links, counts…) then the features.

    Features are joined as text, never re-parsed: fast for large pages.
    """
    head = _dumps({"type": "FeatureCollection", **members})[:-1]
    return head + ',"features":[' + ",".join(feature_text(f) for f in features) + "]}"


def attachment(filename: str) -> dict[str, str]:
    """``Content-Disposition`` header for a download named ``filename``."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
