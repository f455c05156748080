"""A community's counts (features.get_community, built once and grouped for its code only) are
those of its row in the listing, and count its own published grids and buildings only."""

from __future__ import annotations

from .conftest import A, B


def test_each_community_alone_has_the_counts_of_the_listing(client):
    listed = client.get("/collections/communities/items").json()["features"]
    assert [f["id"] for f in listed] == [A, B]
    for feature in listed:
        one = client.get(f"/collections/communities/items/{feature['id']}").json()
        assert one["properties"] == feature["properties"]
        grids = client.get("/collections/grids/items", params={"community_code": feature["id"]})
        mine = grids.json()["features"]
        buildings = client.get(
            "/collections/buildings/items", params={"community_code": feature["id"]}
        ).json()
        assert one["properties"]["grids"] == len(mine) == {A: 3, B: 2}[feature["id"]]
        assert one["properties"]["buildings"] == buildings["numberMatched"]
        assert one["properties"]["households"] == sum(
            f["properties"]["households"] for f in buildings["features"]
        )
    page = client.get(f"/maps/communities/{B}")
    assert page.status_code == 200 and B in page.text
