"""The cell graph: cells adjacent when they share a boundary, weighted by what a cut costs.

Shared lengths come from the exactly noded faces of a :class:`~gridmap.geometry.cells.Tessellation`:
every face ring is split into segments, identical segments are matched (``numpy.unique``),
so building the graph is O(n log n) and never forms an n×n matrix.

A grid boundary on a street or a compound wall is what we want, so such edges are cheap to
cut; an edge inside a compound is expensive (splitting a compound); other edges cost their
length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from gridmap.geometry.cells import Tessellation

if TYPE_CHECKING:  # networkx is imported by to_networkx only: partitioning never needs it
    import networkx as nx

__all__ = [
    "CellGraph",
    "cell_graph",
    "connected_pieces",
    "segments",
    "subgraph",
    "STREET_FACTOR",
    "WALL_FACTOR",
    "COMPOUND_FACTOR",
]

STREET_FACTOR = 0.05
"""Cost per metre of a grid boundary along a street centreline."""
WALL_FACTOR = 0.3
"""Cost per metre of a grid boundary along a compound wall (not a street)."""
COMPOUND_FACTOR = 3.0
"""Multiplier on the cost of cutting between two cells of the same compound."""
_ON_LINE_TOLERANCE = 1e-3  # metres: a segment lies on a street when its midpoint is this close


@dataclass
class CellGraph:
    """Weighted adjacency of cells.

    Attributes
    ----------
    n : int
        Number of cells.
    edges : np.ndarray
        ``(m, 2)`` cell pairs ``i < j`` sharing a boundary.
    length : np.ndarray
        Shared boundary length of each edge (metres).
    street_length : np.ndarray
        Part of ``length`` lying on streets.
    wall_length : np.ndarray
        Part of ``length`` lying on compound walls but not on streets.
    cost : np.ndarray
        Cost of cutting each edge (grid boundary there).
    weights : np.ndarray
        Households of each cell.
    """

    n: int
    edges: np.ndarray
    length: np.ndarray
    street_length: np.ndarray
    wall_length: np.ndarray
    cost: np.ndarray
    weights: np.ndarray

    def neighbours(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Adjacency lists: neighbour cells and edge costs per cell."""
        both = np.concatenate([self.edges, self.edges[:, ::-1]])
        cost = np.concatenate([self.cost, self.cost])
        order = np.lexsort((both[:, 1], both[:, 0]))
        both, cost = both[order], cost[order]
        bounds = np.searchsorted(both[:, 0], np.arange(self.n + 1))
        nbrs = [both[bounds[i] : bounds[i + 1], 1] for i in range(self.n)]
        costs = [cost[bounds[i] : bounds[i + 1]] for i in range(self.n)]
        return nbrs, costs

    def to_networkx(self) -> nx.Graph:
        """The graph as networkx, node attribute ``households``, edge ``length``/``cost``."""
        import networkx as nx

        g: nx.Graph[int] = nx.Graph()
        g.add_nodes_from((i, {"households": int(w)}) for i, w in enumerate(self.weights))
        g.add_edges_from(
            (int(a), int(b), {"length": float(ln), "cost": float(c)})
            for (a, b), ln, c in zip(self.edges, self.length, self.cost, strict=True)
        )
        return g

    def boundary_length(self, labels: np.ndarray, *, kind: str = "all") -> float:
        """Length of boundary between differently labelled cells.

        Parameters
        ----------
        labels : np.ndarray
            One label per cell.
        kind : {"all", "off_street", "cost"}
            Total length, length not on streets, or total cut cost.
        """
        cut = labels[self.edges[:, 0]] != labels[self.edges[:, 1]]
        values = {
            "all": self.length,
            "off_street": self.length - self.street_length,
            "cost": self.cost,
        }[kind]
        return float(values[cut].sum())


