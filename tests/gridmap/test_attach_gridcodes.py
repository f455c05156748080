"""Grid codes and communities of grids drawn by hand (gridmap.attach.gridcodes)."""

from __future__ import annotations

import doctest

import geopandas as gpd
from shapely import box

import gridmap.attach.gridcodes
from gridmap.attach.gridcodes import code_grids, name_number

WEST, EAST = "520602001001", "520602001002"
COMMUNITIES = gpd.GeoDataFrame({"community_code": [WEST, EAST]},
                               geometry=[box(109.00, 27.70, 109.01, 27.71),
                                         box(109.01, 27.70, 109.02, 27.71)], crs=4326)  # fmt: skip


def _cell(col: int, row: int) -> object:
    """A square of the west community: columns west to east, rows north to south."""
    x, y = 109.000 + col * 0.002, 27.708 - row * 0.002
    return box(x, y, x + 0.002, y + 0.002)


def test_the_examples():
    assert doctest.testmod(gridmap.attach.gridcodes).failed == 0


def test_names_carry_numbers_as_offices_write_them():
    names = ["第1网格", "一网格", "3号网格", "广场社区第三网格", "第十二网格", "第 4 网格",
             "第５网格", "网格", "东片区", "第0网格", "第1000网格", "", 7]  # fmt: skip
    assert [name_number(n) for n in names] == [1, 1, 3, 3, 12, 4, 5] + [None] * 6


def test_numbers_used_twice_or_by_a_given_code_are_numbered_by_position():
    grids = gpd.GeoDataFrame(
        {"grid_code": [f"{WEST}001", None, None, None, None],
         "name": ["老网格", "第1网格", "第3网格", "第3网格", "第4网格"]},
        geometry=[_cell(0, 0), _cell(1, 0), _cell(0, 1), _cell(1, 1), _cell(2, 1)], crs=4326,
    )  # fmt: skip
    out = code_grids(grids, COMMUNITIES)
    # 001 is given; 第4网格 keeps 004; the others take 002, 003, 005 north→south, west→east
    assert out.frame["grid_code"].tolist() == [f"{WEST}{n}" for n in
                                               ("001", "002", "003", "005", "004")]  # fmt: skip
    assert (out.made, out.named, out.located, out.left_out) == (4, 1, 4, 0)  # 001: by its code
    assert set(out.frame["community_code"]) == {WEST}


def test_a_given_code_names_the_community_and_a_grid_in_none_is_left_out():
    grids = gpd.GeoDataFrame(
        {"grid_code": [f"{EAST}007", None, None], "name": ["甲", "第2网格", "第9网格"]},
        geometry=[_cell(0, 0), box(109.011, 27.701, 109.012, 27.702), None], crs=4326,
    )  # fmt: skip
    out = code_grids(grids, COMMUNITIES)
    assert out.frame["grid_code"].tolist() == [f"{EAST}007", f"{EAST}002"]
    assert out.frame["community_code"].tolist() == [EAST, EAST]  # the code's, not the place's
    assert (out.made, out.named, out.located, out.left_out) == (1, 1, 1, 1)
    assert [(i.record_id, i.reason) for i in out.issues] == [("第9网格", "grid left out")]
    note = out.note("网格.kml")
    assert note is not None and "1 grid(s) in no community left out" in note.message("en")


def test_grids_with_codes_and_communities_are_left_as_given():
    grids = gpd.GeoDataFrame({"grid_code": [f"{WEST}005"], "community_code": [WEST]},
                             geometry=[_cell(0, 0)], crs=4326)  # fmt: skip
    out = code_grids(grids, COMMUNITIES)
    assert out.frame["grid_code"].tolist() == [f"{WEST}005"] and out.note("g.kml") is None
