"""Media types in the OpenAPI document come from the routes, and match what they answer."""

from __future__ import annotations

import pytest

from .conftest import A


def _ok_types(doc: dict, path: str) -> set[str]:
    return set(doc["paths"][path]["get"]["responses"]["200"]["content"])


def test_route_declared_media_types(client):
    doc = client.get("/openapi.json").json()
    files = {"application/geo+json", "application/geopackage+sqlite3", "text/csv"}
    assert _ok_types(doc, "/downloads/communities/{code}/grids.{fmt}") == files
    assert _ok_types(doc, "/maps/data/communities/{code}/grids.geojson") == {"application/geo+json"}
    assert _ok_types(doc, "/collections/{collection_id}/items") == {
        "application/geo+json",
        "text/html",
    }
    assert _ok_types(doc, "/collections") == {"application/json", "text/html"}
    assert "text/csv" in _ok_types(doc, "/grids/{grid_code}/residents.csv")
    # Every operation still documents the error statuses.
    assert {"404", "422", "503"} <= set(doc["paths"]["/lookup"]["get"]["responses"])


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("geojson", "application/geo+json"), ("gpkg", "application/geopackage+sqlite3"),
     ("csv", "text/csv")],
)  # fmt: skip
def test_downloads_answer_a_declared_media_type(client, fmt, media_type):
    doc = client.get("/openapi.json").json()
    response = client.get(f"/downloads/communities/{A}/grids.{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert media_type in _ok_types(doc, "/downloads/communities/{code}/grids.{fmt}")


@pytest.mark.parametrize("path", ["/collections/grids/items", f"/collections/grids/items/{A}001"])
def test_ogc_items_answer_geojson_and_html(client, path):
    assert client.get(path).headers["content-type"].startswith("application/geo+json")
    html = client.get(path, params={"f": "html"})
    assert html.headers["content-type"].startswith("text/html")
