"""事在格中办: lookup by point on both backends."""

from __future__ import annotations

from gridmap.coords import wgs84_to_gcj02

from .conftest import A, B


def test_lookup_finds_community_grid_and_staff(client):
    response = client.get("/lookup", params={"lon": 109.185, "lat": 27.725})
    assert response.status_code == 200
    body = response.json()
    assert body["community"]["id"] == A
    assert body["community"]["properties"]["community_name"] == "测试社区甲"
    assert body["community"]["geometry"]["type"] == "MultiPolygon"
    assert body["grid"]["id"] == f"{A}002"
    assert body["grid"]["geometry"]["type"] == "MultiPolygon"
    assert body["staff"] == [{"name": "李四", "role": "grid_head"}]
    assert "13900002222" not in response.text


def test_lookup_from_an_amap_click_is_shifted_back(client):
    lon, lat = wgs84_to_gcj02(109.197, 27.725)
    body = client.get(
        "/lookup", params={"lon": float(lon), "lat": float(lat), "offset": "gcj02"}
    ).json()
    assert body["community"]["id"] == B and body["grid"]["id"] == f"{B}002"
    assert body["staff"] == []
    assert abs(body["lon"] - 109.197) < 1e-7


def test_lookup_outside_every_community_is_404(client):
    response = client.get("/lookup", params={"lon": 100.0, "lat": 30.0})
    assert response.status_code == 404
    assert response.json() == {"detail": "No community contains the point lon=100.0, lat=30.0."}


def test_lookup_validates_coordinates(client):
    assert client.get("/lookup", params={"lon": 200, "lat": 27.7}).status_code == 422
