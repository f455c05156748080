"""Units and street blocks: connected pieces numbered by their lowest cell; sorted neighbours."""

from __future__ import annotations

import numpy as np

from gridmap.geometry.adjacency import CellGraph
from gridmap.geometry.blocks import street_blocks
from gridmap.geometry.units import contract


def _graph(n, edges, weights, street=None):
    edges = np.array(edges, dtype=np.int64).reshape(-1, 2)
    m = len(edges)
    length = np.ones(m)
    cost = np.arange(1, m + 1, dtype=float)
    street_length = np.zeros(m) if street is None else np.asarray(street, dtype=float)
    return CellGraph(n, edges, length, street_length, np.zeros(m), cost, np.asarray(weights))


def test_compounds_that_fit_become_one_unit_each_piece():
    # cells 0..7; compound "a" (2, 5, 6: 5-6 joined, 2 apart), "b" (3, 4: 600 households)
    g = _graph(
        8,
        [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7], [0, 7], [1, 6]],
        [10, 20, 30, 300, 300, 40, 50, 600],
    )
    comp = np.array(["", "", "a", "b", "b", "a", "a", ""], dtype=object)
    u = contract(g, comp, 500)
    # units by lowest cell: 0, 1, 2, 3, 4, {5, 6}, 7
    assert u.unit_of_cell.tolist() == [0, 1, 2, 3, 4, 5, 5, 6]
    assert u.weights == [10, 20, 30, 300, 300, 90, 600]
    assert u.tower.tolist() == [False] * 6 + [True]
    # neighbours ascending; the two edges between unit 5 and its neighbours summed per pair
    assert u.nbrs == [[1, 6], [0, 2, 5], [1, 3], [2, 4], [3, 5], [1, 4, 6], [0, 5]]
    assert u.costs[5] == [9.0, 5.0, 7.0]
    assert u.costs[0] == [1.0, 8.0]


def test_street_blocks_are_numbered_by_their_lowest_cell():
    g = _graph(6, [[0, 5], [5, 1], [1, 2], [3, 4], [2, 4]], np.ones(6), street=[0, 0, 1, 0, 0])
    assert street_blocks(g).tolist() == [0, 0, 1, 1, 1, 0]
    assert street_blocks(_graph(0, [], [])).tolist() == []