def segments(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique ring segments of exactly noded faces.

    Returns
    -------
    coords : np.ndarray
        ``(s, 4)`` segment end points ``x1, y1, x2, y2``.
    face_a, face_b : np.ndarray
        The faces on either side; ``face_b`` is -1 on the outer boundary.
    """
    rings, ring_face = shapely.get_rings(faces, return_index=True)
    xy, ring_i = shapely.get_coordinates(rings, return_index=True)
    same = ring_i[:-1] == ring_i[1:]
    seg = np.hstack([xy[:-1][same], xy[1:][same]])
    seg_face = ring_face[ring_i[:-1][same]]
    swap = (seg[:, 0] > seg[:, 2]) | ((seg[:, 0] == seg[:, 2]) & (seg[:, 1] > seg[:, 3]))
    seg[swap] = seg[swap][:, [2, 3, 0, 1]]
    # One integer per segment, in the order of its end points (x1, y1, x2, y2): vertex ids
    # from one sort of complex numbers (real first) instead of a sort of rows of four floats.
    _, vid = np.unique(seg[:, [0, 2]].ravel() + 1j * seg[:, [1, 3]].ravel(), return_inverse=True)
    vid = vid.reshape(-1, 2).astype(np.int64)
    key = vid[:, 0] * (int(vid.max(initial=0)) + 1) + vid[:, 1]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    uniq = seg[first].reshape(-1, 4)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse, minlength=len(uniq))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    face_a = seg_face[order[starts]]
    face_b = np.where(counts > 1, seg_face[order[np.minimum(starts + 1, len(order) - 1)]], -1)
    return uniq, face_a, face_b


def _on_lines(seg: np.ndarray, lines: shapely.Geometry | None) -> np.ndarray:
    if lines is None or len(seg) == 0:
        return np.zeros(len(seg), dtype=bool)
    mx, my = (seg[:, 0] + seg[:, 2]) / 2, (seg[:, 1] + seg[:, 3]) / 2
    # Points only for the midpoints inside a wider buffer (its corners are cut by chords at
    # least 0.7 times twice the tolerance out, so it holds every point within the tolerance).
    near = shapely.buffer(lines, 2 * _ON_LINE_TOLERANCE, quad_segs=1)
    shapely.prepare(near)
    out = shapely.intersects_xy(near, mx, my)
    shapely.prepare(lines)
    out[out] = shapely.dwithin(lines, shapely.points(mx[out], my[out]), _ON_LINE_TOLERANCE)
    return out


def cell_graph(tess: Tessellation) -> CellGraph:
    """Build the weighted cell graph of a tessellation.

    Parameters
    ----------
    tess : Tessellation

    Returns
    -------
    CellGraph

    Examples
    --------
    Two houses either side of a street down the middle of a 100 m square:

    >>> import numpy as np, shapely
    >>> from gridmap.geometry.cells import tessellate
    >>> houses = np.array(shapely.points([[20, 50], [80, 50]]))
    >>> middle = np.array([shapely.LineString([(50, -5), (50, 105)])])
    >>> g = cell_graph(
    ...     tessellate(shapely.box(0, 0, 100, 100), houses, np.array([10, 20]), streets=middle)
    ... )
    >>> g.edges.tolist(), g.length.round(3).tolist(), g.street_length.round(3).tolist()
    ([[0, 1]], [100.0], [100.0])
    """
    seg, fa, fb = segments(tess.faces)
    inner = fb >= 0
    seg, ca, cb = seg[inner], tess.face_cell[fa[inner]], tess.face_cell[fb[inner]]
    between = ca != cb
    seg, ca, cb = seg[between], ca[between], cb[between]
    seg_len = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    on_street = _on_lines(seg, tess.streets)
    on_wall = _on_lines(seg, tess.walls) & ~on_street
    lo, hi = np.minimum(ca, cb), np.maximum(ca, cb)
    # (lo, hi) as one integer: same order as the pairs' rows, without a sort of rows
    _, first, inverse = np.unique(
        lo * (tess.n_cells + 1) + hi, return_index=True, return_inverse=True
    )
    edges = np.stack([lo[first], hi[first]], axis=1)
    inverse = inverse.ravel()
    m = len(edges)
    length = np.bincount(inverse, seg_len, minlength=m)
    street = np.bincount(inverse, seg_len * on_street, minlength=m)
    wall = np.bincount(inverse, seg_len * on_wall, minlength=m)
    plain = length - street - wall
    cost = plain + STREET_FACTOR * street + WALL_FACTOR * wall
    comp = tess.cell_compound
    if m:
        same = (comp[edges[:, 0]] == comp[edges[:, 1]]) & (comp[edges[:, 0]] != "")
        cost = np.where(same, cost * COMPOUND_FACTOR, cost)
    return CellGraph(
        n=tess.n_cells,
        edges=edges.reshape(-1, 2).astype(np.int64),
        length=length,
        street_length=street,
        wall_length=wall,
        cost=cost,
        weights=tess.cell_households.copy(),
    )


def connected_pieces(n: int, a: np.ndarray, b: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected pieces of ``n`` nodes joined by edges ``a``–``b``: their number and the piece
    of each node, numbered in the order of their lowest node.

    >>> connected_pieces(4, np.array([2]), np.array([0]))[1].tolist()
    [0, 1, 0, 2]
    """
    if n == 0:
        return 0, np.zeros(0, dtype=np.int64)
    adj = coo_array((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    count, labels = connected_components(adj, directed=False)
    return int(count), labels.astype(np.int64)


def subgraph(graph: CellGraph, cells: np.ndarray) -> CellGraph:
    """The graph induced by ``cells`` (sorted cell indices), renumbered ``0..len(cells)-1``.

    Examples
    --------
    >>> g = CellGraph(3, np.array([[0, 1], [1, 2]]), np.ones(2), np.zeros(2), np.zeros(2),
    ...               np.ones(2), np.array([5, 6, 7]))
    >>> s = subgraph(g, np.array([1, 2]))
    >>> s.n, s.edges.tolist(), s.weights.tolist()
    (2, [[0, 1]], [6, 7])
    """
    cells = np.asarray(cells, dtype=np.int64)
    local = np.full(graph.n, -1, dtype=np.int64)
    local[cells] = np.arange(len(cells))
    keep = (local[graph.edges[:, 0]] >= 0) & (local[graph.edges[:, 1]] >= 0)
    return CellGraph(
        n=len(cells),
        edges=local[graph.edges[keep]].reshape(-1, 2),
        length=graph.length[keep],
        street_length=graph.street_length[keep],
        wall_length=graph.wall_length[keep],
        cost=graph.cost[keep],
        weights=graph.weights[cells],
    )
