"""Cells from building points where they hold the footprints; open ground seeds within reach."""

from __future__ import annotations

import numpy as np
import shapely

from gridmap.geometry import cells
from gridmap.geometry.cells import tessellate


def _houses(n_x: int, n_y: int, size=(11.0, 10.0), gap=(5.0, 6.0)) -> np.ndarray:
    w, d = size
    return np.array(
        [
            shapely.box(
                10 + i * (w + gap[0]),
                10 + j * (d + gap[1]),
                10 + i * (w + gap[0]) + w,
                10 + j * (d + gap[1]) + d,
            )  # fmt: skip
            for i in range(n_x)
            for j in range(n_y)
        ],
        dtype=object,
    )


def _assert_each_cell_holds_its_own_footprint_only(t, fps: np.ndarray) -> None:
    own = t.cells[t.building_cell]
    assert shapely.covers(own, fps).all()
    overlap = shapely.area(shapely.intersection(own[:, None], fps[None, :]))
    np.fill_diagonal(overlap, 0.0)
    assert overlap.max() < 1e-6


def test_detached_houses_get_the_cells_of_their_points():
    block = shapely.box(0, 0, 200, 120)
    houses = _houses(10, 6)
    points = cells.representative_points(houses)
    quick = cells._point_cells(block, houses, points)
    assert quick is not None
    assert shapely.covers(quick, houses).all()
    t = tessellate(block, houses, np.ones(len(houses), dtype=int))
    assert t.n_cells == len(houses)
    own = t.cells[t.building_cell]
    assert shapely.covers(own, houses).all()
    assert abs(shapely.area(t.faces).sum() - block.area) < 1e-6


def test_a_terrace_beside_small_houses_keeps_the_outline_diagram():
    block = shapely.box(0, 0, 120, 60)
    slab = shapely.box(5, 20, 65, 32)  # 60 m long: the point bisector cuts it
    small = [shapely.box(68, 20, 74, 26), shapely.box(68, 27, 74, 33)]
    fps = np.array([slab, *small], dtype=object)
    assert cells._point_cells(block, fps, cells.representative_points(fps)) is None
    t = tessellate(block, fps, np.array([100, 5, 5]))
    _assert_each_cell_holds_its_own_footprint_only(t, fps)


def test_open_ground_seeds_left_out_are_nobodys_nearest():
    rng = np.random.default_rng(3)
    block = shapely.Polygon([(0, 0), (300, 0), (300, 40), (120, 40), (120, 140), (0, 140)])
    xy = rng.uniform(-200, 500, (4000, 2))
    xy = xy[~shapely.contains_xy(block, xy[:, 0], xy[:, 1])]
    keep = cells._within_reach(block, xy)
    assert 0 < keep.sum() < len(xy)  # far seeds do go
    probe = rng.uniform((0, 0), (300, 140), (5000, 2))
    probe = probe[shapely.contains_xy(block, probe[:, 0], probe[:, 1])]
    nearest = np.argmin(
        np.hypot(probe[:, None, 0] - xy[None, :, 0], probe[:, None, 1] - xy[None, :, 1]), axis=1
    )
    assert keep[nearest].all()


def test_point_diagrams_skipped_only_where_they_would_be_thrown_away(monkeypatch):
    rng = np.random.default_rng(11)
    block = shapely.box(0, 0, 160, 100)
    skipped = built = 0
    for _ in range(40):
        gx, gy = np.meshgrid(np.arange(10, 150, 20.0), np.arange(10, 90, 20.0))
        xy = np.c_[gx.ravel(), gy.ravel()] + rng.uniform(-3, 3, (gx.size, 2))
        size = rng.uniform(4, 10, (gx.size, 2))
        size[rng.integers(gx.size)] *= rng.uniform(1, 4)  # now and then one too big
        fps = np.array(
            [shapely.box(x, y, x + w, y + h) for (x, y), (w, h) in zip(xy, size, strict=True)],
            dtype=object,
        )
        pts = cells.representative_points(fps)
        quick = cells._point_cells(block, fps, pts)
        with monkeypatch.context() as m:
            m.setattr(cells, "_nearer_to_another", lambda *a: False)
            full = cells._point_cells(block, fps, pts)
        if full is None:
            skipped += quick is None
        else:
            built += 1
            assert quick is not None
            assert all(shapely.equals_exact(quick, full, tolerance=0))
    assert skipped > 5 and built > 5


def test_union_by_owner_is_one_coverage_union_per_owner():
    boxes = np.array([shapely.box(i, 0, i + 1, 1) for i in range(7)], dtype=object)
    owner = np.array([4, 2, 4, 9, 2, 2, 4])
    got, owners = cells._union_by_owner(boxes, owner)
    assert owners.tolist() == [2, 4, 9]
    for g, o in zip(got, owners, strict=True):
        mine = boxes[owner == o]
        expected = mine[0] if len(mine) == 1 else shapely.coverage_union_all(mine)
        assert shapely.equals_exact(g, expected, tolerance=0)
    assert got[2] is boxes[3]  # an only part as it is


def test_touching_houses_claim_their_footprints_from_each_other():
    # The shared wall's seeds go to the first house listing them, so without the claim the
    # second house's cell would stop short of its wall; a third house stands alone.
    block = shapely.box(-20, -20, 60, 40)
    fps = np.array(
        [shapely.box(10, 0, 14, 20), shapely.box(0, 0, 10, 20), shapely.box(35, 5, 45, 15)],
        dtype=object,
    )
    t = tessellate(block, fps, np.array([3, 4, 5]))
    _assert_each_cell_holds_its_own_footprint_only(t, fps)
    assert abs(shapely.area(t.faces).sum() - block.area) < 1e-6
