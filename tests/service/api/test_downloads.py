"""Downloads on both backends: formats, headers, and no personal field in any of them."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyogrio
import pytest

from gridmap.schema import PERSONAL_FIELDS

from .conftest import PERSONAL_VALUES, A

DOWNLOADS = [
    "/downloads/communities",
    f"/downloads/communities/{A}/grids",
    f"/downloads/communities/{A}/buildings",
    f"/downloads/grids/{A}001/buildings",
]


@pytest.mark.parametrize("path", DOWNLOADS)
def test_geojson_download(client, path):
    response = client.get(f"{path}.geojson")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    doc = response.json()
    assert doc["type"] == "FeatureCollection" and doc["features"]
    for feature in doc["features"]:
        assert not PERSONAL_FIELDS & set(feature["properties"])
        lon, lat = _first_position(feature["geometry"])
        assert 109.1 < lon < 109.3 and 27.6 < lat < 27.8  # lon/lat order (RFC 7946)
    assert not [v for v in PERSONAL_VALUES if v in response.text]


@pytest.mark.parametrize("path", DOWNLOADS)
def test_gpkg_and_csv_downloads_have_no_personal_field(client, path):
    gpkg = client.get(f"{path}.gpkg")
    assert gpkg.status_code == 200
    assert gpkg.headers["content-type"] == "application/geopackage+sqlite3"
    frame = pyogrio.read_dataframe(io.BytesIO(gpkg.content))
    assert len(frame) > 0 and frame.crs.to_epsg() == 4326
    assert not PERSONAL_FIELDS & set(frame.columns)
    csv = client.get(f"{path}.csv")
    assert csv.headers["content-disposition"].endswith('.csv"')
    table = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    assert len(table) == len(frame) and "wkt" in table.columns
    assert not PERSONAL_FIELDS & set(table.columns)
    text = csv.content.decode("utf-8-sig")
    assert not [v for v in PERSONAL_VALUES if v in text]


def test_grid_download_counts_and_draft(client):
    published = client.get(f"/downloads/communities/{A}/grids.geojson").json()
    assert [f["properties"]["households"] for f in published["features"]] == [320, 410, 520]
    draft = client.get(f"/downloads/communities/{A}/grids.geojson?plan_id=2")
    assert draft.status_code == 404  # drafts are for staff: tests/service/api/test_drafts.py


def test_download_of_unknown_community_is_404(client):
    response = client.get("/downloads/communities/520602001999/grids.geojson")
    assert response.status_code == 404
    assert response.json() == {"detail": "Community '520602001999' not found."}


def _first_position(geometry):
    coords = geometry["coordinates"]
    while isinstance(coords[0], list):
        coords = coords[0]
    return coords


def test_map_data_carries_staff_names_but_no_phones(client):
    response = client.get(f"/maps/data/communities/{A}/grids.geojson")
    text = response.text
    assert "张三" in text and "李四" in text
    assert "13800001111" not in text and "13900002222" not in text and "phone" not in text
    staff = {f["id"]: f["properties"]["staff"] for f in json.loads(text)["features"]}
    assert staff[f"{A}001"] == [
        {"name": "李四", "role": "grid_head"},
        {"name": "张三", "role": "grid_worker"},
    ]
    assert staff[f"{A}003"] == []
