"""Open ground (a block without buildings) is split by the nearest building, one cell each."""

from __future__ import annotations

import numpy as np
import shapely
import shapely.affinity

from gridmap.geometry import cells
from gridmap.geometry.cells import tessellate


def _square_of_open_ground_in_a_ring_of_houses():
    """A square without buildings, turned 27° (its edges are not axis-parallel), in a ring of
    30 house points 80–95 m from its centre; streets along its four sides cut it out."""
    square = shapely.affinity.rotate(shapely.box(100, 100, 200, 200), 27, origin=(150, 150))
    corners = shapely.get_coordinates(square)[:4]
    streets = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        u = (b - a) / np.hypot(*(b - a))
        streets.append(shapely.LineString([a - 5 * u, b + 5 * u]))
    rng = np.random.default_rng(4)
    angle = np.sort(rng.uniform(0, 2 * np.pi, 30))
    r = rng.uniform(80, 95, 30)
    houses = shapely.points(np.c_[150 + r * np.cos(angle), 150 + r * np.sin(angle)])
    return square, np.array(streets, dtype=object), np.asarray(houses, dtype=object)


def test_each_house_nearest_to_the_open_ground_gets_its_own_piece_of_it():
    square, streets, houses = _square_of_open_ground_in_a_ring_of_houses()
    t = tessellate(
        shapely.box(0, 0, 300, 300), houses, np.ones(len(houses), dtype=int), streets=streets
    )
    b = int(np.flatnonzero(shapely.equals(t.blocks, square))[0])
    pieces = t.cells[t.cell_block == b]
    assert abs(shapely.area(pieces).sum() - square.area) < 1e-6
    # The Voronoi regions of the houses, each clipped to the square (the ones that reach it).
    regions = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(houses)))
    regions = shapely.intersection(regions, square)
    regions = regions[shapely.area(regions) > 1e-4]
    assert len(regions) == 18  # of the 30 houses
    # One piece per region, equal to it: no two houses' regions merged into one piece (with
    # the Voronoi edges cut at the square's slanted outline, polygonize dropped edges whose
    # cut ends missed the outline by a rounding error: 6 pieces).
    assert len(pieces) == len(regions)
    same = shapely.area(shapely.symmetric_difference(pieces[:, None], regions[None, :])) < 1e-6
    assert (same.sum(axis=1) == 1).all()
    assert (same.sum(axis=0) == 1).all()


def test_open_ground_pieces_are_the_same_with_the_grid_bound_on_its_seeds(monkeypatch):
    # Open ground in a field of 400 houses: far more seeds than can be anyone's nearest.
    square = shapely.affinity.rotate(shapely.box(100, 100, 200, 200), 27, origin=(150, 150))
    rng = np.random.default_rng(7)
    xy = rng.uniform(-100, 400, (1200, 2))
    xy = xy[~shapely.dwithin(square, shapely.points(xy), 5.0)][:400]
    houses = np.asarray(shapely.points(xy), dtype=object)
    idx = np.arange(len(houses))
    kept = cells._within_reach(square, xy)
    assert kept.sum() < len(xy) / 4
    with_bound = cells._empty_pieces(square, idx, houses, houses)
    monkeypatch.setattr(cells, "_near_samples", lambda block, xy: np.ones(len(xy), dtype=bool))
    assert cells._within_reach(square, xy).sum() > kept.sum()
    without = cells._empty_pieces(square, idx, houses, houses)
    assert len(with_bound) == len(without) > 10
    a, b = np.array(with_bound, dtype=object), np.array(without, dtype=object)
    same = shapely.area(shapely.symmetric_difference(a[:, None], b[None, :])) < 1e-6
    assert (same.sum(axis=1) == 1).all()
