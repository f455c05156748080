"""Links by location: community of buildings, compounds and streets; compound of buildings."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely import LineString, Point, box

from gridmap.attach.linking import link_community, link_compound, missing_links
from gridmap.errors import CRSError

# Two communities side by side in Tongren (EPSG:4545, metres): west x 500000-501000, east beyond.
X, Y = 500_000, 3_067_000
WEST, EAST = "520602001001", "520602001002"


def _communities(crs: int = 4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"community_code": [EAST, WEST]},
        geometry=[box(X + 1000, Y, X + 2000, Y + 1000), box(X, Y, X + 1000, Y + 1000)],
        crs=4545,
    ).to_crs(crs)


def _buildings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"building_id": ["B1", "B2", "B3", "B4", "B5"]},
        geometry=[
            box(X + 100, Y + 100, X + 120, Y + 120),  # west
            Point(X + 1500, Y + 500),  # east
            box(X + 990, Y + 100, X + 1040, Y + 120),  # straddles: most area east, point east
            Point(X + 5000, Y + 5000),  # outside both
            None,  # no geometry
        ],
        crs=4545,
    ).to_crs(4326)


def test_buildings_get_the_community_of_their_point():
    out = link_community(_buildings(), _communities(), "building")
    assert out.frame["community_code"].tolist()[:4] == [WEST, EAST, EAST, None]
    assert out.linked == 3
    assert [(i.record_id, i.reason) for i in out.issues] == [
        ("B4", "outside communities"),
        ("B5", "not located"),
    ]


def test_a_point_on_the_shared_edge_goes_to_the_lowest_code():
    b = gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[Point(X + 1000, Y + 500)], crs=4545)
    out = link_community(b, _communities(4545), "building")
    assert out.frame["community_code"].tolist() == [WEST]


def test_given_links_are_kept_and_only_blanks_are_filled():
    b = _buildings().assign(community_code=["520602009999", "  ", None, None, None])
    out = link_community(b, _communities(), "building")
    assert out.frame["community_code"].tolist()[:3] == ["520602009999", EAST, EAST]
    assert out.linked == 2
    assert missing_links(b, "community_code").tolist() == [False, True, True, True, True]


def test_compounds_by_largest_area_and_streets_by_longest_length():
    compounds = gpd.GeoDataFrame(
        {"compound_id": ["C1"], "name": [None]},
        geometry=[box(X + 700, Y + 100, X + 1100, Y + 300)],  # 300 m west, 100 m east
        crs=4545,
    )
    streets = gpd.GeoDataFrame(
        {"street_id": ["S1"]}, geometry=[LineString([(X + 900, Y + 50), (X + 1800, Y + 50)])],
        crs=4545,
    )  # fmt: skip
    communities = _communities(4545)
    assert link_community(compounds, communities, "compound").frame["community_code"][0] == WEST
    assert link_community(streets, communities, "street").frame["community_code"][0] == EAST


def test_buildings_get_the_compound_containing_their_point_without_report_lines():
    compounds = gpd.GeoDataFrame(
        {"compound_id": ["C1", "C2"]},
        geometry=[box(X + 50, Y + 50, X + 200, Y + 200), None],
        crs=4545,
    ).to_crs(4326)
    out = link_compound(_buildings(), compounds)
    assert out.frame["compound_id"].tolist() == ["C1", None, None, None, None]
    assert out.linked == 1 and out.issues == []


def test_nothing_to_link_returns_the_frame_unchanged():
    b = _buildings().assign(community_code=WEST)
    out = link_community(b, _communities(), "building")
    assert out.linked == 0 and out.issues == []
    pd.testing.assert_series_equal(out.frame["community_code"], b["community_code"].astype(object))


def test_different_crs_is_refused():
    with pytest.raises(CRSError, match="different CRSs"):
        link_community(_buildings(), _communities(4545), "building")
