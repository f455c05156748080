"""Cell graph pieces: unique ring segments in order; segments on streets."""

from __future__ import annotations

import numpy as np
import shapely

from gridmap.geometry import adjacency
from gridmap.geometry.adjacency import _ON_LINE_TOLERANCE, _on_lines


def test_on_lines_is_the_plain_distance_test():
    rng = np.random.default_rng(5)
    lines = shapely.multilinestrings(
        [
            shapely.LineString([(0, 0), (40, 3), (80, -2), (120, 10)]),
            shapely.LineString([(60, -50), (61, 60)]),
        ]
    )
    # midpoints on the lines, then pushed off by 0 to 3 tolerances in a random direction
    on = shapely.line_interpolate_point(lines.geoms[0], rng.uniform(0, 1, 400), normalized=True)
    xy = shapely.get_coordinates(on)
    angle = rng.uniform(0, 2 * np.pi, len(xy))
    off = rng.uniform(0, 3 * _ON_LINE_TOLERANCE, len(xy))
    off[:100] = 0.0
    mid = xy + np.c_[np.cos(angle), np.sin(angle)] * off[:, None]
    half = rng.uniform(0.1, 2.0, (len(mid), 2))
    seg = np.hstack([mid - half, mid + half])
    plain = shapely.dwithin(lines, shapely.points(mid), _ON_LINE_TOLERANCE)
    got = _on_lines(seg, lines)
    assert got.tolist() == plain.tolist()
    assert 100 <= got.sum() < len(got)
    assert not _on_lines(seg, None).any()
    assert adjacency._on_lines(seg[:0], lines).shape == (0,)


def test_segments_in_the_order_of_their_end_points():
    rng = np.random.default_rng(2)
    from gridmap.geometry.cells import tessellate

    houses = np.array(shapely.points(rng.uniform(1, 99, (60, 2))), dtype=object)
    t = tessellate(shapely.box(0, 0, 100, 100), houses, np.ones(60, dtype=int))
    seg, face_a, face_b = adjacency.segments(t.faces)
    # the same as sorting the rows of four floats
    rings, ring_face = shapely.get_rings(t.faces, return_index=True)
    xy, ring_i = shapely.get_coordinates(rings, return_index=True)
    same = ring_i[:-1] == ring_i[1:]
    rows = np.hstack([xy[:-1][same], xy[1:][same]])
    swap = (rows[:, 0] > rows[:, 2]) | ((rows[:, 0] == rows[:, 2]) & (rows[:, 1] > rows[:, 3]))
    rows[swap] = rows[swap][:, [2, 3, 0, 1]]
    expected = np.unique(rows, axis=0)
    assert np.array_equal(seg, expected)
    assert (face_b >= 0).sum() * 2 + (face_b < 0).sum() == len(rows)
    assert (face_a != face_b).all()
