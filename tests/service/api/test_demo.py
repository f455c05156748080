"""service.demo: the Bijiang sample imported, partitioned, published, staffed and served."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api.main import create_app
from service.demo import build_demo
from service.settings import Settings


@pytest.mark.slow
def test_demo_store_is_served_with_published_staffed_grids(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    summary = build_demo(url)
    assert len(summary.plans) == 3 and summary.grids > 3
    with TestClient(create_app(Settings(database_url=url))) as client:
        communities = client.get("/collections/communities/items").json()["features"]
        assert {f["properties"]["plan_id"] for f in communities} == set(summary.plans.values())
        grids = client.get("/collections/grids/items", params={"limit": 1000}).json()
        assert grids["numberMatched"] == summary.grids
        assert sum(f["properties"]["grids"] for f in communities) == summary.grids
        for community in communities:
            code = community["id"]
            mine = [g for g in grids["features"] if g["properties"]["community_code"] == code]
            assert (
                sum(g["properties"]["households"] for g in mine)
                == (community["properties"]["households"])
            )
        data = client.get(f"/maps/data/communities/{communities[1]['id']}/grids.geojson").json()
        assert all(f["properties"]["staff"] for f in data["features"])
        assert client.get("/maps").status_code == 200
