"""Grid tiling and community overlaps on a toy community of 3 × 2 square grids near Tongren.

Grids are 100 m squares in EPSG:4545 (converted to lon/lat like imported layers)::

    y=200 +-----+-----+-----+
          | 004 | 005 | 006 |
    y=100 +-----+-----+-----+
          | 001 | 002 | 003 |
    y=0   +-----+-----+-----+   community C1 = (0,0)-(300,200); C2 = (300,0)-(500,200), no grids
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import box
from shapely.affinity import translate

from gridmap.attach.coverage import community_overlaps, grid_tiling_issues
from gridmap.crs import STORAGE_CRS

GK = "EPSG:4545"
X0, Y0 = 500_000.0, 3_067_000.0
C1, C2 = "520602001001", "520602001002"


def _box(x1: float, y1: float, x2: float, y2: float):
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def _grid_geoms() -> dict[str, object]:
    return {f"{C1}{k + 1:03d}": _box(100 * (k % 3), 100 * (k // 3), 100 * (k % 3) + 100,
                                      100 * (k // 3) + 100) for k in range(6)}  # fmt: skip


def _frames(grids: dict[str, object], c1=None, c2=None):
    communities = gpd.GeoDataFrame(
        {"community_code": [C1, C2]},
        geometry=[c1 or _box(0, 0, 300, 200), c2 or _box(300, 0, 500, 200)], crs=GK,
    ).to_crs(STORAGE_CRS)  # fmt: skip
    frame = gpd.GeoDataFrame(
        {"grid_code": list(grids), "community_code": C1}, geometry=list(grids.values()), crs=GK
    ).to_crs(STORAGE_CRS)
    return frame, communities


def _lines(issues) -> set[tuple[str, str, str]]:
    return {(i.entity, i.record_id, i.reason) for i in issues}


def test_a_clean_tiling_has_no_lines_and_a_community_without_grids_is_not_checked():
    grids, communities = _frames(_grid_geoms())
    assert grid_tiling_issues(grids, communities) == []
    assert community_overlaps(communities, grids=grids) == []


def test_a_shrunk_grid_is_named_for_the_gap_around_it():
    geoms = _grid_geoms()
    geoms[f"{C1}002"] = geoms[f"{C1}002"].buffer(-3, join_style="mitre")
    [line] = grid_tiling_issues(*_frames(geoms))
    assert (line.entity, line.record_id, line.reason) == ("grid", f"{C1}002", "gap between grids")
    assert line.detail.startswith(f"{100 * 100 - 94 * 94:,} m² of community {C1} is in no grid")
    assert f"{C1}001" in line.detail and f"{C1}005" in line.detail  # the neighbours are named


def test_a_grown_grid_alone_is_named_for_overlapping_its_neighbours():
    geoms = _grid_geoms()
    geoms[f"{C1}005"] = geoms[f"{C1}005"].buffer(3, join_style="mitre")
    issues = grid_tiling_issues(*_frames(geoms))
    assert _lines(issues) == {("grid", f"{C1}005", "grids overlap"),
                              ("grid", f"{C1}005", "grid outside community")}  # fmt: skip
    overlap = next(i for i in issues if i.reason == "grids overlap")
    for neighbour in ("001", "002", "003", "004", "006"):  # 001/003 only at a 3 × 3 m corner
        assert f"{C1}{neighbour}" in overlap.detail


def test_two_grids_overlapping_each_other_give_one_line_naming_both():
    geoms = _grid_geoms()
    geoms[f"{C1}001"] = _box(0, 0, 110, 100)
    [line] = grid_tiling_issues(*_frames(geoms))
    assert (line.record_id, line.reason) == (f"{C1}001", "grids overlap")
    assert line.detail == f"overlaps grid(s) {C1}002 (1,000 m²)"


def test_uncovered_area_at_the_community_edge_names_the_nearest_grid_or_the_community():
    geoms = _grid_geoms()
    geoms[f"{C1}003"] = _box(200, 0, 290, 100)  # pulled back from the community's east edge
    assert _lines(grid_tiling_issues(*_frames(geoms))) == {
        ("grid", f"{C1}003", "gap between grids")
    }
    island = _box(0, 0, 300, 200).union(_box(0, 250, 50, 300))  # part of C1 no grid touches
    issues = grid_tiling_issues(*_frames(_grid_geoms(), c1=island))
    assert _lines(issues) == {("community", C1, "gap between grids")}
    assert issues[0].detail == f"2,500 m² of community {C1} is in no grid"


@pytest.mark.parametrize("offset", [0.001, 0.3])
def test_digitising_slivers_are_ignored(offset):
    geoms = _grid_geoms()
    geoms[f"{C1}002"] = translate(geoms[f"{C1}002"], xoff=offset)  # slivers ≤ 0.3 m wide
    assert grid_tiling_issues(*_frames(geoms)) == []


def test_overlapping_communities_blame_the_one_the_grids_contradict():
    grids, communities = _frames(_grid_geoms(), c2=_box(292, 0, 500, 200))
    [line] = community_overlaps(communities, grids=grids)
    assert (line.entity, line.record_id, line.reason) == ("community", C2, "communities overlap")
    assert line.detail.startswith(f"overlaps community {C1} by 1,600 m²")
    # Without grids nothing tells which boundary is wrong: both are named.
    assert _lines(community_overlaps(communities)) == {
        ("community", C1, "communities overlap"),
        ("community", C2, "communities overlap"),
    }
