"""``gridmap serve --demo --district``: a generated district, imported, partitioned, served."""

from __future__ import annotations

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service import district_demo
from service.cli import app

SMALL = {"columns": 2, "rows": 2, "scale": 0.3, "small": 1}  # 5 communities, one under 300


@pytest.mark.slow
def test_serve_demo_district_serves_every_community_with_published_grids(tmp_path, monkeypatch):
    served = {}
    monkeypatch.setattr(district_demo, "DEMO_DISTRICT", SMALL)
    monkeypatch.setattr(uvicorn, "run", lambda application, **kw: served.update(app=application))
    path = tmp_path / "district.sqlite"
    result = CliRunner().invoke(app, ["serve", "--demo", "--district", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert path.exists() and "http://127.0.0.1:8000/maps" in result.output
    with TestClient(served["app"]) as client:
        communities = client.get("/collections/communities/items").json()["features"]
        assert len(communities) == 5
        assert all(c["id"].startswith("520602") for c in communities)
        grids = client.get("/collections/grids/items", params={"limit": 1000}).json()
        assert grids["numberMatched"] == sum(c["properties"]["grids"] for c in communities)
        for community in communities:
            mine = [
                g for g in grids["features"] if g["properties"]["community_code"] == community["id"]
            ]
            assert mine, community["id"]  # even the community under 300 households has its grid
            assert (
                sum(g["properties"]["households"] for g in mine)
                == community["properties"]["households"]
            )
        small = [c for c in communities if c["properties"]["households"] < 300]
        assert len(small) == 1
        big = max(communities, key=lambda c: c["properties"]["households"])
        data = client.get(f"/maps/data/communities/{big['id']}/grids.geojson").json()
        assert len(data["features"]) >= 2 and all(
            f["properties"]["staff"] for f in data["features"]
        )
        assert client.get("/maps").status_code == 200
