"""Faces: the cells with the vertices across block edges added, or all cell edges noded."""

from __future__ import annotations

import numpy as np
import shapely

from gridmap.geometry import cells
from gridmap.geometry.adjacency import cell_graph, segments
from gridmap.geometry.cells import tessellate


def _village(seed: int = 4):
    """A 300 m square cut by two crooked streets, 120 houses at random points."""
    rng = np.random.default_rng(seed)
    community = shapely.box(0, 0, 300, 300)
    streets = np.array(
        [
            shapely.LineString([(-10, 101.3), (140.7, 97.1), (310, 103.9)]),
            shapely.LineString([(151.1, -10), (148.3, 160.2), (153.9, 310)]),
        ],
        dtype=object,
    )
    xy = rng.uniform(5, 295, (120, 2))
    houses = np.array(shapely.points(xy), dtype=object)
    return community, houses, rng.integers(1, 9, len(houses)), streets


def test_cells_across_a_street_share_every_segment():
    community, houses, hh, streets = _village()
    t = tessellate(community, houses, hh, streets=streets)
    assert cells._matched_faces(t.cells, community) is not None
    assert len(t.faces) == t.n_cells  # the matched faces: one per cell
    assert (t.face_cell == np.arange(t.n_cells)).all()
    # the cells alone do not match across the streets; the faces do
    assert not shapely.coverage_is_valid(t.cells)
    assert shapely.coverage_is_valid(t.faces)
    assert shapely.is_valid(t.faces).all()
    assert np.allclose(shapely.area(t.faces), shapely.area(t.cells), atol=1e-6)
    assert abs(shapely.area(shapely.coverage_union_all(t.faces)) - community.area) < 1e-6
    # unshared segments only on the community boundary
    seg, _, other = segments(t.faces)
    mid = shapely.points((seg[other < 0, :2] + seg[other < 0, 2:]) / 2)
    assert shapely.dwithin(community.boundary, mid, 1e-6).all()


def test_matched_faces_give_the_graph_of_noded_faces():
    community, houses, hh, streets = _village(7)
    t = tessellate(community, houses, hh, streets=streets)
    matched = cell_graph(t)
    t.faces, t.face_cell = cells._noded_faces(t.cells, community)
    noded = cell_graph(t)
    assert matched.edges.tolist() == noded.edges.tolist()
    assert np.allclose(matched.length, noded.length, atol=1e-5)
    assert np.allclose(matched.street_length, noded.street_length, atol=1e-5)
    street = matched.street_length > 0
    assert street.sum() >= 10  # pairs across the streets are there


def test_a_gap_between_cells_falls_back_to_noding():
    community = shapely.box(0, 0, 20, 10)
    left = shapely.box(0, 0, 10, 10)
    right = shapely.Polygon([(10, 0), (20, 0), (20, 10), (10, 10), (10, 5), (10.5, 4), (10, 3)])
    pieces = np.array([left, right], dtype=object)
    assert cells._matched_faces(pieces, community) is None  # a notch no cell holds
    faces, face_cell = cells._faces(pieces, community)
    assert abs(shapely.area(faces).sum() - community.area) < 1e-9
    assert set(face_cell.tolist()) == {0, 1}


def test_ends_a_hair_apart_become_one_node():
    community = shapely.box(0, 0, 20, 10)
    left = shapely.Polygon([(0, 0), (10, 0), (10, 4), (10, 10), (0, 10)])
    # the right cell's corner on the shared edge is 1e-9 m off the left cell's vertex
    right = shapely.Polygon([(10, 0), (20, 0), (20, 10), (10, 10), (10 + 1e-9, 4 + 1e-9)])
    pieces = np.array([left, right], dtype=object)
    assert cells._matched_faces(pieces, community) is not None
    faces, face_cell = cells._faces(pieces, community)
    assert face_cell.tolist() == [0, 1]
    assert shapely.get_num_coordinates(faces).tolist() == [6, 6]
    assert shapely.coverage_is_valid(faces)
    assert shapely.is_valid(faces).all()
